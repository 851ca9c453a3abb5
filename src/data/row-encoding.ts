/**
 * Encoders from converted rows (see `convert.ts`) to the two load formats: PostgreSQL's COPY text
 * format and BigQuery's newline-delimited JSON.
 */
import { JSON_ESCAPE_LETTERS, quoteJsonString } from "./canonical-json";
import { writeWireDatetime as writeWireDatetimeExport } from "./convert";
import {
  isLowSurrogate as isLowSurrogateExport,
  LastDataView,
  writeNonAscii as writeNonAsciiExport,
  writeUtf8 as writeUtf8Export,
  type PageBuffer,
} from "./page-buffer";
import type { MigrationColumn } from "./table-plan";
import type { CanonicalJsonSpans } from "./canonical-json-bytes";

// Module-local bindings of per-value functions: compiled to CommonJS, every use of an imported
// binding is a call of a getter on the exporting module, which cost a worker ~0.3 CPU-s.
const isLowSurrogate = isLowSurrogateExport;
const writeNonAscii = writeNonAsciiExport;
const writeUtf8 = writeUtf8Export;
const writeWireDatetime = writeWireDatetimeExport;

const COPY_ESCAPES: Record<string, string> = {
  "\\": "\\\\",
  "\t": "\\t",
  "\n": "\\n",
  "\r": "\\r",
};

/**
 * One line of COPY text format. NULL is the bare marker `\N`; inside values backslash, tab, LF and
 * CR are escaped, so an empty string, the text `\N` and NULL stay three different things. Datetimes
 * carry an explicit `+00` so the session time zone cannot shift them.
 */
export function encodeCopyLine(
  columns: readonly MigrationColumn[],
  row: readonly (string | null)[],
): string {
  // Joined parts, newline inside the last one: a flat string (see `encodeNdjsonLine`).
  const last = columns.length - 1;
  const parts = new Array<string>(columns.length);
  for (let i = 0; i <= last; i++) {
    const v = row[i];
    let part: string;
    if (v === null) {
      part = "\\N";
    } else {
      switch (columns[i].value.kind) {
        case "datetime":
          part = `${v}+00`;
          break;
        case "string":
        case "enum":
        case "json":
          part = /[\\\t\n\r]/.test(v) ? v.replace(/[\\\t\n\r]/g, (c) => COPY_ESCAPES[c]) : v;
          break;
        default:
          part = v;
      }
    }
    parts[i] = i === last ? `${part}\n` : part;
  }
  return parts.join("\t");
}

/**
 * One NDJSON line as BigQuery's JSON loader reads it: INTEGER and NUMERIC as strings (exact; the
 * loader accepts quoted numbers), TIMESTAMP as RFC 3339 with microseconds and `Z`, BOOLEAN as
 * true/false, JSON columns embedded as the JSON value itself (already canonical, one line). JSON
 * members come last, which lets `decodeNdjsonLine` find them without a full tokenizer. A NULL is
 * left out where BigQuery reads the missing field as NULL (`omitsNull`), else written `null`.
 * Strings escape what JSON.stringify escapes (`"`, `\`, control characters; `\b \f \n \r \t`,
 * else `\u00xx`); everything else is raw UTF-8.
 *
 * The same bytes as `appendNdjsonLine` writes into a page (this is it, as a string: for tests and
 * small writers).
 */
export function encodeNdjsonLine(
  columns: readonly MigrationColumn[],
  row: readonly (string | null)[],
): string {
  const plan = ndjsonPlan(columns);
  const buffer = Buffer.allocUnsafe(worstNdjsonBytes(plan, row));
  return buffer.toString("utf8", 0, writeNdjsonLine(plan, row, buffer, 0));
}

/**
 * Appends one NDJSON line (`encodeNdjsonLine`) to a page, written as bytes straight into the page's
 * chunk. Building the line as a string first (parts, their join, then its UTF-8 copy) was the
 * lane's largest cost after hashing, and its garbage a good part of the collector's.
 */
export function appendNdjsonLine(
  columns: readonly MigrationColumn[],
  row: readonly (string | null)[],
  out: PageBuffer,
): void {
  const plan = ndjsonPlan(columns);
  const buffer = out.reserve(worstNdjsonBytes(plan, row));
  out.commit(writeNdjsonLine(plan, row, buffer, out.offset));
}

/**
 * `appendNdjsonLine` of a row read as bytes (`wire-rows.ts`), its values already accepted as they
 * are (`convert.ts`, `wire…Accepted`): each value `b[start[i], end[i])` (NULL where `start[i]` is
 * -1), each JSON column's canonical form in `json`. A string's bytes are copied as they come,
 * escaped where JSON needs it, and checked to be UTF-8. Returns where the line ends in `out`'s
 * chunk, for `out.commit` (the caller's, once it accepts the row), or -1 where a string is not
 * UTF-8 (the decoded path then reads the row as mysql2 decodes it). Each string's length in code
 * points goes to `codePoints[i]`, for its checksum text, and 1 to `nuls[i]` where it holds U+0000,
 * for the caller's limits.
 */
