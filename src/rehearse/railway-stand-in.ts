/**
 * A local stand-in for Railway's GraphQL API: node:http on 127.0.0.1 (free port), every request
 * executed by graphql-js against Railway's REAL published schema, with in-memory resolvers for the
 * operations the provider uses. A document the real API would reject (unknown field, wrong
 * argument type, missing variable) is rejected here too, with graphql-js's error. Tests use it,
 * and so does `synter-infra rehearse`, which plays a stack's first `pulumi up` against it.
 *
 * It fails the way Railway does:
 * - deployments are asynchronous: QUEUED → BUILDING → DEPLOYING → SUCCESS over real time; a newer
 *   deployment of a service instance supersedes older ones (REMOVED); faults make one FAILED,
 *   CRASHED, or stay DEPLOYING forever;
 * - every n-th request can be answered 429 with `Retry-After` (or 5xx), besides faults injected
 *   per operation (rate limits, 5xx, dropped connections, GraphQL errors, lost responses);
 * - with a runtime (service-runtime.ts) the services really run: a deployment succeeds once its
 *   server listens, a TCP proxy is a real local port that forwards only after a deployment made
 *   after the proxy succeeded (and resets connections before, as Railway's edge does), and
 *   `privateEndpoint` maps `<service>.railway.internal:<port>` to the running server.
 *
 * Behaviour modelled on Railway (assumptions, noted where they matter): unknown ids answer with a
 * GraphQL error "<Type> not found"; a service is created in every environment of its project;
 * `projectCreate` creates the default environment; `serviceDelete` removes the service's
 * instances, variables and proxies; `serviceInstanceUpdate` and `volumeCreate` deploy nothing.
 */
import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { graphql } from "graphql";
import { railwayPrivateHost } from "../../infra/railway/database-service-provider";
import { loadRailwaySchema } from "./railway-schema";
import { ServiceStartError, type ServiceLaunch, type ServiceRuntime } from "./service-runtime";
import { TcpProxyListener, type ProxyTarget } from "./tcp-proxy-listener";

export interface ProjectRow {
  id: string;
  name: string;
  description: string | null;
  workspaceId: string;
}
export interface EnvironmentRow {
  id: string;
  name: string;
  projectId: string;
}
export interface ServiceRow {
  id: string;
  name: string;
  projectId: string;
}
export interface ServiceInstanceRow {
  id: string;
  serviceId: string;
  environmentId: string;
  startCommand: string | null;
  image: string | null;
}
export interface VolumeRow {
  id: string;
  name: string;
  projectId: string;
}
export interface VolumeInstanceRow {
  id: string;
  volumeId: string;
  serviceId: string | null;
  environmentId: string;
  mountPath: string;
}
export interface TcpProxyRow {
  id: string;
  domain: string;
  proxyPort: number;
  applicationPort: number;
  serviceId: string;
  environmentId: string;
}

/** The statuses this stand-in uses, out of Railway's `DeploymentStatus` enum. */
export type DeploymentStatus =
  "QUEUED" | "BUILDING" | "DEPLOYING" | "SUCCESS" | "FAILED" | "CRASHED" | "REMOVED";

export type DeploymentTrigger =
  | "serviceCreate"
  | "variableCollectionUpsert"
  | "serviceInstanceRedeploy"
  | "serviceInstanceDeployV2";

export interface DeploymentRow {
  readonly id: string;
  readonly projectId: string;
  readonly environmentId: string;
  readonly serviceId: string;
  readonly trigger: DeploymentTrigger;
  /** Creation order among deployments and TCP proxies of the whole server. */
  readonly sequence: number;
  readonly createdAt: Date;
  status: DeploymentStatus;
  updatedAt: Date;
  /** Every status it had, in order, with when it got it. */
  readonly history: Array<{ readonly status: DeploymentStatus; readonly at: Date }>;
  /** Why it FAILED or CRASHED; `log` is the server's output when it ran. */
  failure?: { readonly message: string; readonly log: string };
}

export interface StandInState {
  projects: Map<string, ProjectRow>;
  environments: Map<string, EnvironmentRow>;
  services: Map<string, ServiceRow>;
  serviceInstances: Map<string, ServiceInstanceRow>;
  volumes: Map<string, VolumeRow>;
  volumeInstances: Map<string, VolumeInstanceRow>;
  /** Keyed by `projectId/environmentId/serviceId` (serviceId empty for shared variables). */
  variables: Map<string, Record<string, string>>;
  tcpProxies: Map<string, TcpProxyRow>;
  /** Every deploy trigger, in order: `environmentId/serviceId` (one deployment each). */
  deploys: string[];
  deployments: Map<string, DeploymentRow>;
}

export interface InjectedFault {
  readonly operation: string;
  /** How many matching requests it hits. Default 1. */
  readonly times?: number;
  /** HTTP status to answer with (429, 500, 502…). */
  readonly status?: number;
  readonly retryAfter?: string;
  /** GraphQL errors to answer with (HTTP 200 unless `status`). */
  readonly errors?: readonly string[];
  /** Destroy the connection without answering. */
  readonly dropConnection?: boolean;
  /** Execute the operation first, then answer with the fault (the client never sees the result). */
  readonly afterExecute?: boolean;
  /** Append the request's Authorization header to the error message (a careless server). */
  readonly echoAuthorization?: boolean;
}

export interface DeploymentPhaseDurations {
  readonly queuedMs: number;
  readonly buildingMs: number;
  /** Without a runtime, how long DEPLOYING lasts; with one, at least this long. */
  readonly deployingMs: number;
}

