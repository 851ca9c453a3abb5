/**
 * `diff`: the plan and schema of a base git ref against the working tree. Each checkout is
 * snapshotted in its own process; migrations are compared file by file; the result is one report
 * that renders as a pull-request comment or JSON, and the failure it amounts to (if any).
 */
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { createTwoFilesPatch } from "diff";
import { ToolError } from "../errors/tool-error";
import { classifyTableChange, type BigQueryTableChange } from "./bigquery-change-rules";
import { checkoutRef, repositoryRoot } from "./git-checkout";
import { analyseMigrations, type MigrationInput, type MigrationRisk } from "./migration-risks";
import { MIGRATION_FILE, renderMigration } from "./migration-sql";
import { diffPlans, type ResourceDiff } from "./resource-diff";
import type { CheckoutSnapshot } from "./snapshot";
import { tablesFromPlan, viewsFromPlan, type KeyedTableSpec, type ViewSpec } from "./table-specs";

export interface TableReport extends BigQueryTableChange {
  readonly key: string;
}

export interface ViewChange {
  readonly key: string;
  readonly status: "added" | "removed" | "changed";
  /** Unified diff of the SQL. */
  readonly patch: string;
}

export interface MigrationProblem {
  readonly file: string;
  readonly problem: "edited" | "deleted";
}

export interface DiffReport {
  readonly baseRef: string;
  readonly baseCommit: string;
  readonly stack: string;
  /** Where table definitions were read from: the plans, or `schema/` when a side has no plan. */
  readonly tableSource: "plan" | "schema";
  readonly notes: readonly string[];
  readonly resources: ResourceDiff | null;
  readonly tables: {
    readonly added: readonly string[];
    readonly removed: readonly string[];
    readonly changed: readonly TableReport[];
  };
  readonly views: readonly ViewChange[];
  readonly migrations: {
    readonly added: readonly string[];
    readonly problems: readonly MigrationProblem[];
    readonly risks: readonly MigrationRisk[];
  };
  readonly dataLoss: boolean;
  readonly errors: readonly string[];
}

export type MigrationFiles = ReadonlyMap<string, string>;

export function readMigrationFiles(projectDir: string): Map<string, string> {
  const dir = path.join(projectDir, "migrations");
  const files = new Map<string, string>();
  if (!fs.existsSync(dir)) return files;
  for (const name of fs.readdirSync(dir).sort()) {
    const full = path.join(dir, name);
    if (MIGRATION_FILE.test(name) && fs.statSync(full).isFile()) {
      files.set(name, createHash("sha256").update(fs.readFileSync(full)).digest("hex"));
    }
  }
  return files;
}

export function compareMigrationFiles(
  base: MigrationFiles,
  head: MigrationFiles,
): { added: string[]; problems: MigrationProblem[] } {
  const added = [...head.keys()].filter((f) => !base.has(f)).sort();
  const problems: MigrationProblem[] = [];
  for (const [file, hash] of [...base.entries()].sort()) {
    const current = head.get(file);
    if (current === undefined) problems.push({ file, problem: "deleted" });
    else if (current !== hash) problems.push({ file, problem: "edited" });
  }
  return { added, problems };
}

function compareTables(
  base: readonly KeyedTableSpec[],
  head: readonly KeyedTableSpec[],
): DiffReport["tables"] {
  const before = new Map(base.map((t) => [t.key, t.spec]));
  const after = new Map(head.map((t) => [t.key, t.spec]));
  const changed: TableReport[] = [];
  for (const [key, spec] of after) {
    const old = before.get(key);
    if (!old) continue;
    const change = classifyTableChange(old, spec);
    if (change.findings.length > 0) changed.push({ key, ...change });
  }
  return {
    added: [...after.keys()].filter((k) => !before.has(k)).sort(),
    removed: [...before.keys()].filter((k) => !after.has(k)).sort(),
    changed: changed.sort((a, b) => a.key.localeCompare(b.key)),
  };
}

function compareViews(base: readonly ViewSpec[], head: readonly ViewSpec[]): ViewChange[] {
  const before = new Map(base.map((v) => [v.key, v.sql]));
  const after = new Map(head.map((v) => [v.key, v.sql]));
  const keys = [...new Set([...before.keys(), ...after.keys()])].sort();
  const changes: ViewChange[] = [];
  for (const key of keys) {
    const old = before.get(key);
    const current = after.get(key);
    if (old === current) continue;
    const status = old === undefined ? "added" : current === undefined ? "removed" : "changed";
    const patch = createTwoFilesPatch(
      `base/${key}.sql`,
      `head/${key}.sql`,
      old ?? "",
      current ?? "",
      "",
      "",
      {
        context: 3,
      },
    );
    changes.push({ key, status, patch });
  }
  return changes;
}

export interface CompareInput {
  readonly baseRef: string;
  readonly baseCommit: string;
  readonly stack: string;
  readonly base: CheckoutSnapshot;
  readonly head: CheckoutSnapshot;
  readonly headHasProgram: boolean;
  readonly baseMigrations: MigrationFiles;
  readonly headMigrations: MigrationFiles;
  /** Rendered SQL of the migrations that are new in head, in file order. */
  readonly newMigrations: readonly MigrationInput[];
}

