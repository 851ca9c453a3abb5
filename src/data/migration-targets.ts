/**
 * Where a data migration reads and writes, as `data migrate` and `data verify` both take it: the
 * legacy source, the Postgres target of the auth tables, BigQuery or load files (`--out`) for the
 * analytics tables, and the state directory. Checked before anything connects.
 */
import { ToolError } from "../errors/tool-error";
import type { BigQueryWarehouseOptions } from "./bigquery-warehouse";
import { stagingFilesDir } from "./lane";
import { postgresUrlProblems } from "./postgres-sink";
import { sourceUrlProblems } from "./source";
import type { MigrationTable } from "./table-plan";

export interface MigrationTargets {
  readonly sourceUrl: string;
  readonly postgresUrl?: string;
  readonly outDir?: string;
  readonly bigquery?: BigQueryWarehouseOptions;
  readonly stateDir: string;
  readonly tables: readonly MigrationTable[];
}

/** The options of a run contradict each other or lack a target (`checkTargets`). */
export class MigrationOptionsError extends ToolError {
  constructor(problems: readonly string[]) {
    super("usage", problems.join("; "));
  }
}

type TargetOptions = Omit<MigrationTargets, "stateDir">;

/** Every problem of the targets found without connecting (empty when there is none). */
export function checkTargets(options: TargetOptions): string[] {
  const problems: string[] = [...sourceUrlProblems(options.sourceUrl)];
  if (options.postgresUrl !== undefined) problems.push(...postgresUrlProblems(options.postgresUrl));
  if (options.tables.some((t) => t.target === "postgres") && !options.postgresUrl) {
    problems.push("--postgres is required for the auth tables");
  }
  if (options.tables.some((t) => t.target === "bigquery") && !options.outDir && !options.bigquery) {
    problems.push("the analytics tables need --bigquery-project/--bigquery-dataset or --out DIR");
  }
  if (options.outDir && options.bigquery)
    problems.push("choose either --out or --bigquery-*, not both");
  return problems;
}

/** Throws `MigrationOptionsError` listing every problem of `checkTargets`. */
export function assertTargets(options: TargetOptions): void {
  const problems = checkTargets(options);
  if (problems.length > 0) throw new MigrationOptionsError(problems);
}

/** Where the analytics tables' load files go: `--out`, or a staging dir beside the state. */
export function loadFilesDir(options: Pick<MigrationTargets, "outDir" | "stateDir">): string {
  return options.outDir ?? stagingFilesDir(options.stateDir);
}

/** What an analytics table's target is called in reports: BigQuery, or the load files of `--out`. */
export function analyticsTargetName(
  options: Pick<MigrationTargets, "bigquery">,
): "bigquery" | "files" {
  return options.bigquery ? "bigquery" : "files";
}
