/**
 * The Railway stand-in as the rehearsal uses it: asynchronous deployments (status sequence,
 * supersession, FAILED / CRASHED / hanging faults), 429s with Retry-After and 5xx under load, and
 * with the runtime real servers behind real TCP proxies: Railway's Postgres SSL image (TLS with a
 * self-signed certificate, an admin that is not a superuser, data kept across a redeploy) and
 * redis:7 run from its start command (password, noeviction, AOF on the volume).
 */
import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TLSSocket } from "node:tls";
import Redis from "ioredis";
import { Client } from "pg";
import { RailwayClient } from "../../infra/railway/client";
import {
  POSTGRES_MOUNT_PATH,
  POSTGRES_PGDATA,
  RAILWAY_POSTGRES_SSL_IMAGE,
  REDIS_IMAGE,
  REDIS_MOUNT_PATH,
  REDIS_START_COMMAND,
} from "../../infra/railway/service-defaults";
import {
  RailwayStandInServer,
  type DeploymentStatus,
  type RailwayStandInOptions,
} from "../../src/rehearse/railway-stand-in";
import { REPO_ROOT } from "../../src/rehearse/railway-schema";
import { LocalServiceRuntime } from "../../src/rehearse/service-runtime";
import { splitStartCommand } from "../../src/rehearse/start-command";
import { describeWithBinaries } from "../support/servers";

const token = `test-token-${randomUUID()}`;
// Long enough that a poll every 10 ms sees each phase even on a loaded machine (the first poll
// follows the deploy's own round trip).
const PHASES = { queuedMs: 200, buildingMs: 100, deployingMs: 100 };

const DEPLOY = `
mutation ServiceInstanceDeploy($environmentId: String!, $serviceId: String!) {
  serviceInstanceDeployV2(environmentId: $environmentId, serviceId: $serviceId)
}`;
const REDEPLOY = `
mutation ServiceInstanceRedeploy($environmentId: String!, $serviceId: String!) {
  serviceInstanceRedeploy(environmentId: $environmentId, serviceId: $serviceId)
}`;
const DEPLOYMENT = `
query RailwayDeployment($id: String!) { deployment(id: $id) { id status } }`;
const INSTANCE_DEPLOYMENTS = `
query InstanceDeployments($environmentId: String!, $serviceId: String!) {
  serviceInstance(environmentId: $environmentId, serviceId: $serviceId) {
    latestDeployment {
      id status serviceId environmentId projectId canRedeploy deploymentStopped
      instances { status } sockets { port }
    }
    activeDeployments { id status }
  }
}`;
const DEPLOYMENT_LOGS = `
query DeploymentLogs($deploymentId: String!) {
  deploymentLogs(deploymentId: $deploymentId) { message severity }
}`;
const SERVICE_CREATE = `
mutation ServiceCreate($input: ServiceCreateInput!) { serviceCreate(input: $input) { id } }`;
const SERVICE_INSTANCE_UPDATE = `
mutation ServiceInstanceUpdate($serviceId: String!, $environmentId: String, $input: ServiceInstanceUpdateInput!) {
  serviceInstanceUpdate(serviceId: $serviceId, environmentId: $environmentId, input: $input)
}`;
const VOLUME_CREATE = `
mutation VolumeCreate($input: VolumeCreateInput!) { volumeCreate(input: $input) { id } }`;
const TCP_PROXY_CREATE = `
mutation TcpProxyCreate($input: TCPProxyCreateInput!) {
  tcpProxyCreate(input: $input) { id domain proxyPort applicationPort }
}`;
const VARIABLES_UPSERT = `
mutation VariableCollectionUpsert($input: VariableCollectionUpsertInput!) {
  variableCollectionUpsert(input: $input)
}`;
const ENVIRONMENT_CREATE = `
mutation EnvironmentCreate($input: EnvironmentCreateInput!) { environmentCreate(input: $input) { id } }`;
const PROJECT = `query Project($id: String!) { project(id: $id) { id name } }`;

async function post(
  server: RailwayStandInServer,
  query: string,
  variables: Record<string, unknown> = {},
): Promise<Response> {
  return fetch(server.url, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
  });
}

