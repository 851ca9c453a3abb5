/**
 * `canonicalJson` on UTF-8 bytes, for the copy's fast path (`wire-rows.ts`): a JSON column's bytes
 * as they came off the wire, printed straight into a byte buffer in BigQuery's canonical form.
 * The text path decodes the bytes to a string, prints the canonical form as UTF-16 and makes a
 * string of it, which the NDJSON line and the checksum text then encode back to UTF-8: 1.3 µs of a
 * typical 60-byte value, most of what a JSON column cost.
 *
 * It prints only what it is sure of, and declines the rest: a `\u` escape, an escaped key, an
 * exponent, a number that is not a plain integer of at most 18 digits or a plain decimal (see
 * `isPlainDecimal`), a duplicate key, an object of more than 32 members, nesting deeper than 64,
 * bytes that are not UTF-8, any syntax error, a top-level `null`. A declined value takes the text
 * path, which gives the verdict (its canonical form, or why not). So what this prints is the text
 * path's output as UTF-8, byte for byte; the differential tests (test/data/canonical-json-bytes
 * .test.ts) hold the two to it over valid, invalid and mutated JSON.
 *
 * Keys sort by their UTF-8 bytes, which is the canonical order; an unescaped key's bytes are the
 * key's UTF-8. What it prints is never longer than what it reads (whitespace goes, `\/` becomes
 * `/`, `-0` becomes `0`, everything else is copied), so `e - s` bytes of room are enough.
 */
import { LastDataView } from "./page-buffer";
import { utf8SequenceLength as utf8SequenceLengthExport } from "./row-encoding";

const utf8SequenceLength = utf8SequenceLengthExport;
const outViews = new LastDataView();

/** The byte path declined the value: the text path decides. */
export const DECLINED = -1;

const MAX_DEPTH = 64;
const MAX_MEMBERS = 32;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const ZERO = 0x30;

const isDigit = (c: number) => c >= 0x30 && c <= 0x39;
const isWhitespace = (c: number) => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;

/**
 * The escapes printed as they are read: `\"`, `\\` and the short forms of control characters,
 * which are also how the canonical form escapes those characters. `\/` is printed as `/`.
 */
const KEPT_ESCAPES = new Uint8Array(0x80);
for (const c of '"\\bfnrt') KEPT_ESCAPES[c.charCodeAt(0)] = 1;

/**
 * Each JSON column's canonical form in a row, as UTF-8: column `i`'s at `bytes[start[i], end[i])`,
 * `start[i]` -1 where it has none (NULL, or not a JSON column).
 */
export interface CanonicalJsonSpans {
  bytes: Buffer;
  readonly start: Int32Array;
  readonly end: Int32Array;
}

/** The bytes a string holds as they are: ASCII but `"`, `\` and control characters. */
const PLAIN = new Uint8Array(0x100);
for (let c = 0x20; c < 0x80; c++) PLAIN[c] = c === QUOTE || c === BACKSLASH ? 0 : 1;

/** `null`, `true`, `false` as bytes. */
const LITERALS: Record<number, Uint8Array> = {
  0x6e: Buffer.from("null"),
  0x74: Buffer.from("true"),
  0x66: Buffer.from("false"),
};

/**
 * Per member on the stack: where its key's text starts and ends (inside the quotes), where it
 * ends, and its rank among its object's members so far (how many keys sort before its own).
 */
const KEY_START = 0;
const KEY_END = 1;
const END = 2;
const RANK = 3;
const MEMBER_FIELDS = 4;

/** What the printer holds between calls; a Buffer, as the rows' packets and chunks are (one map). */
const EMPTY: Uint8Array = Buffer.alloc(0);

class BytePrinter {
  src: Uint8Array = EMPTY;
  pos = 0;
  end = 0;
  out: Uint8Array = EMPTY;
  len = 0;
  /** The members of the objects being printed, innermost last. */
  members = new Int32Array(MAX_DEPTH * MAX_MEMBERS * MEMBER_FIELDS);
  top = 0;
  order = new Int32Array(MAX_MEMBERS);
  /** An unsorted object's text while its members are written back in order. */
  moved: Uint8Array = Buffer.alloc(256);
  movedView = new DataView(this.moved.buffer, this.moved.byteOffset, this.moved.length);

  setMoved(bytes: number): void {
    this.moved = Buffer.alloc(bytes);
    this.movedView = new DataView(this.moved.buffer, this.moved.byteOffset, this.moved.length);
  }

  peek(): number {
    return this.pos < this.end ? this.src[this.pos] : -1;
  }

  skipWhitespace(): void {
    const src = this.src;
    const end = this.end;
    let pos = this.pos;
    while (pos < end && isWhitespace(src[pos])) pos++;
    this.pos = pos;
  }

