/**
 * The copy's fast path: a row goes from the protocol's bytes (`streamWirePage`) to its NDJSON or
 * COPY line, its CRC check and its checksum text with no string per value. Decoding every value
 * into a string (mysql2), encoding it back to UTF-8 for the CRC, again for the line and again for
 * the checksum text took about half of an analytics lane's CPU time.
 *
 * It takes a row only when each value is one the decoded path passes unchanged: a string that is
 * UTF-8 and within its target's limits (length, U+0000), a canonical integer, a decimal of the
 * column's scale, a valid date or datetime (padded), an enum's own value, a boolean 0/1, JSON that
 * has a canonical form; when its parent rows are there and not rejected; and when the source's
 * CRC matches the bytes. Anything else (a NULL in a NOT NULL column, a value the conversion rejects
 * or rewrites, a missing or rejected parent, bytes that are not UTF-8, a CRC that does not match, a
 * row too long for the source to CRC) makes `copy` return false with nothing written, and the lane
 * runs the decoded path on the same row as mysql2 decodes it, which gives the same line, sums,
 * reject reason or error as before. The differential tests (test/data/wire-rows.test.ts) hold the
 * two paths to the same bytes and sums.
 *
 * A Postgres table with a JSON column (none in schema/ today) stays on the decoded path: its COPY
 * line holds the canonical text, escaped for COPY.
 */
import { isUtf8 } from "node:buffer";
import { canonicalJson as canonicalJsonExport, JsonConversionError } from "./canonical-json";
import {
  canonicalJsonBytes as canonicalJsonBytesExport,
  DECLINED,
  type CanonicalJsonSpans,
} from "./canonical-json-bytes";
import type { HashSum } from "./checksum";
import {
  addWireJsonPartHashes as addWireJsonPartHashesExport,
  addWireRowHashes as addWireRowHashesExport,
} from "./checksum";
import {
  wireDateAccepted as wireDateAcceptedExport,
  wireDatetimeAccepted as wireDatetimeAcceptedExport,
  wireDecimalAccepted as wireDecimalAcceptedExport,
  wireIntegerAccepted as wireIntegerAcceptedExport,
  wireIntegerDigits,
} from "./convert";
import {
  utf8Text as utf8TextExport,
  writeUtf8 as writeUtf8Export,
  type PageBuffer,
} from "./page-buffer";
import type { RowCrcCheck } from "./row-crc";
import {
  writeWireBinaryRow as writeWireBinaryRowExport,
  writeWireCopyLine as writeWireCopyLineExport,
  writeWireNdjsonLine as writeWireNdjsonLineExport,
} from "./row-encoding";
import type { WireRow } from "./source";
import type { MigrationColumn, MigrationTable } from "./table-plan";

// Module-local bindings of per-row functions: compiled to CommonJS, every use of an imported
// binding is a call of a getter on the exporting module.
const addWireJsonPartHashes = addWireJsonPartHashesExport;
const canonicalJson = canonicalJsonExport;
const canonicalJsonBytes = canonicalJsonBytesExport;
const addWireRowHashes = addWireRowHashesExport;
const writeWireCopyLine = writeWireCopyLineExport;
const writeWireBinaryRow = writeWireBinaryRowExport;
const writeWireNdjsonLine = writeWireNdjsonLineExport;
const wireDateAccepted = wireDateAcceptedExport;
const wireDatetimeAccepted = wireDatetimeAcceptedExport;
const wireDecimalAccepted = wireDecimalAcceptedExport;
const wireIntegerAccepted = wireIntegerAcceptedExport;
const utf8Text = utf8TextExport;
const writeUtf8 = writeUtf8Export;

/** How a column's value is checked; small integers, so that the switch is a jump table. */
const STRING = 0;
const INTEGER = 1;
const DECIMAL = 2;
const DATETIME = 3;
const DATE = 4;
const BOOLEAN = 5;
const ENUM = 6;
const JSON_VALUE = 7;

const KINDS: Record<MigrationColumn["value"]["kind"], number> = {
  string: STRING,
  integer: INTEGER,
  decimal: DECIMAL,
  datetime: DATETIME,
  date: DATE,
  boolean: BOOLEAN,
  enum: ENUM,
  json: JSON_VALUE,
};

/** Room for a row's canonical JSON kept from row to row; past it, only for the row that needs it. */
const KEPT_JSON_BYTES = 1 << 16;

/** The sums a page of the inline verification adds its rows to (`lane.ts`). */
export interface PageSums {
  readonly sourceSum: HashSum;
  /** Load files only: BigQuery hashes its own side after the load. */
  readonly targetSum: HashSum | undefined;
  readonly jsonSum: HashSum;
}

/**
 * A foreign key of the row's table (`lane.ts`, `parentChecks`), for the fast path: the row passes
 * when its value is NULL, or is not a rejected parent's key and the source has the parent (the
 * selected EXISTS, at `existsIndex`, is 1).
 */
