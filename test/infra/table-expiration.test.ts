/**
 * No table that Pulumi manages may expire: BigQuery deletes an expired table while the stack's
 * state still lists it, and no later update recreates it. A dataset's default table expiration
 * is stamped on every table created in it, so no stack sets one — a PR stack's tables go when the
 * PR environment is destroyed, not after a few days.
 */
import { ConfigError, parseConfig } from "../../infra/config";
import { buildStack } from "./stack-run";

const EXPIRING = [
  "defaultTableExpirationMs",
  "defaultPartitionExpirationMs",
  "expirationTime",
  "expirationMs",
];

function problemsOf(raw: Record<string, unknown>, stack: string): readonly string[] {
  try {
    parseConfig(raw, stack);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error("expected a ConfigError");
}

describe.each(["pr-42", "dev", "staging", "prod"])("stack %s", (stack) => {
  test("sets no expiration on the dataset, its tables or their partitions", async () => {
    const { resources } = await buildStack(stack);
    const bigquery = resources.filter((r) => r.type.startsWith("gcp:bigquery/"));
    const dataset = bigquery.filter((r) => r.type === "gcp:bigquery/dataset:Dataset");
    const tables = bigquery.filter((r) => r.type === "gcp:bigquery/table:Table");
    expect(dataset).toHaveLength(1);
    expect(tables).toHaveLength(9);
    for (const resource of [...dataset, ...tables]) {
      const set = EXPIRING.filter((key) => key in resource.inputs);
      const timePartitioning = (resource.inputs.timePartitioning ?? {}) as Record<string, unknown>;
      set.push(
        ...EXPIRING.filter((key) => key in timePartitioning).map((k) => `timePartitioning.${k}`),
      );
      expect([resource.name, set]).toEqual([resource.name, []]);
    }
  });
});

test("a PR stack's config has no table expiration left", async () => {
  const { resources } = await buildStack("pr-7");
  const dataset = resources.find((r) => r.type === "gcp:bigquery/dataset:Dataset");
  expect(dataset?.inputs).not.toHaveProperty("defaultTableExpirationMs");
  expect(dataset?.inputs.deleteContentsOnDestroy).toBe(true);
});

test.each(["pr-4", "dev", "staging", "prod"])(
  "bigquery.defaultTableExpirationDays is refused in %s, saying why",
  (stack) => {
    expect(
      problemsOf(
        { gcp: { projectId: "synter-dev" }, bigquery: { defaultTableExpirationDays: 3 } },
        stack,
      ),
    ).toEqual([
      "synter-platform:bigquery.defaultTableExpirationDays: not supported: BigQuery would delete tables that Pulumi still holds in state once they expire, and no later update recreates them; remove it (a pr stack's dataset goes when the PR environment is destroyed)",
    ]);
  },
);
