/**
 * Applies and reverts migrations safely: one runner at a time (a waiting advisory lock), each
 * migration in its own transaction with lock_timeout and statement_timeout, its checksum recorded
 * in that same transaction, and a refusal to run when applied files were edited, removed or
 * reordered. node-pg-migrate's `Migration` class executes each file (so `.sql` and `.js` files
 * behave exactly as under its CLI); the transaction, lock and bookkeeping around it are ours.
 * Stopped through its AbortSignal (Ctrl-C in the CLI), it cancels the running statement on the
 * server before it lets go of the lock, so the next runner never waits behind an orphan.
 */
import { createRequire } from "node:module";
import type { Client, ClientBase, QueryConfig } from "pg";
import type { Logger, MigrationBuilderActions, RunnerOption } from "./node-pg-migrate-internals";
import { ToolError, type ErrorKind } from "../errors/tool-error";
import { connect, resolveDatabaseUrl, type DatabaseTarget } from "./connection";
import { DEFAULT_MIGRATIONS_DIR, readMigrationFiles, type MigrationFile } from "./files";
import {
  MIGRATIONS_SCHEMA,
  MIGRATIONS_TABLE,
  checksumsTableSql,
  ensureHistoryTables,
  historyProblems,
  readApplied,
} from "./history";
import { locateStatement, lineOf } from "./sql-position";

/**
 * node-pg-migrate's own advisory lock key: while we hold it, its CLI refuses to start, and we wait
 * for its CLI to finish — the two tools exclude each other too.
 */
export const MIGRATION_LOCK_KEY = "7241865325823964";

export const DEFAULT_LOCK_TIMEOUT = "10s";
export const DEFAULT_STATEMENT_TIMEOUT = "5min";
export const LOCK_TIMEOUT_VARIABLE = "SYNTER_MIGRATE_LOCK_TIMEOUT";
export const STATEMENT_TIMEOUT_VARIABLE = "SYNTER_MIGRATE_STATEMENT_TIMEOUT";

export type MigrationDirection = "up" | "down";

export interface RunMigrationsOptions extends DatabaseTarget {
  /** Default `up`. */
  readonly direction?: MigrationDirection;
  /** How many to apply (up: default all) or revert (down: default 1); `Infinity` for all. */
  readonly count?: number;
  /**
   * How long one statement may wait for a table lock (Postgres interval, e.g. `10s`): DDL that
   * waits behind a long query would otherwise block every query queued behind it. Default
   * `$SYNTER_MIGRATE_LOCK_TIMEOUT` or 10s.
   */
  readonly lockTimeout?: string;
  /** Upper bound for one statement. Default `$SYNTER_MIGRATE_STATEMENT_TIMEOUT` or 5min. */
  readonly statementTimeout?: string;
  /** Progress lines (one per migration, waiting for the lock…). Default: silent. */
  readonly log?: (line: string) => void;
  /** Default: the repository's `migrations/`. */
  readonly migrationsDir?: string;
  /**
   * Stops the run: the running statement is cancelled on the server (from the lock's session), its
   * migration rolled back, the lock released, and the run rejects with a
   * `MigrationInterruptedError`. With a borrowed `client` there is no second session to cancel
   * from: the run stops before its next statement.
   */
  readonly signal?: AbortSignal;
}

export interface MigrationRun {
  readonly name: string;
  readonly fileName: string;
  readonly direction: MigrationDirection;
  readonly checksum: string;
  readonly durationMs: number;
}

export interface RunMigrationsResult {
  readonly direction: MigrationDirection;
  /** Migrations applied (up) or reverted (down), in execution order; empty when nothing to do. */
  readonly migrations: readonly MigrationRun[];
  /** Milliseconds spent waiting for another runner's lock. */
  readonly lockWaitMs: number;
}

/**
 * The kind of a failed migration by its SQLSTATE: a deadline (lock or statement timeout) is
 * `interrupted` (run again), a missing privilege `auth`, a lost connection `unreachable`; anything
 * else means the migration does not fit this database (`config`).
 */
function failureKind(sqlState: string | undefined, message: string): ErrorKind {
  if (sqlState === "55P03" || sqlState === "57014") return "interrupted";
  if (sqlState === "42501") return "auth";
  if (sqlState?.startsWith("08") || sqlState === "57P01" || sqlState === "57P02") {
    return "unreachable";
  }
  if (/Connection terminated|ECONNRESET|EPIPE/.test(message)) return "unreachable";
  return "config";
}