export function writeWireNdjsonLine(
  columns: readonly MigrationColumn[],
  b: Buffer,
  start: Int32Array,
  end: Int32Array,
  json: CanonicalJsonSpans,
  codePoints: Int32Array,
  nuls: Uint8Array,
  out: PageBuffer,
): number {
  const plan = ndjsonPlan(columns);
  let worst = plan.fixedBytes;
  for (let i = 0; i < columns.length; i++) {
    if (json.start[i] >= 0) worst += json.end[i] - json.start[i];
    else if (start[i] >= 0) worst += (end[i] - start[i]) * MAX_BYTES_PER_VALUE_UNIT;
  }
  const d = out.reserve(worst);
  const { order, kinds, omitNull, keyWords, keyWordStarts, keyLengths } = plan;
  const view = lineViews.of(d);
  const lineStart = out.offset;
  let at = lineStart;
  for (let p = 0; p < order.length; p++) {
    const i = order[p];
    const s = start[i];
    if (s < 0 && omitNull[p] === 1) continue;
    const wordsEnd = keyWordStarts[p + 1];
    for (let k = keyWordStarts[p], w = at; k < wordsEnd; k++, w += 4) {
      view.setUint32(w, keyWords[k], true);
    }
    at += keyLengths[p];
    if (s < 0) {
      view.setUint32(at, NULL_WORD, true);
      at += 4;
      continue;
    }
    const e = end[i];
    switch (kinds[p]) {
      case STRING:
        d[at++] = QUOTE;
        at = writeStringBytes(b, s, e, d, view, at, JSON_BODY);
        if (at < 0) return -1;
        codePoints[i] = stringCodePoints;
        nuls[i] = stringNuls;
        d[at++] = QUOTE;
        break;
      case JSON_TEXT: {
        // Four bytes a load and a store, through a view of its own (the copy's is of the packet).
        const from = json.bytes;
        const fromView = jsonViews.of(from);
        let k = json.start[i];
        const to = json.end[i];
        for (; k + 4 <= to; k += 4, at += 4) view.setInt32(at, fromView.getInt32(k, true), true);
        for (; k < to; k++) d[at++] = from[k];
        break;
      }
      case BOOLEAN:
        at = writeBoolean(b[s] === 0x31, d, view, at);
        break;
      case DATETIME:
        d[at++] = QUOTE;
        at = writeWireDatetime(b, s, e, 0x54, d, at); // T
        d[at++] = 0x5a; // Z
        d[at++] = QUOTE;
        break;
      default:
        d[at++] = QUOTE;
        at = copyWireBytes(b, s, e, d, view, at);
        d[at++] = QUOTE;
    }
  }
  return closeNdjsonLine(d, lineStart, at);
}

/**
 * Ends a line whose members, each written as `,"name":value`, run from `lineStart` to `at`: the
 * first one's comma becomes the `{` (or the line is `{}`), then `}` and the newline.
 */
function closeNdjsonLine(d: Uint8Array, lineStart: number, at: number): number {
  if (at === lineStart)
    d[at++] = 0x7b; // {
  else d[lineStart] = 0x7b;
  d[at++] = 0x7d; // }
  d[at++] = 0x0a;
  return at;
}

/**
 * `encodeCopyLine` of a row read as bytes, as `writeWireNdjsonLine` writes NDJSON: the line's end
 * in `out`'s chunk for `out.commit`, or -1 where a string is not UTF-8. Each string's length in code
 * points goes to `codePoints[i]`, and 1 to `nuls[i]` where it holds U+0000 (which Postgres text
 * cannot), for the caller's limits.
 */
export function writeWireCopyLine(
  columns: readonly MigrationColumn[],
  b: Buffer,
  start: Int32Array,
  end: Int32Array,
  codePoints: Int32Array,
  nuls: Uint8Array,
  out: PageBuffer,
): number {
  const kinds = copyKinds(columns);
  let worst = columns.length * COPY_FIXED_BYTES;
  for (let i = 0; i < columns.length; i++) {
    if (start[i] >= 0) worst += (end[i] - start[i]) * 2;
  }
  const d = out.reserve(worst);
  const view = lineViews.of(d);
  let at = out.offset;
  for (let i = 0; i < columns.length; i++) {
    if (i > 0) d[at++] = 0x09; // tab
    const s = start[i];
    if (s < 0) {
      d[at++] = 0x5c; // \N
      d[at++] = 0x4e;
      continue;
    }
    const e = end[i];
    switch (kinds[i]) {
      case STRING:
        at = writeStringBytes(b, s, e, d, view, at, COPY_TEXT);
        if (at < 0) return -1;
        codePoints[i] = stringCodePoints;
        nuls[i] = stringNuls;
        break;
      case DATETIME:
        at = writeWireDatetime(b, s, e, 0x20, d, at);
        d[at++] = 0x2b; // +00: the session time zone cannot shift it
        d[at++] = 0x30;
        d[at++] = 0x30;
        break;
      default:
        at = copyWireBytes(b, s, e, d, view, at);
    }
  }
  d[at++] = 0x0a;
  return at;
}

/** Per column a COPY line's separator, `\N` or the `+00` of a datetime, beside its value's bytes. */
const COPY_FIXED_BYTES = 32;

const copyKindsOf = new WeakMap<readonly MigrationColumn[], Uint8Array>();

/**
 * How each column's value is written in a COPY line: `STRING`, `DATETIME` or as it is. (No JSON:
 * its line holds the canonical text, which the wire copier does not take to COPY.)
 */
function copyKinds(columns: readonly MigrationColumn[]): Uint8Array {
  let kinds = copyKindsOf.get(columns);
  if (!kinds) {
    kinds = Uint8Array.from(
      columns.map((c) =>
        c.value.kind === "datetime"
          ? DATETIME
          : c.value.kind === "string" || c.value.kind === "enum"
            ? STRING
            : DIGITS,
      ),
    );
    copyKindsOf.set(columns, kinds);
  }
  return kinds;
}

/** Code points and U+0000s of the last string `writeStringBytes` wrote. */
let stringCodePoints = 0;
let stringNuls = 0;

/** DataViews of the last source buffer read (a network chunk holds many rows) and written. */
const sourceViews = new LastDataView();
const lineViews = new LastDataView();
const jsonViews = new LastDataView();

