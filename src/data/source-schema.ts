/**
 * Before anything is copied: the source's actual columns (information_schema) against `schema/`'s
 * legacy definitions. The conversion trusts those definitions (a DECIMAL(18,6) has at most 12
 * integer digits), so a source that differs could load values the targets cannot hold, or leave a
 * column behind; the run refuses to start and lists every difference, unless told to go on
 * (`acceptSourceTypes`), in which case values the targets cannot hold are rejected row by row.
 * Missing tables and columns cannot be accepted: the copy would have nothing to read.
 */
import type { Connection } from "mysql2/promise";
import { renderMySqlType, type MySqlDataType } from "../../schema/dsl/legacy";
import { ToolError } from "../errors/tool-error";
import { querySource } from "./source";
import type { MigrationTable } from "./table-plan";

/** One column as information_schema.COLUMNS describes it. */
export interface SourceColumn {
  readonly table: string;
  readonly column: string;
  /** `COLUMN_TYPE`, e.g. `decimal(18,6)`, `bigint(20)`, `enum('a','b')`. */
  readonly type: string;
  readonly nullable: boolean;
}

export interface SourceSchemaComparison {
  /** Differences a run may be told to accept (`--accept-source-types`). */
  readonly differences: readonly string[];
  /** Missing tables and columns: no run can copy them. */
  readonly missing: readonly string[];
}

/** The source differs from `schema/`'s legacy definitions; nothing was copied. */
export class SourceSchemaMismatchError extends ToolError {
  constructor(message: string) {
    super("mismatch", message);
  }
}

const INTEGER_TYPES = new Set(["tinyint", "smallint", "mediumint", "int", "bigint"]);

/**
 * A MySQL column type in one spelling: lower case, no spaces, aliases resolved, integer display
 * widths dropped (`bigint(20)` = `BIGINT`), except `tinyint(1)`, which is how BOOLEAN is stored.
 * ENUM values keep their case. MariaDB stores JSON as LONGTEXT (with a json_valid CHECK), so
 * `longtext` is read as JSON where schema/ says JSON (see `sameType`).
 */
