/**
 * Teardown: refusal of prod/staging without --confirm, protected resources explained, the ordered
 * plan (snapshots before destroy), and the runner stopping at the first failure so the destroy is
 * never reached when a snapshot fails. The executor is a recording/failing stand-in for processes;
 * the missing Pulumi CLI is checked with real processes (it is not installed here).
 */
import { spawnSync } from "node:child_process";
import * as path from "node:path";
import type { Plan, PlannedResource } from "../../src/plan/resource-graph";
import { EXIT_CODES } from "../../src/cli/exit-codes";
import {
  TeardownRefusedError,
  buildTeardownPlan,
  checkTeardownAllowed,
  protectionProblems,
  type TeardownOptions,
} from "../../src/teardown/teardown-plan";
import {
  libpqEnvironment,
  processExecutor,
  runTeardown,
  type CommandResult,
  type TeardownExecutor,
} from "../../src/teardown/teardown-runner";

const root = path.resolve(__dirname, "../..");
// The real CLI entry, as users run it (only the invoked area is loaded).
const cli = path.join(root, "bin/synter-infra.js");

function resource(
  name: string,
  inputs: PlannedResource["inputs"],
  protect = false,
): PlannedResource {
  return {
    urn: `urn:pulumi:pr-7::synter-platform::gcp:bigquery/table:Table::${name}`,
    type: "gcp:bigquery/table:Table",
    name,
    parent: null,
    custom: true,
    inputs,
    options: {
      protect,
      dependsOn: [],
      deleteBeforeReplace: false,
      retainOnDelete: false,
      ignoreChanges: [],
      replaceOnChanges: [],
      additionalSecretOutputs: [],
      provider: null,
      deletedWith: null,
      aliases: [],
    },
  };
}

function planOf(stack: string, protect: boolean): Plan {
  return {
    project: "synter-platform",
    stack,
    resources: [
      resource(
        "events",
        {
          project: "synter-dev",
          datasetId: "ds_pr_7",
          tableId: "events",
          deletionProtection: protect,
        },
        protect,
      ),
      resource(
        "ad_metrics",
        {
          project: "synter-dev",
          datasetId: "ds_pr_7",
          tableId: "ad_metrics",
          deletionProtection: protect,
        },
        protect,
      ),
      resource(
        "last_touch",
        {
          project: "synter-dev",
          datasetId: "ds_pr_7",
          tableId: "last_touch",
          deletionProtection: protect,
          view: { query: "SELECT 1", useLegacySql: false },
        },
        protect,
      ),
    ],
  };
}

const options: TeardownOptions = {
  stack: "pr-7",
  unprotect: false,
  timestamp: "20250101120000",
  backupDataset: "backups",
  backupExpirationDays: 7,
  dumpDir: "/backups",
  databaseUrlOutput: "postgresUrl",
  databaseUrlGiven: false,
  skipPostgres: false,
  removeStack: true,
};

class RecordingExecutor implements TeardownExecutor {
  readonly calls: { argv: readonly string[]; env: Readonly<Record<string, string>> }[] = [];
  constructor(private readonly respond: (argv: readonly string[]) => CommandResult) {}
  async run(
    argv: readonly string[],
    env: Readonly<Record<string, string>>,
  ): Promise<CommandResult> {
    this.calls.push({ argv, env });
    return this.respond(argv);
  }
}

const ok = (stdout = ""): CommandResult => ({ exitCode: 0, stdout, stderr: "" });
const outputs = JSON.stringify({
  postgresUrl: "postgres://app:s%40cret@db.internal:6543/synter_pr_7?sslmode=require",
});

describe("refusal", () => {
  test.each(["prod", "staging"])("%s needs --confirm with its own name", (stack) => {
    expect(() => checkTeardownAllowed(stack, undefined)).toThrow(TeardownRefusedError);
    expect(() => checkTeardownAllowed(stack, "dev")).toThrow(
      `refusing to tear down ${stack}: it holds real data. Re-run with --confirm ${stack}`,
    );
    expect(() => checkTeardownAllowed(stack, stack)).not.toThrow();
  });

  test("dev and PR stacks need no confirmation", () => {
    expect(() => checkTeardownAllowed("pr-7", undefined)).not.toThrow();
    expect(() => checkTeardownAllowed("dev", undefined)).not.toThrow();
  });

  test("the CLI refuses prod before doing anything, with the exit code of refused", () => {
    const result = spawnSync(process.execPath, [cli, "teardown", "--stack", "prod"], {
      cwd: root,
      encoding: "utf8",
    });
    expect(result.status).toBe(EXIT_CODES.refused);
    expect(result.stderr).toBe(
      "error: refusing to tear down prod: it holds real data. Re-run with --confirm prod (preview the steps with --dry-run; docs/rollback.md explains the restore)\n",
    );
  });
});