  value(depth: number): boolean {
    const c = this.peek();
    if (c === QUOTE) return this.string(false);
    if (c === 0x2d || isDigit(c)) return this.number();
    if (c === 0x7b) return depth < MAX_DEPTH && this.object(depth + 1);
    if (c === 0x5b) return depth < MAX_DEPTH && this.array(depth + 1);
    return this.literal(c);
  }

  literal(c: number): boolean {
    const word = LITERALS[c];
    if (word === undefined || this.pos + word.length > this.end) return false;
    const src = this.src;
    for (let k = 0; k < word.length; k++) if (src[this.pos + k] !== word[k]) return false;
    this.out.set(word, this.len);
    this.len += word.length;
    this.pos += word.length;
    return true;
  }

  /** The string at `pos` (on its opening quote); a key declines on any escape. */
  string(isKey: boolean): boolean {
    const src = this.src;
    const end = this.end;
    const out = this.out;
    let len = this.len;
    let i = this.pos + 1;
    out[len++] = QUOTE;
    for (;;) {
      if (i >= end) return false;
      const c = src[i];
      if (PLAIN[c] === 1) {
        out[len++] = c;
        i++;
        continue;
      }
      if (c === QUOTE) break;
      if (c === BACKSLASH) {
        if (isKey || i + 1 >= end) return false;
        const e = src[i + 1];
        if (e === 0x2f) out[len++] = 0x2f;
        else if (e < 0x80 && KEPT_ESCAPES[e] === 1) {
          out[len++] = BACKSLASH;
          out[len++] = e;
        } else return false;
        i += 2;
        continue;
      }
      if (c < 0x80) return false; // a control character
      const n = utf8SequenceLength(src, i, end);
      if (n === 0) return false;
      for (let k = 0; k < n; k++) out[len++] = src[i + k];
      i += n;
    }
    out[len++] = QUOTE;
    this.len = len;
    this.pos = i + 1;
    return true;
  }

  /**
   * The number at `pos`, as the text path reads it: an integer of at most 18 digits (`-0` is 0) or
   * a plain decimal is its own canonical form; any other declines.
   */
  number(): boolean {
    const src = this.src;
    const end = this.end;
    const start = this.pos;
    let i = src[start] === 0x2d ? start + 1 : start;
    const intStart = i;
    if (i >= end) return false;
    const first = src[i];
    if (first === ZERO) i++;
    else if (isDigit(first)) {
      i++;
      while (i < end && isDigit(src[i])) i++;
    } else return false;
    const intEnd = i;
    if (i + 1 < end && src[i] === 0x2e && isDigit(src[i + 1])) {
      i += 2;
      while (i < end && isDigit(src[i])) i++;
    }
    const fracEnd = i;
    if (i < end && (src[i] === 0x65 || src[i] === 0x45)) return false;
    this.pos = i;
    if (fracEnd === intEnd) {
      if (intEnd - intStart > 18) return false;
      if (first === ZERO) {
        this.out[this.len++] = ZERO;
        return true;
      }
    } else if (!isPlainDecimal(src, intStart, intEnd, fracEnd)) return false;
    const out = this.out;
    let len = this.len;
    for (let k = start; k < i; k++) out[len++] = src[k];
    this.len = len;
    return true;
  }

  array(depth: number): boolean {
    this.pos++;
    this.skipWhitespace();
    this.out[this.len++] = 0x5b;
    if (this.peek() === 0x5d) {
      this.pos++;
      this.out[this.len++] = 0x5d;
      return true;
    }
    for (;;) {
      this.skipWhitespace();
      if (!this.value(depth)) return false;
      this.skipWhitespace();
      const sep = this.peek();
      this.pos++;
      if (sep === 0x5d) break;
      if (sep !== COMMA) return false;
      this.out[this.len++] = COMMA;
    }
    this.out[this.len++] = 0x5d;
    return true;
  }

  object(depth: number): boolean {
    this.pos++;
    this.skipWhitespace();
    const from = this.len;
    this.out[this.len++] = 0x7b;
    if (this.peek() === 0x7d) {
      this.pos++;
      this.out[this.len++] = 0x7d;
      return true;
    }
    const base = this.top;
    let sorted = true;
    for (;;) {
      this.skipWhitespace();
      if (this.peek() !== QUOTE) return false;
      const keyStart = this.len + 1;
      if (!this.string(true)) return false;
      const keyEnd = this.len - 1;
      this.skipWhitespace();
      if (this.peek() !== COLON) return false;
      this.pos++;
      this.out[this.len++] = COLON;
      this.skipWhitespace();
      if (!this.value(depth)) return false;
      const m = this.top;
      if (m - base === MAX_MEMBERS * MEMBER_FIELDS) return false;
      const members = this.members;
      members[m + KEY_START] = keyStart;
      members[m + KEY_END] = keyEnd;
      members[m + END] = this.len;
      this.top = m + MEMBER_FIELDS;
      // Compared with every key before it, for a duplicate; the same comparisons rank the keys.
      let rank = 0;
      for (let k = base; k < m; k += MEMBER_FIELDS) {
        const order = this.compareKeys(k, m);
        if (order === 0) return false; // a duplicate: the text path says why it is refused
        if (order < 0) rank++;
        else {
          members[k + RANK]++;
          sorted = false;
        }
      }
      members[m + RANK] = rank;
      this.skipWhitespace();
      const sep = this.peek();
      this.pos++;
      if (sep === 0x7d) break;
      if (sep !== COMMA) return false;
      this.out[this.len++] = COMMA;
    }
    if (!sorted) this.writeInOrder(base, from);
    this.top = base;
    this.out[this.len++] = 0x7d;
    return true;
  }

