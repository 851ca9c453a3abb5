/**
 * One lane of the migration: a list of tables moved one after another on its own source and
 * target connections, range by range. Lanes run in worker threads (`worker-pool.ts`), so the CPU
 * work of several tables (conversion, encoding, hashing) uses every core. A lane never writes the
 * state file: it reports each committed range to the main thread, which records the checkpoint, so
 * there is one writer of the state and the order "target commit, then checkpoint" holds.
 *
 * The target's client libraries are loaded by the lanes that use them: every worker loaded pg and
 * the Google Cloud clients at start, which cost an analytics worker about 0.4 CPU-s for nothing.
 */
import type { Connection } from "mysql2/promise";
import type { Client } from "pg";
import { join } from "node:path";
import { ToolError } from "../errors/tool-error";
import type * as BigQueryWarehouse from "./bigquery-warehouse";
import type { BigQueryWarehouseOptions } from "./bigquery-warehouse";
import type { TableState } from "./checkpoint";
import {
  addJsonPartHashes as addJsonPartHashesExport,
  addRowHashes as addRowHashesExport,
  HashSum,
  mysqlId,
} from "./checksum";
import { RejectedValue, convertRow as convertRowExport } from "./convert";
import { checkPageKeys } from "./key-ranges";
import { loadFileName, writeLoadFile } from "./load-files";
import { latin1Text, PageBuffer } from "./page-buffer";
import type * as PostgresSink from "./postgres-sink";
import { TableProgress } from "./progress";
import type { RejectRecord } from "./rejects";
import {
  mysqlRowCrcSql,
  RowCrcCheck,
  SourceRowChangedError,
  sourceCrcPolynomial,
  type CrcPolynomial,
} from "./row-crc";
import {
  appendNdjsonLine as appendNdjsonLineExport,
  appendBinaryRow as appendBinaryRowExport,
  encodeCopyLine as encodeCopyLineExport,
} from "./row-encoding";
import { connectSource, countSourceRows, streamPage, streamWirePage } from "./source";
import { migrationTables, selectTables, type MigrationTable } from "./table-plan";
import { WireRowCopier, type WireParentCheck } from "./wire-rows";
import type { SerializedError } from "./worker-errors";

// Module-local bindings of per-row functions: compiled to CommonJS, every use of an imported
// binding is a call of a getter on the exporting module, which cost a worker ~0.3 CPU-s.
const addJsonPartHashes = addJsonPartHashesExport;
const addRowHashes = addRowHashesExport;
const convertRow = convertRowExport;
const appendNdjsonLine = appendNdjsonLineExport;
const encodeCopyLine = encodeCopyLineExport;
const appendBinaryRow = appendBinaryRowExport;

/** Plain, serialisable settings a lane needs (they cross into a worker thread). */
export interface LaneSettings {
  readonly sourceUrl: string;
  readonly postgresUrl?: string;
  readonly bigquery?: BigQueryWarehouseOptions;
  /** Where load files go (`--out`, or a staging dir for BigQuery). */
  readonly filesDir: string;
  readonly pageSize: number;
  readonly maxRejects: number;
  readonly rejectFile: string;
  /** Hash every row on both sides as it is copied (the inline verification, `checkpoint.ts`). */
  readonly verify: boolean;
}

export interface TableReport {
  readonly table: string;
  readonly target: string;
  readonly rows: number;
  readonly rejected: number;
  readonly seconds: number;
}

/** Messages from a lane to the main thread. */
export type LaneMessage =
  | { readonly type: "log"; readonly line: string }
  | {
      readonly type: "range";
      readonly table: string;
      /** Set when the lane copies one segment of the table (`LaneTask.segment`). */
      readonly segment?: number;
      readonly state: TableState;
      readonly rejects: readonly RejectRecord[];
    }
  | {
      readonly type: "table-done";
      readonly segment?: number;
      readonly state: TableState;
      readonly report: TableReport;
    }
  | { readonly type: "failed"; readonly error: SerializedError };

/** More rows were rejected than `--max-rejects` allows: the run stops before writing them. */
export class RejectLimitError extends ToolError {
  constructor(message: string) {
    super("refused", message);
  }
}

