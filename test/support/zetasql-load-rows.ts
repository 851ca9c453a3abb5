/**
 * Load-file rows (NDJSON lines as BigQuery loads them) as ZetaSQL table cells, exactly: INTEGER as
 * digits, NUMERIC as scaled bytes, TIMESTAMP as seconds + nanos, JSON as the member's own text (a
 * JSON.parse would round its numbers through a double). ZetaSQL then evaluates BigQuery SQL — the
 * checksum query — over the rows a load put in a table.
 */
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
  return lines.map((line) => {
    const object = JSON.parse(line) as Record<string, unknown>;
    const rawJson = new Map<string, string>();
    for (const c of table.columns.filter((x) => x.value.kind === "json")) {
      rawJson.set(c.name, jsonMemberText(line, c.name));
    }
    return catalogColumns.map((col) => {
      const v = object[col.name];
      if (v === null || v === undefined) return {};
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

/** The text of a top-level member's value in one NDJSON line. */
export function jsonMemberText(line: string, name: string): string {
  const marker = `${JSON.stringify(name)}:`;
  let i = line.indexOf(marker) + marker.length;
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
