/**
 * The provider classes' create / read / diff / update / delete against the stand-in server
 * (Railway's real schema, in-memory state): full lifecycles, adoption of what an interrupted
 * run left behind, and no duplicates when a create's response is lost.
 */
import { randomUUID } from "node:crypto";
import {
  POSTGRES_MOUNT_PATH,
  POSTGRES_PGDATA,
  RAILWAY_POSTGRES_SSL_IMAGE,
  REDIS_IMAGE,
  REDIS_MOUNT_PATH,
  REDIS_START_COMMAND,
  RailwayPostgresProvider,
  RailwayRedisProvider,
  railwayPrivateHost,
  type RailwayPostgresInputs,
  type RailwayPostgresOutputs,
  type RailwayRedisInputs,
} from "../../infra/railway/database-service-provider";
import { RailwayApiError } from "../../infra/railway/client";
import { RailwayProjectProvider } from "../../infra/railway/project-provider";
import { PULUMI_UNKNOWN, type RailwayProviderOptions } from "../../infra/railway/provider-base";
import { RailwayTcpProxyProvider } from "../../infra/railway/tcp-proxy-provider";
import { RailwayVariablesProvider } from "../../infra/railway/variables-provider";
import { RailwayStandInServer } from "./stand-in-server";

const token = `test-token-${randomUUID()}`;
const server = new RailwayStandInServer(token);
const logs: string[] = [];

beforeAll(() => server.start());
afterAll(() => server.stop());
beforeEach(() => {
  server.reset();
  server.pageSizeCap = 100;
  logs.length = 0;
  probes.length = 0;
  probeAnswers = [];
});

/** Endpoints probed by the providers, answered by `probeAnswers` (true: up). */
const probes: string[] = [];
let probeAnswers: boolean[] = [];

function options(): RailwayProviderOptions {
  return {
    token,
    endpoint: server.url,
    retry: { maxAttempts: 3 },
    // Deployments take real time on the stand-in: poll often, but do not spin.
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, Math.min(ms, 20))),
    random: () => 0,
    log: (line) => logs.push(line),
    probe: async (host, port, protocol) => {
      probes.push(`${protocol} ${host}:${port}`);
      return probeAnswers.shift() ?? true;
    },
  };
}

/** Every setting as the program's defaults fill them in (infra/railway/resources.ts). */
function postgresInputs(
  overrides: Partial<RailwayPostgresInputs> & { projectId: string; environmentId: string },
): RailwayPostgresInputs {
  return {
    serviceName: "postgres",
    image: RAILWAY_POSTGRES_SSL_IMAGE,
    mountPath: POSTGRES_MOUNT_PATH,
    port: 5432,
    drainingSeconds: 60,
    readyTimeoutSeconds: 30,
    user: "postgres",
    password: "pw",
    database: "railway",
    dataDirectory: POSTGRES_PGDATA,
    ...overrides,
  };
}

function redisInputs(
  overrides: Partial<RailwayRedisInputs> & { projectId: string; environmentId: string },
): RailwayRedisInputs {
  return {
    serviceName: "redis",
    image: REDIS_IMAGE,
    mountPath: REDIS_MOUNT_PATH,
    port: 6379,
    drainingSeconds: 60,
    readyTimeoutSeconds: 30,
    startCommand: REDIS_START_COMMAND,
    password: "pw",
    ...overrides,
  };
}

/** Operations sent, without the deployment polls (their number depends on timing). */
function operationsWithoutPolls(): string[] {
  return server.operations().filter((operation) => operation !== "RailwayDeployment");
}

function servicesNamed(projectId: string, name: string) {
  return [...server.state.services.values()].filter(
    (service) => service.projectId === projectId && service.name === name,
  );
}

function volumesOf(environmentId: string, serviceId: string) {
  return [...server.state.volumeInstances.values()].filter(
    (instance) => instance.environmentId === environmentId && instance.serviceId === serviceId,
  );
}