/**
 * Whether any of the four bytes of `w` may need other bytes in a JSON string or a COPY value:
 * non-ASCII (bit 7), below 0x20, `"` or `\` (each test is exact: "has a byte less than n" and
 * "has a zero byte", from Anderson's Bit Twiddling Hacks). COPY writes `"` as it is: such a word
 * only takes the byte-by-byte path.
 */
function needsCare(w: number): boolean {
  const quote = w ^ 0x22222222;
  const backslash = w ^ 0x5c5c5c5c;
  return (
    ((w |
      (((w - 0x20202020) | 0) & ~w) |
      (((quote - 0x01010101) | 0) & ~quote) |
      (((backslash - 0x01010101) | 0) & ~backslash)) &
      0x80808080) !==
    0
  );
}

/**
 * A string value from its UTF-8 bytes `b[s, e)`: for a COPY line (`copy`) as `encodeCopyLine`
 * writes its text (backslash, tab, LF and CR escaped), else the inside of a JSON string literal as
 * `writeJsonStringBody` writes it (what JSON.stringify escapes escaped); everything else as it is.
 * -1 when the bytes are not UTF-8 (an overlong form, a surrogate, a cut sequence: what a decoder
 * would turn into U+FFFD). Its code points and U+0000s go to `stringCodePoints`, `stringNuls`.
 */
function writeStringBytes(
  b: Uint8Array,
  s: number,
  e: number,
  d: Buffer,
  dv: DataView,
  at: number,
  mode: StringMode,
): number {
  const sv = sourceViews.of(b);
  let points = 0;
  let nuls = 0;
  let i = s;
  while (i < e) {
    if (i + 4 <= e) {
      // Four plain ASCII bytes at a time, one load and one store: most of a value.
      const w = sv.getInt32(i, true);
      if (!needsCare(w)) {
        dv.setInt32(at, w, true);
        at += 4;
        i += 4;
        points += 4;
        continue;
      }
    }
    // One character: an escape, or a multi-byte sequence.
    const c = b[i];
    points++;
    if (c < 0x80) {
      if (c === 0) nuls++;
      if (mode === COPY_TEXT) {
        const letter = COPY_ESCAPE_LETTERS[c];
        if (letter === 0) d[at++] = c;
        else {
          d[at++] = 0x5c; // backslash
          d[at++] = letter;
        }
      } else if (mode === RAW || ESCAPED_ASCII[c] === 0) d[at++] = c;
      else at = writeEscape(c, d, at);
      i++;
      continue;
    }
    const n = utf8SequenceLength(b, i, e);
    if (n === 0) return -1;
    for (let k = 0; k < n; k++) d[at++] = b[i + k];
    i += n;
  }
  stringCodePoints = points;
  stringNuls = nuls;
  return at;
}

/** How `writeStringBytes` writes a string: inside a JSON string, as COPY text, or as it is. */
type StringMode = 0 | 1 | 2;
const JSON_BODY = 0;
const COPY_TEXT = 1;
const RAW = 2;

/** What follows the backslash in COPY's escape of a byte (`COPY_ESCAPES`), 0 for none. */
const COPY_ESCAPE_LETTERS = new Uint8Array(0x80);
COPY_ESCAPE_LETTERS[0x5c] = 0x5c; // backslash
COPY_ESCAPE_LETTERS[0x09] = 0x74; // t
COPY_ESCAPE_LETTERS[0x0a] = 0x6e; // n
COPY_ESCAPE_LETTERS[0x0d] = 0x72; // r

/** Copies `b[s, e)` to `d` at `at`, four bytes a load and a store; returns the offset past it. */
export function copyWireBytes(
  b: Uint8Array,
  s: number,
  e: number,
  d: Uint8Array,
  dv: DataView,
  at: number,
): number {
  const sv = sourceViews.of(b);
  let i = s;
  for (; i + 4 <= e; i += 4, at += 4) dv.setInt32(at, sv.getInt32(i, true), true);
  for (; i < e; i++) d[at++] = b[i];
  return at;
}

const isContinuation = (c: number) => (c & 0xc0) === 0x80;

/**
 * Bytes of the well-formed UTF-8 sequence at `b[i]` (a non-ASCII lead byte), within `end`; 0 when
 * it is not one (Unicode 15, table 3-7).
 */
export function utf8SequenceLength(b: Uint8Array, i: number, end: number): number {
  const c = b[i];
  if (c < 0xc2) return 0;
  if (c < 0xe0) return i + 1 < end && isContinuation(b[i + 1]) ? 2 : 0;
  if (c < 0xf0) {
    if (i + 2 >= end) return 0;
    const c1 = b[i + 1];
    const low = c === 0xe0 ? 0xa0 : 0x80;
    const high = c === 0xed ? 0x9f : 0xbf;
    return c1 >= low && c1 <= high && isContinuation(b[i + 2]) ? 3 : 0;
  }
  if (c > 0xf4 || i + 3 >= end) return 0;
  const c1 = b[i + 1];
  const low = c === 0xf0 ? 0x90 : 0x80;
  const high = c === 0xf4 ? 0x8f : 0xbf;
  return c1 >= low && c1 <= high && isContinuation(b[i + 2]) && isContinuation(b[i + 3]) ? 4 : 0;
}

/** At most 6 bytes per UTF-16 unit of a value (`\u001f`; UTF-8 takes at most 3). */
const MAX_BYTES_PER_VALUE_UNIT = 6;

function worstNdjsonBytes(plan: NdjsonPlan, row: readonly (string | null)[]): number {
  let units = 0;
  for (let i = 0; i < row.length; i++) {
    const v = row[i];
    if (v !== null) units += v.length;
  }
  return plan.fixedBytes + units * MAX_BYTES_PER_VALUE_UNIT;
}

