/**
 * The order-independent content checksum that `data verify` compares across the source and the
 * targets. Every value is first put in one normal form, identical on every side:
 *
 *   integer → decimal digits; string/enum → as is; decimal → fixed-scale text (`1.500000`);
 *   datetime → `YYYY-MM-DD HH:MM:SS.ffffff` in UTC; date → `YYYY-MM-DD`; boolean → `1`/`0`;
 *   JSON → BigQuery's canonical JSON text (`canonical-json.ts`).
 *
 * A row's text is the concatenation over its non-JSON columns of `<code points>:<value>` or `N`
 * for NULL (length-prefixed, so NULL, '' and the text `\N` differ and no separator can be forged).
 * Each JSON column contributes its own text, bound to the row by its key:
 * `<key>#<column index>#` + the length-prefixed canonical JSON. A hash is the first 15 hex digits
 * (60 bits) of MD5 of the UTF-8 text as an integer; the checksum is the exact sum of all hashes (a
 * decimal, so no overflow) together with the row count. Keys are unique, so equal sums of row
 * hashes and of key-bound JSON hashes mean equal rows (up to MD5 collisions).
 *
 * The same normal form is computed by SQL on MariaDB/SingleStore, Postgres and BigQuery, and in
 * TypeScript over load files. One exception, documented in the runbook: MariaDB has no way to put
 * JSON in BigQuery's canonical form (JSON is LONGTEXT there), so the source's JSON hashes are
 * computed by the tool from `(key, raw JSON)` pairs the source query returns; everything else is
 * hashed and summed by MariaDB itself. Splitting JSON out keeps that tool-side work small.
 */
import { createHash, hash as oneShotHash } from "node:crypto";
import { canonicalJson } from "./canonical-json";
import type { MigrationColumn, MigrationTable } from "./table-plan";

export interface Checksum {
  readonly rows: number;
  /** Sum of the 60-bit row hashes, as decimal digits. */
  readonly sum: string;
}

/** Half-open key range `(after, upTo]`; either end may be open. */
export interface KeyRange {
  readonly after?: bigint;
  readonly upTo?: bigint;
}

export function sameChecksum(a: Checksum, b: Checksum): boolean {
  return a.rows === b.rows && a.sum === b.sum;
}

const SURROGATE_PAIR = /[\uD800-\uDBFF][\uDC00-\uDFFF]/g;
const HIGH_SURROGATE = /[\uD800-\uDBFF]/;

/** Length in code points (what CHAR_LENGTH counts on every side), not UTF-16 units. */
function codePointLength(s: string): number {
  // Most values hold no astral character: skip the scan for them.
  if (!HIGH_SURROGATE.test(s)) return s.length;
  return s.length - (s.match(SURROGATE_PAIR)?.length ?? 0);
}

/** The row's checksum text part for one normalised value. */
function normalPart(value: string | null): string {
  return value === null ? "N" : `${codePointLength(value)}:${value}`;
}

/** JSON columns are hashed apart from the rest of the row, bound to it by the key. */
function jsonPartText(key: string, columnIndex: number, canonical: string | null): string {
  return `${key}#${columnIndex}#${normalPart(canonical)}`;
}

function rowText(columns: readonly MigrationColumn[], values: readonly (string | null)[]): string {
  // UTF-16 length is the code point count unless the row holds an astral character: one scan of
  // the whole row decides, instead of one per value.
  let text = "";
  for (let i = 0; i < columns.length; i++) {
    if (columns[i].value.kind === "json") continue;
    const v = values[i];
    text += v === null ? "N" : `${v.length}:${v}`;
  }
  if (!HIGH_SURROGATE.test(text)) return text;
  text = "";
  for (let i = 0; i < columns.length; i++)
    if (columns[i].value.kind !== "json") text += normalPart(values[i]);
  return text;
}

/** Adds the hash of a row's non-JSON columns (what the source's `mysqlRowHashHex` computes). */
export function addRowTextHash(
  sum: HashSum,
  columns: readonly MigrationColumn[],
  values: readonly (string | null)[],
): void {
  sum.addHex(md5Hex(rowText(columns, values)));
}

/** Adds the hashes of a row's JSON columns, each bound to the row by its key, to `sum`. */
export function addJsonPartHashes(
  sum: HashSum,
  columns: readonly MigrationColumn[],
  keyIndex: number,
  values: readonly (string | null)[],
): void {
  for (let i = 0; i < columns.length; i++) {
    if (columns[i].value.kind === "json")
      sum.addHex(md5Hex(jsonPartText(values[keyIndex]!, i, values[i])));
  }
}

/**
 * A sum of 60-bit hashes given as 15 hex digits, kept in two exact doubles (high 28 and low 32
 * bits) instead of a BigInt per row; folded into a BigInt before either could lose precision.
 */
