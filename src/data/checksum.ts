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
import { writeWireDatetime as writeWireDatetimeExport } from "./convert";
import { copyWireBytes as copyWireBytesExport } from "./row-encoding";
import {
  md5Prefix as md5PrefixExport,
  md5PrefixOf as md5PrefixOfExport,
  setPrefixOfWords as setPrefixOfWordsExport,
} from "./md5";
import { md5Lanes, padSlot as padSlotExport, SLOT_MESSAGE_BYTES, type Md5Lanes } from "./md5-lanes";
import {
  isLowSurrogate as isLowSurrogateExport,
  LastDataView,
  NATIVE_WRITE_UNITS as NATIVE_WRITE_UNITS_EXPORT,
  writeNonAscii as writeNonAsciiExport,
  writeUtf8 as writeUtf8Export,
} from "./page-buffer";
import type { MigrationColumn, MigrationTable } from "./table-plan";
import type { CanonicalJsonSpans } from "./canonical-json-bytes";

// Module-local bindings of per-value functions: compiled to CommonJS, every use of an imported
// binding is a call of a getter on the exporting module, which cost a worker ~0.3 CPU-s.
const isLowSurrogate = isLowSurrogateExport;
const NATIVE_WRITE_UNITS = NATIVE_WRITE_UNITS_EXPORT;
const writeNonAscii = writeNonAsciiExport;
const writeUtf8 = writeUtf8Export;
const md5Prefix = md5PrefixExport;
const md5PrefixOf = md5PrefixOfExport;
const setPrefixOfWords = setPrefixOfWordsExport;
const writeWireDatetime = writeWireDatetimeExport;
const copyWireBytes = copyWireBytesExport;
const padSlot = padSlotExport;
const SLOT_MESSAGE = SLOT_MESSAGE_BYTES;

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

/**
 * The row's checksum text is written as UTF-8 straight into a buffer and hashed from there:
 * building it as a string (a rope of `<length>:<value>` parts, flattened and encoded again by the
 * hash) cost more than the MD5 itself. The buffer is a slot of the four-lane MD5 (`md5-lanes.ts`)
 * where the text fits one, else this one, grown when a row needs more; per thread.
 */
let scratch = Buffer.allocUnsafe(1 << 14);
/** `scratch.subarray(0, n)` per length `n`, made once: a view per row was a Buffer per row. */
let scratchViews: Buffer[] = [];
const MAX_CACHED_VIEW = 1 << 14;

/**
 * MD5 four texts at a time (WebAssembly SIMD; 2.1× the hashes per CPU-second of `md5.ts` on
 * 250-byte texts, bench/data-migration/md5.ts), where the engine runs it. A text is written into
 * the next free slot of a queue and queued with the sums its hash goes to; the four run together
 * once the last slot is queued, and whatever is queued runs before any sum is read
 * (`HashSum.total`). The four run as many blocks as the longest of them, so a row's JSON parts
 * (a block or two) have a queue of their own: queued between the rows' texts (four or five blocks
 * of an events row) they each cost as much as a row.
 */
class HashQueue {
  private readonly views: readonly DataView[];
  queued = 0;
  private readonly blocks = new Int32Array(4);
  /** Per queued text, the sum its hash is added to and a second one (or undefined). */
  private readonly sums: (HashSum | undefined)[] = [];

  constructor(private readonly lanes: Md5Lanes) {
    this.views = lanes.slots.map((s) => new DataView(s.buffer, s.byteOffset, s.byteLength));
  }

  /** The next free slot, and a DataView of it. */
  slot(): Buffer {
    return this.lanes.slots[this.queued];
  }
  view(): DataView {
    return this.views[this.queued];
  }

  /** Queues the text of `length` bytes in the next free slot; runs the four once it is the last. */
  add(length: number, first: HashSum, second: HashSum | undefined): void {
    const q = this.queued;
    this.blocks[q] = padSlot(this.lanes.slots[q], length);
    this.sums[2 * q] = first;
    this.sums[2 * q + 1] = second;
    this.queued = q + 1;
    if (q === 3) this.run();
  }

