/**
 * What `data migrate` runs, in which order, and what each lane's reports mean for the state file.
 * The plan: each auth table is a lane into Postgres that starts once its foreign-key parents are
 * in (so their rejects are known to it, and children of one parent load in parallel); each
 * analytics table is a lane of its own into load files (then BigQuery). A large table is split
 * into key-range segments, one lane each, so its encoding uses every core; an auth table is split
 * across the workers sooner, as the auth tables start in waves (see `segmentCount`). Lanes are
 * queued largest first, so the longest starts at once. While they run, the scheduler is the one
 * writer of the state file: it records each range a lane reports committed, and finishes a
 * segmented table (its BigQuery load or its Postgres sequence, its report) after its last segment.
 */
import type { Connection } from "mysql2/promise";
import { bigQueryWarehouse } from "./bigquery-warehouse";
import { finishTable, type LentTargetClients } from "./postgres-sink";
import { writeState, type MigrationState, type SegmentState, type TableState } from "./checkpoint";
import { splitKeyRange } from "./key-ranges";
import type { LaneMessage, LaneSegment, LaneSettings, LaneTask, TableReport } from "./lane";
import { analyticsTargetName } from "./migration-targets";
import { appendRejects, type RejectRecord } from "./rejects";
import { connectSource, countSourceRows, keyBounds, querySource } from "./source";
import type { MigrationTable } from "./table-plan";
import { rebuildError } from "./worker-errors";
import { defaultPoolSize, type WorkerPool, type WorkerReply } from "./worker-pool";

export const DEFAULT_SEGMENT_ROWS = 250_000;
const MAX_SEGMENTS = 16;
/** Tables the statistics estimate at fewer rows than this are counted exactly for their plan. */
const EXACT_COUNT_BELOW = 100_000;

/** What the plan needs of a run's options. */
export interface LanePlanOptions {
  readonly sourceUrl: string;
  readonly stateDir: string;
  readonly tables: readonly MigrationTable[];
  /**
   * A table of more source rows than this is copied in key-range segments of about this many rows
   * (default `DEFAULT_SEGMENT_ROWS`).
   */
  readonly segmentRows?: number;
  /** Rows per key range: an auth table is split across the workers once each gets two ranges. */
  readonly pageSize: number;
  /** The worker threads the lanes run on (default `defaultPoolSize()`). */
  readonly workers?: number;
}

/** What the scheduler needs of a run's options while the lanes run. */
export interface LaneRunOptions {
  readonly stateDir: string;
  readonly tables: readonly MigrationTable[];
  readonly log: (line: string) => void;
  /** The crash-test hook of `MigrateOptions.onRange`. */
  readonly onRange?: (point: "committed" | "checkpointed", table: string) => void;
  /** A table's last range is in and checkpointed (a segmented table: all its segments). */
  readonly onTableCopied?: (table: MigrationTable) => void;
  /** The main thread's target connections, for a segmented Postgres table's finish. */
  readonly targetClients?: LentTargetClients;
}

export interface PlannedLane {
  readonly tables: readonly MigrationTable[];
  readonly segment?: LaneSegment;
  /** Tables whose copy must be done before this lane starts: its tables' foreign-key parents. */
  readonly after?: readonly string[];
}

/**
 * The lanes of a run, largest first (by the source's row estimate). Fixes the segments of each
 * large analytics table first (recorded in the state, so a resume reuses the same bounds); a
 * segmented table gives one lane per segment not yet done.
 */
export async function planLanes(
  options: LanePlanOptions,
  state: MigrationState,
): Promise<PlannedLane[]> {
  const source = await connectSource(options.sourceUrl);
  let estimates: Map<string, number>;
  try {
    const rows = await querySource(source, {
      sql: "SELECT TABLE_NAME, TABLE_ROWS FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE()",
      rowsAsArray: true,
    });
    estimates = new Map((rows as [string, string | null][]).map(([n, r]) => [n, Number(r ?? 0)]));
    await planSegments(options, state, source, estimates);
  } finally {
    await source.end().catch(() => undefined);
  }
  const sized: { lane: PlannedLane; size: number }[] = [];
  const auth = options.tables.filter((t) => t.target === "postgres");
  for (const t of options.tables) {
    // A child starts once its parents are in: their rejects are known to it by then.
    const parents = new Set(parentTables(t));
    const after = auth.filter((p) => parents.has(p.name)).map((p) => p.name);
    const waits = after.length > 0 ? { after } : {};
    const size = estimates.get(t.legacyTable) ?? 0;
    const segments = state.tables[t.name].segments;
    if (!segments) {
      sized.push({ lane: { tables: [t], ...waits }, size });
      continue;
    }
    segments.forEach((segment, index) => {
      if (segment.done) return;
      sized.push({
        lane: {
          tables: [t],
          segment: { index, count: segments.length, after: segment.after, upTo: segment.upTo },
          ...waits,
        },
        size: size / segments.length,
      });
    });
  }
  return sized.sort((a, b) => b.size - a.size).map((s) => s.lane);
}

