/**
 * `synter-infra data migrate|verify`: the one-off move of the legacy SingleStore data into Postgres
 * (auth) and BigQuery (analytics), and its proof. See docs/readme/data-migration.md (the runbook).
 */
import type { Command } from "commander";
import type { BigQueryWarehouseOptions } from "../../data/bigquery-warehouse";
import { migrate, type MigrateResult } from "../../data/data-migration";
import { verify, VerificationMismatchError } from "../../data/data-verification";
import { DEFAULT_SEGMENT_ROWS } from "../../data/lane-scheduler";
import { formatTable } from "../../data/progress";
import { ACCEPT_SOURCE_TYPES_FLAG } from "../../data/source-schema";
import type { TableVerification } from "../../data/table-checksums";
import { selectTables } from "../../data/table-plan";
import { DEFAULT_MAX_WORKERS, MAX_WORKERS } from "../../data/worker-pool";
import { UsageError } from "../errors";

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
  acceptSourceTypes?: boolean;
  maxRejects: string;
  pageSize: string;
  segmentRows: string;
  verify: boolean;
}

const DEFAULT_STATE_DIR = ".synter-data-migration";

function nonNegativeInteger(flag: string, value: string): number {
  if (!/^\d+$/.test(value))
    throw new UsageError(`${flag} must be a non-negative integer, got "${value}"`);
  return Number(value);
}

function bigQueryTarget(flags: CommonFlags): BigQueryWarehouseOptions | undefined {
  if (!flags.bigqueryProject && !flags.bigqueryDataset) {
    if (flags.gcsBucket)
      throw new UsageError("--gcs-bucket needs --bigquery-project and --bigquery-dataset");
    return undefined;
  }
  if (!flags.bigqueryProject || !flags.bigqueryDataset) {
    throw new UsageError("--bigquery-project and --bigquery-dataset go together");
  }
  return {
    project: flags.bigqueryProject,
    dataset: flags.bigqueryDataset,
    location: flags.bigqueryLocation,
    gcsBucket: flags.gcsBucket,
  };
}

function common(flags: CommonFlags) {
  const tables = selectTables(
    flags.tables
      ?.split(",")
      .map((t) => t.trim())
      .filter(Boolean),
  );
  let workers: number | undefined;
  if (flags.workers !== undefined) {
    workers = nonNegativeInteger("--workers", flags.workers);
    if (workers < 1 || workers > MAX_WORKERS)
      throw new UsageError(`--workers must be between 1 and ${MAX_WORKERS}, got ${workers}`);
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

/** The options whose meaning differs between copying (`migrate`) and checking (`verify`). */
interface TargetOptionHelp {
  readonly postgres: string;
  readonly gcsBucket: string;
  readonly out: string;
  readonly stateDir: string;
}

const MIGRATE_HELP: TargetOptionHelp = {
  postgres: "Postgres URL of the migrated schema (auth tables)",
  gcsBucket: "stage load files in this Cloud Storage bucket (default: upload with the load job)",
  out: "write the analytics load files here instead of loading BigQuery (no GCP)",
  stateDir: `checkpoint and reject files (default: --out, else ${DEFAULT_STATE_DIR})`,
};

// verify writes nothing: its --out and --state-dir name what an earlier `data migrate` wrote.
const VERIFY_HELP: TargetOptionHelp = {
  postgres: "Postgres URL of the migrated schema (auth tables) to compare with the source",
  gcsBucket: "not used by verify (it queries BigQuery directly); accepted so migrate's flags work",
  out: "compare with the analytics load files `data migrate --out` wrote here instead of BigQuery",
  stateDir: `where \`data migrate\` kept its reject file: rejected rows are left out of the comparison (default: --out, else ${DEFAULT_STATE_DIR})`,
};

function addTargetOptions(command: Command, help: TargetOptionHelp): Command {
  return command
    .requiredOption(
      "--source <url>",
      "legacy SingleStore/MySQL URL, mysql://user:password@host:port/database",
    )
    .option("--postgres <url>", help.postgres)
    .option("--bigquery-project <project>", "GCP project of the analytics dataset")
    .option("--bigquery-dataset <dataset>", "BigQuery dataset of the analytics tables")
    .option("--bigquery-location <location>", "BigQuery location of the dataset, e.g. US")
    .option("--gcs-bucket <bucket>", help.gcsBucket)
    .option("--out <dir>", help.out)
    .option("--state-dir <dir>", help.stateDir)
    .option("--tables <names>", "comma-separated subset of tables (default: all ten legacy tables)")
    .option(
      "--workers <n>",
      `worker threads, each with its own source and target connection (default: the cores, at most ${DEFAULT_MAX_WORKERS})`,
    )
    .option("--json", "print the result as JSON on stdout");
}

function crashHook(): ((point: string) => void) | undefined {
  // Test hook: SYNTER_DATA_CRASH_AT=<n>:<committed|checkpointed>[:<signal>] sends this process
  // SIGKILL (or the signal named, e.g. SIGINT for a Ctrl-C) when the n-th range of this run (any
  // table) reaches that point, exactly as `kill` from outside would.
  const spec = process.env.SYNTER_DATA_CRASH_AT;
  if (!spec) return undefined;
  const [crashRanges, crashPoint, signal = "SIGKILL"] = spec.split(":");
  let committed = 0;
  return (point: string) => {
    if (point === "committed") committed++;
    if (committed === Number(crashRanges) && point === crashPoint)
      process.kill(process.pid, signal as NodeJS.Signals);
  };
}

/** A word as a POSIX shell reads it back: quoted only when it needs to be. */
function shellWord(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, "'\\''")}'`;
}