describe("RailwayProjectProvider", () => {
  it("creates a project with its environment, renames in place, deletes it", async () => {
    const provider = new RailwayProjectProvider(options());
    const created = await provider.create({
      name: `synter-${randomUUID()}`,
      environmentName: "staging",
    });
    const project = server.state.projects.get(created.id)!;
    const environments = [...server.state.environments.values()].filter(
      (e) => e.projectId === created.id,
    );
    expect(environments.map((e) => e.name)).toEqual(["staging"]);
    expect(created.outs).toEqual({
      projectId: created.id,
      projectName: project.name,
      environmentId: environments[0].id,
      environmentName: "staging",
      name: project.name,
      description: null,
      workspaceId: null,
      existingProjectId: null,
      existingEnvironmentId: null,
      ownsProject: true,
      ownsEnvironment: false,
    });
    expect(server.count("ProjectCreate")).toBe(1);
    expect(server.count("EnvironmentCreate")).toBe(0);

    const read = await provider.read(created.id, created.outs);
    expect(read).toEqual({ id: created.id, props: created.outs });
    expect(
      await provider.diff(created.id, created.outs, {
        name: project.name,
        environmentName: "staging",
      }),
    ).toEqual({
      changes: false,
      replaces: [],
      deleteBeforeReplace: false,
    });

    const renamed = { name: "synter-renamed", description: "Synter", environmentName: "stage" };
    expect(await provider.diff(created.id, created.outs, renamed)).toEqual({
      changes: true,
      replaces: [],
      deleteBeforeReplace: false,
    });
    const updated = await provider.update(created.id, created.outs, renamed);
    expect(server.state.projects.get(created.id)).toMatchObject({
      name: "synter-renamed",
      description: "Synter",
    });
    expect(server.state.environments.get(environments[0].id)!.name).toBe("stage");
    expect(updated.outs).toMatchObject({
      projectName: "synter-renamed",
      environmentName: "stage",
      description: "Synter",
    });

    expect(
      await provider.diff(created.id, updated.outs!, {
        ...renamed,
        workspaceId: "workspace-other",
      }),
    ).toEqual({ changes: true, replaces: ["workspaceId"], deleteBeforeReplace: false });

    await provider.delete(created.id, updated.outs!);
    expect(server.state.projects.has(created.id)).toBe(false);
    expect(server.state.environments.has(environments[0].id)).toBe(false);
    expect(await provider.read(created.id, updated.outs!)).toEqual({});
    // A second delete (a destroy re-run) finds nothing and succeeds.
    await provider.delete(created.id, updated.outs!);
  });

  it("adopts an existing project and environment by id and never deletes them", async () => {
    const { project, environment } = server.seedProject("team-app", "production");
    const provider = new RailwayProjectProvider(options());
    const inputs = { existingProjectId: project.id, existingEnvironmentId: environment.id };
    const created = await provider.create(inputs);
    expect(created.id).toBe(project.id);
    expect(created.outs).toMatchObject({
      projectName: "team-app",
      environmentId: environment.id,
      ownsProject: false,
      ownsEnvironment: false,
    });
    expect(server.count("ProjectCreate") + server.count("EnvironmentCreate")).toBe(0);
    // Name and description of an adopted project are not managed.
    expect(await provider.diff(project.id, created.outs, { ...inputs, name: "other" })).toEqual({
      changes: false,
      replaces: [],
      deleteBeforeReplace: false,
    });
    expect(
      await provider.diff(project.id, created.outs, { existingProjectId: "project-other" }),
    ).toEqual({
      changes: true,
      replaces: ["existingProjectId", "existingEnvironmentId"],
      deleteBeforeReplace: false,
    });
    await provider.delete(project.id, created.outs);
    expect(server.state.projects.has(project.id)).toBe(true);
    expect(server.state.environments.has(environment.id)).toBe(true);
    expect(server.operations().filter((op) => op.endsWith("Delete"))).toEqual([]);
  });

  it("creates a missing environment in an adopted project and deletes only that", async () => {
    const { project, environment } = server.seedProject("team-app-2", "production");
    const provider = new RailwayProjectProvider(options());
    const created = await provider.create({
      existingProjectId: project.id,
      environmentName: "pr-42",
    });
    expect(created.outs.ownsProject).toBe(false);
    expect(created.outs.ownsEnvironment).toBe(true);
    expect(server.state.environments.get(created.outs.environmentId)!.name).toBe("pr-42");
    await provider.delete(project.id, created.outs);
    expect(server.state.environments.has(created.outs.environmentId)).toBe(false);
    expect(server.state.environments.has(environment.id)).toBe(true);
    expect(server.state.projects.has(project.id)).toBe(true);
  });

  it("rejects an environment of another project and lists every input problem", async () => {
    const a = server.seedProject("project-a");
    const b = server.seedProject("project-b");
    const provider = new RailwayProjectProvider(options());
    await expect(
      provider.create({ existingProjectId: a.project.id, existingEnvironmentId: b.environment.id }),
    ).rejects.toThrow(
      `RailwayProject: environment ${b.environment.id} belongs to project ${b.project.id}, not ${a.project.id}.`,
    );
    expect(await provider.check({}, { existingEnvironmentId: "env-1" })).toEqual({
      inputs: { existingEnvironmentId: "env-1" },
      failures: [
        {
          property: "name",
          reason:
            "RailwayProject: `name` is required when no `existingProjectId` is given; " +
            "`existingEnvironmentId` needs `existingProjectId` (the project it belongs to).",
        },
      ],
    });
  });

  it("adopts the project whose create response was lost instead of creating a second one", async () => {
    const name = `lost-${randomUUID()}`;
    server.inject({ operation: "ProjectCreate", status: 502, afterExecute: true });
    const provider = new RailwayProjectProvider(options());
    const created = await provider.create({ name });
    const named = [...server.state.projects.values()].filter((p) => p.name === name);
    expect(named.map((p) => p.id)).toEqual([created.id]);
    expect(server.count("ProjectCreate")).toBe(1);
    expect(created.outs.ownsProject).toBe(true);
  });
});

