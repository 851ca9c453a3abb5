/**
 * What the data migration moves, derived from `schema/` alone: for each legacy table, its target
 * (Postgres for the auth tables, BigQuery for the analytics tables), its key, and per column the
 * legacy source column and the kind of value conversion its legacy definition calls for. No table
 * is special-cased here: a column added to `schema/` with a `.from(...)` is migrated.
 */
import { analyticsTableList, authTableList } from "../../schema";
import type { BigQueryTable } from "../../schema/dsl/bigquery";
import type { LegacyColumn } from "../../schema/dsl/legacy";
import type { PgTable } from "../../schema/dsl/postgres";

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

export interface MigrationColumn {
  /** Column name in the target table. */
  readonly name: string;
  readonly legacy: LegacyColumn;
  readonly value: ValueKind;
  /** The target refuses NULL here (legacy NOT NULL, or BigQuery REQUIRED). */
  readonly notNull: boolean;
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

/** `ENUM('a','b')` → ["a","b"]; `DECIMAL(18,6)` → 6; other kinds from the base type. */
export function valueKindOf(definition: string): ValueKind {
  const enumMatch = /^ENUM\s*\(((?:\s*'(?:[^']|'')*'\s*,?)+)\)/i.exec(definition);
  if (enumMatch) {
    const values = [...enumMatch[1].matchAll(/'((?:[^']|'')*)'/g)].map((m) =>
      m[1].replace(/''/g, "'"),
    );
    return { kind: "enum", values };
  }
  const decimal = /^(?:DECIMAL|NUMERIC)\s*\(\s*\d+\s*,\s*(\d+)\s*\)/i.exec(definition);
  if (decimal) return { kind: "decimal", scale: Number(decimal[1]) };
  const base = /^([A-Z]+)/i.exec(definition)?.[1].toUpperCase();
  switch (base) {
    case "BIGINT":
    case "INT":
    case "INTEGER":
    case "SMALLINT":
      return { kind: "integer" };
    case "VARCHAR":
    case "CHAR":
    case "TEXT":
    case "MEDIUMTEXT":
    case "LONGTEXT":
      return { kind: "string" };
    case "DATETIME":
    case "TIMESTAMP":
      return { kind: "datetime" };
    case "DATE":
      return { kind: "date" };
    case "BOOLEAN":
    case "BOOL":
      return { kind: "boolean" };
    case "JSON":
      return { kind: "json" };
    default:
      throw new Error(`legacy definition "${definition}" has no value conversion`);
  }
}

function keyColumnName(keys: readonly string[], table: string): string {
  const primary = keys.map((k) => /^PRIMARY KEY\s*\(\s*(\w+)\s*\)$/i.exec(k)).find(Boolean);
  if (!primary) throw new Error(`legacy table ${table} needs a single-column PRIMARY KEY`);
  return primary[1];
}

function fromPostgres(table: PgTable): MigrationTable | undefined {
  const legacy = table.options.legacy;
  if (!legacy) return undefined;
  const columns = Object.entries(table.columns)
    .filter(([, c]) => c.spec.legacy)
    .map(([name, c]) => ({
      name,
      legacy: c.spec.legacy!,
      value: valueKindOf(c.spec.legacy!.definition),
      notNull: c.spec.notNull,
    }));
  return build(table.name, "postgres", legacy.table, legacy.keys, columns);
}

function fromBigQuery(table: BigQueryTable): MigrationTable {
  const legacy = table.options.legacy;
  const columns = Object.entries(table.columns)
    .filter(([, c]) => c.spec.legacy)
    .map(([name, c]) => ({
      name,
      legacy: c.spec.legacy!,
      value: valueKindOf(c.spec.legacy!.definition),
      notNull: c.spec.mode === "REQUIRED",
    }));
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

/** The tables named by `--tables` (in migration order), or all; unknown names are an error. */
export function selectTables(names: readonly string[] | undefined): MigrationTable[] {
  const all = migrationTables();
  if (!names || names.length === 0) return all;
  const unknown = names.filter((n) => !all.some((t) => t.name === n));
  if (unknown.length > 0) {
    throw new Error(
      `unknown table(s) ${unknown.join(", ")}; tables with a legacy source: ${all.map((t) => t.name).join(", ")}`,
    );
  }
  return all.filter((t) => names.includes(t.name));
}

/** `CREATE TABLE` of the legacy table, rendered from the legacy definitions in `schema/`. */
export function renderLegacyDdl(table: MigrationTable): string {
  const lines = [
    ...table.columns.map((c) => `  \`${c.legacy.column}\` ${c.legacy.definition}`),
    ...legacyKeysOf(table).map((k) => `  ${k}`),
  ];
  return `CREATE TABLE \`${table.legacyTable}\` (\n${lines.join(",\n")}\n) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci`;
}

function legacyKeysOf(table: MigrationTable): readonly string[] {
  const pg = authTableList.find((t) => t.name === table.name && t.options.legacy);
  if (pg) return pg.options.legacy!.keys;
  return analyticsTableList.find((t) => t.name === table.name)!.options.legacy.keys;
}