/** `scheme://user:secret@host…` → `scheme://user:***@host…`: messages never carry a password. */
function maskPassword(word: string): string {
  return word.replace(/^((?:--[\w-]+=)?[a-z][a-z0-9+.-]*:\/\/[^:/@\s]*:)[^@\s]+@/i, "$1***@");
}

/**
 * The command line that continues this run: the one it was started with, plus `--resume`, with
 * passwords masked (they are the user's to type again).
 */
export function resumeCommandOf(argv: readonly string[]): string {
  const words = argv.slice(2).map(maskPassword);
  if (!words.includes("--resume")) words.push("--resume");
  return ["synter-infra", ...words].map(shellWord).join(" ");
}

/**
 * Ctrl-C (SIGINT) or SIGTERM stop the run through the signal it is given: lanes are cut,
 * committed ranges stay checkpointed, and the error says how to resume. A second one stops at once.
 */
async function stoppableBySignals<T>(
  log: (line: string) => void,
  work: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const controller = new AbortController();
  const onSignal = (signal: NodeJS.Signals) => {
    if (controller.signal.aborted) process.exit(signal === "SIGINT" ? 130 : 143);
    log(`${signal}: stopping (send it again to stop at once)`);
    controller.abort(signal);
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  try {
    return await work(controller.signal);
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
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
        "a table with more rows is copied in key-range segments of about this many rows, in parallel (an auth table: across the workers, from two pages each)",
        String(DEFAULT_SEGMENT_ROWS),
      )
      .option(
        ACCEPT_SOURCE_TYPES_FLAG,
        "copy although the source's column types differ from schema/'s legacy definitions (values a target cannot hold are rejected)",
      )
      .option("--no-verify", "skip the verification at the end"),
    MIGRATE_HELP,
  ).action(async (flags: MigrateFlags) => {
    const log = (line: string) => process.stderr.write(`${line}\n`);
    const pageSize = nonNegativeInteger("--page-size", flags.pageSize);
    if (pageSize === 0) throw new UsageError("--page-size must be at least 1");
    const segmentRows = nonNegativeInteger("--segment-rows", flags.segmentRows);
    if (segmentRows === 0) throw new UsageError("--segment-rows must be at least 1");
    const options = {
      ...common(flags),
      resume: flags.resume ?? false,
      maxRejects: nonNegativeInteger("--max-rejects", flags.maxRejects),
      pageSize,
      segmentRows,
      verify: flags.verify,
      acceptSourceTypes: flags.acceptSourceTypes ?? false,
      log,
      onRange: crashHook(),
      resumeCommand: resumeCommandOf(process.argv),
    };
    // The data migration's failures are ToolErrors: main() maps their kinds to exit codes.
    const result: MigrateResult = await stoppableBySignals(log, (signal) =>
      migrate({ ...options, signal }),
    );
    printVerification(result.verification, log);
    if (flags.json) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    else {
      process.stdout.write(
        `${summary(result)}\ncopy ${result.copySeconds.toFixed(1)} s, verification ${result.verifySeconds.toFixed(1)} s\nrejects: ${result.rejectFile}\n`,
      );
    }
    const bad = result.verification.filter((v) => !v.ok);
    if (bad.length > 0) throw new VerificationMismatchError(bad);
  });

  addTargetOptions(
    data
      .command("verify")
      .description(
        "compare row counts and content checksums of source and targets, naming the key ranges that differ",
      ),
    VERIFY_HELP,
  ).action(async (flags: CommonFlags) => {
    const results: TableVerification[] = await verify(common(flags));
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
    if (bad.length > 0) throw new VerificationMismatchError(bad);
  });
}
