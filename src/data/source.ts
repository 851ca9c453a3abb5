/**
 * Reading the legacy database (SingleStore, or MariaDB standing in for it) over the MySQL protocol.
 * Every value is kept as its wire text: DECIMAL as digits (never a float), DATETIME(6) as text
 * (never a JS Date), JSON as its stored text, BIGINT as digits. mysql2's own parsers do this with
 * the options below; only small integers (INT, TINYINT) come as numbers, exact by construction,
 * and are turned back into digits (a custom `typeCast` would do it too, at a closure per value).
 * Tables are read in key order by
 * keyset pagination (`WHERE key > last ORDER BY key LIMIT n`), so each page is a key range that
 * can be committed and checkpointed on its own.
 */
import type { Connection as CoreConnection } from "mysql2";
import { createConnection, type Connection, type FieldPacket } from "mysql2/promise";
import { mysqlId, mysqlRangeCondition, type KeyRange } from "./checksum";
import type { MigrationTable } from "./table-plan";

export async function connectSource(url: string): Promise<Connection> {
  const connection = await createConnection({
    uri: url,
    charset: "utf8mb4_unicode_ci",
    supportBigNumbers: true,
    bigNumberStrings: true,
    dateStrings: true,
    decimalNumbers: false,
    jsonStrings: true,
    // The legacy timestamps are UTC; a session time zone must not shift anything we compute.
    timezone: "Z",
  });
  await connection.query("SET time_zone = '+00:00'");
  return connection;
}

/**
 * Streams the next page after `after` (exclusive) to `onRow`, row by row as the protocol delivers
 * them, and resolves to the page's key range (undefined when there are no more rows). Rows are
 * handled while the rest of the page is still arriving, and each raw row is garbage as soon as it
 * is handled: a whole buffered page of raw values outlived the young generation and was promoted,
 * which made garbage collection the copy's largest cost.
 */
export function streamPage(
  connection: Connection,
  table: MigrationTable,
  after: bigint | undefined,
  pageSize: number,
  upTo: bigint | undefined,
  extra: string | undefined,
  onRow: (raw: (string | null)[]) => void,
): Promise<{ readonly after?: bigint; readonly upTo: bigint } | undefined> {
  const selected = table.columns.map((c) => mysqlId(c.legacy.column));
  if (extra !== undefined) selected.push(extra);
  const key = mysqlId(table.key.legacy.column);
  const sql =
    `SELECT ${selected.join(", ")} FROM ${mysqlId(table.legacyTable)} ` +
    `WHERE ${mysqlRangeCondition(table, { after, upTo }, [])} ORDER BY ${key} LIMIT ${pageSize}`;
  const keyIndex = table.columns.indexOf(table.key);
  // The promise wrapper has no row events; its underlying connection does.
  const core = (connection as unknown as { connection: CoreConnection }).connection;
  return new Promise((resolve, reject) => {
    let numeric: number[] = [];
    let lastKey: string | undefined;
    let failure: unknown;
    core
      .query({ sql, rowsAsArray: true })
      .on("fields", (fields: FieldPacket[]) => {
        try {
          numeric = numericColumns(table, fields);
        } catch (error) {
          failure ??= error;
        }
      })
      .on("result", (row: (string | number | null)[]) => {
        if (failure !== undefined) return;
        for (const index of numeric)
          if (typeof row[index] === "number") row[index] = String(row[index]);
        const raw = row as (string | null)[];
        lastKey = raw[keyIndex]!;
        try {
          onRow(raw);
        } catch (error) {
          failure = error;
        }
      })
      .on("error", (error: Error) => {
        failure ??= error;
      })
      .on("end", () => {
        if (failure !== undefined) reject(failure as Error);
        else resolve(lastKey === undefined ? undefined : { after, upTo: BigInt(lastKey) });
      });
  });
}

export async function countSourceRows(
  connection: Connection,
  table: MigrationTable,
  range: KeyRange = {},
): Promise<number> {
  const [rows] = await connection.query({
    sql: `SELECT COUNT(*) FROM ${mysqlId(table.legacyTable)} WHERE ${mysqlRangeCondition(table, range, [])}`,
    rowsAsArray: true,
  });
  return Number((rows as unknown as string[][])[0][0]);
}

export async function keyBounds(
  connection: Connection,
  table: MigrationTable,
): Promise<KeyRange | undefined> {
  const key = mysqlId(table.key.legacy.column);
  const [rows] = await connection.query({
    sql: `SELECT MIN(${key}), MAX(${key}) FROM ${mysqlId(table.legacyTable)}`,
    rowsAsArray: true,
  });
  const [min, max] = (rows as unknown as (string | null)[][])[0];
  if (min === null || max === null) return undefined;
  return { after: BigInt(min) - 1n, upTo: BigInt(max) };
}

/** The source's column types are not the legacy schema's: a user-facing stop, not a crash. */
export class SourceTypeError extends Error {
  readonly exitCode = 2;
}

/** MySQL protocol column types (see mysql2's constants/types). */
const SMALL_INTEGER_TYPES = new Set([1, 2, 3, 9, 13]); // TINY, SHORT, LONG, INT24, YEAR
const FLOATING_TYPES = new Set([4, 5]); // FLOAT, DOUBLE
const BINARY_CHARSET = 63;
const BLOB_TYPES = new Set([249, 250, 251, 252, 253, 254]);

/**
 * Indexes of the columns mysql2 hands back as JS numbers (small integers: exact). A floating-point
 * or binary column would lose exactness or arrive as bytes, so it stops the run instead.
 */
function numericColumns(table: MigrationTable, fields: FieldPacket[]): number[] {
  const indexes: number[] = [];
  fields.forEach((field, index) => {
    const type = field.columnType ?? field.type ?? 0;
    if (SMALL_INTEGER_TYPES.has(type)) indexes.push(index);
    else if (
      FLOATING_TYPES.has(type) ||
      (BLOB_TYPES.has(type) && field.characterSet === BINARY_CHARSET)
    ) {
      throw new SourceTypeError(
        `${table.legacyTable}.${field.name} is a ${FLOATING_TYPES.has(type) ? "floating-point" : "binary"} column in the source; ` +
          "the migration reads only exact text and integer types (see schema/ for the expected legacy types)",
      );
    }
  });
  return indexes;
}
