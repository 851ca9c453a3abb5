/**
 * Reading the legacy database (SingleStore, or MariaDB standing in for it) over the MySQL protocol.
 * Every value arrives as text (`typeCast` hands back the wire string): no float for DECIMAL, no JS
 * Date for DATETIME(6), JSON as its stored text, BIGINT as digits. Tables are read in key order by
 * keyset pagination (`WHERE key > last ORDER BY key LIMIT n`), so each page is a key range that
 * can be committed and checkpointed on its own.
 */
import { createConnection, type Connection, type TypeCast } from "mysql2/promise";
import type { KeyRange } from "./checksum";
import type { MigrationTable } from "./table-plan";

const asText: TypeCast = (field) => field.string("utf8");

export async function connectSource(url: string): Promise<Connection> {
  const connection = await createConnection({
    uri: url,
    charset: "utf8mb4_unicode_ci",
    supportBigNumbers: true,
    bigNumberStrings: true,
    dateStrings: true,
    decimalNumbers: false,
    typeCast: asText,
    // The legacy timestamps are UTC; a session time zone must not shift anything we compute.
    timezone: "Z",
  });
  await connection.query("SET time_zone = '+00:00'");
  return connection;
}

export interface SourcePage {
  /** Raw values, columns in `table.columns` order. */
  readonly rows: (string | null)[][];
  /** The range this page covers: `(after, upTo]`. */
  readonly range: { readonly after?: bigint; readonly upTo: bigint };
}

const q = (name: string) => `\`${name.replace(/`/g, "``")}\``;

/** The next page after `after` (exclusive), or undefined when the table has no more rows. */
export async function readPage(
  connection: Connection,
  table: MigrationTable,
  after: bigint | undefined,
  pageSize: number,
  upTo?: bigint,
): Promise<SourcePage | undefined> {
  const key = q(table.key.legacy.column);
  const bounds = [
    ...(after === undefined ? [] : [`${key} > ${after}`]),
    ...(upTo === undefined ? [] : [`${key} <= ${upTo}`]),
  ];
  const where = bounds.length === 0 ? "" : `WHERE ${bounds.join(" AND ")}`;
  const sql = `SELECT ${table.columns.map((c) => q(c.legacy.column)).join(", ")} FROM ${q(table.legacyTable)} ${where} ORDER BY ${key} LIMIT ${pageSize}`;
  const [rows] = await connection.query({ sql, rowsAsArray: true });
  const page = rows as unknown as (string | null)[][];
  if (page.length === 0) return undefined;
  const keyIndex = table.columns.indexOf(table.key);
  return { rows: page, range: { after, upTo: BigInt(page[page.length - 1][keyIndex]!) } };
}

export async function countSourceRows(
  connection: Connection,
  table: MigrationTable,
  range: KeyRange = {},
): Promise<number> {
  const key = q(table.key.legacy.column);
  const bounds = [
    ...(range.after === undefined ? [] : [`${key} > ${range.after}`]),
    ...(range.upTo === undefined ? [] : [`${key} <= ${range.upTo}`]),
  ];
  const where = bounds.length === 0 ? "" : ` WHERE ${bounds.join(" AND ")}`;
  const [rows] = await connection.query({
    sql: `SELECT COUNT(*) FROM ${q(table.legacyTable)}${where}`,
    rowsAsArray: true,
  });
  return Number((rows as unknown as string[][])[0][0]);
}

export async function keyBounds(
  connection: Connection,
  table: MigrationTable,
): Promise<KeyRange | undefined> {
  const key = q(table.key.legacy.column);
  const [rows] = await connection.query({
    sql: `SELECT MIN(${key}), MAX(${key}) FROM ${q(table.legacyTable)}`,
    rowsAsArray: true,
  });
  const [min, max] = (rows as unknown as (string | null)[][])[0];
  if (min === null || max === null) return undefined;
  return { after: BigInt(min) - 1n, upTo: BigInt(max) };
}
