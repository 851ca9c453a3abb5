/**
 * Config validation: every stack file parses; each bad value is reported with its key; all
 * problems come at once; the environment's safety rules hold; Pulumi.yaml declares every key.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { parse as parseYaml } from "yaml";
import {
  CONFIG_KEYS,
  ConfigError,
  decodeConfigValue,
  environmentOf,
  loadConfig,
  parseConfig,
  PROJECT_NAME,
  renderPrStackConfig,
} from "../../infra/config";
import { REPOSITORY_ROOT, runUnderMocks } from "../support/pulumi-harness";
import { stackConfig } from "./stack-run";

/** Raw values (unqualified key → decoded value) of a stack, as loadConfig hands them over. */
function rawOf(stack: string): Record<string, unknown> {
  const { values } = stackConfig(stack);
  const raw: Record<string, unknown> = {};
  for (const [fullKey, text] of Object.entries(values)) {
    if (!fullKey.startsWith(`${PROJECT_NAME}:`)) continue;
    const key = fullKey.slice(PROJECT_NAME.length + 1);
    raw[key] = decodeConfigValue(key, text);
  }
  return raw;
}

function problemsOf(raw: Record<string, unknown>, stack: string, secretKeys: string[] = []) {
  try {
    parseConfig(raw, stack, secretKeys);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error("expected a ConfigError");
}

const minimal = (extra: Record<string, unknown> = {}) => ({
  gcp: { projectId: "synter-dev" },
  ...extra,
});

describe("stack files", () => {
  test("dev", () => {
    const cfg = parseConfig(rawOf("dev"), "dev");
    expect(cfg.environment).toEqual({ kind: "dev", stack: "dev" });
    expect(cfg.protect).toBe(false);
    expect(cfg.gcp).toEqual({ projectId: "synter-dev", region: "us-central1" });
    expect(cfg.bigquery).toEqual({
      datasetId: "synter_analytics",
      location: "US",
      description: expect.stringContaining("(dev)"),
      requirePartitionFilter: [],
    });
    expect(cfg.devStack).toBeUndefined();
    expect(cfg.postgres.hosting).toBe("railway");
  });

  test("staging and prod are protected; prod requires a partition filter on events", () => {
    const staging = parseConfig(rawOf("staging"), "staging");
    const prod = parseConfig(rawOf("prod"), "prod");
    expect([staging.protect, prod.protect]).toEqual([true, true]);
    expect(staging.bigquery.requirePartitionFilter).toEqual([]);
    expect(prod.bigquery.requirePartitionFilter).toEqual(["events"]);
    expect(prod.gcp.projectId).toBe("synter-prod");
  });

  test("a PR stack from the template", () => {
    const cfg = parseConfig(rawOf("pr-123"), "pr-123");
    expect(cfg.environment).toEqual({ kind: "pr", stack: "pr-123", prNumber: 123 });
    expect(cfg.protect).toBe(false);
    expect(cfg.bigquery).toEqual({
      datasetId: "synter_analytics_pr_123",
      location: "US",
      description: expect.stringContaining("(pr-123)"),
      requirePartitionFilter: [],
    });
    expect(cfg.devStack).toEqual({
      name: "organization/synter-platform/dev",
      postgresSslMode: "require",
      redisTls: false,
    });
    expect(cfg.labels).toEqual({
      team: "data-platform",
      "cost-center": "synter-dev",
      "pull-request": "123",
      app: "synter",
      environment: "pr",
      stack: "pr-123",
      "managed-by": "pulumi",
    });
  });

  test("PR defaults derive from the stack name when the keys are absent", () => {
    const cfg = parseConfig(minimal(), "pr-9");
    expect(cfg.bigquery.datasetId).toBe("synter_analytics_pr_9");
    expect(cfg.bigquery).not.toHaveProperty("defaultTableExpirationDays");
    expect(cfg.devStack).toEqual({
      name: "organization/synter-platform/dev",
      postgresSslMode: "require",
      redisTls: false,
    });
    expect(cfg.protect).toBe(false);
  });

  test("protection defaults per environment when the key is absent", () => {
    expect(parseConfig(minimal(), "prod").protect).toBe(true);
    expect(parseConfig(minimal(), "staging").protect).toBe(true);
    expect(parseConfig(minimal(), "dev").protect).toBe(false);
    expect(parseConfig(minimal(), "local").protect).toBe(false);
  });

  test("the template renders only with a placeholder and a positive number", () => {
    const template = fs.readFileSync(path.join(REPOSITORY_ROOT, "Pulumi.pr.template.yaml"), "utf8");
    const rendered = renderPrStackConfig(template, 5);
    expect(rendered).not.toContain("__PR_NUMBER__");
    expect(rendered).toContain("synter_analytics_pr_5");
    expect(() => renderPrStackConfig(template, 0)).toThrow(
      "pull request number 0 must be a positive integer",
    );
    expect(() => renderPrStackConfig("config: {}", 5)).toThrow("has no __PR_NUMBER__ placeholder");
  });
});

describe("Pulumi.yaml", () => {
  const project = parseYaml(fs.readFileSync(path.join(REPOSITORY_ROOT, "Pulumi.yaml"), "utf8")) as {
    name: string;
    runtime: { name: string; options: { typescript: boolean } };
    config: Record<string, { type?: string; description?: string; default?: unknown }>;
  };

  test("names the project the program reads its namespace from, with TypeScript", () => {
    expect(project.name).toBe(PROJECT_NAME);
    expect(project.runtime).toMatchObject({ name: "nodejs", options: { typescript: true } });
  });

  test("declares exactly the keys the program reads, each with a description", () => {
    expect(Object.keys(project.config).sort()).toEqual([...CONFIG_KEYS].sort());
    for (const [key, declaration] of Object.entries(project.config)) {
      expect([key, typeof declaration.description]).toEqual([key, "string"]);
      // Pulumi's declared types are only string, integer, boolean and array.
      if (declaration.type !== undefined) {
        expect(["string", "integer", "boolean", "array"]).toContain(declaration.type);
      }
    }
  });

  test("its defaults are valid config on their own (plus the required project)", () => {
    const defaults = Object.fromEntries(
      Object.entries(project.config)
        .filter(([, d]) => d.default !== undefined)
        .map(([key, d]) => [key, d.default]),
    );
    expect(() => parseConfig({ ...defaults, ...minimal() }, "dev")).not.toThrow();
    expect(() => parseConfig({ ...defaults, ...minimal() }, "pr-3")).not.toThrow();
  });

  test("stack files hold no plain-text secrets", () => {
    for (const file of fs
      .readdirSync(REPOSITORY_ROOT)
      .filter((f) => /^Pulumi\..+\.yaml$/.test(f))) {
      // The config block only: `secretsprovider:` (a KMS key's name) is no secret.
      const text = JSON.stringify(
        (
          parseYaml(fs.readFileSync(path.join(REPOSITORY_ROOT, file), "utf8")) as {
            config?: unknown;
          }
        ).config ?? {},
      );
      expect([file, /password|adminUrl|secret|token|:\/\/[^ ]*@/i.test(text)]).toEqual([
        file,
        false,
      ]);
    }
  });
});

describe("bad config: each invalid value names its key", () => {
  test.each<[string, string, Record<string, unknown>, string]>([
    ["missing project", "dev", {}, "synter-platform:gcp: Required"],
    [
      "project id",
      "dev",
      { gcp: { projectId: "Synter_Dev" } },
      "synter-platform:gcp.projectId: must be a GCP project id (6–30 of a-z, 0-9, -; starts with a letter)",
    ],
    [
      "region",
      "dev",
      minimal({ gcp: { projectId: "synter-dev", region: "mars" } }),
      "synter-platform:gcp.region: must be a GCP region such as us-central1",
    ],
    [
      "location",
      "dev",
      minimal({ bigquery: { location: "us" } }),
      "synter-platform:bigquery.location: must be US, EU or a region such as europe-west2",
    ],
    [
      "dataset id",
      "dev",
      minimal({ bigquery: { datasetId: "synter-analytics" } }),
      "synter-platform:bigquery.datasetId: must be letters, digits and underscores",
    ],
    [
      "partition filter table",
      "dev",
      minimal({ bigquery: { requirePartitionFilter: ["event"] } }),
      "synter-platform:bigquery.requirePartitionFilter[0]: must be one of events, ad_metrics, conversions, touchpoints, agent_runs",
    ],
    ["unknown key", "dev", minimal({ bigqery: {} }), "synter-platform:bigqery: unknown key"],
    [
      "unknown nested key",
      "dev",
      minimal({ bigquery: { locaton: "EU" } }),
      "synter-platform:bigquery.locaton: unknown key",
    ],
    [
      "protect type",
      "dev",
      minimal({ protect: "yes" }),
      "synter-platform:protect: Expected boolean, received string",
    ],
    [
      "label value",
      "dev",
      minimal({ labels: { team: "Data Platform" } }),
      "synter-platform:labels.team: label values hold ≤ 63 of a-z, 0-9, _ and -",
    ],
    [
      "derived label",
      "dev",
      minimal({ labels: { environment: "x" } }),
      "synter-platform:labels.environment: set by the program; remove it from config",
    ],
    [
      "create project without a parent",
      "dev",
      minimal({
        gcp: { projectId: "synter-dev", createProject: { billingAccount: "0123AB-4567CD-89EF01" } },
      }),
      "synter-platform:gcp.createProject: set exactly one of folderId and orgId (where the new project lives)",
    ],
    [
      "billing account",
      "dev",
      minimal({
        gcp: { projectId: "synter-dev", createProject: { billingAccount: "abc", orgId: "1" } },
      }),
      "synter-platform:gcp.createProject.billingAccount: must look like 012345-6789AB-CDEF01",
    ],
    [
      "unprotected prod",
      "prod",
      minimal({ protect: false }),
      "synter-platform:protect: must stay true in prod (it holds real data; teardown unprotects explicitly)",
    ],
    [
      "protected PR stack",
      "pr-4",
      minimal({ protect: true }),
      "synter-platform:protect: must be false in a pr stack (it is destroyed when the PR closes)",
    ],
    [
      "PR stack on the dev dataset",
      "pr-4",
      minimal({ bigquery: { datasetId: "synter_analytics" } }),
      "synter-platform:bigquery.datasetId: must be synter_analytics_pr_4 in stack pr-4 (a PR stack deletes its dataset's contents on destroy, so it never shares a dataset)",
    ],
    [
      "PR stack with its own server",
      "pr-4",
      minimal({ postgres: { hosting: "cloudsql" } }),
      "synter-platform:postgres: not allowed in a pr stack: it reuses the dev stack's server (see devStack)",
    ],
    [
      "dev stack reference",
      "pr-4",
      minimal({ devStack: "dev" }),
      "synter-platform:devStack: must be <organization>/<project>/<stack>",
    ],
    [
      "plain-text admin URL",
      "dev",
      minimal({
        postgres: {
          hosting: "external",
          external: { adminUrl: "postgresql://a:b@db.example:5432/x" },
        },
      }),
      "synter-platform:postgres.external.adminUrl: must be a secret: pulumi config set --secret --path postgres.external.adminUrl <url>",
    ],
    [
      "hosting section (from the hosting schema)",
      "dev",
      minimal({ redis: { hosting: "elasticache" } }),
      "synter-platform:redis.hosting: Invalid enum value. Expected 'railway' | 'memorystore' | 'external', received 'elasticache'",
    ],
    [
      "stack name",
      "feature-x",
      minimal(),
      'stack name "feature-x" is not one of dev, staging, prod, local or pr-<number>',
    ],
  ])("%s", (_label, stack, raw, message) => {
    expect(problemsOf(raw, stack)).toEqual([message]);
  });

  test("every problem is reported at once, in one error naming the stack", () => {
    const raw = {
      gcp: { projectId: "X", region: "mars" },
      bigquery: {
        location: "moon",
        datasetId: "synter_analytics",
        defaultTableExpirationDays: 400,
      },
      protect: true,
      labels: { stack: "mine" },
      typo: 1,
    };
    let error: unknown;
    try {
      parseConfig(raw, "pr-12");
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems;
    expect([...problems].sort()).toEqual(
      [
        "synter-platform:gcp.projectId: must be a GCP project id (6–30 of a-z, 0-9, -; starts with a letter)",
        "synter-platform:gcp.region: must be a GCP region such as us-central1",
        "synter-platform:bigquery.location: must be US, EU or a region such as europe-west2",
        "synter-platform:typo: unknown key",
        "synter-platform:protect: must be false in a pr stack (it is destroyed when the PR closes)",
        "synter-platform:bigquery.datasetId: must be synter_analytics_pr_12 in stack pr-12 (a PR stack deletes its dataset's contents on destroy, so it never shares a dataset)",
        "synter-platform:bigquery.defaultTableExpirationDays: not supported: BigQuery would delete tables that Pulumi still holds in state once they expire, and no later update recreates them; remove it (a pr stack's dataset goes when the PR environment is destroyed)",
        "synter-platform:labels.stack: set by the program; remove it from config",
      ].sort(),
    );
    expect((error as Error).message).toMatch(/^invalid configuration for stack pr-12:\n {2}- /);
  });

  test("a secret admin URL passes, and its value never appears in an error", () => {
    const url = "postgresql://admin:hunter2hunter2@db.example:5432/postgres";
    const raw = minimal({ postgres: { hosting: "external", external: { adminUrl: url } } });
    expect(parseConfig(raw, "dev", ["postgres"]).postgres.external.adminUrl).toBe(url);
    const problems = problemsOf({ ...raw, gcp: { projectId: "BAD" } }, "dev", []);
    expect(problems.join("\n")).not.toContain("hunter2");
  });
});

test("environment from the stack name", () => {
  expect(environmentOf("pr-1")).toEqual({ kind: "pr", stack: "pr-1", prNumber: 1 });
  expect(environmentOf("pr-01")).toEqual(
    'stack name "pr-01" is not one of dev, staging, prod, local or pr-<number>',
  );
  expect(environmentOf("local")).toEqual({ kind: "local", stack: "local" });
});

test("config values: JSON where structured, devStack verbatim", () => {
  expect(decodeConfigValue("protect", "true")).toBe(true);
  expect(decodeConfigValue("gcp", '{"projectId":"p"}')).toEqual({ projectId: "p" });
  expect(decodeConfigValue("devStack", "organization/synter-platform/dev")).toBe(
    "organization/synter-platform/dev",
  );
  expect(decodeConfigValue("labels", "not json")).toBe("not json");
});

describe("loadConfig under the runtime", () => {
  const load = (values: Record<string, string>, secretKeys: string[]) =>
    runUnderMocks({ project: PROJECT_NAME, stack: "dev", config: values, secretKeys }, () =>
      loadConfig(),
    );
  const external = JSON.stringify({
    hosting: "external",
    external: { adminUrl: "postgresql://admin:pw123456@db.example:5432/postgres" },
  });

  test("reads the secret flag of each key from the runtime", async () => {
    const values = { ...stackConfig("dev").values, "synter-platform:postgres": external };
    const { result } = await load(values, ["synter-platform:postgres"]);
    expect(result.secretKeys).toEqual(["postgres"]);
    await expect(load(values, [])).rejects.toThrow(
      "synter-platform:postgres.external.adminUrl: must be a secret",
    );
  });

  test("reports a misspelt key of the namespace, ignores other namespaces", async () => {
    const values = {
      ...stackConfig("dev").values,
      "synter-platform:protcet": "true",
      "gcp:zone": "us-central1-a",
    };
    await expect(load(values, [])).rejects.toThrow(
      "invalid configuration for stack dev:\n  - synter-platform:protcet: unknown key",
    );
  });
});
