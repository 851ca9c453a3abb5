/**
 * A small typed DSL for BigQuery tables, in the spirit of drizzle's table builders: the object key
 * is the column name, modifiers narrow the inferred row type (`.required()` removes `null`), table
 * settings go in the third argument. Pure data: no Pulumi, no cloud client.
 */
import { legacyColumnOf, legacyColumnProblems, nameLegacyColumns } from "./legacy";
import type { LegacyColumn, LegacyTable, MySqlColumn } from "./legacy";
import { invalidTable } from "../errors";

/** BigQuery's canonical (API) type names; the legacy SQL aliases (INT64, BOOL) never appear. */
export type BigQueryType =
  "INTEGER" | "STRING" | "NUMERIC" | "TIMESTAMP" | "DATE" | "BOOLEAN" | "JSON";
export type BigQueryMode = "NULLABLE" | "REQUIRED";

/** How a value of each type travels in JSON rows (load files, query results): exact, never float. */
interface JsValueOf {
  INTEGER: string;
  STRING: string;
  NUMERIC: string;
  TIMESTAMP: string;
  DATE: string;
  BOOLEAN: boolean;
  JSON: unknown;
}

export interface BigQueryColumnSpec {
  readonly type: BigQueryType;
  readonly mode: BigQueryMode;
  readonly description: string;
  readonly legacy?: LegacyColumn;
  /** Values a STRING column may hold (a legacy ENUM); the loader rejects anything else. */
  readonly allowedValues?: readonly string[];
  /** BigQuery default value expression, e.g. `CURRENT_TIMESTAMP()`. */
  readonly defaultValueExpression?: string;
}

export class BigQueryColumn<T extends BigQueryType, M extends BigQueryMode> {
  /** Phantom field carrying the inferred JS type; never set at run time. */
  declare readonly $value: M extends "REQUIRED" ? JsValueOf[T] : JsValueOf[T] | null;

  constructor(readonly spec: BigQueryColumnSpec & { readonly type: T; readonly mode: M }) {}

  required(): BigQueryColumn<T, "REQUIRED"> {
    return new BigQueryColumn({ ...this.spec, mode: "REQUIRED" });
  }

  describe(description: string): BigQueryColumn<T, M> {
    return new BigQueryColumn({ ...this.spec, description });
  }

  /** The legacy column this one is loaded from: `.from(my.varchar(128))`, named by its key. */
  from(definition: MySqlColumn): BigQueryColumn<T, M> {
    return new BigQueryColumn({ ...this.spec, legacy: legacyColumnOf(definition) });
  }

  oneOf(values: readonly string[]): BigQueryColumn<T, M> {
    return new BigQueryColumn({ ...this.spec, allowedValues: values });
  }

  defaultExpression(expression: string): BigQueryColumn<T, M> {
    return new BigQueryColumn({ ...this.spec, defaultValueExpression: expression });
  }
}

function column<T extends BigQueryType>(type: T): BigQueryColumn<T, "NULLABLE"> {
  return new BigQueryColumn({ type, mode: "NULLABLE", description: "" });
}

export const bq = {
  int64: () => column("INTEGER"),
  string: () => column("STRING"),
  numeric: () => column("NUMERIC"),
  timestamp: () => column("TIMESTAMP"),
  date: () => column("DATE"),
  bool: () => column("BOOLEAN"),
  json: () => column("JSON"),
};

export type AnyBigQueryColumn = BigQueryColumn<BigQueryType, BigQueryMode>;
export type BigQueryColumns = Record<string, AnyBigQueryColumn>;

export interface BigQueryTableOptions<C extends BigQueryColumns> {
  readonly description: string;
  /** Daily partitioning on a DATE or TIMESTAMP column. */
  readonly partitionBy: Extract<keyof C, string>;
  /** Up to four clustering columns, most selective filter first. */
  readonly clusterBy: readonly Extract<keyof C, string>[];
  /** The legacy table the rows come from, with its keys. */
  readonly legacy: LegacyTable;
}

export interface BigQueryTable<C extends BigQueryColumns = BigQueryColumns> {
  readonly kind: "bigquery";
  readonly name: string;
  readonly columns: C;
  /** Settings with column names widened to string, so every table fits `BigQueryTable`. */
  readonly options: BigQueryTableOptions<BigQueryColumns>;
  /** Phantom: the row type, as `typeof table.$inferRow`. */
  readonly $inferRow: { [K in keyof C]: C[K]["$value"] };
}

export function bigQueryTable<C extends BigQueryColumns>(
  name: string,
  columns: C,
  options: BigQueryTableOptions<C>,
): BigQueryTable<C> {
  const named = nameLegacyColumns(
    columns,
    (column, legacy) => new BigQueryColumn({ ...column.spec, legacy }) as typeof column,
  );
  const problems = validateBigQueryTable(
    name,
    named,
    options as BigQueryTableOptions<BigQueryColumns>,
  );
  if (problems.length > 0) {
    throw invalidTable(name, problems);
  }
  return { kind: "bigquery", name, columns: named, options } as BigQueryTable<C>;
}

/** Every problem of a table definition, so a mistake in `schema/` is reported whole. */
export function validateBigQueryTable(
  name: string,
  columns: BigQueryColumns,
  options: BigQueryTableOptions<BigQueryColumns>,
): string[] {
  const problems: string[] = [];
  if (!/^[a-z][a-z0-9_]*$/.test(name)) problems.push(`table name "${name}" must be snake_case`);
  for (const [columnName, col] of Object.entries(columns)) {
    if (!/^[a-z][a-z0-9_]*$/.test(columnName))
      problems.push(`column "${columnName}" must be snake_case`);
    if (col.spec.description.trim() === "")
      problems.push(`column ${columnName} has no description`);
    if (col.spec.allowedValues && col.spec.type !== "STRING") {
      problems.push(`column ${columnName}: allowed values need a STRING column`);
    }
  }
  problems.push(...legacyColumnProblems(columns));
  const partition = columns[options.partitionBy];
  if (!partition) {
    problems.push(`partition column ${options.partitionBy} does not exist`);
  } else if (partition.spec.type !== "DATE" && partition.spec.type !== "TIMESTAMP") {
    problems.push(`partition column ${options.partitionBy} must be DATE or TIMESTAMP`);
  }
  if (options.clusterBy.length > 4)
    problems.push("BigQuery allows at most four clustering columns");
  for (const c of options.clusterBy) {
    if (!columns[c]) problems.push(`clustering column ${c} does not exist`);
  }
  return problems;
}