  /** Hashes the queued texts and adds each hash to its sums. */
  run(): void {
    const { blocks, sums } = this;
    for (let i = this.queued; i < 4; i++) blocks[i] = 0;
    this.lanes.run(blocks[0], blocks[1], blocks[2], blocks[3]);
    const words = this.lanes.words;
    for (let i = 0; i < this.queued; i++) {
      setPrefixOfWords(words[i], words[4 + i]);
      sums[2 * i]!.add(md5Prefix.high, md5Prefix.low);
      sums[2 * i + 1]?.add(md5Prefix.high, md5Prefix.low);
      sums[2 * i] = sums[2 * i + 1] = undefined;
    }
    this.queued = 0;
  }
}

function hashQueue(): HashQueue | undefined {
  const lanes = md5Lanes();
  return lanes && new HashQueue(lanes);
}

const rowTexts = hashQueue();
const jsonParts = hashQueue();
/** The queue whose slot the last `scratchOf` gave, or undefined (`scratch`). */
let inSlot: HashQueue | undefined;

/** A buffer for a text of at most `maxBytes`: the next slot of `queue`, else `scratch`. */
function scratchOf(maxBytes: number, queue = rowTexts): Buffer {
  if (queue !== undefined && maxBytes <= SLOT_MESSAGE) {
    inSlot = queue;
    return queue.slot();
  }
  inSlot = undefined;
  if (scratch.length < maxBytes) {
    scratch = Buffer.allocUnsafe(Math.max(maxBytes, scratch.length * 2));
    scratchViews = [];
  }
  return scratch;
}

const scratchDataViews = new LastDataView();
/** Of the canonical JSON bytes the wire path hashes its JSON parts from. */
const jsonPartViews = new LastDataView();

/** A DataView of the buffer the last `scratchOf` gave, for stores of four bytes. */
function scratchView(): DataView {
  return inSlot !== undefined ? inSlot.view() : scratchDataViews.of(scratch);
}

/**
 * Adds the hash of the first `length` bytes of the buffer the last `scratchOf` gave to `first`
 * and to `second`: at once, or once its slot's four texts run.
 */
function addScratchHash(length: number, first: HashSum, second: HashSum | undefined): void {
  const queue = inSlot;
  if (queue === undefined) {
    hashScratch(length);
    first.add(md5Prefix.high, md5Prefix.low);
    second?.add(md5Prefix.high, md5Prefix.low);
    return;
  }
  inSlot = undefined;
  queue.add(length, first, second);
}

/** Runs whatever either queue holds. */
function runQueuedHashes(): void {
  if (rowTexts !== undefined && rowTexts.queued > 0) rowTexts.run();
  if (jsonParts !== undefined && jsonParts.queued > 0) jsonParts.run();
}

/**
 * Below this many bytes the TypeScript MD5 (`md5.ts`) is cheaper than node:crypto's per call; above
 * it OpenSSL's faster blocks win (bench/data-migration/md5.ts, CPU time per call: 2.0× at 50
 * bytes, 1.45× at 250, 1.2× at 600, even at 2000).
 */
const JS_MD5_BELOW = 2048;

/** The 60-bit MD5 prefix of the first `length` bytes of the scratch buffer, into `md5Prefix`. */
function hashScratch(length: number): void {
  if (length < JS_MD5_BELOW) {
    md5PrefixOf(scratch, length);
    return;
  }
  const view =
    length <= MAX_CACHED_VIEW
      ? (scratchViews[length] ??= scratch.subarray(0, length))
      : scratch.subarray(0, length);
  const hex = md5Hex(view);
  md5Prefix.high = hexValue(hex, 0, 7);
  md5Prefix.low = hexValue(hex, 7, 15);
}

/** Room for `<code points>:<value>` of a value of `units` UTF-16 units (or `N`). */
const partBytes = (units: number) => units * 3 + 12;

/** Digits of a non-negative integer. */
function decimalWidth(n: number): number {
  let width = 1;
  while (n >= 10) {
    n = Math.floor(n / 10);
    width++;
  }
  return width;
}