/** How a position's value is written; small integers, so that the switch is a jump table. */
const STRING = 0;
const JSON_TEXT = 1;
const BOOLEAN = 2;
const DATETIME = 3;
/** Integers, decimals and dates: digits, '-', '.' (checked by the conversion), nothing to escape. */
const DIGITS = 4;

const QUOTE = 0x22;
/** `null`, `true` and `fals` as little-endian words. */
const NULL_WORD = 0x6c6c756e;
const TRUE_WORD = 0x65757274;
const FALS_WORD = 0x736c6166;

function writeNdjsonLine(
  plan: NdjsonPlan,
  row: readonly (string | null)[],
  b: Buffer,
  at: number,
): number {
  const { order, kinds, omitNull, keyWords, keyWordStarts, keyLengths } = plan;
  const view = lineViews.of(b);
  const lineStart = at;
  for (let p = 0; p < order.length; p++) {
    const v = row[order[p]];
    if (v === null && omitNull[p] === 1) continue;
    // Four bytes a store: up to 3 bytes past the key, in its position's room (`fixedBytes`), which
    // its value then overwrites.
    const wordsEnd = keyWordStarts[p + 1];
    for (let k = keyWordStarts[p], w = at; k < wordsEnd; k++, w += 4) {
      view.setUint32(w, keyWords[k], true);
    }
    at += keyLengths[p];
    if (v === null) {
      view.setUint32(at, NULL_WORD, true);
      at += 4;
      continue;
    }
    switch (kinds[p]) {
      case STRING:
        b[at++] = QUOTE;
        at = writeJsonStringBody(v, b, view, at);
        b[at++] = QUOTE;
        break;
      case JSON_TEXT:
        // Canonical JSON text (`canonical-json.ts`): escaped already, one line.
        at = writeUtf8(v, b, at);
        break;
      case BOOLEAN:
        at = writeBoolean(v === "1", b, view, at);
        break;
      case DATETIME:
        // `YYYY-MM-DD HH:MM:SS.ffffff` → `YYYY-MM-DDTHH:MM:SS.ffffffZ`.
        b[at++] = QUOTE;
        if (v.length >= 10) {
          at = writeUtf8Words(v, 0, 10, b, view, at);
          b[at++] = 0x54; // T
          at = writeUtf8Words(v, 11, v.length, b, view, at);
        } else {
          // No datetime (the conversion refuses it): written as it always was.
          at = writeUtf8(v, b, at, 10);
          b[at++] = 0x54;
          at = writeUtf8(v, b, at, v.length, 11);
        }
        b[at++] = 0x5a; // Z
        b[at++] = QUOTE;
        break;
      default:
        b[at++] = QUOTE;
        at = writeUtf8Words(v, 0, v.length, b, view, at);
        b[at++] = QUOTE;
    }
  }
  return closeNdjsonLine(b, lineStart, at);
}

/** `true` or `false` at `at` (a word store, and the `e` of `false`); the offset past it. */
function writeBoolean(value: boolean, b: Uint8Array, view: DataView, at: number): number {
  if (value) {
    view.setUint32(at, TRUE_WORD, true);
    return at + 4;
  }
  view.setUint32(at, FALS_WORD, true);
  b[at + 4] = 0x65; // e
  return at + 5;
}

const HEX = "0123456789abcdef";
// A module-local binding: compiled to CommonJS, an imported one is a property load per use.
const escapeLetters = JSON_ESCAPE_LETTERS;

/** What JSON.stringify escapes in a well-formed string: `"`, `\\` and control characters. */
// eslint-disable-next-line no-control-regex -- control characters are exactly what it looks for
const NEEDS_JSON_ESCAPE = /["\\\u0000-\u001f]/;

/** Per ASCII unit: 1 where JSON.stringify escapes it. */
const ESCAPED_ASCII = new Uint8Array(0x80);
for (let c = 0; c < 0x20; c++) ESCAPED_ASCII[c] = 1;
ESCAPED_ASCII[QUOTE] = 1;
ESCAPED_ASCII[0x5c] = 1;

/**
 * Strings at least this long are checked by the regex and, without escapes, written by the native
 * encoder: both calls cost about as much as the loop below takes for ~100 units, and most values
 * are shorter (hashes, ids, URLs).
 */
const NATIVE_STRING_UNITS = 96;

const isHighSurrogate = (c: number) => c >= 0xd800 && c <= 0xdbff;

/**
 * The inside of a JSON string literal for `s`, as JSON.stringify escapes it: `"` and `\`, control
 * characters as `\b \f \n \r \t` or `\u00xx`, the rest raw UTF-8. (Our values hold no lone
 * surrogate: they come decoded from UTF-8; one would be written as U+FFFD.) Four units at a time,
 * one store for four plain ASCII ones; a group holding anything else unit by unit.
 */
function writeJsonStringBody(s: string, b: Buffer, view: DataView, at: number): number {
  const n = s.length;
  if (n >= NATIVE_STRING_UNITS && !NEEDS_JSON_ESCAPE.test(s)) return writeUtf8(s, b, at);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const c0 = s.charCodeAt(i);
    const c1 = s.charCodeAt(i + 1);
    const c2 = s.charCodeAt(i + 2);
    const c3 = s.charCodeAt(i + 3);
    if (
      (c0 | c1 | c2 | c3) < 0x80 &&
      (ESCAPED_ASCII[c0] | ESCAPED_ASCII[c1] | ESCAPED_ASCII[c2] | ESCAPED_ASCII[c3]) === 0
    ) {
      view.setUint32(at, c0 | (c1 << 8) | (c2 << 16) | (c3 << 24), true);
      at += 4;
    } else {
      at = writeJsonUnits(s, i, i + 4, b, at);
      // A surrogate pair across the group's end was written whole.
      if (isHighSurrogate(c3) && isLowSurrogate(s, i + 4)) i++;
    }
  }
  return i < n ? writeJsonUnits(s, i, n, b, at) : at;
}

