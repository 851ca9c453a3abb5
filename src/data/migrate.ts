/**
 * `data migrate` and `data verify`: the orchestration. Tables move in lanes on worker threads
 * (`lane.ts`, `worker-pool.ts`): the auth tables form one lane into Postgres, in foreign-key
 * order; each analytics table is a lane of its own into load files (then BigQuery), largest first,
 * and a large one is split into key-range segments, one lane each, so its encoding uses every core.
 * The main thread owns the state file: it records each range a lane reports as committed, so
 * `--resume` continues exactly where a crash or `kill -9` stopped. Verification (`verify.ts`) runs
 * on the same pool and overlaps the copy (see `Verification`): the copy's critical path is the
 * largest table alone, so the other workers check what is already final meanwhile.
 */
import { rmSync } from "node:fs";
import { join } from "node:path";
import { BigQueryRestTarget, type BigQueryClientOptions } from "./bigquery-client";
import {
  emptyTableState,
  lockStateDir,
  readState,
  removeTempFiles,
  StateLockedError,
  redactUrl,
  writeState,
  type MigrationState,
  type SegmentState,
  type TableState,
} from "./checkpoint";
import { clearLoadFiles } from "./load-files";
import { assertTargetTables, connectPostgres } from "./postgres-sink";
import {
  LaneError,
  stagingFilesDir,
  type LaneSegment,
  type LaneSettings,
  type TableReport,
} from "./lane";
import { appendRejects, readRejects, rejectPath, rejectedKeys } from "./rejects";
import type { Checksum, KeyRange } from "./checksum";
import { connectSource, countSourceRows, keyBounds } from "./source";
import type { MigrationTable } from "./table-plan";
import { splitKeyRange, type TableVerification, type VerifyTaskOptions } from "./verify";
import { WorkerPool } from "./worker-pool";

export type { TableReport } from "./lane";

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
  readonly bigquery?: BigQueryClientOptions;
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