/**
 * `n`'s digits, with no division for the lengths most values have (below 100): a row's text
 * writes one per column, and two floating-point divisions per digit showed.
 */
function writeLength(n: number, b: Buffer, at: number): number {
  if (n < 10) {
    b[at] = 0x30 + n;
    return at + 1;
  }
  if (n < 100) {
    const tens = (n * 103) >>> 10; // ⌊n / 10⌋ for n < 179
    b[at] = 0x30 + tens;
    b[at + 1] = 0x30 + n - 10 * tens;
    return at + 2;
  }
  return writeDecimal(n, decimalWidth(n), b, at);
}

function writeDecimal(n: number, width: number, b: Buffer, at: number): number {
  for (let k = width - 1; k >= 0; k--) {
    b[at + k] = 0x30 + (n % 10);
    n = Math.floor(n / 10);
  }
  return at + width;
}

/**
 * Writes the checksum text part of one normalised value: `N` for NULL, else `<n>:<value>` with `n`
 * the value's length in code points (what CHAR_LENGTH counts on every side), not UTF-16 units.
 */
function writeNormalPart(v: string | null, b: Buffer, at: number): number {
  if (v === null) {
    b[at] = 0x4e; // N
    return at + 1;
  }
  const units = v.length;
  // The value is written after room for its length in units; a surrogate pair is one code point,
  // so a value with astral characters may have a shorter count, and moves left.
  const width = decimalWidth(units);
  const start = at + width + 1;
  let end = start;
  let pairs = 0;
  if (units >= NATIVE_WRITE_UNITS) {
    end = writeUtf8(v, b, start);
    // Not all ASCII: each surrogate pair is the one 4-byte sequence (lead byte F0…F4) it became.
    if (end - start !== units) {
      for (let k = start; k < end; k++) if (b[k] >= 0xf0) pairs++;
    }
  } else {
    for (let i = 0; i < units; i++) {
      const c = v.charCodeAt(i);
      if (c < 0x80) {
        b[end++] = c;
        continue;
      }
      end = writeNonAscii(v, i, c, b, end);
      if (c >= 0xd800 && c <= 0xdbff && isLowSurrogate(v, i + 1)) {
        i++;
        pairs++;
      }
    }
  }
  const count = units - pairs;
  const countWidth = pairs === 0 ? width : decimalWidth(count);
  if (countWidth !== width) {
    b.copyWithin(at + countWidth + 1, start, end);
    end -= width - countWidth;
  }
  b[writeDecimal(count, countWidth, b, at)] = 0x3a; // :
  return end;
}

/** Adds the hash of a row's non-JSON columns (what the source's `mysqlRowHashHex` computes). */
export function addRowTextHash(
  sum: HashSum,
  columns: readonly MigrationColumn[],
  values: readonly (string | null)[],
): void {
  hashRowText(columns, values, sum, undefined);
}

/** Adds the hash of a row's non-JSON columns' checksum text to `first` and `second`. */
function hashRowText(
  columns: readonly MigrationColumn[],
  values: readonly (string | null)[],
  first: HashSum,
  second: HashSum | undefined,
): void {
  let worst = 0;
  for (let i = 0; i < columns.length; i++) worst += partBytes(values[i]?.length ?? 0);
  const b = scratchOf(worst);
  let at = 0;
  for (let i = 0; i < columns.length; i++) {
    if (columns[i].value.kind !== "json") at = writeNormalPart(values[i], b, at);
  }
  addScratchHash(at, first, second);
}

/**
 * A raw (wire) value's normal form, as the source's SQL computes it (`mysqlNormalExpression`):
 * the text itself, except a datetime with fewer than six fractional digits, which CAST(… AS
 * DATETIME(6)) pads. Only for values the conversion accepted (a valid datetime here).
 */
function sourceNormal(column: MigrationColumn, raw: string | null): string | null {
  if (raw === null || column.value.kind !== "datetime" || raw.length === 26) return raw;
  return raw.length === 19 ? `${raw}.000000` : raw.padEnd(26, "0");
}