export class HashSum {
  private high = 0;
  private low = 0;
  private pending = 0;
  private folded = 0n;
  /** Adds the hash given by the first 15 hex digits of `hex` (an MD5 hex digest, or just those). */
  addHex(hex: string): void {
    // Parsed in place: two slices and parseInt per row cost more. (A digest as a Buffer was
    // slower still: a Buffer per row costs more than the hex string.)
    let high = 0;
    for (let i = 0; i < 7; i++) high = high * 16 + hexDigit(hex.charCodeAt(i));
    let low = 0;
    for (let i = 7; i < 15; i++) low = low * 16 + hexDigit(hex.charCodeAt(i));
    this.high += high;
    this.low += low;
    // 2^20 additions keep both under 2^53.
    if (++this.pending === 1 << 20) this.fold();
  }
  private fold(): void {
    this.folded += (BigInt(this.high) << 32n) + BigInt(this.low);
    this.high = 0;
    this.low = 0;
    this.pending = 0;
  }
  total(): bigint {
    this.fold();
    return this.folded;
  }
}

/** Value of a hex digit's char code (MD5 digests: lower case from Node, MariaDB and Postgres). */
function hexDigit(code: number): number {
  return code <= 0x39 ? code - 0x30 : (code | 0x20) - 0x57;
}

/** The summed hashes of a row of normalised values (row text plus key-bound JSON parts). */
export function rowHash(
  columns: readonly MigrationColumn[],
  keyIndex: number,
  values: readonly (string | null)[],
): bigint {
  const sum = new HashSum();
  addRowTextHash(sum, columns, values);
  addJsonPartHashes(sum, columns, keyIndex, values);
  return sum.total();
}

/** MD5 of UTF-8 text: the one-shot `crypto.hash` (Node ≥ 20.12) is much cheaper per row. */
const md5Hex: (text: string) => string =
  typeof oneShotHash === "function"
    ? (text) => oneShotHash("md5", text, "hex")
    : (text) => createHash("md5").update(text, "utf8").digest("hex");

// ---------------------------------------------------------------- MariaDB / SingleStore (source)

export const mysqlId = (name: string) => `\`${name.replace(/`/g, "``")}\``;

function mysqlNormalExpression(c: MigrationColumn): string {
  const col = mysqlId(c.legacy.column);
  // Where a column's own text (what CONCAT and CHAR_LENGTH convert it to) is already the normal
  // form, the column is used bare: explicit CAST and DATE_FORMAT calls on every value were a
  // quarter of the source's hashing time.
  switch (c.value.kind) {
    case "string":
    case "enum":
    case "integer":
    case "decimal": // fixed-scale digits
    case "boolean": // TINYINT(1): its digits
    case "date": // YYYY-MM-DD
      return col;
    case "datetime":
      // A DATETIME(6) is already `YYYY-MM-DD HH:MM:SS.ffffff`; the cast also pads DATETIME(0..5).
      return `CAST(${col} AS DATETIME(6))`;
    case "json":
      throw new Error("JSON is normalised by the tool on the MySQL side");
  }
}

function mysqlPart(c: MigrationColumn): string {
  const e = mysqlNormalExpression(c);
  return `IFNULL(CONCAT(CHAR_LENGTH(${e}), ':', ${e}), 'N')`;
}

export function mysqlRangeCondition(
  table: MigrationTable,
  range: KeyRange,
  excluded: readonly string[],
): string {
  const key = mysqlId(table.key.legacy.column);
  const conditions = ["1=1"];
  if (range.after !== undefined) conditions.push(`${key} > ${range.after}`);
  if (range.upTo !== undefined) conditions.push(`${key} <= ${range.upTo}`);
  if (excluded.length > 0) conditions.push(`${key} NOT IN (${excluded.join(", ")})`);
  return conditions.join(" AND ");
}

export function hasJsonColumn(table: MigrationTable): boolean {
  return table.columns.some((c) => c.value.kind === "json");
}

/**
 * One row's hash of its non-JSON columns, computed by MariaDB/SingleStore (15 hex digits). The copy
 * selects it beside the row, so the source's side of the inline verification is the database's own
 * SQL over the very rows the copy reads.
 */
export function mysqlRowHashHex(table: MigrationTable): string {
  const rowText = `CONCAT(${table.columns
    .filter((c) => c.value.kind !== "json")
    .map(mysqlPart)
    .join(", ")})`;
  return `SUBSTRING(MD5(${rowText}), 1, 15)`;
}

/** Whole checksum in one MariaDB query (tables without JSON columns). */
export function mysqlChecksumSql(
  table: MigrationTable,
  range: KeyRange,
  excluded: readonly string[],
): string {
  return (
    `SELECT COUNT(*) AS row_count, ` +
    `CAST(IFNULL(SUM(CAST(CONV(${mysqlRowHashHex(table)}, 16, 10) AS UNSIGNED)), 0) AS CHAR) AS hash_sum ` +
    `FROM ${mysqlId(table.legacyTable)} WHERE ${mysqlRangeCondition(table, range, excluded)}`
  );
}

