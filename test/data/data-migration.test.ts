/**
 * The data migration end to end on real servers: MariaDB (standing in for SingleStore) loaded with
 * the legacy schema and hostile values, embedded Postgres 15 with the auth schema, load files under
 * a temp dir, and ZetaSQL evaluating the BigQuery checksum SQL over those files.
 */
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync, gzipSync } from "node:zlib";
import type { Connection } from "mysql2/promise";
import { Client } from "pg";
import { analyticsTableCatalog } from "../../src/zetasql/catalog";
import { ZetaSql } from "../../src/zetasql/analyzer";
import type { ValueProto } from "../../src/zetasql/proto-types";
import { EXIT_CODES } from "../../src/cli/exit-codes";
import { bigQueryChecksumSql } from "../../src/data/checksum";
import { connectSource } from "../../src/data/source";
import { migrationTables, type MigrationTable } from "../../src/data/table-plan";
import { sourceChecksum } from "../../src/data/table-checksums";
import { startEmbeddedPostgres, type EmbeddedPostgres } from "../support/embedded-postgres";
import { migrateInNode } from "../support/data-migration-in-node";
import { GoogleCloudStandIn, IMPERSONATED_TOKEN } from "../support/google-cloud-stand-in";
import { startMariaDb, type MariaDb } from "../support/mariadb";
import { describeWithBinaries } from "../support/servers";
import { insertBadRows, loadLegacyFixture, openLegacy } from "./legacy-fixture";
import { cli, statusOf, type CliRun } from "./cli-process";
import { createAuthSchema } from "./target-schema";
import { zetaSqlCellsOfLines } from "../support/zetasql-load-rows";

const PAGE_SIZE = "7";
const tables = migrationTables();
const authTables = tables.filter((t) => t.target === "postgres");
const analytics = tables.filter((t) => t.target === "bigquery");

/**
 * How long one CLI run may take on the 40-row fixture (a few seconds each here, even on a loaded
 * machine): a run past it is stuck, and fails its test at once naming the command and its stderr.
 */
const MIGRATE_BUDGET_MS = 20_000;
const VERIFY_BUDGET_MS = 15_000;

/** `synter-infra data migrate|verify …` as a child process, within its budget. */
function runCli(args: readonly string[], env: Record<string, string> = {}): Promise<CliRun> {
  const timeoutMs = args[1] === "verify" ? VERIFY_BUDGET_MS : MIGRATE_BUDGET_MS;
  return cli(args, { env, timeoutMs });
}

/** JSON text with object keys sorted, for comparing JSON values independently of key order. */
function sortedJson(value: unknown): string {
  const sort = (v: unknown): unknown =>
    Array.isArray(v)
      ? v.map(sort)
      : v !== null && typeof v === "object"
        ? Object.fromEntries(
            Object.keys(v)
              .sort()
              .map((k) => [k, sort((v as Record<string, unknown>)[k])]),
          )
        : v;
  return JSON.stringify(sort(value));
}

/** Source rows as text, values normalised the way the targets must hold them. */
async function sourceRows(db: Connection, table: MigrationTable): Promise<(string | null)[][]> {
  const cols = table.columns.map((c) => `\`${c.legacy.column}\``).join(", ");
  const [rows] = await db.query({
    sql: `SELECT ${cols} FROM \`${table.legacyTable}\` ORDER BY \`${table.key.legacy.column}\``,
    rowsAsArray: true,
    typeCast: (field) => field.string("utf8"),
  });
  return (rows as unknown as (string | null)[][]).map((row) =>
    row.map((v, i) => {
      if (v === null) return null;
      const kind = table.columns[i].value.kind;
      if (kind === "datetime") return `${v.slice(0, 19)}.${(v.slice(20) || "").padEnd(6, "0")}`;
      if (kind === "json") return sortedJson(JSON.parse(v));
      return v;
    }),
  );
}

/** Postgres rows as the server prints them, mapped to the source's conventions. */
async function postgresRows(pg: Client, table: MigrationTable): Promise<(string | null)[][]> {
  const cols = table.columns.map((c) => `"${c.name}"`).join(", ");
  const result = await pg.query({
    text: `SELECT ${cols} FROM "${table.name}" ORDER BY "${table.key.name}"`,
    rowMode: "array",
    types: { getTypeParser: () => (v: string) => v },
  });
  return (result.rows as (string | null)[][]).map((row) =>
    row.map((v, i) => {
      if (v === null) return null;
      const kind = table.columns[i].value.kind;
      if (kind === "boolean") return v === "t" ? "1" : "0";
      if (kind === "datetime") {
        const m = /^(.{19})(?:\.(\d+))?\+00$/.exec(v);
        if (!m) throw new Error(`unexpected timestamptz text ${v}`);
        return `${m[1]}.${(m[2] ?? "").padEnd(6, "0")}`;
      }
      return v;
    }),
  );
}

function fileLines(dir: string, table: string): string[] {
  return readdirSync(join(dir, table))
    .filter((f) => f.endsWith(".ndjson.gz"))
    .sort()
    .flatMap((f) =>
      gunzipSync(readFileSync(join(dir, table, f)))
        .toString("utf8")
        .split("\n")
        .filter(Boolean),
    );
}

/** Load-file rows mapped to the source's conventions (JSON compared as parsed values). */
function fileRows(dir: string, table: MigrationTable): (string | null)[][] {
  return fileLines(dir, table.name).map((line) => {
    const object = JSON.parse(line) as Record<string, unknown>;
    return table.columns.map((c) => {
      const v = object[c.name];
      if (v === null || v === undefined) return null;
      switch (c.value.kind) {
        case "json":
          return sortedJson(v);
        case "boolean":
          return v ? "1" : "0";
        case "datetime": {
          const s = v as string;
          expect(s).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/);
          return `${s.slice(0, 10)} ${s.slice(11, 26)}`;
        }
        default:
          expect(typeof v).toBe("string");
          return v as string;
      }
    });
  });
}