/** Invalid runner options: a count or a timeout that is not what the option takes. */
export class MigrationOptionError extends ToolError {
  constructor(message: string) {
    super("usage", message);
  }
}

/** A migration failed and was rolled back. Carries what a user needs to fix it. */
export class MigrationFailedError extends ToolError {
  constructor(
    message: string,
    readonly migration: string,
    readonly statement: string | undefined,
    readonly postgresMessage: string,
    readonly sqlState: string | undefined,
    /** `file:line:column` for SQL files, when Postgres gave a position. */
    readonly location: string | undefined,
  ) {
    super(failureKind(sqlState, postgresMessage), message);
  }
}

/** Applied files disagree with the recorded history; nothing was run. */
export class MigrationHistoryError extends ToolError {
  constructor(
    message: string,
    readonly problems: readonly { kind: string; name: string; message: string }[],
  ) {
    super("mismatch", message);
  }
}

/**
 * The run was stopped through its signal. The migration that was running (if any) was cancelled
 * on the server and rolled back; `completed` were committed before it.
 */
export class MigrationInterruptedError extends ToolError {
  constructor(
    message: string,
    /** The migration that was cancelled and rolled back, if one was running. */
    readonly migration: string | undefined,
    readonly completed: readonly MigrationRun[],
  ) {
    super("interrupted", message);
  }
}

const INTERVAL_PATTERN = /^\d+(\.\d+)?\s*(ms|s|min|h|d)?$/;

export function resolveTimeouts(options: { lockTimeout?: string; statementTimeout?: string }): {
  lockTimeout: string;
  statementTimeout: string;
} {
  const lockTimeout =
    options.lockTimeout ?? process.env[LOCK_TIMEOUT_VARIABLE] ?? DEFAULT_LOCK_TIMEOUT;
  const statementTimeout =
    options.statementTimeout ??
    process.env[STATEMENT_TIMEOUT_VARIABLE] ??
    DEFAULT_STATEMENT_TIMEOUT;
  const problems: string[] = [];
  if (!INTERVAL_PATTERN.test(lockTimeout))
    problems.push(`lock timeout "${lockTimeout}" (e.g. 10s, 500ms, 0 = wait forever)`);
  if (!INTERVAL_PATTERN.test(statementTimeout))
    problems.push(`statement timeout "${statementTimeout}" (e.g. 5min, 30s, 0 = no limit)`);
  if (problems.length > 0) throw new MigrationOptionError(`invalid ${problems.join(" and ")}`);
  return { lockTimeout, statementTimeout };
}

const silentLogger: Logger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};

interface FailedQuery {
  sql: string;
  error: unknown;
}

/** What a query of a stopped run rejects with before it reaches the server. */
class RunStopped extends Error {}

/**
 * The client as node-pg-migrate sees it: every query goes through `send`, the failing one is
 * noted, and none is sent once the run was stopped.
 */
function trackingClient(
  send: (textOrConfig: string | QueryConfig, values?: unknown[]) => Promise<unknown>,
  onFailure: (failure: FailedQuery) => void,
  stopped: () => boolean,
): ClientBase {
  const query = (textOrConfig: string | QueryConfig, values?: unknown[]) => {
    if (stopped()) return Promise.reject(new RunStopped("the run was stopped"));
    return send(textOrConfig, values).catch((error: unknown) => {
      onFailure({
        sql: typeof textOrConfig === "string" ? textOrConfig : textOrConfig.text,
        error,
      });
      throw error;
    });
  };
  return { query } as unknown as ClientBase;
}

/**
 * node-pg-migrate, loaded when there is a migration to run: loading it is most of a CLI run's
 * start-up (glob, its migration builder and every operation module), which a run with nothing to
 * do never needs (bench/migrations).
 */
function nodePgMigrate(): typeof import("./node-pg-migrate-internals") {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- require() defers the loading
  return require("./node-pg-migrate-internals") as typeof import("./node-pg-migrate-internals");
}

function loadActions(file: MigrationFile): MigrationBuilderActions {
  if (file.language === "sql") return nodePgMigrate().getActions(file.content);
  // JS migrations are CommonJS modules, loaded the way node-pg-migrate's CLI loads them.
  return createRequire(file.path)(file.path) as MigrationBuilderActions;
}

interface PgErrorFields {
  message?: string;
  code?: string;
  position?: string;
}

