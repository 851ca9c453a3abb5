/**
 * Stopping a run: Ctrl-C during `migrate up` cancels the running statement on the server before
 * the lock is released (so the next runner does not wait behind an orphan), rolls the migration
 * back and exits with the interrupted code and one line; the API does the same through its
 * AbortSignal, also while it waits for another runner's lock. `down all` needs --yes.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { join } from "node:path";
import { EXIT_CODES } from "../../src/cli/exit-codes";
import {
  MIGRATION_LOCK_KEY,
  MigrationInterruptedError,
  migrationStatus,
  runMigrations,
} from "../../src/migrate";
import { useEmbeddedPostgres } from "../support/embedded-postgres";
import {
  REAL_MIGRATIONS,
  copyMigrations,
  freshDatabase,
  publicTables,
  withClient,
} from "./migration-fixtures";

const CLI = join(__dirname, "..", "..", "bin", "synter-infra.js");
const SLOW = "1795600120000_slow.sql";
const SLOW_MIGRATION = [
  "-- Up Migration",
  "CREATE TABLE slow_marker (id int);",
  "SELECT pg_sleep(30);",
  "-- Down Migration",
  "DROP TABLE slow_marker;",
  "",
].join("\n");

interface Exited {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function startCli(args: string[]): { child: ChildProcess; exited: Promise<Exited> } {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (c: Buffer) => (stdout += c.toString()));
  child.stderr!.on("data", (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<Exited>((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
  return { child, exited };
}

/** Pids of the backends of `url`'s database running a statement like `pattern`. */
async function running(url: string, pattern: string): Promise<number[]> {
  return withClient(url, async (c) => {
    const { rows } = await c.query<{ pid: number }>(
      `SELECT pid FROM pg_stat_activity
        WHERE datname = current_database() AND state = 'active' AND query LIKE $1
          AND pid <> pg_backend_pid()`,
      [pattern],
    );
    return rows.map((r) => r.pid);
  });
}
const sleepers = (url: string) => running(url, "%pg_sleep(%");

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Whether a new session gets the migration lock at once (and gives it back). */
async function lockIsFree(url: string): Promise<boolean> {
  return withClient(url, async (c) => {
    const { rows } = await c.query<{ locked: boolean }>(
      "SELECT pg_try_advisory_lock($1::bigint) AS locked",
      [MIGRATION_LOCK_KEY],
    );
    if (rows[0]!.locked)
      await c.query("SELECT pg_advisory_unlock($1::bigint)", [MIGRATION_LOCK_KEY]);
    return rows[0]!.locked;
  });
}

describe("stopping a migration run", () => {
  const server = useEmbeddedPostgres();
  const cleanups: (() => void)[] = [];
  afterEach(() => cleanups.splice(0).forEach((c) => c()));

  function slowMigrations(): string {
    const copy = copyMigrations({ [SLOW]: SLOW_MIGRATION });
    cleanups.push(copy.remove);
    return copy.dir;
  }

  it("Ctrl-C during migrate up cancels the statement on the server, then releases the lock", async () => {
    const url = await freshDatabase(server(), "sigint");
    const dir = slowMigrations();
    const { child, exited } = startCli([
      "migrate",
      "up",
      "--database-url",
      url,
      "--migrations-dir",
      dir,
    ]);
    await waitFor("pg_sleep to run", async () => (await sleepers(url)).length > 0);

    const interruptedAt = Date.now();
    child.kill("SIGINT");
    const result = await exited;
    // Well before the 30 s sleep would have ended.
    expect(Date.now() - interruptedAt).toBeLessThan(10_000);

    const before = REAL_MIGRATIONS.map((f) => f.replace(/\.sql$/, ""));
    expect(result.code).toBe(EXIT_CODES.interrupted);
    expect(result.stdout).toBe("");
    const lines = result.stderr.trimEnd().split("\n");
    expect(lines.slice(-3)).toEqual([
      `applying ${SLOW}…`,
      "SIGINT: cancelling the running statement on the server…",
      `error: interrupted: ${SLOW} was cancelled on the server and rolled back (${before.length} applied before it (${before.join(", ")})); the lock is released; run \`migrate up\` again to continue`,
    ]);

    // Nothing of it is left on the server, and the next runner gets the lock at once.
    expect(await sleepers(url)).toEqual([]);
    expect(await lockIsFree(url)).toBe(true);
    expect(await publicTables(url)).not.toContain("slow_marker");
    const status = await migrationStatus({ databaseUrl: url, migrationsDir: dir });
    expect(status.applied.map((a) => a.name)).toEqual(before);
    expect(status.pending.map((p) => p.fileName)).toEqual([SLOW]);
  });

  it("an aborted signal stops the API the same way, with what was applied before", async () => {
    const url = await freshDatabase(server(), "abort_api");
    const dir = slowMigrations();
    const controller = new AbortController();
    const run = runMigrations({ databaseUrl: url, migrationsDir: dir, signal: controller.signal });
    const outcome = run.then(
      () => undefined,
      (e: unknown) => e,
    );
    await waitFor("pg_sleep to run", async () => (await sleepers(url)).length > 0);
    controller.abort();
    const error = await outcome;
    expect(error).toBeInstanceOf(MigrationInterruptedError);
    const interrupted = error as MigrationInterruptedError;
    expect(interrupted.kind).toBe("interrupted");
    expect(interrupted.migration).toBe(SLOW);
    expect(interrupted.completed.map((r) => r.fileName)).toEqual(REAL_MIGRATIONS);
    expect(await sleepers(url)).toEqual([]);
    expect(await lockIsFree(url)).toBe(true);
  });

  it("an abort while waiting for another runner's lock cancels the wait", async () => {
    const url = await freshDatabase(server(), "abort_lock_wait");
    await withClient(url, async (holder) => {
      await holder.query("SELECT pg_advisory_lock($1::bigint)", [MIGRATION_LOCK_KEY]);
      const controller = new AbortController();
      const lines: string[] = [];
      const outcome = runMigrations({
        databaseUrl: url,
        signal: controller.signal,
        log: (line) => lines.push(line),
      }).then(
        () => undefined,
        (e: unknown) => e,
      );
      await waitFor("the runner to wait for the lock", async () => lines.length > 0);
      await waitFor(
        "pg_advisory_lock to wait",
        async () => (await running(url, "%pg_advisory_lock(%")).length > 0,
      );
      controller.abort();
      const error = await outcome;
      expect(error).toBeInstanceOf(MigrationInterruptedError);
      expect((error as Error).message).toBe(
        "interrupted while waiting for another migration runner's lock; nothing was applied; run `migrate up` again to continue",
      );
      expect(await running(url, "%pg_advisory_lock(%")).toEqual([]);
      await holder.query("SELECT pg_advisory_unlock($1::bigint)", [MIGRATION_LOCK_KEY]);
    });
    expect(await publicTables(url)).toEqual([]);
  });

  it("migrate down all --yes reverts every migration", async () => {
    const url = await freshDatabase(server(), "down_all");
    await runMigrations({ databaseUrl: url });
    const { exited } = startCli(["migrate", "down", "all", "--yes", "--database-url", url]);
    const result = await exited;
    expect(result.code).toBe(0);
    const reverted = [...REAL_MIGRATIONS].reverse().map((f) => f.replace(/\.sql$/, ""));
    expect(result.stdout).toBe(
      `reverted ${reverted.length} migration(s): ${reverted.join(", ")}\n`,
    );
    expect(await publicTables(url)).toEqual(["pgmigrations", "synter_migrations"]);
  });
});