/** Pure: two snapshots and the migration listings in, the report out. */
export function compareCheckouts(input: CompareInput): DiffReport {
  const { base, head } = input;
  const notes: string[] = [];
  const errors: string[] = [];
  if (base.planError) notes.push(`base ${input.baseRef}: no plan (${base.planError})`);
  if (head.planError) {
    if (input.headHasProgram) errors.push(`working tree: the plan failed: ${head.planError}`);
    else notes.push(`working tree: no plan (${head.planError})`);
  }
  if (base.schemaError)
    notes.push(`base ${input.baseRef}: schema/ could not be loaded (${base.schemaError})`);
  if (head.schemaError)
    errors.push(`working tree: schema/ could not be loaded: ${head.schemaError}`);

  const basePlanTables = base.plan ? tablesFromPlan(base.plan.resources) : [];
  const headPlanTables = head.plan ? tablesFromPlan(head.plan.resources) : [];
  const usePlans = basePlanTables.length > 0 && headPlanTables.length > 0;
  if (!usePlans)
    notes.push("BigQuery tables and views compared from schema/ (a side has no planned tables)");
  const tables = usePlans
    ? compareTables(basePlanTables, headPlanTables)
    : compareTables(base.schemaTables, head.schemaTables);
  const views = usePlans
    ? compareViews(
        viewsFromPlan(base.plan?.resources ?? []),
        viewsFromPlan(head.plan?.resources ?? []),
      )
    : compareViews(base.schemaViews, head.schemaViews);

  const { added, problems } = compareMigrationFiles(input.baseMigrations, input.headMigrations);
  for (const problem of problems) {
    errors.push(
      `migrations/${problem.file} was ${problem.problem === "edited" ? "edited" : "deleted"} after it was merged; applied migrations must never change — add a new migration instead`,
    );
  }
  const risks = analyseMigrations(input.newMigrations);

  const dataLoss =
    tables.removed.length > 0 ||
    tables.changed.some((t) => t.dataLoss) ||
    risks.some((r) => r.dataLoss);
  return {
    baseRef: input.baseRef,
    baseCommit: input.baseCommit,
    stack: input.stack,
    tableSource: usePlans ? "plan" : "schema",
    notes,
    resources: base.plan || head.plan ? diffPlans(base.plan, head.plan) : null,
    tables,
    views,
    migrations: { added, problems, risks },
    dataLoss,
    errors,
  };
}

/** The change is broken: a merged migration edited or deleted, a program or schema/ that fails. */
export class DiffErrorsFound extends ToolError {
  constructor(readonly errors: readonly string[]) {
    super(
      "config",
      `the diff found ${errors.length} error${errors.length === 1 ? "" : "s"} (see the report): ${errors[0]}`,
    );
  }
}

/** The change deletes data and `--allow-data-loss` was not given. */
export class DataLossRefused extends ToolError {
  constructor() {
    super(
      "refused",
      "the change deletes data (see the report); pass --allow-data-loss if that is intended",
    );
  }
}

/** What the report amounts to: errors first, then data loss not allowed; undefined when fine. */
export function diffFailure(report: DiffReport, allowDataLoss: boolean): ToolError | undefined {
  if (report.errors.length > 0) return new DiffErrorsFound(report.errors);
  if (report.dataLoss && !allowDataLoss) return new DataLossRefused();
  return undefined;
}

function snapshotInSubprocess(projectDir: string, stack: string): CheckoutSnapshot {
  const out = path.join(
    fs.mkdtempSync(path.join(os.tmpdir(), "synter-snapshot-")),
    "snapshot.json",
  );
  try {
    execFileSync(
      process.execPath,
      [
        "--require",
        require.resolve("tsx/cjs"),
        path.join(__dirname, "snapshot-entry.ts"),
        projectDir,
        stack,
        out,
      ],
      { cwd: projectDir, stdio: ["ignore", "ignore", "pipe"], maxBuffer: 64 * 1024 * 1024 },
    );
    // Temp checkout paths would make the report differ run to run.
    const text = fs
      .readFileSync(out, "utf8")
      .split(`${projectDir}/`)
      .join("")
      .split(projectDir)
      .join(".");
    return JSON.parse(text) as CheckoutSnapshot;
  } catch (error) {
    const stderr = (error as { stderr?: Buffer }).stderr?.toString().trim();
    throw new Error(`snapshot of ${projectDir} failed${stderr ? `: ${stderr}` : ""}`);
  } finally {
    fs.rmSync(path.dirname(out), { recursive: true, force: true });
  }
}

export interface RunDiffOptions {
  readonly cwd: string;
  readonly baseRef: string;
  readonly stack: string;
}

export async function runDiff(options: RunDiffOptions): Promise<DiffReport> {
  const root = repositoryRoot(options.cwd);
  const checkout = checkoutRef(root, options.baseRef);
  try {
    const base = snapshotInSubprocess(checkout.dir, options.stack);
    const head = snapshotInSubprocess(root, options.stack);
    const baseMigrations = readMigrationFiles(checkout.dir);
    const headMigrations = readMigrationFiles(root);
    const { added } = compareMigrationFiles(baseMigrations, headMigrations);
    const newMigrations: MigrationInput[] = [];
    for (const file of added)
      newMigrations.push(await renderMigration(path.join(root, "migrations", file)));
    return compareCheckouts({
      baseRef: options.baseRef,
      baseCommit: checkout.commit,
      stack: options.stack,
      base,
      head,
      headHasProgram: fs.existsSync(path.join(root, "Pulumi.yaml")),
      baseMigrations,
      headMigrations,
      newMigrations,
    });
  } finally {
    checkout.remove();
  }
}
