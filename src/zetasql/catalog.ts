/**
 * Catalogs for the ZetaSQL analyzer: plain data (tables and typed columns) turned into a
 * `SimpleCatalogProto`. Tables are registered under one flat name, `project.dataset.table`, which
 * is exactly what `renderViewSql` writes between backticks, so rendered SQL resolves unchanged.
 */
import { analyticsTables, type BigQueryTable } from "../../schema";
import type { ViewTarget } from "../../schema/views";
import type { LanguageOptionsProto } from "./proto-types";
import { toTypeProto, type SqlType } from "./values";

export interface CatalogColumn {
  readonly name: string;
  readonly type: SqlType;
  /** REQUIRED column: `evaluateQuery` rejects NULL cells in table contents. */
  readonly required?: boolean;
}

export interface CatalogTable {
  /** The name SQL uses between backticks, e.g. `synter-dev.synter_analytics.events`. */
  readonly name: string;
  readonly columns: readonly CatalogColumn[];
}

export interface SqlCatalog {
  readonly tables: readonly CatalogTable[];
}

export function qualifiedTableName(target: ViewTarget, table: string): string {
  return `${target.project}.${target.dataset}.${table}`;
}

/** A schema/ table as a catalog table (types and modes straight from the DSL). */
export function catalogTableFromSchema(table: BigQueryTable, target: ViewTarget): CatalogTable {
  return {
    name: qualifiedTableName(target, table.name),
    columns: Object.entries(table.columns).map(([name, column]) => ({
      name,
      type: column.spec.type,
      required: column.spec.mode === "REQUIRED",
    })),
  };
}

/** Every analytics table of schema/, under `target`. */
export function analyticsTableCatalog(target: ViewTarget): SqlCatalog {
  return {
    tables: Object.values(analyticsTables).map((table) => catalogTableFromSchema(table, target)),
  };
}

export function mergeCatalogs(...catalogs: SqlCatalog[]): SqlCatalog {
  const tables = new Map<string, CatalogTable>();
  for (const catalog of catalogs) for (const table of catalog.tables) tables.set(table.name, table);
  return { tables: [...tables.values()] };
}

/**
 * The catalog proto. The language options go into `builtinFunctionOptions` as well as into each
 * request's analyzer options: without them here, functions behind a language feature (e.g.
 * JSON or SAFE_ functions) are not even loaded into the catalog.
 */
export function toSimpleCatalogProto(
  catalog: SqlCatalog,
  languageOptions: LanguageOptionsProto,
): object {
  return {
    name: "synter",
    builtinFunctionOptions: { languageOptions },
    table: catalog.tables.map((table) => ({
      name: table.name,
      column: table.columns.map((column) => ({
        name: column.name,
        type: toTypeProto(column.type),
      })),
    })),
  };
}

/**
 * Finds the catalog table a `tableContents` key means: its full name, or its last segment when
 * that is unique (so tests may say `conversions` instead of the qualified name).
 */
export function resolveCatalogTable(catalog: SqlCatalog, key: string): CatalogTable {
  const exact = catalog.tables.find((table) => table.name === key);
  if (exact) return exact;
  const bySuffix = catalog.tables.filter((table) => table.name.split(".").at(-1) === key);
  if (bySuffix.length === 1) return bySuffix[0];
  const known = catalog.tables.map((table) => table.name).join(", ");
  throw new Error(
    bySuffix.length > 1
      ? `table "${key}" is ambiguous: ${bySuffix.map((table) => table.name).join(", ")}`
      : `table "${key}" is not in the catalog (known: ${known})`,
  );
}
