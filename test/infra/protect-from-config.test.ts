/**
 * `protect` is decided once, by the config: whatever a stack's kind, `protect: true` protects every
 * data resource — BigQuery, the auth database, and the Postgres and Redis servers wherever they
 * run — and `protect: false` none. No component re-derives it from the stack name.
 */
import type { RecordedResource } from "../support/pulumi-harness";
import { buildStack } from "./stack-run";

const TABLES = ["events", "ad_metrics", "conversions", "touchpoints", "agent_runs"];
const VIEWS = [
  "fact_attribution_last_touch",
  "fact_attribution_first_touch",
  "fact_attribution_linear",
  "campaign_performance_daily",
];
const BIGQUERY = [
  "gcp:bigquery/dataset:Dataset warehouse-dataset",
  ...[...TABLES, ...VIEWS].map((id) => `gcp:bigquery/table:Table warehouse-${id}`),
];
// The auth database and its roles; AuthDatabase decides which of its resources `protect` covers.
const AUTH = [
  "postgresql:index/database:Database auth-database",
  ...["app", "migrator", "readonly"].map((role) => `postgresql:index/role:Role auth-${role}`),
];
const isAuth = (entry: string) => entry.startsWith("postgresql:index/");
const RAILWAY = [
  "pulumi-nodejs:dynamic/railway:RailwayProject data-railway",
  "pulumi-nodejs:dynamic/railway:RailwayPostgres data-postgres",
  "pulumi-nodejs:dynamic/railway:RailwayRedis data-redis",
];
const GCP_SERVERS = [
  "gcp:sql/databaseInstance:DatabaseInstance data-postgres",
  "gcp:sql/user:User data-postgres-admin",
  "gcp:redis/instance:Instance data-redis",
];

const protectedOf = (resources: readonly RecordedResource[]) =>
  resources
    .filter((r) => r.protect)
    .map((r) => `${r.type} ${r.name}`)
    .sort();

const inputsOf = (resources: readonly RecordedResource[], type: string, name: string) => {
  const found = resources.find((r) => r.type === type && r.name === name);
  if (found === undefined) throw new Error(`no ${type} ${name}`);
  return found.inputs;
};

function configure(protect: boolean | undefined, hosting: "railway" | "gcp") {
  return (values: Record<string, string>) => {
    if (protect === undefined) delete values["synter-platform:protect"];
    else values["synter-platform:protect"] = String(protect);
    if (hosting === "gcp") {
      values["synter-platform:postgres"] = JSON.stringify({ hosting: "cloudsql" });
      values["synter-platform:redis"] = JSON.stringify({ hosting: "memorystore" });
    }
  };
}

describe.each(["railway", "gcp"] as const)("dev with %s hosting", (hosting) => {
  const servers = hosting === "railway" ? RAILWAY : GCP_SERVERS;

  test("protect: true protects every data resource, servers included, as staging does", async () => {
    const { resources } = await buildStack("dev", configure(true, hosting));
    const protectedNames = protectedOf(resources);
    expect(protectedNames.filter((entry) => !isAuth(entry))).toEqual(
      [...BIGQUERY, ...servers].sort(),
    );
    expect(protectedNames).toEqual(expect.arrayContaining(AUTH));
    const staging = await buildStack("staging", configure(undefined, hosting));
    expect(protectedNames).toEqual(protectedOf(staging.resources));
    for (const id of [...TABLES, ...VIEWS]) {
      expect(
        inputsOf(resources, "gcp:bigquery/table:Table", `warehouse-${id}`).deletionProtection,
      ).toBe(true);
    }
    if (hosting === "gcp") {
      const sql = inputsOf(resources, "gcp:sql/databaseInstance:DatabaseInstance", "data-postgres");
      expect(sql.deletionProtection).toBe(true);
      expect((sql.settings as Record<string, unknown>).deletionProtectionEnabled).toBe(true);
      expect(
        inputsOf(resources, "gcp:redis/instance:Instance", "data-redis").deletionProtection,
      ).toBe(true);
    }
  });

  test.each([false, undefined])("protect: %p protects nothing", async (protect) => {
    const { resources } = await buildStack("dev", configure(protect, hosting));
    expect(protectedOf(resources)).toEqual([]);
    if (hosting === "gcp") {
      const sql = inputsOf(resources, "gcp:sql/databaseInstance:DatabaseInstance", "data-postgres");
      expect(sql.deletionProtection).toBe(false);
      expect((sql.settings as Record<string, unknown>).deletionProtectionEnabled).toBe(false);
      expect(
        inputsOf(resources, "gcp:redis/instance:Instance", "data-redis").deletionProtection,
      ).toBe(false);
    }
  });
});

test("staging protects its GCP servers by default, as its BigQuery", async () => {
  const { resources } = await buildStack("staging", configure(undefined, "gcp"));
  const protectedNames = protectedOf(resources);
  expect(protectedNames.filter((entry) => !isAuth(entry))).toEqual(
    [...BIGQUERY, ...GCP_SERVERS].sort(),
  );
  expect(protectedNames).toEqual(expect.arrayContaining(AUTH));
});
