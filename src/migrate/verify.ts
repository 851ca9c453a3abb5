/**
 * `migrate verify`: proves the live database is what `schema/auth.ts` declares. The desired side
 * is rendered to the exact text Postgres prints back (format_type, pg_get_expr,
 * pg_get_constraintdef, pg_get_indexdef, pg_get_triggerdef), so comparing is comparing strings,
 * and any difference names the object, the aspect, and both values. What those texts leave out is
 * compared too: whether a trigger is enabled, and a trigger function's language and body.
 */
import type { ClientBase } from "pg";
import { authTableList, requiredExtensions } from "../../schema/auth";
import { touchUpdatedAt } from "../../schema/auth-functions";
import {
  TOUCH_UPDATED_AT_FUNCTION,
  formatPgType,
  type PgColumnSpec,
  type PgForeignKey,
  type PgTable,
} from "../../schema/dsl/postgres";
import { ToolError } from "../errors/tool-error";
import { connect, resolveDatabaseUrl, type DatabaseTarget } from "./connection";
import { CHECKSUMS_TABLE, MIGRATIONS_TABLE } from "./history";

export type SchemaObjectKind =
  "extension" | "function" | "table" | "column" | "constraint" | "index" | "trigger";
export type DifferenceAspect =
  | "type"
  | "nullability"
  | "default"
  | "identity"
  | "definition"
  /** A trigger's firing state (`ALTER TABLE … DISABLE TRIGGER`). */
  | "state"
  | "language"
  /** A function's body, compared with runs of whitespace as one space. */
  | "body";

export interface SchemaDifference {
  readonly kind: "missing" | "extra" | "changed";
  readonly object: SchemaObjectKind;
  /** The table the object belongs to (absent for extensions and functions). */
  readonly table?: string;
  /** The object's own name (column, constraint, index, trigger, table…). */
  readonly name: string;
  /** What differs, for `changed`. */
  readonly aspect?: DifferenceAspect;
  readonly expected?: string;
  readonly actual?: string;
  /** One line for people: `column users.name: type is character varying(200), expected …`. */
  readonly message: string;
}

export interface VerifyResult {
  readonly ok: boolean;
  readonly schema: string;
  readonly differences: readonly SchemaDifference[];
}

/** The live schema differs from schema/auth.ts; the differences are in `result`. */
export class SchemaDriftError extends ToolError {
  constructor(readonly result: VerifyResult) {
    const count = result.differences.length;
    super(
      "drift",
      `schema ${result.schema} differs from schema/auth.ts (${count} difference${count === 1 ? "" : "s"}); write a migration that brings the two together, or undo the change by hand`,
    );
  }
}

/**
 * `pg_trigger.tgenabled` as words: `O` fires in origin and local mode (the default), `D` never,
 * `R` only under replication, `A` always.
 */
export type TriggerState = "enabled" | "disabled" | "replica" | "always";
const TRIGGER_STATES: Readonly<Record<string, TriggerState>> = {
  O: "enabled",
  D: "disabled",
  R: "replica",
  A: "always",
};

/** One table in the shape both sides are compared in. */
export interface TableShape {
  readonly name: string;
  readonly columns: readonly ColumnShape[];
  /** Constraint name → definition. */
  readonly constraints: ReadonlyMap<string, string>;
  /** Index name → definition (indexes behind constraints excluded). */
  readonly indexes: ReadonlyMap<string, string>;
  /** Trigger name → definition (user triggers only). */
  readonly triggers: ReadonlyMap<string, string>;
  /** Trigger name → whether it fires. */
  readonly triggerStates: ReadonlyMap<string, TriggerState>;
}

export interface ColumnShape {
  readonly name: string;
  readonly type: string;
  readonly notNull: boolean;
  /** As `pg_get_expr` prints it; absent when there is none. */
  readonly default?: string;
  /** `BY DEFAULT`, `ALWAYS`, or absent. */
  readonly identity?: string;
}

export interface SchemaShape {
  readonly tables: readonly TableShape[];
  readonly extensions: ReadonlySet<string>;
  /** Function name → its shape (only the functions the schema needs). */
  readonly functions: ReadonlyMap<string, FunctionShape>;
}

export interface FunctionShape {
  /** As `pg_get_function_result` prints it. */
  readonly returns: string;
  readonly language: string;
  readonly body: string;
}

