/**
 * Every hosting choice through the factories platform.ts calls, in every stack: the exact
 * resources, Railway's services and proxy, protection, and that the contract's secrets are secret.
 */
import * as pulumi from "@pulumi/pulumi";
import {
  captureOptions,
  inputsOf,
  installHostingMocks,
  isSecretInput,
  resetRecorded,
  settle,
  summary,
  valueOf,
  type CapturedOptions,
} from "./pulumi-mocks";
import { environmentOf, resolveHostingSettings } from "../../infra/config";
import { createHosting, parseHostingConfig, type HostingEnvironment } from "../../infra/hosting";

beforeAll(installHostingMocks);

const PROJECT = "pulumi-nodejs:dynamic/railway:RailwayProject";
const PG = "pulumi-nodejs:dynamic/railway:RailwayPostgres";
const REDIS = "pulumi-nodejs:dynamic/railway:RailwayRedis";
const PROXY = "pulumi-nodejs:dynamic/railway:RailwayTcpProxy";
const PASSWORD = "random:index/randomPassword:RandomPassword";

const STACKS = ["dev", "staging", "prod"] as const;

type StackKind = (typeof STACKS)[number];

/** As infra/platform.ts hands it over: `protect` is the config's (here its staging/prod default). */
function environment(kind: StackKind): HostingEnvironment {
  return { stack: kind, projectId: `synter-${kind}`, labels: {}, protect: kind !== "dev" };
}

async function build(kind: StackKind, raw: Record<string, unknown>) {
  resetRecorded();
  const options = new Map<string, CapturedOptions>();
  const config = parseHostingConfig(raw);
  const stackEnvironment = environmentOf(kind);
  if (typeof stackEnvironment === "string") throw new Error(stackEnvironment);
  const settings = resolveHostingSettings(
    { gcp: { region: "us-central1" }, postgres: config.postgres, redis: config.redis },
    stackEnvironment,
  );
  expect(settings.problems).toEqual([]);
  const hosting = createHosting(
    "data",
    { postgres: settings.postgres, redis: settings.redis, app: config.app },
    environment(kind),
    { transformations: [captureOptions(options)] },
  );
  await settle(
    hosting.postgres.adminHost,
    hosting.postgres.adminPassword,
    hosting.postgres.appHost,
    hosting.redis.url,
  );
  return { hosting, options };
}

async function expectSecret(output: pulumi.Output<unknown>): Promise<void> {
  expect(await pulumi.isSecret(output)).toBe(true);
}

describe.each(STACKS)("Railway hosting in %s", (kind) => {
  const protect = kind !== "dev";

  it("creates one project with Postgres, its TCP proxy and Redis", async () => {
    const { options } = await build(kind, {});
    expect(summary()).toEqual([
      `${PG} data-postgres`,
      `${PROJECT} data-railway`,
      `${REDIS} data-redis`,
      `${PROXY} data-postgres-proxy`,
      `${PASSWORD} data-postgres-password`,
      `${PASSWORD} data-redis-password`,
      "synter:hosting:RailwayPostgresServer data-postgres",
      "synter:hosting:RailwayRedisServer data-redis",
    ]);
    expect(inputsOf(PROJECT, "data-railway")).toEqual({
      name: `synter-${kind}`,
      environmentName: kind,
    });
    const pg = inputsOf(PG, "data-postgres");
    expect(pg.projectId).toBe("project-data-railway");
    expect(pg.environmentId).toBe("environment-data-railway");
    expect(pg.serviceName).toBe("postgres");
    expect(isSecretInput(pg.password)).toBe(true);
    expect(inputsOf(REDIS, "data-redis").serviceName).toBe("redis");
    expect(isSecretInput(inputsOf(REDIS, "data-redis").password)).toBe(true);
    expect(inputsOf(PROXY, "data-postgres-proxy")).toEqual({
      environmentId: "environment-data-railway",
      serviceId: "service-data-postgres",
      applicationPort: 5432,
      protocol: "postgres",
      readyTimeoutSeconds: 600,
    });
    for (const name of ["data-postgres", "data-redis"]) {
      expect([name, options.get(name)?.protect]).toEqual([name, protect]);
    }
  });

  it("hands Pulumi the proxy and the app the private network, secrets kept", async () => {
    const { hosting } = await build(kind, {});
    const { postgres, redis } = hosting;
    expect(postgres.sslMode).toBe("require");
    expect(await valueOf(postgres.adminHost)).toBe("shuttle.proxy.rlwy.net");
    expect(await valueOf(postgres.adminPort)).toBe(41234);
    expect(await valueOf(postgres.adminUser)).toBe("postgres");
    expect(await valueOf(postgres.appHost)).toBe("postgres.railway.internal");
    expect(await valueOf(postgres.appPort)).toBe(5432);
    await expectSecret(postgres.adminPassword);
    expect(postgres.readyResources).toHaveLength(2);
    expect(redis.tls).toBe(false);
    expect(await valueOf(redis.url)).toBe(
      "redis://default:pw-data-redis-password@redis.railway.internal:6379",
    );
    await expectSecret(redis.url);
    expect(await valueOf(redis.host)).toBe("redis.railway.internal");
  });
});

