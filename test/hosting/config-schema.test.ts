/**
 * The hosting config sections: defaults, and every problem reported at once with its config key.
 * No secret value ever appears in a message.
 */
import { HostingConfigError, parseHostingConfig } from "../../infra/hosting/config-schema";

function problemsOf(raw: unknown): readonly string[] {
  try {
    parseHostingConfig(raw);
  } catch (error) {
    if (error instanceof HostingConfigError) return error.problems;
    throw error;
  }
  throw new Error("expected the config to be rejected");
}

const SECRET_PASSWORD = "hunter2-not-real";

describe("hosting config defaults", () => {
  it("puts Postgres and Redis on Railway, keys for an app outside GCP, no wiring", () => {
    expect(parseHostingConfig({})).toEqual({
      postgres: {
        hosting: "railway",
        cloudsql: {
          edition: "ENTERPRISE",
          authorizedNetworks: [],
          backups: { retainedBackups: 7, transactionLogRetentionDays: 7, startTime: "03:00" },
        },
        external: {},
        railway: { serviceName: "postgres" },
      },
      redis: {
        hosting: "railway",
        memorystore: {
          memorySizeGb: 1,
          connectMode: "DIRECT_PEERING",
          snapshotPeriod: "TWELVE_HOURS",
        },
        external: {},
        railway: { serviceName: "redis" },
      },
      credentials: { appOutsideGcp: true, rotationDays: 90, rotationAnchor: "2026-01-01" },
      app: {},
    });
  });

  it("accepts each hosting choice with its settings", () => {
    const config = parseHostingConfig({
      postgres: {
        hosting: "cloudsql",
        cloudsql: {
          tier: "db-custom-4-15360",
          region: "europe-west1",
          authorizedNetworks: [{ name: "ci", cidr: "203.0.113.7/32" }],
          backups: { enabled: true, pointInTimeRecovery: true },
        },
      },
      redis: { hosting: "external", external: { url: "rediss://:pw@cache.example.com:6380" } },
      app: {
        railway: {
          projectId: "p",
          environmentId: "e",
          apiServiceId: "api",
          workerServiceId: "wrk",
        },
      },
    });
    expect(config.postgres.hosting).toBe("cloudsql");
    expect(config.postgres.cloudsql.authorizedNetworks).toEqual([
      { name: "ci", cidr: "203.0.113.7/32" },
    ]);
    expect(config.redis.hosting).toBe("external");
    expect(config.app.railway?.workerServiceId).toBe("wrk");
  });
});