/** `writeJsonStringBody` of `s[from…to)`, a unit at a time (a pair at `to - 1` written whole). */
function writeJsonUnits(s: string, from: number, to: number, b: Buffer, at: number): number {
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) {
      if (ESCAPED_ASCII[c] === 0) b[at++] = c;
      else at = writeEscape(c, b, at);
      continue;
    }
    at = writeNonAscii(s, i, c, b, at);
    if (isHighSurrogate(c) && isLowSurrogate(s, i + 1)) i++;
  }
  return at;
}

/**
 * `writeUtf8(s, b, at, to, from)` (`to` at most `s.length`), one store for four ASCII units. Values
 * of these kinds are short: the native encoder's call would cost more.
 */
function writeUtf8Words(
  s: string,
  from: number,
  to: number,
  b: Buffer,
  view: DataView,
  at: number,
): number {
  let i = from;
  for (; i + 4 <= to; i += 4) {
    const c0 = s.charCodeAt(i);
    const c1 = s.charCodeAt(i + 1);
    const c2 = s.charCodeAt(i + 2);
    const c3 = s.charCodeAt(i + 3);
    if ((c0 | c1 | c2 | c3) < 0x80) {
      view.setUint32(at, c0 | (c1 << 8) | (c2 << 16) | (c3 << 24), true);
      at += 4;
    } else {
      at = writeUtf8(s, b, at, i + 4, i);
      if (isHighSurrogate(c3) && isLowSurrogate(s, i + 4)) i++;
    }
  }
  return i < to ? writeUtf8(s, b, at, to, i) : at;
}

function writeEscape(c: number, b: Buffer, at: number): number {
  b[at++] = 0x5c; // \
  const letter = escapeLetters[c];
  if (letter !== 0) {
    b[at++] = letter;
    return at;
  }
  b[at++] = 0x75; // u
  b[at++] = 0x30;
  b[at++] = 0x30;
  b[at++] = HEX.charCodeAt(c >> 4);
  b[at++] = HEX.charCodeAt(c & 15);
  return at;
}

interface NdjsonPlan {
  /** Column indexes in output order: JSON columns last. */
  readonly order: Int32Array;
  /** Per output position: how its value is written (`STRING` …). */
  readonly kinds: Uint8Array;
  /** Per output position: 1 where a NULL is left out of the line (`omitsNull`). */
  readonly omitNull: Uint8Array;
  /**
   * `,"name":` per output position as UTF-8 (the line's first comma becomes its `{`), as
   * little-endian 32-bit words (the last one zero-padded), all in one array: position `p`'s are
   * `keyWords[keyWordStarts[p]…keyWordStarts[p + 1])`, its bytes `keyLengths[p]`.
   */
  readonly keyWords: Uint32Array;
  readonly keyWordStarts: Int32Array;
  readonly keyLengths: Int32Array;
  /** Bytes of a line besides its values' own: keys, quotes, separators, braces, newline. */
  readonly fixedBytes: number;
}

const KIND_CODES: Record<MigrationColumn["value"]["kind"], number> = {
  string: STRING,
  enum: STRING,
  json: JSON_TEXT,
  boolean: BOOLEAN,
  datetime: DATETIME,
  integer: DIGITS,
  decimal: DIGITS,
  date: DIGITS,
};

const plans = new WeakMap<readonly MigrationColumn[], NdjsonPlan>();
/** The last table's plan: a lane encodes one table's rows, so this spares the WeakMap lookup. */
let lastColumns: readonly MigrationColumn[] | undefined;
let lastPlan: NdjsonPlan | undefined;

function ndjsonPlan(columns: readonly MigrationColumn[]): NdjsonPlan {
  if (columns === lastColumns) return lastPlan!;
  let plan = plans.get(columns);
  if (!plan) {
    const indexes = columns.map((_, i) => i);
    const order = [
      ...indexes.filter((i) => columns[i].value.kind !== "json"),
      ...indexes.filter((i) => columns[i].value.kind === "json"),
    ];
    const keys = order.map((i) => Buffer.from(`,${quoteJsonString(columns[i].name)}:`, "utf8"));
    const words = keys.map((k) => {
      const padded = Buffer.alloc(Math.ceil(k.length / 4) * 4);
      k.copy(padded);
      return Array.from({ length: padded.length / 4 }, (_, w) => padded.readUInt32LE(4 * w));
    });
    const keyWordStarts = new Int32Array(order.length + 1);
    words.forEach((w, p) => (keyWordStarts[p + 1] = keyWordStarts[p] + w.length));
    plan = {
      order: Int32Array.from(order),
      kinds: Uint8Array.from(order.map((i) => KIND_CODES[columns[i].value.kind])),
      omitNull: Uint8Array.from(order.map((i) => (omitsNull(columns[i]) ? 1 : 0))),
      keyWords: Uint32Array.from(words.flat()),
      keyWordStarts,
      keyLengths: Int32Array.from(keys.map((k) => k.length)),
      // The longest of a position's forms (`false`, longer than `null` and than the quotes and `Z`
      // around a datetime), plus `{` (an empty line's), `}` and the newline.
      fixedBytes: keys.reduce((sum, k) => sum + k.length + "false".length, 0) + 3,
    };
    plans.set(columns, plan);
  }
  lastColumns = columns;
  lastPlan = plan;
  return plan;
}

/**
 * The converted row back from an NDJSON line written by `encodeNdjsonLine` (used to checksum load
 * files). JSON members are taken as their exact text, never re-parsed through a float.
 */