const ON_DELETE_SQL: Record<PgForeignKey["onDelete"], string> = {
  cascade: " ON DELETE CASCADE",
  restrict: " ON DELETE RESTRICT",
  "set null": " ON DELETE SET NULL",
  "no action": "",
};

function checkDefinition(column: string, spec: PgColumnSpec, values: readonly string[]): string {
  // Postgres stores `col IN (...)` as `= ANY (ARRAY[...])`, casting non-text columns to text.
  const subject = spec.type === "text" ? column : `(${column})::text`;
  const literals = values.map((v) => `'${v.replace(/'/g, "''")}'::text`).join(", ");
  return `CHECK ((${subject} = ANY (ARRAY[${literals}])))`;
}

/** The desired shape of `tables` in `schema`, as Postgres would print it. */
export function desiredShape(
  tables: readonly PgTable[] = authTableList,
  schema = "public",
): SchemaShape {
  const shapes = tables.map((table): TableShape => {
    const constraints = new Map<string, string>();
    constraints.set(table.primaryKey.name, `PRIMARY KEY (${table.primaryKey.columns.join(", ")})`);
    for (const u of table.uniques) constraints.set(u.name, `UNIQUE (${u.columns.join(", ")})`);
    for (const fk of table.foreignKeys) {
      constraints.set(
        fk.name,
        `FOREIGN KEY (${fk.fromColumn}) REFERENCES ${fk.table}(${fk.column})${ON_DELETE_SQL[fk.onDelete]}`,
      );
    }
    for (const check of table.checks) {
      constraints.set(
        check.name,
        checkDefinition(check.column, table.columns[check.column]!.spec, check.values),
      );
    }
    const indexes = new Map<string, string>();
    for (const index of table.indexes) {
      indexes.set(
        index.name,
        `CREATE INDEX ${index.name} ON ${schema}.${table.name} USING btree (${index.columns.join(", ")})${index.where ? ` WHERE (${index.where})` : ""}`,
      );
    }
    const triggers = new Map<string, string>();
    const triggerStates = new Map<string, TriggerState>();
    for (const trigger of table.triggers) {
      triggerStates.set(trigger.name, "enabled");
      triggers.set(
        trigger.name,
        `CREATE TRIGGER ${trigger.name} BEFORE UPDATE ON ${schema}.${table.name} FOR EACH ROW EXECUTE FUNCTION ${TOUCH_UPDATED_AT_FUNCTION}()`,
      );
    }
    return {
      name: table.name,
      columns: Object.entries(table.columns).map(([name, column]) => ({
        name,
        type: formatPgType(column.spec),
        notNull: column.spec.notNull,
        ...(column.spec.default !== undefined ? { default: column.spec.default } : {}),
        ...(column.spec.identity ? { identity: "BY DEFAULT" } : {}),
      })),
      constraints,
      indexes,
      triggers,
      triggerStates,
    };
  });
  const needsTouch = tables.some((t) => t.triggers.length > 0);
  return {
    tables: shapes,
    extensions: new Set(requiredExtensions),
    functions: new Map(
      needsTouch
        ? [
            [
              TOUCH_UPDATED_AT_FUNCTION,
              {
                returns: touchUpdatedAt.returns,
                language: touchUpdatedAt.language,
                body: touchUpdatedAt.body,
              },
            ],
          ]
        : [],
    ),
  };
}