describe("hosting config errors", () => {
  it("lists every field problem at once, naming each key", () => {
    expect(
      problemsOf({
        postgres: { hosting: "rds", cloudsql: { tier: 5 } },
        redis: { hosting: "memorystore", memorystore: { memorySizeGb: 0, tier: "PREMIUM" } },
        credentials: { rotationDays: 0, rotationAnchor: "2026-02-30", appOutsideGcp: "yes" },
        app: { railway: { projectId: "" } },
      }),
    ).toEqual([
      "postgres.hosting: Invalid enum value. Expected 'railway' | 'cloudsql' | 'external', received 'rds'",
      "postgres.cloudsql.tier: Expected string, received number",
      "redis.memorystore.memorySizeGb: Number must be greater than or equal to 1",
      "redis.memorystore.tier: Invalid enum value. Expected 'BASIC' | 'STANDARD_HA', received 'PREMIUM'",
      "credentials.appOutsideGcp: Expected boolean, received string",
      "credentials.rotationDays: Number must be greater than or equal to 1",
      "credentials.rotationAnchor: is not a real date",
      "app.railway.projectId: String must contain at least 1 character(s)",
      "app.railway.environmentId: required with app.railway.projectId (all four ids or none)",
      "app.railway.apiServiceId: required with app.railway.projectId (all four ids or none)",
      "app.railway.workerServiceId: required with app.railway.projectId (all four ids or none)",
    ]);
  });

  it("rejects unknown keys instead of ignoring a typo", () => {
    expect(problemsOf({ postgres: { hostng: "cloudsql" } })).toEqual([
      "postgres: Unrecognized key(s) in object: 'hostng'",
    ]);
  });

  it("requires the URL for external hosting", () => {
    expect(
      problemsOf({ postgres: { hosting: "external" }, redis: { hosting: "external" } }),
    ).toEqual([
      "postgres.external.adminUrl: required when postgres.hosting is external (set it with --secret)",
      "redis.external.url: required when redis.hosting is external (set it with --secret)",
    ]);
  });

  it("reports every flaw of an external URL without quoting it", () => {
    const problems = problemsOf({
      postgres: {
        hosting: "external",
        external: { adminUrl: `mysql://:${SECRET_PASSWORD}@db.example.com/x?sslmode=prefer` },
      },
      redis: { hosting: "external", external: { url: "tcp:///queue" } },
    });
    expect(problems).toEqual([
      "postgres.external.adminUrl: must start with postgresql:// or postgres://",
      "postgres.external.adminUrl: has no user",
      "postgres.external.adminUrl: has sslmode=prefer; use one of disable, require, verify-ca, verify-full",
      "redis.external.url: must start with redis:// or rediss://",
      "redis.external.url: has no host",
      "redis.external.url: has no password (BullMQ's Redis must require AUTH)",
    ]);
    expect(problems.join("\n")).not.toContain(SECRET_PASSWORD);
    expect(
      problemsOf({
        redis: { hosting: "external", external: { url: `redis://:${SECRET_PASSWORD}@/` } },
      }),
    ).toEqual(["redis.external.url: is not a URL"]);
  });

  it("never lets an authorized network open Cloud SQL to the internet", () => {
    expect(
      problemsOf({
        postgres: {
          cloudsql: {
            authorizedNetworks: [
              { name: "everyone", cidr: "0.0.0.0/0" },
              { name: "typo", cidr: "300.1.1.1/32" },
              { name: "ok", cidr: "198.51.100.0/24" },
            ],
          },
        },
      }),
    ).toEqual([
      "postgres.cloudsql.authorizedNetworks[0].cidr: must not open the instance to the whole internet (a /0 range)",
      "postgres.cloudsql.authorizedNetworks[1].cidr: must be an IPv4 CIDR such as 203.0.113.7/32",
    ]);
  });

  it("checks Cloud SQL cross-field rules together", () => {
    expect(
      problemsOf({
        postgres: {
          hosting: "cloudsql",
          cloudsql: {
            edition: "ENTERPRISE_PLUS",
            tier: "db-g1-small",
            availability: "REGIONAL",
            backups: { enabled: false, pointInTimeRecovery: false },
            adminPort: 5433,
          },
        },
      }),
    ).toEqual([
      "postgres.cloudsql.tier: ENTERPRISE_PLUS supports only db-perf-optimized-* tiers",
      "postgres.cloudsql.availability: REGIONAL needs backups.pointInTimeRecovery",
      "postgres.cloudsql.adminHost: required with adminPort",
    ]);
    expect(
      problemsOf({
        postgres: {
          cloudsql: {
            tier: "db-perf-optimized-N-2",
            backups: { enabled: false, pointInTimeRecovery: true, transactionLogRetentionDays: 14 },
          },
        },
      }),
    ).toEqual([
      "postgres.cloudsql.tier: db-perf-optimized-* tiers need edition ENTERPRISE_PLUS",
      "postgres.cloudsql.backups.transactionLogRetentionDays: ENTERPRISE keeps at most 7 days of transaction logs",
      "postgres.cloudsql.backups.pointInTimeRecovery: needs backups.enabled",
    ]);
  });

  it("wants all four Railway ids of the app or none", () => {
    expect(problemsOf({ app: { railway: { projectId: "p", apiServiceId: "a" } } })).toEqual([
      "app.railway.environmentId: required with app.railway.projectId (all four ids or none)",
      "app.railway.workerServiceId: required with app.railway.projectId (all four ids or none)",
    ]);
  });
});