export interface WireParentCheck {
  readonly columnIndex: number;
  readonly existsIndex: number;
  readonly rejectedKeys: ReadonlySet<string>;
}

export class WireRowCopier {
  /**
   * Whether the fast path can copy `table`'s rows: all but a Postgres table with JSON (its COPY
   * line holds the canonical text, which the decoded path writes).
   */
  static supports(table: MigrationTable): boolean {
    return table.target !== "postgres" || table.columns.every((c) => c.value.kind !== "json");
  }

  private readonly columns: readonly MigrationColumn[];
  private readonly copyLines: boolean;
  private readonly kinds: Uint8Array;
  private readonly notNull: Uint8Array;
  private readonly integerDigits: Float64Array;
  /** Per string column, the most code points its target holds (or -1) and whether it bars U+0000. */
  private readonly maxCodePoints: Float64Array;
  private readonly noNul: Uint8Array;
  private readonly hasStringLimits: boolean;
  /** Per enum column, its values' UTF-8 bytes. */
  private readonly enumValues: (readonly Buffer[] | undefined)[];
  private readonly keyIndex: number;
  private readonly hasJson: boolean;
  /** Per row, reused: each JSON column's canonical form, each string's code points and NULs. */
  private readonly json: CanonicalJsonSpans;
  private readonly codePoints: Int32Array;
  private readonly nuls: Uint8Array;

  /**
   * `crc`: the source's row CRC check (verification on); `hashed`: add each row to the page's
   * sums; `parents`: the table's foreign keys to check; `binary`: a Postgres table's rows in COPY's
   * binary format, these kinds per column (`binaryCopyKinds`), else as COPY text.
   */
  constructor(
    table: MigrationTable,
    private readonly crc: RowCrcCheck | undefined,
    private readonly hashed: boolean,
    private readonly parents: readonly WireParentCheck[] = [],
    private readonly binary?: Uint8Array,
  ) {
    const columns = table.columns;
    this.columns = columns;
    this.copyLines = table.target === "postgres";
    this.kinds = Uint8Array.from(columns.map((c) => KINDS[c.value.kind]));
    this.notNull = Uint8Array.from(columns.map((c) => (c.notNull ? 1 : 0)));
    this.integerDigits = Float64Array.from(columns.map((c) => wireIntegerDigits(c)));
    this.maxCodePoints = Float64Array.from(columns.map((c) => c.limits?.maxLength ?? -1));
    this.noNul = Uint8Array.from(columns.map((c) => (c.limits?.noNul ? 1 : 0)));
    this.hasStringLimits = columns.some(
      (c) =>
        c.value.kind === "string" &&
        (c.limits?.maxLength !== undefined || c.limits?.noNul === true),
    );
    this.enumValues = columns.map((c) =>
      c.value.kind === "enum" ? c.value.values.map((v) => Buffer.from(v, "utf8")) : undefined,
    );
    this.keyIndex = columns.indexOf(table.key);
    this.hasJson = columns.some((c) => c.value.kind === "json");
    this.json = {
      bytes: Buffer.allocUnsafe(1024),
      start: new Int32Array(columns.length).fill(-1),
      end: new Int32Array(columns.length),
    };
    this.codePoints = new Int32Array(columns.length);
    this.nuls = new Uint8Array(columns.length);
  }

  /**
   * Writes the row's line to `out` and adds it to `sums` (when hashed); false, with nothing
   * written or added, when the row must take the decoded path.
   */
  copy(row: WireRow, out: PageBuffer, sums: PageSums): boolean {
    if (!row.bytesAreText) return false;
    const { buffer: b, start, end } = row;
    if (this.crc && !this.crc.matchesWire(b, start, end)) return false;
    const { columns, kinds, json } = this;
    // The last row's canonical forms are written: a large one's room is not kept for the rest.
    if (json.bytes.length > KEPT_JSON_BYTES) json.bytes = Buffer.allocUnsafe(1024);
    let jsonAt = 0;
    for (let i = 0; i < columns.length; i++) {
      json.start[i] = -1;
      const s = start[i];
      if (s < 0) {
        if (this.notNull[i] === 1) return false;
        continue;
      }
      const e = end[i];
      // mysql2 reads a small integer type as a number: its text is `String(n)`, the bytes only when
      // they are canonical (not a ZEROFILL `007` or a YEAR `0000`), whatever the column's kind.
      if (row.numeric[i] === 1 && !wireIntegerAccepted(b, s, e, Number.MAX_SAFE_INTEGER))
        return false;
      switch (kinds[i]) {
        case STRING:
          break; // checked (UTF-8, limits) as it is written
        case INTEGER:
          if (!wireIntegerAccepted(b, s, e, this.integerDigits[i])) return false;
          break;
        case DECIMAL:
          if (!wireDecimalAccepted(columns[i], b, s, e)) return false;
          break;
        case DATETIME:
          if (!wireDatetimeAccepted(b, s, e)) return false;
          break;
        case DATE:
          if (!wireDateAccepted(b, s, e)) return false;
          break;
        case BOOLEAN:
          if (e - s !== 1 || (b[s] !== 0x30 && b[s] !== 0x31)) return false;
          break;
        case ENUM:
          if (!isOneOf(this.enumValues[i]!, b, s, e)) return false;
          break;
        default:
          jsonAt = canonicalOf(b, s, e, json, i, jsonAt);
          if (jsonAt < 0) return false;
      }
    }
    for (const parent of this.parents) if (!parentPasses(parent, b, start, end)) return false;
    const lineEnd = this.binary
      ? writeWireBinaryRow(columns, this.binary, b, start, end, this.codePoints, this.nuls, out)
      : this.copyLines
        ? writeWireCopyLine(columns, b, start, end, this.codePoints, this.nuls, out)
        : writeWireNdjsonLine(columns, b, start, end, json, this.codePoints, this.nuls, out);
    if (lineEnd < 0 || (this.hasStringLimits && !this.withinLimits(start))) return false;
    out.commit(lineEnd);
    if (!this.hashed) return true;
    addWireRowHashes(sums.sourceSum, sums.targetSum, columns, b, start, end, this.codePoints);
    if (this.hasJson) {
      const key = this.keyIndex;
      addWireJsonPartHashes(sums.jsonSum, columns, b, start[key], end[key], json);
    }
    return true;
  }

