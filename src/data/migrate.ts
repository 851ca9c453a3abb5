/**
 * `data migrate`: moves every legacy table, range by range, into its target — the auth tables into
 * Postgres (COPY, foreign-key order, sequences moved), the analytics tables into BigQuery load files
 * (loaded with a deterministic job id) or, without GCP, into `--out`. A state file records each
 * committed range so `--resume` continues exactly where a crash or `kill -9` stopped. Verification
 * (`verify.ts`) runs at the end.
 */
import type { Connection } from "mysql2/promise";
import type { Client } from "pg";
import { join } from "node:path";
import type { BigQueryTarget } from "./bigquery-client";
import {
  emptyTableState,
  readState,
  redactUrl,
  writeState,
  type MigrationState,
} from "./checkpoint";
import { RejectedValue, convertRow } from "./convert";
import {
  clearLoadFiles,
  listLoadFiles,
  loadFileName,
  loadFilesChecksum,
  writeLoadFile,
} from "./load-files";
import { assertTargetTables, connectPostgres, finishTable, writeRange } from "./postgres-sink";
import { TableProgress } from "./progress";
import { appendRejects, readRejects, rejectPath, rejectedKeys, type RejectRecord } from "./rejects";
import { encodeCopyLine, encodeNdjsonLine } from "./row-encoding";
import { connectSource, countSourceRows, readPage, type SourcePage } from "./source";
import type { MigrationTable } from "./table-plan";
import { postgresChecksum, sourceChecksum, verifyTable, type TableVerification } from "./verify";
import { rmSync } from "node:fs";

export class MigrationError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
  }
}

export interface MigrateOptions {
  readonly sourceUrl: string;
  readonly postgresUrl?: string;
  readonly outDir?: string;
  readonly bigquery?: BigQueryTarget;
  readonly stateDir: string;
  readonly tables: readonly MigrationTable[];
  readonly resume: boolean;
  readonly maxRejects: number;
  readonly pageSize: number;
  readonly verify: boolean;
  readonly log: (line: string) => void;
  /**
   * Crash-test hook: called when a range is committed in the target but not yet in the state
   * file ("committed"), and after the state file records it ("checkpointed"). The CLI wires it to
   * SYNTER_DATA_CRASH_AT so tests can `kill -9` the process at an exact point.
   */
  readonly onRange?: (
    point: "committed" | "checkpointed",
    table: string,
    rangesDone: number,
  ) => void;
}

export interface TableReport {
  readonly table: string;
  readonly target: string;
  readonly rows: number;
  readonly rejected: number;
  readonly seconds: number;
}

export interface MigrateResult {
  readonly tables: readonly TableReport[];
  readonly verification: readonly TableVerification[];
  readonly rejectFile: string;
}

/** Where the analytics tables' load files go: `--out`, or a staging dir beside the state. */
function filesDir(options: MigrateOptions): string {
  return options.outDir ?? join(options.stateDir, "load-files");
}

