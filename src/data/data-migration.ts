/**
 * `data migrate`: the one-off copy of the legacy tables into Postgres and BigQuery, from its
 * options to its result. It checks the targets and the source, holds the state directory's lock,
 * starts or resumes the state file (`--resume` continues exactly where a crash or `kill -9`
 * stopped), has the lanes run on worker threads (`lane-scheduler.ts`, `lane.ts`) and verifies the
 * result (`data-verification.ts`). A run that stops says why and how to continue.
 */
import { join } from "node:path";
import { ToolError, type ErrorKind } from "../errors/tool-error";
import {
  emptyTableState,
  readState,
  removeTempFiles,
  restrictPermissions,
  redactUrl,
  statePath,
  withStateDirLock,
  writeState,
  type MigrationState,
} from "./checkpoint";
import type { Checksum } from "./checksum";
import { startPostgresChecksum, verifyAfterCopy } from "./data-verification";
import type { LaneSettings, TableReport } from "./lane";
import { LaneScheduler, planLanes } from "./lane-scheduler";
import { clearLoadFiles, listLoadFiles } from "./load-files";
import { assertTargets, loadFilesDir, type MigrationTargets } from "./migration-targets";
import { PostgresBulkLoad } from "./postgres-bulk-load";
import { assertTargetTables, connectPostgres, LentTargetClients } from "./postgres-sink";
import { readRejects, rejectPath, repairRejects, replaceRejects } from "./rejects";
import { connectSource } from "./source";
import { checkSourceSchema } from "./source-schema";
import type { TableVerification } from "./table-checksums";
import { WorkerPool } from "./worker-pool";

export type { TableReport } from "./lane";

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

