/**
 * Applied migrations are immutable: an edited, removed or reordered file makes `up` and `down`
 * refuse to run (naming the file) before touching anything, and `status` shows the state.
 */
import { appendFileSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { MigrationHistoryError, migrationStatus, runMigrations } from "../../src/migrate";
import { runner } from "node-pg-migrate";
import { useEmbeddedPostgres } from "../support/embedded-postgres";
import { REAL_MIGRATIONS, copyMigrations, freshDatabase, withClient } from "./migration-fixtures";

const [FIRST, SECOND] = REAL_MIGRATIONS as [string, string];

describe("the migration history guard", () => {
  const server = useEmbeddedPostgres();
  const cleanups: (() => void)[] = [];
  afterEach(() => cleanups.splice(0).forEach((c) => c()));

  async function appliedCopy(label: string, count = Infinity) {
    const copy = copyMigrations();
    cleanups.push(copy.remove);
    const url = await freshDatabase(server(), label);
    await runMigrations({ databaseUrl: url, migrationsDir: copy.dir, count });
    return { url, dir: copy.dir };
  }

  async function refusal(run: Promise<unknown>): Promise<MigrationHistoryError> {
    const error = await run.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(MigrationHistoryError);
    expect((error as MigrationHistoryError).kind).toBe("mismatch");
    return error as MigrationHistoryError;
  }

  it("refuses to run when an applied migration was edited, naming the file, and changes nothing", async () => {
    const { url, dir } = await appliedCopy("edited", 1);
    appendFileSync(join(dir, FIRST), "\n-- an innocent-looking comment\n");
    const error = await refusal(runMigrations({ databaseUrl: url, migrationsDir: dir }));
    expect(error.problems.map((p) => [p.kind, p.name])).toEqual([
      ["edited", FIRST.replace(".sql", "")],
    ]);
    expect(error.message).toMatch(
      new RegExp(
        `^refusing to migrate: the migration files disagree with the applied history\\n  - applied migration ${FIRST} was edited \\(applied sha256 [0-9a-f]{12}…, file now [0-9a-f]{12}…\\): restore it and put the change in a new migration$`,
      ),
    );
    // The pending second migration was not applied, and down refuses as well.
    const tables = await withClient(
      url,
      async (c) => (await c.query("SELECT to_regclass('oauth_connections') AS t")).rows[0].t,
    );
    expect(tables).toBeNull();
    await refusal(runMigrations({ databaseUrl: url, migrationsDir: dir, direction: "down" }));
    const status = await migrationStatus({ databaseUrl: url, migrationsDir: dir });
    expect(status.applied.map((a) => a.state)).toEqual(["edited"]);
    expect(status.pending.map((p) => p.fileName)).toEqual([SECOND]);
  });

  it("refuses when an applied migration's file was removed", async () => {
    const { url, dir } = await appliedCopy("removed");
    rmSync(join(dir, SECOND));
    const error = await refusal(runMigrations({ databaseUrl: url, migrationsDir: dir }));
    expect(error.problems).toEqual([
      {
        kind: "removed",
        name: SECOND.replace(".sql", ""),
        message: `applied migration ${SECOND.replace(".sql", "")} has no file any more: restore it (applied migrations are never removed; write a new migration to undo one)`,
      },
    ]);
    const status = await migrationStatus({ databaseUrl: url, migrationsDir: dir });
    expect(status.applied.map((a) => [a.fileName, a.state])).toEqual([
      [FIRST, "ok"],
      [undefined, "removed"],
    ]);
  });

  it("refuses when a new migration sorts before an applied one", async () => {
    const { url, dir } = await appliedCopy("reordered");
    const late = "1795600030000_sneaked-in.sql";
    writeFileSync(
      join(dir, late),
      "-- Up Migration\nCREATE TABLE sneaky (id int);\n-- Down Migration\nDROP TABLE sneaky;\n",
    );
    const error = await refusal(runMigrations({ databaseUrl: url, migrationsDir: dir }));
    expect(error.problems).toEqual([
      {
        kind: "reordered",
        name: "1795600030000_sneaked-in",
        message: `pending migration ${late} sorts before the applied ${SECOND}: give it a later timestamp (synter-infra migrate create makes one)`,
      },
    ]);
  });

  it("refuses when applied files were renamed so their order changed", async () => {
    const { url, dir } = await appliedCopy("renamed");
    // Both files keep their bytes, but the second now sorts first.
    renameSync(join(dir, SECOND), join(dir, `1795599990000_${SECOND.split("_")[1]}`));
    const error = await refusal(runMigrations({ databaseUrl: url, migrationsDir: dir }));
    expect(error.problems.map((p) => p.kind)).toEqual(["removed", "reordered"]);
  });

  it("runs again once the edited file is restored", async () => {
    const { url, dir } = await appliedCopy("restored", 1);
    const path = join(dir, FIRST);
    const original = readFileSync(path);
    appendFileSync(path, " ");
    await refusal(runMigrations({ databaseUrl: url, migrationsDir: dir }));
    writeFileSync(path, original);
    const result = await runMigrations({ databaseUrl: url, migrationsDir: dir });
    expect(result.migrations.map((m) => m.fileName)).toEqual([SECOND]);
  });

  it("refuses migrations applied by node-pg-migrate's own CLI, which records no checksum", async () => {
    const copy = copyMigrations();
    cleanups.push(copy.remove);
    const url = await freshDatabase(server(), "unrecorded");
    await runner({
      databaseUrl: url,
      dir: copy.dir,
      direction: "up",
      count: 1,
      migrationsTable: "pgmigrations",
      log: () => undefined,
    });
    const error = await refusal(runMigrations({ databaseUrl: url, migrationsDir: copy.dir }));
    expect(error.problems.map((p) => p.message)).toEqual([
      `applied migration ${FIRST} has no recorded checksum (applied by another tool?): cannot prove the file is unchanged`,
    ]);
  });
});
