/**
 * One table's side of the data verification, run on a worker thread: row count and content
 * checksum (see `checksum.ts`) of a key range on the source and on the table's target, computed by
 * each side's own SQL (load files: by the same normal form in TypeScript). On a mismatch the key
 * range is bisected on both sides to name where rows differ. `data-verification.ts` schedules these.
 */
import type { Connection } from "mysql2/promise";
import type { Client } from "pg";
import {
  hasJsonColumn,
  mysqlChecksumSql,
  mysqlId,
  mysqlRangeCondition,
  mysqlJsonPartsSql,
  pgChecksumSql,
  addJsonHashesFromMysqlParts,
  splitSourceSum,
  HashSum,
  sameChecksum,
  type Checksum,
  type KeyRange,
} from "./checksum";
import { bigQueryWarehouse, type BigQueryWarehouseOptions } from "./bigquery-warehouse";
import { listLoadFiles, loadFilesChecksum } from "./load-files";
import { connectPostgres, queryPostgres } from "./postgres-sink";
import { checkPageKeys } from "./key-ranges";
import { connectSource, keyBounds, querySource } from "./source";
import type { MigrationTable } from "./table-plan";
import { ToolError } from "../errors/tool-error";

export type ChecksumOf = (range: KeyRange) => Promise<Checksum>;

export interface TableVerification {
  readonly table: string;
  readonly target: string;
  readonly source: Checksum;
  readonly destination: Checksum;
  readonly ok: boolean;
  /** Narrowest key ranges `(after, upTo]` found to differ (empty when ok). */
  readonly mismatchedRanges: readonly { readonly after: string; readonly upTo: string }[];
}

/**
 * The source's checksum of a key range. With a second connection (`jsonConnection`), MariaDB sums
 * the non-JSON hashes on one while the tool pages through the JSON on the other, so neither waits
 * for the other; the next JSON page is always requested before the current one is hashed.
 */
export function sourceChecksum(
  connection: Connection,
  table: MigrationTable,
  excluded: readonly string[],
  jsonConnection: Connection = connection,
): ChecksumOf {
  return async (range) => {
    const aggregate = querySource(connection, {
      sql: mysqlChecksumSql(table, range, excluded),
      rowsAsArray: true,
    });
    const total = async (toolSum: bigint): Promise<Checksum> => {
      const [count, hashSum] = ((await aggregate) as string[][])[0];
      const { sum, unhashed } = splitSourceSum(String(hashSum));
      if (unhashed > 0n) throw await rowsTooLong(connection, table, range, unhashed);
      return { rows: Number(count), sum: (sum + toolSum).toString() };
    };
    if (!hasJsonColumn(table)) return total(0n);
    // JSON cannot be canonicalised in MariaDB SQL: page through (key, JSON) and hash it here.
    aggregate.catch(() => undefined);
    const key = mysqlId(table.key.legacy.column);
    const pageSql = (after: bigint | undefined) =>
      `${mysqlJsonPartsSql(table)} WHERE ${mysqlRangeCondition(table, { after, upTo: range.upTo }, excluded)} ` +
      `ORDER BY ${key} LIMIT ${JSON_PAGE_ROWS}`;
    const jsonSum = new HashSum();
    let next = querySource(jsonConnection, { sql: pageSql(range.after), rowsAsArray: true });
    let after = range.after;
    for (;;) {
      const page = (await next) as (string | null)[][];
      const more = page.length === JSON_PAGE_ROWS;
      if (page.length > 0) {
        const last = BigInt(page[page.length - 1][0]!);
        const pageRange = { after, upTo: range.upTo };
        checkPageKeys(`${table.name} (source checksum)`, pageRange, BigInt(page[0][0]!), last);
        after = last;
      }
      if (more) next = querySource(jsonConnection, { sql: pageSql(after), rowsAsArray: true });
      for (const parts of page) addJsonHashesFromMysqlParts(jsonSum, table, parts);
      if (!more) break;
    }
    return total(jsonSum.total());
  };
}

/** The source holds rows its SQL cannot hash: their text is longer than its max_allowed_packet. */
export class SourceRowsTooLongError extends ToolError {
  constructor(message: string) {
    super("config", message);
  }
}

async function rowsTooLong(
  connection: Connection,
  table: MigrationTable,
  range: KeyRange,
  rows: bigint,
): Promise<SourceRowsTooLongError> {
  const result = await querySource(connection, {
    sql: "SELECT @@max_allowed_packet",
    rowsAsArray: true,
  });
  const limit = String((result as unknown[][])[0][0]);
  const where =
    range.after === undefined && range.upTo === undefined
      ? ""
      : ` in key range (${range.after ?? "start"}, ${range.upTo ?? "end"}]`;
  return new SourceRowsTooLongError(
    `${table.legacyTable}: ${rows} row(s)${where} are longer than the source's max_allowed_packet ` +
      `(${limit} bytes), so its SQL cannot hash them for the verification; raise it on the source ` +
      `above the longest row (SET GLOBAL max_allowed_packet = 1073741824) and verify again`,
  );
}

const JSON_PAGE_ROWS = 20000;

