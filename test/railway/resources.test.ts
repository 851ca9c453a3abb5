/**
 * The Pulumi side of the Railway resources: under Pulumi's mock runtime each resource registers
 * its type token, its inputs and an Output for every declared output; the provider code Pulumi
 * serialises into state holds no token and no machine path, and — loaded the way Pulumi's
 * dynamic-provider host loads it — drives the stand-in server end to end.
 */
import { randomUUID } from "node:crypto";
import * as pulumi from "@pulumi/pulumi";
import {
  RailwayPostgres,
  RailwayProject,
  RailwayRedis,
  RailwayTcpProxy,
  RailwayVariables,
} from "../../infra/railway";
import { serializableProvider } from "../../infra/serializable-provider";
import { RAILWAY_PROVIDER_MODULE } from "../../infra/railway/resources";
import { REPO_ROOT } from "./railway-schema";
import { RailwayStandInServer } from "./stand-in-server";

// The module Pulumi's host uses to load a serialised provider (a dependency of @pulumi/pulumi).
// eslint-disable-next-line @typescript-eslint/no-require-imports
const requireFromString = require("require-from-string") as (code: string) => {
  handler: () => pulumi.dynamic.ResourceProvider;
};

interface Registered {
  type: string;
  name: string;
  inputs: Record<string, unknown>;
}
const registered: Registered[] = [];

// Outputs as the real provider would compute them, so every declared Output can be checked.
function fakeOutputs(type: string, name: string): Record<string, unknown> {
  switch (type.split(":").pop()) {
    case "RailwayProject":
      return {
        projectId: `project-${name}`,
        projectName: name,
        environmentId: `env-${name}`,
        environmentName: "production",
        ownsProject: true,
        ownsEnvironment: false,
      };
    case "RailwayPostgres":
      return {
        serviceId: `svc-${name}`,
        volumeId: `vol-${name}`,
        serviceName: "postgres",
        image: "img",
        privateHost: "postgres.railway.internal",
        port: 5432,
        user: "postgres",
        password: "pw",
        database: "railway",
        variables: { A: "b" },
      };
    case "RailwayRedis":
      return {
        serviceId: `svc-${name}`,
        volumeId: `vol-${name}`,
        serviceName: "redis",
        image: "redis:7",
        privateHost: "redis.railway.internal",
        port: 6379,
        password: "pw",
        url: "redis://default:pw@redis.railway.internal:6379",
        startCommand: "x",
        variables: { A: "b" },
      };
    case "RailwayTcpProxy":
      return {
        proxyId: `proxy-${name}`,
        domain: "shortline.proxy.rlwy.net",
        proxyPort: 21000,
        endpoint: "shortline.proxy.rlwy.net:21000",
      };
    case "RailwayVariables":
      return { variables: { A: "b" }, names: ["A"] };
    default:
      return {};
  }
}

beforeAll(async () => {
  await pulumi.runtime.setMocks(
    {
      newResource: (args) => {
        registered.push({
          type: args.type,
          name: args.name,
          inputs: args.inputs as Record<string, unknown>,
        });
        return {
          id: `${args.name}-id`,
          state: { ...args.inputs, ...fakeOutputs(args.type, args.name) },
        };
      },
      call: () => ({}),
    },
    "synter",
    "test",
    false,
  );
});

function resolved<T>(output: pulumi.Output<T> | undefined): Promise<T> {
  if (!pulumi.Output.isInstance(output))
    throw new Error("not an Output: the output key was not registered");
  return new Promise((resolve) => output.apply((value) => resolve(value)));
}