async function checkPostgresSchema(options: MigrateOptions): Promise<void> {
  const auth = options.tables.filter((t) => t.target === "postgres");
  if (auth.length === 0) return;
  const pg = await connectPostgres(options.postgresUrl!);
  try {
    const missing = await assertTargetTables(pg, auth);
    if (missing.length > 0) {
      throw new MigrationError(
        `the Postgres schema is not ready (run \`synter-infra migrate up\` first): ${missing.join("; ")}`,
        2,
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
    const [rows] = await source.query({
      sql: "SELECT TABLE_NAME, TABLE_ROWS FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE()",
      rowsAsArray: true,
    });
    estimates = new Map(
      (rows as unknown as [string, string | null][]).map(([n, r]) => [n, Number(r ?? 0)]),
    );
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

/** A segment's state as a lane sees it (a table state of its own). */
function segmentTableState(segment: SegmentState): TableState {
  return {
    ...(segment.lastKey === undefined ? {} : { lastKey: segment.lastKey }),
    rows: segment.rows,
    rejected: segment.rejected,
    files: segment.files,
    done: segment.done,
  };
}

/** Records a segment's reported state and sums the table's rows, rejects and files. */
function recordSegment(table: TableState, index: number, reported: TableState): void {
  const segments = table.segments!;
  segments[index] = {
    ...(segments[index].after === undefined ? {} : { after: segments[index].after }),
    upTo: segments[index].upTo,
    ...(reported.lastKey === undefined ? {} : { lastKey: reported.lastKey }),
    rows: reported.rows,
    rejected: reported.rejected,
    files: reported.files,
    done: reported.done,
  };
  table.rows = segments.reduce((sum, s) => sum + s.rows, 0);
  table.rejected = segments.reduce((sum, s) => sum + s.rejected, 0);
  table.files = segments.flatMap((s) => s.files);
}

/** The key ranges a table's copy has committed, for the overlapped verification. */
function committedRanges(table: TableState): CommittedRange[] {
  if (!table.segments) {
    return table.lastKey === undefined ? [] : [{ upTo: BigInt(table.lastKey) }];
  }
  return table.segments
    .filter((s) => s.lastKey !== undefined)
    .map((s) => ({
      ...(s.after === undefined ? {} : { after: BigInt(s.after) }),
      upTo: BigInt(s.lastKey!),
    }));
}

export async function migrate(options: MigrateOptions): Promise<MigrateResult> {
  const problems = checkTargets(options);
  if (problems.length > 0) throw new MigrationError(problems.join("; "), 2);
  let release: () => void;
  try {
    release = lockStateDir(options.stateDir);
  } catch (error) {
    if (error instanceof StateLockedError) throw new MigrationError(error.message, 2);
    throw error;
  }
  try {
    // Only this run writes here now: temp files are leftovers of a killed run.
    removeTempFiles(options.stateDir);
    for (const t of options.tables) {
      if (t.target === "bigquery") removeTempFiles(join(filesDir(options), t.name));
    }
    return await migrateLocked(options);
  } finally {
    release();
  }
}

async function migrateLocked(options: MigrateOptions): Promise<MigrateResult> {
  await checkPostgresSchema(options);
  const state = startState(options);
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
  };
  const reports = new Map<string, TableReport>();
  const started = Date.now();
  await planSegments(options, state);
  const lanes = await planLanes(options, state);
  const pool = new WorkerPool(options.workers);
  // Verification shares the pool and overlaps the copy: each table's source checksums are queued
  // behind the lanes (a worker whose lanes are done computes them while the largest table is still
  // being copied), its target checksums as soon as its copy is done.
  const verification = options.verify ? new Verification(pool, options) : undefined;
  // The lane that failed first explains the stop; the others only report being cut off.
  let firstFailure: { message: string; exitCode?: number; stack?: string } | undefined;
  let copied = started;
  // A segmented table is finished here once its last segment is done: BigQuery load, report.
  const finishing: Promise<void>[] = [];
  const finishSegmented = (table: MigrationTable, resumed: boolean) => {
    const tableState = state.tables[table.name];
    const target = settings.bigquery ? "bigquery" : "files";
    const finish = async () => {
      if (!tableState.done) {
        if (settings.bigquery) {
          const bigquery = new BigQueryRestTarget(settings.bigquery);
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
        seconds: resumed ? 0 : (Date.now() - started) / 1000,
      });
      verification?.copied(table.name);
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
                    ? segmentTableState(state.tables[t.name].segments![lane.segment.index])
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
            const message = reply.message;
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
                verification?.progress(message.table, committedRanges(state.tables[message.table]));
                break;
              case "table-done": {
                const name = message.report.table;
                if (message.segment === undefined) {
                  state.tables[name] = message.state;
                  writeState(options.stateDir, state);
                  reports.set(name, message.report);
                  verification?.copied(name);
                  break;
                }
                const tableState = state.tables[name];
                recordSegment(tableState, message.segment, message.state);
                writeState(options.stateDir, state);
                if (tableState.segments!.every((s) => s.done))
                  finishSegmented(lane.tables[0], false);
                break;
              }
              case "failed":
                // Stop the other lanes at once; what they committed is checkpointed.
                firstFailure ??= message;
                void pool.close();
                break;
            }
          },
        ),
      ),
    );
    await verification?.start();
    const settled = await outcomes;
    copied = Date.now();
    if (firstFailure) {
      throw asMigrationError(
        Object.assign(new Error(firstFailure.message), {
          exitCode: firstFailure.exitCode,
          workerStack: firstFailure.stack,
        }),
      );
    }
    const failure = settled.find((o): o is PromiseRejectedResult => o.status === "rejected");
    if (failure) throw asMigrationError(failure.reason);
    try {
      await Promise.all(finishing);
    } catch (error) {
      throw asMigrationError(error);
    }
    copied = Date.now();
    const verified = verification ? await verification.finish() : [];
    return {
      tables: options.tables.map((t) => reports.get(t.name)!),
      copySeconds: (copied - started) / 1000,
      verifySeconds: (Date.now() - copied) / 1000,
      verification: verified,
      rejectFile: rejectPath(options.stateDir),
    };
  } finally {
    await pool.close();
  }
}

