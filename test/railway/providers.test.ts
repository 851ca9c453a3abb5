/**
 * The provider classes' create / read / diff / update / delete against the stand-in server
 * (Railway's real schema, in-memory state): full lifecycles, adoption of what an interrupted
 * run left behind, and no duplicates when a create's response is lost.
 */
import { randomUUID } from "node:crypto";
import {
  POSTGRES_PGDATA,
  RAILWAY_POSTGRES_SSL_IMAGE,
  REDIS_START_COMMAND,
  RailwayPostgresProvider,
  RailwayRedisProvider,
  railwayPrivateHost,
  type RailwayPostgresOutputs,
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
});

function options(): RailwayProviderOptions {
  return {
    token,
    endpoint: server.url,
    retry: { maxAttempts: 3 },
    sleep: async () => undefined,
    random: () => 0,
    log: (line) => logs.push(line),
  };
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
    const inputs = { projectId: project.id, environmentId: environment.id, password: "pw-1" };
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
    });
    expect(server.operations()).toEqual([
      "ProjectServices",
      "ServiceCreate",
      "EnvironmentVolumeInstances",
      "VolumeCreate",
      "ServiceInstanceRedeploy",
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
    expect(server.operations()).toEqual([
      "ServiceInstanceUpdate",
      "VariableCollectionUpsert",
      "ServiceInstanceRedeploy",
    ]);
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
    const inputs = { projectId: project.id, environmentId: environment.id, password: "pw" };
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
    const inputs = { projectId: project.id, environmentId: environment.id, password: "pw" };
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
    const created = await provider.create({
      projectId: project.id,
      environmentId: environment.id,
      password: "pw",
    });
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
    const created = await provider.create({
      projectId: project.id,
      environmentId: environment.id,
      password: "pw",
    });
    expect(created.id).toBe(existing.id);
    expect(server.count("ProjectServices")).toBe(3);
    expect(server.count("ServiceCreate")).toBe(0);
  });

  it("shares one service between two environments and deletes it only with the last volume", async () => {
    const { project, environment: production } = server.seedProject("pg-shared");
    const provider = new RailwayPostgresProvider(options());
    const prod = await provider.create({
      projectId: project.id,
      environmentId: production.id,
      password: "prod-pw",
    });
    const staging = (
      await new RailwayProjectProvider(options()).create({
        existingProjectId: project.id,
        environmentName: "staging",
      })
    ).outs;
    const stage = await provider.create({
      projectId: project.id,
      environmentId: staging.environmentId,
      password: "stage-pw",
    });
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
      provider.create({ projectId: "p", environmentId: "e", password: "" }),
    ).rejects.toThrow("RailwayPostgres: `password` must be a non-empty string.");
    expect(server.requests).toEqual([]);
  });
});

describe("RailwayRedisProvider", () => {
  it("runs the full lifecycle with AOF, noeviction and the password kept out of the start command", async () => {
    const { project, environment } = server.seedProject("redis-lifecycle");
    const provider = new RailwayRedisProvider(options());
    const inputs = { projectId: project.id, environmentId: environment.id, password: "s3cret/+" };
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
  it("creates a proxy, redeploys, reads it back, replaces on port change, deletes", async () => {
    const { project, environment } = server.seedProject("proxy-lifecycle");
    const service = server.seedService(project.id, "postgres", RAILWAY_POSTGRES_SSL_IMAGE);
    const provider = new RailwayTcpProxyProvider(options());
    const inputs = { environmentId: environment.id, serviceId: service.id, applicationPort: 5432 };
    const deploysBefore = server.state.deploys.length;
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
    });
    expect(server.state.deploys.slice(deploysBefore)).toEqual([`${environment.id}/${service.id}`]);

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
    await expect(provider.update()).rejects.toThrow("cannot be updated in place");

    // Re-running create (state lost after Railway made the proxy) adopts the same proxy.
    const again = await provider.create(inputs);
    expect(again.id).toBe(created.id);
    expect(server.state.tcpProxies.size).toBe(1);

    await provider.delete(created.id);
    expect(server.state.tcpProxies.has(created.id)).toBe(false);
    expect(await provider.read(created.id, created.outs)).toEqual({});
  });

  it("rejects a port out of range", async () => {
    const provider = new RailwayTcpProxyProvider(options());
    await expect(
      provider.create({ environmentId: "e", serviceId: "s", applicationPort: 70000 }),
    ).rejects.toThrow(
      "RailwayTcpProxy: `applicationPort` must be an integer port (1-65535), got 70000.",
    );
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
