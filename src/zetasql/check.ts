/**
 * Analyzes project SQL against the schema/ catalog, in order: a source that defines a view is
 * registered as a table (with the columns ZetaSQL resolved) for the sources after it, so a view
 * reading another view is checked against the real shape of that view.
 */
import type { ViewTarget } from "../../schema/views";
import type { ZetaSql, OutputColumn } from "./analyzer";
import {
  analyticsTableCatalog,
  mergeCatalogs,
  qualifiedTableName,
  type SqlCatalog,
} from "./catalog";
import type { ProjectSqlSource } from "./project-sql";

export interface SqlCheckResult {
  readonly name: string;
  readonly file: string;
  readonly ok: boolean;
  /** Position in `file` (mapped back from the rendered SQL). */
  readonly line?: number;
  readonly column?: number;
  readonly message?: string;
  /** Output columns when the source analyzed. */
  readonly outputColumns?: readonly OutputColumn[];
}

export interface SqlCheckReport {
  readonly ok: boolean;
  readonly results: readonly SqlCheckResult[];
  /** The catalog after the check: schema tables plus every view that analyzed. */
  readonly catalog: SqlCatalog;
}

export async function checkProjectSql(
  zeta: ZetaSql,
  sources: readonly ProjectSqlSource[],
  target: ViewTarget,
): Promise<SqlCheckReport> {
  let catalog = analyticsTableCatalog(target);
  const failedViews = new Set<string>();
  const results: SqlCheckResult[] = [];
  for (const source of sources) {
    const failedDependency = source.dependsOn.find((name) => failedViews.has(name));
    if (failedDependency !== undefined) {
      if (source.definesView) failedViews.add(source.definesView);
      results.push({
        name: source.name,
        file: source.file,
        ok: false,
        line: 1,
        column: 1,
        message: `not analyzed: it reads view ${failedDependency}, which has errors`,
      });
      continue;
    }
    const analysis = await zeta.analyze(source.sql, catalog);
    if (analysis.ok) {
      results.push({
        name: source.name,
        file: source.file,
        ok: true,
        outputColumns: analysis.outputColumns,
      });
      if (source.definesView) {
        catalog = mergeCatalogs(catalog, {
          tables: [
            {
              name: qualifiedTableName(target, source.definesView),
              columns: analysis.outputColumns,
            },
          ],
        });
      }
    } else {
      if (source.definesView) failedViews.add(source.definesView);
      const position =
        analysis.line !== undefined && analysis.column !== undefined
          ? (source.toSourcePosition?.(analysis.line, analysis.column) ?? {
              line: analysis.line,
              column: analysis.column,
            })
          : { line: 1, column: 1 };
      results.push({
        name: source.name,
        file: source.file,
        ok: false,
        ...position,
        message: analysis.message,
      });
    }
  }
  return { ok: results.every((result) => result.ok), results, catalog };
}