export interface LaneTask {
  readonly tables: readonly string[];
  /** Current state per table (resume), keyed by table name. */
  readonly states: Readonly<Record<string, TableState>>;
  /** Keys already in the reject file, `table\u0000key`: not counted twice after a redo. */
  readonly knownRejects: readonly string[];
  /** Shared counter of rejected rows across lanes (Int32Array over a SharedArrayBuffer). */
  readonly rejectCounter: SharedArrayBuffer;
  /**
   * Copy only this key range `(after, upTo]` of the lane's single table, with `states` holding the
   * segment's own state; the table is finished (sequence, BigQuery load) by the main thread once
   * every segment is done.
   */
  readonly segment?: LaneSegment;
}

export interface LaneSegment {
  readonly index: number;
  readonly count: number;
  readonly after?: string;
  readonly upTo: string;
}

/** The Postgres sink, loaded on first use (require(): import() would load it as ESM). */
function postgresSink(): typeof PostgresSink {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- require() defers the loading
  return require("./postgres-sink") as typeof PostgresSink;
}

/**
 * The connections the last lane on this thread left for the next one. A worker runs lanes one
 * after another, and each new connection costs: a Postgres one 14 ms of CPU between the two sides
 * (SCRAM's key derivation, a backend's start), a source one 3 ms and its CRC query; the benchmark's
 * auth tables are seven lanes on two workers. A lane that fails closes its connections instead.
 */
interface LaneConnections {
  readonly sourceUrl: string;
  readonly source: Connection;
  /** A second one to the source, for a range's COUNT(*) while its first page streams. */
  readonly countingSource: Connection;
  postgresUrl?: string;
  pg?: Client;
  polynomial?: CrcPolynomial;
}

let kept: LaneConnections | undefined;

async function laneConnections(
  settings: LaneSettings,
  sink: typeof PostgresSink | undefined,
): Promise<LaneConnections> {
  let connections = kept;
  kept = undefined;
  if (connections && connections.sourceUrl !== settings.sourceUrl) {
    await closeConnections(connections);
    connections = undefined;
  }
  if (!connections) {
    const source = await connectSource(settings.sourceUrl);
    try {
      const countingSource = await connectSource(settings.sourceUrl);
      connections = { sourceUrl: settings.sourceUrl, source, countingSource };
    } catch (error) {
      await source.end().catch(() => undefined);
      throw error;
    }
  }
  try {
    if (sink && connections.postgresUrl !== settings.postgresUrl) {
      await connections.pg?.end().catch(() => undefined);
      connections.pg = undefined;
      connections.pg = await sink.connectPostgres(settings.postgresUrl!);
      connections.postgresUrl = settings.postgresUrl;
    }
    if (settings.verify) connections.polynomial ??= await sourceCrcPolynomial(connections.source);
  } catch (error) {
    await closeConnections(connections);
    throw error;
  }
  return connections;
}

async function closeConnections(connections: LaneConnections): Promise<void> {
  await connections.source.end().catch(() => undefined);
  await connections.countingSource.end().catch(() => undefined);
  await connections.pg?.end().catch(() => undefined);
}

/** Ends the connections a lane left (the worker is about to stop). */
export async function closeKeptConnections(): Promise<void> {
  const connections = kept;
  kept = undefined;
  if (connections) await closeConnections(connections);
}

export async function runLane(
  settings: LaneSettings,
  task: LaneTask,
  post: (message: LaneMessage) => void,
): Promise<void> {
  const tables = selectTables(task.tables);
  const sink = tables.some((t) => t.target === "postgres") ? postgresSink() : undefined;
  const connections = await laneConnections(settings, sink);
  const { source, countingSource, pg, polynomial } = connections;
  const known = new Set(task.knownRejects);
  const counter = new Int32Array(task.rejectCounter);
  try {
    for (const table of tables) {
      const state = structuredClone(task.states[table.name]);
      await migrateTable(
        settings,
        table,
        state,
        source,
        countingSource,
        sink,
        sink ? pg : undefined,
        known,
        counter,
        post,
        polynomial,
        task.segment,
      );
    }
  } catch (error) {
    await closeConnections(connections);
    throw error;
  }
  kept = connections;
}

