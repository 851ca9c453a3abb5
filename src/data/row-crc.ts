/**
 * The source's side of the inline verification, at the price of a CRC. Hashing each row's normal
 * form in the source's SQL (`mysqlRowHashHex`: a `CHAR_LENGTH` and two CONCATs per column, then
 * MD5) cost MariaDB three times the read itself. Yet every non-JSON value's normal form is its
 * wire text (or, for a DATETIME(0..5), that text padded), so the tool can derive it — provided the
 * text it received is the text the source holds. That is what the source still proves, per row:
 * `CRC32(CONCAT_WS(0x1f, every column))`, a fraction of the cost, checked against the same CRC of
 * the values as the tool decoded them. A character-set or protocol decoding fault, a value cut or
 * altered in transit, fails the row's CRC before anything of its range is written.
 *
 * CONCAT_WS skips NULLs (separator included), so NULL and '' differ wherever another value
 * follows; a swap of a NULL and an '' between neighbouring columns is the one change it cannot
 * see, and the full `data verify` (normal form hashed by the source's own SQL) does. A row longer
 * than the server's max_allowed_packet has no CRC (CONCAT_WS gives NULL): its table is verified
 * by that full scan after the copy. The CRC is of the text in the column's character set, so a
 * column not in utf8mb4 (a MySQL latin1 column; SingleStore has only utf8) fails its rows.
 *
 * MariaDB and MySQL compute CRC32 with the ISO 3309 polynomial (zlib's), SingleStore with
 * Castagnoli's (CRC-32C, docs.singlestore.com "CRC32"): which one a server uses is read off its
 * CRC of the standard check string once per connection.
 */
import type { Connection } from "mysql2/promise";
import { ToolError } from "../errors/tool-error";
import { mysqlId } from "./checksum";
import { LastDataView, writeUtf8 } from "./page-buffer";
import { querySource } from "./source";
import type { MigrationColumn, MigrationTable } from "./table-plan";

export type CrcPolynomial = "iso-3309" | "castagnoli";

/** CRC32 of "123456789" under each polynomial: the standard check values. */
const CHECK_VALUES: Readonly<Record<number, CrcPolynomial>> = {
  0xcbf43926: "iso-3309",
  0xe3069283: "castagnoli",
};

/** Reflected generator polynomials. */
const GENERATORS: Readonly<Record<CrcPolynomial, number>> = {
  "iso-3309": 0xedb88320,
  castagnoli: 0x82f63b78,
};

const crcViews = new LastDataView();

/**
 * Slicing-by-16 tables (Intel's slicing-by-8 method, sixteen bytes a step instead of one), in
 * plain JS: table `k` at `[256 k, 256 k + 256)` of one array.
 */
const tables = new Map<CrcPolynomial, Int32Array>();

function tablesOf(polynomial: CrcPolynomial): Int32Array {
  let slices = tables.get(polynomial);
  if (!slices) {
    slices = new Int32Array(16 * 256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ GENERATORS[polynomial] : c >>> 1;
      slices[n] = c;
    }
    for (let k = 1; k < 16; k++) {
      for (let n = 0; n < 256; n++) {
        const previous = slices[256 * (k - 1) + n];
        slices[256 * k + n] = (previous >>> 8) ^ slices[previous & 0xff];
      }
    }
    tables.set(polynomial, slices);
  }
  return slices;
}

/**
 * A running CRC32 under one polynomial. In plain JS rather than zlib's `crc32`: Node has that one
 * only from 20.15, for one polynomial, and over a row's few hundred bytes the two cost the same.
 */
export class Crc32 {
  private readonly t: Int32Array;

  constructor(readonly polynomial: CrcPolynomial) {
    this.t = tablesOf(polynomial);
  }

  /** The register before the first byte. */
  static readonly INITIAL = -1;

