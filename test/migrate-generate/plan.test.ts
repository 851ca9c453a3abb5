/**
 * The generator's plan and files for single schema edits, exactly. The "live" side is the desired
 * shape of today's schema/auth.ts: test/postgres proves the existing migrations produce exactly
 * that (verify finds no difference), so these tests need no database.
 */
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { authTableList } from "../../schema/auth";
import { pg } from "../../schema/dsl/postgres";
import { getActions } from "../../src/migrate/node-pg-migrate-internals";
import {
  RenameDeclarationError,
  isEmptyPlan,
  partStatements,
  planMigration,
  renderMigrationFiles,
  type MigrationPlan,
} from "../../src/migrate/generate";
import { desiredShape } from "../../src/migrate/verify";
import { authTable, editTable, table, without } from "./schema-edits";

const live = desiredShape(authTableList);
const plan = (tables = authTableList) => planMigration({ tables, live });
const up = (p: MigrationPlan, part: "transactional" | "concurrent" = "transactional") =>
  partStatements(p[part], "up");
const down = (p: MigrationPlan, part: "transactional" | "concurrent" = "transactional") =>
  partStatements(p[part], "down");
const render = (p: MigrationPlan) =>
  renderMigrationFiles(p, { name: "edit", timestamp: 1799000000000 });

const users = authTable("users");