function asMigrationError(error: unknown): Error {
  if (error instanceof MigrationError) return error;
  const e = error as { message?: string; exitCode?: number; workerStack?: string };
  if (typeof e.exitCode === "number")
    return new MigrationError(e.message ?? String(error), e.exitCode);
  if (e instanceof LaneError) return new MigrationError(e.message, e.exitCode);
  return Object.assign(new Error(e.message ?? String(error)), {
    stack: e.workerStack ?? (error as Error).stack,
  });
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
    for (const t of options.tables) previous.tables[t.name] ??= emptyTableState();
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

export interface VerifyOptions {
  readonly sourceUrl: string;
  readonly postgresUrl?: string;
  readonly outDir?: string;
  readonly bigquery?: BigQueryClientOptions;
  readonly stateDir: string;
  readonly tables: readonly MigrationTable[];
  readonly workers?: number;
}

export async function verify(options: VerifyOptions): Promise<TableVerification[]> {
  const problems = checkTargets(options);
  if (problems.length > 0) throw new MigrationError(problems.join("; "), 2);
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
    const verification = new Verification(pool, options);
    await verification.start();
    for (const t of options.tables) verification.copied(t.name);
    return await verification.finish();
  } finally {
    await pool.close();
  }
}

const sorted = (keys: readonly string[]) => [...keys].sort().join(",");

/**
 * The verification of every table on a worker pool: both sides' checksums per key range (large
 * tables in several ranges, in parallel), summed per table; a table that differs is then verified
 * again whole, which bisects its key range to name where it differs.
 *
 * The source side of a table is queued at `start()`. The target side of a key range is queued once
 * it is final: when `progress()` reports the copy committed past the range's end (Postgres and
 * load files: later ranges never touch earlier keys), or when `copied()` says the table is done
 * (every range; BigQuery is only loaded then). Rejected rows are left out of the source's checksum:
 * should the copy reject rows the queued source checksum did not leave out, it is computed again.
 */
class Verification {
  private readonly task: VerifyTaskOptions;
  private readonly chunks = new Map<string, KeyRange[]>();
  private readonly sources = new Map<string, { excluded: string; sum: Promise<Sum> }>();
  /** Target checksums per table, per key range (index into `chunks`) already queued. */
  private readonly targets = new Map<string, Map<number, Promise<Checksum>>>();
  /** Tables whose copy finished, and copy progress, before `start()` planned the key ranges. */
  private readonly early: string[] = [];
  private readonly earlyProgress = new Map<string, readonly CommittedRange[]>();
  private started = false;

  constructor(
    private readonly pool: WorkerPool,
    private readonly options: VerifyOptions,
  ) {
    this.task = {
      sourceUrl: options.sourceUrl,
      postgresUrl: options.postgresUrl,
      bigquery: options.bigquery,
      filesDir: filesDir(options),
    };
  }

  /** Plans each table's key ranges and queues the source side of every table. */
  async start(): Promise<void> {
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
    const rejects = readRejects(this.options.stateDir);
    for (const table of this.options.tables)
      this.queueSource(table.name, rejectedKeys(rejects, table.name));
    this.started = true;
    for (const [name, committed] of this.earlyProgress) this.progress(name, committed);
    for (const name of this.early.splice(0)) this.copied(name);
  }

  /** The table's copy has committed these key ranges: queue the ranges now final. */
  progress(name: string, committed: readonly CommittedRange[]): void {
    if (committed.length === 0) return;
    if (!this.started) {
      this.earlyProgress.set(name, committed);
      return;
    }
    const table = this.options.tables.find((t) => t.name === name);
    if (!table || (table.target !== "postgres" && this.options.bigquery)) return;
    const covered = mergeRanges(committed);
    this.chunks.get(name)!.forEach((range, index) => {
      if (range.upTo === undefined) return;
      const inside = covered.some(
        (c) =>
          (c.after === undefined || (range.after !== undefined && c.after <= range.after)) &&
          range.upTo! <= c.upTo,
      );
      if (inside) this.queueTarget(name, index);
    });
  }