  /** The UTF-8 byte order of two members' keys (printed unescaped: their bytes are the keys). */
  compareKeys(a: number, b: number): number {
    const members = this.members;
    const out = this.out;
    const aStart = members[a + KEY_START];
    const aLength = members[a + KEY_END] - aStart;
    const bStart = members[b + KEY_START];
    const bLength = members[b + KEY_END] - bStart;
    const n = Math.min(aLength, bLength);
    for (let k = 0; k < n; k++) {
      const x = out[aStart + k];
      const y = out[bStart + k];
      if (x !== y) return x - y;
    }
    return aLength - bLength;
  }

  /**
   * Rewrites the object from `from` (its `{`) to `len`, whose members from `base` are out of key
   * order, with its members in order.
   */
  writeInOrder(base: number, from: number): void {
    const members = this.members;
    const order = this.order;
    let count = 0;
    for (let m = base; m < this.top; m += MEMBER_FIELDS, count++) order[members[m + RANK]] = m;
    const out = this.out;
    const length = this.len - from;
    if (this.moved.length < length + 4) this.setMoved(2 * length + 4);
    const moved = this.moved;
    const movedView = this.movedView;
    const outView = outViews.of(out);
    // Four bytes a load and a store (`set` of a subarray made a Buffer per object).
    let k = 0;
    for (; k + 4 <= length; k += 4) movedView.setInt32(k, outView.getInt32(from + k, true), true);
    for (; k < length; k++) moved[k] = out[from + k];
    let w = from + 1;
    for (let n = 0; n < count; n++) {
      if (n > 0) out[w++] = COMMA;
      const m = order[n];
      // A member's text runs from its key's opening quote to its end.
      let i = members[m + KEY_START] - 1 - from;
      const stop = members[m + END] - from;
      for (; i + 4 <= stop; i += 4, w += 4) outView.setInt32(w, movedView.getInt32(i, true), true);
      for (; i < stop; i++) out[w++] = moved[i];
    }
    this.len = w;
  }
}

/**
 * A JSON number is a plain decimal, its own canonical form, under the text path's rule
 * (`canonical-json.ts`, `isPlainDecimal`): at most 15 significant digits, no trailing zero in the
 * fraction, and below 1 at most 3 zeros after the point.
 */
function isPlainDecimal(t: Uint8Array, intStart: number, intEnd: number, fracEnd: number): boolean {
  if (t[fracEnd - 1] === ZERO) return false;
  const fraction = fracEnd - intEnd - 1;
  if (t[intStart] !== ZERO) return intEnd - intStart + fraction <= 15;
  let zeros = 0;
  while (t[intEnd + 1 + zeros] === ZERO) zeros++;
  return zeros <= 3 && fraction - zeros <= 15;
}

const printer = new BytePrinter();
/** Room for moving an unsorted object kept between calls. */
const KEPT_MOVED_BYTES = 1 << 16;

const NULL_WORD = LITERALS[0x6e];

/**
 * Prints the canonical form of the JSON text `b[s, e)` into `out` from `at` (which has room for
 * `e - s` bytes); returns where it ends, or DECLINED (nothing of `out` past `at` is then meant).
 */
export function canonicalJsonBytes(
  b: Uint8Array,
  s: number,
  e: number,
  out: Uint8Array,
  at: number,
): number {
  const p = printer;
  p.src = b;
  p.pos = s;
  p.end = e;
  p.out = out;
  p.len = at;
  p.top = 0;
  p.skipWhitespace();
  const printed = p.value(0);
  p.skipWhitespace();
  if (!printed || p.pos !== e) {
    p.src = p.out = EMPTY;
    return DECLINED;
  }
  const len = p.len;
  // Not kept past the call: the row's packet and the page's chunk, a large object's room.
  p.src = p.out = EMPTY;
  if (p.moved.length > KEPT_MOVED_BYTES) p.setMoved(256);
  if (len - at === 4 && out[at] === NULL_WORD[0] && out[at + 1] === NULL_WORD[1]) {
    return DECLINED; // a top-level null, which the column's conversion refuses
  }
  return len;
}
