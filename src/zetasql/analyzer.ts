/**
 * `ZetaSql`: a running ZetaSQL local service with BigQuery's language settings, offering the two
 * things this project needs — `analyze` (does this BigQuery SQL resolve against a catalog, and
 * what does it return) and `evaluateQuery` (run a query over in-memory tables with BigQuery
 * semantics). Start it once (`ZetaSql.start()`, about a second), reuse it, `stop()` it.
 *
 * Language: the service's maximum feature set in PRODUCT_EXTERNAL mode (BigQuery's: no INT32 /
 * UINT64 / PROTO types), passed both in the catalog's builtin function options and in every
 * request's analyzer options.
 */
import { asServiceError } from "./client";
import {
  analyticsTableCatalog,
  resolveCatalogTable,
  toSimpleCatalogProto,
  type CatalogColumn,
  type SqlCatalog,
} from "./catalog";
import type { LanguageOptionsProto, TypeProto, ValueProto } from "./proto-types";
import { startZetaSqlServer, type ZetaSqlServer } from "./server";
import { fromValueProto, toTypeProto, toValueProto, type SqlRow } from "./values";
import { defaultViewTarget } from "../../schema/views";

export interface OutputColumn {
  readonly name: string;
  readonly type: TypeProto;
}

export type AnalysisResult =
  | { readonly ok: true; readonly outputColumns: readonly OutputColumn[] }
  | {
      readonly ok: false;
      /** ZetaSQL's message without its position suffix. */
      readonly message: string;
      /** 1-based position in the analyzed SQL, when ZetaSQL gives one. */
      readonly line?: number;
      readonly column?: number;
    };

export interface QueryResult {
  readonly columns: readonly OutputColumn[];
  readonly rows: readonly SqlRow[];
}

/** Cells exactly as the service returns them, for feeding one query's result into another. */
export interface RawQueryResult {
  readonly columns: readonly OutputColumn[];
  readonly rows: readonly (readonly ValueProto[])[];
}

/** Table contents keyed by table name (full catalog name, or its unique last segment). */
export type TableContents = Readonly<Record<string, readonly SqlRow[]>>;
export type RawTableContents = Readonly<Record<string, readonly (readonly ValueProto[])[]>>;

/** Thrown by `evaluateQuery` when ZetaSQL rejects or fails the query. */
export class ZetaSqlError extends Error {
  constructor(
    message: string,
    readonly line?: number,
    readonly column?: number,
  ) {
    super(message);
    this.name = "ZetaSqlError";
  }
}

const POSITION_SUFFIX = /\s*\[at (\d+):(\d+)\]\s*$/;

/** Splits "Unrecognized name: x [at 3:5]" into message and position. */
export function parseZetaSqlMessage(details: string): {
  message: string;
  line?: number;
  column?: number;
} {
  const match = POSITION_SUFFIX.exec(details);
  if (!match) return { message: details.trim() };
  return {
    message: details.slice(0, match.index).trim(),
    line: Number(match[1]),
    column: Number(match[2]),
  };
}

/** The default catalog: every schema/ analytics table under the default target. */
const defaultCatalog = (): SqlCatalog => analyticsTableCatalog(defaultViewTarget);

export class ZetaSql {
  private constructor(
    private readonly server: ZetaSqlServer,
    /** The language options every request uses (maximum features, BigQuery product mode). */
    readonly languageOptions: LanguageOptionsProto,
  ) {}

  /** Starts the service on a free port and waits until it answers. */
  static async start(): Promise<ZetaSql> {
    const server = await startZetaSqlServer();
    try {
      const maximum = await server.client.getLanguageOptions({ maximumFeatures: true });
      return new ZetaSql(server, { ...maximum, productMode: "PRODUCT_EXTERNAL" });
    } catch (error) {
      await server.stop();
      throw error;
    }
  }

  get port(): number {
    return this.server.port;
  }

  /** Process id of the running service. */
  get pid(): number {
    return this.server.pid;
  }

  private analyzerOptions(): object {
    return { languageOptions: this.languageOptions, errorMessageMode: "ERROR_MESSAGE_ONE_LINE" };
  }