/** The other tables `table`'s foreign keys reference. */
function parentTables(table: MigrationTable): string[] {
  return table.columns.flatMap((c) =>
    c.references && c.references.table !== table.name ? [c.references.table] : [],
  );
}

/**
 * Into how many segments `table` of `rows` source rows is split: about `segmentRows` rows each.
 * An auth table is split across the workers sooner, once each segment gets two key ranges: the
 * auth lanes start in waves (a table once its parents are in), so one table of a wave on one core
 * leaves the others idle, and the next wave waits for it. A table whose foreign key refers to
 * itself is never split: a row's parent may lie in another segment, whose rejects it must know.
 */
function segmentCount(table: MigrationTable, rows: number, options: LanePlanOptions): number {
  const bySize = Math.ceil(rows / (options.segmentRows ?? DEFAULT_SEGMENT_ROWS));
  if (table.target === "bigquery") return Math.min(MAX_SEGMENTS, bySize);
  if (table.columns.some((c) => c.references?.table === table.name)) return 1;
  const workers = options.workers ?? defaultPoolSize();
  const byWorkers = Math.min(workers, Math.floor(rows / (2 * options.pageSize)));
  return Math.min(MAX_SEGMENTS, Math.max(bySize, byWorkers));
}

/**
 * Fixes the segments of each table of a fresh run that `segmentCount` splits: its key range split
 * evenly (MIN..MAX). Only a fresh table is segmented: one with progress from an unsegmented run
 * keeps its single lane, so no earlier load file is left beside differently named ones.
 */
