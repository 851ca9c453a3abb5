/**
 * The offline plan: the fixture program under the mock runtime, run as the CLI runs it (a separate
 * process per run), must print byte-identical JSON every time, record options and redact secrets.
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { EXIT_CODES } from "../../src/cli/exit-codes";
import { placeholderSecret, readStackConfig } from "../../src/plan/stack-config";
import type { Plan } from "../../src/plan/resource-graph";

const root = path.resolve(__dirname, "../..");
const fixture = path.join(__dirname, "fixtures/program");
// The real CLI entry, as users run it (only the invoked area is loaded).
const cli = path.join(root, "bin/synter-infra.js");

function plan(args: string[]): { stdout: string; stderr: string; status: number } {
  try {
    const stdout = execFileSync(process.execPath, [cli, "plan", ...args], {
      cwd: root,
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
    });
    return { stdout, stderr: "", status: 0 };
  } catch (error) {
    const e = error as { stdout: string; stderr: string; status: number };
    return { stdout: e.stdout, stderr: e.stderr, status: e.status };
  }
}

describe("plan --json", () => {
  const first = plan(["--stack", "dev", "--project-dir", fixture, "--json"]);
  const parsed = JSON.parse(first.stdout) as Plan;

  test("two runs print byte-identical JSON", () => {
    const second = plan(["--stack", "dev", "--project-dir", fixture, "--json"]);
    expect(first.status).toBe(0);
    expect(second.stdout).toBe(first.stdout);
  });

  test("records every resource with its parent, sorted by URN", () => {
    const prefix = "urn:pulumi:dev::synter-fixture::";
    expect(parsed.resources.map((r) => r.urn)).toEqual([
      `${prefix}gcp:secretmanager/secretVersion:SecretVersion::admin-password`,
      `${prefix}gcp:secretmanager/secretVersion:SecretVersion::app-password`,
      `${prefix}random:index/randomPassword:RandomPassword::app-password`,
      `${prefix}synter:fixture:Warehouse$gcp:bigquery/dataset:Dataset::warehouse-dataset`,
      `${prefix}synter:fixture:Warehouse$gcp:bigquery/table:Table::warehouse-events`,
      `${prefix}synter:fixture:Warehouse$gcp:bigquery/table:Table::warehouse-events-view`,
      `${prefix}synter:fixture:Warehouse::warehouse`,
    ]);
    const view = parsed.resources.find((r) => r.name === "warehouse-events-view");
    expect(view?.parent).toBe(`${prefix}synter:fixture:Warehouse::warehouse`);
    expect(view?.options.dependsOn).toEqual([
      `${prefix}synter:fixture:Warehouse$gcp:bigquery/table:Table::warehouse-events`,
    ]);
    expect(view?.inputs.view).toEqual({
      query: "SELECT id, ts FROM `fixture-project.fixture_dev.events`",
      useLegacySql: false,
    });
    const events = parsed.resources.find((r) => r.name === "warehouse-events");
    expect(events?.options.deleteBeforeReplace).toBe(true);
    expect(events?.options.protect).toBe(false);
    expect(events?.inputs.timePartitioning).toEqual({ field: "ts", type: "DAY" });
  });

  test("secrets are [secret] and placeholders never printed", () => {
    const admin = parsed.resources.find(
      (r) =>
        r.type === "gcp:secretmanager/secretVersion:SecretVersion" && r.name === "admin-password",
    );
    const app = parsed.resources.find(
      (r) =>
        r.type === "gcp:secretmanager/secretVersion:SecretVersion" && r.name === "app-password",
    );
    expect(admin?.inputs.secretData).toBe("[secret]");
    expect(app?.inputs.secretData).toBe("[secret]");
    expect(first.stdout).not.toContain("plan-placeholder");
  });

  test("prod config turns protection on", () => {
    const prod = JSON.parse(
      plan(["--stack", "prod", "--project-dir", fixture, "--json"]).stdout,
    ) as Plan;
    const protectedNames = prod.resources.filter((r) => r.options.protect).map((r) => r.name);
    expect(protectedNames).toEqual(["warehouse-dataset", "warehouse-events"]);
    expect(prod.resources.find((r) => r.name === "warehouse-dataset")?.inputs.location).toBe("EU");
  });
});

describe("plan tree and errors", () => {
  test("the tree shows type, name, flags and key inputs", () => {
    const result = plan(["--stack", "prod", "--project-dir", fixture]);
    expect(result.stdout).toContain("stack prod (project synter-fixture): 7 resources\n");
    expect(result.stdout).toContain(
      "    gcp:bigquery/table:Table warehouse-events [protected, delete-before-replace] project=fixture-project datasetId=fixture_prod tableId=events deletionProtection=true\n",
    );
  });

  test("an unknown stack names the missing file and the known stacks", () => {
    const result = plan(["--stack", "nope", "--project-dir", fixture]);
    expect(result.status).toBe(EXIT_CODES.usage);
    expect(result.stderr).toBe(
      `error: no configuration for stack "nope": ${path.join(fixture, "Pulumi.nope.yaml")} does not exist (stacks: dev, prod)\n`,
    );
  });
});

describe("readStackConfig", () => {
  test("qualifies keys, applies project defaults and marks secure values secret", () => {
    const config = readStackConfig(fixture, "dev");
    expect(config.project).toBe("synter-fixture");
    expect(config.values).toEqual({
      "synter-fixture:location": "US",
      "synter-fixture:dataset": "fixture_dev",
      "synter-fixture:protect": "false",
      "synter-fixture:adminPassword": placeholderSecret("synter-fixture:adminPassword"),
    });
    expect(config.secretKeys).toEqual(["synter-fixture:adminPassword"]);
  });

  test("URL-like secrets get a URL-shaped placeholder", () => {
    expect(placeholderSecret("synter:postgresUrl")).toMatch(
      /^postgres:\/\/.+@plan-placeholder\.invalid:5432\//,
    );
    expect(placeholderSecret("synter:passphrase")).toBe("plan-placeholder-secret-passphrase");
  });
});

const realStacks = ["dev", "staging", "prod"].filter((s) =>
  fs.existsSync(path.join(root, `Pulumi.${s}.yaml`)),
);

describe("the project's own stacks", () => {
  test.each(realStacks)("plan --stack %s is deterministic", (stack) => {
    const a = plan(["--stack", stack, "--project-dir", root, "--json"]);
    const b = plan(["--stack", stack, "--project-dir", root, "--json"]);
    expect(a.stderr).toBe("");
    expect(a.status).toBe(0);
    expect((JSON.parse(a.stdout) as Plan).resources.length).toBeGreaterThan(0);
    expect(b.stdout).toBe(a.stdout);
  });
});

describe("plan of this project's stacks", () => {
  test("a pr-<n> stack without its file is planned from Pulumi.pr.template.yaml", () => {
    const result = plan(["--stack", "pr-42", "--json"]);
    expect(result.status).toBe(0);
    const pr = JSON.parse(result.stdout) as Plan;
    const byName = (name: string) => pr.resources.find((r) => r.name === name);
    expect(byName("warehouse-dataset")?.inputs.datasetId).toBe("synter_analytics_pr_42");
    // Nothing expires the tables Pulumi holds in state: the PR's destroy removes them.
    expect(byName("warehouse-dataset")?.inputs.defaultTableExpirationMs).toBeUndefined();
    expect(byName("auth-database")?.inputs.name).toBe("synter_pr_42");
    expect(byName("dev-stack")?.type).toBe("pulumi:pulumi:StackReference");
    // No servers of its own: it reuses dev's through the reference.
    expect(pr.resources.filter((r) => /railway|sql\/|redis\//i.test(r.type))).toEqual([]);
    expect(pr.resources.filter((r) => r.options.protect)).toEqual([]);
  });
});
