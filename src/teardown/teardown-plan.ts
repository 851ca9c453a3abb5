/**
 * Teardown as an explicit, ordered list of steps — snapshot everything first, destroy last — built
 * by a pure function from the stack's offline plan, so it can be printed (`--dry-run`), reviewed
 * and tested without running anything. The runner (teardown-runner.ts) executes it through an
 * injectable executor and stops at the first failure: the destroy is never reached unless every
 * snapshot succeeded.
 */
import type { Plan, PlannedResource } from "../plan/resource-graph";
import { ToolError } from "../errors/tool-error";

export const CONFIRM_REQUIRED_STACKS = ["prod", "staging"] as const;

/** A teardown that needs a go-ahead it was not given (`--confirm <stack>`, `--unprotect`). */
export class TeardownRefusedError extends ToolError {
  constructor(message: string) {
    super("refused", message);
  }
}

export type StepKind =
  | "require-tool"
  | "read-outputs"
  | "create-backup-dataset"
  | "snapshot-table"
  | "dump-postgres"
  | "upload-dump"
  | "unprotect"
  | "delete-protected-table"
  | "refresh"
  | "destroy"
  | "remove-stack";

export interface TeardownStep {
  readonly kind: StepKind;
  readonly description: string;
  /** The command, argv form (no shell). Secrets are never part of it. */
  readonly argv: readonly string[];
  /** What this step saves, and where — reported at the end. */
  readonly saves?: string;
  /** dump-postgres: the connection comes from this stack output (or --database-url), as libpq env. */
  readonly databaseUrlOutput?: string;
}

export interface TeardownOptions {
  readonly stack: string;
  readonly confirm?: string;
  /** Run `pulumi state unprotect --all` and remove deletion-protected tables after the snapshots. */
  readonly unprotect: boolean;
  /** yyyymmddhhmmss, injected so the plan is deterministic. */
  readonly timestamp: string;
  readonly backupDataset: string;
  readonly backupExpirationDays: number;
  readonly dumpDir: string;
  readonly bucket?: string;
  readonly databaseUrlOutput: string;
  readonly databaseUrlGiven: boolean;
  readonly skipPostgres: boolean;
  readonly removeStack: boolean;
}

interface BigQueryTarget {
  readonly project: string;
  readonly dataset: string;
  readonly table: string;
  readonly isView: boolean;
  readonly deletionProtection: boolean;
  readonly urn: string;
}

function str(value: unknown): string | null {
  return typeof value === "string" && value !== "" && value !== "[unknown]" ? value : null;
}

export function bigQueryTargets(plan: Plan): BigQueryTarget[] {
  return plan.resources
    .filter((r) => r.type === "gcp:bigquery/table:Table")
    .map((r) => ({
      project: str(r.inputs.project) ?? "",
      dataset: str(r.inputs.datasetId) ?? "",
      table: str(r.inputs.tableId) ?? "",
      isView: r.inputs.view !== undefined || r.inputs.materializedView !== undefined,
      deletionProtection: r.inputs.deletionProtection === true,
      urn: r.urn,
    }))
    .sort((a, b) => `${a.dataset}.${a.table}`.localeCompare(`${b.dataset}.${b.table}`));
}

/** Why the stack cannot be destroyed as it is, and what to do — or nothing. */
export function protectionProblems(plan: Plan, unprotect: boolean): string[] {
  if (unprotect) return [];
  const protectedResources: PlannedResource[] = plan.resources.filter((r) => r.options.protect);
  const deletionProtected = plan.resources.filter((r) => r.inputs.deletionProtection === true);
  if (protectedResources.length === 0 && deletionProtected.length === 0) return [];
  const lines = [
    `stack ${plan.stack} has resources that pulumi destroy will refuse to delete:`,
    ...protectedResources.map((r) => `  - protect: ${r.type} ${r.name}`),
    ...deletionProtected.map((r) => `  - deletionProtection: ${r.type} ${r.name}`),
    "Pulumi `protect` is lifted per resource with",
    `  pulumi state unprotect --stack ${plan.stack} '<urn>'   (or --all --yes for every resource)`,
    "and the providers' deletion protection is an input the program sets from the stack's protect config, which staging and prod refuse to turn off.",
    "Re-run teardown with --unprotect to do both after the snapshots: it unprotects the state, deletes the snapshotted tables and views with `bq rm`, refreshes, then destroys.",
  ];
  return [lines.join("\n")];
}

export function checkTeardownAllowed(stack: string, confirm: string | undefined): void {
  if ((CONFIRM_REQUIRED_STACKS as readonly string[]).includes(stack) && confirm !== stack) {
    throw new TeardownRefusedError(
      `refusing to tear down ${stack}: it holds real data. Re-run with --confirm ${stack} (preview the steps with --dry-run; docs/rollback.md explains the restore)`,
    );
  }
}

/** Each tool's harmless "are you there" command (bq rejects --version). */
const VERSION_COMMANDS: Readonly<Record<string, readonly string[]>> = {
  bq: ["bq", "version"],
  gcloud: ["gcloud", "--version"],
  pg_dump: ["pg_dump", "--version"],
  pulumi: ["pulumi", "version"],
};