describe("Railway resources under the mock runtime", () => {
  it("register their type tokens, inputs and every declared output", async () => {
    const project = new RailwayProject("railway", { name: "synter-dev" });
    const postgres = new RailwayPostgres("postgres", {
      projectId: project.projectId,
      environmentId: project.environmentId,
      password: pulumi.secret("pw"),
    });
    const redis = new RailwayRedis("redis", {
      projectId: project.projectId,
      environmentId: project.environmentId,
      password: pulumi.secret("pw"),
    });
    const proxy = new RailwayTcpProxy("postgres-proxy", {
      environmentId: project.environmentId,
      serviceId: postgres.serviceId,
      applicationPort: postgres.port,
    });
    const variables = new RailwayVariables("api-env", {
      projectId: project.projectId,
      environmentId: project.environmentId,
      serviceId: "svc-api",
      variables: { REDIS_URL: redis.url },
    });

    expect(await resolved(project.environmentId)).toBe("env-railway");
    expect(await resolved(project.environmentName)).toBe("production");
    expect(await resolved(postgres.user)).toBe("postgres");
    expect(await resolved(postgres.database)).toBe("railway");
    expect(await resolved(postgres.serviceName)).toBe("postgres");
    expect(await resolved(postgres.privateHost)).toBe("postgres.railway.internal");
    expect(await resolved(redis.url)).toBe("redis://default:pw@redis.railway.internal:6379");
    expect(await resolved(proxy.endpoint)).toBe("shortline.proxy.rlwy.net:21000");
    expect(await resolved(variables.names)).toEqual(["A"]);

    // Registration order follows input resolution; compare as a set.
    expect(registered.map((r) => [r.type, r.name]).sort()).toEqual([
      ["pulumi-nodejs:dynamic/railway:RailwayPostgres", "postgres"],
      ["pulumi-nodejs:dynamic/railway:RailwayProject", "railway"],
      ["pulumi-nodejs:dynamic/railway:RailwayRedis", "redis"],
      ["pulumi-nodejs:dynamic/railway:RailwayTcpProxy", "postgres-proxy"],
      ["pulumi-nodejs:dynamic/railway:RailwayVariables", "api-env"],
    ]);
    // Every setting the providers apply is an input with the program's default filled in, so a
    // preview shows it and a change to it is a diff like any other.
    const inputsOf = (name: string) => {
      const {
        __provider: _provider,
        password: _password,
        ...rest
      } = registered.find((r) => r.name === name)!.inputs;
      return rest;
    };
    expect(inputsOf("redis")).toMatchObject({
      serviceName: "redis",
      image: "redis:7",
      mountPath: "/data",
      port: 6379,
      drainingSeconds: 60,
      readyTimeoutSeconds: 600,
      startCommand:
        '/bin/sh -c \'exec redis-server --requirepass "$REDIS_PASSWORD" --appendonly yes ' +
        "--appendfsync everysec --maxmemory-policy noeviction --dir /data'",
    });
    expect(inputsOf("postgres")).toMatchObject({
      serviceName: "postgres",
      image: "ghcr.io/railwayapp-templates/postgres-ssl:15",
      mountPath: "/var/lib/postgresql/data",
      dataDirectory: "/var/lib/postgresql/data/pgdata",
      port: 5432,
      user: "postgres",
      database: "railway",
      drainingSeconds: 60,
      readyTimeoutSeconds: 600,
    });
    const proxyInputs = registered.find((r) => r.name === "postgres-proxy")!.inputs;
    expect(proxyInputs).toMatchObject({
      environmentId: "env-railway",
      serviceId: "svc-postgres",
      applicationPort: 5432,
      protocol: "tcp",
      readyTimeoutSeconds: 600,
    });

    // The token is not an input of anything, and the serialised provider holds neither the
    // token nor where this checkout lives.
    for (const { inputs } of registered) {
      expect(Object.keys(inputs)).not.toContain("token");
      const provider = inputs.__provider;
      expect(typeof provider).toBe("string");
      expect(provider as string).not.toContain(REPO_ROOT);
      expect((provider as string).length).toBeLessThan(20_000);
    }
  });
});

describe("the serialised provider", () => {
  const token = `test-token-${randomUUID()}`;
  const server = new RailwayStandInServer(token);
  beforeAll(() => server.start());
  afterAll(() => server.stop());

  it("loads from its serialised text and drives Railway through the real provider logic", async () => {
    expect(process.cwd()).toBe(REPO_ROOT);
    // Exactly what pulumi.dynamic.Resource stores: `() => provider`, the shim object itself.
    const shim = serializableProvider({
      module: RAILWAY_PROVIDER_MODULE,
      factory: "createRailwayProvider",
      args: ["variables"],
    });
    const serialized = await pulumi.runtime.serializeFunction(() => shim, { allowSecrets: true });
    expect(serialized.text).not.toContain(token);
    expect(serialized.text).not.toContain(REPO_ROOT);
    expect(serialized.text).toContain('"./infra/railway/providers"');
    // (Pulumi marks each function with its name, `/*loadProvider*/`: that is no comment of ours.)
    expect(serialized.text.replace(/\/\*[A-Za-z_$][\w$]*\*\//g, "")).not.toMatch(/\/\/|\/\*/);

    // What Pulumi's dynamic-provider host does: load, `handler()`, then configure with config.
    const provider = requireFromString(serialized.text).handler();
    const config: Record<string, string> = {
      "railway:token": token,
      "railway:endpoint": server.url,
    };
    await provider.configure!({
      config: {
        get: (key) => config[key],
        require: (key) => config[key],
      },
    });

    const { project, environment } = server.seedProject("serialised");
    const service = server.seedService(project.id, "workers");
    const inputs = {
      projectId: project.id,
      environmentId: environment.id,
      serviceId: service.id,
      variables: { BIGQUERY_DATASET: "synter_analytics" },
    };
    const created = await provider.create(inputs);
    expect(server.variablesOf(project.id, environment.id, service.id)).toEqual({
      BIGQUERY_DATASET: "synter_analytics",
    });
    expect(await provider.diff!(created.id, created.outs, inputs)).toEqual({
      changes: false,
      replaces: [],
      deleteBeforeReplace: false,
    });
    await provider.delete!(created.id, created.outs);
    expect(server.variablesOf(project.id, environment.id, service.id)).toEqual({});
    expect(server.requests.every((r) => r.authorization === `Bearer ${token}`)).toBe(true);
  });
});