  /** Feeds `b[start, end)` into the register `crc`; returns the new register. */
  bytes(crc: number, b: Uint8Array, start: number, end: number): number {
    const t = this.t;
    let i = start;
    if (end - i >= 8) {
      // Two or four little-endian words a step (a DataView), not eight or sixteen byte loads.
      const view = crcViews.of(b);
      for (; i + 16 <= end; i += 16) {
        const a = crc ^ view.getInt32(i, true);
        const c = view.getInt32(i + 4, true);
        const e = view.getInt32(i + 8, true);
        const g = view.getInt32(i + 12, true);
        crc =
          t[3840 + (a & 0xff)] ^
          t[3584 + ((a >>> 8) & 0xff)] ^
          t[3328 + ((a >>> 16) & 0xff)] ^
          t[3072 + (a >>> 24)] ^
          t[2816 + (c & 0xff)] ^
          t[2560 + ((c >>> 8) & 0xff)] ^
          t[2304 + ((c >>> 16) & 0xff)] ^
          t[2048 + (c >>> 24)] ^
          t[1792 + (e & 0xff)] ^
          t[1536 + ((e >>> 8) & 0xff)] ^
          t[1280 + ((e >>> 16) & 0xff)] ^
          t[1024 + (e >>> 24)] ^
          t[768 + (g & 0xff)] ^
          t[512 + ((g >>> 8) & 0xff)] ^
          t[256 + ((g >>> 16) & 0xff)] ^
          t[g >>> 24];
      }
      if (i + 8 <= end) {
        const a = crc ^ view.getInt32(i, true);
        const c = view.getInt32(i + 4, true);
        crc =
          t[1792 + (a & 0xff)] ^
          t[1536 + ((a >>> 8) & 0xff)] ^
          t[1280 + ((a >>> 16) & 0xff)] ^
          t[1024 + (a >>> 24)] ^
          t[768 + (c & 0xff)] ^
          t[512 + ((c >>> 8) & 0xff)] ^
          t[256 + ((c >>> 16) & 0xff)] ^
          t[c >>> 24];
        i += 8;
      }
    }
    for (; i < end; i++) crc = t[(crc ^ b[i]) & 0xff] ^ (crc >>> 8);
    return crc;
  }

  /** Feeds one byte into the register `crc`. */
  byte(crc: number, value: number): number {
    return this.t[(crc ^ value) & 0xff] ^ (crc >>> 8);
  }

  /** The CRC of everything fed into `crc`. */
  static final(crc: number): number {
    return (crc ^ -1) >>> 0;
  }
}

/** CRC32 of `bytes[0, length)` under `polynomial`. */
export function crc32Of(polynomial: CrcPolynomial, bytes: Uint8Array, length: number): number {
  const crc = new Crc32(polynomial);
  return Crc32.final(crc.bytes(Crc32.INITIAL, bytes, 0, length));
}

/** The source's CRC32 polynomial, from its CRC of the check string. */
export async function sourceCrcPolynomial(source: Connection): Promise<CrcPolynomial> {
  const rows = (await querySource(source, {
    sql: "SELECT CRC32('123456789')",
    rowsAsArray: true,
  })) as (string | number)[][];
  const value = Number(rows[0][0]);
  const polynomial = CHECK_VALUES[value];
  if (polynomial === undefined) {
    throw new ToolError(
      "mismatch",
      `the source database's CRC32('123456789') is ${value}, neither ISO 3309's nor Castagnoli's: the inline verification cannot check its rows; run with --no-verify, then \`data verify\``,
    );
  }
  return polynomial;
}

/** Selected beside each row: the source's CRC32 of its values as text, NULLs skipped. */
export function mysqlRowCrcSql(table: MigrationTable): string {
  return `CRC32(CONCAT_WS(_utf8mb4 X'1F', ${table.columns.map((c) => mysqlId(c.legacy.column)).join(", ")}))`;
}

/** A row whose values arrived different from what the source holds. */
export class SourceRowChangedError extends ToolError {
  constructor(message: string) {
    super("mismatch", message);
  }
}

let scratch = Buffer.allocUnsafe(1 << 14);

function scratchOf(bytes: number): Buffer {
  if (scratch.length < bytes) scratch = Buffer.allocUnsafe(Math.max(bytes, scratch.length * 2));
  return scratch;
}

