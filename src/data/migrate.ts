/**
 * `data migrate` and `data verify`: the orchestration. Tables move in lanes on worker threads
 * (`lane.ts`, `worker-pool.ts`): the auth tables form one lane into Postgres, in foreign-key
 * order; each analytics table is a lane of its own into load files (then BigQuery), largest first,
 * and a large one is split into key-range segments, one lane each, so its encoding uses every core.
 * The main thread owns the state file: it records each range a lane reports as committed, so
 * `--resume` continues exactly where a crash or `kill -9` stopped. The verification at the end is
 * mostly done by then: the lanes hash every row on both sides as they copy it (`verifyAfterCopy`);
 * `data verify` and any table that differs get the full scan of both sides (`Verification`).
 */
import { join } from "node:path";
import { ToolError, type ErrorKind } from "../errors/tool-error";
import { bigQueryWarehouse, type BigQueryWarehouseOptions } from "./bigquery-warehouse";
import {
  emptyTableState,
  lockStateDir,
  readState,
  removeTempFiles,
  restrictPermissions,
  redactUrl,
  statePath,
  writeState,
  type MigrationState,
  type SegmentState,
  type TableState,
} from "./checkpoint";
import { clearLoadFiles, listLoadFiles } from "./load-files";
import { assertTargetTables, connectPostgres, postgresUrlProblems } from "./postgres-sink";
import { stagingFilesDir, type LaneSegment, type LaneSettings, type TableReport } from "./lane";
import {
  appendRejects,
  readRejects,
  rejectPath,
  rejectedKeys,
  repairRejects,
  replaceRejects,
} from "./rejects";
import { sameChecksum, type Checksum, type KeyRange } from "./checksum";
import {
  connectSource,
  countSourceRows,
  keyBounds,
  querySource,
  sourceUrlProblems,
} from "./source";
import { checkSourceSchema } from "./source-schema";
import type { MigrationTable } from "./table-plan";
import { splitKeyRange, type TableVerification, type VerifyTaskOptions } from "./verify";
import { rebuildError } from "./worker-errors";
import { WorkerPool } from "./worker-pool";
import type { LaneMessage } from "./lane";

export type { TableReport } from "./lane";

/** The options of a run contradict each other or lack a target (`checkTargets`). */
export class MigrationOptionsError extends ToolError {
  constructor(problems: readonly string[]) {
    super("usage", problems.join("; "));
  }
}

/** The Postgres target lacks tables or columns of schema/: `migrate up` has not run. */
export class PostgresSchemaNotReadyError extends ToolError {
  constructor(message: string) {
    super("drift", message);
  }
}

/** `--resume` against a state directory of another source. */
export class ResumeRefusedError extends ToolError {
  constructor(message: string) {
    super("refused", message);
  }
}

/** A run stopped by a signal (`MigrateOptions.signal`); what it committed is checkpointed. */
export class MigrationInterruptedError extends ToolError {
  constructor(message: string) {
    super("interrupted", message);
  }
}

/**
 * A run that failed after it started: the cause's kind and message, and how to continue from the
 * checkpoint.
 */
export class MigrationStoppedError extends ToolError {
  constructor(kind: ErrorKind, message: string, cause: unknown) {
    super(kind, message, { cause });
  }
}

export interface MigrateOptions {
  readonly sourceUrl: string;
  readonly postgresUrl?: string;
  readonly outDir?: string;
  readonly bigquery?: BigQueryWarehouseOptions;
  readonly stateDir: string;
  readonly tables: readonly MigrationTable[];
  readonly resume: boolean;
  readonly maxRejects: number;
  readonly pageSize: number;
  readonly verify: boolean;
  readonly log: (line: string) => void;
  /** Worker threads (default: the cores, at most 4). */
  readonly workers?: number;
  /**
   * Crash-test hook: called when a range is committed in the target but not yet in the state
   * file ("committed"), and after the state file records it ("checkpointed"). The CLI wires it to
   * SYNTER_DATA_CRASH_AT so tests can `kill -9` the process at an exact point.
   */
  readonly onRange?: (point: "committed" | "checkpointed", table: string) => void;
  /**
   * An analytics table of more source rows than this is copied in key-range segments of about
   * this many rows, each by its own lane (default `DEFAULT_SEGMENT_ROWS`): one lane per table
   * would leave the largest table's encoding on a single core while the others idle.
   */
  readonly segmentRows?: number;
  /**
   * Copy although the source's column types differ from schema/'s legacy definitions
   * (`source-schema.ts`); values a target cannot hold are rejected row by row. Default false: the
   * run refuses to start and lists the differences.
   */
  readonly acceptSourceTypes?: boolean;
  /** Aborting stops the run (Ctrl-C): lanes are cut, committed ranges stay checkpointed. */
  readonly signal?: AbortSignal;
  /**
   * The command that continues this run from its checkpoint (the CLI's own command line with
   * `--resume`), quoted in the message of a run that stops.
   */
  readonly resumeCommand?: string;
}