async function planSegments(
  options: LanePlanOptions,
  state: MigrationState,
  source: Connection,
  estimates: ReadonlyMap<string, number>,
): Promise<void> {
  const fresh = options.tables.filter((t) => {
    const s = state.tables[t.name];
    return !s.done && !s.segments && s.lastKey === undefined;
  });
  if (fresh.length === 0) return;
  for (const table of fresh) {
    // How many segments a table gets needs its size, not its exact count: the bounds come from
    // MIN..MAX. A large table is sized by the statistics' estimate (an exact COUNT(*) of 1M events
    // scans an index: 0.2 s of the source's time before any lane could start); a small one, or one
    // whose statistics are missing or stale, is counted, which is cheap where it is small.
    const estimate = estimates.get(table.legacyTable) ?? 0;
    const rows = estimate >= EXACT_COUNT_BELOW ? estimate : await countSourceRows(source, table);
    const parts = segmentCount(table, rows, options);
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

/** How the lanes of a run ended: every one finished, or the cause of the stop. */
export type LanesOutcome =
  { readonly state: "copied" } | { readonly state: "failed"; readonly cause: unknown };

/**
 * The run as a whole: lanes copying, or stopping because one failed (the first failure explains
 * the stop; the others only report being cut off).
 */
type RunPhase = { readonly name: "copying" } | { readonly name: "stopping"; readonly cause: Error };

/**
 * A segmented table as the main thread follows it: its segments copying (since when the earliest
 * of this run's segments started, from each segment's own duration, so its report times the
 * table's copy and not the run up to its end), then finishing (BigQuery load, report).
 */
type SegmentedTable =
  | { readonly phase: "copying"; readonly since?: number }
  | { readonly phase: "finishing"; readonly finished: Promise<void> };

/** Runs the planned lanes on a worker pool and records what they report (see the module header). */
export class LaneScheduler {
  private phase: RunPhase = { name: "copying" };
  private readonly segmented = new Map<string, SegmentedTable>();
  private readonly reports = new Map<string, TableReport>();
  /**
   * Keys in the reject file, `table\u0000key` (those of earlier runs, then each lane's as they are
   * recorded), and their count shared with the lanes.
   */
  private readonly knownRejects: string[];
  /** Per table: resolved once its copy is done (a lane of its children waits for it). */
  private readonly copied = new Map<
    string,
    { done: Promise<void>; resolve: () => void; reject: (e: Error) => void }
  >();
  private readonly rejectCounter = new SharedArrayBuffer(4);

  constructor(
    private readonly pool: WorkerPool,
    private readonly settings: LaneSettings,
    private readonly state: MigrationState,
    private readonly options: LaneRunOptions,
    existingRejects: readonly RejectRecord[],
    /** When the run started: a segmented table's report falls back to it. */
    private readonly started: number,
  ) {
    this.knownRejects = existingRejects.map((r) => `${r.table}\u0000${r.key}`);
    new Int32Array(this.rejectCounter)[0] = existingRejects.length;
    for (const table of options.tables) {
      if (state.tables[table.name].segments) {
        this.segmented.set(table.name, { phase: "copying" });
      }
    }
  }

  /** Runs every lane, queued in plan order; resolves once each has finished or been cut off. */
  async runLanes(lanes: readonly PlannedLane[]): Promise<LanesOutcome> {
    // Segmented tables whose segments were all done by an earlier run are only finished.
    for (const table of this.options.tables) {
      if (this.state.tables[table.name].segments?.every((s) => s.done)) {
        this.finishSegmented(table, true);
      }
    }
    const settled = await Promise.allSettled(
      lanes.map(async (lane) => {
        await Promise.all((lane.after ?? []).map((t) => this.copyOf(t)));
        if (this.phase.name === "stopping") throw this.phase.cause;
        try {
          await this.pool.run(this.jobOf(lane), (reply) => this.onReply(lane, reply));
        } catch (error) {
          // A lane cut off (the pool closed by Ctrl-C, a worker that died): the lanes waiting for
          // its tables will not start.
          this.stop(error instanceof Error ? error : new Error(String(error)));
          throw error;
        }
      }),
    );
    // A segmented table nothing waits for may still be finishing (its sequence, its load job):
    // what follows the lanes (the restores, a reset after a duplicate) must not overlap it.
    const finishing = [...this.segmented.values()].flatMap((t) =>
      t.phase === "finishing" ? [t.finished] : [],
    );
    const finishes = await Promise.allSettled(finishing);
    if (this.phase.name === "stopping") return { state: "failed", cause: this.phase.cause };
    const failure = [...settled, ...finishes].find(
      (o): o is PromiseRejectedResult => o.status === "rejected",
    );
    return failure ? { state: "failed", cause: failure.reason } : { state: "copied" };
  }

  /** Every table's report, in the order of the run's tables, once the segmented ones finished. */
  async tableReports(): Promise<TableReport[]> {
    await Promise.all(
      [...this.segmented.values()].map((t) => (t.phase === "finishing" ? t.finished : undefined)),
    );
    return this.options.tables.map((t) => this.reports.get(t.name)!);
  }

  /** Resolves once `table`'s copy is done; rejects when the run stops first. */
  private copyOf(table: string): Promise<void> {
    let entry = this.copied.get(table);
    if (!entry) {
      let resolve!: () => void;
      let reject!: (e: Error) => void;
      const done = new Promise<void>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      done.catch(() => undefined);
      entry = { done, resolve, reject };
      this.copied.set(table, entry);
      if (this.state.tables[table]?.done) resolve();
      if (this.phase.name === "stopping") reject(this.phase.cause);
    }
    return entry.done;
  }

  private jobOf(lane: PlannedLane): { kind: "lane"; settings: LaneSettings; task: LaneTask } {
    return {
      kind: "lane",
      settings: this.settings,
      task: {
        tables: lane.tables.map((t) => t.name),
        states: Object.fromEntries(
          lane.tables.map((t) => [
            t.name,
            lane.segment
              ? progressOf(this.state.tables[t.name].segments![lane.segment.index])
              : this.state.tables[t.name],
          ]),
        ),
        knownRejects: [...this.knownRejects],
        rejectCounter: this.rejectCounter,
        ...(lane.segment ? { segment: lane.segment } : {}),
      },
    };
  }

  private onReply(lane: PlannedLane, reply: WorkerReply): void {
    if (!("message" in reply)) return;
    try {
      this.record(lane, reply.message);
    } catch (error) {
      // The main thread's own part failed (e.g. the state file hit a full disk).
      this.stop(error instanceof Error ? error : new Error(String(error)));
    }
  }

  private throwIfStopping(): void {
    const phase: RunPhase = this.phase;
    if (phase.name === "stopping") throw phase.cause;
  }

  /** Stops the other lanes at once; what they committed is checkpointed. */
  private stop(cause: Error): void {
    if (this.phase.name === "copying") this.phase = { name: "stopping", cause };
    for (const entry of this.copied.values()) entry.reject(cause);
    void this.pool.close();
  }

  private record(lane: PlannedLane, message: LaneMessage): void {
    const { stateDir, onRange } = this.options;
    switch (message.type) {
      case "log":
        this.options.log(message.line);
        break;
      case "range":
        onRange?.("committed", message.table);
        appendRejects(stateDir, message.rejects);
        for (const r of message.rejects) this.knownRejects.push(`${r.table}\u0000${r.key}`);
        if (message.segment === undefined) this.state.tables[message.table] = message.state;
        else recordSegment(this.state.tables[message.table], message.segment, message.state);
        writeState(stateDir, this.state);
        onRange?.("checkpointed", message.table);
        break;
      case "table-done": {
        const name = message.report.table;
        if (message.segment === undefined) {
          this.state.tables[name] = message.state;
          writeState(stateDir, this.state);
          this.reports.set(name, message.report);
          this.copyOf(name);
          this.copied.get(name)!.resolve();
          this.options.onTableCopied?.(lane.tables.find((t) => t.name === name)!);
          break;
        }
        const tableState = this.state.tables[name];
        const table = this.segmented.get(name);
        if (table?.phase === "copying") {
          const segmentStart = Date.now() - message.report.seconds * 1000;
          if (segmentStart < (table.since ?? Infinity)) {
            this.segmented.set(name, { phase: "copying", since: segmentStart });
          }
        }
        recordSegment(tableState, message.segment, message.state);
        writeState(stateDir, this.state);
        if (tableState.segments!.every((s) => s.done)) this.finishSegmented(lane.tables[0], false);
        break;
      }
      case "failed":
        this.stop(rebuildError(message.error));
        break;
    }
  }

  /** A segmented table after its last segment: its BigQuery load (unless done before), its report. */
  private finishSegmented(table: MigrationTable, resumed: boolean): void {
    const tracked = this.segmented.get(table.name);
    if (tracked?.phase !== "copying") return;
    const tableState = this.state.tables[table.name];
    const finish = async () => {
      if (!tableState.done) {
        // A run that is stopping leaves it to the resume: its state is not to be touched now.
        this.throwIfStopping();
        await this.finishTarget(table, tableState);
        this.throwIfStopping();
        tableState.done = true;
        writeState(this.options.stateDir, this.state);
      } else if (resumed) {
        this.options.log(`${table.name}: already migrated (resume), ${tableState.rows} rows`);
      }
      this.reports.set(table.name, {
        table: table.name,
        target: table.target === "postgres" ? "postgres" : analyticsTargetName(this.settings),
        rows: tableState.rows,
        rejected: tableState.rejected,
        seconds: resumed ? 0 : (Date.now() - (tracked.since ?? this.started)) / 1000,
      });
      // As an unsegmented table's lane does at its end: its children may start now.
      this.copyOf(table.name);
      this.copied.get(table.name)!.resolve();
      this.options.onTableCopied?.(table);
    };
    const finished = finish();
    // Its children wait for it: a failed finish stops the run, as a failed lane does.
    finished.catch((error: unknown) =>
      this.stop(error instanceof Error ? error : new Error(String(error))),
    );
    this.segmented.set(table.name, { phase: "finishing", finished });
  }

  /**
   * What a segmented table's target needs once every segment is in: BigQuery, the load job over
   * every segment's files; Postgres, the rows past the last segment removed and the sequence
   * moved (each segment removed those of its own range that the source no longer has, the last
   * one those past its last key).
   */
  private async finishTarget(table: MigrationTable, tableState: TableState): Promise<void> {
    const { bigquery, filesDir } = this.settings;
    if (table.target === "postgres") {
      // The last segment read on past its planned bound (`lane.ts`): its last key is the end.
      const last = tableState.segments!.at(-1)!;
      const lastKey = last.lastKey ?? last.after;
      const clients = this.options.targetClients;
      if (!clients) throw new Error("a Postgres table's finish needs the run's target clients");
      await clients.use((client) =>
        finishTable(client, table, lastKey === undefined ? undefined : BigInt(lastKey)),
      );
    } else if (bigquery) {
      tableState.loadJobId = await bigQueryWarehouse(bigquery).loadTable(
        table,
        filesDir,
        tableState.files,
      );
    }
  }
}