/**
 * Checks each raw row (as decoded from the wire) against the CRC the source computed of it
 * (`mysqlRowCrcSql`, at `crcIndex` of the raw row): the row's values joined by 0x1f, as
 * CONCAT_WS builds them, written as UTF-8 and CRC'd in one pass.
 */
export class RowCrcCheck {
  private readonly crc: Crc32;
  /** Per row, reused: the length bytes `matchesWire` overwrote, and where. */
  private readonly savedAt: Int32Array;
  private readonly savedBytes: Uint8Array;

  constructor(
    private readonly table: MigrationTable,
    polynomial: CrcPolynomial,
    private readonly crcIndex: number,
  ) {
    this.crc = new Crc32(polynomial);
    this.savedAt = new Int32Array(table.columns.length);
    this.savedBytes = new Uint8Array(table.columns.length);
  }

  /**
   * `check` of a row read as bytes (`WireRow`), over the bytes themselves: true only when the source
   * sent a CRC and it matches. False says nothing more: the decoded path then checks the row and
   * gives the verdict (the error, or the row too long to CRC).
   *
   * In the packet a value shorter than 251 bytes is preceded by its one-byte length, which is where
   * CONCAT_WS puts its separator: overwritten by 0x1f for the moment of the CRC (and put back), the
   * values run as one span of the CRC's eight-bytes-a-step loop instead of one short run each,
   * whose bytes mostly went one at a time. A NULL (0xfb, no separator) or a longer length breaks
   * the span.
   */
  matchesWire(b: Uint8Array, start: Int32Array, end: Int32Array): boolean {
    const at = start[this.crcIndex];
    if (at < 0) return false;
    const to = end[this.crcIndex];
    if (to - at > 10) return false;
    let expected = 0;
    for (let k = at; k < to; k++) expected = expected * 10 + b[k] - 48;
    const { crc, savedAt, savedBytes } = this;
    let register = Crc32.INITIAL;
    let spanStart = -1;
    let spanEnd = -1;
    let saved = 0;
    const columns = this.table.columns.length;
    for (let i = 0; i < columns; i++) {
      const s = start[i];
      if (s < 0) continue;
      if (spanStart < 0) spanStart = s;
      else if (s - 1 === spanEnd) {
        savedAt[saved] = spanEnd;
        savedBytes[saved++] = b[spanEnd];
        b[spanEnd] = 0x1f;
      } else {
        register = crc.byte(crc.bytes(register, b, spanStart, spanEnd), 0x1f);
        spanStart = s;
      }
      spanEnd = end[i];
    }
    if (spanStart >= 0) register = crc.bytes(register, b, spanStart, spanEnd);
    while (saved > 0) {
      saved--;
      b[savedAt[saved]] = savedBytes[saved];
    }
    return Crc32.final(register) === expected;
  }

  /**
   * Throws unless the row's values are those the source holds; false when the source sent no CRC:
   * CONCAT_WS is NULL for a row longer than its max_allowed_packet.
   */
  check(raw: readonly (string | null)[]): boolean {
    if (raw[this.crcIndex] === null) return false;
    const columns: readonly MigrationColumn[] = this.table.columns;
    let worst = columns.length;
    for (let i = 0; i < columns.length; i++) worst += (raw[i]?.length ?? 0) * 3;
    const b = scratchOf(worst);
    let at = 0;
    let first = true;
    for (let i = 0; i < columns.length; i++) {
      const value = raw[i];
      if (value === null) continue;
      if (!first) b[at++] = 0x1f;
      first = false;
      at = writeUtf8(value, b, at);
    }
    const computed = Crc32.final(this.crc.bytes(Crc32.INITIAL, b, 0, at));
    const expected = Number(raw[this.crcIndex]);
    if (computed === expected) return true;
    const key = raw[columns.indexOf(this.table.key)];
    throw new SourceRowChangedError(
      `${this.table.name}: row ${this.table.key.name}=${key} arrived different from what the source holds ` +
        `(its CRC32 is ${expected} at the source, ${computed} as read): the connection's character set or the ` +
        `decoding alters values, or a column is not in utf8mb4; nothing of its key range was written`,
    );
  }
}