/**
 * The inline verification's two sides of one row's non-JSON columns: to `source`, the hash of the
 * source's normal form derived from the raw values (which `row-crc.ts` proved are what the source
 * holds); to `target` (load files; Postgres hashes its own side), the hash of the converted values.
 * The two texts are equal unless the conversion changed a value, so a row is almost always hashed
 * once, its hash added to both.
 */
export function addRowHashes(
  source: HashSum,
  target: HashSum | undefined,
  columns: readonly MigrationColumn[],
  raw: readonly (string | null)[],
  row: readonly (string | null)[],
): void {
  let same = true;
  for (let i = 0; i < columns.length; i++) {
    if (columns[i].value.kind !== "json" && sourceNormal(columns[i], raw[i]) !== row[i]) {
      same = false;
      break;
    }
  }
  if (same) {
    hashRowText(columns, row, source, target);
    return;
  }
  hashRowText(
    columns,
    raw.map((v, i) => (i < columns.length ? sourceNormal(columns[i], v) : v)),
    source,
    undefined,
  );
  if (target) addRowTextHash(target, columns, row);
}

/**
 * `addRowHashes` of a row the wire fast path took (`wire-rows.ts`): its checksum text written from
 * the values' bytes, `b[start[i], end[i])` (NULL where `start[i]` is -1), each string's and enum's
 * length in code points given in `codePoints[i]` (the other kinds are ASCII: their bytes), a datetime padded
 * to six fractional digits as `sourceNormal` pads it. Such a row's values are their own source
 * normal form, so its one hash goes to both sums.
 */
export function addWireRowHashes(
  source: HashSum,
  target: HashSum | undefined,
  columns: readonly MigrationColumn[],
  b: Buffer,
  start: Int32Array,
  end: Int32Array,
  codePoints: Int32Array,
): void {
  let worst = 0;
  for (let i = 0; i < columns.length; i++) worst += WIRE_DATETIME_BYTES + (end[i] - start[i]) + 12;
  const d = scratchOf(worst);
  const dv = scratchView();
  let at = 0;
  for (let i = 0; i < columns.length; i++) {
    const kind = columns[i].value.kind;
    if (kind === "json") continue;
    const s = start[i];
    if (s < 0) {
      d[at++] = 0x4e; // N
      continue;
    }
    const e = end[i];
    if (kind === "datetime") {
      at = writeDecimal(WIRE_DATETIME_BYTES, 2, d, at);
      d[at++] = 0x3a; // :
      at = writeWireDatetime(b, s, e, 0x20, d, at);
      continue;
    }
    // Strings and enums are any UTF-8 (their code points counted as they were written); the other
    // kinds are ASCII.
    const points = kind === "string" || kind === "enum" ? codePoints[i] : e - s;
    at = writeLength(points, d, at);
    d[at++] = 0x3a;
    at = copyWireBytes(b, s, e, d, dv, at);
  }
  addScratchHash(at, source, target);
}

/** A datetime's normal form: `YYYY-MM-DD HH:MM:SS.ffffff`. */
const WIRE_DATETIME_BYTES = 26;

/**
 * Adds the hash of one JSON column's part, bound to the row by its key:
 * `<key>#<column index>#` + the length-prefixed canonical JSON (or `N`).
 */
function addJsonPartHash(
  sum: HashSum,
  key: string,
  columnIndex: number,
  canonical: string | null,
): void {
  const b = scratchOf(key.length * 3 + 24 + partBytes(canonical?.length ?? 0), jsonParts);
  hashJsonPart(sum, b, writeUtf8(key, b, 0), columnIndex, canonical);
}

/** The rest of a JSON part's text, after its key at `b[0, at)`; hashed and added to `sum`. */
function hashJsonPart(
  sum: HashSum,
  b: Buffer,
  at: number,
  columnIndex: number,
  canonical: string | null,
): void {
  b[at++] = 0x23; // #
  at = writeDecimal(columnIndex, decimalWidth(columnIndex), b, at);
  b[at++] = 0x23;
  addScratchHash(writeNormalPart(canonical, b, at), sum, undefined);
}