describe("migrate generate: the plan", () => {
  test("today's schema against what the migrations produce: nothing to do", () => {
    const empty = plan();
    expect(isEmptyPlan(empty)).toBe(true);
    expect(render(empty).files).toEqual([]);
  });

  test("a nullable column: one ADD COLUMN, undone by DROP COLUMN, no second file", () => {
    const p = plan(
      editTable("users", (c, o) => table("users", { ...c, locale: pg.text().describe("UI.") }, o)),
    );
    expect(up(p)).toEqual(["ALTER TABLE users ADD COLUMN locale text"]);
    expect(down(p)).toEqual(["ALTER TABLE users DROP COLUMN locale"]);
    expect(p.concurrent).toEqual([]);
    expect(render(p).risks).toEqual([]);
  });

  test("a declared column rename renames the column and every derived name, keeps the values", () => {
    const p = plan(
      editTable("users", (c, o) =>
        table(
          "users",
          { ...without(c, "email"), login: users.columns.email.renamedFrom("email") },
          o,
        ),
      ),
    );
    expect(up(p)).toEqual([
      "ALTER TABLE users RENAME COLUMN email TO login",
      "ALTER TABLE users RENAME CONSTRAINT users_email_key TO users_login_key",
    ]);
    expect(down(p)).toEqual([
      "ALTER TABLE users RENAME CONSTRAINT users_login_key TO users_email_key",
      "ALTER TABLE users RENAME COLUMN login TO email",
    ]);
    expect(p.renames).toEqual(["column users.email → login"]);
    expect(render(p).risks).toEqual([]);
  });

  test("the same edit without renamedFrom is a drop and an add, flagged destructive", () => {
    const p = plan(
      editTable("users", (c, o) =>
        table("users", { ...without(c, "email"), login: users.columns.email }, o),
      ),
    );
    expect(up(p)).toEqual([
      "ALTER TABLE users DROP CONSTRAINT users_email_key",
      "ALTER TABLE users DROP COLUMN email",
      "ALTER TABLE users ADD COLUMN login citext NOT NULL",
    ]);
    expect(up(p, "concurrent")).toEqual([
      "ALTER TABLE users DROP CONSTRAINT IF EXISTS users_login_key",
      "DROP INDEX CONCURRENTLY IF EXISTS users_login_key",
      "CREATE UNIQUE INDEX CONCURRENTLY users_login_key ON public.users USING btree (login)",
      "ALTER TABLE users ADD CONSTRAINT users_login_key UNIQUE USING INDEX users_login_key",
    ]);
    const { risks, files } = render(p);
    expect(risks.map((r) => [r.rule, r.table, r.column])).toEqual([
      ["drop-column", "users", "email"],
      ["add-required-column", "users", "login"],
    ]);
    expect(files[0]!.content).toContain(
      "-- destructive (drop-column): drops a column and its values\nALTER TABLE users DROP COLUMN email;\n",
    );
  });

  test("a declared table rename renames the table, its constraints and its trigger", () => {
    const tables = editTable("campaign_policies", (c, o) =>
      table("budget_policies", c, { ...o, renamedFrom: "campaign_policies" }),
    );
    const p = plan(tables);
    expect(up(p)).toEqual([
      "ALTER TABLE campaign_policies RENAME TO budget_policies",
      "ALTER TABLE budget_policies RENAME CONSTRAINT campaign_policies_pkey TO budget_policies_pkey",
      "ALTER TABLE budget_policies RENAME CONSTRAINT campaign_policies_platform_account_id_campaign_id_key TO budget_policies_platform_account_id_campaign_id_key",
      "ALTER TABLE budget_policies RENAME CONSTRAINT campaign_policies_platform_check TO budget_policies_platform_check",
      "ALTER TRIGGER campaign_policies_touch_updated_at ON budget_policies RENAME TO budget_policies_touch_updated_at",
    ]);
    expect(p.renames).toEqual(["table campaign_policies → budget_policies"]);
    // Once applied, the declaration is a no-op: the live schema has the new name.
    expect(isEmptyPlan(planMigration({ tables, live: desiredShape(tables) }))).toBe(true);
  });

  test("an index on an existing table: only the non-transactional part, CONCURRENTLY", () => {
    const p = plan(
      editTable("sessions", (c, o) =>
        table("sessions", c, { ...o, indexes: [...(o.indexes ?? []), { columns: ["ip"] }] }),
      ),
    );
    expect(p.transactional).toEqual([]);
    expect(up(p, "concurrent")).toEqual([
      "DROP INDEX CONCURRENTLY IF EXISTS sessions_ip_idx",
      "CREATE INDEX CONCURRENTLY sessions_ip_idx ON public.sessions USING btree (ip)",
    ]);
    expect(down(p, "concurrent")).toEqual(["DROP INDEX CONCURRENTLY IF EXISTS sessions_ip_idx"]);
    expect(render(p).files.map((f) => f.fileName)).toEqual(["1799000000000_edit-concurrently.js"]);
  });

  test("a foreign key on an existing table: added NOT VALID, validated in its own transaction", () => {
    const p = plan(
      editTable("ad_accounts", (c, o) =>
        table(
          "ad_accounts",
          { ...c, owner_id: pg.bigint().references("users", "id", "set null").describe("Owner.") },
          o,
        ),
      ),
    );
    expect(up(p)).toEqual([
      "ALTER TABLE ad_accounts ADD COLUMN owner_id bigint",
      "ALTER TABLE ad_accounts ADD CONSTRAINT ad_accounts_owner_id_fkey FOREIGN KEY (owner_id) REFERENCES users(id) ON DELETE SET NULL NOT VALID",
    ]);
    expect(up(p, "concurrent")).toEqual([
      "ALTER TABLE ad_accounts VALIDATE CONSTRAINT ad_accounts_owner_id_fkey",
    ]);
    expect(render(p).risks).toEqual([]);
  });

  test("SET NOT NULL goes through a NOT VALID check, validated, then set; the check is dropped", () => {
    const p = plan(
      editTable("users", (c, o) => table("users", { ...c, name: c.name!.notNull() }, o)),
    );
    expect(up(p)).toEqual([
      "ALTER TABLE users ADD CONSTRAINT users_name_not_null CHECK (name IS NOT NULL) NOT VALID",
    ]);
    expect(up(p, "concurrent")).toEqual([
      "ALTER TABLE users VALIDATE CONSTRAINT users_name_not_null",
      "ALTER TABLE users ALTER COLUMN name SET NOT NULL",
      "ALTER TABLE users DROP CONSTRAINT IF EXISTS users_name_not_null",
    ]);
    expect(down(p, "concurrent")).toEqual(["ALTER TABLE users ALTER COLUMN name DROP NOT NULL"]);
    expect(down(p)).toEqual(["ALTER TABLE users DROP CONSTRAINT IF EXISTS users_name_not_null"]);
    // The lint accepts the pattern: no set-not-null-without-check.
    expect(render(p).risks).toEqual([]);
  });

  test("a type change drops the default first, sets it after, and is flagged destructive", () => {
    const p = plan(
      editTable("campaign_policies", (c, o) =>
        table(
          "campaign_policies",
          { ...c, min_conversions: pg.bigint().default("5").describe("More.") },
          o,
        ),
      ),
    );
    expect(up(p)).toEqual([
      "ALTER TABLE campaign_policies ALTER COLUMN min_conversions DROP DEFAULT",
      "ALTER TABLE campaign_policies ALTER COLUMN min_conversions TYPE bigint",
      "ALTER TABLE campaign_policies ALTER COLUMN min_conversions SET DEFAULT 5",
    ]);
    expect(down(p)).toEqual([
      "ALTER TABLE campaign_policies ALTER COLUMN min_conversions DROP DEFAULT",
      "ALTER TABLE campaign_policies ALTER COLUMN min_conversions TYPE integer",
      "ALTER TABLE campaign_policies ALTER COLUMN min_conversions SET DEFAULT 3",
    ]);
    expect(render(p).risks.map((r) => r.rule)).toEqual(["alter-column-type"]);
  });

  test("a text → integer change casts explicitly; to a string type it never does (no truncation)", () => {
    const toInteger = plan(
      editTable("users", (c, o) =>
        table("users", { ...c, name: pg.integer().describe("Now a number.") }, o),
      ),
    );
    expect(up(toInteger)).toEqual([
      "ALTER TABLE users ALTER COLUMN name TYPE integer USING name::integer",
    ]);
    expect(down(toInteger)).toEqual([
      "ALTER TABLE users ALTER COLUMN name TYPE character varying(128)",
    ]);
  });

  test("a new table is created whole in the transaction, its foreign keys after", () => {
    const tables = [
      ...authTableList,
      table(
        "api_keys",
        {
          id: pg.bigint().identity().describe("Id."),
          user_id: pg.bigint().notNull().references("users", "id", "cascade").describe("Owner."),
          label: pg.text().unique().describe("Label."),
        },
        { description: "Keys.", indexes: [{ columns: ["user_id"] }] },
      ),
    ];
    const p = plan(tables);
    expect(up(p)).toEqual([
      "CREATE TABLE api_keys (\n  id bigint GENERATED BY DEFAULT AS IDENTITY NOT NULL,\n  user_id bigint NOT NULL,\n  label text,\n  CONSTRAINT api_keys_pkey PRIMARY KEY (id),\n  CONSTRAINT api_keys_label_key UNIQUE (label)\n)",
      "CREATE INDEX api_keys_user_id_idx ON public.api_keys USING btree (user_id)",
      "ALTER TABLE api_keys ADD CONSTRAINT api_keys_user_id_fkey FOREIGN KEY (user_id) REFERENCES users(id) ON DELETE CASCADE",
    ]);
    expect(down(p)).toEqual([
      "ALTER TABLE api_keys DROP CONSTRAINT api_keys_user_id_fkey",
      "DROP TABLE api_keys",
    ]);
    expect(p.concurrent).toEqual([]);
    expect(render(p).risks).toEqual([]);
  });

  test("a renamedFrom whose old name is gone is a no-op; a contradictory one is refused", () => {
    const stale = editTable("users", (c, o) =>
      table("users", { ...without(c, "name"), name: c.name!.renamedFrom("full_name") }, o),
    );
    expect(isEmptyPlan(plan(stale))).toBe(true);
    expect(() =>
      plan(editTable("sessions", (c, o) => table("sessions", c, { ...o, renamedFrom: "users" }))),
    ).toThrow(
      new RenameDeclarationError(["table sessions is renamedFrom users, which is still a table"]),
    );
    expect(() =>
      table(
        "users",
        { ...users.columns, login: pg.text().renamedFrom("email").describe("x") },
        {
          description: "x",
        },
      ),
    ).toThrow("column login is renamedFrom email, which is still a column");
  });
});