  /** The table's copy is finished: queue its target side (and redo the source side if needed). */
  copied(name: string): void {
    if (!this.started) {
      this.early.push(name);
      return;
    }
    const excluded = rejectedKeys(readRejects(this.options.stateDir), name);
    if (this.sources.get(name)?.excluded !== sorted(excluded)) this.queueSource(name, excluded);
    this.chunks.get(name)!.forEach((_, index) => this.queueTarget(name, index));
  }

  private queueTarget(name: string, index: number): void {
    const queued = this.targets.get(name) ?? new Map<number, Promise<Checksum>>();
    this.targets.set(name, queued);
    if (queued.has(index)) return;
    const range = this.chunks.get(name)![index];
    queued.set(index, this.checksum(name, "target", [], range));
  }

  private checksum(
    name: string,
    side: "source" | "target",
    excluded: string[],
    range: KeyRange,
  ): Promise<Checksum> {
    let result: Checksum | undefined;
    const done = this.pool
      .run(
        { kind: "checksum", options: this.task, table: name, excluded, range, side },
        (reply) => {
          if ("checksum" in reply) result = reply.checksum;
        },
      )
      .then(() => result!);
    // Awaited in finish(); a copy that fails first closes the pool and rejects these.
    done.catch(() => undefined);
    return done;
  }

  private queueSource(name: string, excluded: string[]): void {
    this.sources.set(name, { excluded: sorted(excluded), sum: this.sum(name, "source", excluded) });
  }

  private sum(name: string, side: "source" | "target", excluded: string[]): Promise<Sum> {
    const done = Promise.all(
      this.chunks.get(name)!.map((range) => this.checksum(name, side, excluded, range)),
    ).then((parts) => Sum.of(parts));
    done.catch(() => undefined);
    return done;
  }

  async finish(): Promise<TableVerification[]> {
    const results = new Map<string, TableVerification>();
    const targetName = this.options.bigquery ? "bigquery" : "files";
    const rejects = readRejects(this.options.stateDir);
    try {
      const differing: MigrationTable[] = [];
      for (const t of this.options.tables) {
        const s = await this.sources.get(t.name)!.sum;
        const d = Sum.of(await Promise.all(this.targets.get(t.name)!.values()));
        const ok = s.rows === d.rows && s.total === d.total;
        results.set(t.name, {
          table: t.name,
          target: t.target === "postgres" ? "postgres" : targetName,
          source: s.result(),
          destination: d.result(),
          ok,
          mismatchedRanges: [],
        });
        if (!ok) differing.push(t);
      }
      await Promise.all(
        differing.map((table) =>
          this.pool.run(
            {
              kind: "verify",
              options: this.task,
              table: table.name,
              excluded: rejectedKeys(rejects, table.name),
            },
            (reply) => {
              if ("verified" in reply) results.set(table.name, reply.verified);
            },
          ),
        ),
      );
    } catch (error) {
      throw asMigrationError(error);
    }
    return this.options.tables.map((t) => results.get(t.name)!);
  }
}

/** A committed key range `(after, upTo]` (no `after`: from the first key). */
interface CommittedRange {
  readonly after?: bigint;
  readonly upTo: bigint;
}

/** Adjacent or overlapping ranges joined, so a verification range spanning segments is seen covered. */
export function mergeRanges(ranges: readonly CommittedRange[]): CommittedRange[] {
  const sorted = [...ranges].sort((a, b) =>
    a.after === undefined
      ? -1
      : b.after === undefined
        ? 1
        : a.after < b.after
          ? -1
          : a.after > b.after
            ? 1
            : 0,
  );
  const merged: CommittedRange[] = [];
  for (const r of sorted) {
    const last = merged[merged.length - 1];
    if (last && r.after !== undefined && r.after <= last.upTo) {
      merged[merged.length - 1] = { ...last, upTo: r.upTo > last.upTo ? r.upTo : last.upTo };
    } else merged.push(r);
  }
  return merged;
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