export function decodeNdjsonLine(
  columns: readonly MigrationColumn[],
  line: string,
): (string | null)[] {
  const marker = jsonMemberMarker(columns);
  if (marker !== undefined) {
    // The one JSON member is last; no member before it can contain `,"<name>":` outside a string
    // (quotes inside strings are escaped), so its first occurrence starts the JSON member. A line
    // without it holds a NULL there, left out.
    const at = line.indexOf(marker);
    const object = JSON.parse(at < 0 ? line : `${line.slice(0, at)}}`) as Record<
      string,
      string | boolean | null
    >;
    const jsonText = at < 0 ? undefined : line.slice(at + marker.length, line.length - 1);
    return columns.map((c) => {
      if (c.value.kind === "json") {
        if (jsonText === undefined) return missingMember(c);
        return jsonText === "null" ? null : jsonText;
      }
      const v = object[c.name];
      if (v === undefined) return missingMember(c);
      if (v === null) return null;
      if (c.value.kind === "boolean") return v ? "1" : "0";
      if (c.value.kind === "datetime") {
        const s = v as string;
        return `${s.slice(0, 10)} ${s.slice(11, -1)}`;
      }
      return v as string;
    });
  }
  const members = splitObjectMembers(line);
  return columns.map((c) => {
    const text = members.get(c.name);
    if (text === undefined) return missingMember(c);
    if (text === "null") return null;
    switch (c.value.kind) {
      case "json":
        return text;
      case "boolean":
        return text === "true" ? "1" : "0";
      case "datetime": {
        const s = JSON.parse(text) as string;
        return `${s.slice(0, 10)} ${s.slice(11, -1)}`;
      }
      default:
        return JSON.parse(text) as string;
    }
  });
}

/**
 * Whether a NULL of `column` is left out of its NDJSON line: BigQuery's JSON loader takes a
 * missing NULLABLE field as NULL ("Loading JSON data from Cloud Storage"), and a NULL member was a
 * quarter of the events' bytes. Not where the column has a default value of its own, which the
 * loader puts in place of a missing field (an explicit `null` stays NULL), nor where it is
 * REQUIRED (no NULL reaches a line there).
 */
function omitsNull(column: MigrationColumn): boolean {
  return !column.notNull && column.targetDefault !== true;
}

/** A member the line does not hold: NULL where `omitsNull` leaves it out, else a broken file. */
function missingMember(column: MigrationColumn): null {
  if (omitsNull(column)) return null;
  throw new Error(`load file line lacks column ${column.name}`);
}

const markers = new WeakMap<readonly MigrationColumn[], string | undefined>();

/** `,"<name>":` of a table's only JSON column (undefined unless it has exactly one); cached. */
function jsonMemberMarker(columns: readonly MigrationColumn[]): string | undefined {
  if (markers.has(columns)) return markers.get(columns);
  const json = columns.filter((c) => c.value.kind === "json");
  const marker = json.length === 1 ? `,${quoteJsonString(json[0].name)}:` : undefined;
  markers.set(columns, marker);
  return marker;
}

/** Top-level members of a one-line JSON object as raw text slices. */
function splitObjectMembers(line: string): Map<string, string> {
  const members = new Map<string, string>();
  let i = 1;
  const n = line.length;
  while (i < n && line[i] !== "}") {
    const keyEnd = endOfString(line, i);
    const key = JSON.parse(line.slice(i, keyEnd)) as string;
    const valueStart = keyEnd + 1;
    let j = valueStart;
    let depth = 0;
    for (; j < n; j++) {
      const c = line[j];
      if (c === '"') j = endOfString(line, j) - 1;
      else if (c === "{" || c === "[") depth++;
      else if (c === "}" || c === "]") {
        if (depth === 0) break;
        depth--;
      } else if (c === "," && depth === 0) break;
    }
    members.set(key, line.slice(valueStart, j));
    i = line[j] === "," ? j + 1 : j;
  }
  return members;
}

/** Index just past the closing quote of the string starting at `start`. */
function endOfString(text: string, start: number): number {
  let i = start + 1;
  while (text[i] !== '"') i += text[i] === "\\" ? 2 : 1;
  return i + 1;
}

// ---------------------------------------------------------------- COPY binary format

/**
 * How a column's values are sent in COPY's binary format (postgresql.org/docs/15/sql-copy.html,
 * "Binary Format"), by the target column's own type: each type's receive function takes its
 * internal form, where text COPY has Postgres parse every timestamp, integer and numeric from
 * digits. Loading the benchmark's sessions took 223 ms of Postgres's time as binary against 330 ms
 * as text (users: 95 against 140).
 */
export const BINARY_TEXT = 1;
export const BINARY_JSONB = 2;
export const BINARY_INT2 = 3;
export const BINARY_INT4 = 4;
export const BINARY_INT8 = 5;
export const BINARY_BOOL = 6;
export const BINARY_TIMESTAMP = 7;
export const BINARY_DATE = 8;
export const BINARY_NUMERIC = 9;

/** The signature, no flags and no header extension; then rows; then the trailer's -1. */
export const COPY_BINARY_HEADER = Buffer.from([
  0x50, 0x47, 0x43, 0x4f, 0x50, 0x59, 0x0a, 0xff, 0x0d, 0x0a, 0x00, 0, 0, 0, 0, 0, 0, 0, 0,
]);
export const COPY_BINARY_TRAILER = Buffer.from([0xff, 0xff]);

/**
 * The binary kind of a column of `kind` in a target column of Postgres type `typeName` (`typtype`
 * 'e' for an enum); undefined for a pair not written here (the table is then copied as text).
 */