/** Reads the live shape of every table in `schema` from pg_catalog. */
export async function liveShape(
  client: ClientBase,
  schema: string,
  functionNames: readonly string[],
): Promise<SchemaShape> {
  // Definitions print names relative to the search path: make that the verified schema alone.
  await client.query("SELECT set_config('search_path', $1, false)", [
    `"${schema.replace(/"/g, '""')}"`,
  ]);
  // One after another: a pg client runs one query at a time anyway.
  const run = async <T extends unknown[]>(queries: { [K in keyof T]: () => Promise<T[K]> }) => {
    const results: unknown[] = [];
    for (const query of queries) results.push(await query());
    return results as T;
  };
  const [tables, columns, constraints, indexes, triggers, extensions, functions] = await run([
    () =>
      client.query<{ name: string }>(
        `SELECT c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
          WHERE n.nspname = $1 AND c.relkind IN ('r', 'p') ORDER BY c.relname`,
        [schema],
      ),
    () =>
      client.query<{
        table: string;
        name: string;
        type: string;
        not_null: boolean;
        default: string | null;
        identity: string;
      }>(
        `SELECT c.relname AS table, a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type,
                a.attnotnull AS not_null, pg_get_expr(d.adbin, d.adrelid) AS default,
                a.attidentity AS identity
           FROM pg_attribute a
           JOIN pg_class c ON c.oid = a.attrelid
           JOIN pg_namespace n ON n.oid = c.relnamespace
           LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
          WHERE n.nspname = $1 AND c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped
          ORDER BY c.relname, a.attnum`,
        [schema],
      ),
    () =>
      client.query<{ table: string; name: string; definition: string }>(
        `SELECT c.relname AS table, con.conname AS name, pg_get_constraintdef(con.oid) AS definition
           FROM pg_constraint con
           JOIN pg_class c ON c.oid = con.conrelid
           JOIN pg_namespace n ON n.oid = c.relnamespace
          WHERE n.nspname = $1
          ORDER BY c.relname, con.conname`,
        [schema],
      ),
    () =>
      client.query<{ table: string; name: string; definition: string }>(
        `SELECT t.relname AS table, i.relname AS name, pg_get_indexdef(ix.indexrelid) AS definition
           FROM pg_index ix
           JOIN pg_class i ON i.oid = ix.indexrelid
           JOIN pg_class t ON t.oid = ix.indrelid
           JOIN pg_namespace n ON n.oid = t.relnamespace
          WHERE n.nspname = $1
            AND NOT EXISTS (SELECT 1 FROM pg_constraint con WHERE con.conindid = ix.indexrelid
                                                             AND con.conrelid = ix.indrelid)
          ORDER BY t.relname, i.relname`,
        [schema],
      ),
    () =>
      client.query<{ table: string; name: string; definition: string; enabled: string }>(
        `SELECT c.relname AS table, tg.tgname AS name, pg_get_triggerdef(tg.oid) AS definition,
                tg.tgenabled AS enabled
           FROM pg_trigger tg
           JOIN pg_class c ON c.oid = tg.tgrelid
           JOIN pg_namespace n ON n.oid = c.relnamespace
          WHERE n.nspname = $1 AND NOT tg.tgisinternal
          ORDER BY c.relname, tg.tgname`,
        [schema],
      ),
    () => client.query<{ name: string }>("SELECT extname AS name FROM pg_extension"),
    () =>
      client.query<{ name: string; result: string; language: string; body: string }>(
        `SELECT p.proname AS name, pg_get_function_result(p.oid) AS result,
                l.lanname AS language, p.prosrc AS body
           FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
           JOIN pg_language l ON l.oid = p.prolang
          WHERE n.nspname = $1 AND p.proname = ANY($2::text[]) AND p.pronargs = 0`,
        [schema, functionNames],
      ),
  ]);
  const byTable = <R extends { table: string }>(rows: R[], table: string) =>
    rows.filter((r) => r.table === table);
  return {
    tables: tables.rows.map((t) => ({
      name: t.name,
      columns: byTable(columns.rows, t.name).map((c) => ({
        name: c.name,
        type: c.type,
        notNull: c.not_null,
        ...(c.default !== null ? { default: c.default } : {}),
        ...(c.identity === "d" ? { identity: "BY DEFAULT" } : {}),
        ...(c.identity === "a" ? { identity: "ALWAYS" } : {}),
      })),
      constraints: new Map(byTable(constraints.rows, t.name).map((r) => [r.name, r.definition])),
      indexes: new Map(byTable(indexes.rows, t.name).map((r) => [r.name, r.definition])),
      triggers: new Map(byTable(triggers.rows, t.name).map((r) => [r.name, r.definition])),
      triggerStates: new Map(
        byTable(triggers.rows, t.name).map((r) => [r.name, TRIGGER_STATES[r.enabled] ?? "enabled"]),
      ),
    })),
    extensions: new Set(extensions.rows.map((e) => e.name)),
    functions: new Map(
      functions.rows.map((f) => [
        f.name,
        { returns: f.result, language: f.language, body: f.body },
      ]),
    ),
  };
}

/** Tables that are the runner's bookkeeping, not part of the schema. */
const BOOKKEEPING_TABLES = new Set([MIGRATIONS_TABLE, CHECKSUMS_TABLE]);

