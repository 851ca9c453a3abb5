/**
 * BigQuery table schema in the canonical form the API returns (`tables.get`): canonical type names,
 * an explicit `mode` on every field, fields in declaration order, keys in a fixed order. Emitting
 * exactly that form is what keeps `pulumi preview` free of a perpetual diff on `schema`.
 */
import type { BigQueryMode, BigQueryTable, BigQueryType } from "../dsl/bigquery";

export interface BigQueryField {
  readonly name: string;
  readonly type: BigQueryType;
  readonly mode: BigQueryMode;
  readonly description: string;
  readonly defaultValueExpression?: string;
}

export function bigQuerySchemaFields(table: BigQueryTable): BigQueryField[] {
  return Object.entries(table.columns).map(([name, column]) => {
    const { type, mode, description, defaultValueExpression } = column.spec;
    return defaultValueExpression === undefined
      ? { name, type, mode, description }
      : { name, type, mode, description, defaultValueExpression };
  });
}

/** The `schema` input of `gcp.bigquery.Table`: a JSON string of the field array. */
export function bigQuerySchemaJson(table: BigQueryTable): string {
  return JSON.stringify(bigQuerySchemaFields(table));
}