function migrationFailure(
  file: MigrationFile,
  direction: MigrationDirection,
  failure: FailedQuery | undefined,
  error: unknown,
): Error {
  const pgError = (failure?.error ?? error) as PgErrorFields;
  if (!pgError || typeof pgError.message !== "string" || (!pgError.code && !failure)) {
    return error instanceof Error ? error : new Error(String(error));
  }
  const postgresMessage = pgError.message;
  let statement: string | undefined;
  let location: string | undefined;
  const position = pgError.position ? Number(pgError.position) : undefined;
  if (failure) {
    const located = position ? locateStatement(failure.sql, position) : undefined;
    statement = located?.statement ?? failure.sql.trim();
    // A SQL file's section runs verbatim, so the position maps back to a line of the file.
    // (pgm.sql appends a `;` when the section does not end with one.)
    const sectionOffset =
      file.language === "sql" ? file.content.indexOf(failure.sql.replace(/;$/, "")) : -1;
    if (located && sectionOffset >= 0) {
      const line = lineOf(file.content, sectionOffset) + located.line - 1;
      location = `${file.fileName}:${line}:${located.column}`;
    }
  }
  const lines = [
    `migration ${file.fileName} (${direction}) failed and was rolled back: ${postgresMessage}${pgError.code ? ` [SQLSTATE ${pgError.code}]` : ""}`,
  ];
  if (location) lines.push(`  at ${location}`);
  if (statement) {
    const shown = statement.length > 2000 ? `${statement.slice(0, 2000)}…` : statement;
    lines.push(`  statement: ${shown.replace(/\n/g, "\n    ")}`);
  }
  if (pgError.code === "55P03")
    lines.push("  hint: a table lock was busy; retry, or raise --lock-timeout");
  if (pgError.code === "57014") lines.push("  hint: the statement ran past --statement-timeout");
  return new MigrationFailedError(
    lines.join("\n"),
    file.fileName,
    statement,
    postgresMessage,
    pgError.code,
    location,
  );
}

interface Sessions {
  readonly work: Client;
  readonly lock: Client;
  close(): Promise<void>;
}

async function openSessions(target: DatabaseTarget): Promise<Sessions> {
  if (target.client) {
    const client = target.client;
    return { work: client, lock: client, close: async () => undefined };
  }
  const url = resolveDatabaseUrl(target.databaseUrl);
  // A dedicated session for the lock: the migrations' timeouts and transactions never touch it,
  // and the lock is released when it closes, even if the runner dies mid-way.
  const [lock, work] = await Promise.allSettled([
    connect(url, { applicationName: "synter-infra migrate (lock)" }),
    connect(url),
  ]);
  if (lock.status === "rejected" || work.status === "rejected") {
    for (const session of [lock, work]) {
      if (session.status === "fulfilled") await session.value.end().catch(() => undefined);
    }
    throw lock.status === "rejected" ? lock.reason : (work as PromiseRejectedResult).reason;
  }
  return {
    work: work.value,
    lock: lock.value,
    close: async () => {
      await Promise.all([
        work.value.end().catch(() => undefined),
        lock.value.end().catch(() => undefined),
      ]);
    },
  };
}

/**
 * Takes the migration lock, waiting for any other runner; returns the milliseconds waited.
 * `onWait` sees the waiting query, so that a stop can cancel it.
 */
async function acquireLock(
  lock: ClientBase,
  log: (line: string) => void,
  stopped: () => boolean,
  onWait: (wait: Promise<unknown>) => void,
): Promise<number> {
  const started = Date.now();
  const { rows } = await lock.query<{ locked: boolean }>(
    "SELECT pg_try_advisory_lock($1::bigint) AS locked",
    [MIGRATION_LOCK_KEY],
  );
  if (rows[0]?.locked) return 0;
  const { rows: holders } = await lock.query<{ pid: number; application_name: string }>(
    `SELECT a.pid, a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
      WHERE l.locktype = 'advisory' AND l.granted
        AND (l.classid::bigint << 32 | l.objid::bigint) = $1::bigint`,
    [MIGRATION_LOCK_KEY],
  );
  const holder = holders[0];
  log(
    `waiting for another migration runner${holder ? ` (pid ${holder.pid}, ${holder.application_name || "unnamed"})` : ""} to finish…`,
  );
  if (stopped()) throw new RunStopped("the run was stopped");
  // Blocks until the other runner releases the lock (or its session ends).
  const wait = lock.query("SELECT pg_advisory_lock($1::bigint)", [MIGRATION_LOCK_KEY]);
  onWait(wait);
  await wait;
  return Date.now() - started;
}