async function migrateTable(
  settings: LaneSettings,
  table: MigrationTable,
  tableState: TableState,
  source: Connection,
  countingSource: Connection,
  sink: typeof PostgresSink | undefined,
  pg: Client | undefined,
  knownRejects: Set<string>,
  rejectCounter: Int32Array,
  post: (message: LaneMessage) => void,
  polynomial: CrcPolynomial | undefined,
  segment?: LaneSegment,
): Promise<void> {
  const target =
    table.target === "postgres" ? "postgres" : settings.bigquery ? "bigquery" : "files";
  const log = (line: string) => post({ type: "log", line });
  if (tableState.done) {
    log(`${table.name}: already migrated (resume), ${tableState.rows} rows`);
    const report = {
      table: table.name,
      target,
      rows: tableState.rows,
      rejected: tableState.rejected,
      seconds: 0,
    };
    post({ type: "table-done", segment: segment?.index, state: tableState, report });
    return;
  }
  const lowest = segment?.after === undefined ? undefined : BigInt(segment.after);
  // The last segment reads on to the source's end, as an unsegmented table does: rows the source
  // gained after the plan (before a --resume) are copied, not left past the planned bound.
  const openEnd = segment === undefined || segment.index === segment.count - 1;
  const highest = openEnd ? undefined : BigInt(segment.upTo);
  const label = segment ? `${table.name}[${segment.index + 1}/${segment.count}]` : table.name;
  const progress = new TableProgress(label, undefined, log);
  // The source's own count of the range, on the second connection while the pages stream on the
  // first: waited for before any page, it held each lane back by the count's time (beside the
  // page: the analytics tables 9.79 → 9.50 s, the auth tables 2.99 → 2.82 s, medians of eight).
  // Nothing but the progress line and the range's end need it: a count of 250,000 events takes
  // MariaDB 0.25 s, twice a page, and waited for before the second page it stalled the lane.
  const counted = countSourceRows(countingSource, table, { after: lowest, upTo: highest });
  counted.then(
    (rows) => (progress.expectedRows = rows),
    () => undefined,
  );
  const keyIndex = table.columns.indexOf(table.key);
  let after = tableState.lastKey === undefined ? lowest : BigInt(tableState.lastKey);
  // Inline sums cover the whole range only if every range is hashed, from the first one on.
  if (!settings.verify) delete tableState.inline;
  else if (tableState.lastKey === undefined) {
    tableState.inline = { sourceSum: "0", ...(target === "files" ? { targetSum: "0" } : {}) };
  }
  const inline = tableState.inline;
  const crcIndex = table.columns.length;
  const crc = inline ? new RowCrcCheck(table, polynomial!, crcIndex) : undefined;
  const parents = parentChecks(table, knownRejects, crc ? crcIndex + 1 : crcIndex);
  const extras = [...(crc ? [mysqlRowCrcSql(table)] : []), ...parents.map((p) => p.existsSql)];
  // A Postgres table's rows in COPY's binary format where its column types allow it.
  const binary = table.target === "postgres" ? await sink!.binaryCopyKinds(pg!, table) : undefined;
  // Rows straight from the protocol's bytes where they allow it (`wire-rows.ts`).
  const wire = WireRowCopier.supports(table)
    ? new WireRowCopier(
        table,
        crc,
        inline !== undefined,
        parents.map((p) => p.wire),
        binary,
      )
    : undefined;
  let pagesStarted = 0;
  /** One page: its rows converted, encoded and hashed as they stream in. */
  const startPage = (from: bigint | undefined) => {
    // A Postgres table's first page is a fifth of the others: its COPY starts while the rest
    // still streams (the auth step's wall time: 2.54 against 2.68 s, medians of ten runs). Load
    // files gain nothing from it: their writes are the thread pool's.
    const rows =
      pagesStarted++ === 0 && table.target === "postgres"
        ? Math.ceil(settings.pageSize / 5)
        : settings.pageSize;
    const page = {
      out: new PageBuffer(),
      rejects: [] as RejectRecord[],
      sourceSum: new HashSum(),
      targetSum: new HashSum(),
      jsonSum: new HashSum(),
      firstKey: undefined as string | undefined,
      /** The key of a row the source could not CRC (see `RowCrcCheck.check`). */
      unchecked: undefined as string | null | undefined,
    };
    /** The decoded path: every row, or (load files) those the wire path leaves to it. */
    const onDecodedRow = (raw: (string | null)[]) => {
      page.firstKey ??= raw[keyIndex]!;
      // Before the conversion: a value altered on the way must not pass as a reject.
      if (crc && !crc.check(raw) && !page.unchecked) page.unchecked = raw[keyIndex];
      try {
        const row = convertRow(table.columns, raw);
        for (const parent of parents) parent.check(row, raw);
        if (binary) appendBinaryRow(table.columns, binary, row, page.out);
        else if (table.target === "postgres") page.out.append(encodeCopyLine(table.columns, row));
        else appendNdjsonLine(table.columns, row, page.out);
        if (inline) {
          // The source's side from the raw values, checked against the source's CRC of them;
          // the target's from the converted row (Postgres hashes its own side).
          addRowHashes(
            page.sourceSum,
            inline.targetSum === undefined ? undefined : page.targetSum,
            table.columns,
            raw,
            row,
          );
          // MariaDB cannot put JSON in canonical form, so the JSON parts are the tool's on both
          // sides (as in `data verify`): hashed once, added to both.
          addJsonPartHashes(page.jsonSum, table.columns, keyIndex, row);
        }
      } catch (error) {
        if (!(error instanceof RejectedValue)) throw error;
        page.rejects.push({
          table: table.name,
          key: raw[keyIndex] ?? "",
          column: error.column,
          reason: error.reason,
          value: error.raw,
        });
      }
    };
    const sums = {
      sourceSum: page.sourceSum,
      targetSum: inline?.targetSum === undefined ? undefined : page.targetSum,
      jsonSum: page.jsonSum,
    };
    const range = wire
      ? streamWirePage(source, table, from, rows, highest, extras, (row) => {
          page.firstKey ??= latin1Text(row.buffer, row.start[keyIndex], row.end[keyIndex]);
          if (!wire.copy(row, page.out, sums)) onDecodedRow(row.decode());
        })
      : streamPage(source, table, from, rows, highest, extras, onDecodedRow);
    range.catch(() => undefined);
    return { page, range };
  };
  /** Reports the table's state (its committed ranges) and a page's new rejects to the main thread. */
  const postRange = (rejects: RejectRecord[]) =>
    post({ type: "range", table: table.name, segment: segment?.index, state: tableState, rejects });
  // The next page streams (and is converted) while the current one is written: the source, this
  // thread and the target work in parallel.
  let next = startPage(after);
  for (;;) {
    const range = await next.range;
    if (!range) break;
    const {
      out,
      rejects: pageRejects,
      sourceSum,
      targetSum,
      jsonSum,
      firstKey,
      unchecked,
    } = next.page;
    if (unchecked !== undefined && tableState.inline) {
      // Its inline sums would rest on a row the source did not vouch for: the full scan after
      // the copy verifies the table instead.
      delete tableState.inline;
      log(
        `${label}: row ${table.key.name}=${unchecked} is too long for the source to CRC (max_allowed_packet); ${table.name} is verified by a full scan after the copy`,
      );
    }
    // Every page must start past the last one: else the loop would read the same rows forever.
    checkPageKeys(label, { after: range.after, upTo: highest }, BigInt(firstKey!), range.upTo);
    const page = { range };
    next = startPage(range.upTo);
    const fresh = pageRejects.filter((r) => !knownRejects.has(`${r.table}\u0000${r.key}`));
    if (fresh.length > 0) {
      const total = Atomics.add(rejectCounter, 0, fresh.length) + fresh.length;
      if (total > settings.maxRejects) {
        // A row of the next page that arrived altered says more than the limit does.
        const nextFailure = await next.range.then(
          () => undefined,
          (error: unknown) => error,
        );
        if (nextFailure instanceof SourceRowChangedError) throw nextFailure;
        postRange(fresh);
        throw new RejectLimitError(
          `${table.name}: ${total} rejected row(s) exceed --max-rejects ${settings.maxRejects}; ` +
            `see ${settings.rejectFile}. Nothing of range (${page.range.after ?? "start"}, ${page.range.upTo}] was written; ` +
            `fix the source or raise --max-rejects`,
        );
      }
    }
    if (table.target === "postgres") {
      await sink!.writeRange(pg!, table, page.range, out.chunks(), binary !== undefined);
    } else {
      const name = loadFileName(
        table.name,
        tableState.files.length + 1,
        page.range,
        segment?.index,
      );
      await writeLoadFile(settings.filesDir, name, out.chunks());
      tableState.files.push(name);
    }
    out.release();
    for (const r of fresh) knownRejects.add(`${r.table}\u0000${r.key}`);
    if (inline) {
      const json = jsonSum.total();
      inline.sourceSum = (BigInt(inline.sourceSum) + sourceSum.total() + json).toString();
      if (inline.targetSum !== undefined)
        inline.targetSum = (BigInt(inline.targetSum) + targetSum.total() + json).toString();
    }
    tableState.lastKey = page.range.upTo.toString();
    tableState.rows += out.lines;
    tableState.rejected += pageRejects.length;
    postRange(fresh);
    progress.update(tableState.rows + tableState.rejected);
    after = page.range.upTo;
  }
  if (segment) {
    // The main thread finishes the table (load job, sequence) once every segment is done; what
    // the segment's own range holds past its last source row is this lane's to remove.
    if (table.target === "postgres") await sink!.deleteRange(pg!, table, { after, upTo: highest });
  } else if (table.target === "postgres") {
    await sink!.finishTable(pg!, table, after);
  } else if (settings.bigquery) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- require() defers the loading
    const { bigQueryWarehouse } = require("./bigquery-warehouse") as typeof BigQueryWarehouse;
    const bigquery = bigQueryWarehouse(settings.bigquery);
    tableState.loadJobId = await bigquery.loadTable(table, settings.filesDir, tableState.files);
  }
  // The source's own count of the range: a row the paging missed shows as a row-count mismatch.
  const expected = await counted;
  if (inline) inline.sourceCount = expected;
  tableState.done = true;
  progress.update(tableState.rows + tableState.rejected, true);
  post({
    type: "table-done",
    segment: segment?.index,
    state: tableState,
    report: {
      table: table.name,
      target,
      rows: tableState.rows,
      rejected: tableState.rejected,
      seconds: progress.elapsedSeconds(),
    },
  });
}

