/**
 * The desired Postgres auth schema (schema/auth.ts) as deterministic JSON: tables in foreign-key
 * order, columns in declaration order, every derived constraint, index and trigger name. Written
 * to `postgres/schema.json` by `schema export`, so a review sees a schema change as a JSON diff.
 */
import { authTableList, requiredExtensions } from "../auth";
import { renderMySqlDefinition } from "../dsl/legacy";
import { formatPgType, TOUCH_UPDATED_AT_FUNCTION, type PgTable } from "../dsl/postgres";

export interface PostgresColumnJson {
  readonly name: string;
  readonly type: string;
  readonly nullable: boolean;
  readonly default: string | null;
  readonly identity: "by default" | null;
  readonly primaryKey: boolean;
  readonly unique: boolean;
  readonly allowedValues: readonly string[] | null;
  readonly description: string;
  readonly legacy: { readonly column: string; readonly definition: string } | null;
}

export interface PostgresTableJson {
  readonly name: string;
  readonly description: string;
  readonly legacy: { readonly table: string; readonly keys: readonly string[] } | null;
  readonly columns: readonly PostgresColumnJson[];
  readonly primaryKey: { readonly name: string; readonly columns: readonly string[] };
  readonly uniques: readonly { readonly name: string; readonly columns: readonly string[] }[];
  readonly foreignKeys: readonly {
    readonly name: string;
    readonly column: string;
    readonly references: { readonly table: string; readonly column: string };
    readonly onDelete: string;
  }[];
  readonly checks: readonly {
    readonly name: string;
    readonly column: string;
    readonly values: readonly string[];
  }[];
  readonly indexes: readonly {
    readonly name: string;
    readonly columns: readonly string[];
    readonly where: string | null;
  }[];
  readonly triggers: readonly {
    readonly name: string;
    readonly column: string;
    readonly function: string;
  }[];
}

export interface PostgresSchemaJson {
  readonly database: "synter";
  readonly extensions: readonly string[];
  readonly tables: readonly PostgresTableJson[];
}

export function postgresTableJson(table: PgTable): PostgresTableJson {
  return {
    name: table.name,
    description: table.options.description,
    legacy: table.options.legacy
      ? { table: table.options.legacy.table, keys: [...table.options.legacy.keys] }
      : null,
    columns: Object.entries(table.columns).map(([name, column]) => {
      const spec = column.spec;
      return {
        name,
        type: formatPgType(spec),
        nullable: !spec.notNull,
        default: spec.default ?? null,
        identity: spec.identity ? "by default" : null,
        primaryKey: spec.primaryKey,
        unique: spec.unique,
        allowedValues: spec.allowedValues ? [...spec.allowedValues] : null,
        description: spec.description,
        legacy: spec.legacy
          ? { column: spec.legacy.column, definition: renderMySqlDefinition(spec.legacy) }
          : null,
      };
    }),
    primaryKey: { name: table.primaryKey.name, columns: [...table.primaryKey.columns] },
    uniques: table.uniques.map((u) => ({ name: u.name, columns: [...u.columns] })),
    foreignKeys: table.foreignKeys.map((fk) => ({
      name: fk.name,
      column: fk.fromColumn,
      references: { table: fk.table, column: fk.column },
      onDelete: fk.onDelete,
    })),
    checks: table.checks.map((c) => ({ name: c.name, column: c.column, values: [...c.values] })),
    indexes: table.indexes.map((i) => ({
      name: i.name,
      columns: [...i.columns],
      where: i.where ?? null,
    })),
    triggers: table.triggers.map((t) => ({
      name: t.name,
      column: t.column,
      function: TOUCH_UPDATED_AT_FUNCTION,
    })),
  };
}

export function postgresSchemaJson(): PostgresSchemaJson {
  return {
    database: "synter",
    extensions: [...requiredExtensions],
    tables: authTableList.map(postgresTableJson),
  };
}

/** Pretty-printed with a trailing newline, as written to disk. */
export function renderPostgresSchemaJson(): string {
  return `${JSON.stringify(postgresSchemaJson(), null, 2)}\n`;
}