async function dumpPostgres(url: string): Promise<Record<string, (string | null)[][]>> {
  const pg = new Client({ connectionString: url });
  await pg.connect();
  try {
    const out: Record<string, (string | null)[][]> = {};
    for (const t of authTables) out[t.name] = await postgresRows(pg, t);
    return out;
  } finally {
    await pg.end();
  }
}

/**
 * Every index and constraint of the auth tables, as Postgres defines them: the migration drops
 * secondary indexes and foreign keys for its load and must leave them exactly as it found them.
 */
async function schemaObjects(url: string): Promise<string[]> {
  const pg = new Client({ connectionString: url });
  await pg.connect();
  try {
    const result = await pg.query<{ object: string }>(
      "SELECT indexname || ': ' || indexdef AS object FROM pg_indexes WHERE schemaname = 'public' " +
        "UNION ALL SELECT conrelid::regclass || '.' || conname || ': ' || pg_get_constraintdef(oid) || " +
        "CASE WHEN convalidated THEN '' ELSE ' (not valid)' END FROM pg_constraint " +
        "WHERE connamespace = 'public'::regnamespace ORDER BY 1",
    );
    return result.rows.map((r) => r.object);
  } finally {
    await pg.end();
  }
}

function dumpFiles(dir: string): Record<string, string[]> {
  return Object.fromEntries(analytics.map((t) => [t.name, fileLines(dir, t.name)]));
}

/** Load-file rows as ZetaSQL cells, exactly (see test/support/zetasql-load-rows.ts). */
function zetaSqlCells(dir: string, table: MigrationTable): ValueProto[][] {
  return zetaSqlCellsOfLines(fileLines(dir, table.name), table, { project: "p", dataset: "d" });
}

