/**
 * Risky-statement detection on the project's real migrations and on temp migrations written the
 * two ways the project may write them (SQL files with Up/Down sections, JS with the pgm builder),
 * rendered through node-pg-migrate's own MigrationBuilder.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { analyseMigrations, type MigrationInput } from "../../src/diff/migration-risks";
import { MIGRATION_FILE, renderMigration } from "../../src/diff/migration-sql";
import { splitSqlStatements } from "../../src/diff/sql-statements";

const root = path.resolve(__dirname, "../..");
const migrationsDir = path.join(root, "migrations");
const realFiles = fs
  .readdirSync(migrationsDir)
  .filter((f) => MIGRATION_FILE.test(f))
  .sort();

let tmp: string;
beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "synter-migrations-"));
});
afterAll(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

function write(name: string, text: string): string {
  const file = path.join(tmp, name);
  fs.writeFileSync(file, text);
  return file;
}

async function realMigrations(): Promise<MigrationInput[]> {
  return Promise.all(realFiles.map((f) => renderMigration(path.join(migrationsDir, f))));
}

describe("the project's migrations", () => {
  test("there are migrations, each renders and has a down", async () => {
    expect(realFiles.length).toBeGreaterThanOrEqual(2);
    for (const migration of await realMigrations()) {
      expect([migration.file, migration.renderError, migration.hasDown]).toEqual([
        migration.file,
        null,
        true,
      ]);
      expect(migration.statements.length).toBeGreaterThan(0);
    }
  });

  test("applied from empty they are safe: every table they touch is created by them", async () => {
    expect(analyseMigrations(await realMigrations())).toEqual([]);
  });

  test("the first migration's CREATE TABLEs make its tables existing for a later migration", async () => {
    const later = write(
      "1999999999999_later.sql",
      "-- Up Migration\nCREATE INDEX sessions_ip_idx ON sessions (ip);\nALTER TABLE users DROP COLUMN name;\n-- Down Migration\nSELECT 1;\n",
    );
    const [first] = await realMigrations();
    const risks = analyseMigrations([{ ...first, statements: [] }, await renderMigration(later)]);
    // Without the first migration's CREATE TABLEs, sessions and users count as existing tables.
    expect(risks.map((r) => [r.rule, r.table, r.column])).toEqual([
      ["index-not-concurrent", "sessions", null],
      ["drop-column", "users", "name"],
    ]);
    const withCreates = analyseMigrations([first, await renderMigration(later)]);
    expect(withCreates).toEqual([]);
  });
});

describe("risky statements", () => {
  test("SQL migration: each rule with its table, column and reason", async () => {
    const file = write(
      "1800000000000_risky.sql",
      `-- Up Migration
DROP TABLE magic_links;
ALTER TABLE users DROP COLUMN password_hash;
ALTER TABLE users ALTER COLUMN name TYPE text;
ALTER TABLE users ALTER COLUMN role SET NOT NULL;
CREATE UNIQUE INDEX users_name_idx ON public.users (name);
ALTER TABLE sessions ADD CONSTRAINT sessions_user_fk FOREIGN KEY (user_id) REFERENCES users (id);
TRUNCATE agent_log;
-- Down Migration
SELECT 1;
`,
    );
    const risks = analyseMigrations([await renderMigration(file)]);
    expect(risks.map((r) => [r.rule, r.table, r.column, r.dataLoss])).toEqual([
      ["drop-table", "magic_links", null, true],
      ["drop-column", "users", "password_hash", true],
      ["alter-column-type", "users", "name", false],
      ["set-not-null-without-check", "users", "role", false],
      ["index-not-concurrent", "users", null, false],
      ["foreign-key-without-not-valid", "sessions", "user_id", false],
      ["truncate", "agent_log", null, true],
    ]);
    expect(risks[3].reason).toContain("CHECK (col IS NOT NULL) NOT VALID");
    expect(risks[1].statement).toBe("ALTER TABLE users DROP COLUMN password_hash");
  });

  test("the safe patterns are not flagged", async () => {
    const file = write(
      "1800000000001_safe.sql",
      `-- Up Migration
ALTER TABLE users ADD CONSTRAINT users_role_not_null CHECK (role IS NOT NULL) NOT VALID;
ALTER TABLE users VALIDATE CONSTRAINT users_role_not_null;
ALTER TABLE users ALTER COLUMN role SET NOT NULL;
ALTER TABLE sessions ADD CONSTRAINT sessions_user_fk FOREIGN KEY (user_id) REFERENCES users (id) NOT VALID;
ALTER TABLE sessions VALIDATE CONSTRAINT sessions_user_fk;
CREATE TABLE audit (id bigint, note text);
CREATE INDEX audit_note_idx ON audit (note);
ALTER TABLE audit ALTER COLUMN note TYPE varchar(64), DROP COLUMN id;
-- Down Migration
DROP TABLE audit;
`,
    );
    const migration = await renderMigration(file);
    expect(migration.hasDown).toBe(true);
    expect(analyseMigrations([migration])).toEqual([]);
  });

  test("a NOT VALID check that is never validated does not make SET NOT NULL safe", async () => {
    const file = write(
      "1800000000002_half.sql",
      `-- Up Migration
ALTER TABLE users ADD CONSTRAINT users_role_not_null CHECK (role IS NOT NULL) NOT VALID;
ALTER TABLE users ALTER COLUMN role SET NOT NULL;
`,
    );
    const risks = analyseMigrations([await renderMigration(file)]);
    expect(risks.map((r) => [r.rule, r.table, r.column])).toEqual([
      ["no-down", null, null],
      ["set-not-null-without-check", "users", "role"],
    ]);
  });

  test("JS migration with builder calls is rendered by node-pg-migrate's MigrationBuilder", async () => {
    const file = write(
      "1800000000003_builder.js",
      `exports.up = (pgm) => {
  pgm.addColumn("users", { nickname: { type: "text" } });
  pgm.createIndex("users", "nickname");
  pgm.dropColumn("sessions", "ip");
  pgm.alterColumn("sessions", "user_agent", { type: "text" });
  pgm.addConstraint("magic_links", "magic_links_user_fk", { foreignKeys: { columns: "user_id", references: "users(id)" } });
};
`,
    );
    const migration = await renderMigration(file);
    expect(migration.renderError).toBeNull();
    expect(migration.hasDown).toBe(false);
    const risks = analyseMigrations([migration]);
    expect(risks.map((r) => [r.rule, r.table, r.column])).toEqual([
      ["no-down", null, null],
      ["index-not-concurrent", "users", null],
      ["drop-column", "sessions", "ip"],
      ["alter-column-type", "sessions", "user_agent"],
      ["foreign-key-without-not-valid", "magic_links", "user_id"],
    ]);
  });

  test("CONCURRENTLY inside the migration transaction is flagged; with noTransaction it is clean", async () => {
    const inTx = write(
      "1800000000004_concurrent.js",
      `exports.up = (pgm) => { pgm.createIndex("users", "name", { concurrently: true }); };
exports.down = (pgm) => { pgm.dropIndex("users", "name"); };
`,
    );
    const noTx = write(
      "1800000000005_concurrent_ok.js",
      `exports.up = (pgm) => { pgm.noTransaction(); pgm.createIndex("users", "name", { concurrently: true }); };
exports.down = (pgm) => { pgm.dropIndex("users", "name"); };
`,
    );
    expect(analyseMigrations([await renderMigration(inTx)]).map((r) => r.rule)).toEqual([
      "concurrently-in-transaction",
    ]);
    expect(analyseMigrations([await renderMigration(noTx)])).toEqual([]);
  });

  test("a migration that queries the database while building is reported, not guessed", async () => {
    const file = write(
      "1800000000006_query.js",
      `exports.up = async (pgm) => { await pgm.db.query("SELECT 1"); };
exports.down = () => {};
`,
    );
    const risks = analyseMigrations([await renderMigration(file)]);
    expect(risks.map((r) => r.rule)).toEqual(["not-analysable"]);
    expect(risks[0].reason).toContain("queries the database while building its SQL");
  });
});

describe("splitSqlStatements", () => {
  test("keeps dollar-quoted bodies, quoted semicolons and drops comments", () => {
    expect(
      splitSqlStatements(
        "CREATE FUNCTION f() RETURNS int AS $fn$ SELECT 1; $fn$ LANGUAGE sql; -- a; comment\nSELECT ';', \"a;b\" /* x; */ FROM t;",
      ),
    ).toEqual([
      "CREATE FUNCTION f() RETURNS int AS $fn$ SELECT 1; $fn$ LANGUAGE sql",
      `SELECT ';', "a;b" FROM t`,
    ]);
  });
});
