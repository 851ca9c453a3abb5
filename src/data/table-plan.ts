/**
 * What the data migration moves, derived from `schema/` alone: for each legacy table, its target
 * (Postgres for the auth tables, BigQuery for the analytics tables), its key, and per column the
 * legacy source column and the kind of value conversion its legacy definition calls for. No table
 * is special-cased here: a column added to `schema/` with a `.from(my.…)` is migrated.
 */
import { analyticsTableList, authTableList } from "../../schema";
import { ToolError } from "../errors/tool-error";
import type { BigQueryColumnSpec, BigQueryTable } from "../../schema/dsl/bigquery";
import {
  renderMySqlDefinition,
  type LegacyColumn,
  type MySqlDataType,
} from "../../schema/dsl/legacy";
import type { PgColumnSpec, PgTable } from "../../schema/dsl/postgres";

/** How a legacy value is checked and normalised on its way to the target. */
export type ValueKind =
  | { readonly kind: "integer" }
  | { readonly kind: "string" }
  | { readonly kind: "enum"; readonly values: readonly string[] }
  | { readonly kind: "decimal"; readonly scale: number }
  | { readonly kind: "datetime" }
  | { readonly kind: "date" }
  | { readonly kind: "boolean" }
  | { readonly kind: "json" };

/**
 * What the target column can hold beyond its value kind, from `schema/`'s target type. The
 * legacy database may hold more than its definition in `schema/` says (a wider DECIMAL, a longer
 * VARCHAR): a value the target would refuse, or silently change, is rejected with its row instead.
 */
export interface TargetLimits {
  /** The target type as reasons name it: `numeric(10,2)`, `BigQuery NUMERIC`. */
  readonly type: string;
  /** Decimals: digits before and after the point. */
  readonly integerDigits?: number;
  readonly fractionDigits?: number;
  /** Integers: the target's range. */
  readonly min?: bigint;
  readonly max?: bigint;
  /** Strings: length in characters. */
  readonly maxLength?: number;
  /** Postgres text cannot hold U+0000 (COPY refuses it); BigQuery STRING can. */
  readonly noNul?: boolean;
}

export interface MigrationColumn {
  /** Column name in the target table. */
  readonly name: string;
  readonly legacy: LegacyColumn;
  readonly value: ValueKind;
  /** The target refuses NULL here (legacy NOT NULL, or BigQuery REQUIRED). */
  readonly notNull: boolean;
  /**
   * The target has a default value of its own for the column (a BigQuery default value
   * expression), which a load puts where the column's value is missing.
   */
  readonly targetDefault?: boolean;
  /** Absent: no limit beyond the value kind. */
  readonly limits?: TargetLimits;
  /** A foreign key of the target (Postgres): the referenced table and column, by target names. */
  readonly references?: { readonly table: string; readonly column: string };
}

export interface MigrationTable {
  /** Target table name (also the name used in `--tables`, checkpoints and reports). */
  readonly name: string;
  readonly target: "postgres" | "bigquery";
  readonly legacyTable: string;
  /** The single-column primary key the table is read by (keyset pagination). */
  readonly key: MigrationColumn;
  readonly columns: readonly MigrationColumn[];
}

/** The conversion a legacy type calls for: ENUM values and the DECIMAL scale come along. */
export function valueKindOf(type: MySqlDataType): ValueKind {
  switch (type.type) {
    case "BIGINT":
    case "INT":
      return { kind: "integer" };
    case "VARCHAR":
    case "CHAR":
    case "TEXT":
      return { kind: "string" };
    case "ENUM":
      return { kind: "enum", values: type.values };
    case "DECIMAL":
      return { kind: "decimal", scale: type.scale };
    case "DATETIME":
      return { kind: "datetime" };
    case "DATE":
      return { kind: "date" };
    case "BOOLEAN":
      return { kind: "boolean" };
    case "JSON":
      return { kind: "json" };
    default: {
      const unknown: never = type;
      throw new Error(`legacy type ${JSON.stringify(unknown)} has no value conversion`);
    }
  }
}

function keyColumnName(keys: readonly string[], table: string): string {
  const primary = keys.map((k) => /^PRIMARY KEY\s*\(\s*(\w+)\s*\)$/i.exec(k)).find(Boolean);
  if (!primary) throw new Error(`legacy table ${table} needs a single-column PRIMARY KEY`);
  return primary[1];
}

const INT32 = { min: -(2n ** 31n), max: 2n ** 31n - 1n };
const INT64 = { min: -(2n ** 63n), max: 2n ** 63n - 1n };
/** BigQuery NUMERIC: precision 38, scale 9. */
const BIGQUERY_NUMERIC = { integerDigits: 29, fractionDigits: 9 };