export function buildTeardownPlan(plan: Plan, options: TeardownOptions): TeardownStep[] {
  const { stack, timestamp } = options;
  const targets = bigQueryTargets(plan);
  const tables = targets.filter((t) => !t.isView);
  const steps: TeardownStep[] = [];
  const tools = new Set(["pulumi"]);
  if (tables.length > 0) tools.add("bq");
  if (!options.skipPostgres) tools.add("pg_dump");
  if (options.bucket) tools.add("gcloud");
  for (const tool of [...tools].sort()) {
    steps.push({
      kind: "require-tool",
      description: `${tool} is installed`,
      argv: VERSION_COMMANDS[tool],
    });
  }
  steps.push({
    kind: "read-outputs",
    description: `read the outputs of stack ${stack}`,
    argv: ["pulumi", "stack", "output", "--json", "--show-secrets", "--stack", stack],
  });

  const projects = [...new Set(tables.map((t) => t.project))].sort();
  const expirationSeconds = options.backupExpirationDays * 86400;
  for (const project of projects) {
    steps.push({
      kind: "create-backup-dataset",
      description: `backup dataset ${project}:${options.backupDataset} (tables expire after ${options.backupExpirationDays} days)`,
      argv: [
        "bq",
        `--project_id=${project}`,
        "mk",
        "--force",
        "--dataset",
        `--default_table_expiration=${expirationSeconds}`,
        `--description=Snapshots taken by synter-infra teardown before destroying stacks`,
        `${project}:${options.backupDataset}`,
      ],
    });
  }
  for (const t of tables) {
    const snapshot = `${options.backupDataset}.${t.table}_${stack.replace(/[^a-zA-Z0-9_]/g, "_")}_${timestamp}`;
    steps.push({
      kind: "snapshot-table",
      description: `snapshot ${t.project}:${t.dataset}.${t.table}`,
      argv: [
        "bq",
        `--project_id=${t.project}`,
        "cp",
        "--snapshot",
        "--no_clobber",
        `--expiration=${expirationSeconds}`,
        `${t.project}:${t.dataset}.${t.table}`,
        `${t.project}:${snapshot}`,
      ],
      saves: `BigQuery table snapshot ${t.project}:${snapshot} (of ${t.dataset}.${t.table}, expires in ${options.backupExpirationDays} days)`,
    });
  }
  if (!options.skipPostgres) {
    const file = `${options.dumpDir}/${stack}-${timestamp}.dump`;
    steps.push({
      kind: "dump-postgres",
      description: `pg_dump of stack ${stack}'s database (${options.databaseUrlGiven ? "--database-url" : `stack output ${options.databaseUrlOutput}`})`,
      argv: ["pg_dump", "--format=custom", "--no-owner", "--no-privileges", `--file=${file}`],
      saves: `Postgres dump ${file} (restore: pg_restore --no-owner --dbname=<url> ${file})`,
      databaseUrlOutput: options.databaseUrlOutput,
    });
    if (options.bucket) {
      const object = `${options.bucket.replace(/\/$/, "")}/${stack}-${timestamp}.dump`;
      steps.push({
        kind: "upload-dump",
        description: `upload the dump to ${object}`,
        argv: ["gcloud", "storage", "cp", file, object],
        saves: `Postgres dump ${object}`,
      });
    }
  }
  if (options.unprotect) {
    steps.push({
      kind: "unprotect",
      description: "lift Pulumi protect on every resource of the stack",
      argv: ["pulumi", "state", "unprotect", "--all", "--yes", "--stack", stack],
    });
    const blocked = targets.filter((t) => t.deletionProtection);
    for (const t of blocked) {
      steps.push({
        kind: "delete-protected-table",
        description: `delete ${t.isView ? "view" : "table"} ${t.project}:${t.dataset}.${t.table} (deletion protection blocks pulumi destroy; ${t.isView ? "recreated by pulumi up" : "snapshotted above"})`,
        argv: [
          "bq",
          `--project_id=${t.project}`,
          "rm",
          "--force",
          "--table",
          `${t.project}:${t.dataset}.${t.table}`,
        ],
      });
    }
    if (blocked.length > 0) {
      steps.push({
        kind: "refresh",
        description: "refresh the state so the deleted tables leave it",
        argv: ["pulumi", "refresh", "--yes", "--skip-preview", "--stack", stack],
      });
    }
  }
  steps.push({
    kind: "destroy",
    description: `destroy every resource of stack ${stack}`,
    argv: ["pulumi", "destroy", "--yes", "--skip-preview", "--stack", stack],
  });
  if (options.removeStack) {
    steps.push({
      kind: "remove-stack",
      description: `remove stack ${stack} (its state and config)`,
      argv: ["pulumi", "stack", "rm", "--yes", "--stack", stack],
    });
  }
  return steps;
}

export function renderTeardownPlan(steps: readonly TeardownStep[]): string {
  return `${steps.map((s, i) => `${String(i + 1).padStart(2)}. ${s.description}\n    $ ${s.argv.join(" ")}`).join("\n")}\n`;
}