describe("RailwayPostgresProvider", () => {
  it("runs the full lifecycle: create, read, diff, update in place, replace, delete", async () => {
    const { project, environment } = server.seedProject("pg-lifecycle");
    const provider = new RailwayPostgresProvider(options());
    const inputs = postgresInputs({
      projectId: project.id,
      environmentId: environment.id,
      password: "pw-1",
    });
    const created = await provider.create(inputs);
    const serviceId = created.id;

    expect(server.state.services.get(serviceId)).toEqual({
      id: serviceId,
      name: "postgres",
      projectId: project.id,
    });
    expect(server.instanceOf(environment.id, serviceId)).toMatchObject({
      image: RAILWAY_POSTGRES_SSL_IMAGE,
      startCommand: null,
    });
    expect(server.variablesOf(project.id, environment.id, serviceId)).toEqual({
      POSTGRES_USER: "postgres",
      POSTGRES_PASSWORD: "pw-1",
      POSTGRES_DB: "railway",
      PGDATA: POSTGRES_PGDATA,
      RAILWAY_DEPLOYMENT_DRAINING_SECONDS: "60",
    });
    const volumes = volumesOf(environment.id, serviceId);
    expect(volumes.map((v) => v.mountPath)).toEqual(["/var/lib/postgresql/data"]);
    expect(RAILWAY_POSTGRES_SSL_IMAGE).toBe("ghcr.io/railwayapp-templates/postgres-ssl:15");
    expect(created.outs).toEqual({
      serviceId,
      volumeId: volumes[0].volumeId,
      projectId: project.id,
      environmentId: environment.id,
      serviceName: "postgres",
      image: RAILWAY_POSTGRES_SSL_IMAGE,
      mountPath: "/var/lib/postgresql/data",
      startCommand: null,
      variables: server.variablesOf(project.id, environment.id, serviceId),
      privateHost: "postgres.railway.internal",
      port: 5432,
      user: "postgres",
      password: "pw-1",
      database: "railway",
      dataDirectory: POSTGRES_PGDATA,
      drainingSeconds: 60,
      readyTimeoutSeconds: 30,
      deploymentId: created.outs.deploymentId,
    });
    // Create returns once its own deployment succeeded (Railway answers the deploy at once).
    expect(server.state.deployments.get(created.outs.deploymentId)?.status).toBe("SUCCESS");
    expect(operationsWithoutPolls()).toEqual([
      "ProjectServices",
      "ServiceCreate",
      "EnvironmentVolumeInstances",
      "VolumeCreate",
      "ServiceInstanceDeploy",
      "TcpProxies",
    ]);

    expect(await provider.read(serviceId, created.outs)).toEqual({
      id: serviceId,
      props: created.outs,
    });
    expect(await provider.diff(serviceId, created.outs, inputs)).toEqual({
      changes: false,
      replaces: [],
      deleteBeforeReplace: false,
    });

    const rotated = {
      ...inputs,
      password: "pw-2",
      database: "synter",
      image: "ghcr.io/railwayapp-templates/postgres-ssl:15.8",
    };
    expect(await provider.diff(serviceId, created.outs, rotated)).toEqual({
      changes: true,
      replaces: [],
      deleteBeforeReplace: false,
    });
    server.reset();
    const updated = await provider.update(serviceId, created.outs, rotated);
    expect(server.variablesOf(project.id, environment.id, serviceId)).toMatchObject({
      POSTGRES_PASSWORD: "pw-2",
      POSTGRES_DB: "synter",
    });
    expect(server.instanceOf(environment.id, serviceId)!.image).toBe(
      "ghcr.io/railwayapp-templates/postgres-ssl:15.8",
    );
    expect(operationsWithoutPolls()).toEqual([
      "ServiceInstanceUpdate",
      "VariableCollectionUpsert",
      "ServiceInstanceDeploy",
      "TcpProxies",
    ]);
    expect(server.state.deployments.get(updated.outs.deploymentId)?.status).toBe("SUCCESS");
    expect(updated.outs.deploymentId).not.toBe(created.outs.deploymentId);
    // Only the changed variables are sent, without a deploy of their own.
    expect(server.requests[1].variables).toEqual({
      input: {
        projectId: project.id,
        environmentId: environment.id,
        serviceId,
        variables: { POSTGRES_PASSWORD: "pw-2", POSTGRES_DB: "synter" },
        replace: false,
        skipDeploys: true,
      },
    });
    expect(updated.outs).toMatchObject({
      password: "pw-2",
      database: "synter",
      volumeId: created.outs.volumeId,
    });

    // Moving to another environment or project is a new service: replace, deleting first.
    expect(
      await provider.diff(serviceId, updated.outs!, { ...rotated, environmentId: "env-other" }),
    ).toEqual({
      changes: true,
      replaces: ["environmentId"],
      deleteBeforeReplace: true,
    });
    // During preview an unknown project id means "may change": a replacement.
    expect(
      await provider.diff(serviceId, updated.outs!, { ...rotated, projectId: PULUMI_UNKNOWN }),
    ).toEqual({
      changes: true,
      replaces: ["projectId"],
      deleteBeforeReplace: true,
    });

    await provider.delete(serviceId, updated.outs!);
    expect(server.state.services.has(serviceId)).toBe(false);
    expect(server.state.volumes.has(created.outs.volumeId)).toBe(false);
    expect(volumesOf(environment.id, serviceId)).toEqual([]);
    expect(await provider.read(serviceId, updated.outs!)).toEqual({});
    await provider.delete(serviceId, updated.outs!);
  });

  it("sees drift on read: a variable changed in Railway's UI shows up as a diff", async () => {
    const { project, environment } = server.seedProject("pg-drift");
    const provider = new RailwayPostgresProvider(options());
    const inputs = postgresInputs({ projectId: project.id, environmentId: environment.id });
    const created = await provider.create(inputs);
    server.setVariable(
      project.id,
      environment.id,
      created.id,
      "POSTGRES_PASSWORD",
      "typed-by-hand",
    );
    server.setVariable(project.id, environment.id, created.id, "UNMANAGED", "x");
    const read = await provider.read(created.id, created.outs);
    const props = read.props as RailwayPostgresOutputs;
    expect(props.variables.POSTGRES_PASSWORD).toBe("typed-by-hand");
    expect(props.variables).not.toHaveProperty("UNMANAGED");
    expect(await provider.diff(created.id, props, inputs)).toEqual({
      changes: true,
      replaces: [],
      deleteBeforeReplace: false,
    });
  });

  it("adopts the service an interrupted run left (no volume yet) without a duplicate", async () => {
    const { project, environment } = server.seedProject("pg-partial");
    const provider = new RailwayPostgresProvider(options());
    const inputs = postgresInputs({ projectId: project.id, environmentId: environment.id });
    // The run dies at the volume: Railway keeps failing until the retries are spent.
    server.inject({ operation: "VolumeCreate", status: 500, times: 3 });
    const failure = await provider.create(inputs).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(RailwayApiError);
    expect((failure as RailwayApiError).message).toBe(
      "Railway VolumeCreate failed: HTTP 500: Internal server error",
    );
    expect(servicesNamed(project.id, "postgres")).toHaveLength(1);
    const [leftover] = servicesNamed(project.id, "postgres");
    expect(volumesOf(environment.id, leftover.id)).toEqual([]);

    server.reset();
    const created = await provider.create(inputs);
    expect(created.id).toBe(leftover.id);
    expect(servicesNamed(project.id, "postgres")).toHaveLength(1);
    expect(server.count("ServiceCreate")).toBe(0);
    expect(volumesOf(environment.id, leftover.id).map((v) => v.mountPath)).toEqual([
      "/var/lib/postgresql/data",
    ]);
    expect(server.variablesOf(project.id, environment.id, leftover.id).POSTGRES_PASSWORD).toBe(
      "pw",
    );
  });

  it("finds the service whose create response was lost instead of creating it twice", async () => {
    const { project, environment } = server.seedProject("pg-lost");
    server.inject({ operation: "ServiceCreate", status: 502, afterExecute: true });
    const provider = new RailwayPostgresProvider(options());
    const created = await provider.create(
      postgresInputs({ projectId: project.id, environmentId: environment.id, password: "pw" }),
    );
    expect(servicesNamed(project.id, "postgres").map((s) => s.id)).toEqual([created.id]);
    expect(server.count("ServiceCreate")).toBe(1);
    expect(volumesOf(environment.id, created.id)).toHaveLength(1);
  });

  it("walks paginated service lists to find an existing service", async () => {
    const { project, environment } = server.seedProject("pg-pages");
    for (const name of ["api", "workers", "cron", "web"]) server.seedService(project.id, name);
    const existing = server.seedService(project.id, "postgres", RAILWAY_POSTGRES_SSL_IMAGE);
    server.pageSizeCap = 2;
    const provider = new RailwayPostgresProvider(options());
    const created = await provider.create(
      postgresInputs({ projectId: project.id, environmentId: environment.id, password: "pw" }),
    );
    expect(created.id).toBe(existing.id);
    expect(server.count("ProjectServices")).toBe(3);
    expect(server.count("ServiceCreate")).toBe(0);
  });

  it("shares one service between two environments and deletes it only with the last volume", async () => {
    const { project, environment: production } = server.seedProject("pg-shared");
    const provider = new RailwayPostgresProvider(options());
    const prod = await provider.create(
      postgresInputs({ projectId: project.id, environmentId: production.id, password: "prod-pw" }),
    );
    const staging = (
      await new RailwayProjectProvider(options()).create({
        existingProjectId: project.id,
        environmentName: "staging",
      })
    ).outs;
    const stage = await provider.create(
      postgresInputs({
        projectId: project.id,
        environmentId: staging.environmentId,
        password: "stage-pw",
      }),
    );
    expect(stage.id).toBe(prod.id);
    expect(servicesNamed(project.id, "postgres")).toHaveLength(1);
    expect(server.variablesOf(project.id, staging.environmentId, prod.id).POSTGRES_PASSWORD).toBe(
      "stage-pw",
    );
    expect(server.variablesOf(project.id, production.id, prod.id).POSTGRES_PASSWORD).toBe(
      "prod-pw",
    );

    await provider.delete(stage.id, stage.outs);
    expect(server.state.services.has(prod.id)).toBe(true);
    expect(volumesOf(production.id, prod.id)).toHaveLength(1);
    expect(volumesOf(staging.environmentId, prod.id)).toEqual([]);
    expect(server.variablesOf(project.id, staging.environmentId, prod.id)).toEqual({});
    expect(server.variablesOf(project.id, production.id, prod.id).POSTGRES_PASSWORD).toBe(
      "prod-pw",
    );

    await provider.delete(prod.id, prod.outs);
    expect(server.state.services.has(prod.id)).toBe(false);
  });

  it("rejects inputs without a password", async () => {
    const provider = new RailwayPostgresProvider(options());
    await expect(
      provider.create(postgresInputs({ projectId: "p", environmentId: "e", password: "" })),
    ).rejects.toThrow("RailwayPostgres: `password` must be a non-empty string.");
    expect(server.requests).toEqual([]);
  });
});