export function binaryKindOf(
  kind: MigrationColumn["value"]["kind"],
  typeName: string,
  typtype: string,
): number | undefined {
  switch (kind) {
    case "integer":
      return ({ int2: BINARY_INT2, int4: BINARY_INT4, int8: BINARY_INT8 } as const)[
        typeName as "int2"
      ];
    case "decimal":
      return typeName === "numeric" ? BINARY_NUMERIC : undefined;
    case "string":
    case "enum":
    case "json":
      if (typeName === "jsonb") return BINARY_JSONB;
      return ["text", "varchar", "bpchar", "citext", "json"].includes(typeName) || typtype === "e"
        ? BINARY_TEXT
        : undefined;
    case "datetime":
      return typeName === "timestamptz" || typeName === "timestamp" ? BINARY_TIMESTAMP : undefined;
    case "date":
      return typeName === "date" ? BINARY_DATE : undefined;
    case "boolean":
      return typeName === "bool" ? BINARY_BOOL : undefined;
  }
}

/** A value no binary form of its target column holds: the target's type differs from schema/. */
export class BinaryValueError extends Error {}

/** Per value at most: its length word and the largest fixed form (a numeric's header is 8). */
const BINARY_FIXED_BYTES = 16;

/**
 * One row in COPY's binary format, written from the wire bytes of its values (`writeWireCopyLine`'s
 * counterpart, and the same checks of its strings): the field count, then per value its length
 * (-1 for NULL) and its bytes. -1 when a string is not UTF-8.
 */
export function writeWireBinaryRow(
  columns: readonly MigrationColumn[],
  kinds: Uint8Array,
  b: Buffer,
  start: Int32Array,
  end: Int32Array,
  codePoints: Int32Array,
  nuls: Uint8Array,
  out: PageBuffer,
): number {
  let worst = 2 + columns.length * BINARY_FIXED_BYTES;
  for (let i = 0; i < columns.length; i++) {
    // A numeric's digits take 2 bytes per 4 decimal digits, padding to a group on each side.
    if (start[i] >= 0) worst += end[i] - start[i] + 8;
  }
  const d = out.reserve(worst);
  const view = lineViews.of(d);
  let at = out.offset;
  view.setInt16(at, columns.length);
  at += 2;
  for (let i = 0; i < columns.length; i++) {
    const s = start[i];
    if (s < 0) {
      view.setInt32(at, -1);
      at += 4;
      continue;
    }
    const e = end[i];
    const lengthAt = at;
    at += 4;
    const kind = kinds[i];
    if (kind === BINARY_TEXT || kind === BINARY_JSONB) {
      if (kind === BINARY_JSONB) d[at++] = 1; // jsonb's format version
      at = writeStringBytes(b, s, e, d, view, at, RAW);
      if (at < 0) return -1;
      codePoints[i] = stringCodePoints;
      nuls[i] = stringNuls;
    } else {
      at = writeBinaryScalar(kind, b, s, e, view, at);
    }
    view.setInt32(lengthAt, at - lengthAt - 4);
  }
  return at;
}

/**
 * `writeWireBinaryRow` of a converted row (`convert.ts`: digits, a datetime's 26 characters, a
 * boolean's 0 or 1, strings as they are), for the rows the wire path leaves to the decoded one.
 */
export function appendBinaryRow(
  columns: readonly MigrationColumn[],
  kinds: Uint8Array,
  row: readonly (string | null)[],
  out: PageBuffer,
): void {
  let worst = 2 + columns.length * BINARY_FIXED_BYTES;
  for (let i = 0; i < columns.length; i++) worst += (row[i]?.length ?? 0) * 3 + 8;
  const d = out.reserve(worst);
  const view = lineViews.of(d);
  let at = out.offset;
  view.setInt16(at, columns.length);
  at += 2;
  for (let i = 0; i < columns.length; i++) {
    const v = row[i];
    if (v === null) {
      view.setInt32(at, -1);
      at += 4;
      continue;
    }
    const lengthAt = at;
    at += 4;
    const kind = kinds[i];
    if (kind === BINARY_TEXT || kind === BINARY_JSONB) {
      if (kind === BINARY_JSONB) d[at++] = 1;
      at = writeUtf8(v, d, at);
    } else {
      // The other kinds' texts are ASCII: their bytes, then the same writer as the wire's.
      const ascii = asciiScratch(v);
      at = writeBinaryScalar(kind, ascii, 0, v.length, view, at);
    }
    view.setInt32(lengthAt, at - lengthAt - 4);
  }
  out.commit(at);
}

let asciiBytes = Buffer.allocUnsafe(64);

function asciiScratch(v: string): Buffer {
  if (asciiBytes.length < v.length) asciiBytes = Buffer.allocUnsafe(v.length * 2);
  asciiBytes.write(v, 0, "latin1");
  return asciiBytes;
}

/** The binary form of a non-string value from its text `b[s, e)` (checked by the conversion). */
function writeBinaryScalar(
  kind: number,
  b: Uint8Array,
  s: number,
  e: number,
  view: DataView,
  at: number,
): number {
  switch (kind) {
    case BINARY_INT2:
    case BINARY_INT4:
    case BINARY_INT8:
      return writeBinaryInteger(kind, b, s, e, view, at);
    case BINARY_BOOL:
      view.setUint8(at, b[s] === 0x31 ? 1 : 0); // '1'
      return at + 1;
    case BINARY_TIMESTAMP:
      return writeBinaryTimestamp(b, s, e, view, at);
    case BINARY_DATE:
      view.setInt32(at, daysSince2000(b, s));
      return at + 4;
    default:
      return writeBinaryNumeric(b, s, e, view, at);
  }
}

const INTEGER_RANGES: Record<number, readonly [number, number]> = {
  [BINARY_INT2]: [-0x8000, 0x7fff],
  [BINARY_INT4]: [-0x80000000, 0x7fffffff],
};
const INT8_MIN = -(2n ** 63n);
const INT8_MAX = 2n ** 63n - 1n;

