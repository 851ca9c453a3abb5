/**
 * Cloud SQL and Memorystore under Pulumi's mock runtime, in every stack: the exact resources and
 * inputs, protection, backups, SSL, Redis eviction policy and persistence, secret outputs.
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
import {
  environmentOf,
  parseConfig,
  resolveCloudSqlSettings,
  resolveMemorystoreSettings,
  type Environment,
  type EnvironmentKind,
} from "../../infra/config";
import { CloudSqlPostgres } from "../../infra/hosting/cloudsql";
import { MemorystoreRedis } from "../../infra/hosting/memorystore";
import { parseHostingConfig } from "../../infra/hosting/config-schema";

beforeAll(installHostingMocks);

type StackKind = Exclude<EnvironmentKind, "local">;

function environment(kind: StackKind): Environment {
  const environment = environmentOf(kind === "pr" ? "pr-7" : kind);
  if (typeof environment === "string") throw new Error(environment);
  return environment;
}

/** Where the component goes and how it is kept, as infra/platform.ts hands them over. */
function placement(kind: StackKind) {
  const { stack } = environment(kind);
  return {
    projectId: `synter-${kind}`,
    labels: { app: "synter", stack },
    // The config's default for the stack (staging and prod: true).
    protect: parseConfig({ gcp: { projectId: "synter-dev" } }, stack).protect,
  };
}

const SQL_INSTANCE = "gcp:sql/databaseInstance:DatabaseInstance";
const REDIS_INSTANCE = "gcp:redis/instance:Instance";

async function buildCloudSql(kind: StackKind, raw: Record<string, unknown> = {}) {
  resetRecorded();
  const options = new Map<string, CapturedOptions>();
  const config = parseHostingConfig({ postgres: { hosting: "cloudsql", cloudsql: raw } });
  const resolved = resolveCloudSqlSettings(config.postgres.cloudsql, kind, "us-central1");
  expect(resolved.problems).toEqual([]);
  const server = new CloudSqlPostgres(
    "pg",
    { ...resolved.settings, ...placement(kind) },
    { transformations: [captureOptions(options)] },
  );
  await settle(server.adminHost, server.adminPassword, server.appHost, server.adminUser);
  return { server, options };
}

const expectedBackups = {
  dev: { enabled: false, pitr: false, availability: "ZONAL", tier: "db-f1-micro" },
  pr: { enabled: false, pitr: false, availability: "ZONAL", tier: "db-f1-micro" },
  staging: { enabled: true, pitr: false, availability: "ZONAL", tier: "db-g1-small" },
  prod: { enabled: true, pitr: true, availability: "REGIONAL", tier: "db-custom-2-7680" },
} as const;