describe("RailwayRedisProvider", () => {
  it("runs the full lifecycle with AOF, noeviction and the password kept out of the start command", async () => {
    const { project, environment } = server.seedProject("redis-lifecycle");
    const provider = new RailwayRedisProvider(options());
    const inputs = redisInputs({
      projectId: project.id,
      environmentId: environment.id,
      password: "s3cret/+",
    });
    const created = await provider.create(inputs);
    const serviceId = created.id;
    const instance = server.instanceOf(environment.id, serviceId)!;
    expect(instance.image).toBe("redis:7");
    expect(instance.startCommand).toBe(
      '/bin/sh -c \'exec redis-server --requirepass "$REDIS_PASSWORD" --appendonly yes ' +
        "--appendfsync everysec --maxmemory-policy noeviction --dir /data'",
    );
    expect(instance.startCommand).not.toContain("s3cret");
    expect(server.variablesOf(project.id, environment.id, serviceId)).toEqual({
      REDIS_PASSWORD: "s3cret/+",
      RAILWAY_DEPLOYMENT_DRAINING_SECONDS: "60",
    });
    expect(volumesOf(environment.id, serviceId).map((v) => v.mountPath)).toEqual(["/data"]);
    expect(created.outs).toMatchObject({
      serviceName: "redis",
      privateHost: "redis.railway.internal",
      port: 6379,
      password: "s3cret/+",
      url: "redis://default:s3cret%2F%2B@redis.railway.internal:6379",
      startCommand: REDIS_START_COMMAND,
    });

    expect(await provider.read(serviceId, created.outs)).toEqual({
      id: serviceId,
      props: created.outs,
    });
    // Someone cleared the start command in the UI: read notices, update restores it.
    server.instanceOf(environment.id, serviceId)!.startCommand = null;
    const drifted = (await provider.read(serviceId, created.outs)).props!;
    expect(await provider.diff(serviceId, drifted, inputs)).toEqual({
      changes: true,
      replaces: [],
      deleteBeforeReplace: false,
    });
    const renamed = { ...inputs, serviceName: "queue" };
    const updated = await provider.update(serviceId, drifted, renamed);
    expect(server.instanceOf(environment.id, serviceId)!.startCommand).toBe(REDIS_START_COMMAND);
    expect(server.state.services.get(serviceId)!.name).toBe("queue");
    // Railway keeps the private DNS name given at creation.
    expect(updated.outs).toMatchObject({
      serviceName: "queue",
      privateHost: "redis.railway.internal",
    });

    await provider.delete(serviceId, updated.outs!);
    expect(server.state.services.has(serviceId)).toBe(false);
    expect(volumesOf(environment.id, serviceId)).toEqual([]);
  });

  it("derives Railway's private host name from the service name", () => {
    expect(railwayPrivateHost("Synter Redis_1")).toBe("synter-redis-1.railway.internal");
  });
});

