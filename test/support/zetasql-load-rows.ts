/**
 * Load-file rows (NDJSON lines as BigQuery loads them) as ZetaSQL table cells, exactly: INTEGER as
 * digits, NUMERIC as scaled bytes, TIMESTAMP as seconds + nanos, JSON as the member's own text (a
 * JSON.parse would round its numbers through a double). ZetaSQL then evaluates BigQuery SQL — the
 * checksum query — over the rows a load put in a table. A field the line leaves out is what BigQuery's
 * loader makes of it: the column's default value where it has one, else NULL (which a REQUIRED
 * column refuses when the query runs).
 */
import { analyticsTables, type BigQueryTable } from "../../schema";
import { analyticsTableCatalog } from "../../src/zetasql/catalog";
import type { ValueProto } from "../../src/zetasql/proto-types";
import { encodeNumeric, parseDate, parseTimestamp } from "../../src/zetasql/values";
import type { MigrationTable } from "../../src/data/table-plan";

export function zetaSqlCellsOfLines(
  lines: readonly string[],
  table: MigrationTable,
  target: { project: string; dataset: string },
): ValueProto[][] {
  const catalogColumns = analyticsTableCatalog(target).tables.find(
    (t) => t.name === `${target.project}.${target.dataset}.${table.name}`,
  )!.columns;
  const schemaTable: BigQueryTable = Object.values(analyticsTables).find(
    (t) => t.name === table.name,
  )!;
  const schemaColumns = schemaTable.columns;
  const loadedAt = new Date();
  return lines.map((line) => {
    const object = JSON.parse(line) as Record<string, unknown>;
    const rawJson = new Map<string, string>();
    for (const c of table.columns.filter((x) => x.value.kind === "json")) {
      const text = jsonMemberText(line, c.name);
      if (text !== undefined) rawJson.set(c.name, text);
    }
    return catalogColumns.map((col) => {
      const v = object[col.name];
      if (v === undefined) {
        const expression = schemaColumns[col.name].spec.defaultValueExpression;
        if (expression === undefined) return {};
        if (expression !== "CURRENT_TIMESTAMP()") {
          throw new Error(`the stand-in has no value for the default ${expression} of ${col.name}`);
        }
        return { timestampValue: parseTimestamp(loadedAt) };
      }
      if (v === null) return {};
      switch (col.type) {
        case "INTEGER":
          return { int64Value: v as string };
        case "NUMERIC":
          return { numericValue: encodeNumeric(v as string) };
        case "TIMESTAMP":
          return { timestampValue: parseTimestamp(v as string) };
        case "DATE":
          return { dateValue: parseDate(v as string) };
        case "BOOLEAN":
          return { boolValue: v as boolean };
        case "JSON":
          return { jsonValue: rawJson.get(col.name)! };
        default:
          return { stringValue: v as string };
      }
    });
  });
}

/** The text of a top-level member's value in one NDJSON line; undefined where it has none. */
export function jsonMemberText(line: string, name: string): string | undefined {
  const marker = `${JSON.stringify(name)}:`;
  const at = line.indexOf(marker);
  if (at < 0) return undefined;
  let i = at + marker.length;
  const start = i;
  let depth = 0;
  for (; i < line.length; i++) {
    const c = line[i];
    if (c === '"') {
      for (i++; line[i] !== '"'; i++) if (line[i] === "\\") i++;
    } else if (c === "{" || c === "[") depth++;
    else if (c === "}" || c === "]") {
      if (depth === 0) break;
      depth--;
    } else if (c === "," && depth === 0) break;
  }
  return line.slice(start, i);
}