export const DEFAULT_SEGMENT_ROWS = 250_000;
const MAX_SEGMENTS = 16;

export interface MigrateResult {
  readonly tables: readonly TableReport[];
  /** Wall time of the copy and of the verification, in seconds. */
  readonly copySeconds: number;
  readonly verifySeconds: number;
  readonly verification: readonly TableVerification[];
  readonly rejectFile: string;
}

/** Where the analytics tables' load files go: `--out`, or a staging dir beside the state. */
function filesDir(options: { outDir?: string; stateDir: string }): string {
  return options.outDir ?? stagingFilesDir(options.stateDir);
}

export function checkTargets(
  options: Pick<MigrateOptions, "sourceUrl" | "postgresUrl" | "outDir" | "bigquery" | "tables">,
): string[] {
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

async function checkPostgresSchema(options: MigrateOptions): Promise<void> {
  const auth = options.tables.filter((t) => t.target === "postgres");
  if (auth.length === 0) return;
  const pg = await connectPostgres(options.postgresUrl!);
  try {
    const missing = await assertTargetTables(pg, auth);
    if (missing.length > 0) {
      throw new PostgresSchemaNotReadyError(
        `the Postgres schema is not ready (run \`synter-infra migrate up\` first): ${missing.join("; ")}`,
      );
    }
  } finally {
    await pg.end().catch(() => undefined);
  }
}

interface PlannedLane {
  readonly tables: MigrationTable[];
  readonly segment?: LaneSegment;
}

/**
 * Lanes, largest first (by the source's row estimate) so the longest one starts at once. A
 * segmented table gives one lane per segment not yet done.
 */
async function planLanes(options: MigrateOptions, state: MigrationState): Promise<PlannedLane[]> {
  const source = await connectSource(options.sourceUrl);
  let estimates: Map<string, number>;
  try {
    const rows = await querySource(source, {
      sql: "SELECT TABLE_NAME, TABLE_ROWS FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE()",
      rowsAsArray: true,
    });
    estimates = new Map((rows as [string, string | null][]).map(([n, r]) => [n, Number(r ?? 0)]));
  } finally {
    await source.end().catch(() => undefined);
  }
  const sized: { lane: PlannedLane; size: number }[] = [];
  const auth = options.tables.filter((t) => t.target === "postgres");
  if (auth.length > 0) {
    const size = auth.reduce((sum, t) => sum + (estimates.get(t.legacyTable) ?? 0), 0);
    sized.push({ lane: { tables: auth }, size });
  }
  for (const t of options.tables.filter((t) => t.target === "bigquery")) {
    const size = estimates.get(t.legacyTable) ?? 0;
    const segments = state.tables[t.name].segments;
    if (!segments) {
      sized.push({ lane: { tables: [t] }, size });
      continue;
    }
    segments.forEach((segment, index) => {
      if (segment.done) return;
      sized.push({
        lane: {
          tables: [t],
          segment: { index, count: segments.length, after: segment.after, upTo: segment.upTo },
        },
        size: size / segments.length,
      });
    });
  }
  return sized.sort((a, b) => b.size - a.size).map((s) => s.lane);
}

/**
 * Fixes the segments of each analytics table of a fresh run that has more rows than
 * `segmentRows`: its key range split evenly (MIN..MAX). Only a fresh table is segmented: one with
 * progress from an unsegmented run keeps its single lane, so no earlier load file is left beside
 * differently named ones.
 */
async function planSegments(options: MigrateOptions, state: MigrationState): Promise<void> {
  const segmentRows = options.segmentRows ?? DEFAULT_SEGMENT_ROWS;
  const fresh = options.tables.filter((t) => {
    const s = state.tables[t.name];
    return t.target === "bigquery" && !s.done && !s.segments && s.lastKey === undefined;
  });
  if (fresh.length === 0) return;
  const source = await connectSource(options.sourceUrl);
  try {
    for (const table of fresh) {
      const rows = await countSourceRows(source, table);
      const parts = Math.min(MAX_SEGMENTS, Math.ceil(rows / segmentRows));
      if (parts < 2) continue;
      const bounds = await keyBounds(source, table);
      if (!bounds || bounds.after === undefined || bounds.upTo === undefined) continue;
      const ranges = splitKeyRange(bounds, parts);
      const segments: SegmentState[] = ranges.map((range) => ({
        ...(range.after === undefined ? {} : { after: range.after.toString() }),
        upTo: (range.upTo ?? bounds.upTo!).toString(),
        rows: 0,
        rejected: 0,
        files: [],
        done: false,
      }));
      state.tables[table.name].segments = segments;
    }
  } finally {
    await source.end().catch(() => undefined);
  }
  writeState(options.stateDir, state);
}

/**
 * The progress fields a segment and a lane's table state share: a segment's state as its lane
 * sees it (a table state of its own), and what a lane reports back into the segment.
 */
function progressOf(state: TableState | SegmentState): TableState {
  return {
    ...(state.lastKey === undefined ? {} : { lastKey: state.lastKey }),
    rows: state.rows,
    rejected: state.rejected,
    files: state.files,
    done: state.done,
    ...(state.inline ? { inline: state.inline } : {}),
  };
}

/** Records a segment's reported state and sums the table's rows, rejects and files. */
function recordSegment(table: TableState, index: number, reported: TableState): void {
  const segments = table.segments!;
  segments[index] = {
    ...(segments[index].after === undefined ? {} : { after: segments[index].after }),
    upTo: segments[index].upTo,
    ...progressOf(reported),
  };
  table.rows = segments.reduce((sum, s) => sum + s.rows, 0);
  table.rejected = segments.reduce((sum, s) => sum + s.rejected, 0);
  table.files = segments.flatMap((s) => s.files);
}

export async function migrate(options: MigrateOptions): Promise<MigrateResult> {
  const problems = checkTargets(options);
  if (problems.length > 0) throw new MigrationOptionsError(problems);
  const release = lockStateDir(options.stateDir);
  try {
    // Only this run writes here now: temp files are leftovers of a killed run.
    removeTempFiles(options.stateDir);
    const analytics = options.tables.filter((t) => t.target === "bigquery");
    for (const t of analytics) removeTempFiles(join(filesDir(options), t.name));
    repairRejects(options.stateDir);
    // Files an earlier run (or version, or umask) left readable by others.
    restrictPermissions([
      statePath(options.stateDir),
      rejectPath(options.stateDir),
      ...analytics.flatMap((t) =>
        listLoadFiles(filesDir(options), t.name).map((f) => join(filesDir(options), f)),
      ),
    ]);
    return await migrateLocked(options);
  } finally {
    release();
  }
}

/** How to continue a run from its checkpoint, for the message of a run that stopped. */
function resumeHint(options: MigrateOptions): string {
  return (
    `what was copied is checkpointed in ${options.stateDir}; to continue, run: ` +
    (options.resumeCommand ?? "the same command with --resume")
  );
}

/** Throws `MigrationInterruptedError` once `options.signal` is aborted. */
function checkInterrupted(options: MigrateOptions, started: boolean): void {
  if (!options.signal?.aborted) return;
  const reason = options.signal.reason as unknown;
  const by = typeof reason === "string" ? ` by ${reason}` : "";
  throw new MigrationInterruptedError(
    started || options.resume
      ? `interrupted${by}; ${resumeHint(options)}`
      : `interrupted${by} before anything was copied`,
  );
}

/**
 * The error a run that had started ends with: interrupted when it was told to stop, else the
 * cause's kind and message with how to resume. An error without a kind is a bug and stays as it is.
 */
function stopped(error: unknown, options: MigrateOptions): Error {
  checkInterrupted(options, true);
  if (error instanceof ToolError) {
    return new MigrationStoppedError(error.kind, `${error.message}; ${resumeHint(options)}`, error);
  }
  return error instanceof Error ? error : new Error(String(error));
}

async function migrateLocked(options: MigrateOptions): Promise<MigrateResult> {
  try {
    await checkPostgresSchema(options);
    checkInterrupted(options, false);
    await checkSource(options);
    checkInterrupted(options, false);
  } catch (error) {
    // A --resume run that cannot start is still resumable, and says how.
    throw options.resume && !(error instanceof MigrationInterruptedError)
      ? stopped(error, options)
      : error;
  }
  const state = startState(options);
  try {
    return await copyAndVerify(options, state);
  } catch (error) {
    throw stopped(error, options);
  }
}

/** The source's columns against schema/, before anything is copied (`source-schema.ts`). */
async function checkSource(options: MigrateOptions): Promise<void> {
  const source = await connectSource(options.sourceUrl);
  let accepted: readonly string[];
  try {
    accepted = await checkSourceSchema(source, options.tables, options.acceptSourceTypes ?? false);
  } finally {
    await source.end().catch(() => undefined);
  }
  if (accepted.length > 0) {
    options.log(
      `warning: copying although the source differs from schema/ (--accept-source-types): ${accepted.join("; ")}`,
    );
  }
}

async function copyAndVerify(
  options: MigrateOptions,
  state: MigrationState,
): Promise<MigrateResult> {
  const existingRejects = readRejects(options.stateDir);
  const counter = new SharedArrayBuffer(4);
  new Int32Array(counter)[0] = existingRejects.length;
  const settings: LaneSettings = {
    sourceUrl: options.sourceUrl,
    postgresUrl: options.postgresUrl,
    bigquery: options.bigquery,
    filesDir: filesDir(options),
    pageSize: options.pageSize,
    maxRejects: options.maxRejects,
    rejectFile: rejectPath(options.stateDir),
    verify: options.verify,
  };
  const reports = new Map<string, TableReport>();
  const started = Date.now();
  await planSegments(options, state);
  const lanes = await planLanes(options, state);
  checkInterrupted(options, true);
  const pool = new WorkerPool(options.workers);
  // The lane that failed first explains the stop; the others only report being cut off.
  let firstFailure: Error | undefined;
  const fail = (error: Error) => {
    firstFailure ??= error;
    void pool.close();
  };
  const onAbort = () => void pool.close();
  options.signal?.addEventListener("abort", onAbort);
  let copied = started;
  // A segmented table is finished here once its last segment is done: BigQuery load, report.
  const finishing: Promise<void>[] = [];
  // When the first segment of each segmented table started (from each segment's own duration), so
  // its report times the table's copy, not the run up to its end.
  const segmentedSince = new Map<string, number>();
  const finishSegmented = (table: MigrationTable, resumed: boolean) => {
    const tableState = state.tables[table.name];
    const target = settings.bigquery ? "bigquery" : "files";
    const finish = async () => {
      if (!tableState.done) {
        if (settings.bigquery) {
          const bigquery = bigQueryWarehouse(settings.bigquery);
          tableState.loadJobId = await bigquery.loadTable(
            table,
            settings.filesDir,
            tableState.files,
          );
        }
        tableState.done = true;
        writeState(options.stateDir, state);
      } else if (resumed) {
        options.log(`${table.name}: already migrated (resume), ${tableState.rows} rows`);
      }
      reports.set(table.name, {
        table: table.name,
        target,
        rows: tableState.rows,
        rejected: tableState.rejected,
        seconds: resumed ? 0 : (Date.now() - (segmentedSince.get(table.name) ?? started)) / 1000,
      });
    };
    const done = finish();
    done.catch(() => undefined);
    finishing.push(done);
  };
  for (const table of options.tables) {
    const segments = state.tables[table.name].segments;
    if (segments?.every((s) => s.done)) finishSegmented(table, true);
  }
  try {
    const outcomes = Promise.allSettled(
      lanes.map((lane) =>
        pool.run(
          {
            kind: "lane",
            settings,
            task: {
              tables: lane.tables.map((t) => t.name),
              states: Object.fromEntries(
                lane.tables.map((t) => [
                  t.name,
                  lane.segment
                    ? progressOf(state.tables[t.name].segments![lane.segment.index])
                    : state.tables[t.name],
                ]),
              ),
              knownRejects: existingRejects.map((r) => `${r.table}\u0000${r.key}`),
              rejectCounter: counter,
              ...(lane.segment ? { segment: lane.segment } : {}),
            },
          },
          (reply) => {
            if (!("message" in reply)) return;
            try {
              onLaneMessage(lane, reply.message);
            } catch (error) {
              // The main thread's own part failed (e.g. the state file hit a full disk).
              fail(error instanceof Error ? error : new Error(String(error)));
            }
          },
        ),
      ),
    );
    const settled = await outcomes;
    copied = Date.now();
    checkInterrupted(options, true);
    if (firstFailure) throw firstFailure;
    const failure = settled.find((o): o is PromiseRejectedResult => o.status === "rejected");
    if (failure) throw failure.reason;
    await Promise.all(finishing);
    copied = Date.now();
    const verified = options.verify ? await verifyAfterCopy(pool, options, state) : [];
    return {
      tables: options.tables.map((t) => reports.get(t.name)!),
      copySeconds: (copied - started) / 1000,
      verifySeconds: (Date.now() - copied) / 1000,
      verification: verified,
      rejectFile: rejectPath(options.stateDir),
    };
  } finally {
    options.signal?.removeEventListener("abort", onAbort);
    await pool.close();
  }

  function onLaneMessage(lane: PlannedLane, message: LaneMessage): void {
    switch (message.type) {
      case "log":
        options.log(message.line);
        break;
      case "range":
        options.onRange?.("committed", message.table);
        appendRejects(options.stateDir, message.rejects);
        if (message.segment === undefined) state.tables[message.table] = message.state;
        else recordSegment(state.tables[message.table], message.segment, message.state);
        writeState(options.stateDir, state);
        options.onRange?.("checkpointed", message.table);
        break;
      case "table-done": {
        const name = message.report.table;
        if (message.segment === undefined) {
          state.tables[name] = message.state;
          writeState(options.stateDir, state);
          reports.set(name, message.report);
          break;
        }
        const tableState = state.tables[name];
        const segmentStart = Date.now() - message.report.seconds * 1000;
        if (segmentStart < (segmentedSince.get(name) ?? Infinity))
          segmentedSince.set(name, segmentStart);
        recordSegment(tableState, message.segment, message.state);
        writeState(options.stateDir, state);
        if (tableState.segments!.every((s) => s.done)) finishSegmented(lane.tables[0], false);
        break;
      }
      case "failed":
        // Stop the other lanes at once; what they committed is checkpointed.
        fail(rebuildError(message.error));
        break;
    }
  }
}

function startState(options: MigrateOptions): MigrationState {
  const sourceId = redactUrl(options.sourceUrl);
  const previous = readState(options.stateDir);
  if (options.resume && previous) {
    if (previous.source !== sourceId) {
      throw new ResumeRefusedError(
        `the state in ${options.stateDir} belongs to ${previous.source}, not ${sourceId}; resume refused`,
      );
    }
    for (const t of options.tables) {
      const table = (previous.tables[t.name] ??= emptyTableState());
      // Nothing of it is recorded: files there (a fresh run stopped while clearing) are not ours.
      const untouched =
        !table.done && table.lastKey === undefined && !table.segments && table.files.length === 0;
      if (t.target === "bigquery" && untouched) clearLoadFiles(filesDir(options), t.name);
    }
    return previous;
  }
  // A fresh run: forget earlier progress and rejects of the selected tables. The state is written
  // first: a run that stops in between (a full disk) leaves no state pointing at deleted files.
  const state: MigrationState = previous ?? { version: 1, source: sourceId, tables: {} };
  state.source = sourceId;
  for (const t of options.tables) state.tables[t.name] = emptyTableState();
  writeState(options.stateDir, state);
  for (const t of options.tables) {
    if (t.target === "bigquery") clearLoadFiles(filesDir(options), t.name);
  }
  const kept = readRejects(options.stateDir).filter(
    (r) => !options.tables.some((t) => t.name === r.table),
  );
  replaceRejects(options.stateDir, kept);
  return state;
}

export interface VerifyOptions {
  readonly sourceUrl: string;
  readonly postgresUrl?: string;
  readonly outDir?: string;
  readonly bigquery?: BigQueryWarehouseOptions;
  readonly stateDir: string;
  readonly tables: readonly MigrationTable[];
  readonly workers?: number;
}

export async function verify(options: VerifyOptions): Promise<TableVerification[]> {
  const problems = checkTargets(options);
  if (problems.length > 0) throw new MigrationOptionsError(problems);
  // Only what verification needs: every table and column it reads exists in the source.
  const source = await connectSource(options.sourceUrl);
  try {
    await checkSourceSchema(source, options.tables, true);
  } finally {
    await source.end().catch(() => undefined);
  }
  return verifyAll(options);
}

/**
 * Large tables are verified in key ranges of about this many rows, in parallel (the checksum is a
 * sum, so ranges add up); the target side of a range can start as soon as the copy is past it.
 */
const VERIFY_CHUNK_ROWS = 125_000;
const MAX_VERIFY_CHUNKS = 16;
/** Below this many source rows a table is checked in one piece. */
const CHUNKED_TABLE_ROWS = 100_000;

/** Every table verified on a fresh worker pool (`data verify`). */
async function verifyAll(options: VerifyOptions): Promise<TableVerification[]> {
  const pool = new WorkerPool(options.workers);
  try {
    return await new Verification(pool, options).run();
  } finally {
    await pool.close();
  }
}

function verifyTaskOptions(options: VerifyOptions): VerifyTaskOptions {
  return {
    sourceUrl: options.sourceUrl,
    postgresUrl: options.postgresUrl,
    bigquery: options.bigquery,
    filesDir: filesDir(options),
  };
}

/** One table verified by the full scan of both sides, bisecting on a mismatch, on a worker. */
function verifyJob(
  pool: WorkerPool,
  task: VerifyTaskOptions,
  table: string,
  excluded: string[],
): Promise<TableVerification> {
  let result: TableVerification | undefined;
  return pool
    .run({ kind: "verify", options: task, table, excluded }, (reply) => {
      if ("verified" in reply) result = reply.verified;
    })
    .then(() => result!);
}

/** One side's checksum of a key range of a table, on a worker. */
function checksumJob(
  pool: WorkerPool,
  task: VerifyTaskOptions,
  table: string,
  excluded: string[],
  range: KeyRange,
  side: "source" | "target",
): Promise<Checksum> {
  let result: Checksum | undefined;
  return pool
    .run({ kind: "checksum", options: task, table, excluded, range, side }, (reply) => {
      if ("checksum" in reply) result = reply.checksum;
    })
    .then(() => result!);
}

/** A table's inline sums, when every range of it (every segment) was hashed as it was copied. */
function inlineTotals(
  table: TableState,
): { sourceCount: number; sourceSum: bigint; targetSum?: bigint } | undefined {
  const parts = table.segments ?? [table];
  if (!parts.every((p) => p.inline?.sourceCount !== undefined)) return undefined;
  const files = parts.every((p) => p.inline!.targetSum !== undefined);
  return {
    sourceCount: parts.reduce((n, p) => n + p.inline!.sourceCount!, 0),
    sourceSum: parts.reduce((sum, p) => sum + BigInt(p.inline!.sourceSum), 0n),
    ...(files
      ? { targetSum: parts.reduce((sum, p) => sum + BigInt(p.inline!.targetSum!), 0n) }
      : {}),
  };
}

/**
 * The verification at the end of `migrate`. The source's side was computed during the copy: the
 * source's SQL hashed every row the copy read (`mysqlRowHashExpression`) and its `COUNT(*)` of each
 * key range was taken, so the source is not scanned a second time. The target's side is the
 * target's own SQL over the whole table (Postgres, BigQuery after its load), or for load files the
 * hash of every row as written (`data verify` re-reads and decodes the files). A table without
 * complete inline sums (copied partly with `--no-verify`, or by an earlier version) and a table
 * that differs are verified by the full scan of `data verify`, which also names the key ranges.
 */
async function verifyAfterCopy(
  pool: WorkerPool,
  options: MigrateOptions,
  state: MigrationState,
): Promise<TableVerification[]> {
  const task = verifyTaskOptions(options);
  const targetName = options.bigquery ? "bigquery" : "files";
  const rejects = readRejects(options.stateDir);
  const fullScan = (table: MigrationTable) =>
    verifyJob(pool, task, table.name, rejectedKeys(rejects, table.name));
  const targetChecksum = (table: MigrationTable) =>
    checksumJob(pool, task, table.name, [], {}, "target");
  return Promise.all(
    options.tables.map(async (table): Promise<TableVerification> => {
      const tableState = state.tables[table.name];
      const totals = inlineTotals(tableState);
      if (!totals) return fullScan(table);
      const source: Checksum = {
        rows: totals.sourceCount - tableState.rejected,
        sum: totals.sourceSum.toString(),
      };
      const destination: Checksum =
        totals.targetSum !== undefined
          ? { rows: tableState.rows, sum: totals.targetSum.toString() }
          : await targetChecksum(table);
      if (!sameChecksum(source, destination)) return fullScan(table);
      return {
        table: table.name,
        target: table.target === "postgres" ? "postgres" : targetName,
        source,
        destination,
        ok: true,
        mismatchedRanges: [],
      };
    }),
  );
}

/**
 * The full verification of every table on a worker pool (`data verify`): both sides' checksums per
 * key range (large tables in several ranges, in parallel), summed per table; a table that differs
 * is then verified again whole, which bisects its key range to name where it differs. Rejected
 * rows are left out of the source's checksum.
 */
class Verification {
  private readonly task: VerifyTaskOptions;
  private readonly chunks = new Map<string, KeyRange[]>();

  constructor(
    private readonly pool: WorkerPool,
    private readonly options: VerifyOptions,
  ) {
    this.task = verifyTaskOptions(options);
  }

  async run(): Promise<TableVerification[]> {
    await this.planChunks();
    const rejects = readRejects(this.options.stateDir);
    const sums = this.options.tables.map((t) => {
      const excluded = rejectedKeys(rejects, t.name);
      return {
        table: t,
        excluded,
        source: this.sum(t.name, "source", excluded),
        target: this.sum(t.name, "target", []),
      };
    });
    const results = new Map<string, TableVerification>();
    const targetName = this.options.bigquery ? "bigquery" : "files";
    {
      const differing: { table: MigrationTable; excluded: string[] }[] = [];
      for (const { table, excluded, source, target } of sums) {
        const s = await source;
        const d = await target;
        const ok = s.rows === d.rows && s.total === d.total;
        results.set(table.name, {
          table: table.name,
          target: table.target === "postgres" ? "postgres" : targetName,
          source: s.result(),
          destination: d.result(),
          ok,
          mismatchedRanges: [],
        });
        if (!ok) differing.push({ table, excluded });
      }
      await Promise.all(
        differing.map(async ({ table, excluded }) => {
          results.set(table.name, await verifyJob(this.pool, this.task, table.name, excluded));
        }),
      );
    }
    return this.options.tables.map((t) => results.get(t.name)!);
  }

  /** Each table's key ranges: large tables in several, so both sides run on every core. */
  private async planChunks(): Promise<void> {
    const source = await connectSource(this.options.sourceUrl);
    try {
      for (const table of this.options.tables) {
        const rows = await countSourceRows(source, table);
        const parts =
          rows >= CHUNKED_TABLE_ROWS
            ? Math.min(MAX_VERIFY_CHUNKS, Math.ceil(rows / VERIFY_CHUNK_ROWS))
            : 1;
        this.chunks.set(
          table.name,
          splitKeyRange(parts > 1 ? await keyBounds(source, table) : undefined, parts),
        );
      }
    } finally {
      await source.end().catch(() => undefined);
    }
  }

  private sum(name: string, side: "source" | "target", excluded: string[]): Promise<Sum> {
    const done = Promise.all(
      this.chunks
        .get(name)!
        .map((range) => checksumJob(this.pool, this.task, name, excluded, range, side)),
    ).then((parts) => Sum.of(parts));
    // Awaited in run(); a failure is thrown there.
    done.catch(() => undefined);
    return done;
  }
}

class Sum {
  rows = 0;
  total = 0n;
  static of(parts: readonly Checksum[]): Sum {
    const sum = new Sum();
    for (const part of parts) sum.add(part);
    return sum;
  }
  add(c: Checksum): void {
    this.rows += c.rows;
    this.total += BigInt(c.sum);
  }
  result(): Checksum {
    return { rows: this.rows, sum: this.total.toString() };
  }
}