describe.each(["dev", "pr", "staging", "prod"] as const)("Cloud SQL in %s", (kind) => {
  const protect = kind === "staging" || kind === "prod";
  const expected = expectedBackups[kind];

  it("creates exactly the API, the instance, its bootstrap user and password", async () => {
    await buildCloudSql(kind);
    expect(summary()).toEqual([
      "gcp:projects/service:Service pg-sqladmin",
      `${SQL_INSTANCE} pg`,
      "gcp:sql/user:User pg-admin",
      "random:index/randomPassword:RandomPassword pg-admin-password",
      "synter:hosting:CloudSqlPostgres pg",
    ]);
    expect(inputsOf("gcp:projects/service:Service", "pg-sqladmin")).toEqual({
      project: `synter-${kind}`,
      service: "sqladmin.googleapis.com",
      disableOnDestroy: false,
    });
  });

  it("sets version, edition, tier, SSL, networks, backups and protection", async () => {
    const { options } = await buildCloudSql(kind);
    const stack = kind === "pr" ? "pr-7" : kind;
    expect(inputsOf(SQL_INSTANCE, "pg")).toEqual({
      project: `synter-${kind}`,
      region: "us-central1",
      databaseVersion: "POSTGRES_15",
      deletionProtection: protect,
      settings: {
        tier: expected.tier,
        edition: "ENTERPRISE",
        availabilityType: expected.availability,
        deletionProtectionEnabled: protect,
        diskAutoresize: true,
        backupConfiguration: {
          enabled: expected.enabled,
          pointInTimeRecoveryEnabled: expected.pitr,
          startTime: "03:00",
          ...(expected.pitr ? { transactionLogRetentionDays: 7 } : {}),
          backupRetentionSettings: { retainedBackups: 7, retentionUnit: "COUNT" },
        },
        ipConfiguration: { ipv4Enabled: true, sslMode: "ENCRYPTED_ONLY", authorizedNetworks: [] },
        userLabels: { app: "synter", stack },
      },
    });
    expect(options.get("pg")?.protect).toBe(protect);
    expect(options.get("pg-admin")?.protect).toBe(protect);
    // The instance waits for the API to be enabled.
    expect(options.get("pg")?.dependsOn).toHaveLength(1);
  });

  it("hands out the PostgresServer contract with a secret password", async () => {
    const { server } = await buildCloudSql(kind);
    expect(server.sslMode).toBe("require");
    expect(await valueOf(server.adminHost)).toBe("203.0.113.10");
    expect(await valueOf(server.adminPort)).toBe(5432);
    expect(await valueOf(server.adminUser)).toBe("synter_admin");
    expect(await valueOf(server.adminPassword)).toBe("pw-pg-admin-password");
    expect(await pulumi.isSecret(server.adminPassword)).toBe(true);
    expect(await valueOf(server.appHost)).toBe("203.0.113.10");
    expect(await valueOf(server.connectionName)).toBe(`synter-${kind}:us-central1:pg`);
    expect(server.readyResources).toHaveLength(2);
    expect(isSecretInput(inputsOf("gcp:sql/user:User", "pg-admin").password)).toBe(true);
    expect(inputsOf("random:index/randomPassword:RandomPassword", "pg-admin-password")).toEqual({
      length: 32,
      special: false,
    });
  });
});

describe("Cloud SQL settings from config", () => {
  it("passes authorized networks, tier, region and the proxy address through", async () => {
    const { server } = await buildCloudSql("staging", {
      tier: "db-custom-1-3840",
      region: "europe-west1",
      diskSizeGb: 20,
      authorizedNetworks: [{ name: "ci", cidr: "203.0.113.7/32" }],
      adminHost: "127.0.0.1",
      adminPort: 6432,
    });
    const settings = inputsOf(SQL_INSTANCE, "pg").settings as Record<string, unknown>;
    expect(settings.tier).toBe("db-custom-1-3840");
    expect(settings.diskSize).toBe(20);
    expect(inputsOf(SQL_INSTANCE, "pg").region).toBe("europe-west1");
    expect(settings.ipConfiguration).toEqual({
      ipv4Enabled: true,
      sslMode: "ENCRYPTED_ONLY",
      authorizedNetworks: [{ name: "ci", value: "203.0.113.7/32" }],
    });
    expect(await valueOf(server.adminHost)).toBe("127.0.0.1");
    expect(await valueOf(server.adminPort)).toBe(6432);
    // The app still uses the instance's address; only Pulumi goes through the proxy.
    expect(await valueOf(server.appHost)).toBe("203.0.113.10");
  });

  it("refuses prod without point-in-time recovery, naming the key", () => {
    const config = parseHostingConfig({
      postgres: { cloudsql: { backups: { pointInTimeRecovery: false }, availability: "ZONAL" } },
    });
    expect(
      resolveCloudSqlSettings(config.postgres.cloudsql, "prod", "us-central1").problems,
    ).toEqual([
      "synter-platform:postgres.cloudsql.backups.pointInTimeRecovery: prod keeps backups and point-in-time recovery",
    ]);
  });

  it("refuses REGIONAL where the stack default leaves point-in-time recovery off", () => {
    const config = parseHostingConfig({ postgres: { cloudsql: { availability: "REGIONAL" } } });
    expect(
      resolveCloudSqlSettings(config.postgres.cloudsql, "staging", "us-central1").problems,
    ).toEqual([
      "synter-platform:postgres.cloudsql.availability: REGIONAL needs backups.pointInTimeRecovery",
    ]);
  });

  it("reports these with the rest of the config, only where Cloud SQL is chosen", () => {
    const raw = {
      gcp: { projectId: "synter-prod" },
      postgres: { hosting: "cloudsql", cloudsql: { backups: { enabled: false } } },
    };
    expect(() => parseConfig(raw, "prod")).toThrow(
      "invalid configuration for stack prod:\n  - synter-platform:postgres.cloudsql.backups.pointInTimeRecovery: prod keeps backups and point-in-time recovery",
    );
    expect(() =>
      parseConfig({ ...raw, postgres: { ...raw.postgres, hosting: "railway" } }, "prod"),
    ).not.toThrow();
  });
});