describe("protected resources", () => {
  test("are listed with what to do", () => {
    const [problem] = protectionProblems(planOf("pr-7", true), false);
    expect(problem.split("\n").slice(0, 7)).toEqual([
      "stack pr-7 has resources that pulumi destroy will refuse to delete:",
      "  - protect: gcp:bigquery/table:Table events",
      "  - protect: gcp:bigquery/table:Table ad_metrics",
      "  - protect: gcp:bigquery/table:Table last_touch",
      "  - deletionProtection: gcp:bigquery/table:Table events",
      "  - deletionProtection: gcp:bigquery/table:Table ad_metrics",
      "  - deletionProtection: gcp:bigquery/table:Table last_touch",
    ]);
    expect(problem).toContain("pulumi state unprotect --stack pr-7 '<urn>'");
    expect(problem).toContain("--unprotect");
  });

  test("none when nothing is protected, or when --unprotect handles them", () => {
    expect(protectionProblems(planOf("pr-7", false), false)).toEqual([]);
    expect(protectionProblems(planOf("pr-7", true), true)).toEqual([]);
  });

  test("--unprotect adds unprotect, bq rm of each protected table and view, and a refresh, after the snapshots", () => {
    const kinds = buildTeardownPlan(planOf("pr-7", true), { ...options, unprotect: true }).map(
      (s) => s.kind,
    );
    expect(kinds).toEqual([
      "require-tool",
      "require-tool",
      "require-tool",
      "read-outputs",
      "create-backup-dataset",
      "snapshot-table",
      "snapshot-table",
      "dump-postgres",
      "unprotect",
      "delete-protected-table",
      "delete-protected-table",
      "delete-protected-table",
      "refresh",
      "destroy",
      "remove-stack",
    ]);
  });
});

describe("the plan", () => {
  const steps = buildTeardownPlan(planOf("pr-7", false), options);

  test("snapshots every table (not views) and dumps Postgres before destroying", () => {
    expect(steps.map((s) => s.argv.join(" "))).toEqual([
      "bq version",
      "pg_dump --version",
      "pulumi version",
      "pulumi stack output --json --show-secrets --stack pr-7",
      "bq --project_id=synter-dev mk --force --dataset --default_table_expiration=604800 --description=Snapshots taken by synter-infra teardown before destroying stacks synter-dev:backups",
      "bq --project_id=synter-dev cp --snapshot --no_clobber --expiration=604800 synter-dev:ds_pr_7.ad_metrics synter-dev:backups.ad_metrics_pr_7_20250101120000",
      "bq --project_id=synter-dev cp --snapshot --no_clobber --expiration=604800 synter-dev:ds_pr_7.events synter-dev:backups.events_pr_7_20250101120000",
      "pg_dump --format=custom --no-owner --no-privileges --file=/backups/pr-7-20250101120000.dump",
      "pulumi destroy --yes --skip-preview --stack pr-7",
      "pulumi stack rm --yes --stack pr-7",
    ]);
  });

  test("a bucket adds the upload right after the dump", () => {
    const withBucket = buildTeardownPlan(planOf("pr-7", false), {
      ...options,
      bucket: "gs://synter-backups/teardown/",
    });
    const i = withBucket.findIndex((s) => s.kind === "dump-postgres");
    expect(withBucket[i + 1].argv).toEqual([
      "gcloud",
      "storage",
      "cp",
      "/backups/pr-7-20250101120000.dump",
      "gs://synter-backups/teardown/pr-7-20250101120000.dump",
    ]);
  });
});