export function checkTargets(
  options: Pick<MigrateOptions, "postgresUrl" | "outDir" | "bigquery" | "tables">,
): string[] {
  const problems: string[] = [];
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

export async function migrate(options: MigrateOptions): Promise<MigrateResult> {
  const problems = checkTargets(options);
  if (problems.length > 0) throw new MigrationError(problems.join("; "), 2);
  const source = await connectSource(options.sourceUrl);
  let pg: Client | undefined;
  try {
    if (options.tables.some((t) => t.target === "postgres")) {
      pg = await connectPostgres(options.postgresUrl!);
      const missing = await assertTargetTables(
        pg,
        options.tables.filter((t) => t.target === "postgres"),
      );
      if (missing.length > 0) {
        throw new MigrationError(
          `the Postgres schema is not ready (run \`synter-infra migrate up\` first): ${missing.join("; ")}`,
          2,
        );
      }
    }
    const state = startState(options);
    const rejects = new Map<string, RejectRecord>(
      readRejects(options.stateDir).map((r) => [`${r.table}\u0000${r.key}`, r]),
    );
    // Two lanes run side by side, each with its own source connection: the auth tables into
    // Postgres (one after another, in foreign-key order) and the analytics tables into load files.
    // While one lane waits on a server, the other converts.
    const reports = new Map<string, TableReport>();
    const abort = { failed: false };
    const lanes = (["postgres", "bigquery"] as const)
      .map((target) => options.tables.filter((t) => t.target === target))
      .filter((lane) => lane.length > 0);
    const outcomes = await Promise.allSettled(
      lanes.map(async (lane, index) => {
        const connection = index === 0 ? source : await connectSource(options.sourceUrl);
        try {
          for (const table of lane) {
            if (abort.failed) return;
            reports.set(
              table.name,
              await migrateTable(options, state, connection, pg, table, rejects, abort),
            );
          }
        } catch (error) {
          abort.failed = true;
          throw error;
        } finally {
          if (connection !== source) await connection.end().catch(() => undefined);
        }
      }),
    );
    const failure = outcomes.find((o): o is PromiseRejectedResult => o.status === "rejected");
    if (failure) throw failure.reason;
    const verification = options.verify ? await verifyAll(options) : [];
    return {
      tables: options.tables.map((t) => reports.get(t.name)!),
      verification,
      rejectFile: rejectPath(options.stateDir),
    };
  } finally {
    await source.end().catch(() => undefined);
    await pg?.end().catch(() => undefined);
  }
}

function startState(options: MigrateOptions): MigrationState {
  const sourceId = redactUrl(options.sourceUrl);
  const previous = readState(options.stateDir);
  if (options.resume && previous) {
    if (previous.source !== sourceId) {
      throw new MigrationError(
        `the state in ${options.stateDir} belongs to ${previous.source}, not ${sourceId}; resume refused`,
        2,
      );
    }
    return previous;
  }
  // A fresh run: forget earlier progress and rejects of the selected tables.
  const state: MigrationState = previous ?? { version: 1, source: sourceId, tables: {} };
  state.source = sourceId;
  for (const t of options.tables) {
    state.tables[t.name] = emptyTableState();
    if (t.target === "bigquery") clearLoadFiles(filesDir(options), t.name);
  }
  const kept = readRejects(options.stateDir).filter(
    (r) => !options.tables.some((t) => t.name === r.table),
  );
  rmSync(rejectPath(options.stateDir), { force: true });
  appendRejects(options.stateDir, kept);
  writeState(options.stateDir, state);
  return state;
}

async function migrateTable(
  options: MigrateOptions,
  state: MigrationState,
  source: Connection,
  pg: Client | undefined,
  table: MigrationTable,
  rejects: Map<string, RejectRecord>,
  abort: { failed: boolean },
): Promise<TableReport> {
  const tableState = (state.tables[table.name] ??= emptyTableState());
  const target = table.target === "postgres" ? "postgres" : options.bigquery ? "bigquery" : "files";
  const expected = await countSourceRows(source, table);
  const progress = new TableProgress(table.name, expected, options.log);
  if (tableState.done) {
    options.log(`${table.name}: already migrated (resume), ${tableState.rows} rows`);
    return {
      table: table.name,
      target,
      rows: tableState.rows,
      rejected: tableState.rejected,
      seconds: 0,
    };
  }
  const keyIndex = table.columns.indexOf(table.key);
  let after = tableState.lastKey === undefined ? undefined : BigInt(tableState.lastKey);
  let ranges = 0;
  // Read the next page while the current one is written: the source and target work in parallel.
  let next: Promise<SourcePage | undefined> = readPage(source, table, after, options.pageSize);
  for (;;) {
    const page = await next;
    if (!page) break;
    if (abort.failed) {
      // The other lane failed: stop at a range boundary (everything so far is checkpointed).
      throw new MigrationError(`${table.name}: stopped because another table failed`, 1);
    }
    next = readPage(source, table, page.range.upTo, options.pageSize);
    const lines: string[] = [];
    const pageRejects: RejectRecord[] = [];
    for (const raw of page.rows) {
      try {
        const row = convertRow(table.columns, raw);
        lines.push(
          table.target === "postgres"
            ? encodeCopyLine(table.columns, row)
            : encodeNdjsonLine(table.columns, row),
        );
      } catch (error) {
        if (!(error instanceof RejectedValue)) throw error;
        const key = raw[keyIndex] ?? "";
        pageRejects.push({
          table: table.name,
          key,
          column: error.column,
          reason: error.reason,
          value: error.raw,
        });
      }
    }
    const fresh = pageRejects.filter((r) => !rejects.has(`${r.table}\u0000${r.key}`));
    if (rejects.size + fresh.length > options.maxRejects) {
      appendRejects(options.stateDir, fresh);
      await next.catch(() => undefined);
      throw new MigrationError(
        `${table.name}: ${rejects.size + fresh.length} rejected row(s) exceed --max-rejects ${options.maxRejects}; ` +
          `see ${rejectPath(options.stateDir)}. Nothing of range (${page.range.after ?? "start"}, ${page.range.upTo}] was written; ` +
          `fix the source or raise --max-rejects, then run again with --resume`,
        3,
      );
    }
    if (table.target === "postgres") {
      await writeRange(pg!, table, page.range, lines);
    } else {
      const name = loadFileName(table.name, tableState.files.length + 1, page.range);
      await writeLoadFile(filesDir(options), name, lines);
      tableState.files.push(name);
    }
    options.onRange?.("committed", table.name, ranges + 1);
    appendRejects(options.stateDir, fresh);
    for (const r of fresh) rejects.set(`${r.table}\u0000${r.key}`, r);
    tableState.lastKey = page.range.upTo.toString();
    tableState.rows += lines.length;
    tableState.rejected += pageRejects.length;
    writeState(options.stateDir, state);
    ranges++;
    options.onRange?.("checkpointed", table.name, ranges);
    progress.update(tableState.rows + tableState.rejected);
    after = page.range.upTo;
  }
  if (table.target === "postgres") {
    await finishTable(pg!, table, after);
  } else if (options.bigquery) {
    tableState.loadJobId = await options.bigquery.loadTable(
      table,
      filesDir(options),
      tableState.files,
    );
  }
  tableState.done = true;
  writeState(options.stateDir, state);
  progress.update(tableState.rows + tableState.rejected, true);
  return {
    table: table.name,
    target,
    rows: tableState.rows,
    rejected: tableState.rejected,
    seconds: progress.elapsedSeconds(),
  };
}

export interface VerifyOptions {
  readonly sourceUrl: string;
  readonly postgresUrl?: string;
  readonly outDir?: string;
  readonly bigquery?: BigQueryTarget;
  readonly stateDir: string;
  readonly tables: readonly MigrationTable[];
}

export async function verify(options: VerifyOptions): Promise<TableVerification[]> {
  const problems = checkTargets(options);
  if (problems.length > 0) throw new MigrationError(problems.join("; "), 2);
  return verifyAll(options);
}

/** Tables verified at once; each check is a full scan on two servers, so a few in parallel. */
const VERIFY_CONCURRENCY = 3;

async function verifyAll(options: VerifyOptions): Promise<TableVerification[]> {
  const rejects = readRejects(options.stateDir);
  const results = new Map<string, TableVerification>();
  const queue = [...options.tables];
  const worker = async () => {
    for (let table = queue.shift(); table; table = queue.shift()) {
      results.set(table.name, await verifyOne(options, table, rejectedKeys(rejects, table.name)));
    }
  };
  await Promise.all(Array.from({ length: Math.min(VERIFY_CONCURRENCY, queue.length) }, worker));
  return options.tables.map((t) => results.get(t.name)!);
}

async function verifyOne(
  options: VerifyOptions,
  table: MigrationTable,
  excluded: readonly string[],
): Promise<TableVerification> {
  const source = await connectSource(options.sourceUrl);
  try {
    const src = sourceChecksum(source, table, excluded);
    if (table.target === "postgres") {
      const pg = await connectPostgres(options.postgresUrl!);
      try {
        return await verifyTable(table, "postgres", src, postgresChecksum(pg, table), source);
      } finally {
        await pg.end().catch(() => undefined);
      }
    }
    if (options.bigquery) {
      return await verifyTable(table, "bigquery", src, options.bigquery.checksum(table), source);
    }
    const dir = options.outDir ?? join(options.stateDir, "load-files");
    const files = listLoadFiles(dir, table.name);
    return await verifyTable(
      table,
      "files",
      src,
      (range) => loadFilesChecksum(dir, table, files, range),
      source,
    );
  } finally {
    await source.end().catch(() => undefined);
  }
}