/** A foreign key of a child table, checked on each row before it is written. */
interface ParentCheck {
  /** Selected beside the row: 1 when the source has the referenced parent row, else 0. */
  readonly existsSql: string;
  /** Throws `RejectedValue` when the row's parent was rejected or is missing in the source. */
  readonly check: (row: readonly (string | null)[], raw: readonly (string | null)[]) => void;
  /** The same check for the wire fast path, over the row's bytes. */
  readonly wire: WireParentCheck;
}

/**
 * The target's foreign keys of `table` towards other migrated tables. A child row whose parent row
 * was rejected (or never existed: SingleStore enforces no foreign keys) would fail the target's
 * foreign key, so it is rejected too, its reason naming the parent's key. A child's lane starts
 * only once its parents are copied (`lane-scheduler.ts`), so their rejects are all known by then.
 * `firstExtra`: the raw row's index of the first selected extra these checks own.
 */
export function parentChecks(
  table: MigrationTable,
  knownRejects: ReadonlySet<string>,
  firstExtra: number,
): ParentCheck[] {
  const all = migrationTables();
  const checks: ParentCheck[] = [];
  table.columns.forEach((column, index) => {
    const parent = all.find((t) => t.name === column.references?.table);
    const referenced = parent?.columns.find((c) => c.name === column.references?.column);
    if (!parent || !referenced) return;
    const prefix = `${parent.name}\u0000`;
    // Rejects are keyed by the parent's key; a foreign key to another column has only the check
    // against the source.
    const rejected =
      referenced === parent.key
        ? new Set(
            [...knownRejects]
              .filter((k) => k.startsWith(prefix))
              .map((k) => k.slice(prefix.length)),
          )
        : new Set<string>();
    const existsIndex = firstExtra + checks.length;
    const parentRow = `${parent.name} row ${referenced.name}=`;
    checks.push({
      wire: { columnIndex: index, existsIndex, rejectedKeys: rejected },
      existsSql:
        `EXISTS (SELECT 1 FROM ${mysqlId(parent.legacyTable)} p WHERE p.${mysqlId(referenced.legacy.column)} = ` +
        `${mysqlId(table.legacyTable)}.${mysqlId(column.legacy.column)})`,
      check: (row, raw) => {
        const value = row[index];
        if (value === null) return;
        if (rejected.has(value)) {
          throw new RejectedValue(column.name, `its ${parentRow}${value} was rejected`, value);
        }
        if (raw[existsIndex] === "0") {
          throw new RejectedValue(
            column.name,
            `its ${parentRow}${value} does not exist in the source`,
            value,
          );
        }
      },
    });
  });
  return checks;
}

export function stagingFilesDir(stateDir: string): string {
  return join(stateDir, "load-files");
}