describe("Railway hosting next to the app", () => {
  it("adopts the app's project and environment instead of creating one", async () => {
    await build("prod", {
      app: {
        railway: {
          projectId: "app-project",
          environmentId: "app-env",
          apiServiceId: "api",
          workerServiceId: "wrk",
        },
      },
      postgres: { railway: { serviceName: "synter-pg" } },
    });
    expect(inputsOf(PROJECT, "data-railway")).toEqual({
      existingProjectId: "app-project",
      existingEnvironmentId: "app-env",
    });
    expect(inputsOf(PG, "data-postgres").projectId).toBe("app-project");
    expect(inputsOf(PG, "data-postgres").serviceName).toBe("synter-pg");
  });
});

describe.each(STACKS)("GCP and external hosting in %s", (kind) => {
  it("creates no Railway project when nothing is on Railway", async () => {
    const { hosting } = await build(kind, {
      postgres: { hosting: "cloudsql" },
      redis: { hosting: "memorystore" },
    });
    expect(summary()).toEqual([
      "gcp:projects/service:Service data-postgres-sqladmin",
      "gcp:projects/service:Service data-redis-redis-api",
      "gcp:redis/instance:Instance data-redis",
      "gcp:sql/databaseInstance:DatabaseInstance data-postgres",
      "gcp:sql/user:User data-postgres-admin",
      `${PASSWORD} data-postgres-admin-password`,
      "synter:hosting:CloudSqlPostgres data-postgres",
      "synter:hosting:MemorystoreRedis data-redis",
    ]);
    expect(hosting.railwayProject).toBeUndefined();
    await expectSecret(hosting.postgres.adminPassword);
    await expectSecret(hosting.redis.url);
  });

  it("creates nothing at all for external servers", async () => {
    const { hosting } = await build(kind, {
      postgres: {
        hosting: "external",
        external: { adminUrl: "postgresql://admin:pw@db.example.com:5432/postgres" },
      },
      redis: { hosting: "external", external: { url: "rediss://:pw@cache.example.com:6380" } },
    });
    expect(summary()).toEqual([]);
    await expectSecret(hosting.postgres.adminPassword);
    await expectSecret(hosting.postgres.adminUser);
    await expectSecret(hosting.redis.url);
    expect(hosting.redis.tls).toBe(true);
  });

  it("mixes choices: Cloud SQL with Redis on Railway shares nothing it need not", async () => {
    await build(kind, { postgres: { hosting: "cloudsql" } });
    expect(summary().filter((line) => line.includes("railway"))).toEqual([
      `${PROJECT} data-railway`,
      `${REDIS} data-redis`,
    ]);
  });
});