export function normalizeMysqlType(type: string): string {
  const m = /^\s*([A-Za-z]+)\s*(\((?:[^()']|'(?:[^']|'')*')*\))?\s*(.*)$/.exec(type);
  if (!m) return type.trim().toLowerCase();
  let base = m[1].toLowerCase();
  let args = (m[2] ?? "").replace(/\s+(?=(?:[^']*'[^']*')*[^']*$)/g, "");
  const rest = m[3].toLowerCase();
  const unsigned = /\bunsigned\b/.test(rest) ? " unsigned" : "";
  const zerofill = /\bzerofill\b/.test(rest) ? " zerofill" : "";
  if (base === "integer") base = "int";
  if (base === "numeric" || base === "dec" || base === "fixed") base = "decimal";
  if (base === "bool" || base === "boolean") return "tinyint(1)";
  if (INTEGER_TYPES.has(base) && !(base === "tinyint" && args === "(1)")) args = "";
  if (base === "decimal") {
    if (args === "") args = "(10,0)";
    else if (!args.includes(",")) args = `${args.slice(0, -1)},0)`;
  }
  if ((base === "char" || base === "binary") && args === "") args = "(1)";
  if (base === "datetime" || base === "timestamp" || base === "time") {
    if (args === "(0)") args = "";
  }
  if (base === "enum" || base === "set") return `${base}${args}`;
  return `${base}${args}${unsigned}${zerofill}`;
}

/**
 * How information_schema spells a type of `schema/`'s legacy definitions, in the spelling of
 * `normalizeMysqlType`: `decimal(18,6)`, `varchar(128)`, `tinyint(1)` for BOOLEAN.
 */
export function informationSchemaType(type: MySqlDataType): string {
  switch (type.type) {
    case "VARCHAR":
    case "CHAR":
      return `${type.type.toLowerCase()}(${type.length})`;
    case "ENUM":
      return `enum(${type.values.map((v) => `'${v.replace(/'/g, "''")}'`).join(",")})`;
    case "DECIMAL":
      return `decimal(${type.precision},${type.scale})`;
    case "DATETIME":
      return type.fsp === 0 ? "datetime" : `datetime(${type.fsp})`;
    case "BOOLEAN":
      return "tinyint(1)";
    case "BIGINT":
    case "INT":
    case "TEXT":
    case "DATE":
    case "JSON":
      return type.type.toLowerCase();
    default: {
      const unknown: never = type;
      throw new Error(`unknown legacy type ${JSON.stringify(unknown)}`);
    }
  }
}

function sameType(source: string, defined: MySqlDataType): boolean {
  const actual = normalizeMysqlType(source);
  return (
    actual === informationSchemaType(defined) || (defined.type === "JSON" && actual === "longtext")
  );
}

/** Every difference between the source's columns and the tables' legacy definitions. */
export function compareSourceColumns(
  tables: readonly MigrationTable[],
  sourceColumns: readonly SourceColumn[],
): SourceSchemaComparison {
  const differences: string[] = [];
  const missing: string[] = [];
  for (const table of tables) {
    const actual = new Map(
      sourceColumns.filter((c) => c.table === table.legacyTable).map((c) => [c.column, c]),
    );
    if (actual.size === 0) {
      missing.push(`table ${table.legacyTable} is missing`);
      continue;
    }
    for (const column of table.columns) {
      const name = `${table.legacyTable}.${column.legacy.column}`;
      const found = actual.get(column.legacy.column);
      if (!found) {
        missing.push(`${name} is missing`);
        continue;
      }
      if (!sameType(found.type, column.legacy)) {
        differences.push(`${name} is ${found.type} (schema/: ${renderMySqlType(column.legacy)})`);
      }
      if (found.nullable && column.legacy.notNull) {
        differences.push(`${name} allows NULL (schema/: NOT NULL)`);
      }
    }
    const read = new Set(table.columns.map((c) => c.legacy.column));
    for (const column of actual.keys()) {
      if (!read.has(column)) {
        differences.push(
          `${table.legacyTable}.${column} is not in schema/ (its values would not be migrated)`,
        );
      }
    }
  }
  return { differences, missing };
}

/** The source's columns of the database the connection uses. */
export async function readSourceColumns(connection: Connection): Promise<SourceColumn[]> {
  const rows = (await querySource(connection, {
    sql:
      "SELECT TABLE_NAME, COLUMN_NAME, COLUMN_TYPE, IS_NULLABLE FROM information_schema.COLUMNS " +
      "WHERE TABLE_SCHEMA = DATABASE() ORDER BY TABLE_NAME, ORDINAL_POSITION",
    rowsAsArray: true,
  })) as [string, string, string, string][];
  return rows.map(([table, column, type, nullable]) => ({
    table,
    column,
    type,
    nullable: nullable === "YES",
  }));
}

export const ACCEPT_SOURCE_TYPES_FLAG = "--accept-source-types";

/**
 * Refuses (throws `SourceSchemaMismatchError`) when the source lacks a table or column, or differs
 * from schema/ and `accept` is false; returns the accepted differences otherwise.
 */
export async function checkSourceSchema(
  connection: Connection,
  tables: readonly MigrationTable[],
  accept: boolean,
): Promise<readonly string[]> {
  const { differences, missing } = compareSourceColumns(
    tables,
    await readSourceColumns(connection),
  );
  if (missing.length > 0) {
    throw new SourceSchemaMismatchError(
      `the source lacks what schema/'s legacy definitions read: ${missing.join("; ")}; nothing was copied (check the database in --source, or leave the table out with --tables)`,
    );
  }
  if (differences.length > 0 && !accept) {
    throw new SourceSchemaMismatchError(
      `the source's columns differ from schema/'s legacy definitions: ${differences.join("; ")}; nothing was copied. Fix the source or schema/, or pass ${ACCEPT_SOURCE_TYPES_FLAG} to copy anyway (values a target cannot hold are then rejected row by row)`,
    );
  }
  return differences;
}
