/**
 * Legacy data that used to give a wrong or misleading result, on real servers through the CLI: a
 * source wider than schema/ says (a DECIMAL(40,6) holding 33 digits passed as verified; a value
 * beyond Postgres' numeric(10,2) crashed the run), children of a rejected parent row (they failed
 * the foreign key and crashed the run), and files holding raw values readable by others.
 */
import { chmodSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Client } from "pg";
import { startEmbeddedPostgres, type EmbeddedPostgres } from "../support/embedded-postgres";
import { startMariaDb, type MariaDb } from "../support/mariadb";
import { describeWithBinaries } from "../support/servers";
import { cli, dumpFiles, expectFailure, modeOf, nextCommand, statusOf } from "./cli-process";
import { insertBadRows, loadLegacyFixture, openLegacy } from "./legacy-fixture";
import { createAuthSchema } from "./target-schema";

interface Reject {
  table: string;
  key: string;
  column: string;
  reason: string;
  value: string | null;
}

function rejectsOf(dir: string): Reject[] {
  return readFileSync(join(dir, "rejects.jsonl"), "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as Reject)
    .sort((a, b) => (a.table + a.key).localeCompare(b.table + b.key));
}

interface MigrateJson {
  tables: { table: string; rows: number; rejected: number }[];
  verification: { table: string; ok: boolean }[];
}

describeWithBinaries(["mariadbd"])("hostile legacy rows through the CLI", () => {
  let maria: MariaDb;
  let pgServer: EmbeddedPostgres;
  let work: string;

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), "synter-data-hostile-"));
    [maria, pgServer] = await Promise.all([startMariaDb(), startEmbeddedPostgres()]);
  });

  afterAll(async () => {
    await Promise.all([maria?.stop(), pgServer?.stop()]);
    if (work) rmSync(work, { recursive: true, force: true });
  });

  async function target(name: string): Promise<string> {
    const url = await pgServer.createDatabase(name);
    await createAuthSchema(url);
    return url;
  }

  async function onSource(database: string, statements: string[]): Promise<void> {
    const db = await openLegacy(maria.url("mysql"), database);
    try {
      // Non-strict, as the legacy database ran: an unknown ENUM value is stored as ''.
      await db.query("SET SESSION sql_mode = '', time_zone = '+00:00'");
      for (const sql of statements) await db.query(sql);
    } finally {
      await db.end();
    }
  }

  const migrateArgs = (database: string, pg: string, out: string, extra: string[] = []) => [
    "data",
    "migrate",
    "--source",
    maria.url(database),
    "--postgres",
    pg,
    "--out",
    out,
    "--page-size",
    "7",
    "--json",
    ...extra,
  ];

  test("a source wider than schema/ is refused before copying; accepted, what a target cannot hold is rejected", async () => {
    await loadLegacyFixture(maria.url("mysql"), "wide", 16);
    const huge = "123456789012345678901234567890123.000000"; // 33 integer digits
    const wideButFits = "12345678901234567890.123456"; // 20: BigQuery NUMERIC holds 29
    await onSource("wide", [
      "ALTER TABLE events MODIFY revenue DECIMAL(40,6)",
      `INSERT INTO events (id, event_name, ts, revenue) VALUES (5000, 'huge', '2024-01-01 00:00:00', '${huge}'), (5001, 'wide', '2024-01-01 00:00:00', '${wideButFits}')`,
      "ALTER TABLE campaign_policies MODIFY target_cac DECIMAL(14,2)",
      "INSERT INTO campaign_policies (id, platform, account_id, target_cac) VALUES (5000, 'google', 'acc-5000', '1234567890.12'), (5001, 'x', 'acc-5001', '12345678.90')",
      "ALTER TABLE sessions MODIFY user_agent VARCHAR(300)",
      `INSERT INTO sessions (id, user_id, session_token, expires_at, user_agent) VALUES (5000, 1, REPEAT('a', 64), '2025-01-01 00:00:00', REPEAT('é', 256))`,
    ]);
    const pg = await target("synter_wide");
    const out = join(work, "wide");

    const refused = await cli(migrateArgs("wide", pg, out));
    expectFailure(
      refused,
      "mismatch",
      "error: the source's columns differ from schema/'s legacy definitions: " +
        "sessions.user_agent is varchar(300) (schema/: VARCHAR(255)); " +
        "campaign_policies.target_cac is decimal(14,2) (schema/: DECIMAL(10,2)); " +
        "events.revenue is decimal(40,6) (schema/: DECIMAL(18,6)); nothing was copied. " +
        "Fix the source or schema/, or pass --accept-source-types to copy anyway (values a target cannot hold are then rejected row by row)",
    );
    expect(existsSync(join(out, "migration-state.json"))).toBe(false);

    const accepted = await cli(
      migrateArgs("wide", pg, out, ["--accept-source-types", "--max-rejects", "3"]),
    );
    expect(statusOf(accepted)).toEqual({ status: 0 });
    expect(accepted.stderr).toContain(
      "warning: copying although the source differs from schema/ (--accept-source-types): sessions.user_agent is varchar(300)",
    );
    expect(rejectsOf(out)).toEqual([
      {
        table: "campaign_policies",
        key: "5000",
        column: "target_cac",
        reason: "10 integer digits do not fit numeric(10,2) (at most 8)",
        value: "1234567890.12",
      },
      {
        table: "events",
        key: "5000",
        column: "revenue",
        reason: "33 integer digits do not fit BigQuery NUMERIC (at most 29)",
        value: huge,
      },
      {
        table: "sessions",
        key: "5000",
        column: "user_agent",
        reason: "256 characters do not fit character varying(255)",
        value: "é".repeat(256),
      },
    ]);
    const result = JSON.parse(accepted.stdout) as MigrateJson;
    expect(result.verification.every((v) => v.ok)).toBe(true);
    // What fits is moved exactly; what does not is absent from the targets, not altered.
    const events = dumpFiles(out).events.flatMap((f) => f.lines);
    expect(events.filter((l) => l.startsWith('{"id":"500'))).toEqual([
      expect.stringContaining(`"revenue":"${wideButFits}"`),
    ]);
    const client = new Client({ connectionString: pg });
    await client.connect();
    try {
      const policies = await client.query(
        "SELECT id::text, target_cac::text FROM campaign_policies WHERE id >= 5000 ORDER BY id",
      );
      expect(policies.rows).toEqual([{ id: "5001", target_cac: "12345678.90" }]);
    } finally {
      await client.end();
    }
    const verified = await cli([
      "data",
      "verify",
      "--source",
      maria.url("wide"),
      "--postgres",
      pg,
      "--out",
      out,
    ]);
    expect(statusOf(verified)).toEqual({ status: 0 });
  });

  test("a row longer than the source's max_allowed_packet is copied exactly; its verification stops on one line until the limit is raised", async () => {
    await loadLegacyFixture(maria.url("mysql"), "long_rows", 16);
    // 6,000 characters: the row's text is past 4 KiB, while each value and the queries fit.
    const token = "t".repeat(6000);
    await onSource("long_rows", [
      `UPDATE oauth_accounts SET access_token = '${token}' ORDER BY id LIMIT 1`,
    ]);
    const db = await openLegacy(maria.url("mysql"), "long_rows");
    let id: string;
    try {
      const [rows] = await db.query("SELECT CAST(MIN(id) AS CHAR) AS id FROM oauth_accounts");
      id = (rows as { id: string }[])[0].id;
    } finally {
      await db.end();
    }
    const pg = await target("synter_long_rows");
    const out = join(work, "long-rows");
    const tables = ["--tables", "users,oauth_accounts"];
    const setPacket = async (value: string) => {
      const admin = await openLegacy(maria.url("mysql"), "mysql");
      try {
        await admin.query(`SET GLOBAL max_allowed_packet = ${value}`);
      } finally {
        await admin.end();
      }
    };
    // MariaDB's smallest setting but three: its string functions (CONCAT, MD5, CRC32's input)
    // give NULL past it, while rows of any length still travel. Connections opened after this
    // see it, and every run below opens its own.
    await setPacket("4096");
    let refused;
    try {
      refused = await cli(migrateArgs("long_rows", pg, out, tables));
    } finally {
      await setPacket("DEFAULT");
    }
    expect(refused.stderr).toContain(
      `oauth_accounts: row id=${id} is too long for the source to CRC (max_allowed_packet); oauth_accounts is verified by a full scan after the copy`,
    );
    expectFailure(
      refused,
      "config",
      new RegExp(
        "^error: oauth_accounts: 1 row\\(s\\) are longer than the source's max_allowed_packet \\(4096 bytes\\), " +
          "so its SQL cannot hash them for the verification; raise it on the source above the longest row " +
          "\\(SET GLOBAL max_allowed_packet = 1073741824\\) and verify again; what was copied is checkpointed in .*; " +
          "to continue, run: synter-infra data migrate .* --resume$",
      ),
    );
    // The copy itself is whole: the row is in Postgres, its value exact.
    const client = new Client({ connectionString: pg });
    await client.connect();
    try {
      const row = await client.query<{ token: string }>(
        "SELECT access_token AS token FROM oauth_accounts WHERE id = $1",
        [id],
      );
      expect(row.rows).toEqual([{ token }]);
    } finally {
      await client.end();
    }
    // With the default limit (16 MiB) the same rows verify: by the resume the error names (the
    // copy is done, so it only verifies), and by data verify.
    // The password is masked in the command (`***`): the user types it again.
    const resumed = await cli(
      nextCommand(refused).map((a) => a.replace(":***@", `:${pgServer.password}@`)),
    );
    expect(statusOf(resumed)).toEqual({ status: 0 });
    expect(resumed.stderr).toContain("verify oauth_accounts (postgres): ok");
    const verified = await cli([
      "data",
      "verify",
      "--source",
      maria.url("long_rows"),
      "--postgres",
      pg,
      ...tables,
    ]);
    expect(statusOf(verified)).toEqual({ status: 0 });
  });

  test("children of a rejected (or missing) parent row are rejected too, naming the parent's key", async () => {
    await loadLegacyFixture(maria.url("mysql"), "orphans", 16);
    await onSource("orphans", [
      "UPDATE users SET role = 'root' WHERE id = 4",
      "INSERT INTO sessions (id, user_id, session_token, expires_at) VALUES (900, 99999, REPEAT('e', 64), '2025-01-01 00:00:00')",
    ]);
    const db = await openLegacy(maria.url("mysql"), "orphans");
    const childrenOf4: Record<string, string[]> = {};
    try {
      for (const table of ["sessions", "magic_links", "oauth_accounts"]) {
        const [rows] = await db.query({
          sql: `SELECT id FROM ${table} WHERE user_id = 4 ORDER BY id`,
          rowsAsArray: true,
        });
        childrenOf4[table] = (rows as unknown as number[][]).map((r) => String(r[0]));
        expect(childrenOf4[table].length).toBeGreaterThan(0);
      }
    } finally {
      await db.end();
    }
    const pg = await target("synter_orphans");
    const out = join(work, "orphans");

    const stopped = await cli(migrateArgs("orphans", pg, out));
    expectFailure(
      stopped,
      "refused",
      new RegExp(
        `^error: users: 1 rejected row\\(s\\) exceed --max-rejects 0; see ${out}/rejects\\.jsonl\\. Nothing of range \\(start, \\d+\\] was written; fix the source or raise --max-rejects; ` +
          `what was copied is checkpointed in ${out}; to continue, run: synter-infra data migrate .* --resume$`,
      ),
    );

    const passed = await cli(migrateArgs("orphans", pg, out, ["--max-rejects", "20"]));
    expect(statusOf(passed)).toEqual({ status: 0 });
    const parent = "its users row id=4 was rejected";
    const expected: Reject[] = [
      ...childrenOf4.magic_links.map((key) => ({
        table: "magic_links",
        key,
        column: "user_id",
        reason: parent,
        value: "4",
      })),
      ...childrenOf4.oauth_accounts.map((key) => ({
        table: "oauth_accounts",
        key,
        column: "user_id",
        reason: parent,
        value: "4",
      })),
      ...childrenOf4.sessions.map((key) => ({
        table: "sessions",
        key,
        column: "user_id",
        reason: parent,
        value: "4",
      })),
      {
        table: "sessions",
        key: "900",
        column: "user_id",
        reason: "its users row id=99999 does not exist in the source",
        value: "99999",
      },
      {
        table: "users",
        key: "4",
        column: "role",
        reason: "value is not one of 'admin', 'analyst', 'viewer'",
        value: "",
      },
    ];
    expect(rejectsOf(out)).toEqual(
      expected.sort((a, b) => (a.table + a.key).localeCompare(b.table + b.key)),
    );
    // The summary counts both: the parent in its table, its children in theirs.
    const result = JSON.parse(passed.stdout) as MigrateJson;
    const rejected = Object.fromEntries(result.tables.map((t) => [t.table, t.rejected]));
    expect(rejected).toMatchObject({
      users: 1,
      sessions: childrenOf4.sessions.length + 1,
      magic_links: childrenOf4.magic_links.length,
      oauth_accounts: childrenOf4.oauth_accounts.length,
      campaign_policies: 0,
    });
    expect(result.verification.every((v) => v.ok)).toBe(true);
    const client = new Client({ connectionString: pg });
    await client.connect();
    try {
      const left = await client.query(
        "SELECT count(*)::int AS n FROM sessions WHERE user_id = 4 OR id = 900",
      );
      expect(left.rows).toEqual([{ n: 0 }]);
    } finally {
      await client.end();
    }
  });

  test("state, rejects and load files are owner-only on every run, whatever the umask", async () => {
    await loadLegacyFixture(maria.url("mysql"), "modes", 16);
    await insertBadRows(maria.url("mysql"), "modes");
    const pg = await target("synter_modes");
    const out = join(work, "modes");
    const files = () => [
      join(out, "migration-state.json"),
      join(out, "rejects.jsonl"),
      ...readdirSync(out, { withFileTypes: true })
        .filter((d) => d.isDirectory())
        .flatMap((d) => readdirSync(join(out, d.name)).map((f) => join(out, d.name, f))),
    ];
    const modes = () => Object.fromEntries(files().map((f) => [f, modeOf(f).toString(8)]));
    const allPrivate = () => Object.fromEntries(files().map((f) => [f, "600"]));
    const args = migrateArgs("modes", pg, out, ["--max-rejects", "4"]);

    const first = await cli(args, { umask: 0 });
    expect(statusOf(first)).toEqual({ status: 0 });
    expect(files().length).toBeGreaterThan(10);
    expect(modes()).toEqual(allPrivate());
    expect(modeOf(out).toString(8)).toBe("700");
    expect(modeOf(join(out, "events")).toString(8)).toBe("700");

    // Files an earlier run (or version) left readable: a resume and a fresh run both fix them.
    for (const run of [[...args, "--resume"], args]) {
      for (const f of files()) chmodSync(f, 0o644);
      const again = await cli(run, { umask: 0 });
      expect(statusOf(again)).toEqual({ status: 0 });
      expect(modes()).toEqual(allPrivate());
    }
  });
});