async function releaseLock(lock: ClientBase): Promise<void> {
  await lock.query("SELECT pg_advisory_unlock($1::bigint)", [MIGRATION_LOCK_KEY]);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Cancels what session `pid` is running, from another session of the same login. A cancel that
 * lands between two statements cancels nothing, so it is repeated until `busy` settles.
 */
async function cancelUntilSettled(
  from: ClientBase,
  pid: number,
  busy: Promise<unknown>,
): Promise<void> {
  let settled = false;
  const done = busy.then(
    () => (settled = true),
    () => (settled = true),
  );
  for (let attempt = 0; attempt < 50 && !settled; attempt++) {
    await from.query("SELECT pg_cancel_backend($1)", [pid]).catch(() => undefined);
    await Promise.race([done, sleep(200)]);
  }
}

async function backendPid(client: ClientBase): Promise<number> {
  const { rows } = await client.query<{ pid: number }>("SELECT pg_backend_pid() AS pid");
  return rows[0]!.pid;
}

function describeCompleted(direction: MigrationDirection, runs: readonly MigrationRun[]): string {
  if (runs.length === 0) return `none ${direction === "up" ? "applied" : "reverted"}`;
  return `${runs.length} ${direction === "up" ? "applied" : "reverted"} before it (${runs.map((r) => r.name).join(", ")})`;
}

/** Applies pending migrations (up) or reverts applied ones (down), under the lock. */
export async function runMigrations(
  options: RunMigrationsOptions = {},
): Promise<RunMigrationsResult> {
  const direction = options.direction ?? "up";
  const count = options.count ?? (direction === "up" ? Infinity : 1);
  if (!(count >= 1) || (Number.isFinite(count) && !Number.isInteger(count))) {
    throw new MigrationOptionError(`invalid count ${count}: a whole number ≥ 1, or all`);
  }
  const timeouts = resolveTimeouts(options);
  const log = options.log ?? (() => undefined);
  const dir = options.migrationsDir ?? DEFAULT_MIGRATIONS_DIR;
  const files = readMigrationFiles(dir);
  const signal = options.signal;
  const again = `run \`migrate ${direction}\` again to continue`;
  if (signal?.aborted) {
    throw new MigrationInterruptedError(`interrupted before it started; ${again}`, undefined, []);
  }

  const sessions = await openSessions(options);
  const { work, lock } = sessions;
  const separate = work !== lock;
  let locked = false;
  let savedSettings: { lock_timeout: string; statement_timeout: string } | undefined;
  // What the abort handler cancels: the lock wait (on the lock session), else the work session's
  // statement in flight. COMMIT is never tracked, so it is never cancelled half-way.
  let phase: "lock" | "migrate" = "lock";
  let lockWait: Promise<unknown> = Promise.resolve();
  let inFlight: Promise<unknown> = Promise.resolve();
  let stopping: Promise<void> | undefined;
  const stopped = () => signal?.aborted === true;
  let pids: { work: number; lock: number } | undefined;
  const onAbort = () => {
    if (!pids) return;
    stopping =
      phase === "lock"
        ? cancelUntilSettled(work, pids.lock, lockWait)
        : cancelUntilSettled(lock, pids.work, inFlight);
  };
  signal?.addEventListener("abort", onAbort, { once: true });
  const tracked = <T>(query: Promise<T>): Promise<T> => {
    inFlight = query;
    return query;
  };
  const workQuery = (text: string, values?: unknown[]) =>
    stopped()
      ? Promise.reject(new RunStopped("the run was stopped"))
      : tracked(work.query(text, values));
  try {
    if (separate) {
      // Two sessions, so the two round trips overlap.
      const [workPid, lockPid] = await Promise.all([backendPid(work), backendPid(lock)]);
      pids = { work: workPid, lock: lockPid };
    }
    let lockWaitMs: number;
    try {
      lockWaitMs = await acquireLock(lock, log, stopped, (wait) => (lockWait = wait));
    } catch (error) {
      if (stopped()) {
        throw new MigrationInterruptedError(
          `interrupted while waiting for another migration runner's lock; nothing was ${direction === "up" ? "applied" : "reverted"}; ${again}`,
          undefined,
          [],
        );
      }
      throw error;
    }
    locked = true;
    phase = "migrate";
    // Session-level (not SET LOCAL) so they also cover a migration that opts out of the
    // transaction (pgm.noTransaction()); a caller's own client gets its values back at the end.
    const { rows: before } = await work.query<{ lock_timeout: string; statement_timeout: string }>(
      "SELECT current_setting('lock_timeout') AS lock_timeout, current_setting('statement_timeout') AS statement_timeout",
    );
    savedSettings = before[0];
    await work.query(
      "SELECT set_config('lock_timeout', $1, false), set_config('statement_timeout', $2, false)",
      [timeouts.lockTimeout, timeouts.statementTimeout],
    );

    await ensureHistoryTables(work);
    const applied = await readApplied(work);
    const problems = historyProblems(applied, files);
    if (problems.length > 0) {
      throw new MigrationHistoryError(
        `refusing to migrate: the migration files disagree with the applied history\n${problems.map((p) => `  - ${p.message}`).join("\n")}`,
        problems,
      );
    }
    const appliedNames = new Set(applied.map((a) => a.name));
    const byName = new Map(files.map((f) => [f.name, f]));
    const toRun =
      direction === "up"
        ? files.filter((f) => !appliedNames.has(f.name)).slice(0, count)
        : applied
            .map((a) => byName.get(a.name)!)
            .reverse()
            .slice(0, count);
    if (toRun.length === 0) {
      log(direction === "up" ? "no pending migrations" : "no applied migrations to revert");
      return { direction, migrations: [], lockWaitMs };
    }

    const runs: MigrationRun[] = [];
    let failure: FailedQuery | undefined;
    const { createDb, Migration } = nodePgMigrate();
    const db = createDb(
      trackingClient(
        (textOrConfig, values) => tracked(work.query(textOrConfig as string, values)),
        (f) => (failure = f),
        stopped,
      ),
      silentLogger,
    );
    const runnerOptions = {
      migrationsTable: MIGRATIONS_TABLE,
      migrationsSchema: MIGRATIONS_SCHEMA,
      dir,
      direction,
      // We open and close the transaction around each file ourselves (see below).
      singleTransaction: true,
      decamelize: false,
      dbClient: work,
    } satisfies RunnerOption;
    for (const file of toRun) {
      if (stopped()) {
        throw new MigrationInterruptedError(
          `interrupted before ${file.fileName} (${describeCompleted(direction, runs)}); the lock is released; ${again}`,
          undefined,
          runs,
        );
      }
      log(`${direction === "up" ? "applying" : "reverting"} ${file.fileName}…`);
      const migration = new Migration(
        db,
        file.path,
        loadActions(file),
        runnerOptions,
        {},
        silentLogger,
      );
      const started = Date.now();
      failure = undefined;
      await work.query("BEGIN");
      try {
        // Runs the file's statements and node-pg-migrate's own bookkeeping row in our transaction.
        await migration.apply(direction);
        const durationMs = Date.now() - started;
        if (direction === "up") {
          await workQuery(
            `INSERT INTO ${checksumsTableSql} (name, checksum, duration_ms) VALUES ($1, $2, $3)
             ON CONFLICT (name) DO UPDATE SET checksum = EXCLUDED.checksum,
               applied_at = now(), duration_ms = EXCLUDED.duration_ms`,
            [file.name, file.checksum, durationMs],
          );
        } else {
          await workQuery(`DELETE FROM ${checksumsTableSql} WHERE name = $1`, [file.name]);
        }
        if (stopped()) throw new RunStopped("the run was stopped");
        await work.query("COMMIT");
        runs.push({
          name: file.name,
          fileName: file.fileName,
          direction,
          checksum: file.checksum,
          durationMs,
        });
        log(`  done in ${durationMs} ms`);
      } catch (error) {
        // Let the cancel settle first: it must not land on the ROLLBACK.
        if (stopping) await stopping;
        await work.query("ROLLBACK").catch(() => undefined);
        if (stopped()) {
          throw new MigrationInterruptedError(
            `interrupted: ${file.fileName} was cancelled on the server and rolled back (${describeCompleted(direction, runs)}); the lock is released; ${again}`,
            file.fileName,
            runs,
          );
        }
        throw migrationFailure(file, direction, failure, error);
      }
    }
    return { direction, migrations: runs, lockWaitMs };
  } finally {
    signal?.removeEventListener("abort", onAbort);
    // The cancel first, then the lock: the next runner must not wait behind our statement.
    if (stopping) await stopping;
    if (savedSettings && options.client) {
      await work
        .query(
          "SELECT set_config('lock_timeout', $1, false), set_config('statement_timeout', $2, false)",
          [savedSettings.lock_timeout, savedSettings.statement_timeout],
        )
        .catch(() => undefined);
    }
    if (locked) await releaseLock(lock).catch(() => undefined);
    await sessions.close();
  }
}
