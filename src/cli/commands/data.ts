/**
 * `synter-infra data migrate|verify`: the one-off move of the legacy SingleStore data into Postgres
 * (auth) and BigQuery (analytics), and its proof. See docs/readme/data-migration.md (the runbook).
 */
import type { Command } from "commander";
import type { BigQueryClientOptions } from "../../data/bigquery-client";
import {
  DEFAULT_SEGMENT_ROWS,
  MigrationError,
  migrate,
  verify,
  type MigrateResult,
} from "../../data/migrate";
import { formatTable } from "../../data/progress";
import { selectTables } from "../../data/table-plan";
import { describeMismatch, type TableVerification } from "../../data/verify";
import { DEFAULT_MAX_WORKERS, MAX_WORKERS } from "../../data/worker-pool";
import { UserError } from "../errors";

interface CommonFlags {
  source: string;
  postgres?: string;
  bigqueryProject?: string;
  bigqueryDataset?: string;
  bigqueryLocation?: string;
  gcsBucket?: string;
  out?: string;
  stateDir?: string;
  tables?: string;
  workers?: string;
  json?: boolean;
}

interface MigrateFlags extends CommonFlags {
  resume?: boolean;
  maxRejects: string;
  pageSize: string;
  segmentRows: string;
  verify: boolean;
}

const DEFAULT_STATE_DIR = ".synter-data-migration";
/** Verification mismatch: the data moved but differs. Rejects over the limit exit 3. */
const EXIT_MISMATCH = 4;

function nonNegativeInteger(flag: string, value: string): number {
  if (!/^\d+$/.test(value))
    throw new UserError(`${flag} must be a non-negative integer, got "${value}"`, 2);
  return Number(value);
}

function bigQueryTarget(flags: CommonFlags): BigQueryClientOptions | undefined {
  if (!flags.bigqueryProject && !flags.bigqueryDataset) {
    if (flags.gcsBucket)
      throw new UserError("--gcs-bucket needs --bigquery-project and --bigquery-dataset", 2);
    return undefined;
  }
  if (!flags.bigqueryProject || !flags.bigqueryDataset) {
    throw new UserError("--bigquery-project and --bigquery-dataset go together", 2);
  }
  return {
    project: flags.bigqueryProject,
    dataset: flags.bigqueryDataset,
    location: flags.bigqueryLocation,
    gcsBucket: flags.gcsBucket,
  };
}

function common(flags: CommonFlags) {
  let tables;
  try {
    tables = selectTables(
      flags.tables
        ?.split(",")
        .map((t) => t.trim())
        .filter(Boolean),
    );
  } catch (error) {
    throw new UserError((error as Error).message, 2);
  }
  let workers: number | undefined;
  if (flags.workers !== undefined) {
    workers = nonNegativeInteger("--workers", flags.workers);
    if (workers < 1 || workers > MAX_WORKERS)
      throw new UserError(`--workers must be between 1 and ${MAX_WORKERS}, got ${workers}`, 2);
  }
  return {
    sourceUrl: flags.source,
    ...(workers === undefined ? {} : { workers }),
    postgresUrl: flags.postgres,
    outDir: flags.out,
    bigquery: bigQueryTarget(flags),
    stateDir: flags.stateDir ?? flags.out ?? DEFAULT_STATE_DIR,
    tables,
  };
}

function addTargetOptions(command: Command): Command {
  return command
    .requiredOption(
      "--source <url>",
      "legacy SingleStore/MySQL URL, mysql://user:password@host:port/database",
    )
    .option("--postgres <url>", "Postgres URL of the migrated schema (auth tables)")
    .option("--bigquery-project <project>", "GCP project of the analytics dataset")
    .option("--bigquery-dataset <dataset>", "BigQuery dataset of the analytics tables")
    .option("--bigquery-location <location>", "BigQuery location of the dataset, e.g. US")
    .option(
      "--gcs-bucket <bucket>",
      "stage load files in this Cloud Storage bucket (default: upload with the load job)",
    )
    .option(
      "--out <dir>",
      "write the analytics load files here instead of loading BigQuery (no GCP)",
    )
    .option(
      "--state-dir <dir>",
      `checkpoint and reject files (default: --out, else ${DEFAULT_STATE_DIR})`,
    )
    .option("--tables <names>", "comma-separated subset of tables (default: all ten legacy tables)")
    .option(
      "--workers <n>",
      `worker threads, each with its own source and target connection (default: the cores, at most ${DEFAULT_MAX_WORKERS})`,
    )
    .option("--json", "print the result as JSON on stdout");
}