/** About 300 ms in all, so suites that deploy a lot stay fast. */
export const DEFAULT_DEPLOYMENT_PHASES: DeploymentPhaseDurations = {
  queuedMs: 50,
  buildingMs: 100,
  deployingMs: 150,
};

export interface DeploymentFault {
  /** Service id or name: its next deployment(s) to get this far end so. */
  readonly service: string;
  /**
   * FAILED: the build fails (at the end of BUILDING). CRASHED: the deployment crashes (after
   * DEPLOYING's duration; with a runtime, nothing is started). HANG: it stays DEPLOYING until
   * superseded or the server stops.
   */
  readonly outcome: "FAILED" | "CRASHED" | "HANG";
  /** How many deployments it hits. Default 1. */
  readonly times?: number;
  /** Recorded as the deployment's failure message. */
  readonly message?: string;
}

export interface RateLimitOption {
  /** Every n-th request (counted over all requests) is answered 429. */
  readonly every: number;
  /** The `Retry-After` header, in seconds. Default 1. */
  readonly retryAfterSeconds?: number;
}

export interface ServerErrorOption {
  /** Every n-th request (same count as the rate limit) is answered with `status`. */
  readonly every: number;
  /** Default 503. */
  readonly status?: number;
}

export interface RailwayStandInOptions {
  readonly deploymentPhases?: Partial<DeploymentPhaseDurations>;
  readonly rateLimit?: RateLimitOption;
  readonly serverErrors?: ServerErrorOption;
  /** Deployment faults armed from the start (more with `injectDeploymentFault`). */
  readonly deploymentFaults?: readonly DeploymentFault[];
  /**
   * Runs what is deployed (LocalServiceRuntime); without one, deployments run nothing. The
   * stand-in's `stop()` stops it too (`stopAll`).
   */
  readonly runtime?: ServiceRuntime;
}

export interface RecordedRequest {
  readonly operationName: string | undefined;
  readonly variables: Record<string, unknown>;
  readonly authorization: string | undefined;
}

export const DEFAULT_WORKSPACE_ID = "workspace-default";

interface ProjectCreateArgs {
  name?: string | null;
  description?: string | null;
  workspaceId?: string | null;
  defaultEnvironmentName?: string | null;
}

interface ServiceCreateArgs {
  projectId: string;
  name?: string | null;
  environmentId?: string | null;
  source?: { image?: string | null } | null;
  variables?: Record<string, string> | null;
}

class NotFound extends Error {
  constructor(type: string) {
    super(`${type} not found`);
  }
}

interface ConnectionArgs {
  first?: number | null;
  after?: string | null;
}

interface ProxyRuntimeState {
  readonly sequence: number;
  /** A deployment made after the proxy succeeded: Railway applies a proxy on the next deploy. */
  activated: boolean;
  readonly listener: TcpProxyListener;
}

const IN_PROGRESS: ReadonlySet<DeploymentStatus> = new Set(["QUEUED", "BUILDING", "DEPLOYING"]);
const STOPPED: ReadonlySet<DeploymentStatus> = new Set(["FAILED", "CRASHED", "REMOVED"]);

function instanceKey(environmentId: string, serviceId: string): string {
  return `${environmentId}/${serviceId}`;
}

function validateEvery(option: { every: number } | undefined, name: string): void {
  if (option && !(Number.isInteger(option.every) && option.every >= 1)) {
    throw new Error(`${name}.every must be a positive integer, got ${String(option.every)}`);
  }
}

export class RailwayStandInServer {
  readonly state: StandInState = {
    projects: new Map(),
    environments: new Map(),
    services: new Map(),
    serviceInstances: new Map(),
    volumes: new Map(),
    volumeInstances: new Map(),
    variables: new Map(),
    tcpProxies: new Map(),
    deploys: [],
    deployments: new Map(),
  };
  readonly requests: RecordedRequest[] = [];
  /** Largest page the server hands out, whatever `first` asks (exercises pagination). */
  pageSizeCap = 100;
  /** Every n-th request answered 429 (may be changed while running). */
  rateLimit: RateLimitOption | undefined;
  /** Every n-th request answered 5xx (may be changed while running). */
  serverErrors: ServerErrorOption | undefined;
  readonly deploymentPhases: DeploymentPhaseDurations;
  readonly runtime: ServiceRuntime | undefined;
  #faults: Array<InjectedFault & { remaining: number }> = [];
  #deploymentFaults: Array<DeploymentFault & { remaining: number }> = [];
  #server: Server | undefined;
  #nextId = 1;
  #sequence = 0;
  #requestNumber = 0;
  #url = "";
  #stopped = false;
  readonly #timers = new Map<string, NodeJS.Timeout>();
  readonly #starts = new Map<string, AbortController>();
  readonly #proxies = new Map<string, ProxyRuntimeState>();
  readonly #privateHosts = new Map<string, string>();
  readonly #pending = new Set<Promise<unknown>>();

  constructor(
    readonly token: string,
    options: RailwayStandInOptions = {},
  ) {
    validateEvery(options.rateLimit, "rateLimit");
    validateEvery(options.serverErrors, "serverErrors");
    this.rateLimit = options.rateLimit;
    this.serverErrors = options.serverErrors;
    this.deploymentPhases = { ...DEFAULT_DEPLOYMENT_PHASES, ...options.deploymentPhases };
    this.runtime = options.runtime;
    for (const fault of options.deploymentFaults ?? []) this.injectDeploymentFault(fault);
  }