/** Adds the hashes of a row's JSON columns, each bound to the row by its key, to `sum`. */
export function addJsonPartHashes(
  sum: HashSum,
  columns: readonly MigrationColumn[],
  keyIndex: number,
  values: readonly (string | null)[],
): void {
  for (let i = 0; i < columns.length; i++) {
    if (columns[i].value.kind === "json") addJsonPartHash(sum, values[keyIndex]!, i, values[i]);
  }
}

/**
 * `addJsonPartHashes` of a row the wire fast path took: the key's bytes `b[keyStart, keyEnd)`
 * (ASCII digits), each JSON column's canonical form as UTF-8 in `json`.
 */
export function addWireJsonPartHashes(
  sum: HashSum,
  columns: readonly MigrationColumn[],
  b: Buffer,
  keyStart: number,
  keyEnd: number,
  json: CanonicalJsonSpans,
): void {
  for (let i = 0; i < columns.length; i++) {
    if (columns[i].value.kind !== "json") continue;
    const from = json.start[i];
    const to = json.end[i];
    const d = scratchOf(keyEnd - keyStart + 36 + (from < 0 ? 0 : to - from), jsonParts);
    let at = 0;
    for (let k = keyStart; k < keyEnd; k++) d[at++] = b[k];
    d[at++] = 0x23; // #
    at = writeDecimal(i, decimalWidth(i), d, at);
    d[at++] = 0x23;
    if (from < 0)
      d[at++] = 0x4e; // N
    else {
      // `<code points>:<UTF-8>`, as `writeNormalPart` writes the canonical text: the bytes are
      // copied (and their code points counted) after room for their count in bytes, and move
      // left where the count of code points is shorter.
      const bytes = json.bytes;
      const width = decimalWidth(to - from);
      const valueAt = at + width + 1;
      let w = valueAt;
      let continuations = 0;
      // Four bytes a load and a store; a word with a non-ASCII byte has its continuations counted.
      const dv = scratchView();
      const sv = jsonPartViews.of(bytes);
      let k = from;
      for (; k + 4 <= to; k += 4, w += 4) {
        const word = sv.getInt32(k, true);
        dv.setInt32(w, word, true);
        if ((word & 0x80808080) !== 0) {
          for (let n = 0; n < 32; n += 8) if (((word >>> n) & 0xc0) === 0x80) continuations++;
        }
      }
      for (; k < to; k++) {
        const c = bytes[k];
        d[w++] = c;
        if ((c & 0xc0) === 0x80) continuations++;
      }
      const points = to - from - continuations;
      const pointsWidth = continuations === 0 ? width : decimalWidth(points);
      if (pointsWidth !== width) {
        d.copyWithin(at + pointsWidth + 1, valueAt, w);
        w -= width - pointsWidth;
      }
      d[writeDecimal(points, pointsWidth, d, at)] = 0x3a; // :
      at = w;
    }
    addScratchHash(at, sum, undefined);
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
    // Parsed in place: two slices and parseInt per row cost more.
    this.add(hexValue(hex, 0, 7), hexValue(hex, 7, 15));
  }
  /** Adds the hash whose first 28 bits are `high` and next 32 bits `low`. */
  add(high: number, low: number): void {
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
    runQueuedHashes();
    this.fold();
    return this.folded;
  }
}

