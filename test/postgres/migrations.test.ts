/** Up from empty, verify, down to zero, up again — the real migrations on a real Postgres 15. */
import {
  migrationStatus,
  runMigrations,
  verifySchema,
  migrationsChecksum,
} from "../../src/migrate";
import { authTableList } from "../../schema/auth";
import { useEmbeddedPostgres } from "../support/embedded-postgres";
import { REAL_MIGRATIONS, freshDatabase, publicTables, withClient } from "./migration-fixtures";

const MIGRATION_NAMES = REAL_MIGRATIONS.map((f) => f.replace(/\.sql$/, ""));
const AUTH_TABLES = authTableList.map((t) => t.name).sort();
const BOOKKEEPING = ["pgmigrations", "synter_migrations"];

describe("auth schema migrations", () => {
  const server = useEmbeddedPostgres();

  it("ships at least two SQL migrations, the legacy tables first", () => {
    expect(REAL_MIGRATIONS).toEqual([
      "1795600000000_auth-legacy-tables.sql",
      "1795600060000_oauth-connections.sql",
    ]);
  });

  it("applies everything to an empty database, and the result matches schema/auth.ts", async () => {
    const url = await freshDatabase(server(), "up_from_empty");
    const lines: string[] = [];
    const result = await runMigrations({ databaseUrl: url, log: (l) => lines.push(l) });
    expect(result.direction).toBe("up");
    expect(result.migrations.map((m) => m.name)).toEqual(MIGRATION_NAMES);
    expect(result.lockWaitMs).toBe(0);
    expect(lines.filter((l) => l.startsWith("applying"))).toEqual(
      REAL_MIGRATIONS.map((f) => `applying ${f}…`),
    );

    expect(await verifySchema({ databaseUrl: url })).toEqual({
      ok: true,
      schema: "public",
      differences: [],
    });
    expect(await publicTables(url)).toEqual([...AUTH_TABLES, ...BOOKKEEPING].sort());

    const status = await migrationStatus({ databaseUrl: url });
    expect(status.pending).toEqual([]);
    expect(status.problems).toEqual([]);
    expect(status.applied.map((a) => [a.name, a.state])).toEqual(
      MIGRATION_NAMES.map((n) => [n, "ok"]),
    );
    expect(status.applied.map((a) => a.checksum)).toEqual(result.migrations.map((m) => m.checksum));

    // A second run finds nothing to do.
    const again = await runMigrations({ databaseUrl: url });
    expect(again.migrations).toEqual([]);
  });

  it("records node-pg-migrate's own history too, so its CLI sees the same state", async () => {
    const url = await freshDatabase(server(), "pgmigrations");
    await runMigrations({ databaseUrl: url });
    const rows = await withClient(
      url,
      async (c) =>
        (await c.query<{ name: string }>("SELECT name FROM pgmigrations ORDER BY id")).rows,
    );
    expect(rows.map((r) => r.name)).toEqual(MIGRATION_NAMES);
  });

  it("reverts one at a time, down to zero (no tables, function or extension left), and up again", async () => {
    const url = await freshDatabase(server(), "down_up");
    await runMigrations({ databaseUrl: url });

    const one = await runMigrations({ databaseUrl: url, direction: "down" });
    expect(one.migrations.map((m) => m.name)).toEqual([MIGRATION_NAMES[1]]);
    expect(await publicTables(url)).toEqual(
      [
        ...AUTH_TABLES.filter(
          (t) => !["oauth_connections", "oauth_tokens", "ad_accounts"].includes(t),
        ),
        ...BOOKKEEPING,
      ].sort(),
    );
    const status = await migrationStatus({ databaseUrl: url });
    expect(status.pending.map((p) => p.name)).toEqual([MIGRATION_NAMES[1]]);

    const rest = await runMigrations({ databaseUrl: url, direction: "down", count: Infinity });
    expect(rest.migrations.map((m) => m.name)).toEqual([MIGRATION_NAMES[0]]);
    expect(await publicTables(url)).toEqual(BOOKKEEPING);
    const leftovers = await withClient(url, async (c) => {
      const { rows } = await c.query<{ functions: string; extensions: string; sequences: string }>(
        `SELECT (SELECT count(*) FROM pg_proc WHERE proname = 'synter_touch_updated_at') AS functions,
                (SELECT count(*) FROM pg_extension WHERE extname = 'citext') AS extensions,
                (SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                  WHERE n.nspname = 'public' AND c.relkind = 'S'
                    AND c.relname <> 'pgmigrations_id_seq') AS sequences`,
      );
      return rows[0];
    });
    expect(leftovers).toEqual({ functions: "0", extensions: "0", sequences: "0" });
    expect((await migrationStatus({ databaseUrl: url })).applied).toEqual([]);

    const down = await runMigrations({ databaseUrl: url, direction: "down" });
    expect(down.migrations).toEqual([]);

    const up = await runMigrations({ databaseUrl: url });
    expect(up.migrations.map((m) => m.name)).toEqual(MIGRATION_NAMES);
    expect((await verifySchema({ databaseUrl: url })).differences).toEqual([]);
  });

  it("applies the next N with a count, and runs on a caller's client without changing its settings", async () => {
    const url = await freshDatabase(server(), "count_client");
    await withClient(url, async (client) => {
      await client.query("SET lock_timeout = '7s'");
      const first = await runMigrations({ client, count: 1, lockTimeout: "3s" });
      expect(first.migrations.map((m) => m.name)).toEqual([MIGRATION_NAMES[0]]);
      expect(await verifySchema({ client })).toMatchObject({ ok: false });
      const second = await runMigrations({ client });
      expect(second.migrations.map((m) => m.name)).toEqual([MIGRATION_NAMES[1]]);
      expect((await verifySchema({ client })).ok).toBe(true);
      const { rows } = await client.query<{ lock_timeout: string; locks: string }>(
        `SELECT current_setting('lock_timeout') AS lock_timeout,
                (SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()) AS locks`,
      );
      expect(rows[0]).toEqual({ lock_timeout: "7s", locks: "0" });
    });
  });

  it("digests all migration files into one checksum", () => {
    expect(migrationsChecksum()).toMatch(/^[0-9a-f]{64}$/);
    expect(migrationsChecksum()).toBe(migrationsChecksum());
  });
});