/** Limits of a Postgres column type (`schema/dsl/postgres.ts`). */
export function postgresLimits(spec: PgColumnSpec): TargetLimits | undefined {
  const args = spec.typeArgs ?? [];
  switch (spec.type) {
    case "numeric":
      if (args.length < 2) return { type: "numeric" };
      return {
        type: `numeric(${args[0]},${args[1]})`,
        integerDigits: args[0] - args[1],
        fractionDigits: args[1],
      };
    case "integer":
      return { type: "integer", ...INT32 };
    case "bigint":
      return { type: "bigint", ...INT64 };
    case "character varying":
    case "character":
      return {
        type: `${spec.type}(${args[0]})`,
        ...(args[0] === undefined ? {} : { maxLength: args[0] }),
        noNul: true,
      };
    case "text":
    case "citext":
      return { type: spec.type, noNul: true };
    default:
      return undefined;
  }
}

/** Limits of a BigQuery column type. */
export function bigQueryLimits(spec: BigQueryColumnSpec): TargetLimits | undefined {
  switch (spec.type) {
    case "NUMERIC":
      return { type: "BigQuery NUMERIC", ...BIGQUERY_NUMERIC };
    case "INTEGER":
      return { type: "BigQuery INTEGER", ...INT64 };
    default:
      return undefined;
  }
}

function fromPostgres(table: PgTable): MigrationTable | undefined {
  const legacy = table.options.legacy;
  if (!legacy) return undefined;
  const columns = Object.entries(table.columns)
    .filter(([, c]) => c.spec.legacy)
    .map(([name, c]) => {
      const limits = postgresLimits(c.spec);
      const fk = c.spec.references;
      return {
        name,
        legacy: c.spec.legacy!,
        value: valueKindOf(c.spec.legacy!),
        notNull: c.spec.notNull,
        ...(limits ? { limits } : {}),
        ...(fk ? { references: { table: fk.table, column: fk.column } } : {}),
      };
    });
  return build(table.name, "postgres", legacy.table, legacy.keys, columns);
}

function fromBigQuery(table: BigQueryTable): MigrationTable {
  const legacy = table.options.legacy;
  const columns = Object.entries(table.columns)
    .filter(([, c]) => c.spec.legacy)
    .map(([name, c]) => {
      const limits = bigQueryLimits(c.spec);
      return {
        name,
        legacy: c.spec.legacy!,
        value: valueKindOf(c.spec.legacy!),
        notNull: c.spec.mode === "REQUIRED",
        ...(c.spec.defaultValueExpression === undefined ? {} : { targetDefault: true }),
        ...(limits ? { limits } : {}),
      };
    });
  return build(table.name, "bigquery", legacy.table, legacy.keys, columns);
}

function build(
  name: string,
  target: MigrationTable["target"],
  legacyTable: string,
  keys: readonly string[],
  columns: MigrationColumn[],
): MigrationTable {
  const keyName = keyColumnName(keys, legacyTable);
  const key = columns.find((c) => c.legacy.column === keyName);
  if (!key || key.value.kind !== "integer") {
    throw new Error(
      `${name}: key column ${keyName} must be an integer column with a legacy source`,
    );
  }
  return { name, target, legacyTable, key, columns };
}

/**
 * Every table with a legacy source: the auth tables first, in foreign-key order (parents before
 * children, as `schema/auth.ts` lists them), then the analytics tables.
 */
export function migrationTables(): MigrationTable[] {
  const auth = authTableList.map(fromPostgres).filter((t): t is MigrationTable => t !== undefined);
  return [...auth, ...analyticsTableList.map(fromBigQuery)];
}

/** `--tables` names a table that has no legacy source. */
export class UnknownTableError extends ToolError {
  constructor(message: string) {
    super("usage", message);
  }
}

/** The tables named by `--tables` (in migration order), or all; unknown names are an error. */
export function selectTables(names: readonly string[] | undefined): MigrationTable[] {
  const all = migrationTables();
  if (!names || names.length === 0) return all;
  const unknown = names.filter((n) => !all.some((t) => t.name === n));
  if (unknown.length > 0) {
    throw new UnknownTableError(
      `unknown table(s) ${unknown.join(", ")}; tables with a legacy source: ${all.map((t) => t.name).join(", ")}`,
    );
  }
  return all.filter((t) => names.includes(t.name));
}

/** `CREATE TABLE` of the legacy table, rendered from the legacy definitions in `schema/`. */
export function renderLegacyDdl(table: MigrationTable): string {
  const lines = [
    ...table.columns.map((c) => `  \`${c.legacy.column}\` ${renderMySqlDefinition(c.legacy)}`),
    ...legacyKeysOf(table).map((k) => `  ${k}`),
  ];
  return `CREATE TABLE \`${table.legacyTable}\` (\n${lines.join(",\n")}\n) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci`;
}

function legacyKeysOf(table: MigrationTable): readonly string[] {
  const pg = authTableList.find((t) => t.name === table.name && t.options.legacy);
  if (pg) return pg.options.legacy!.keys;
  return analyticsTableList.find((t) => t.name === table.name)!.options.legacy.keys;
}