function describeColumn(c: ColumnShape): string {
  return [
    c.type,
    c.notNull ? "NOT NULL" : undefined,
    c.default !== undefined ? `DEFAULT ${c.default}` : undefined,
    c.identity ? `GENERATED ${c.identity} AS IDENTITY` : undefined,
  ]
    .filter(Boolean)
    .join(" ");
}

function compareNamed(
  object: "constraint" | "index" | "trigger",
  table: string,
  desired: ReadonlyMap<string, string>,
  live: ReadonlyMap<string, string>,
  out: SchemaDifference[],
): void {
  for (const [name, definition] of desired) {
    const actual = live.get(name);
    if (actual === undefined) {
      out.push({
        kind: "missing",
        object,
        table,
        name,
        expected: definition,
        message: `missing ${object} ${name} on ${table}: ${definition}`,
      });
    } else if (actual !== definition) {
      out.push({
        kind: "changed",
        object,
        table,
        name,
        aspect: "definition",
        expected: definition,
        actual,
        message: `${object} ${name} on ${table}: definition is ${actual}, expected ${definition}`,
      });
    }
  }
  for (const [name, actual] of live) {
    if (!desired.has(name)) {
      out.push({
        kind: "extra",
        object,
        table,
        name,
        actual,
        message: `extra ${object} ${name} on ${table}: ${actual}`,
      });
    }
  }
}

function compareColumn(
  table: string,
  want: ColumnShape,
  have: ColumnShape,
  out: SchemaDifference[],
): void {
  const where = `column ${table}.${want.name}`;
  const changed = (aspect: DifferenceAspect, expected: string, actual: string, text: string) =>
    out.push({
      kind: "changed",
      object: "column",
      table,
      name: want.name,
      aspect,
      expected,
      actual,
      message: `${where}: ${text}`,
    });
  if (want.type !== have.type)
    changed("type", want.type, have.type, `type is ${have.type}, expected ${want.type}`);
  if (want.notNull !== have.notNull) {
    const label = (notNull: boolean) => (notNull ? "NOT NULL" : "nullable");
    changed(
      "nullability",
      label(want.notNull),
      label(have.notNull),
      `is ${label(have.notNull)}, expected ${label(want.notNull)}`,
    );
  }
  if ((want.default ?? "") !== (have.default ?? "")) {
    const label = (d: string | undefined) => d ?? "(none)";
    changed(
      "default",
      label(want.default),
      label(have.default),
      `default is ${label(have.default)}, expected ${label(want.default)}`,
    );
  }
  if ((want.identity ?? "") !== (have.identity ?? "")) {
    const label = (i: string | undefined) => (i ? `GENERATED ${i} AS IDENTITY` : "not identity");
    changed(
      "identity",
      label(want.identity),
      label(have.identity),
      `is ${label(have.identity)}, expected ${label(want.identity)}`,
    );
  }
}

/** Runs of whitespace as one space: a body re-indented by a later migration is not drift. */
function normalizeBody(body: string): string {
  return body.replace(/\s+/g, " ").trim();
}

function compareFunction(
  name: string,
  want: FunctionShape,
  have: FunctionShape,
  out: SchemaDifference[],
): void {
  const changed = (aspect: DifferenceAspect, expected: string, actual: string, text: string) =>
    out.push({
      kind: "changed",
      object: "function",
      name,
      aspect,
      expected,
      actual,
      message: `function ${name}(): ${text}`,
    });
  if (want.returns !== have.returns) {
    changed(
      "definition",
      `RETURNS ${want.returns}`,
      `RETURNS ${have.returns}`,
      `returns ${have.returns}, expected ${want.returns}`,
    );
  }
  if (want.language !== have.language) {
    changed(
      "language",
      want.language,
      have.language,
      `language is ${have.language}, expected ${want.language}`,
    );
  }
  const wantBody = normalizeBody(want.body);
  const haveBody = normalizeBody(have.body);
  if (wantBody !== haveBody) {
    changed("body", wantBody, haveBody, `body is "${haveBody}", expected "${wantBody}"`);
  }
}

const TRIGGER_STATE_FIX: Readonly<Record<TriggerState, string>> = {
  enabled: "ENABLE TRIGGER",
  disabled: "DISABLE TRIGGER",
  replica: "ENABLE REPLICA TRIGGER",
  always: "ENABLE ALWAYS TRIGGER",
};