  get url(): string {
    if (!this.#url) throw new Error("stand-in server not started");
    return this.#url;
  }

  async start(): Promise<void> {
    loadRailwaySchema();
    this.#server = createServer((req, res) => void this.#handle(req, res));
    await new Promise<void>((resolve, reject) => {
      this.#server!.once("error", reject);
      this.#server!.listen(0, "127.0.0.1", () => resolve());
    });
    const { port } = this.#server.address() as AddressInfo;
    this.#url = `http://127.0.0.1:${port}/graphql/v2`;
  }

  /** Stops the API, every deployment in progress, every proxy and every server the runtime runs. */
  async stop(): Promise<void> {
    this.#stopped = true;
    for (const timer of this.#timers.values()) clearTimeout(timer);
    this.#timers.clear();
    for (const controller of this.#starts.values()) controller.abort(new Error("stand-in stopped"));
    const proxies = [...this.#proxies.values()];
    this.#proxies.clear();
    await Promise.allSettled(proxies.map((proxy) => proxy.listener.close()));
    await Promise.allSettled([...this.#pending]);
    await this.runtime?.stopAll();
    const server = this.#server;
    if (!server) return;
    this.#server = undefined;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  inject(fault: InjectedFault): void {
    this.#faults.push({ ...fault, remaining: fault.times ?? 1 });
  }

  injectDeploymentFault(fault: DeploymentFault): void {
    this.#deploymentFaults.push({ ...fault, remaining: fault.times ?? 1 });
  }

  /** Forgets faults not yet used up, the request log and the request count of the rate limit. */
  reset(): void {
    this.#faults = [];
    this.#deploymentFaults = [];
    this.requests.length = 0;
    this.#requestNumber = 0;
  }

  /** Deployments of a service instance, oldest first. */
  deploymentsOf(environmentId: string, serviceId: string): DeploymentRow[] {
    return [...this.state.deployments.values()].filter(
      (d) => d.environmentId === environmentId && d.serviceId === serviceId,
    );
  }

  /**
   * Resolves with the deployment once it is SUCCESS, FAILED, CRASHED or REMOVED; rejects after
   * `timeoutMs` (default 60 s) — a HANG fault never settles.
   */
  async waitForDeployment(id: string, timeoutMs = 60_000): Promise<DeploymentRow> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const row = this.state.deployments.get(id);
      if (!row) throw new Error(`no deployment ${id} on the Railway stand-in`);
      if (!IN_PROGRESS.has(row.status)) return row;
      if (Date.now() > deadline) {
        throw new Error(`deployment ${id} is still ${row.status} after ${timeoutMs} ms`);
      }
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  /**
   * Where Railway's private network would take `<service>.railway.internal:<port>`: the local
   * address of the server running that service. Throws when nothing would answer there.
   */
  privateEndpoint(host: string, port: number, environmentId?: string): ProxyTarget {
    const wanted = host.toLowerCase();
    const services = [...this.state.services.values()].filter(
      (service) => this.#privateHosts.get(service.id) === wanted,
    );
    if (services.length === 0) {
      const known = [...new Set(this.#privateHosts.values())].join(", ") || "none";
      throw new Error(`${host} is the private domain of no service (known: ${known})`);
    }
    const instances = [...this.state.serviceInstances.values()].filter(
      (instance) =>
        services.some((service) => service.id === instance.serviceId) &&
        (environmentId === undefined || instance.environmentId === environmentId),
    );
    if (instances.length !== 1) {
      throw new Error(
        instances.length === 0
          ? `${host} has no instance in environment ${environmentId}`
          : `${host} exists in ${instances.length} environments: pass the environment id`,
      );
    }
    const { environmentId: envId, serviceId } = instances[0];
    if (!this.runtime) throw new Error(`nothing runs behind ${host}: the stand-in has no runtime`);
    const running = this.runtime.running(instanceKey(envId, serviceId));
    if (!running) {
      const latest = this.deploymentsOf(envId, serviceId).at(-1);
      const why = latest
        ? `its latest deployment is ${latest.status}${latest.failure ? `: ${latest.failure.message}` : ""}`
        : "it was never deployed";
      throw new Error(`${host} is not running: ${why}`);
    }
    if (running.containerPort !== port) {
      throw new Error(
        `${host}:${port} refuses connections: the service listens on port ${running.containerPort}`,
      );
    }
    return { host: running.host, port: running.port };
  }

  /** Operation names received, in order. */
  operations(): string[] {
    return this.requests.map((request) => request.operationName ?? "(anonymous)");
  }

  count(operation: string): number {
    return this.operations().filter((name) => name === operation).length;
  }

  // ---- seeding helpers for tests ---------------------------------------------------------

  seedProject(
    name: string,
    environmentName = "production",
  ): { project: ProjectRow; environment: EnvironmentRow } {
    const project = this.#createProject({ name, defaultEnvironmentName: environmentName });
    const environment = [...this.state.environments.values()].find(
      (e) => e.projectId === project.id,
    )!;
    return { project, environment };
  }

  seedService(projectId: string, name: string, image = "nginx:1"): ServiceRow {
    return this.#createService({ projectId, name, source: { image } });
  }

  variablesOf(
    projectId: string,
    environmentId: string,
    serviceId?: string,
  ): Record<string, string> {
    return {
      ...(this.state.variables.get(variableKey(projectId, environmentId, serviceId)) ?? {}),
    };
  }

  setVariable(
    projectId: string,
    environmentId: string,
    serviceId: string | undefined,
    name: string,
    value: string,
  ): void {
    const key = variableKey(projectId, environmentId, serviceId);
    this.state.variables.set(key, { ...(this.state.variables.get(key) ?? {}), [name]: value });
  }

  instanceOf(environmentId: string, serviceId: string): ServiceInstanceRow | undefined {
    return this.state.serviceInstances.get(`${environmentId}/${serviceId}`);
  }

  // ---- HTTP ------------------------------------------------------------------------------

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    let body: { query?: string; variables?: Record<string, unknown>; operationName?: string };
    try {
      body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as typeof body;
    } catch {
      return send(res, 400, { errors: [{ message: "Invalid JSON body" }] });
    }
    const authorization = req.headers.authorization;
    this.requests.push({
      operationName: body.operationName,
      variables: body.variables ?? {},
      authorization,
    });

    this.#requestNumber += 1;
    if (this.rateLimit && this.#requestNumber % this.rateLimit.every === 0) {
      // Railway's rate limit answers before executing anything (the client may always retry).
      return send(
        res,
        429,
        { errors: [{ message: "Rate limit exceeded" }] },
        {
          "retry-after": String(this.rateLimit.retryAfterSeconds ?? 1),
          "x-ratelimit-remaining": "0",
        },
      );
    }
    if (this.serverErrors && this.#requestNumber % this.serverErrors.every === 0) {
      return send(res, this.serverErrors.status ?? 503, {
        errors: [{ message: "Service unavailable" }],
      });
    }

    const fault = this.#takeFault(body.operationName);
    if (fault?.dropConnection) {
      req.socket.destroy();
      return;
    }
    if (fault && !fault.afterExecute) return this.#answerFault(res, fault, authorization);

    if (authorization !== `Bearer ${this.token}`) {
      return send(res, 200, { errors: [{ message: "Not Authorized" }] });
    }
    const result = await graphql({
      schema: loadRailwaySchema(),
      source: body.query ?? "",
      rootValue: this.#root(),
      variableValues: body.variables,
      operationName: body.operationName,
    });
    if (fault) return this.#answerFault(res, fault, authorization);
    const errors = result.errors?.map((error) => ({ message: error.message, path: error.path }));
    // Railway answers GraphQL errors with HTTP 200 and no data for the failed root field.
    send(res, 200, { data: result.data ?? null, ...(errors ? { errors } : {}) });
  }

  #takeFault(operation: string | undefined): (InjectedFault & { remaining: number }) | undefined {
    const fault = this.#faults.find((f) => f.operation === operation && f.remaining > 0);
    if (fault) fault.remaining -= 1;
    return fault;
  }

  #answerFault(res: ServerResponse, fault: InjectedFault, authorization: string | undefined): void {
    const headers: Record<string, string> = {};
    if (fault.retryAfter !== undefined) headers["retry-after"] = fault.retryAfter;
    const suffix = fault.echoAuthorization ? ` (request had ${authorization ?? "no header"})` : "";
    const messages = fault.errors ?? [
      fault.status === 429 ? "Rate limit exceeded" : "Internal server error",
    ];
    send(
      res,
      fault.status ?? 200,
      { errors: messages.map((message) => ({ message: message + suffix })) },
      headers,
    );
  }

  // ---- resolvers -------------------------------------------------------------------------

  #id(prefix: string): string {
    return `${prefix}-${String(this.#nextId++).padStart(4, "0")}`;
  }

  #connection<T>(items: T[], args: ConnectionArgs) {
    const start = args.after ? Number(args.after) + 1 : 0;
    const size = Math.min(args.first ?? this.pageSizeCap, this.pageSizeCap);
    const page = items.slice(start, start + size);
    return {
      edges: page.map((node, index) => ({ node, cursor: String(start + index) })),
      pageInfo: {
        hasNextPage: start + size < items.length,
        hasPreviousPage: start > 0,
        startCursor: page.length ? String(start) : null,
        endCursor: page.length ? String(start + page.length - 1) : null,
      },
    };
  }

  #project(id: string) {
    const row = this.state.projects.get(id);
    if (!row) throw new NotFound("Project");
    return {
      ...row,
      services: (args: ConnectionArgs) =>
        this.#connection(
          [...this.state.services.values()].filter((s) => s.projectId === id),
          args,
        ),
    };
  }

  #environment(id: string) {
    const row = this.state.environments.get(id);
    if (!row) throw new NotFound("Environment");
    return {
      ...row,
      volumeInstances: (args: ConnectionArgs) =>
        this.#connection(
          [...this.state.volumeInstances.values()].filter((v) => v.environmentId === id),
          args,
        ),
    };
  }

  #requireService(id: string): ServiceRow {
    const row = this.state.services.get(id);
    if (!row) throw new NotFound("Service");
    return row;
  }

  #createProject(input: ProjectCreateArgs): ProjectRow {
    const project: ProjectRow = {
      id: this.#id("project"),
      name: input.name ?? "untitled",
      description: input.description ?? null,
      workspaceId: input.workspaceId ?? DEFAULT_WORKSPACE_ID,
    };
    this.state.projects.set(project.id, project);
    this.#createEnvironment(project.id, input.defaultEnvironmentName ?? "production");
    return project;
  }

  #createEnvironment(projectId: string, name: string): EnvironmentRow {
    const environment = { id: this.#id("env"), name, projectId };
    this.state.environments.set(environment.id, environment);
    for (const service of this.state.services.values()) {
      if (service.projectId === projectId) this.#addInstance(environment.id, service.id, null);
    }
    return environment;
  }

  #addInstance(environmentId: string, serviceId: string, image: string | null): void {
    this.state.serviceInstances.set(`${environmentId}/${serviceId}`, {
      id: this.#id("instance"),
      serviceId,
      environmentId,
      startCommand: null,
      image,
    });
  }

  #createService(input: ServiceCreateArgs): ServiceRow {
    if (!this.state.projects.has(input.projectId)) throw new NotFound("Project");
    const service = {
      id: this.#id("service"),
      name: input.name ?? "service",
      projectId: input.projectId,
    };
    this.state.services.set(service.id, service);
    // The private domain is fixed at creation: a rename does not move it.
    this.#privateHosts.set(service.id, railwayPrivateHost(service.name));
    for (const environment of this.state.environments.values()) {
      if (environment.projectId !== input.projectId) continue;
      this.#addInstance(environment.id, service.id, input.source?.image ?? null);
      if (input.variables && (!input.environmentId || input.environmentId === environment.id)) {
        this.state.variables.set(variableKey(input.projectId, environment.id, service.id), {
          ...input.variables,
        });
      }
      if (input.source?.image) this.#deploy(environment.id, service.id, "serviceCreate");
    }
    return service;
  }

  #deleteService(id: string): void {
    this.#requireService(id);
    this.state.services.delete(id);
    for (const [key, instance] of this.state.serviceInstances) {
      if (instance.serviceId !== id) continue;
      this.state.serviceInstances.delete(key);
      this.#retireInstance(key);
    }
    for (const key of this.state.variables.keys()) {
      if (key.endsWith(`/${id}`)) this.state.variables.delete(key);
    }
    for (const [proxyId, proxy] of this.state.tcpProxies) {
      if (proxy.serviceId === id) this.#deleteProxy(proxyId);
    }
  }

  #deleteProxy(id: string): boolean {
    const existed = this.state.tcpProxies.delete(id);
    const runtimeState = this.#proxies.get(id);
    this.#proxies.delete(id);
    if (runtimeState) this.#track(runtimeState.listener.close());
    return existed;
  }

  #track(promise: Promise<unknown>): void {
    const tracked = promise.catch(() => undefined);
    this.#pending.add(tracked);
    void tracked.then(() => this.#pending.delete(tracked));
  }

  /** The instance is gone: its deployments end and its server stops. */
  #retireInstance(key: string): void {
    for (const row of this.state.deployments.values()) {
      if (instanceKey(row.environmentId, row.serviceId) !== key) continue;
      if (!STOPPED.has(row.status)) this.#setStatus(row, "REMOVED");
    }
    if (this.runtime) this.#track(this.runtime.stop(key));
  }

  // ---- deployments -----------------------------------------------------------------------

  #deploy(environmentId: string, serviceId: string, trigger: DeploymentTrigger): DeploymentRow {
    const key = instanceKey(environmentId, serviceId);
    this.state.deploys.push(key);
    for (const older of this.deploymentsOf(environmentId, serviceId)) {
      if (IN_PROGRESS.has(older.status)) this.#setStatus(older, "REMOVED");
    }
    const now = new Date();
    const row: DeploymentRow = {
      id: randomUUID(),
      projectId: this.state.services.get(serviceId)!.projectId,
      environmentId,
      serviceId,
      trigger,
      sequence: ++this.#sequence,
      createdAt: now,
      status: "QUEUED",
      updatedAt: now,
      history: [{ status: "QUEUED", at: now }],
    };
    this.state.deployments.set(row.id, row);
    this.#after(row, this.deploymentPhases.queuedMs, () => this.#build(row));
    return row;
  }

  #after(row: DeploymentRow, ms: number, step: () => void): void {
    if (this.#stopped) return;
    const timer = setTimeout(() => {
      this.#timers.delete(row.id);
      step();
    }, ms);
    this.#timers.set(row.id, timer);
  }

  #setStatus(row: DeploymentRow, status: DeploymentStatus, failure?: DeploymentRow["failure"]) {
    if (row.status === status) return;
    const now = new Date();
    row.status = status;
    row.updatedAt = now;
    row.history.push({ status, at: now });
    if (failure) row.failure = failure;
    if (STOPPED.has(status)) {
      clearTimeout(this.#timers.get(row.id));
      this.#timers.delete(row.id);
      this.#starts.get(row.id)?.abort(new Error(`deployment ${row.id} ${status}`));
      this.#starts.delete(row.id);
    }
  }

  #takeDeploymentFault(
    row: DeploymentRow,
    outcomes: ReadonlyArray<DeploymentFault["outcome"]>,
  ): DeploymentFault | undefined {
    const name = this.state.services.get(row.serviceId)?.name;
    const fault = this.#deploymentFaults.find(
      (f) =>
        f.remaining > 0 &&
        outcomes.includes(f.outcome) &&
        (f.service === row.serviceId || f.service === name),
    );
    if (fault) fault.remaining -= 1;
    return fault;
  }

  #build(row: DeploymentRow): void {
    if (row.status !== "QUEUED") return;
    this.#setStatus(row, "BUILDING");
    this.#after(row, this.deploymentPhases.buildingMs, () => {
      if (row.status !== "BUILDING") return;
      const fault = this.#takeDeploymentFault(row, ["FAILED"]);
      if (fault) {
        this.#setStatus(row, "FAILED", {
          message: fault.message ?? "the build failed (injected fault)",
          log: "",
        });
      } else {
        this.#run(row);
      }
    });
  }

  #run(row: DeploymentRow): void {
    this.#setStatus(row, "DEPLOYING");
    const { deployingMs } = this.deploymentPhases;
    const fault = this.#takeDeploymentFault(row, ["CRASHED", "HANG"]);
    if (fault?.outcome === "HANG") return;
    if (fault) {
      const failure = {
        message: fault.message ?? "the deployment crashed (injected fault)",
        log: "",
      };
      this.#after(row, deployingMs, () => {
        if (row.status === "DEPLOYING") this.#setStatus(row, "CRASHED", failure);
      });
      return;
    }
    const runtime = this.runtime;
    if (!runtime) {
      this.#after(row, deployingMs, () => this.#succeed(row));
      return;
    }
    const launch = this.#launchOf(row);
    if (!launch || this.#stopped) return this.#setStatus(row, "REMOVED");
    const controller = new AbortController();
    this.#starts.set(row.id, controller);
    const startedAt = Date.now();
    const started = runtime
      .deploy(launch, {
        signal: controller.signal,
        onExit: (message, log) => {
          if (row.status === "SUCCESS" || row.status === "DEPLOYING") {
            this.#setStatus(row, "CRASHED", { message, log });
          }
        },
      })
      .then(
        () => {
          if (this.#starts.get(row.id) === controller) this.#starts.delete(row.id);
          if (row.status !== "DEPLOYING") return;
          const remaining = deployingMs - (Date.now() - startedAt);
          if (remaining > 0) this.#after(row, remaining, () => this.#succeed(row));
          else this.#succeed(row);
        },
        (error: unknown) => {
          if (this.#starts.get(row.id) === controller) this.#starts.delete(row.id);
          if (row.status !== "DEPLOYING") return;
          const status = error instanceof ServiceStartError ? error.status : "CRASHED";
          const log = error instanceof ServiceStartError ? error.log : "";
          this.#setStatus(row, status, { message: (error as Error).message, log });
        },
      );
    this.#track(started);
  }

  #launchOf(row: DeploymentRow): ServiceLaunch | undefined {
    const key = instanceKey(row.environmentId, row.serviceId);
    const instance = this.state.serviceInstances.get(key);
    const service = this.state.services.get(row.serviceId);
    if (!instance || !service) return undefined;
    const volume = [...this.state.volumeInstances.values()].find(
      (v) => v.serviceId === row.serviceId && v.environmentId === row.environmentId,
    );
    return {
      key,
      deploymentId: row.id,
      projectId: row.projectId,
      environmentId: row.environmentId,
      serviceId: row.serviceId,
      serviceName: service.name,
      privateHost: this.#privateHosts.get(service.id) ?? railwayPrivateHost(service.name),
      image: instance.image,
      startCommand: instance.startCommand,
      variables: this.variablesOf(row.projectId, row.environmentId, row.serviceId),
      volume: volume ? { instanceId: volume.id, mountPath: volume.mountPath } : null,
    };
  }

  #succeed(row: DeploymentRow): void {
    if (row.status !== "DEPLOYING") return;
    for (const older of this.deploymentsOf(row.environmentId, row.serviceId)) {
      if (older !== row && older.status === "SUCCESS") this.#setStatus(older, "REMOVED");
    }
    this.#setStatus(row, "SUCCESS");
    for (const [id, proxy] of this.state.tcpProxies) {
      const runtimeState = this.#proxies.get(id);
      if (
        runtimeState &&
        proxy.environmentId === row.environmentId &&
        proxy.serviceId === row.serviceId &&
        runtimeState.sequence < row.sequence
      ) {
        runtimeState.activated = true;
      }
    }
  }

  #proxyTarget(id: string): ProxyTarget | undefined {
    const proxy = this.state.tcpProxies.get(id);
    const runtimeState = this.#proxies.get(id);
    if (!proxy || !runtimeState?.activated || !this.runtime) return undefined;
    const running = this.runtime.running(instanceKey(proxy.environmentId, proxy.serviceId));
    // Railway forwards to applicationPort inside the container: nothing there, nothing answers.
    if (!running || running.containerPort !== proxy.applicationPort) return undefined;
    return { host: running.host, port: running.port };
  }

  #deploymentObject(row: DeploymentRow) {
    const iso = (date: Date) => date.toISOString();
    const running = () => {
      const current = this.runtime?.running(instanceKey(row.environmentId, row.serviceId));
      return row.status === "SUCCESS" && current?.deploymentId === row.id ? current : undefined;
    };
    return {
      id: row.id,
      status: row.status,
      createdAt: iso(row.createdAt),
      updatedAt: iso(row.updatedAt),
      statusUpdatedAt: iso(row.updatedAt),
      projectId: row.projectId,
      environmentId: row.environmentId,
      serviceId: row.serviceId,
      canRedeploy: true,
      canRollback: false,
      deploymentStopped: STOPPED.has(row.status),
      suggestAddServiceDomain: false,
      url: null,
      staticUrl: null,
      meta: null,
      creator: null,
      diagnosis: null,
      snapshotId: null,
      instances: () => [{ id: `${row.id}-0`, status: instanceStatusOf(row.status) }],
      sockets: () => {
        const current = running();
        return current
          ? [
              {
                ipv6: false,
                port: current.containerPort,
                processName: current.pid === undefined ? "server" : String(current.pid),
                updatedAt: Math.floor(row.updatedAt.getTime() / 1000),
              },
            ]
          : [];
      },
      environment: () => this.#environment(row.environmentId),
      service: () => this.#requireService(row.serviceId),
    };
  }

  #deploymentLogs(row: DeploymentRow, limit: number | null | undefined, filter?: string | null) {
    const tags = {
      deploymentId: row.id,
      deploymentInstanceId: `${row.id}-0`,
      environmentId: row.environmentId,
      projectId: row.projectId,
      serviceId: row.serviceId,
      snapshotId: null,
      pluginId: null,
    };
    const lines = [
      ...(row.failure?.log.split("\n").filter(Boolean) ?? []).map((message) => ({
        message,
        severity: "info",
      })),
      ...(row.failure ? [{ message: row.failure.message, severity: "error" }] : []),
    ];
    const matching = lines.filter((line) => !filter || line.message.includes(filter));
    const size = Math.min(Math.max(limit ?? 100, 0), 5000);
    // Railway returns the most recent `limit` lines.
    return matching.slice(Math.max(0, matching.length - size)).map((line) => ({
      ...line,
      attributes: [],
      tags,
      timestamp: row.updatedAt.toISOString(),
    }));
  }

  #root(): Record<string, unknown> {
    const s = this.state;
    type Args = Record<string, unknown>;
    type Input = Record<string, unknown>;
    return {
      // -- queries
      project: ({ id }: Args) => this.#project(id as string),
      projects: (args: Args & ConnectionArgs) =>
        this.#connection(
          [...s.projects.values()].filter(
            (p) => !args.workspaceId || p.workspaceId === args.workspaceId,
          ),
          args,
        ),
      environment: ({ id }: Args) => this.#environment(id as string),
      environments: (args: Args & ConnectionArgs) => {
        if (!s.projects.has(args.projectId as string)) throw new NotFound("Project");
        return this.#connection(
          [...s.environments.values()].filter((e) => e.projectId === args.projectId),
          args,
        );
      },
      service: ({ id }: Args) => this.#requireService(id as string),
      serviceInstance: ({ environmentId, serviceId }: Args) => {
        const instance = s.serviceInstances.get(`${environmentId}/${serviceId}`);
        if (!instance) throw new NotFound("ServiceInstance");
        const deployments = () => this.deploymentsOf(environmentId as string, serviceId as string);
        return {
          ...instance,
          source: { image: instance.image, repo: null },
          latestDeployment: () => {
            const latest = deployments().at(-1);
            return latest ? this.#deploymentObject(latest) : null;
          },
          activeDeployments: () =>
            deployments()
              .filter((d) => d.status === "SUCCESS")
              .map((d) => this.#deploymentObject(d)),
        };
      },
      deployment: ({ id }: Args) => {
        const row = s.deployments.get(id as string);
        if (!row) throw new NotFound("Deployment");
        return this.#deploymentObject(row);
      },
      deploymentLogs: ({ deploymentId, limit, filter }: Args) => {
        const row = s.deployments.get(deploymentId as string);
        if (!row) throw new NotFound("Deployment");
        return this.#deploymentLogs(row, limit as number | null, filter as string | null);
      },
      variables: ({ projectId, environmentId, serviceId }: Args) => {
        if (!s.environments.has(environmentId as string)) throw new NotFound("Environment");
        return this.variablesOf(
          projectId as string,
          environmentId as string,
          (serviceId as string | null) ?? undefined,
        );
      },
      tcpProxies: ({ environmentId, serviceId }: Args) =>
        [...s.tcpProxies.values()].filter(
          (p) => p.environmentId === environmentId && p.serviceId === serviceId,
        ),

      // -- mutations
      projectCreate: ({ input }: { input: Input }) =>
        this.#createProject(input as ProjectCreateArgs),
      projectUpdate: ({ id, input }: { id: string; input: Input }) => {
        const row = this.#project(id);
        const updated = {
          ...s.projects.get(id)!,
          ...(input.name != null ? { name: input.name as string } : {}),
          ...(input.description !== undefined
            ? { description: input.description as string | null }
            : {}),
        };
        s.projects.set(id, updated);
        return { ...row, ...updated };
      },
      projectDelete: ({ id }: Args) => {
        this.#project(id as string);
        for (const service of [...s.services.values()])
          if (service.projectId === id) this.#deleteService(service.id);
        for (const [envId, env] of [...s.environments])
          if (env.projectId === id) s.environments.delete(envId);
        for (const [volumeId, volume] of [...s.volumes]) {
          if (volume.projectId !== id) continue;
          s.volumes.delete(volumeId);
          for (const [instanceId, instance] of [...s.volumeInstances])
            if (instance.volumeId === volumeId) s.volumeInstances.delete(instanceId);
        }
        s.projects.delete(id as string);
        return true;
      },
      environmentCreate: ({ input }: { input: Input }) => {
        if (!s.projects.has(input.projectId as string)) throw new NotFound("Project");
        return this.#createEnvironment(input.projectId as string, input.name as string);
      },
      environmentRename: ({ id, input }: { id: string; input: Input }) => {
        const row = s.environments.get(id);
        if (!row) throw new NotFound("Environment");
        row.name = input.name as string;
        return row;
      },
      environmentDelete: ({ id }: Args) => {
        if (!s.environments.delete(id as string)) throw new NotFound("Environment");
        for (const [key, instance] of [...s.serviceInstances]) {
          if (instance.environmentId !== id) continue;
          s.serviceInstances.delete(key);
          this.#retireInstance(key);
        }
        for (const [proxyId, proxy] of [...s.tcpProxies])
          if (proxy.environmentId === id) this.#deleteProxy(proxyId);
        for (const [instanceId, instance] of [...s.volumeInstances])
          if (instance.environmentId === id) s.volumeInstances.delete(instanceId);
        return true;
      },
      serviceCreate: ({ input }: { input: Input }) =>
        this.#createService(input as unknown as ServiceCreateArgs),
      serviceUpdate: ({ id, input }: { id: string; input: Input }) => {
        const row = this.#requireService(id);
        if (input.name != null) row.name = input.name as string;
        return row;
      },
      serviceInstanceUpdate: ({
        serviceId,
        environmentId,
        input,
      }: {
        serviceId: string;
        environmentId?: string | null;
        input: Input;
      }) => {
        this.#requireService(serviceId);
        const instances = [...s.serviceInstances.values()].filter(
          (i) => i.serviceId === serviceId && (!environmentId || i.environmentId === environmentId),
        );
        if (instances.length === 0) throw new NotFound("ServiceInstance");
        for (const instance of instances) {
          if ("startCommand" in input)
            instance.startCommand = (input.startCommand as string | null) ?? null;
          const source = input.source as { image?: string | null } | undefined;
          if (source?.image) instance.image = source.image;
        }
        return true;
      },
      serviceInstanceRedeploy: ({ environmentId, serviceId }: Args) => {
        if (!s.serviceInstances.has(instanceKey(environmentId as string, serviceId as string)))
          throw new NotFound("ServiceInstance");
        this.#deploy(environmentId as string, serviceId as string, "serviceInstanceRedeploy");
        return true;
      },
      serviceInstanceDeployV2: ({ environmentId, serviceId }: Args) => {
        if (!s.serviceInstances.has(instanceKey(environmentId as string, serviceId as string)))
          throw new NotFound("ServiceInstance");
        return this.#deploy(environmentId as string, serviceId as string, "serviceInstanceDeployV2")
          .id;
      },
      serviceDelete: ({ id }: Args) => {
        this.#deleteService(id as string);
        return true;
      },
      volumeCreate: ({ input }: { input: Input }) => {
        if (!s.projects.has(input.projectId as string)) throw new NotFound("Project");
        if (input.serviceId) this.#requireService(input.serviceId as string);
        const volume = {
          id: this.#id("volume"),
          name: `volume-${this.#nextId}`,
          projectId: input.projectId as string,
        };
        s.volumes.set(volume.id, volume);
        const environments = input.environmentId
          ? [input.environmentId as string]
          : [...s.environments.values()]
              .filter((e) => e.projectId === volume.projectId)
              .map((e) => e.id);
        for (const environmentId of environments) {
          const instance = {
            id: this.#id("volinst"),
            volumeId: volume.id,
            serviceId: (input.serviceId as string | null) ?? null,
            environmentId,
            mountPath: input.mountPath as string,
          };
          s.volumeInstances.set(instance.id, instance);
        }
        return volume;
      },
      volumeInstanceUpdate: ({
        volumeId,
        environmentId,
        input,
      }: {
        volumeId: string;
        environmentId?: string | null;
        input: Input;
      }) => {
        const instances = [...s.volumeInstances.values()].filter(
          (i) => i.volumeId === volumeId && (!environmentId || i.environmentId === environmentId),
        );
        if (instances.length === 0) throw new NotFound("Volume");
        for (const instance of instances)
          if (input.mountPath) instance.mountPath = input.mountPath as string;
        return true;
      },
      volumeDelete: ({ volumeId }: Args) => {
        if (!s.volumes.delete(volumeId as string)) throw new NotFound("Volume");
        for (const [instanceId, instance] of [...s.volumeInstances])
          if (instance.volumeId === volumeId) s.volumeInstances.delete(instanceId);
        return true;
      },
      variableCollectionUpsert: ({ input }: { input: Input }) => {
        const key = variableKey(
          input.projectId as string,
          input.environmentId as string,
          (input.serviceId as string | null) ?? undefined,
        );
        if (!s.environments.has(input.environmentId as string)) throw new NotFound("Environment");
        const current = input.replace ? {} : (s.variables.get(key) ?? {});
        s.variables.set(key, { ...current, ...(input.variables as Record<string, string>) });
        if (input.serviceId && !input.skipDeploys) {
          this.#requireService(input.serviceId as string);
          this.#deploy(
            input.environmentId as string,
            input.serviceId as string,
            "variableCollectionUpsert",
          );
        }
        return true;
      },
      variableDelete: ({ input }: { input: Input }) => {
        const key = variableKey(
          input.projectId as string,
          input.environmentId as string,
          (input.serviceId as string | null) ?? undefined,
        );
        const current = s.variables.get(key);
        if (!current || !(String(input.name) in current)) throw new NotFound("Variable");
        delete current[input.name as string];
        return true;
      },
      tcpProxyCreate: async ({ input }: { input: Input }) => {
        this.#requireService(input.serviceId as string);
        const id = this.#id("proxy");
        const fields = {
          applicationPort: input.applicationPort as number,
          serviceId: input.serviceId as string,
          environmentId: input.environmentId as string,
        };
        if (!this.runtime) {
          const proxy = {
            id,
            domain: "shortline.proxy.rlwy.net",
            proxyPort: 20000 + this.#nextId,
            ...fields,
          };
          s.tcpProxies.set(id, proxy);
          return proxy;
        }
        const listener = new TcpProxyListener(() => this.#proxyTarget(id));
        const proxy = { id, domain: "127.0.0.1", proxyPort: await listener.listen(), ...fields };
        s.tcpProxies.set(id, proxy);
        this.#proxies.set(id, { sequence: ++this.#sequence, activated: false, listener });
        return proxy;
      },
      tcpProxyDelete: ({ id }: Args) => {
        if (!this.#deleteProxy(id as string)) throw new NotFound("TCPProxy");
        return true;
      },
    };
  }
}

function instanceStatusOf(status: DeploymentStatus): string {
  switch (status) {
    case "QUEUED":
    case "BUILDING":
    case "DEPLOYING":
      return "INITIALIZING";
    case "SUCCESS":
      return "RUNNING";
    case "CRASHED":
      return "CRASHED";
    case "FAILED":
      return "EXITED";
    case "REMOVED":
      return "REMOVED";
    default: {
      const unknown: never = status;
      return unknown;
    }
  }
}

export function variableKey(projectId: string, environmentId: string, serviceId?: string): string {
  return `${projectId}/${environmentId}/${serviceId ?? ""}`;
}

function send(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, { "content-type": "application/json", ...headers });
  res.end(JSON.stringify(body));
}