describe("migrate generate: the files", () => {
  const edited = editTable("sessions", (c, o) =>
    table(
      "sessions",
      { ...without(c, "ip"), client_ip: c.ip!.renamedFrom("ip").notNull() },
      { ...o, indexes: [...(o.indexes ?? []), { columns: ["client_ip", "expires_at"] }] },
    ),
  );
  const p = plan(edited);
  const { files } = render(p);

  test("a .sql file node-pg-migrate splits into exactly the up and the down", () => {
    expect(files.map((f) => [f.fileName, f.transactional])).toEqual([
      ["1799000000000_edit.sql", true],
      ["1799000000001_edit-concurrently.js", false],
    ]);
    const sql: string[] = [];
    const actions = getActions(files[0]!.content);
    const pgm = { sql: (text: string) => sql.push(text) } as never;
    (actions.up as (p: never) => void)(pgm);
    (actions.down as (p: never) => void)(pgm);
    const statementsOf = (section: string) =>
      section
        .split("\n")
        .filter((l) => !l.startsWith("--") && l !== "")
        .join("\n")
        .split(";\n")
        .map((s) => s.replace(/;$/, ""));
    expect(statementsOf(sql[0]!)).toEqual(up(p));
    expect(statementsOf(sql[1]!)).toEqual(down(p));
  });

  test("the .js file is a node-pg-migrate migration without a transaction, as prettier writes it", () => {
    const js = files[1]!.content;
    const module = { exports: {} as Record<string, (pgm: unknown) => void> };
    new Function("module", js)(module);
    for (const direction of ["up", "down"] as const) {
      const sql: string[] = [];
      let noTransaction = false;
      module.exports[direction]!({
        noTransaction: () => (noTransaction = true),
        sql: (text: string) => sql.push(text),
      });
      expect(noTransaction).toBe(true);
      expect(sql).toEqual(partStatements(p.concurrent, direction));
    }
    // prettier's CLI (its API needs ESM, which jest's CommonJS runtime cannot load here).
    const prettier = join(__dirname, "../../node_modules/prettier/bin/prettier.cjs");
    const formatted = execFileSync(
      process.execPath,
      [prettier, "--stdin-filepath", "migrations/x.js"],
      {
        input: js,
        encoding: "utf8",
      },
    );
    expect(formatted).toBe(js);
  });
});