/** `-?digits` as a big-endian two's-complement integer of the kind's width. */
function writeBinaryInteger(
  kind: number,
  b: Uint8Array,
  s: number,
  e: number,
  view: DataView,
  at: number,
): number {
  const negative = b[s] === 0x2d;
  let from = negative ? s + 1 : s;
  while (from < e - 1 && b[from] === 0x30) from++;
  if (e - from > 15) {
    // Beyond a double's exact integers: rare, and only an int8 can hold it.
    const value = BigInt(latin1Of(b, s, e));
    if (kind !== BINARY_INT8 || value < INT8_MIN || value > INT8_MAX)
      throw outOfRange(b, s, e, kind);
    view.setBigInt64(at, value);
    return at + 8;
  }
  let n = 0;
  for (let k = from; k < e; k++) n = n * 10 + (b[k] - 0x30);
  if (negative) n = -n;
  if (kind === BINARY_INT8) {
    const high = Math.floor(n / 0x100000000);
    view.setInt32(at, high);
    view.setUint32(at + 4, n - high * 0x100000000);
    return at + 8;
  }
  const [min, max] = INTEGER_RANGES[kind];
  if (n < min || n > max) throw outOfRange(b, s, e, kind);
  if (kind === BINARY_INT4) {
    view.setInt32(at, n);
    return at + 4;
  }
  view.setInt16(at, n);
  return at + 2;
}

function latin1Of(b: Uint8Array, s: number, e: number): string {
  return Buffer.from(b.buffer, b.byteOffset + s, e - s).toString("latin1");
}

function outOfRange(b: Uint8Array, s: number, e: number, kind: number): BinaryValueError {
  const type = { [BINARY_INT2]: "smallint", [BINARY_INT4]: "integer" }[kind] ?? "bigint";
  return new BinaryValueError(`${latin1Of(b, s, e)} is out of range for the target's ${type}`);
}

/** Days from 1970-01-01 to the civil date (proleptic Gregorian; H. Hinnant, "days_from_civil"). */
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yearOfEra = y - era * 400;
  const dayOfYear = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1;
  const dayOfEra =
    yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) + dayOfYear;
  return era * 146097 + dayOfEra - 719468;
}

/** 2000-01-01, Postgres's epoch for dates and timestamps, in days from 1970-01-01. */
const POSTGRES_EPOCH_DAYS = 10957;

const digits = (b: Uint8Array, s: number, n: number) => {
  let v = 0;
  for (let k = s; k < s + n; k++) v = v * 10 + (b[k] - 0x30);
  return v;
};

/** `YYYY-MM-DD` at `b[s]` in days from 2000-01-01. */
function daysSince2000(b: Uint8Array, s: number): number {
  return (
    daysFromCivil(digits(b, s, 4), digits(b, s + 5, 2), digits(b, s + 8, 2)) - POSTGRES_EPOCH_DAYS
  );
}

/**
 * `YYYY-MM-DD HH:MM:SS[.f…]` (UTC) as microseconds from 2000-01-01 00:00 in a big-endian int64.
 * Those exceed a double's exact integers (2^53 µs is 285 years), so the value is put together in
 * two halves: seconds × 15625 is exact in a double, and × 64 more is a shift across the halves.
 */
function writeBinaryTimestamp(
  b: Uint8Array,
  s: number,
  e: number,
  view: DataView,
  at: number,
): number {
  const seconds =
    daysSince2000(b, s) * 86400 +
    digits(b, s + 11, 2) * 3600 +
    digits(b, s + 14, 2) * 60 +
    digits(b, s + 17, 2);
  let micros = 0;
  for (let k = 0; k < 6; k++) micros = micros * 10 + (s + 20 + k < e ? b[s + 20 + k] - 0x30 : 0);
  // value = (seconds × 15625) × 64 + micros, as high × 2^32 + low.
  const m = seconds * 15625;
  let high = Math.floor(m / 0x4000000); // 2^26
  let low = (m - high * 0x4000000) * 64 + micros;
  if (low >= 0x100000000) {
    low -= 0x100000000;
    high += 1;
  }
  view.setInt32(at, high);
  view.setUint32(at + 4, low);
  return at + 8;
}

/**
 * `-?digits[.digits]` as a numeric: its digits in base 10000 grouped from the point, the weight of
 * the first group, the sign and the scale (numeric_recv strips zero groups at either end).
 */
function writeBinaryNumeric(
  b: Uint8Array,
  s: number,
  e: number,
  view: DataView,
  at: number,
): number {
  const negative = b[s] === 0x2d;
  const from = negative ? s + 1 : s;
  let point = from;
  while (point < e && b[point] !== 0x2e) point++;
  const scale = point < e ? e - point - 1 : 0;
  const integerGroups = Math.ceil((point - from) / 4);
  const fractionGroups = Math.ceil(scale / 4);
  const groups = integerGroups + fractionGroups;
  view.setInt16(at, groups);
  view.setInt16(at + 2, integerGroups - 1);
  view.setUint16(at + 4, negative ? 0x4000 : 0);
  view.setInt16(at + 6, scale);
  at += 8;
  // Integer part: the first group takes what is left over from groups of four.
  let k = from;
  for (let g = 0; g < integerGroups; g++) {
    const width = g === 0 ? point - from - (integerGroups - 1) * 4 : 4;
    view.setInt16(at, digits(b, k, width));
    at += 2;
    k += width;
  }
  // Fraction: groups of four from the point, the last one padded with zeros.
  k = point + 1;
  for (let g = 0; g < fractionGroups; g++) {
    let group = 0;
    for (let n = 0; n < 4; n++, k++) group = group * 10 + (k < e ? b[k] - 0x30 : 0);
    view.setInt16(at, group);
    at += 2;
  }
  return at;
}