  /** Analyzes one statement; an analysis error is a result, not an exception. */
  async analyze(sql: string, catalog: SqlCatalog = defaultCatalog()): Promise<AnalysisResult> {
    try {
      const response = await this.server.client.analyze({
        sqlStatement: sql,
        simpleCatalog: toSimpleCatalogProto(catalog, this.languageOptions),
        options: this.analyzerOptions(),
      });
      const query = response.resolvedStatement?.resolvedQueryStmtNode;
      const outputColumns = (query?.outputColumnList ?? []).map((column) => ({
        name: column.name ?? "",
        type: column.column?.type ?? {},
      }));
      return { ok: true, outputColumns };
    } catch (error) {
      const serviceError = asServiceError(error);
      // INVALID_ARGUMENT (3) is how the service reports SQL errors; anything else is a failure.
      if (!serviceError || serviceError.code !== 3) throw error;
      return { ok: false, ...parseZetaSqlMessage(serviceError.details) };
    }
  }

  /**
   * Runs a query over in-memory tables and returns its rows as JS values (see `SqlValue`).
   * Every table of the catalog that the query reads needs contents (an empty array is fine);
   * tables not given are empty.
   */
  async evaluateQuery(
    sql: string,
    tableContents: TableContents,
    catalog: SqlCatalog = defaultCatalog(),
  ): Promise<QueryResult> {
    const result = await this.evaluateQueryRaw(
      sql,
      encodeTableContents(tableContents, catalog),
      catalog,
    );
    return {
      columns: result.columns,
      rows: result.rows.map((cells) =>
        Object.fromEntries(
          result.columns.map((column, i) => [column.name, fromValueProto(cells[i], column.type)]),
        ),
      ),
    };
  }

  /** `evaluateQuery` with cells as ValueProtos both ways (no JS conversion). */
  async evaluateQueryRaw(
    sql: string,
    tableContents: RawTableContents,
    catalog: SqlCatalog = defaultCatalog(),
  ): Promise<RawQueryResult> {
    const tableContent: Record<string, object> = {};
    for (const table of catalog.tables) {
      tableContent[table.name] = {
        tableData: { row: (tableContents[table.name] ?? []).map((cell) => ({ cell })) },
      };
    }
    try {
      const response = await this.server.client.evaluateQuery({
        sql,
        simpleCatalog: toSimpleCatalogProto(catalog, this.languageOptions),
        options: this.analyzerOptions(),
        tableContent,
      });
      const columns = (response.prepared?.columns ?? []).map((column) => ({
        name: column.name ?? "",
        type: column.type ?? {},
      }));
      const rows = (response.content?.tableData?.row ?? []).map((row) => row.cell ?? []);
      return { columns, rows };
    } catch (error) {
      const serviceError = asServiceError(error);
      if (!serviceError) throw error;
      const { message, line, column } = parseZetaSqlMessage(serviceError.details);
      const where = line === undefined ? "" : ` at ${line}:${column}`;
      throw new ZetaSqlError(`ZetaSQL${where}: ${message}`, line, column);
    }
  }

  /** Stops the service (idempotent). */
  stop(): Promise<void> {
    return this.server.stop();
  }
}

/**
 * JS rows → ValueProto cells, keyed by full catalog table name. Rejects unknown columns, NULL in
 * REQUIRED columns and values that do not fit the column type, naming table, row and column.
 */
export function encodeTableContents(
  tableContents: TableContents,
  catalog: SqlCatalog,
): Record<string, ValueProto[][]> {
  const raw: Record<string, ValueProto[][]> = {};
  for (const [key, rows] of Object.entries(tableContents)) {
    const table = resolveCatalogTable(catalog, key);
    raw[table.name] = rows.map((row, index) => encodeRow(table.name, table.columns, row, index));
  }
  return raw;
}

function encodeRow(
  tableName: string,
  columns: readonly CatalogColumn[],
  row: SqlRow,
  index: number,
): ValueProto[] {
  const known = new Set(columns.map((column) => column.name));
  const unknown = Object.keys(row).filter((key) => !known.has(key));
  if (unknown.length > 0) {
    throw new Error(`${tableName} row ${index}: unknown column(s) ${unknown.join(", ")}`);
  }
  return columns.map((column) => {
    const value = row[column.name];
    if (column.required && (value === null || value === undefined)) {
      throw new Error(`${tableName} row ${index}: ${column.name} is REQUIRED`);
    }
    try {
      return toValueProto(value, toTypeProto(column.type));
    } catch (error) {
      throw new Error(`${tableName} row ${index}, ${column.name}: ${(error as Error).message}`);
    }
  });
}