async function buildMemorystore(kind: StackKind, raw: Record<string, unknown> = {}) {
  resetRecorded();
  const options = new Map<string, CapturedOptions>();
  const config = parseHostingConfig({ redis: { hosting: "memorystore", memorystore: raw } });
  const resolved = resolveMemorystoreSettings(config.redis.memorystore, environment(kind), {
    region: "us-central1",
    createsProject: false,
  });
  const redis = new MemorystoreRedis(
    "cache",
    { ...resolved.settings, ...placement(kind) },
    { transformations: [captureOptions(options)] },
  );
  await settle(redis.url, redis.caCertificate);
  return { redis, options };
}

describe.each(["dev", "pr", "staging", "prod"] as const)("Memorystore in %s", (kind) => {
  const protect = kind === "staging" || kind === "prod";

  it("creates exactly the API and a Redis 7 instance fit for BullMQ", async () => {
    const { options } = await buildMemorystore(kind);
    expect(summary()).toEqual([
      "gcp:projects/service:Service cache-redis-api",
      `${REDIS_INSTANCE} cache`,
      "synter:hosting:MemorystoreRedis cache",
    ]);
    const stack = kind === "pr" ? "pr-7" : kind;
    expect(inputsOf(REDIS_INSTANCE, "cache")).toEqual({
      project: `synter-${kind}`,
      region: "us-central1",
      redisVersion: "REDIS_7_X",
      tier: kind === "prod" ? "STANDARD_HA" : "BASIC",
      memorySizeGb: 1,
      authEnabled: true,
      transitEncryptionMode: "SERVER_AUTHENTICATION",
      redisConfigs: { "maxmemory-policy": "noeviction" },
      persistenceConfig: { persistenceMode: "RDB", rdbSnapshotPeriod: "TWELVE_HOURS" },
      connectMode: "DIRECT_PEERING",
      deletionProtection: protect,
      labels: { app: "synter", stack },
    });
    expect(options.get("cache")?.protect).toBe(protect);
    expect(options.get("cache")?.additionalSecretOutputs).toContain("authString");
    expect(inputsOf("gcp:projects/service:Service", "cache-redis-api").disableOnDestroy).toBe(
      false,
    );
  });

  it("builds a secret rediss:// URL with the escaped AUTH string and the CA", async () => {
    const { redis } = await buildMemorystore(kind);
    expect(redis.tls).toBe(true);
    expect(await valueOf(redis.url)).toBe("rediss://:auth%2Fcache%40x@10.20.0.3:6378");
    expect(await pulumi.isSecret(redis.url)).toBe(true);
    expect(await valueOf(redis.host)).toBe("10.20.0.3");
    expect(await valueOf(redis.port)).toBe(6378);
    expect(await valueOf(redis.caCertificate)).toBe("CERT-1\nCERT-2");
  });
});

describe("Memorystore settings from config", () => {
  it("passes size, tier, network, mode and snapshot period through", async () => {
    await buildMemorystore("dev", {
      memorySizeGb: 5,
      tier: "STANDARD_HA",
      authorizedNetwork: "projects/synter-dev/global/networks/app",
      connectMode: "PRIVATE_SERVICE_ACCESS",
      snapshotPeriod: "ONE_HOUR",
    });
    const inputs = inputsOf(REDIS_INSTANCE, "cache");
    expect(inputs.memorySizeGb).toBe(5);
    expect(inputs.tier).toBe("STANDARD_HA");
    expect(inputs.authorizedNetwork).toBe("projects/synter-dev/global/networks/app");
    expect(inputs.connectMode).toBe("PRIVATE_SERVICE_ACCESS");
    expect(inputs.persistenceConfig).toEqual({
      persistenceMode: "RDB",
      rdbSnapshotPeriod: "ONE_HOUR",
    });
  });
});