describe("RailwayTcpProxyProvider", () => {
  it("creates a proxy, waits for the deploy that enables it and for the endpoint, replaces on port change, deletes", async () => {
    const { project, environment } = server.seedProject("proxy-lifecycle");
    const service = server.seedService(project.id, "postgres", RAILWAY_POSTGRES_SSL_IMAGE);
    const provider = new RailwayTcpProxyProvider(options());
    const inputs = {
      environmentId: environment.id,
      serviceId: service.id,
      applicationPort: 5432,
      protocol: "postgres" as const,
      readyTimeoutSeconds: 30,
    };
    const deploysBefore = server.state.deploys.length;
    // The proxy's endpoint refuses twice (the service is still restarting), then answers.
    probeAnswers = [false, false, true];
    const created = await provider.create(inputs);
    const proxy = server.state.tcpProxies.get(created.id)!;
    expect(created.outs).toEqual({
      proxyId: created.id,
      environmentId: environment.id,
      serviceId: service.id,
      applicationPort: 5432,
      domain: proxy.domain,
      proxyPort: proxy.proxyPort,
      endpoint: `${proxy.domain}:${proxy.proxyPort}`,
      protocol: "postgres",
      readyTimeoutSeconds: 30,
    });
    expect(server.state.deploys.slice(deploysBefore)).toEqual([`${environment.id}/${service.id}`]);
    expect(server.deploymentsOf(environment.id, service.id).at(-1)?.status).toBe("SUCCESS");
    expect(probes).toEqual(Array(3).fill(`postgres ${proxy.domain}:${proxy.proxyPort}`));

    expect(await provider.read(created.id, created.outs)).toEqual({
      id: created.id,
      props: created.outs,
    });
    expect(await provider.diff(created.id, created.outs, inputs)).toEqual({
      changes: false,
      replaces: [],
      deleteBeforeReplace: false,
    });
    expect(
      await provider.diff(created.id, created.outs, { ...inputs, applicationPort: 6432 }),
    ).toEqual({
      changes: true,
      replaces: ["applicationPort"],
      deleteBeforeReplace: true,
    });
    // How the provider waits is a setting like any other: changed in place, nothing on Railway.
    const patient = { ...inputs, readyTimeoutSeconds: 900 };
    expect(await provider.diff(created.id, created.outs, patient)).toEqual({
      changes: true,
      replaces: [],
      deleteBeforeReplace: false,
    });
    server.reset();
    expect((await provider.update(created.id, created.outs, patient)).outs).toEqual({
      ...created.outs,
      readyTimeoutSeconds: 900,
    });
    expect(server.operations()).toEqual([]);

    // Re-running create (state lost after Railway made the proxy) adopts the same proxy.
    const again = await provider.create(inputs);
    expect(again.id).toBe(created.id);
    expect(server.state.tcpProxies.size).toBe(1);

    await provider.delete(created.id);
    expect(server.state.tcpProxies.has(created.id)).toBe(false);
    expect(await provider.read(created.id, created.outs)).toEqual({});
  });

  it("rejects a port out of range and an unknown protocol", async () => {
    const provider = new RailwayTcpProxyProvider(options());
    const inputs = {
      environmentId: "e",
      serviceId: "s",
      applicationPort: 5432,
      protocol: "postgres" as const,
      readyTimeoutSeconds: 30,
    };
    await expect(provider.create({ ...inputs, applicationPort: 70000 })).rejects.toThrow(
      "RailwayTcpProxy: `applicationPort` must be an integer port (1-65535), got 70000.",
    );
    await expect(
      provider.create({ ...inputs, protocol: "mysql" as unknown as "tcp" }),
    ).rejects.toThrow(
      "RailwayTcpProxy: `protocol` must be one of postgres, redis, tcp, got mysql.",
    );
    expect(server.requests).toEqual([]);
  });
});

