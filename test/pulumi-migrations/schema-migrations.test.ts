/**
 * The `SchemaMigrations` dynamic resource's logic against a real PostgreSQL 15 provisioned like
 * the cloud (roles from schema/roles.ts, migrations as the migrator): check/diff/create/update,
 * pending names in preview, re-run on a checksum change, drift failing the update, a no-op
 * delete, and a small serialized provider.
 */
import { copyFileSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import * as pulumi from "@pulumi/pulumi";
import {
  SchemaDriftError,
  UNKNOWN_VALUE,
  checkMigrations,
  createMigrations,
  diffMigrations,
  updateMigrations,
  type SchemaMigrationsInputs,
  type SchemaMigrationsOutputs,
} from "../../infra/migrations/provider-logic";
import { migrationFilesSummary, migrationRunner } from "../../infra/migrations/runner";
import { createMigrationsProvider } from "../../infra/migrations/provider-entry";
import { schemaMigrationsProvider } from "../../infra/migrations/schema-migrations";
import { DEFAULT_MIGRATIONS_DIR } from "../../src/migrate";
import { provisionAuthDatabase, withClient } from "../../src/local/auth-roles";
import { authRoleNames } from "../../schema/roles";
import { useEmbeddedPostgres } from "../support/embedded-postgres";

const passwords = { migrator: "migrator-pw-1", app: "app-pw-1", readonly: "readonly-pw-1" };
const roles = authRoleNames("synter");
const repositoryMigrations = readdirSync(DEFAULT_MIGRATIONS_DIR)
  .filter((name) => !name.startsWith("."))
  .sort();
const repositoryNames = repositoryMigrations.map((file) => file.replace(/\.(sql|js)$/, ""));

describe("SchemaMigrations provider logic on PostgreSQL 15", () => {
  const server = useEmbeddedPostgres();
  let dir: string;
  let migratorUrl: string;
  const runner = () => migrationRunner(dir);
  const inputs = (): SchemaMigrationsInputs => {
    const files = migrationFilesSummary(dir);
    return { databaseUrl: migratorUrl, checksum: files.checksum, migrations: files.names };
  };
  const addMigration = (fileName: string, up: string) =>
    writeFileSync(join(dir, fileName), `-- Up Migration\n${up}\n-- Down Migration\n`);

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "synter-migrations-"));
    for (const file of repositoryMigrations)
      copyFileSync(join(DEFAULT_MIGRATIONS_DIR, file), join(dir, file));
    await provisionAuthDatabase((db) => ({ connectionString: server().url(db) }), {
      database: "synter",
      passwords,
    });
    migratorUrl = `postgres://${roles.migrator}:${passwords.migrator}@${server().host}:${server().port}/synter`;
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  let state: SchemaMigrationsOutputs;

  it("check lists every migration as pending on an empty database (what preview shows)", async () => {
    expect(repositoryNames.length).toBeGreaterThanOrEqual(2);
    const checked = await checkMigrations(undefined, inputs(), runner());
    expect(checked.inputs).toEqual({ ...inputs(), pending: repositoryNames });
  });

  it("check judges from the old inputs' migration list when the URL is not known yet", async () => {
    // What the engine hands check: the old *inputs* (the last successful update's), no outputs.
    const checked = await checkMigrations(
      { ...inputs(), migrations: [repositoryNames[0]], pending: [repositoryNames[0]] },
      { ...inputs(), databaseUrl: UNKNOWN_VALUE },
      runner(),
    );
    expect(checked.inputs?.pending).toEqual(repositoryNames.slice(1));
  });

  it("a preview that cannot reach a deployed database shows no spurious update", async () => {
    // Deployed state: inputs as check returned them before the create, outputs after it.
    const oldInputs = { ...inputs(), pending: repositoryNames };
    const oldOutputs = {
      ...inputs(),
      pending: [],
      applied: repositoryNames,
      appliedByLastRun: repositoryNames,
    };
    const unreachable = { ...inputs(), databaseUrl: "postgres://m:pw@127.0.0.1:1/synter" };
    const checked = await checkMigrations(oldInputs, unreachable, runner());
    expect(checked.inputs?.pending).toEqual([]);
    expect(
      diffMigrations(
        { ...oldOutputs, databaseUrl: unreachable.databaseUrl },
        checked.inputs as SchemaMigrationsInputs,
      ),
    ).toEqual({ changes: false, replaces: [], deleteBeforeReplace: false });
  });

  it("create applies every migration, verifies, and records what it applied", async () => {
    const checked = await checkMigrations(undefined, inputs(), runner());
    const created = await createMigrations(checked.inputs as SchemaMigrationsInputs, runner());
    state = created.outs!;
    expect(created.id).toBe("schema-migrations");
    expect(state).toEqual({
      ...inputs(),
      pending: [],
      applied: repositoryNames,
      appliedByLastRun: repositoryNames,
    });
    // The tables belong to the migrator, and the app role can use them (default privileges).
    const appUrl = `postgres://${roles.app}:${passwords.app}@${server().host}:${server().port}/synter`;
    const user = await withClient({ connectionString: appUrl }, (c) =>
      c.query(
        "INSERT INTO users (email, password_hash, name, role) VALUES ($1, $2, $3, $4) RETURNING email",
        ["ann@example.com", null, "Ann", "admin"],
      ),
    );
    expect(user.rows).toEqual([{ email: "ann@example.com" }]);
  });

  it("diff shows no change when nothing changed", async () => {
    const checked = await checkMigrations(state, inputs(), runner());
    expect(checked.inputs?.pending).toEqual([]);
    expect(diffMigrations(state, checked.inputs as SchemaMigrationsInputs)).toEqual({
      changes: false,
      replaces: [],
      deleteBeforeReplace: false,
    });
  });

  it("a new migration file changes the checksum, shows as pending, and update applies it", async () => {
    addMigration(
      "1895600000000_comment-users.sql",
      "COMMENT ON TABLE users IS 'Application users.';",
    );
    const checked = await checkMigrations(state, inputs(), runner());
    const news = checked.inputs as SchemaMigrationsInputs;
    expect(news.pending).toEqual(["1895600000000_comment-users"]);
    expect(news.checksum).not.toBe(state.checksum);
    expect(diffMigrations(state, news)).toEqual({
      changes: true,
      replaces: [],
      deleteBeforeReplace: false,
    });
    const updated = await updateMigrations(news, runner());
    expect(updated.outs?.appliedByLastRun).toEqual(["1895600000000_comment-users"]);
    expect(updated.outs?.applied).toEqual([...repositoryNames, "1895600000000_comment-users"]);
    state = updated.outs!;
  });

  it("an update whose migrations leave the schema different from schema/ fails, naming the drift", async () => {
    addMigration("1895600060000_stray-index.sql", "CREATE INDEX users_name_idx ON users (name);");
    const news = (await checkMigrations(state, inputs(), runner()))
      .inputs as SchemaMigrationsInputs;
    expect(diffMigrations(state, news).changes).toBe(true);
    const failure = updateMigrations(news, runner());
    await expect(failure).rejects.toBeInstanceOf(SchemaDriftError);
    await expect(failure).rejects.toThrow(
      /^the database differs from schema\/ after migrating \(1 difference\):\n {2}.*users_name_idx/,
    );
  });

  it("delete does nothing: the tables stay", async () => {
    await createMigrationsProvider().delete!("schema-migrations", state);
    const tables = await withClient({ connectionString: server().url("synter") }, (c) =>
      c.query(
        "SELECT count(*)::int AS n FROM pg_tables WHERE schemaname = 'public' AND tablename = 'users'",
      ),
    );
    expect(tables.rows).toEqual([{ n: 1 }]);
  });
});

describe("the serialized SchemaMigrations provider", () => {
  it("is small, holds no path of the checkout and no comment, and loads the logic at run time", async () => {
    const provider = schemaMigrationsProvider();
    const serialized = await pulumi.runtime.serializeFunction(() => provider);
    expect(serialized.text).toContain('"./infra/migrations/provider-entry"');
    expect(serialized.text).toContain('"createMigrationsProvider"');
    expect(serialized.text).not.toContain(resolve(__dirname, "../.."));
    // A comment inside a serialized function is part of its text: an edit would change state.
    // (Pulumi marks each function with its name, `/*loadProvider*/`: that is no comment of ours.)
    expect(serialized.text.replace(/\/\*[A-Za-z_$][\w$]*\*\//g, "")).not.toMatch(/\/\/|\/\*/);
    // The runner, pg and schema/ stay out of the closure: they are loaded from disk.
    expect(serialized.text).not.toContain("pg_advisory");
    expect(serialized.text.length).toBeLessThan(8_000);
  });
});
