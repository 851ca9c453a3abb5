/**
 * `synter-infra migrate generate` through the CLI, as CI runs it: `--check` passes on the
 * repository (schema/ and migrations/ agree), fails with the drift exit code when a schema change
 * has no migration, and `generate` writes the missing migration — after which `--check` passes and
 * the migrations that were there are byte-for-byte what they were. Then, on a database with rows:
 * a declared rename keeps the values, and a narrowing type change fails instead of truncating.
 */
import { spawnSync } from "node:child_process";
import { copyFileSync, mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Client } from "pg";
import { EXIT_CODES } from "../../src/cli/exit-codes";
import { DEFAULT_MIGRATIONS_DIR, MigrationFailedError, runMigrations } from "../../src/migrate";
import { generateMigration } from "../../src/migrate/generate";
import { pg } from "../../schema/dsl/postgres";
import { useEmbeddedPostgres } from "../support/embedded-postgres";
import { editTable, table, without } from "./schema-edits";

const root = join(__dirname, "..", "..");
const REAL = readdirSync(DEFAULT_MIGRATIONS_DIR).sort();

function cli(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [join(root, "bin", "synter-infra.js"), ...args], {
    cwd: root,
    encoding: "utf8",
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** A temp migrations folder holding the first `count` real migrations. */
function firstMigrations(count: number): string {
  const dir = mkdtempSync(join(tmpdir(), "synter-generate-"));
  for (const name of REAL.slice(0, count))
    copyFileSync(join(DEFAULT_MIGRATIONS_DIR, name), join(dir, name));
  return dir;
}

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

describe("synter-infra migrate generate", () => {
  test("--check on the repository: schema/ and migrations/ agree, exit 0", () => {
    const run = cli(["migrate", "generate", "--check"]);
    expect([run.status, run.stdout]).toEqual([
      0,
      "migrations/ produce exactly schema/auth.ts: nothing to generate\n",
    ]);
  });

  test("a schema change without its migration: --check exits with the drift code and says what is missing", () => {
    const dir = firstMigrations(1);
    dirs.push(dir);
    const run = cli(["migrate", "generate", "--check", "--migrations-dir", dir]);
    expect(run.status).toBe(EXIT_CODES.drift);
    expect(run.stdout).toContain("  - missing table oauth_connections\n");
    expect(run.stdout).toContain("  - create table oauth_tokens\n");
    expect(run.stderr).toMatch(
      /^replaying 1 migration\(s\) into a scratch Postgres…\nerror: schema\/auth\.ts differs from what migrations\/ produce \(3 differences\): run `synter-infra migrate generate <name>` and commit the migration it writes\n$/,
    );
  });

  test("generate writes the missing migration; then --check passes; the earlier files are untouched", () => {
    const dir = firstMigrations(1);
    dirs.push(dir);
    const before = readFileSync(join(dir, REAL[0]!));
    const run = cli(["migrate", "generate", "oauth-tables", "--migrations-dir", dir]);
    expect(run.status).toBe(0);
    const written = readdirSync(dir).filter((f) => f !== REAL[0]);
    expect(written).toHaveLength(1);
    expect(written[0]).toMatch(/^\d{13}_oauth-tables\.sql$/);
    expect(run.stdout.trim().endsWith(written[0]!)).toBe(true);
    const sql = readFileSync(join(dir, written[0]!), "utf8");
    expect(sql).toContain("\n-- Up Migration\n");
    expect(sql).toContain("CREATE TABLE oauth_connections (\n");
    expect(sql).toContain("\n-- Down Migration\n");
    expect(sql).toContain("\nDROP TABLE oauth_connections;\n");
    expect(readFileSync(join(dir, REAL[0]!))).toEqual(before);

    const check = cli(["migrate", "generate", "--check", "--migrations-dir", dir]);
    expect(check.status).toBe(0);
  });

  test("without a name (and without --check) it is a usage error", () => {
    const run = cli(["migrate", "generate"]);
    expect(run.status).toBe(EXIT_CODES.usage);
    expect(run.stderr).toBe(
      "error: migrate generate needs a name for the migration (kebab-case, e.g. add-user-locale), or --check\n",
    );
  });
});

describe("generated migrations on a database with rows", () => {
  const server = useEmbeddedPostgres();

  test("a declared rename keeps the values; a narrowing type change fails rather than truncating", async () => {
    const url = await server().createDatabase("generate_with_rows");
    const dir = firstMigrations(REAL.length);
    dirs.push(dir);
    await runMigrations({ databaseUrl: url, migrationsDir: dir });
    const client = new Client({ connectionString: url });
    await client.connect();
    try {
      await client.query(
        `INSERT INTO users (email, name) VALUES ('ann@example.com', 'Ann'), ('bob@example.com', repeat('b', 100))`,
      );
      const renamed = editTable("users", (c, o) =>
        table("users", { ...without(c, "name"), display_name: c.name!.renamedFrom("name") }, o),
      );
      const rename = await generateMigration({
        name: "rename-user-name",
        migrationsDir: dir,
        tables: renamed,
      });
      expect(rename.files.map((f) => f.transactional)).toEqual([true]);
      await runMigrations({ databaseUrl: url, migrationsDir: dir });
      const { rows } = await client.query<{ display_name: string }>(
        "SELECT display_name FROM users ORDER BY email",
      );
      expect(rows.map((r) => r.display_name)).toEqual(["Ann", "b".repeat(100)]);

      const narrowed = editTable(
        "users",
        (c, o) => table("users", { ...c, display_name: pg.varchar(64).describe("Shorter.") }, o),
        renamed,
      );
      const narrow = await generateMigration({
        name: "narrow-user-name",
        migrationsDir: dir,
        tables: narrowed,
      });
      expect(narrow.risks.map((r) => r.rule)).toEqual(["alter-column-type"]);
      await expect(runMigrations({ databaseUrl: url, migrationsDir: dir })).rejects.toThrow(
        MigrationFailedError,
      );
      const after = await client.query<{ n: number }>(
        "SELECT max(length(display_name))::int AS n FROM users",
      );
      expect(after.rows[0]!.n).toBe(100);
    } finally {
      await client.end();
    }
  });
});