describe("waiting for Railway's deployments", () => {
  it("a deployment that fails fails the create, naming the service, the deployment and its status", async () => {
    const { project, environment } = server.seedProject("pg-failed-deploy");
    server.injectDeploymentFault({ service: "postgres", outcome: "FAILED", times: 5 });
    const provider = new RailwayPostgresProvider(options());
    const failure = (await provider
      .create(postgresInputs({ projectId: project.id, environmentId: environment.id }))
      .catch((error: unknown) => error)) as Error;
    const [service] = servicesNamed(project.id, "postgres");
    const deployment = server.deploymentsOf(environment.id, service.id).at(-1)!;
    expect(deployment.status).toBe("FAILED");
    expect(failure.message).toBe(
      `RailwayPostgres "postgres": deployment ${deployment.id} ended FAILED; read its logs in ` +
        `Railway (railway logs --deployment ${deployment.id}), then run \`pulumi up\` again`,
    );
  });

  it("a deployment that never finishes times out after readyTimeoutSeconds, naming its last status", async () => {
    const { project, environment } = server.seedProject("redis-hung-deploy");
    server.injectDeploymentFault({ service: "redis", outcome: "HANG", times: 5 });
    // A clock that advances 5 s per poll: the 30 s budget is spent in six polls, 100 ms apart in
    // real time — longer than the stand-in takes to reach DEPLOYING.
    let clock = 0;
    const provider = new RailwayRedisProvider({
      ...options(),
      now: () => clock,
      sleep: async () => {
        clock += 5_000;
        await new Promise((resolve) => setTimeout(resolve, 100));
      },
    });
    const failure = (await provider
      .create(redisInputs({ projectId: project.id, environmentId: environment.id }))
      .catch((error: unknown) => error)) as Error;
    const [service] = servicesNamed(project.id, "redis");
    const deployment = server.deploymentsOf(environment.id, service.id).at(-1)!;
    expect(failure.message).toBe(
      `RailwayRedis "redis": deployment ${deployment.id} not ready after 30 s (last status ` +
        "DEPLOYING); look at it in Railway, then run `pulumi up` again (raise readyTimeoutSeconds " +
        "if it is only slow)",
    );
    expect(
      logs.some((line) =>
        line.startsWith(`RailwayRedis "redis": deployment ${deployment.id} DEPLOYING`),
      ),
    ).toBe(true);
  });

  it("an update that redeploys waits too, and probes the service's TCP proxy in its protocol", async () => {
    const { project, environment } = server.seedProject("pg-update-waits");
    const provider = new RailwayPostgresProvider(options());
    const inputs = postgresInputs({ projectId: project.id, environmentId: environment.id });
    const created = await provider.create(inputs);
    const proxyProvider = new RailwayTcpProxyProvider(options());
    const proxy = await proxyProvider.create({
      environmentId: environment.id,
      serviceId: created.id,
      applicationPort: 5432,
      protocol: "postgres",
      readyTimeoutSeconds: 30,
    });
    probes.length = 0;
    probeAnswers = [false, true];
    const updated = await provider.update(created.id, created.outs, {
      ...inputs,
      image: "ghcr.io/railwayapp-templates/postgres-ssl:15.9",
    });
    expect(server.state.deployments.get(updated.outs.deploymentId)?.status).toBe("SUCCESS");
    expect(probes).toEqual(Array(2).fill(`postgres ${proxy.outs.domain}:${proxy.outs.proxyPort}`));
    // A new timeout alone changes how the provider waits, not the service: no deployment.
    server.reset();
    const patient = await provider.update(created.id, updated.outs, {
      ...inputs,
      image: "ghcr.io/railwayapp-templates/postgres-ssl:15.9",
      readyTimeoutSeconds: 900,
    });
    expect(server.operations()).toEqual([]);
    expect(patient.outs.readyTimeoutSeconds).toBe(900);
  });
});