async function gql<T = Record<string, unknown>>(
  server: RailwayStandInServer,
  query: string,
  variables: Record<string, unknown> = {},
): Promise<T> {
  const response = await post(server, query, variables);
  const body = (await response.json()) as { data?: T; errors?: Array<{ message: string }> };
  if (response.status !== 200 || body.errors) {
    throw new Error(
      `HTTP ${response.status}: ${body.errors?.map((e) => e.message).join("; ") ?? "no errors"}`,
    );
  }
  return body.data as T;
}

async function deploy(
  server: RailwayStandInServer,
  environmentId: string,
  serviceId: string,
): Promise<string> {
  const data = await gql<{ serviceInstanceDeployV2: string }>(server, DEPLOY, {
    environmentId,
    serviceId,
  });
  return data.serviceInstanceDeployV2;
}

/** Polls `deployment(id)` as the provider does and returns the distinct statuses seen. */
async function pollStatuses(
  server: RailwayStandInServer,
  id: string,
  timeoutMs = 60_000,
): Promise<DeploymentStatus[]> {
  const seen: DeploymentStatus[] = [];
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { deployment } = await gql<{ deployment: { id: string; status: DeploymentStatus } }>(
      server,
      DEPLOYMENT,
      { id },
    );
    if (seen.at(-1) !== deployment.status) seen.push(deployment.status);
    if (["SUCCESS", "FAILED", "CRASHED", "REMOVED"].includes(deployment.status)) return seen;
    if (Date.now() > deadline) throw new Error(`${id} still ${deployment.status}: ${seen}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

function statusOf(server: RailwayStandInServer, id: string): DeploymentStatus {
  return server.state.deployments.get(id)!.status;
}

function latestDeploymentId(
  server: RailwayStandInServer,
  environmentId: string,
  serviceId: string,
) {
  return server.deploymentsOf(environmentId, serviceId).at(-1)!.id;
}

function useStandIn(options: RailwayStandInOptions = {}): RailwayStandInServer {
  const server = new RailwayStandInServer(token, options);
  beforeAll(() => server.start());
  afterAll(() => server.stop());
  return server;
}

/** What a connection to a proxy that does not forward gets: accepted, then reset. */
function connectionOutcome(port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect({ host: "127.0.0.1", port });
    socket.once("error", (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
    socket.once("close", () => resolve("closed"));
    socket.once("connect", () => socket.write("hello"));
  });
}

/** Running or sleeping; a zombie (killed, not yet reaped by init) counts as dead. */
function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
  } catch {
    return false;
  }
}

async function until(condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition() && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe("deployments", () => {
  const server = useStandIn({
    deploymentPhases: PHASES,
  });

  it("go QUEUED → BUILDING → DEPLOYING → SUCCESS, observed by polling deployment(id)", async () => {
    const { project, environment } = server.seedProject("deployment-sequence");
    const service = server.seedService(project.id, "web");
    const [created] = server.deploymentsOf(environment.id, service.id);
    expect(created).toMatchObject({ trigger: "serviceCreate", status: "QUEUED" });

    const id = await deploy(server, environment.id, service.id);
    expect(await pollStatuses(server, id)).toEqual(["QUEUED", "BUILDING", "DEPLOYING", "SUCCESS"]);
    // The serviceCreate deployment was still in progress when the new one came: superseded.
    expect(created.status).toBe("REMOVED");
    expect(server.state.deployments.get(id)!.history.map((h) => h.status)).toEqual([
      "QUEUED",
      "BUILDING",
      "DEPLOYING",
      "SUCCESS",
    ]);

    const { serviceInstance } = await gql<{
      serviceInstance: {
        latestDeployment: Record<string, unknown>;
        activeDeployments: Array<{ id: string; status: string }>;
      };
    }>(server, INSTANCE_DEPLOYMENTS, { environmentId: environment.id, serviceId: service.id });
    expect(serviceInstance).toEqual({
      latestDeployment: {
        id,
        status: "SUCCESS",
        serviceId: service.id,
        environmentId: environment.id,
        projectId: project.id,
        canRedeploy: true,
        deploymentStopped: false,
        instances: [{ status: "RUNNING" }],
        sockets: [],
      },
      activeDeployments: [{ id, status: "SUCCESS" }],
    });
  });

  it("supersedes: an older one in progress is REMOVED, the active one when the new one succeeds", async () => {
    const { project, environment } = server.seedProject("supersession");
    const service = server.seedService(project.id, "web");
    const first = await deploy(server, environment.id, service.id);
    await server.waitForDeployment(first);
    expect(statusOf(server, first)).toBe("SUCCESS");

    const second = await deploy(server, environment.id, service.id);
    const third = await deploy(server, environment.id, service.id);
    expect(statusOf(server, second)).toBe("REMOVED");
    expect(statusOf(server, first)).toBe("SUCCESS");
    expect(await pollStatuses(server, third)).toEqual([
      "QUEUED",
      "BUILDING",
      "DEPLOYING",
      "SUCCESS",
    ]);
    expect(statusOf(server, first)).toBe("REMOVED");
    expect(server.deploymentsOf(environment.id, service.id).map((d) => d.status)).toEqual([
      "REMOVED", // serviceCreate's
      "REMOVED",
      "REMOVED",
      "SUCCESS",
    ]);
  });

  it("comes from every deploy trigger, one per trigger, in step with state.deploys", async () => {
    const { project, environment } = server.seedProject("triggers");
    const { environmentCreate: staging } = await gql<{ environmentCreate: { id: string } }>(
      server,
      ENVIRONMENT_CREATE,
      { input: { projectId: project.id, name: "staging" } },
    );
    const deploysBefore = server.state.deploys.length;
    const deploymentsBefore = server.state.deployments.size;
    const { serviceCreate } = await gql<{ serviceCreate: { id: string } }>(server, SERVICE_CREATE, {
      input: { projectId: project.id, name: "web", source: { image: "nginx:1" } },
    });
    const serviceId = serviceCreate.id;
    await gql(server, SERVICE_CREATE, { input: { projectId: project.id, name: "repo-less" } });
    const upsert = (skipDeploys: boolean) =>
      gql(server, VARIABLES_UPSERT, {
        input: {
          projectId: project.id,
          environmentId: environment.id,
          serviceId,
          variables: { A: "1" },
          skipDeploys,
        },
      });
    await upsert(true);
    await upsert(false);
    await gql(server, REDEPLOY, { environmentId: environment.id, serviceId });
    await deploy(server, environment.id, serviceId);

    const made = [...server.state.deployments.values()].slice(deploymentsBefore);
    expect(made.map((d) => [d.environmentId, d.trigger])).toEqual([
      [environment.id, "serviceCreate"],
      [staging.id, "serviceCreate"],
      [environment.id, "variableCollectionUpsert"],
      [environment.id, "serviceInstanceRedeploy"],
      [environment.id, "serviceInstanceDeployV2"],
    ]);
    expect(server.state.deploys.slice(deploysBefore)).toEqual(
      made.map((d) => `${d.environmentId}/${d.serviceId}`),
    );
  });

  it("end FAILED or CRASHED, or hang in DEPLOYING, when a fault says so", async () => {
    const { project, environment } = server.seedProject("faults");
    const service = server.seedService(project.id, "flaky");
    server.injectDeploymentFault({ service: "flaky", outcome: "FAILED", message: "no Dockerfile" });
    const failed = await deploy(server, environment.id, service.id);
    expect(await pollStatuses(server, failed)).toEqual(["QUEUED", "BUILDING", "FAILED"]);
    expect(await gql(server, DEPLOYMENT_LOGS, { deploymentId: failed })).toEqual({
      deploymentLogs: [{ message: "no Dockerfile", severity: "error" }],
    });

    server.injectDeploymentFault({ service: service.id, outcome: "CRASHED" });
    const crashed = await deploy(server, environment.id, service.id);
    expect(await pollStatuses(server, crashed)).toEqual([
      "QUEUED",
      "BUILDING",
      "DEPLOYING",
      "CRASHED",
    ]);
    expect(server.state.deployments.get(crashed)!.failure).toEqual({
      message: "the deployment crashed (injected fault)",
      log: "",
    });

    // Both faults are used up.
    const healthy = await deploy(server, environment.id, service.id);
    expect(await pollStatuses(server, healthy)).toEqual([
      "QUEUED",
      "BUILDING",
      "DEPLOYING",
      "SUCCESS",
    ]);

    server.injectDeploymentFault({ service: "flaky", outcome: "HANG" });
    const hanging = await deploy(server, environment.id, service.id);
    await expect(server.waitForDeployment(hanging, 600)).rejects.toThrow(
      `deployment ${hanging} is still DEPLOYING after 600 ms`,
    );
    const next = await deploy(server, environment.id, service.id);
    expect(statusOf(server, hanging)).toBe("REMOVED");
    expect((await server.waitForDeployment(next)).status).toBe("SUCCESS");
  });

  it("answers an unknown deployment id with Railway's not-found error", async () => {
    await expect(gql(server, DEPLOYMENT, { id: "no-such-deployment" })).rejects.toThrow(
      "HTTP 200: Deployment not found",
    );
  });
});

describe("429s and 5xx under load", () => {
  const server = useStandIn({ rateLimit: { every: 3, retryAfterSeconds: 2 } });

  it("answers every n-th request 429 with Retry-After, which RailwayClient waits for", async () => {
    const { project } = server.seedProject("rate-limited");
    server.reset();
    const answers: Array<[number, string | null, unknown]> = [];
    for (let i = 0; i < 6; i++) {
      const response = await post(server, PROJECT, { id: project.id });
      answers.push([response.status, response.headers.get("retry-after"), await response.json()]);
    }
    const ok = [200, null, { data: { project: { id: project.id, name: "rate-limited" } } }];
    const limited = [429, "2", { errors: [{ message: "Rate limit exceeded" }] }];
    expect(answers).toEqual([ok, ok, limited, ok, ok, limited]);

    server.reset();
    const sleeps: number[] = [];
    const client = new RailwayClient({
      token,
      endpoint: server.url,
      sleep: async (ms) => {
        sleeps.push(ms);
      },
    });
    for (let i = 0; i < 3; i++) {
      await expect(client.request("Project", { id: project.id })).resolves.toEqual({
        project: {
          id: project.id,
          name: "rate-limited",
          description: null,
          workspaceId: expect.any(String),
        },
      });
    }
    expect(sleeps).toEqual([2000]);
    expect(server.count("Project")).toBe(4);
  });

  it("answers every n-th request with a 5xx when asked", async () => {
    const { project } = server.seedProject("overloaded");
    server.rateLimit = undefined;
    server.serverErrors = { every: 2, status: 502 };
    server.reset();
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++)
      statuses.push((await post(server, PROJECT, { id: project.id })).status);
    expect(statuses).toEqual([200, 502, 200, 502]);
    server.serverErrors = undefined;
  });
});

describe("with the runtime: Railway's Postgres SSL image", () => {
  const runtime = new LocalServiceRuntime();
  const server = useStandIn({
    runtime,
    deploymentPhases: PHASES,
  });
  const password = `pw-${randomUUID()}`;
  const pids: number[] = [];

  async function createPostgres(name: string, variables: Record<string, string>) {
    const { project, environment } = server.seedProject(name);
    const { serviceCreate } = await gql<{ serviceCreate: { id: string } }>(server, SERVICE_CREATE, {
      input: {
        projectId: project.id,
        environmentId: environment.id,
        name: "postgres",
        source: { image: RAILWAY_POSTGRES_SSL_IMAGE },
        variables,
      },
    });
    const serviceId = serviceCreate.id;
    await gql(server, VOLUME_CREATE, {
      input: {
        projectId: project.id,
        environmentId: environment.id,
        serviceId,
        mountPath: POSTGRES_MOUNT_PATH,
      },
    });
    return { project, environment, serviceId };
  }

  function pgClient(port: number, options: { password?: string; ssl?: boolean } = {}) {
    return new Client({
      host: "127.0.0.1",
      port,
      user: "postgres",
      password: options.password ?? password,
      database: "railway",
      ssl: options.ssl === false ? false : { rejectUnauthorized: false },
      connectionTimeoutMillis: 10_000,
    });
  }

  it("serves TLS through the proxy once a deployment after the proxy succeeded, as a non-superuser admin", async () => {
    const { environment, serviceId } = await createPostgres("pg-proxy", {
      POSTGRES_USER: "postgres",
      POSTGRES_PASSWORD: password,
      POSTGRES_DB: "railway",
      PGDATA: POSTGRES_PGDATA,
    });
    const { tcpProxyCreate: proxy } = await gql<{
      tcpProxyCreate: { domain: string; proxyPort: number; applicationPort: number };
    }>(server, TCP_PROXY_CREATE, {
      input: { environmentId: environment.id, serviceId, applicationPort: 5432 },
    });
    expect(proxy).toMatchObject({ domain: "127.0.0.1", applicationPort: 5432 });

    // serviceCreate's deployment may run, but it came before the proxy: the edge resets.
    await server.waitForDeployment(latestDeploymentId(server, environment.id, serviceId));
    expect(await connectionOutcome(proxy.proxyPort)).toBe("ECONNRESET");
    await expect(pgClient(proxy.proxyPort).connect()).rejects.toMatchObject({
      code: "ECONNRESET",
    });

    const id = await deploy(server, environment.id, serviceId);
    expect(await pollStatuses(server, id)).toEqual(["QUEUED", "BUILDING", "DEPLOYING", "SUCCESS"]);

    const client = pgClient(proxy.proxyPort);
    await client.connect();
    try {
      const ssl = await client.query("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()");
      expect(ssl.rows).toEqual([{ ssl: true }]);
      const certificate = (
        client as unknown as { connection: { stream: TLSSocket } }
      ).connection.stream.getPeerCertificate();
      expect(certificate.subject.CN).toBe("localhost");
      expect(certificate.issuer.CN).toBe("root-ca");
      expect(certificate.subjectaltname).toBe("DNS:localhost, DNS:postgres.railway.internal");

      const role = await client.query(
        "SELECT current_database() AS db, rolsuper, rolcreaterole, rolcreatedb FROM pg_roles WHERE rolname = current_user",
      );
      expect(role.rows).toEqual([
        { db: "railway", rolsuper: false, rolcreaterole: true, rolcreatedb: true },
      ]);
      await expect(client.query("CREATE ROLE boss SUPERUSER")).rejects.toThrow(
        "must be superuser to create superusers",
      );
      // What the stack's roles need: roles, a database, grants on what it created.
      await client.query("CREATE ROLE synter_migrator NOLOGIN");
      await client.query("CREATE ROLE synter_app LOGIN PASSWORD 'app-pw'");
      await client.query("GRANT synter_migrator TO synter_app");
      await client.query("CREATE DATABASE synter");
      await client.query("GRANT CONNECT ON DATABASE synter TO synter_app");
      await client.query("CREATE TABLE kept (v text)");
      await client.query("GRANT SELECT ON kept TO synter_app");
      await client.query("INSERT INTO kept VALUES ('before the redeploy')");
      const members = await client.query(
        "SELECT r.rolname AS role, m.rolname AS member FROM pg_auth_members a " +
          "JOIN pg_roles r ON r.oid = a.roleid JOIN pg_roles m ON m.oid = a.member " +
          "WHERE m.rolname = 'synter_app'",
      );
      expect(members.rows).toEqual([{ role: "synter_migrator", member: "synter_app" }]);
    } finally {
      await client.end();
    }

    // The image accepts plain TCP too, with the password.
    const plain = pgClient(proxy.proxyPort, { ssl: false });
    await plain.connect();
    expect(
      (await plain.query("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")).rows,
    ).toEqual([{ ssl: false }]);
    await plain.end();
    await expect(pgClient(proxy.proxyPort, { password: "wrong" }).connect()).rejects.toThrow(
      'password authentication failed for user "postgres"',
    );

    // Railway's private network: postgres.railway.internal:5432 is the running server.
    const key = `${environment.id}/${serviceId}`;
    const running = runtime.running(key)!;
    pids.push(running.pid!);
    expect(server.privateEndpoint("postgres.railway.internal", 5432, environment.id)).toEqual({
      host: "127.0.0.1",
      port: running.port,
    });
    expect(() => server.privateEndpoint("postgres.railway.internal", 5433, environment.id)).toThrow(
      "postgres.railway.internal:5433 refuses connections: the service listens on port 5432",
    );
    expect(() => server.privateEndpoint("nope.railway.internal", 5432)).toThrow(
      "nope.railway.internal is the private domain of no service",
    );

    // A redeploy restarts the server on the same volume: the data is still there.
    await gql(server, REDEPLOY, { environmentId: environment.id, serviceId });
    const redeployed = latestDeploymentId(server, environment.id, serviceId);
    expect(await pollStatuses(server, redeployed)).toEqual([
      "QUEUED",
      "BUILDING",
      "DEPLOYING",
      "SUCCESS",
    ]);
    expect(statusOf(server, id)).toBe("REMOVED");
    const restarted = runtime.running(key)!;
    pids.push(restarted.pid!);
    expect(restarted.pid).not.toBe(running.pid);
    // The runtime asks for the same local port again, so private addresses survive a redeploy.
    expect(restarted.port).toBe(running.port);
    expect(isAlive(running.pid!)).toBe(false);
    const after = pgClient(proxy.proxyPort);
    await after.connect();
    expect((await after.query("SELECT v FROM kept")).rows).toEqual([{ v: "before the redeploy" }]);
    await after.end();
  });

  it("crashes without POSTGRES_PASSWORD or with PGDATA at the volume root, as the image does", async () => {
    const noPassword = await createPostgres("pg-no-password", { PGDATA: POSTGRES_PGDATA });
    const id = await deploy(server, noPassword.environment.id, noPassword.serviceId);
    expect((await server.waitForDeployment(id)).failure).toEqual({
      message:
        "Error: Database is uninitialized and superuser password is not specified. " +
        "You must specify POSTGRES_PASSWORD to a non-empty value for the superuser.",
      log: "",
    });
    expect(statusOf(server, id)).toBe("CRASHED");

    const atRoot = await createPostgres("pg-at-root", {
      POSTGRES_PASSWORD: password,
      PGDATA: POSTGRES_MOUNT_PATH,
    });
    const rootId = await deploy(server, atRoot.environment.id, atRoot.serviceId);
    const row = await server.waitForDeployment(rootId);
    expect([row.status, row.failure?.message]).toEqual([
      "CRASHED",
      `initdb: error: directory "${POSTGRES_MOUNT_PATH}" exists but is not empty ` +
        "(a volume's root holds lost+found: point PGDATA at a subdirectory of the mount path)",
    ]);
  });

  it("fails a deployment of an image it cannot run", async () => {
    const { project, environment } = server.seedProject("unsupported");
    const service = server.seedService(project.id, "web", "nginx:1");
    const id = latestDeploymentId(server, environment.id, service.id);
    const row = await server.waitForDeployment(id);
    expect([row.status, row.failure?.message]).toEqual([
      "FAILED",
      "image not supported by the rehearsal runtime: nginx:1 " +
        `(it runs ${RAILWAY_POSTGRES_SSL_IMAGE} and ${REDIS_IMAGE})`,
    ]);
  });

  it("stops every server and removes its directories on stop()", async () => {
    expect(pids.length).toBeGreaterThan(0);
    const rootDir = runtime.rootDir!;
    expect(existsSync(rootDir)).toBe(true);
    await server.stop();
    expect(pids.filter(isAlive)).toEqual([]);
    expect(existsSync(rootDir)).toBe(false);
  });
});

describe("servers of a rehearsal that is killed", () => {
  it("die with it: a reaper kills their process groups when the rehearsal's process is gone", async () => {
    const dir = mkdtempSync(join(tmpdir(), "synter-reaper-test-"));
    try {
      const script = join(dir, "spawn-and-wait.ts");
      const processGroup = join(REPO_ROOT, "src/rehearse/process-group");
      writeFileSync(
        script,
        `import { spawnGroup } from ${JSON.stringify(processGroup)};\n` +
          'const child = spawnGroup("sleep", ["300"], { env: { PATH: process.env.PATH } });\n' +
          "process.stdout.write(`${child.pid}\\n`);\n" +
          "setInterval(() => undefined, 1000);\n",
      );
      const rehearsal = spawn(process.execPath, ["--require", "tsx/cjs", script], {
        cwd: REPO_ROOT,
        stdio: ["ignore", "pipe", "inherit"],
      });
      const pid = await new Promise<number>((resolve, reject) => {
        rehearsal.stdout.once("data", (chunk: Buffer) => resolve(Number(chunk.toString())));
        rehearsal.once("exit", (code) => reject(new Error(`the script exited with ${code}`)));
      });
      rehearsal.stdout.destroy();
      expect(isAlive(pid)).toBe(true);
      rehearsal.kill("SIGKILL");
      await until(() => !isAlive(pid), 5000);
      expect(isAlive(pid)).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("a start command", () => {
  it("is split into words as Railway does, without a shell", () => {
    expect(splitStartCommand(REDIS_START_COMMAND)).toEqual([
      "/bin/sh",
      "-c",
      'exec redis-server --requirepass "$REDIS_PASSWORD" --appendonly yes ' +
        "--appendfsync everysec --maxmemory-policy noeviction --dir /data",
    ]);
    expect(splitStartCommand(`a "b \\"c\\" $d" e\\ f  && g`)).toEqual([
      "a",
      'b "c" $d',
      "e f",
      "&&",
      "g",
    ]);
    expect(() => splitStartCommand("sh -c 'x")).toThrow(
      "the start command has an unterminated ' quote: sh -c 'x",
    );
  });
});

describeWithBinaries(["redis-server"])("with the runtime: redis:7 from its start command", () => {
  const runtime = new LocalServiceRuntime();
  const server = useStandIn({
    runtime,
    deploymentPhases: PHASES,
  });
  const password = `pw-${randomUUID()}`;
  const pids: number[] = [];

  async function createRedis(name: string, startCommand: string) {
    const { project, environment } = server.seedProject(name);
    const { serviceCreate } = await gql<{ serviceCreate: { id: string } }>(server, SERVICE_CREATE, {
      input: {
        projectId: project.id,
        environmentId: environment.id,
        name: "redis",
        source: { image: REDIS_IMAGE },
        variables: { REDIS_PASSWORD: password },
      },
    });
    const serviceId = serviceCreate.id;
    await gql(server, SERVICE_INSTANCE_UPDATE, {
      serviceId,
      environmentId: environment.id,
      input: { startCommand },
    });
    const { volumeCreate } = await gql<{ volumeCreate: { id: string } }>(server, VOLUME_CREATE, {
      input: {
        projectId: project.id,
        environmentId: environment.id,
        serviceId,
        mountPath: REDIS_MOUNT_PATH,
      },
    });
    const volumeInstance = [...server.state.volumeInstances.values()].find(
      (v) => v.volumeId === volumeCreate.id,
    )!;
    return { environment, serviceId, volumeInstance };
  }

  function redisClient(port: number, secret: string | null = password): Redis {
    return new Redis({
      host: "127.0.0.1",
      port,
      password: secret ?? undefined,
      // Its ready check (INFO) would fail without the password and close the connection.
      enableReadyCheck: secret !== null,
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
  }

  it("runs the start command with the service's variables, on the volume, behind the proxy", async () => {
    const { environment, serviceId, volumeInstance } = await createRedis(
      "redis-proxy",
      REDIS_START_COMMAND,
    );
    const { tcpProxyCreate: proxy } = await gql<{ tcpProxyCreate: { proxyPort: number } }>(
      server,
      TCP_PROXY_CREATE,
      { input: { environmentId: environment.id, serviceId, applicationPort: 6379 } },
    );
    const id = await deploy(server, environment.id, serviceId);
    expect(await pollStatuses(server, id)).toEqual(["QUEUED", "BUILDING", "DEPLOYING", "SUCCESS"]);
    const key = `${environment.id}/${serviceId}`;
    pids.push(runtime.running(key)!.pid!);

    const client = redisClient(proxy.proxyPort);
    await client.connect();
    try {
      expect(await client.set("job", "queued")).toBe("OK");
      expect(await client.config("GET", "maxmemory-policy")).toEqual([
        "maxmemory-policy",
        "noeviction",
      ]);
      expect(await client.config("GET", "appendonly")).toEqual(["appendonly", "yes"]);
      expect(await client.config("GET", "appendfsync")).toEqual(["appendfsync", "everysec"]);
      expect(await client.config("GET", "dir")).toEqual([
        "dir",
        runtime.volumeDir(volumeInstance.id),
      ]);
    } finally {
      client.disconnect();
    }
    // Without the password nothing is served, and a wrong one is refused.
    const stranger = redisClient(proxy.proxyPort, null);
    await stranger.connect();
    try {
      await expect(stranger.get("job")).rejects.toThrow(/^NOAUTH Authentication required/);
      await expect(stranger.auth("wrong")).rejects.toThrow(
        /^WRONGPASS invalid username-password pair/,
      );
    } finally {
      stranger.disconnect();
    }
    expect(server.privateEndpoint("redis.railway.internal", 6379)).toEqual({
      host: "127.0.0.1",
      port: runtime.running(key)!.port,
    });

    // A redeploy restarts redis on the same volume: the AOF brings the key back.
    const redeployed = await deploy(server, environment.id, serviceId);
    expect((await server.waitForDeployment(redeployed)).status).toBe("SUCCESS");
    expect(runtime.running(key)!.pid).not.toBe(pids[0]);
    expect(server.privateEndpoint("redis.railway.internal", 6379).port).toBe(
      runtime.running(key)!.port,
    );
    pids.push(runtime.running(key)!.pid!);
    const after = redisClient(proxy.proxyPort);
    await after.connect();
    expect(await after.get("job")).toBe("queued");
    after.disconnect();

    // The server dies: the deployment becomes CRASHED and the proxy resets connections.
    process.kill(runtime.running(key)!.pid!, "SIGKILL");
    for (let i = 0; i < 200 && statusOf(server, redeployed) === "SUCCESS"; i++) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect(server.state.deployments.get(redeployed)).toMatchObject({
      status: "CRASHED",
      failure: { message: "the server exited (killed by SIGKILL)" },
    });
    expect(await connectionOutcome(proxy.proxyPort)).toBe("ECONNRESET");
  });

  it("crashes a deployment whose server does not start, keeping its log", async () => {
    const { environment, serviceId } = await createRedis(
      "redis-bad-option",
      "redis-server --no-such-option yes",
    );
    const id = await deploy(server, environment.id, serviceId);
    const row = await server.waitForDeployment(id);
    expect(row.status).toBe("CRASHED");
    expect(row.failure!.message).toMatch(
      /^Redis did not start: the server exited before listening \(exit code 1\)$/,
    );
    expect(row.failure!.log).toContain("Bad directive or wrong number of arguments");
    expect(row.failure!.log).toContain("no-such-option");
  });

  it("stops every server and removes its directories on stop()", async () => {
    const { environment, serviceId } = await createRedis("redis-stop", REDIS_START_COMMAND);
    const id = await deploy(server, environment.id, serviceId);
    expect((await server.waitForDeployment(id)).status).toBe("SUCCESS");
    const pid = runtime.running(`${environment.id}/${serviceId}`)!.pid!;
    expect(isAlive(pid)).toBe(true);
    pids.push(pid);
    const rootDir = runtime.rootDir!;
    expect(existsSync(rootDir)).toBe(true);
    await server.stop();
    expect(pids.filter(isAlive)).toEqual([]);
    expect(existsSync(rootDir)).toBe(false);
  });
});