export interface MigrateOptions extends MigrationTargets {
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
   * A table of more source rows than this is copied in key-range segments of about this many
   * rows, each by its own lane (default `DEFAULT_SEGMENT_ROWS`): one lane per table would leave
   * the largest table's encoding on a single core while the others idle. An auth table is split
   * across the workers sooner (`lane-scheduler.ts`).
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

export interface MigrateResult {
  readonly tables: readonly TableReport[];
  /** Wall time of the copy and of the verification, in seconds. */
  readonly copySeconds: number;
  readonly verifySeconds: number;
  readonly verification: readonly TableVerification[];
  readonly rejectFile: string;
}

export async function migrate(options: MigrateOptions): Promise<MigrateResult> {
  assertTargets(options);
  return withStateDirLock(options.stateDir, async () => {
    tidyStateDir(options);
    return migrateLocked(options);
  });
}

/** What a killed run or an earlier version left in the state directory, set right (lock held). */
function tidyStateDir(options: MigrateOptions): void {
  // Only this run writes here now: temp files are leftovers of a killed run.
  removeTempFiles(options.stateDir);
  const filesDir = loadFilesDir(options);
  const analytics = options.tables.filter((t) => t.target === "bigquery");
  for (const t of analytics) removeTempFiles(join(filesDir, t.name));
  repairRejects(options.stateDir);
  // Files an earlier run (or version, or umask) left readable by others.
  restrictPermissions([
    statePath(options.stateDir),
    rejectPath(options.stateDir),
    ...analytics.flatMap((t) => listLoadFiles(filesDir, t.name).map((f) => join(filesDir, f))),
  ]);
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
  // The worker threads start now: loading their code overlaps the checks below.
  const pool = new WorkerPool(options.workers);
  try {
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
      return await copyAndVerify(options, state, pool);
    } catch (error) {
      throw stopped(error, options);
    }
  } finally {
    await pool.close();
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

/** The copy (every lane, `LaneScheduler`), then the verification on the same workers. */
async function copyAndVerify(
  options: MigrateOptions,
  state: MigrationState,
  pool: WorkerPool,
): Promise<MigrateResult> {
  const settings: LaneSettings = {
    sourceUrl: options.sourceUrl,
    postgresUrl: options.postgresUrl,
    bigquery: options.bigquery,
    filesDir: loadFilesDir(options),
    pageSize: options.pageSize,
    maxRejects: options.maxRejects,
    rejectFile: rejectPath(options.stateDir),
    verify: options.verify,
  };
  const existingRejects = readRejects(options.stateDir);
  const started = Date.now();
  const lanes = await planLanes(options, state);
  checkInterrupted(options, true);
  const bulk = options.tables.some((t) => t.target === "postgres")
    ? await PostgresBulkLoad.start({
        postgresUrl: options.postgresUrl!,
        tables: options.tables,
        state,
        save: () => writeState(options.stateDir, state),
        log: options.log,
      })
    : undefined;
  const targetChecksums = new Map<string, Promise<Checksum>>();
  const targetClients = bulk ? new LentTargetClients(options.postgresUrl!) : undefined;
  const onAbort = () => void pool.close();
  options.signal?.addEventListener("abort", onAbort);
  try {
    const scheduler = new LaneScheduler(
      pool,
      settings,
      state,
      {
        ...options,
        targetClients,
        onTableCopied: (table) => {
          if (table.target !== "postgres") return;
          void bulk?.restore(table.name);
          if (options.verify)
            targetChecksums.set(table.name, startPostgresChecksum(targetClients!, table));
        },
      },
      existingRejects,
      started,
    );
    const outcome = await scheduler.runLanes(lanes);
    // Whether the lanes finished or stopped, the tables get their indexes and foreign keys back.
    try {
      await bulk?.restoreAll();
    } catch (error) {
      if (outcome.state === "copied") throw error;
      options.log(
        `warning: ${error instanceof Error ? error.message : String(error)}; --resume builds them again`,
      );
    }
    checkInterrupted(options, true);
    if (outcome.state === "failed") throw outcome.cause;
    const tables = await scheduler.tableReports();
    const copied = Date.now();
    const verified = options.verify
      ? await verifyAfterCopy(pool, options, state, targetChecksums)
      : [];
    return {
      tables,
      copySeconds: (copied - started) / 1000,
      verifySeconds: (Date.now() - copied) / 1000,
      verification: verified,
      rejectFile: rejectPath(options.stateDir),
    };
  } finally {
    options.signal?.removeEventListener("abort", onAbort);
    await pool.close();
    await bulk?.close();
    await targetClients?.close();
  }
}

/**
 * The state this run starts from: with `--resume` the previous one (of the same source), else a
 * fresh one for the selected tables, whose earlier load files and rejects are forgotten.
 */
function startState(options: MigrateOptions): MigrationState {
  const sourceId = redactUrl(options.sourceUrl);
  const previous = readState(options.stateDir);
  const filesDir = loadFilesDir(options);
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
      if (t.target === "bigquery" && untouched) clearLoadFiles(filesDir, t.name);
    }
    return previous;
  }
  // A fresh run: forget earlier progress and rejects of the selected tables. The state is written
  // first: a run that stops in between (a full disk) leaves no state pointing at deleted files.
  const state: MigrationState = previous ?? { version: 1, source: sourceId, tables: {} };
  state.source = sourceId;
  for (const t of options.tables) {
    // What an earlier run dropped and did not build again (killed, or stopped on a duplicate) is
    // still missing from the target: this run builds it at its end, as a resume would.
    const deferred = state.tables[t.name]?.deferred;
    state.tables[t.name] = { ...emptyTableState(), ...(deferred ? { deferred } : {}) };
  }
  writeState(options.stateDir, state);
  for (const t of options.tables) {
    if (t.target === "bigquery") clearLoadFiles(filesDir, t.name);
  }
  const kept = readRejects(options.stateDir).filter(
    (r) => !options.tables.some((t) => t.name === r.table),
  );
  replaceRejects(options.stateDir, kept);
  return state;
}