export function postgresChecksum(client: Client, table: MigrationTable): ChecksumOf {
  return async (range) => {
    const result = await queryPostgres<{ row_count: string; hash_sum: string }>(
      client,
      pgChecksumSql(table, range),
    );
    return { rows: Number(result.rows[0].row_count), sum: result.rows[0].hash_sum };
  };
}

const MAX_REPORTED_RANGES = 5;

/** Splits the key range in halves while both sides disagree, down to single keys. */
async function narrow(
  range: { after: bigint; upTo: bigint },
  source: ChecksumOf,
  target: ChecksumOf,
  found: { after: bigint; upTo: bigint }[],
): Promise<void> {
  if (found.length >= MAX_REPORTED_RANGES) return;
  const [a, b] = await Promise.all([source(range), target(range)]);
  if (sameChecksum(a, b)) return;
  if (range.upTo - range.after <= 1n) {
    found.push(range);
    return;
  }
  const mid = range.after + (range.upTo - range.after) / 2n;
  const before = found.length;
  await narrow({ after: range.after, upTo: mid }, source, target, found);
  await narrow({ after: mid, upTo: range.upTo }, source, target, found);
  // Differences that cancel out per half but not overall cannot happen with a sum of hashes
  // unless rows moved between halves; report the whole range then.
  if (found.length === before) found.push(range);
}

export async function verifyTable(
  table: MigrationTable,
  targetName: string,
  source: ChecksumOf,
  target: ChecksumOf,
  sourceConnection: Connection,
): Promise<TableVerification> {
  const [s, t] = await Promise.all([source({}), target({})]);
  const ok = sameChecksum(s, t);
  const found: { after: bigint; upTo: bigint }[] = [];
  if (!ok) {
    const bounds = await keyBounds(sourceConnection, table);
    // Keys beyond the source's bounds (extra target rows) are covered by the open ends.
    const after = bounds?.after ?? 0n;
    const upTo = bounds?.upTo ?? 0n;
    const ends = [
      { after: undefined, upTo: after },
      { after: upTo, upTo: undefined },
    ];
    for (const end of ends) {
      const [x, y] = await Promise.all([source(end), target(end)]);
      if (!sameChecksum(x, y))
        found.push({ after: end.after ?? -(2n ** 63n), upTo: end.upTo ?? 2n ** 63n - 1n });
    }
    if (bounds) await narrow({ after, upTo }, source, target, found);
  }
  return {
    table: table.name,
    target: targetName,
    source: s,
    destination: t,
    ok,
    mismatchedRanges: found.map((r) => ({ after: r.after.toString(), upTo: r.upTo.toString() })),
  };
}

/** Plain settings of one table's verification (they cross into a worker thread). */
export interface VerifyTaskOptions {
  readonly sourceUrl: string;
  readonly postgresUrl?: string;
  readonly bigquery?: BigQueryWarehouseOptions;
  /** Load files of the analytics tables when there is no BigQuery (`--out`). */
  readonly filesDir: string;
}

/** Verifies one table against its target, on connections of its own. */
export async function verifyOne(
  options: VerifyTaskOptions,
  table: MigrationTable,
  excluded: readonly string[],
): Promise<TableVerification> {
  const source = await connectSource(options.sourceUrl);
  try {
    const src = sourceChecksum(source, table, excluded);
    if (table.target === "postgres") {
      const pg = await connectPostgres(options.postgresUrl!);
      try {
        return await verifyTable(table, "postgres", src, postgresChecksum(pg, table), source);
      } finally {
        await pg.end().catch(() => undefined);
      }
    }
    if (options.bigquery) {
      const bigquery = bigQueryWarehouse(options.bigquery);
      return await verifyTable(table, "bigquery", src, bigquery.checksum(table), source);
    }
    const files = listLoadFiles(options.filesDir, table.name);
    return await verifyTable(
      table,
      "files",
      src,
      (range) => loadFilesChecksum(options.filesDir, table, files, range),
      source,
    );
  } finally {
    await source.end().catch(() => undefined);
  }
}

/**
 * One side's checksum of one key range of a table (a chunk of a parallel verification). The two
 * sides are separate jobs so the source's can run while the table is still being copied (the
 * source does not change during a migration; the target's waits for the table's copy).
 */
export async function sideChecksum(
  options: VerifyTaskOptions,
  table: MigrationTable,
  excluded: readonly string[],
  range: KeyRange,
  side: "source" | "target",
): Promise<Checksum> {
  if (side === "source") {
    const source = await connectSource(options.sourceUrl);
    const json = hasJsonColumn(table) ? await connectSource(options.sourceUrl) : source;
    try {
      return await sourceChecksum(source, table, excluded, json)(range);
    } finally {
      await source.end().catch(() => undefined);
      if (json !== source) await json.end().catch(() => undefined);
    }
  }
  if (table.target === "postgres") {
    const pg = await connectPostgres(options.postgresUrl!);
    try {
      return await postgresChecksum(pg, table)(range);
    } finally {
      await pg.end().catch(() => undefined);
    }
  }
  if (options.bigquery) return bigQueryWarehouse(options.bigquery).checksum(table)(range);
  return loadFilesChecksum(
    options.filesDir,
    table,
    listLoadFiles(options.filesDir, table.name),
    range,
  );
}