/** `(key, raw JSON text…)` rows for the tool-side JSON hashes. */
export function mysqlJsonPartsSql(table: MigrationTable): string {
  const json = table.columns
    .filter((c) => c.value.kind === "json")
    .map((c) => mysqlId(c.legacy.column));
  return `SELECT CAST(${mysqlId(table.key.legacy.column)} AS CHAR), ${json.join(", ")} FROM ${mysqlId(table.legacyTable)}`;
}

/** Adds the JSON hashes of one `mysqlJsonPartsSql` row (index 0 is the key) to `sum`. */
export function addJsonHashesFromMysqlParts(
  sum: HashSum,
  table: MigrationTable,
  parts: readonly (string | null)[],
): void {
  let p = 1;
  table.columns.forEach((c, i) => {
    if (c.value.kind !== "json") return;
    const raw = parts[p++];
    let canonical: string | null = null;
    if (raw !== null) {
      try {
        canonical = canonicalJson(raw);
      } catch {
        // Unconvertible JSON never reaches a target; a marker makes the checksum differ.
        canonical = `\u0000invalid:${raw}`;
      }
    }
    sum.addHex(md5Hex(jsonPartText(parts[0]!, i, canonical)));
  });
}

// ---------------------------------------------------------------- PostgreSQL

const pgId = (name: string) => `"${name.replace(/"/g, '""')}"`;

function pgNormalExpression(c: MigrationColumn): string {
  const col = pgId(c.name);
  switch (c.value.kind) {
    case "datetime":
      return `to_char(${col} AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US')`;
    case "boolean":
      return `${col}::int::text`;
    default:
      return `${col}::text`;
  }
}

export function pgChecksumSql(table: MigrationTable, range: KeyRange): string {
  const rowText = table.columns
    .map((c) => {
      const e = pgNormalExpression(c);
      return `coalesce(char_length(${e})::text || ':' || ${e}, 'N')`;
    })
    .join(" || ");
  const key = pgId(table.key.name);
  const conditions = ["true"];
  if (range.after !== undefined) conditions.push(`${key} > ${range.after}`);
  if (range.upTo !== undefined) conditions.push(`${key} <= ${range.upTo}`);
  return (
    `SELECT count(*)::bigint::text AS row_count, ` +
    `coalesce(sum(('x' || substr(md5(${rowText}), 1, 15))::bit(60)::bigint), 0)::text AS hash_sum ` +
    `FROM ${pgId(table.name)} WHERE ${conditions.join(" AND ")}`
  );
}

// ---------------------------------------------------------------- BigQuery (standard SQL)

const bqId = (name: string) => `\`${name}\``;

function bqNormalExpression(c: MigrationColumn): string {
  const col = bqId(c.name);
  switch (c.value.kind) {
    case "string":
    case "enum":
      return col;
    case "integer":
      return `CAST(${col} AS STRING)`;
    case "decimal":
      return `FORMAT('%.${c.value.scale}f', ${col})`;
    case "datetime":
      return `FORMAT_TIMESTAMP('%Y-%m-%d %H:%M:%E6S', ${col}, 'UTC')`;
    case "date":
      return `FORMAT_DATE('%Y-%m-%d', ${col})`;
    case "boolean":
      return `CAST(CAST(${col} AS INT64) AS STRING)`;
    case "json":
      // TO_JSON_STRING(NULL) is the text 'null'; SQL NULL must stay NULL (`N` in the row text).
      return `IF(${col} IS NULL, NULL, TO_JSON_STRING(${col}))`;
  }
}

/**
 * BigQuery checksum of a table, `tableRef` being the fully qualified, backquoted table
 * (`` `project.dataset.table` ``). Returns one row (row_count INT64, hash_sum STRING).
 */
export function bigQueryChecksumSql(
  table: MigrationTable,
  tableRef: string,
  range: KeyRange,
): string {
  const part = (c: MigrationColumn) => {
    const e = bqNormalExpression(c);
    return `COALESCE(CONCAT(CAST(CHAR_LENGTH(${e}) AS STRING), ':', ${e}), 'N')`;
  };
  const hash = (text: string) =>
    `CAST(CAST(CONCAT('0x', SUBSTR(TO_HEX(MD5(${text})), 1, 15)) AS INT64) AS NUMERIC)`;
  const key = bqId(table.key.name);
  const rowText = `CONCAT(${table.columns
    .filter((c) => c.value.kind !== "json")
    .map(part)
    .join(", ")})`;
  const hashes = [
    hash(rowText),
    ...table.columns.flatMap((c, i) =>
      c.value.kind === "json" ? [hash(`CONCAT(CAST(${key} AS STRING), '#${i}#', ${part(c)})`)] : [],
    ),
  ];
  const conditions = ["TRUE"];
  if (range.after !== undefined) conditions.push(`${key} > ${range.after}`);
  if (range.upTo !== undefined) conditions.push(`${key} <= ${range.upTo}`);
  return (
    `SELECT COUNT(*) AS row_count, ` +
    `CAST(COALESCE(SUM(${hashes.join(" + ")}), 0) AS STRING) AS hash_sum ` +
    `FROM ${tableRef} WHERE ${conditions.join(" AND ")}`
  );
}