function crashHook(): ((point: string) => void) | undefined {
  // Test hook: SYNTER_DATA_CRASH_AT=<n>:<committed|checkpointed> kills this process with SIGKILL
  // when the n-th range of this run (any table) reaches that point, exactly like `kill -9`.
  const spec = process.env.SYNTER_DATA_CRASH_AT;
  if (!spec) return undefined;
  const [crashRanges, crashPoint] = spec.split(":");
  let committed = 0;
  return (point: string) => {
    if (point === "committed") committed++;
    if (committed === Number(crashRanges) && point === crashPoint)
      process.kill(process.pid, "SIGKILL");
  };
}

function printVerification(results: readonly TableVerification[], log: (l: string) => void): void {
  for (const v of results) {
    log(
      `verify ${v.table} (${v.target}): ${v.ok ? "ok" : "MISMATCH"} — ${v.destination.rows} rows, checksum ${v.destination.sum}`,
    );
  }
}

function summary(result: MigrateResult): string {
  const verdict = new Map(result.verification.map((v) => [v.table, v.ok ? "ok" : "MISMATCH"]));
  return formatTable(
    ["table", "target", "rows", "rejected", "seconds", "rows/s", "verified"],
    result.tables.map((t) => [
      t.table,
      t.target,
      String(t.rows),
      String(t.rejected),
      t.seconds.toFixed(1),
      t.seconds > 0 ? String(Math.round((t.rows + t.rejected) / t.seconds)) : "-",
      verdict.get(t.table) ?? "skipped",
    ]),
  );
}

export function registerDataCommands(program: Command): void {
  const data = program
    .command("data")
    .description("move the legacy SingleStore data into Postgres and BigQuery, and prove it");

  addTargetOptions(
    data
      .command("migrate")
      .description("copy every legacy table range by range (resumable), then verify")
      .option("--resume", "continue from the checkpoint of an interrupted run")
      .option(
        "--max-rejects <n>",
        "rows that may be rejected (see the reject file) before the run stops",
        "0",
      )
      .option(
        "--page-size <rows>",
        "rows per key range (one transaction / load file each)",
        "10000",
      )
      .option(
        "--segment-rows <rows>",
        "an analytics table with more rows is copied in key-range segments of about this many rows, in parallel",
        String(DEFAULT_SEGMENT_ROWS),
      )
      .option("--no-verify", "skip the verification at the end"),
  ).action(async (flags: MigrateFlags) => {
    const log = (line: string) => process.stderr.write(`${line}\n`);
    const pageSize = nonNegativeInteger("--page-size", flags.pageSize);
    if (pageSize === 0) throw new UserError("--page-size must be at least 1", 2);
    const segmentRows = nonNegativeInteger("--segment-rows", flags.segmentRows);
    if (segmentRows === 0) throw new UserError("--segment-rows must be at least 1", 2);
    let result: MigrateResult;
    try {
      result = await migrate({
        ...common(flags),
        resume: flags.resume ?? false,
        maxRejects: nonNegativeInteger("--max-rejects", flags.maxRejects),
        pageSize,
        segmentRows,
        verify: flags.verify,
        log,
        onRange: crashHook(),
      });
    } catch (error) {
      if (error instanceof MigrationError) throw new UserError(error.message, error.exitCode);
      throw error;
    }
    printVerification(result.verification, log);
    if (flags.json) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    else {
      process.stdout.write(
        `${summary(result)}\ncopy ${result.copySeconds.toFixed(1)} s, verification ${result.verifySeconds.toFixed(1)} s\nrejects: ${result.rejectFile}\n`,
      );
    }
    const bad = result.verification.filter((v) => !v.ok);
    if (bad.length > 0) throw new UserError(bad.map(describeMismatch).join("\n"), EXIT_MISMATCH);
  });

  addTargetOptions(
    data
      .command("verify")
      .description("compare row counts and content checksums of source and targets"),
  ).action(async (flags: CommonFlags) => {
    let results: TableVerification[];
    try {
      results = await verify(common(flags));
    } catch (error) {
      if (error instanceof MigrationError) throw new UserError(error.message, error.exitCode);
      throw error;
    }
    if (flags.json) process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
    else
      process.stdout.write(
        `${formatTable(
          ["table", "target", "source rows", "target rows", "result"],
          results.map((v) => [
            v.table,
            v.target,
            String(v.source.rows),
            String(v.destination.rows),
            v.ok ? "ok" : "MISMATCH",
          ]),
        )}\n`,
      );
    const bad = results.filter((v) => !v.ok);
    if (bad.length > 0) throw new UserError(bad.map(describeMismatch).join("\n"), EXIT_MISMATCH);
  });
}