  /** The strings fit their targets: no more code points than they hold, no U+0000 they bar. */
  private withinLimits(start: Int32Array): boolean {
    const { kinds, maxCodePoints, noNul, codePoints, nuls } = this;
    for (let i = 0; i < kinds.length; i++) {
      if (kinds[i] !== STRING || start[i] < 0) continue;
      if (maxCodePoints[i] >= 0 && codePoints[i] > maxCodePoints[i]) return false;
      if (noNul[i] === 1 && nuls[i] !== 0) return false;
    }
    return true;
  }
}

/** Whether the row's foreign key `parent` holds (see `WireParentCheck`). */
function parentPasses(
  parent: WireParentCheck,
  b: Buffer,
  start: Int32Array,
  end: Int32Array,
): boolean {
  const s = start[parent.columnIndex];
  if (s < 0) return true;
  const e = end[parent.columnIndex];
  // The text the decoded path looks up (a key that is not UTF-8 fails the row's line anyway).
  if (parent.rejectedKeys.size > 0 && parent.rejectedKeys.has(utf8Text(b, s, e))) return false;
  const x = start[parent.existsIndex];
  return x >= 0 && end[parent.existsIndex] - x === 1 && b[x] === 0x31; // '1'
}

/** Whether `b[s, e)` is one of `values`: a loop, not `Buffer#compare` (a native call per value). */
function isOneOf(values: readonly Buffer[], b: Buffer, s: number, e: number): boolean {
  const length = e - s;
  for (const v of values) {
    if (v.length !== length) continue;
    let k = 0;
    while (k < length && v[k] === b[s + k]) k++;
    if (k === length) return true;
  }
  return false;
}

/**
 * Puts the canonical JSON of `b[s, e)`, as `convertValue` makes it from their text, in `json` as
 * column `i`'s, at `at` of its bytes; returns where it ends there, or -1 where the conversion would
 * reject it (no JSON, a top-level null) or the bytes are not UTF-8 (a decoder turns those into
 * U+FFFD, which is in the text only then or when the value holds it itself). Printed from the
 * bytes (`canonicalJsonBytes`) where that path takes the value, else from its text.
 */
function canonicalOf(
  b: Buffer,
  s: number,
  e: number,
  json: CanonicalJsonSpans,
  i: number,
  at: number,
): number {
  if (json.bytes.length < at + e - s) json.bytes = grown(json.bytes, at + e - s);
  let end = canonicalJsonBytes(b, s, e, json.bytes, at);
  if (end === DECLINED) {
    const text = utf8Text(b, s, e);
    let canonical: string;
    try {
      canonical = canonicalJson(text);
    } catch (error) {
      if (error instanceof JsonConversionError) return -1;
      throw error;
    }
    if (canonical === "null") return -1;
    if (text.includes("\ufffd") && !isUtf8(b.subarray(s, e))) return -1;
    // A number's canonical form can be longer than its text.
    if (json.bytes.length < at + 3 * canonical.length) {
      json.bytes = grown(json.bytes, at + 3 * canonical.length);
    }
    end = writeUtf8(canonical, json.bytes, at);
  }
  json.start[i] = at;
  json.end[i] = end;
  return end;
}

/** `bytes` in a buffer of at least `size` bytes. */
function grown(bytes: Buffer, size: number): Buffer {
  const bigger = Buffer.allocUnsafe(Math.max(size, 2 * bytes.length));
  bytes.copy(bigger);
  return bigger;
}