/** A trigger that exists on both sides but does not fire as declared (disabled by hand…). */
function compareTriggerStates(want: TableShape, have: TableShape, out: SchemaDifference[]): void {
  for (const [name, expected] of want.triggerStates) {
    const actual = have.triggerStates.get(name);
    if (actual === undefined || actual === expected) continue;
    out.push({
      kind: "changed",
      object: "trigger",
      table: want.name,
      name,
      aspect: "state",
      expected,
      actual,
      message: `trigger ${name} on ${want.name}: is ${actual}, expected ${expected} (ALTER TABLE ${want.name} ${TRIGGER_STATE_FIX[expected]} ${name})`,
    });
  }
}

/** Every difference between the desired and the live shape, in the desired tables' order. */
export function compareShapes(desired: SchemaShape, live: SchemaShape): SchemaDifference[] {
  const out: SchemaDifference[] = [];
  for (const extension of desired.extensions) {
    if (!live.extensions.has(extension)) {
      out.push({
        kind: "missing",
        object: "extension",
        name: extension,
        message: `missing extension ${extension}`,
      });
    }
  }
  for (const [name, want] of desired.functions) {
    const have = live.functions.get(name);
    if (have === undefined) {
      out.push({
        kind: "missing",
        object: "function",
        name,
        expected: `RETURNS ${want.returns}`,
        message: `missing function ${name}() RETURNS ${want.returns}`,
      });
      continue;
    }
    compareFunction(name, want, have, out);
  }
  const liveTables = new Map(live.tables.map((t) => [t.name, t]));
  for (const want of desired.tables) {
    const have = liveTables.get(want.name);
    if (!have) {
      out.push({
        kind: "missing",
        object: "table",
        name: want.name,
        message: `missing table ${want.name}`,
      });
      continue;
    }
    const haveColumns = new Map(have.columns.map((c) => [c.name, c]));
    for (const column of want.columns) {
      const live = haveColumns.get(column.name);
      if (!live) {
        out.push({
          kind: "missing",
          object: "column",
          table: want.name,
          name: column.name,
          expected: describeColumn(column),
          message: `missing column ${want.name}.${column.name} (${describeColumn(column)})`,
        });
      } else {
        compareColumn(want.name, column, live, out);
      }
    }
    const wantColumns = new Set(want.columns.map((c) => c.name));
    for (const column of have.columns) {
      if (!wantColumns.has(column.name)) {
        out.push({
          kind: "extra",
          object: "column",
          table: want.name,
          name: column.name,
          actual: describeColumn(column),
          message: `extra column ${want.name}.${column.name} (${describeColumn(column)})`,
        });
      }
    }
    compareNamed("constraint", want.name, want.constraints, have.constraints, out);
    compareNamed("index", want.name, want.indexes, have.indexes, out);
    compareNamed("trigger", want.name, want.triggers, have.triggers, out);
    compareTriggerStates(want, have, out);
  }
  const wantTables = new Set(desired.tables.map((t) => t.name));
  for (const table of live.tables) {
    if (!wantTables.has(table.name) && !BOOKKEEPING_TABLES.has(table.name)) {
      out.push({
        kind: "extra",
        object: "table",
        name: table.name,
        message: `extra table ${table.name}`,
      });
    }
  }
  return out;
}

export interface VerifySchemaOptions extends DatabaseTarget {
  /** Default `public`. */
  readonly schema?: string;
  /** Default: every auth table of schema/auth.ts. */
  readonly tables?: readonly PgTable[];
}

/** Compares the live database with schema/auth.ts; `ok` is false on any difference. */
export async function verifySchema(options: VerifySchemaOptions = {}): Promise<VerifyResult> {
  const schema = options.schema ?? "public";
  const desired = desiredShape(options.tables ?? authTableList, schema);
  const client = options.client ?? (await connect(resolveDatabaseUrl(options.databaseUrl)));
  try {
    let live: SchemaShape;
    if (options.client) {
      // Borrowed session: keep its search_path as we found it.
      const { rows } = await client.query<{ path: string }>(
        "SELECT current_setting('search_path') AS path",
      );
      try {
        live = await liveShape(client, schema, [...desired.functions.keys()]);
      } finally {
        await client.query("SELECT set_config('search_path', $1, false)", [rows[0]!.path]);
      }
    } else {
      live = await liveShape(client, schema, [...desired.functions.keys()]);
    }
    const differences = compareShapes(desired, live);
    return { ok: differences.length === 0, schema, differences };
  } finally {
    if (!options.client) await client.end().catch(() => undefined);
  }
}