/** The number the hex digits `hex[from, to)` spell. */
function hexValue(hex: string, from: number, to: number): number {
  let value = 0;
  for (let i = from; i < to; i++) value = value * 16 + hexDigit(hex.charCodeAt(i));
  return value;
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

/** MD5 of bytes: the one-shot `crypto.hash` (Node ≥ 20.12) is much cheaper per row. */
const md5Hex: (bytes: Uint8Array) => string =
  typeof oneShotHash === "function"
    ? (bytes) => oneShotHash("md5", bytes, "hex")
    : (bytes) => createHash("md5").update(bytes).digest("hex");

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
  const part = `CONCAT(CHAR_LENGTH(${e}), ':', ${e})`;
  // MariaDB's string functions return NULL for a result longer than max_allowed_packet, so a
  // string that long must not pass as the NULL marker: its part stays NULL, and so does the row's
  // hash, which the checksum counts (`mysqlChecksumSql`). The other kinds' texts are a few dozen
  // bytes, far below the smallest max_allowed_packet (1 KiB); their CAST is not computed twice.
  return c.value.kind === "string" ? `IF(${e} IS NULL, 'N', ${part})` : `IFNULL(${part}, 'N')`;
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

/**
 * What `mysqlChecksumSql` adds for each row MariaDB cannot hash (its hash is NULL: the row's text
 * is longer than the server's max_allowed_packet). It lies above any sum of real hashes (each is
 * below 2^60: 8.7e21 rows would reach it), so one column carries the sum and the count of such
 * rows at once, and the hash is computed once per row. A second aggregate over the hash would have
 * MariaDB compute it twice; summing NULL as nothing would leave the row out of the sum unseen.
 */
const UNHASHED_ROW = 10n ** 40n;

/** `mysqlChecksumSql`'s hash_sum apart: the hashes' sum and how many rows had no hash. */
export function splitSourceSum(hashSum: string): { sum: bigint; unhashed: bigint } {
  const total = BigInt(hashSum);
  return { sum: total % UNHASHED_ROW, unhashed: total / UNHASHED_ROW };
}

/**
 * Whole checksum in one MariaDB query of the non-JSON columns (the JSON ones are hashed by the
 * tool); its hash_sum is to be read through `splitSourceSum`.
 */
export function mysqlChecksumSql(
  table: MigrationTable,
  range: KeyRange,
  excluded: readonly string[],
): string {
  return (
    `SELECT COUNT(*) AS row_count, ` +
    `CAST(IFNULL(SUM(IFNULL(CAST(CONV(${mysqlRowHashHex(table)}, 16, 10) AS UNSIGNED), ${UNHASHED_ROW})), 0) AS CHAR) AS hash_sum ` +
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
    addJsonPartHash(sum, parts[0]!, i, canonical);
  });
}

// ---------------------------------------------------------------- PostgreSQL

const pgId = (name: string) => `"${name.replace(/"/g, '""')}"`;

function pgNormalExpression(c: MigrationColumn): string {
  const col = pgId(c.name);
  switch (c.value.kind) {
    case "datetime": {
      // `YYYY-MM-DD HH:MM:SS.ffffff` in UTC. The timestamp's own text (DateStyle ISO, which
      // `connectPostgres` sets) is that with the fraction's trailing zeros left off, and without
      // the dot when it is all zeros; padded back here it costs Postgres 0.57 µs a value, against
      // 1.4 µs for to_char's format engine, which was half the checksum's time.
      const text = `(${col} AT TIME ZONE 'UTC')::text`;
      return `CASE octet_length(${text}) WHEN 26 THEN ${text} WHEN 19 THEN ${text} || '.000000' ELSE rpad(${text}, 26, '0') END`;
    }
    case "boolean":
      return `${col}::int::text`;
    default:
      return `${col}::text`;
  }
}

/**
 * The length prefix of a column's normal form when every value has the same length: a datetime's
 * `YYYY-MM-DD HH:MM:SS.ffffff` (years 1000-9999, all a DATETIME holds; a target value outside them
 * differs from its source anyway) and a boolean's digit. Written as a constant, the expression is
 * evaluated once per value instead of twice.
 */
const PG_FIXED_LENGTHS: Partial<Record<MigrationColumn["value"]["kind"], number>> = {
  datetime: 26,
  boolean: 1,
};

export function pgChecksumSql(table: MigrationTable, range: KeyRange): string {
  const rowText = table.columns
    .map((c) => {
      const e = pgNormalExpression(c);
      const fixed = PG_FIXED_LENGTHS[c.value.kind];
      return fixed === undefined
        ? `coalesce(char_length(${e})::text || ':' || ${e}, 'N')`
        : `coalesce('${fixed}:' || ${e}, 'N')`;
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