describe("the runner", () => {
  const steps = buildTeardownPlan(planOf("pr-7", false), options);

  test("runs every step in order, passes the database as libpq env (never argv), and reports what was saved", async () => {
    const executor = new RecordingExecutor((argv) =>
      argv[1] === "stack" && argv[2] === "output" ? ok(outputs) : ok(),
    );
    const outcome = await runTeardown(steps, executor, {});
    expect(outcome.failed).toBeNull();
    expect(executor.calls.map((c) => c.argv)).toEqual(steps.map((s) => s.argv));
    const dump = executor.calls.find((c) => c.argv[0] === "pg_dump" && c.argv[1] !== "--version");
    expect(dump?.env).toEqual({
      PGHOST: "db.internal",
      PGPORT: "6543",
      PGDATABASE: "synter_pr_7",
      PGUSER: "app",
      PGPASSWORD: "s@cret",
      PGSSLMODE: "require",
    });
    expect(
      executor.calls.some(
        (c) => c.argv.join(" ").includes("s@cret") || c.argv.join(" ").includes("s%40cret"),
      ),
    ).toBe(false);
    expect(outcome.saved).toEqual([
      "BigQuery table snapshot synter-dev:backups.ad_metrics_pr_7_20250101120000 (of ds_pr_7.ad_metrics, expires in 7 days)",
      "BigQuery table snapshot synter-dev:backups.events_pr_7_20250101120000 (of ds_pr_7.events, expires in 7 days)",
      "Postgres dump /backups/pr-7-20250101120000.dump (restore: pg_restore --no-owner --dbname=<url> /backups/pr-7-20250101120000.dump)",
    ]);
  });

  test("a failing snapshot stops everything: no dump, no destroy", async () => {
    const executor = new RecordingExecutor((argv) => {
      if (argv.includes("synter-dev:ds_pr_7.events"))
        return { exitCode: 2, stdout: "", stderr: "BigQuery error: Access Denied" };
      return argv[2] === "output" ? ok(outputs) : ok();
    });
    const outcome = await runTeardown(steps, executor, {});
    expect(outcome.failed?.step.argv).toContain("synter-dev:ds_pr_7.events");
    expect(outcome.failed?.message).toBe("exit 2: BigQuery error: Access Denied");
    expect(executor.calls.some((c) => c.argv[1] === "destroy")).toBe(false);
    expect(executor.calls.some((c) => c.argv[0] === "pg_dump" && c.argv[1] !== "--version")).toBe(
      false,
    );
    expect(outcome.saved).toEqual([
      "BigQuery table snapshot synter-dev:backups.ad_metrics_pr_7_20250101120000 (of ds_pr_7.ad_metrics, expires in 7 days)",
    ]);
  });

  test("no database URL stops before the dump (and the destroy)", async () => {
    const executor = new RecordingExecutor((argv) => (argv[2] === "output" ? ok("{}") : ok()));
    const outcome = await runTeardown(steps, executor, {});
    expect(outcome.failed?.step.kind).toBe("dump-postgres");
    expect(outcome.failed?.message).toContain(
      "the stack has no output postgresUrl; pass --database-url, or --skip-postgres",
    );
    expect(executor.calls.some((c) => c.argv[1] === "destroy")).toBe(false);
  });

  test("a missing Pulumi CLI is named with how to install it (real processes)", async () => {
    const pulumiOnly = buildTeardownPlan(
      { project: "p", stack: "pr-7", resources: [] },
      { ...options, skipPostgres: true },
    );
    const savedPath = process.env.PATH;
    process.env.PATH = "/nonexistent";
    try {
      const outcome = await runTeardown(pulumiOnly, processExecutor, {});
      expect(outcome.failed?.step.argv).toEqual(["pulumi", "version"]);
      expect(outcome.failed?.message).toBe(
        "the Pulumi CLI is not installed: https://www.pulumi.com/docs/install/ (curl -fsSL https://get.pulumi.com | sh)",
      );
      expect(outcome.completed).toEqual([]);
    } finally {
      process.env.PATH = savedPath;
    }
  });

  test("libpqEnvironment rejects a non-Postgres URL", () => {
    expect(() => libpqEnvironment("mysql://u:p@h/db")).toThrow(
      "the database URL is not a postgres:// URL",
    );
  });
});