describeWithBinaries(["mariadbd"])(
  "data migrate / verify on MariaDB → Postgres + load files",
  () => {
    let maria: MariaDb;
    let pgServer: EmbeddedPostgres;
    let work: string;
    let legacyUrl: string;
    let pgUrl: string;
    let outDir: string;
    let zeta: ZetaSql;

    beforeAll(async () => {
      work = mkdtempSync(join(tmpdir(), "synter-data-"));
      [maria, pgServer, zeta] = await Promise.all([
        startMariaDb(),
        startEmbeddedPostgres(),
        ZetaSql.start(),
      ]);
      legacyUrl = maria.url("legacy");
      await loadLegacyFixture(maria.url("mysql"), "legacy", 40);
      pgUrl = await pgServer.createDatabase("synter");
      await createAuthSchema(pgUrl);
      outDir = join(work, "out");
    });

    afterAll(async () => {
      await Promise.all([maria?.stop(), pgServer?.stop(), zeta?.stop()]);
      if (work) rmSync(work, { recursive: true, force: true });
    });

    const endpoints = (pg: string, out: string) => [
      "--source",
      legacyUrl,
      "--postgres",
      pg,
      "--out",
      out,
    ];
    /**
     * The first test's migration into `pgUrl` and `outDir` is the reference several later tests
     * compare with; when it failed, they fail at once pointing at it instead of repeating its cause.
     */
    let referenceMigrated = false;
    const needsReference = () => {
      if (!referenceMigrated) {
        throw new Error(
          "needs the migration of the first test (into pgUrl and outDir), which failed: see its failure",
        );
      }
    };
    const migrateArgs = (pg: string, out: string, extra: string[] = []) => [
      "data",
      "migrate",
      ...endpoints(pg, out),
      "--page-size",
      PAGE_SIZE,
      "--json",
      ...extra,
    ];

    test("moves every value of all ten legacy tables exactly, verifies, and moves the sequences", async () => {
      const freshSchema = await schemaObjects(pgUrl);
      const deferrable = freshSchema.filter((o) =>
        /^(sessions|magic_links|oauth_accounts)[._].*(CREATE INDEX|FOREIGN KEY)/.test(o),
      );
      expect(deferrable).toHaveLength(8);
      const run = await runCli(migrateArgs(pgUrl, outDir));
      expect(run.stderr).not.toMatch(/internal error/);
      expect(statusOf(run)).toEqual({ status: 0 });
      // Loaded without their secondary indexes, unique constraints and foreign keys, which are
      // then built again as they were (and validated).
      expect(run.stderr).toMatch(
        /^sessions: sessions_expires_at_idx, sessions_user_id_idx, sessions_session_token_key, sessions_user_id_fkey deferred until the table is loaded$/m,
      );
      expect(run.stderr).toMatch(/^users: users_email_key deferred until the table is loaded$/m);
      expect(run.stderr).toMatch(/^sessions: .* built \(\d+\.\d s\)$/m);
      expect(await schemaObjects(pgUrl)).toEqual(freshSchema);
      const result = JSON.parse(run.stdout) as {
        tables: { table: string; rows: number }[];
        verification: { table: string; ok: boolean }[];
      };
      expect(result.tables.map((t) => t.table)).toEqual([
        "users",
        "sessions",
        "magic_links",
        "oauth_accounts",
        "campaign_policies",
        "events",
        "ad_metrics",
        "conversions",
        "touchpoints",
        "agent_runs",
      ]);
      expect(result.verification.map((v) => [v.table, v.ok])).toEqual(
        result.tables.map((t) => [t.table, true]),
      );
      expect(run.stderr).toMatch(/events: \d+\/40 rows, \d+ rows\/s, ETA \d+s/);

      const db = await openLegacy(maria.url("mysql"), "legacy");
      const pg = new Client({ connectionString: pgUrl });
      await pg.connect();
      try {
        for (const t of authTables) {
          const expected = await sourceRows(db, t);
          expect(expected.length).toBeGreaterThan(5);
          expect({ table: t.name, rows: await postgresRows(pg, t) }).toEqual({
            table: t.name,
            rows: expected,
          });
        }
        for (const t of analytics) {
          expect({ table: t.name, rows: fileRows(outDir, t) }).toEqual({
            table: t.name,
            rows: await sourceRows(db, t),
          });
        }
        // NULL, '' and the text \N arrived as three different values.
        const hashes = await pg.query(
          "SELECT id, password_hash FROM users WHERE id IN (1, 4, 7) ORDER BY id",
        );
        expect(hashes.rows).toEqual([
          { id: "1", password_hash: null },
          { id: "4", password_hash: "" },
          { id: "7", password_hash: "\\N" },
        ]);
        // One COPY transaction per key range (page size 7), a lane's first a fifth of that, so
        // that its COPY starts while the rest streams: the rows of each in key order, by xmin.
        const pages: Record<string, number[]> = {};
        for (const t of ["users", "sessions", "campaign_policies"]) {
          const result = await pg.query<{ n: number }>(
            `SELECT count(*)::int AS n FROM ${t} GROUP BY xmin ORDER BY min(id)`,
          );
          pages[t] = result.rows.map((r) => r.n);
        }
        expect(pages).toEqual({
          users: [2, 7, 1],
          sessions: [2, 7, 7, 4],
          campaign_policies: [2, 7, 1],
        });
        // Sequences moved: the app's next insert without an id works and gets max(id) + 1.
        const maxUser = await pg.query("SELECT max(id)::text AS m FROM users");
        const inserted = await pg.query(
          "INSERT INTO users (email, password_hash, name, role) VALUES ('new@example.com', NULL, 'New', 'viewer') RETURNING id::text",
        );
        expect(inserted.rows[0].id).toBe((BigInt(maxUser.rows[0].m) + 1n).toString());
        for (const t of ["sessions", "magic_links", "oauth_accounts", "campaign_policies"]) {
          const next = await pg.query(
            `SELECT nextval(pg_get_serial_sequence('${t}', 'id'))::text AS n, (SELECT max(id) FROM ${t})::text AS m`,
          );
          expect(BigInt(next.rows[0].n)).toBe(BigInt(next.rows[0].m) + 1n);
        }
        await pg.query("DELETE FROM users WHERE email = 'new@example.com'");
      } finally {
        await db.end();
        await pg.end();
      }
      referenceMigrated = true;
    });

    type Verified = {
      table: string;
      ok: boolean;
      source: { rows: number; sum: string };
      destination: { rows: number; sum: string };
    };
    const verifyArgs = (pg: string, out: string) => [
      "data",
      "verify",
      ...endpoints(pg, out),
      "--json",
    ];

    test("the inline verification's checksums are exactly those of a full `data verify` scan, whatever the target's DateStyle", async () => {
      const target = await pgServer.createDatabase("synter_inline");
      await createAuthSchema(target);
      // A database whose sessions print dates the SQL way, day first: the checksum's datetime
      // normal form is padded from the ISO text, which the tool's sessions set for themselves.
      const admin = new Client({ connectionString: target });
      await admin.connect();
      await admin.query("ALTER DATABASE synter_inline SET DateStyle = 'SQL, DMY'");
      await admin.end();
      const out = join(work, "inline");
      // Worker counts other than the default give the same numbers.
      const run = await runCli([...migrateArgs(target, out), "--workers", "3"]);
      expect(statusOf(run)).toEqual({ status: 0 });
      const inline = (JSON.parse(run.stdout) as { verification: Verified[] }).verification;
      // Every table was verified from the sums the copy recorded (no second source scan).
      type Inline = { inline?: { sourceCount?: number; sourceSum: string } };
      const state = JSON.parse(readFileSync(join(out, "migration-state.json"), "utf8")) as {
        tables: Record<string, Inline & { segments?: Inline[] }>;
      };
      expect(Object.values(state.tables).every((t) => t.inline?.sourceCount !== undefined)).toBe(
        true,
      );
      const full = await runCli([...verifyArgs(target, out), "--workers", "1"]);
      expect(statusOf(full)).toEqual({ status: 0 });
      const scanned = JSON.parse(full.stdout) as Verified[];
      expect(inline).toEqual(scanned);
      // The sums the copy recorded are the full scan's own (a difference would fall back to a
      // full scan after the copy, and pass unseen): the source's side derived by the tool from
      // the CRC-checked rows equals MariaDB's SQL hash of its normal form.
      for (const verified of scanned) {
        const table = state.tables[verified.table];
        const parts = table.segments ?? [table];
        const recorded = parts.reduce((sum, p) => sum + BigInt(p.inline!.sourceSum), 0n);
        expect({ table: verified.table, sum: recorded.toString() }).toEqual({
          table: verified.table,
          sum: verified.source.sum,
        });
      }
      expect(inline.every((v) => v.ok && v.source.rows > 0)).toBe(true);
    });

    test("the inline verification catches a value the target changed, and names the key range", async () => {
      const target = await pgServer.createDatabase("synter_altered");
      await createAuthSchema(target);
      const pg = new Client({ connectionString: target });
      await pg.connect();
      try {
        // The target alters one row as it is written: only a check of the target itself sees it.
        await pg.query(`CREATE FUNCTION alter_session() RETURNS trigger LANGUAGE plpgsql AS $$
          BEGIN NEW.user_agent := coalesce(NEW.user_agent, '') || 'x'; RETURN NEW; END $$`);
        await pg.query(
          "CREATE TRIGGER alter_session BEFORE INSERT ON sessions FOR EACH ROW WHEN (NEW.id = 13) EXECUTE FUNCTION alter_session()",
        );
      } finally {
        await pg.end();
      }
      const run = await runCli(
        migrateArgs(target, join(work, "altered"), ["--tables", "users,sessions"]),
      );
      expect(run.status).toBe(EXIT_CODES.mismatch);
      expect(run.stderr).toMatch(
        /sessions: postgres differs from the source .*; differing key range\(s\) \(12, 13\]/,
      );
      expect(run.stderr).not.toMatch(/users: postgres differs/);
    });

    test("tables copied partly without verification are verified by a full scan after a resume", async () => {
      const target = await pgServer.createDatabase("synter_unhashed");
      await createAuthSchema(target);
      const out = join(work, "unhashed");
      const first = await runCli(migrateArgs(target, out, ["--no-verify"]), {
        SYNTER_DATA_CRASH_AT: "5:checkpointed",
      });
      expect(first.signal).toBe("SIGKILL");
      const resumed = await runCli(migrateArgs(target, out, ["--resume"]));
      expect(statusOf(resumed)).toEqual({ status: 0 });
      const state = JSON.parse(readFileSync(join(out, "migration-state.json"), "utf8")) as {
        tables: Record<string, { inline?: object }>;
      };
      const hashed = Object.values(state.tables).map((t) => t.inline !== undefined);
      // Both kinds: tables hashed by the resumed run, tables (partly) copied before without it.
      expect(hashed).toContain(true);
      expect(hashed).toContain(false);
      const verified = (JSON.parse(resumed.stdout) as { verification: Verified[] }).verification;
      expect(verified.map((v) => [v.table, v.ok])).toEqual(verified.map((v) => [v.table, true]));
      const full = await runCli(verifyArgs(target, out));
      expect(verified).toEqual(JSON.parse(full.stdout) as Verified[]);
    });

    test("the BigQuery checksum SQL analyzes in ZetaSQL and, evaluated over the load files, equals the source checksum", async () => {
      needsReference();
      const source = await connectSource(legacyUrl);
      try {
        const catalog = analyticsTableCatalog({ project: "p", dataset: "d" });
        const results: object[] = [];
        const expectations: object[] = [];
        for (const t of analytics) {
          const sql = bigQueryChecksumSql(t, `\`p.d.${t.name}\``, {});
          const analysis = await zeta.analyze(sql, catalog);
          expect(analysis).toMatchObject({ ok: true });
          const evaluated = await zeta.evaluateQueryRaw(
            sql,
            { [`p.d.${t.name}`]: zetaSqlCells(outDir, t) },
            catalog,
          );
          const row = evaluated.rows[0];
          const bigQuery = { rows: Number(row[0].int64Value), sum: row[1].stringValue };
          const expected = await sourceChecksum(source, t, [])({});
          results.push({ table: t.name, ...bigQuery });
          expectations.push({ table: t.name, ...expected });
          expect(bigQuery.rows).toBeGreaterThan(5);
        }
        expect(results).toEqual(expectations);
      } finally {
        await source.end();
      }
    });

    test("a second run is idempotent: same rows, same files, migrated timestamps untouched", async () => {
      needsReference();
      const before = { pg: await dumpPostgres(pgUrl), files: dumpFiles(outDir) };
      const run = await runCli(migrateArgs(pgUrl, outDir));
      expect(statusOf(run)).toEqual({ status: 0 });
      expect({ pg: await dumpPostgres(pgUrl), files: dumpFiles(outDir) }).toEqual(before);
    });

    test("a run killed with SIGKILL midway, then resumed, gives the identical result", async () => {
      needsReference();
      const reference = { pg: await dumpPostgres(pgUrl), files: dumpFiles(outDir) };
      const killedUrl = await pgServer.createDatabase("synter_killed");
      await createAuthSchema(killedUrl);
      const out = join(work, "killed");
      // Killed when the 5th range of the run had reached its target but not yet the state file.
      const first = await runCli(migrateArgs(killedUrl, out), {
        SYNTER_DATA_CRASH_AT: "5:committed",
      });
      expect(first.signal).toBe("SIGKILL");
      const state = JSON.parse(readFileSync(join(out, "migration-state.json"), "utf8")) as {
        tables: Record<string, { lastKey?: string; done: boolean; deferred?: { name: string }[] }>;
      };
      // Killed while the auth tables load: what was dropped for the load is recorded, so the
      // resume can build it again.
      const deferred = Object.values(state.tables).flatMap((t) => t.deferred ?? []);
      expect(deferred.length).toBeGreaterThan(0);
      const killedSchema = await schemaObjects(killedUrl);
      const referenceSchema = await schemaObjects(pgUrl);
      const nameOf = (object: string) => object.split(":")[0].split(".").pop()!;
      // A unique constraint is listed twice: as itself and as its index.
      expect([
        ...new Set(
          referenceSchema
            .filter((o) => !killedSchema.includes(o))
            .map(nameOf)
            .sort(),
        ),
      ]).toEqual(deferred.map((d) => d.name).sort());
      const progressed = Object.values(state.tables).filter((t) => t.lastKey !== undefined).length;
      expect(progressed).toBeGreaterThan(0);
      expect(Object.values(state.tables).every((t) => t.done)).toBe(false);
      // Resumed, then killed again right after a checkpoint.
      const second = await runCli(migrateArgs(killedUrl, out, ["--resume"]), {
        SYNTER_DATA_CRASH_AT: "8:checkpointed",
      });
      expect(second.signal).toBe("SIGKILL");
      const rowsIn = (path: string) =>
        Object.values(
          (JSON.parse(readFileSync(path, "utf8")) as { tables: Record<string, { rows: number }> })
            .tables,
        ).reduce((sum, t) => sum + t.rows, 0);
      const statePath = join(out, "migration-state.json");
      const rowsAfterFirst = Object.values(
        state.tables as Record<string, { rows?: number }>,
      ).reduce((sum, t) => sum + (t.rows ?? 0), 0);
      expect(rowsIn(statePath)).toBeGreaterThan(rowsAfterFirst);
      const third = await runCli(migrateArgs(killedUrl, out, ["--resume"]));
      expect(third.stderr).not.toMatch(/internal error/);
      expect(statusOf(third)).toEqual({ status: 0 });
      expect({ pg: await dumpPostgres(killedUrl), files: dumpFiles(out) }).toEqual(reference);
      expect(await schemaObjects(killedUrl)).toEqual(referenceSchema);
    });

    test("tables copied in key-range segments migrate, resume after SIGKILL, and verify identically", async () => {
      needsReference();
      const referencePg = await dumpPostgres(pgUrl);
      const referenceFiles = dumpFiles(outDir);
      // Two workers whatever the machine: how an auth parent is split depends on them.
      const segmented = ["--segment-rows", "9", "--workers", "2"];
      type State = {
        tables: Record<
          string,
          {
            done: boolean;
            rows: number;
            segments?: { after?: string; upTo: string; lastKey?: string; done: boolean }[];
          }
        >;
      };
      const readStateOf = (dir: string) =>
        JSON.parse(readFileSync(join(dir, "migration-state.json"), "utf8")) as State;
      const names = (dir: string) =>
        Object.fromEntries(analytics.map((t) => [t.name, readdirSync(join(dir, t.name)).sort()]));

      // Uninterrupted: events (40 rows) in 5 segments, users (10) in 2, sessions (20) in 3; the same
      // rows, in key order, as one lane each gives.
      const wholeUrl = await pgServer.createDatabase("synter_segmented");
      await createAuthSchema(wholeUrl);
      const wholeOut = join(work, "segmented");
      const whole = await runCli(migrateArgs(wholeUrl, wholeOut, segmented));
      expect(whole.stderr).not.toMatch(/internal error/);
      expect(statusOf(whole)).toEqual({ status: 0 });
      const result = JSON.parse(whole.stdout) as {
        tables: { table: string; rows: number }[];
        verification: { table: string; ok: boolean }[];
      };
      expect(result.verification.every((v) => v.ok)).toBe(true);
      expect(result.tables.find((t) => t.table === "events")!.rows).toBe(40);
      const wholeState = readStateOf(wholeOut);
      const events = wholeState.tables.events.segments!;
      expect(events.map((s) => s.done)).toEqual([true, true, true, true, true]);
      expect(events[0].after).toBeUndefined();
      for (let i = 1; i < events.length; i++) expect(events[i].after).toBe(events[i - 1].upTo);
      expect(names(wholeOut).events.every((f) => /^events-s00[0-4]-\d{6}-/.test(f))).toBe(true);
      expect(whole.stderr).toMatch(/events\[5\/5\]: \d+\/\d+ rows/);
      const users = wholeState.tables.users.segments!;
      expect(users.map((s) => [s.after, s.upTo, s.done])).toEqual([
        [undefined, "14", true],
        ["14", "28", true],
      ]);
      expect(wholeState.tables.sessions.segments!.map((s) => s.done)).toEqual([true, true, true]);
      expect(whole.stderr).toMatch(/^users\[2\/2\]: 5\/5 rows/m);
      expect(dumpFiles(wholeOut)).toEqual(referenceFiles);
      expect(await dumpPostgres(wholeUrl)).toEqual(referencePg);

      // A target row at the end of a segment's range that the source does not hold (users' keys
      // are 1, 4, … 28): no page covers it, the segment's lane removes it; and one past the last
      // segment, the finish of the table. A fresh run over the same target mirrors the source.
      const extra = new Client({ connectionString: wholeUrl });
      await extra.connect();
      try {
        await extra.query(
          "INSERT INTO users (id, email, role) VALUES (14, 'gone@example.com', 'viewer'), (29, 'past@example.com', 'viewer')",
        );
      } finally {
        await extra.end();
      }
      const again = await runCli(migrateArgs(wholeUrl, join(work, "segmented-again"), segmented));
      expect(statusOf(again)).toEqual({ status: 0 });
      expect(await dumpPostgres(wholeUrl)).toEqual(referencePg);

      // Killed after a range reached its target, resumed and killed right after a checkpoint,
      // resumed again: the same files (names and bytes' rows) and the same Postgres content.
      const killedUrl = await pgServer.createDatabase("synter_segmented_killed");
      await createAuthSchema(killedUrl);
      const out = join(work, "segmented-killed");
      const first = await runCli(migrateArgs(killedUrl, out, segmented), {
        SYNTER_DATA_CRASH_AT: "5:committed",
      });
      expect(first.signal).toBe("SIGKILL");
      const afterKill = readStateOf(out);
      expect(afterKill.tables.events.segments).toHaveLength(5);
      expect(Object.values(afterKill.tables).every((t) => t.done)).toBe(false);
      const second = await runCli(migrateArgs(killedUrl, out, [...segmented, "--resume"]), {
        SYNTER_DATA_CRASH_AT: "8:checkpointed",
      });
      expect(second.signal).toBe("SIGKILL");
      // The resume kept the segment bounds of the killed run.
      expect(readStateOf(out).tables.events.segments!.map((s) => [s.after, s.upTo])).toEqual(
        events.map((s) => [s.after, s.upTo]),
      );
      // A kill between a load file's write and its rename leaves a temp file; plant one so the
      // resume's clean-up is exercised whatever moment the kill hit.
      writeFileSync(join(out, "events", `${names(wholeOut).events[0]}.tmp-2147483646`), "partial");
      const third = await runCli(migrateArgs(killedUrl, out, [...segmented, "--resume"]));
      expect(third.stderr).not.toMatch(/internal error/);
      expect(statusOf(third)).toEqual({ status: 0 });
      const resumed = JSON.parse(third.stdout) as { verification: { ok: boolean }[] };
      expect(resumed.verification.every((v) => v.ok)).toBe(true);
      expect(names(out)).toEqual(names(wholeOut));
      expect({ pg: await dumpPostgres(killedUrl), files: dumpFiles(out) }).toEqual({
        pg: referencePg,
        files: referenceFiles,
      });
    });

    test("verify detects a tampered row and names the table and the key range", async () => {
      needsReference();
      const pg = new Client({ connectionString: pgUrl });
      await pg.connect();
      try {
        await pg.query("UPDATE sessions SET user_agent = user_agent || 'x' WHERE id = 13");
        const run = await runCli([
          "data",
          "verify",
          "--source",
          legacyUrl,
          "--postgres",
          pgUrl,
          "--out",
          outDir,
          "--tables",
          "users,sessions",
        ]);
        expect(run.status).toBe(EXIT_CODES.mismatch);
        expect(run.stderr).toMatch(
          /sessions: postgres differs from the source .*; differing key range\(s\) \(12, 13\]/,
        );
        expect(run.stdout).toMatch(/users\s+postgres\s+\d+\s+\d+\s+ok/);
        await pg.query("UPDATE sessions SET user_agent = left(user_agent, -1) WHERE id = 13");
      } finally {
        await pg.end();
      }
      // A load file whose row 10 lost its revenue: the files side is checked the same way.
      const file = join(outDir, "events", readdirSync(join(outDir, "events")).sort()[1]);
      const original = readFileSync(file);
      const lines = gunzipSync(original).toString("utf8").split("\n");
      const index = lines.findIndex((l) => l.startsWith('{"id":"10",'));
      expect(index).toBeGreaterThanOrEqual(0);
      lines[index] = lines[index].replace(/"revenue":"[^"]*"/, '"revenue":null');
      writeFileSync(file, gzipSync(lines.join("\n")));
      try {
        const run = await runCli([
          "data",
          "verify",
          "--source",
          legacyUrl,
          "--out",
          outDir,
          "--tables",
          "events,conversions",
        ]);
        expect(run.status).toBe(EXIT_CODES.mismatch);
        expect(run.stderr).toMatch(
          /events: files differs from the source .*; differing key range\(s\) \(9, 10\]/,
        );
        expect(run.stderr).not.toMatch(/conversions:/);
      } finally {
        writeFileSync(file, original);
      }
      const clean = await runCli([
        "data",
        "verify",
        "--source",
        legacyUrl,
        "--postgres",
        pgUrl,
        "--out",
        outDir,
      ]);
      expect(statusOf(clean)).toEqual({ status: 0 });
    });

    test("a segmented table is loaded into BigQuery by one job over every segment's files, in key order", async () => {
      needsReference();
      // A stand-in of Google's APIs answering the BigQuery client's real requests; the run in a
      // real-Node worker thread, where the client can load its fetch.
      const standIn = await GoogleCloudStandIn.start();
      try {
        const credentialsFile = standIn.writeExternalAccountCredentials(
          work,
          "migrator@synter-dev.iam.gserviceaccount.com",
        );
        standIn.requiredToken = IMPERSONATED_TOKEN;
        const stateDir = join(work, "bigquery-state");
        const result = await migrateInNode({
          sourceUrl: legacyUrl,
          bigquery: {
            project: "synter-dev",
            dataset: "synter_analytics",
            apiEndpoint: standIn.base,
            credentialsFile,
            pollIntervalMs: 1,
          },
          stateDir,
          tables: ["events"],
          resume: false,
          maxRejects: 0,
          pageSize: Number(PAGE_SIZE),
          verify: false,
          segmentRows: 10,
        });
        expect(result.tables).toEqual([
          expect.objectContaining({ table: "events", target: "bigquery", rows: 40 }),
        ]);
        const state = JSON.parse(readFileSync(join(stateDir, "migration-state.json"), "utf8")) as {
          tables: { events: { segments: unknown[]; files: string[]; loadJobId: string } };
        };
        expect(state.tables.events.segments).toHaveLength(4);
        expect(state.tables.events.loadJobId).toMatch(/^synter_migrate_events_[0-9a-f]{40}$/);
        // One upload: every segment's gzip files concatenated in key order, which is one gzip
        // stream holding exactly the rows of the uninterrupted --out run, in order.
        expect(standIn.requestsTo("POST", /^\/upload\/bigquery\//)).toHaveLength(1);
        expect([...standIn.jobs.keys()]).toEqual([state.tables.events.loadJobId]);
        const uploaded = standIn.jobs.get(state.tables.events.loadJobId)!.data!;
        const lines = gunzipSync(uploaded).toString("utf8").split("\n");
        expect(lines.filter(Boolean)).toEqual(fileLines(outDir, "events"));
        expect(standIn.tables.get("synter_analytics.events")).toEqual(fileLines(outDir, "events"));
        expect(state.tables.events.files).toEqual([...state.tables.events.files].sort());
      } finally {
        await standIn.stop();
      }
    });

    test("lanes on one worker share its connections, and every connection ends with the protocol's goodbye", async () => {
      const target = await pgServer.createDatabase("synter_sessions");
      await createAuthSchema(target);
      const source = await connectSource(legacyUrl);
      const pg = new Client({ connectionString: target });
      await pg.connect();
      try {
        const mariaStatus = async () => {
          const [rows] = await source.query({
            sql: "SHOW GLOBAL STATUS WHERE Variable_name IN ('Connections', 'Aborted_clients')",
            rowsAsArray: true,
          });
          return Object.fromEntries((rows as [string, string][]).map(([k, v]) => [k, Number(v)]));
        };
        // The target's sessions so far and those that ended without a Terminate message.
        const pgSessions = async () =>
          (
            await pg.query<{ sessions: string; abandoned: string }>(
              "SELECT sessions::text, sessions_abandoned::text AS abandoned FROM pg_stat_database WHERE datname = current_database()",
            )
          ).rows[0];
        const mariaBefore = await mariaStatus();
        const pgBefore = await pgSessions();
        const run = await runCli(
          migrateArgs(target, join(work, "sessions"), [
            ...["--tables", "users,sessions,magic_links,oauth_accounts", "--workers", "1"],
          ]),
        );
        expect(statusOf(run)).toEqual({ status: 0 });
        const mariaAfter = await mariaStatus();
        const pgAfter = await pgSessions();
        // The source: the schema check's and the plan's connections on the main thread, and two
        // for the worker's four lanes (its pages, and each range's count beside its first page;
        // two for each lane before).
        expect(mariaAfter.Connections - mariaBefore.Connections).toBe(4);
        expect(mariaAfter.Aborted_clients - mariaBefore.Aborted_clients).toBe(0);
        expect(Number(pgAfter.abandoned) - Number(pgBefore.abandoned)).toBe(0);
        // The target: one session for the worker's four lanes, and the main thread's: the schema
        // check, the deferred indexes and two more for their builds, and those the four tables'
        // checksums take turns on: one, or more where a table is copied while the checksum of the
        // one before still runs, fewer than one each (nine sessions in all before), which the
        // exact reuse rules of lent-target-clients.test.ts hold.
        const sessions = Number(pgAfter.sessions) - Number(pgBefore.sessions);
        expect(sessions).toBeGreaterThanOrEqual(6);
        expect(sessions).toBeLessThanOrEqual(8);
      } finally {
        await source.end();
        await pg.end();
      }
    });

    test("a run refuses a state directory another live run holds, naming the holder", async () => {
      const out = join(work, "locked");
      mkdirSync(out, { recursive: true });
      // This test process is alive and is not the CLI, so its pid stands for a concurrent run.
      writeFileSync(join(out, "migration.lock"), `${process.pid}\n`);
      const run = await runCli(migrateArgs(pgUrl, out));
      expect(run.status).toBe(EXIT_CODES.refused);
      expect(run.stderr.trim()).toBe(
        `error: another migration (pid ${process.pid}) is using ${out}; wait for it or stop it first`,
      );
      expect(readdirSync(out)).toEqual(["migration.lock"]);
    });

    /**
     * An empty Postgres target with the auth schema for the legacy database `source`, its schema
     * objects before any run, and the `data migrate` arguments into it and `<work>/<name>`.
     */
    async function emptyTarget(source: string, name: string, extra: readonly string[] = []) {
      const target = await pgServer.createDatabase(`synter_${name}`);
      await createAuthSchema(target);
      const schemaBefore = await schemaObjects(target);
      const out = join(work, name);
      const args = [
        ...["data", "migrate", "--source", maria.url(source), "--postgres", target],
        ...["--out", out, "--page-size", PAGE_SIZE, ...extra],
      ];
      return { target, schemaBefore, out, args };
    }

    test("a resume copies the rows the source gained past a segmented table's planned end", async () => {
      await loadLegacyFixture(maria.url("mysql"), "legacy_grown", 16);
      const { target, out, args } = await emptyTarget("legacy_grown", "grown", [
        ...["--tables", "users", "--segment-rows", "3", "--workers", "2"],
      ]);
      const first = await runCli(args, { SYNTER_DATA_CRASH_AT: "1:committed" });
      expect(first.signal).toBe("SIGKILL");
      const planned = JSON.parse(readFileSync(join(out, "migration-state.json"), "utf8")) as {
        tables: { users: { segments: { upTo: string }[] } };
      };
      expect(planned.tables.users.segments.map((s) => s.upTo)).toEqual(["8", "16"]);
      // A user who signed up after the plan: past the last segment's planned end.
      const db = await openLegacy(maria.url("mysql"), "legacy_grown");
      try {
        await db.query(
          "INSERT INTO users (id, email, password_hash, name, role, created_at, updated_at, is_active) " +
            "VALUES (100, 'late@example.com', NULL, 'Late', 'viewer', '2024-01-01 00:00:00.000000', '2024-01-01 00:00:00.000000', 1)",
        );
      } finally {
        await db.end();
      }
      const resumed = await runCli([...args, "--resume"]);
      expect(statusOf(resumed)).toEqual({ status: 0 });
      expect(resumed.stderr).toMatch(/^verify users \(postgres\): ok — 7 rows/m);
      const pg = new Client({ connectionString: target });
      await pg.connect();
      try {
        const ids = await pg.query<{ id: string }>("SELECT id::text FROM users ORDER BY users.id");
        expect(ids.rows.map((r) => r.id)).toEqual(["1", "4", "7", "10", "13", "16", "100"]);
        const next = await pg.query<{ id: string }>(
          "SELECT nextval(pg_get_serial_sequence('users', 'id'))::text AS id",
        );
        expect(next.rows[0].id).toBe("101");
      } finally {
        await pg.end();
      }
    });

    test("a duplicate a deferred unique constraint lets in stops the run; fixed in the source, --resume copies the table and its children again", async () => {
      await loadLegacyFixture(maria.url("mysql"), "legacy_duplicate", 16);
      const onSource = async (statements: string[]) => {
        const db = await openLegacy(maria.url("mysql"), "legacy_duplicate");
        try {
          for (const sql of statements) await db.query(sql);
        } finally {
          await db.end();
        }
      };
      // A legacy table without the unique key (SingleStore enforces one only where it holds the
      // shard key) can hold the same address twice: user 4 is user 1 in capitals.
      await onSource([
        "ALTER TABLE users DROP INDEX users_email",
        "UPDATE users SET email = UPPER((SELECT e FROM (SELECT email AS e FROM users WHERE id = 1) one)) WHERE id = 4",
      ]);
      const { target, schemaBefore, out, args } = await emptyTarget(
        "legacy_duplicate",
        "duplicate",
        ["--tables", "users,sessions"],
      );
      const message =
        /^error: users: the source holds rows that break users_email_key \(Key \(email\)=\(ann@example\.com\) is duplicated\.\); fix them in the source, then resume: users, sessions are copied again and users_email_key built; what was copied is checkpointed in .*--resume$/im;
      const stopped = await runCli(args);
      expect(stopped.status).toBe(EXIT_CODES.mismatch);
      expect(stopped.stderr).toMatch(message);
      const state = JSON.parse(readFileSync(join(out, "migration-state.json"), "utf8")) as {
        tables: Record<string, { done: boolean; lastKey?: string; deferred?: { name: string }[] }>;
      };
      expect(state.tables.users).toMatchObject({
        done: false,
        deferred: [{ name: "users_email_key" }],
      });
      expect(state.tables.users.lastKey).toBeUndefined();
      expect(state.tables.sessions).toMatchObject({ done: false, rows: 0 });
      // A fresh run instead of the resume does not forget the constraint it must still build.
      const fresh = await runCli(args);
      expect(fresh.status).toBe(EXIT_CODES.mismatch);
      expect(fresh.stderr).toMatch(message);

      // The fix merges the two users: user 4's sessions move to user 1, and user 4 goes. In
      // Postgres the redo deletes user 4, which cascades to the sessions copied under it.
      await onSource([
        "UPDATE sessions SET user_id = 1 WHERE user_id = 4",
        "DELETE FROM users WHERE id = 4",
      ]);
      const resumed = await runCli([...args, "--resume"]);
      expect(resumed.stderr).not.toMatch(/internal error/);
      expect(statusOf(resumed)).toEqual({ status: 0 });
      expect(await schemaObjects(target)).toEqual(schemaBefore);
      const source = await openLegacy(maria.url("mysql"), "legacy_duplicate");
      const pg = new Client({ connectionString: target });
      await pg.connect();
      try {
        const [sourceSessions] = await source.query("SELECT id, user_id FROM sessions ORDER BY id");
        const targetSessions = await pg.query(
          "SELECT id::int AS id, user_id::int AS user_id FROM sessions ORDER BY id",
        );
        expect(targetSessions.rows).toEqual(sourceSessions);
        expect((await pg.query("SELECT 1 FROM users WHERE id = 4")).rowCount).toBe(0);
      } finally {
        await pg.end();
        await source.end();
      }
    });

    test("rows that cannot be converted go to the reject file; over --max-rejects the run stops", async () => {
      await loadLegacyFixture(maria.url("mysql"), "legacy_bad", 16);
      const bad = await insertBadRows(maria.url("mysql"), "legacy_bad");
      const { target, schemaBefore, out, args } = await emptyTarget("legacy_bad", "bad");
      const stopped = await runCli(args);
      expect(stopped.status).toBe(EXIT_CODES.refused);
      expect(stopped.stderr).toMatch(
        /\w+: \d+ rejected row\(s\) exceed --max-rejects 0; see .*rejects\.jsonl\. Nothing of range/,
      );
      // A run that stops builds again what it deferred for the load.
      expect(await schemaObjects(target)).toEqual(schemaBefore);

      const passed = await runCli([...args, "--max-rejects", "4"]);
      expect(passed.stderr).not.toMatch(/internal error/);
      expect(statusOf(passed)).toEqual({ status: 0 });
      const order = ["users", "events", "touchpoints", "agent_runs"];
      const rejects = readFileSync(join(out, "rejects.jsonl"), "utf8")
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l) as Record<string, string>)
        .sort((a, b) => order.indexOf(a.table) - order.indexOf(b.table));
      expect(rejects.map((r) => [r.table, r.key, r.column])).toEqual([
        ["users", "1000", "role"],
        ["events", "1000", "ts"],
        ["touchpoints", "1000", "platform"],
        ["agent_runs", "1000", "stats"],
      ]);
      expect(rejects[0]).toEqual({
        table: "users",
        key: "1000",
        column: "role",
        reason: "value is not one of 'admin', 'analyst', 'viewer'",
        value: "",
      });
      expect(rejects[1]).toMatchObject({
        reason: "invalid datetime",
        value: "0000-00-00 00:00:00.000000",
      });
      expect(rejects[2]).toMatchObject({ value: "" });
      expect(rejects[3].reason).toMatch(/^invalid JSON/);
      expect(bad).toHaveLength(4);
      // Rejected rows are absent from the targets, and verification (which excludes them) passes.
      expect(passed.stderr).toMatch(/verify touchpoints \(files\): ok/);
      expect(fileLines(out, "events").some((l) => l.includes('"id":"1000"'))).toBe(false);
    });
  },
);
