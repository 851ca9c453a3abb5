/**
 * Evaluating the analytics views over fixture rows with BigQuery semantics. A view that reads
 * other views gets their evaluated rows as its table contents, as BigQuery resolves a view
 * reference — so every view is tested as written, never inlined or rewritten.
 */
import {
  analyticsViews,
  defaultViewTarget,
  isAnalyticsViewName,
  renderViewSql,
  type AnalyticsViewName,
  type ViewTarget,
} from "../../schema/views";
import {
  encodeTableContents,
  type QueryResult,
  type RawQueryResult,
  type TableContents,
  type ZetaSql,
} from "./analyzer";
import {
  analyticsTableCatalog,
  mergeCatalogs,
  qualifiedTableName,
  type CatalogTable,
} from "./catalog";
import type { ValueProto } from "./proto-types";
import { fromValueProto } from "./values";

/**
 * Evaluates view `name` over `tableContents` (analytics tables by name; missing tables are
 * empty). Views it reads are evaluated first, recursively.
 */
export async function evaluateView(
  zeta: ZetaSql,
  name: AnalyticsViewName,
  tableContents: TableContents,
  target: ViewTarget = defaultViewTarget,
): Promise<QueryResult> {
  const raw = await evaluateViewRaw(zeta, name, tableContents, target, new Map());
  return {
    columns: raw.columns,
    rows: raw.rows.map((cells) =>
      Object.fromEntries(
        raw.columns.map((column, i) => [column.name, fromValueProto(cells[i], column.type)]),
      ),
    ),
  };
}

async function evaluateViewRaw(
  zeta: ZetaSql,
  name: AnalyticsViewName,
  tableContents: TableContents,
  target: ViewTarget,
  evaluated: Map<string, RawQueryResult>,
): Promise<RawQueryResult> {
  const cached = evaluated.get(name);
  if (cached) return cached;
  const tables = analyticsTableCatalog(target);
  const rawContents: Record<string, readonly (readonly ValueProto[])[]> = encodeTableContents(
    tableContents,
    tables,
  );
  const viewTables: CatalogTable[] = [];
  for (const dependency of analyticsViews[name].dependsOn) {
    if (!isAnalyticsViewName(dependency)) continue;
    const result = await evaluateViewRaw(zeta, dependency, tableContents, target, evaluated);
    const tableName = qualifiedTableName(target, dependency);
    viewTables.push({ name: tableName, columns: result.columns });
    rawContents[tableName] = result.rows;
  }
  const catalog = mergeCatalogs(tables, { tables: viewTables });
  const result = await zeta.evaluateQueryRaw(renderViewSql(name, target), rawContents, catalog);
  evaluated.set(name, result);
  return result;
}