describe("RailwayVariablesProvider", () => {
  it("upserts, updates and deletes only the variables it manages", async () => {
    const { project, environment } = server.seedProject("vars-lifecycle");
    const service = server.seedService(project.id, "api");
    server.setVariable(project.id, environment.id, service.id, "SET_BY_HAND", "keep me");
    const provider = new RailwayVariablesProvider(options());
    const inputs = {
      projectId: project.id,
      environmentId: environment.id,
      serviceId: service.id,
      variables: { POSTGRES_URL: "postgres://a", REDIS_URL: "redis://b" },
    };
    const created = await provider.create(inputs);
    expect(created.id).toBe(`${project.id}/${environment.id}/${service.id}`);
    expect(server.variablesOf(project.id, environment.id, service.id)).toEqual({
      SET_BY_HAND: "keep me",
      POSTGRES_URL: "postgres://a",
      REDIS_URL: "redis://b",
    });
    expect(created.outs).toEqual({
      projectId: project.id,
      environmentId: environment.id,
      serviceId: service.id,
      variables: inputs.variables,
      names: ["POSTGRES_URL", "REDIS_URL"],
      skipDeploys: false,
    });
    expect(server.state.deploys.at(-1)).toBe(`${environment.id}/${service.id}`);

    expect(await provider.read(created.id, created.outs)).toEqual({
      id: created.id,
      props: created.outs,
    });
    expect(await provider.diff(created.id, created.outs, inputs)).toEqual({
      changes: false,
      replaces: [],
      deleteBeforeReplace: false,
    });

    // skipDeploys alone is a change (in place): it decides whether the next upsert redeploys.
    expect(await provider.diff(created.id, created.outs, { ...inputs, skipDeploys: true })).toEqual(
      {
        changes: true,
        replaces: [],
        deleteBeforeReplace: false,
      },
    );

    const next = {
      ...inputs,
      variables: { POSTGRES_URL: "postgres://a", BIGQUERY_DATASET: "synter_analytics" },
    };
    expect(await provider.diff(created.id, created.outs, next)).toEqual({
      changes: true,
      replaces: [],
      deleteBeforeReplace: false,
    });
    server.reset();
    const updated = await provider.update(created.id, created.outs, next);
    expect(server.operations()).toEqual(["VariableDelete", "VariableCollectionUpsert"]);
    expect(server.variablesOf(project.id, environment.id, service.id)).toEqual({
      SET_BY_HAND: "keep me",
      POSTGRES_URL: "postgres://a",
      BIGQUERY_DATASET: "synter_analytics",
    });
    expect(updated.outs!.names).toEqual(["BIGQUERY_DATASET", "POSTGRES_URL"]);

    expect(
      await provider.diff(created.id, updated.outs!, { ...next, serviceId: "service-other" }),
    ).toEqual({
      changes: true,
      replaces: ["serviceId"],
      deleteBeforeReplace: false,
    });

    // A managed variable deleted by hand: read drops it, so the next diff puts it back.
    server.reset();
    const current = server.variablesOf(project.id, environment.id, service.id);
    delete current.POSTGRES_URL;
    server.state.variables.set(`${project.id}/${environment.id}/${service.id}`, current);
    const read = await provider.read(created.id, updated.outs!);
    expect(read.props!.names).toEqual(["BIGQUERY_DATASET"]);
    expect((await provider.diff(created.id, read.props!, next)).changes).toBe(true);

    await provider.delete(created.id, updated.outs!);
    expect(server.variablesOf(project.id, environment.id, service.id)).toEqual({
      SET_BY_HAND: "keep me",
    });
  });

  it("sets shared environment variables when no service is given", async () => {
    const { project, environment } = server.seedProject("vars-shared");
    const provider = new RailwayVariablesProvider(options());
    const created = await provider.create({
      projectId: project.id,
      environmentId: environment.id,
      variables: { NODE_ENV: "production" },
      skipDeploys: true,
    });
    expect(created.id).toBe(`${project.id}/${environment.id}/shared`);
    expect(server.variablesOf(project.id, environment.id)).toEqual({ NODE_ENV: "production" });
  });

  it("rejects invalid variable names, listing each", async () => {
    const provider = new RailwayVariablesProvider(options());
    await expect(
      provider.create({
        projectId: "p",
        environmentId: "e",
        variables: { "BAD-NAME": "x", "1ST": "y" },
      }),
    ).rejects.toThrow(
      'RailwayVariables: variable name "BAD-NAME" is not a valid environment variable name; ' +
        'variable name "1ST" is not a valid environment variable name.',
    );
  });
});

describe("token handling in providers", () => {
  it("fails with a clear message when no token is configured, before any request", async () => {
    const saved = process.env.RAILWAY_TOKEN;
    delete process.env.RAILWAY_TOKEN;
    try {
      const provider = new RailwayVariablesProvider({ endpoint: server.url });
      await expect(
        provider.create({ projectId: "p", environmentId: "e", variables: { A: "b" } }),
      ).rejects.toThrow("No Railway API token: set the secret config `railway:token`");
      expect(server.requests).toEqual([]);
    } finally {
      if (saved !== undefined) process.env.RAILWAY_TOKEN = saved;
    }
  });

  it("reads the token from the stack config handed to configure", async () => {
    const { project, environment } = server.seedProject("vars-config-token");
    const provider = new RailwayVariablesProvider({ endpoint: server.url });
    await provider.configure({
      config: {
        get: (key: string) => (key === "railway:token" ? token : undefined),
        require: () => {
          throw new Error("unused");
        },
      },
    });
    await provider.create({
      projectId: project.id,
      environmentId: environment.id,
      variables: { A: "b" },
    });
    expect(server.requests.map((r) => r.authorization)).toEqual([`Bearer ${token}`]);
    expect(JSON.stringify(provider)).not.toContain(token);
  });
});
