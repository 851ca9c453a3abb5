/**
 * Two runner processes started at once apply each migration once (the second waits for the lock,
 * then has nothing to do); failures come out as clear messages with the exit codes of their kinds.
 */
import { spawn, spawnSync } from "node:child_process";
import { join } from "node:path";
import { EXIT_CODES } from "../../src/cli/exit-codes";
import {
  MigrationFailedError,
  createMigration,
  migrationStatus,
  runMigrations,
  type RunMigrationsResult,
} from "../../src/migrate";
import { freePort, useEmbeddedPostgres } from "../support/embedded-postgres";
import {
  REAL_MIGRATIONS,
  copyMigrations,
  freshDatabase,
  publicTables,
  withClient,
} from "./migration-fixtures";
import { readFileSync } from "node:fs";

const CLI = join(__dirname, "..", "..", "bin", "synter-infra.js");

function runCli(
  args: string[],
  env: NodeJS.ProcessEnv = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn("node", [CLI, ...args], { env: { ...process.env, ...env } });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

describe("migration runner under concurrency and failure", () => {
  const server = useEmbeddedPostgres();
  const cleanups: (() => void)[] = [];
  afterEach(() => cleanups.splice(0).forEach((c) => c()));

  function migrationsWith(extra: Record<string, string>): string {
    const copy = copyMigrations(extra);
    cleanups.push(copy.remove);
    return copy.dir;
  }

  it("lets only one of two runner processes apply; the other waits, then finds nothing to do", async () => {
    const url = await freshDatabase(server(), "concurrent");
    // A third migration that holds the first runner inside the lock until the second one is
    // waiting for it (at most 60 s): the overlap is certain, whatever the machine's speed.
    const dir = migrationsWith({
      "1795600120000_wait-for-second-runner.sql": [
        "-- Up Migration",
        "DO $$",
        "BEGIN",
        "  FOR i IN 1..600 LOOP",
        "    EXIT WHEN EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND NOT granted);",
        "    PERFORM pg_sleep(0.1);",
        "  END LOOP;",
        "END $$;",
        "-- Down Migration",
        "",
      ].join("\n"),
    });
    const args = ["migrate", "up", "--json", "--database-url", url, "--migrations-dir", dir];
    const [a, b] = await Promise.all([runCli(args), runCli(args)]);
    expect([a.code, b.code]).toEqual([0, 0]);
    const results = [a, b].map((r) => JSON.parse(r.stdout) as RunMigrationsResult);
    const applied = results.map((r) => r.migrations.length).sort();
    expect(applied).toEqual([0, 3]);
    const waiter = results.findIndex((r) => r.migrations.length === 0);
    expect(results[waiter]!.lockWaitMs).toBeGreaterThan(0);
    expect([a, b][waiter]!.stderr).toMatch(
      /waiting for another migration runner \(pid \d+, synter-infra migrate \(lock\)\) to finish…\nno pending migrations\n$/,
    );

    const names = await withClient(
      url,
      async (c) =>
        (
          await c.query<{ name: string; n: string }>(
            "SELECT name, count(*) AS n FROM pgmigrations GROUP BY name ORDER BY name",
          )
        ).rows,
    );
    expect(names).toEqual(
      [
        ...REAL_MIGRATIONS.map((f) => f.replace(".sql", "")),
        "1795600120000_wait-for-second-runner",
      ].map((name) => ({
        name,
        n: "1",
      })),
    );
  });

  it("reports a failing migration with its file, line, statement and Postgres' message, and rolls it back", async () => {
    const url = await freshDatabase(server(), "failing");
    const dir = migrationsWith({
      "1795600120000_broken.sql": [
        "-- A migration with a typo in its second statement.",
        "-- Up Migration",
        "CREATE TABLE half_done (id int);",
        "INSERT INTO half_done (id)",
        "  SELECT id FROM user_typo;",
        "-- Down Migration",
        "DROP TABLE half_done;",
        "",
      ].join("\n"),
    });
    const error = await runMigrations({ databaseUrl: url, migrationsDir: dir }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(MigrationFailedError);
    const failure = error as MigrationFailedError;
    expect(failure.kind).toBe("config");
    expect(failure.message).toBe(
      [
        'migration 1795600120000_broken.sql (up) failed and was rolled back: relation "user_typo" does not exist [SQLSTATE 42P01]',
        "  at 1795600120000_broken.sql:5:18",
        "  statement: INSERT INTO half_done (id)",
        "      SELECT id FROM user_typo;",
      ].join("\n"),
    );
    expect([failure.migration, failure.sqlState, failure.location]).toEqual([
      "1795600120000_broken.sql",
      "42P01",
      "1795600120000_broken.sql:5:18",
    ]);
    // The good migrations before it stay applied; the broken one left nothing behind.
    expect(await publicTables(url)).not.toContain("half_done");
    const status = await migrationStatus({ databaseUrl: url, migrationsDir: dir });
    expect(status.applied).toHaveLength(REAL_MIGRATIONS.length);
    expect(status.pending.map((p) => p.fileName)).toEqual(["1795600120000_broken.sql"]);

    // Through the CLI: the same message, no stack trace, the exit code of `config`.
    const cli = await runCli(["migrate", "up", "--database-url", url, "--migrations-dir", dir]);
    expect(cli.code).toBe(EXIT_CODES.config);
    expect(cli.stderr).toBe(`applying 1795600120000_broken.sql…\nerror: ${failure.message}\n`);
  });

  it("sets lock_timeout: a migration waiting on a busy table fails fast instead of queueing", async () => {
    const url = await freshDatabase(server(), "lock_timeout");
    await runMigrations({ databaseUrl: url });
    const dir = migrationsWith({
      "1795600120000_add-locale.sql":
        "-- Up Migration\nALTER TABLE users ADD COLUMN locale text;\n-- Down Migration\nALTER TABLE users DROP COLUMN locale;\n",
    });
    await withClient(url, async (holder) => {
      await holder.query("BEGIN");
      await holder.query("SELECT * FROM users"); // holds ACCESS SHARE until ROLLBACK
      const started = Date.now();
      const error = await runMigrations({
        databaseUrl: url,
        migrationsDir: dir,
        lockTimeout: "300ms",
      }).then(
        () => undefined,
        (e: unknown) => e as MigrationFailedError,
      );
      expect(Date.now() - started).toBeLessThan(5000);
      expect(error?.sqlState).toBe("55P03");
      expect(error?.message).toContain("canceling statement due to lock timeout");
      expect(error?.message).toContain(
        "hint: a table lock was busy; retry, or raise --lock-timeout",
      );
      await holder.query("ROLLBACK");
    });
    const statementTimeout = await runMigrations({
      databaseUrl: url,
      migrationsDir: migrationsWith({
        "1795600120000_slow.sql": "-- Up Migration\nSELECT pg_sleep(2);\n-- Down Migration\n",
      }),
      statementTimeout: "200ms",
    }).then(
      () => undefined,
      (e: unknown) => e as MigrationFailedError,
    );
    expect(statementTimeout?.sqlState).toBe("57014");
  });

  it("names an unreachable server, bad credentials and a missing database, without stack traces", async () => {
    const port = await freePort();
    const unreachable = await runCli([
      "migrate",
      "status",
      "--database-url",
      `postgres://u:secret-pw@127.0.0.1:${port}/synter`,
    ]);
    expect([unreachable.code, unreachable.stderr]).toEqual([
      EXIT_CODES.unreachable,
      `error: cannot reach the database at 127.0.0.1:${port}: connection refused (is Postgres running?)\n`,
    ]);

    const { host, port: pgPort } = server();
    const badPassword = await runCli([
      "migrate",
      "up",
      "--database-url",
      `postgres://postgres:wrong-pw@${host}:${pgPort}/postgres`,
    ]);
    expect(badPassword.code).toBe(EXIT_CODES.auth);
    expect(badPassword.stderr).toBe(
      `error: the database at ${host}:${pgPort} rejected the credentials of user "postgres" (password authentication failed for user "postgres"); check the user and password in the URL\n`,
    );
    expect(badPassword.stderr).not.toContain("wrong-pw");

    const missing = await runCli(["migrate", "verify"], {
      DATABASE_URL: server().url("no_such_db"),
    });
    expect([missing.code, missing.stderr]).toEqual([
      EXIT_CODES.config,
      `error: database "no_such_db" does not exist on ${host}:${pgPort}; create it, or fix the database name in the URL\n`,
    ]);

    const noUrl = await runCli(["migrate", "status"], { DATABASE_URL: "" });
    expect([noUrl.code, noUrl.stderr]).toEqual([
      EXIT_CODES.usage,
      "error: no database given: pass --database-url URL or set DATABASE_URL\n",
    ]);

    const badTimeout = await runCli(["migrate", "up", "--lock-timeout", "soon"], {
      DATABASE_URL: server().url(),
    });
    expect([badTimeout.code, badTimeout.stderr]).toEqual([
      EXIT_CODES.usage,
      'error: invalid lock timeout "soon" (e.g. 10s, 500ms, 0 = wait forever)\n',
    ]);
  });

  it("status --json lists applied and pending migrations with their checksums", async () => {
    const url = await freshDatabase(server(), "status_json");
    await runMigrations({ databaseUrl: url, count: 1 });
    const cli = spawnSync("node", [CLI, "migrate", "status", "--json", "--database-url", url], {
      encoding: "utf8",
    });
    expect(cli.status).toBe(0);
    const status = JSON.parse(cli.stdout);
    expect(status).toEqual(JSON.parse(JSON.stringify(await migrationStatus({ databaseUrl: url }))));
    expect(status.applied.map((a: { name: string; state: string }) => [a.name, a.state])).toEqual([
      [REAL_MIGRATIONS[0]!.replace(".sql", ""), "ok"],
    ]);
    expect(status.pending.map((p: { fileName: string }) => p.fileName)).toEqual([
      REAL_MIGRATIONS[1],
    ]);
  });

  it("create writes a timestamped SQL file from the template, always after the last migration", () => {
    const dir = migrationsWith({});
    const path = createMigration("add-user-locale", { dir, now: () => 1_000 });
    // The clock is behind the last migration: the new file still sorts last.
    expect(path).toBe(join(dir, "1795600060001_add-user-locale.sql"));
    expect(readFileSync(path, "utf8")).toContain("-- Up Migration\n\n\n-- Down Migration\n");
    const later = createMigration("add-index", { dir, now: () => 1_895_600_000_000 });
    expect(later).toBe(join(dir, "1895600000000_add-index.sql"));
    expect(() => createMigration("Add Index", { dir })).toThrow(
      'invalid migration name "Add Index": use lower-case words joined by hyphens, e.g. add-user-locale',
    );
  });
});
