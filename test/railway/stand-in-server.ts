/**
 * A local stand-in for Railway's GraphQL API, for tests: node:http on 127.0.0.1 (free port),
 * every request executed by graphql-js against Railway's REAL published schema, with in-memory
 * resolvers for the operations the provider uses. A document the real API would reject (unknown
 * field, wrong argument type, missing variable) is rejected here too, with graphql-js's error.
 *
 * Faults can be injected per operation to play rate limits, 5xx, dropped connections, GraphQL
 * errors and "executed but the response was lost".
 *
 * Behaviour modelled on Railway (assumptions, noted where they matter): unknown ids answer with a
 * GraphQL error "<Type> not found"; a service is created in every environment of its project;
 * `projectCreate` creates the default environment; `serviceDelete` removes the service's
 * instances and variables.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { graphql } from "graphql";
import { loadRailwaySchema } from "./railway-schema";

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
  /** Every deploy trigger, in order: `environmentId/serviceId`. */
  deploys: string[];
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
  };
  readonly requests: RecordedRequest[] = [];
  /** Largest page the server hands out, whatever `first` asks (exercises pagination). */
  pageSizeCap = 100;
  #faults: Array<InjectedFault & { remaining: number }> = [];
  #server: Server | undefined;
  #nextId = 1;
  #url = "";

  constructor(readonly token: string) {}

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

  async stop(): Promise<void> {
    const server = this.#server;
    if (!server) return;
    this.#server = undefined;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  inject(fault: InjectedFault): void {
    this.#faults.push({ ...fault, remaining: fault.times ?? 1 });
  }

  /** Forgets faults not yet used up and the request log. */
  reset(): void {
    this.#faults = [];
    this.requests.length = 0;
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
    for (const environment of this.state.environments.values()) {
      if (environment.projectId !== input.projectId) continue;
      this.#addInstance(environment.id, service.id, input.source?.image ?? null);
      if (input.variables && (!input.environmentId || input.environmentId === environment.id)) {
        this.state.variables.set(variableKey(input.projectId, environment.id, service.id), {
          ...input.variables,
        });
      }
      if (input.source?.image) this.state.deploys.push(`${environment.id}/${service.id}`);
    }
    return service;
  }

  #deleteService(id: string): void {
    this.#requireService(id);
    this.state.services.delete(id);
    for (const [key, instance] of this.state.serviceInstances) {
      if (instance.serviceId === id) this.state.serviceInstances.delete(key);
    }
    for (const key of this.state.variables.keys()) {
      if (key.endsWith(`/${id}`)) this.state.variables.delete(key);
    }
    for (const [proxyId, proxy] of this.state.tcpProxies) {
      if (proxy.serviceId === id) this.state.tcpProxies.delete(proxyId);
    }
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
        return { ...instance, source: { image: instance.image, repo: null } };
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
        for (const [key, instance] of [...s.serviceInstances])
          if (instance.environmentId === id) s.serviceInstances.delete(key);
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
        if (!s.serviceInstances.has(`${environmentId}/${serviceId}`))
          throw new NotFound("ServiceInstance");
        s.deploys.push(`${environmentId}/${serviceId}`);
        return true;
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
        if (input.serviceId && !input.skipDeploys)
          s.deploys.push(`${input.environmentId}/${input.serviceId}`);
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
      tcpProxyCreate: ({ input }: { input: Input }) => {
        this.#requireService(input.serviceId as string);
        const proxy = {
          id: this.#id("proxy"),
          domain: "shortline.proxy.rlwy.net",
          proxyPort: 20000 + this.#nextId,
          applicationPort: input.applicationPort as number,
          serviceId: input.serviceId as string,
          environmentId: input.environmentId as string,
        };
        s.tcpProxies.set(proxy.id, proxy);
        return proxy;
      },
      tcpProxyDelete: ({ id }: Args) => {
        if (!s.tcpProxies.delete(id as string)) throw new NotFound("TCPProxy");
        return true;
      },
    };
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
