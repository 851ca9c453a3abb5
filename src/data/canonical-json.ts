/**
 * JSON as BigQuery's JSON type holds it. Legacy JSON columns are LONGTEXT, so the text may carry
 * whitespace, duplicate keys, or numbers the JSON type cannot store exactly. `canonicalJson` parses
 * the text (numbers kept as their digits, never through a lossy float first) and prints it the way
 * BigQuery's `TO_JSON_STRING(json)` does (checked against ZetaSQL, the analyzer BigQuery is built
 * on): object keys sorted by UTF-8 bytes, no whitespace, integers in int64/uint64 as digits, other
 * numbers as the shortest double with `.0` on integral values and exponents outside 1e-4…1e15,
 * strings escaping only `"`, `\` and control characters.
 *
 * Values BigQuery would change are refused rather than silently altered: a duplicate key (BigQuery
 * keeps the first), a number that does not round-trip through the JSON type (an integer beyond
 * uint64/int64 range, a decimal with more precision than a double), nesting deeper than 500.
 *
 * This runs for every JSON value migrated, so the printer writes the output as UTF-16 code units
 * into one reused array as it parses and makes one string of it at the end: no string per value,
 * member or key (building and joining those was most of the time). An object's members are printed
 * in source order; when their keys are out of order they are moved into place, the outermost
 * object's as the output is copied into its string.
 */

export class JsonConversionError extends Error {}

const MAX_DEPTH = 500;
const INT64_MIN = -(2n ** 63n);
const UINT64_MAX = 2n ** 64n - 1n;

/** Parses legacy JSON text and prints BigQuery's canonical form; throws JsonConversionError. */
export function canonicalJson(text: string): string {
  const p = printer;
  p.begin(text);
  p.skipWhitespace();
  p.value(0);
  p.skipWhitespace();
  if (p.pos !== text.length) p.fail("unexpected text after the JSON value");
  return p.result();
}

/** Units kept in the reused arrays between calls; a larger value's are dropped after it. */
const KEPT_UNITS = 1 << 16;

/** A member's printed key holds a backslash: its text is not the key itself (see `compareKeys`). */
const KEY_ESCAPED = 1;
/** Its first two units are not all below U+D800: `PREFIX` does not order it. */
const KEY_NO_PREFIX = 2;
/**
 * Per member on the `members` stack: where its key (its opening quote) and the key end, where the
 * member ends, flags, and the key's first two units as one number (0 past its end) that orders
 * keys as the units do: most keys differ there, so most comparisons are of two integers.
 */
const START = 0;
const KEY_END = 1;
const END = 2;
const FLAGS = 3;
const PREFIX = 4;
const MEMBER_FIELDS = 5;
/** Past this many members an object is sorted by Array#sort instead of by insertion. */
const INSERTION_SORT_MAX = 32;
/** From this many members on, duplicate keys are looked up in a set rather than scanned for. */
const KEY_SET_MIN = 16;

const HEX = "0123456789abcdef";

/**
 * What follows the backslash in JSON's escape of a character below 0x5d that needs one (RFC 8259
 * §7, the short forms): the quote, the backslash and \b \f \n \r \t; 0 for the other control
 * characters, written \u00XX. Shared by the canonical form here and the NDJSON encoder
 * (`row-encoding.ts`), which write the same escapes into different arrays.
 */
export const JSON_ESCAPE_LETTERS: Uint8Array = (() => {
  const letters = new Uint8Array(0x5d);
  letters[0x22] = 0x22;
  letters[0x5c] = 0x5c;
  letters[0x08] = 0x62; // b
  letters[0x0c] = 0x66; // f
  letters[0x0a] = 0x6e; // n
  letters[0x0d] = 0x72; // r
  letters[0x09] = 0x74; // t
  return letters;
})();
const IS_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

type Slicer = (buffer: Buffer, end: number) => string;
type NativeSlices = { latin1Slice?: unknown; ucs2Slice?: unknown };
/** `Buffer#latin1Slice`/`ucs2Slice` skip `toString`'s encoding dispatch. */
const latin1Text: Slicer =
  typeof (Buffer.prototype as NativeSlices).latin1Slice === "function"
    ? (b, end) => (b as Buffer & { latin1Slice(s: number, e: number): string }).latin1Slice(0, end)
    : (b, end) => b.toString("latin1", 0, end);
const utf16Text: Slicer =
  typeof (Buffer.prototype as NativeSlices).ucs2Slice === "function"
    ? (b, end) => (b as Buffer & { ucs2Slice(s: number, e: number): string }).ucs2Slice(0, end)
    : (b, end) => b.toString("utf16le", 0, end);

/** The UTF-16 units `units[start…end)` as a string, for the rare paths that need one. */
function unitsText(units: Uint16Array, start: number, end: number): string {
  let s = "";
  for (let i = start; i < end; i += 4096) {
    s += String.fromCharCode.apply(
      null,
      units.subarray(i, Math.min(end, i + 4096)) as unknown as number[],
    );
  }
  return s;
}

const isDigit = (c: number) => c >= 0x30 && c <= 0x39;

/** The value of 4 hex digits at `t[i…i+4)`, or -1. */
function hex4(t: string, i: number): number {
  let v = 0;
  for (let k = i; k < i + 4; k++) {
    const c = t.charCodeAt(k);
    const d =
      c >= 0x30 && c <= 0x39
        ? c - 0x30
        : c >= 0x61 && c <= 0x66
          ? c - 0x57
          : c >= 0x41 && c <= 0x46
            ? c - 0x37
            : -1;
    if (d < 0) return -1;
    v = (v << 4) | d;
  }
  return v;
}

/** As /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/ on `u[start…end)`. */
function hasUnpairedSurrogate(u: Uint16Array, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    const c = u[i];
    if (c < 0xd800 || c > 0xdfff) continue;
    if (c >= 0xdc00) return true; // a low one not taken by a high one before it
    if (i + 1 >= end || u[i + 1] < 0xdc00 || u[i + 1] > 0xdfff) return true;
    i++;
  }
  return false;
}

/**
 * A JSON number is a plain decimal, printed as its own text, when its canonical form is that text:
 * no exponent, at most 15 significant digits (DBL_DIG: such a decimal is the shortest that reads
 * back as its double, so the double prints as these digits), no trailing zero in the fraction, and
 * (below 1) at most 3 zeros after the point (from 1e-4 on the format has an exponent).
 */
function isPlainDecimal(t: string, intStart: number, intEnd: number, fracEnd: number): boolean {
  if (t.charCodeAt(fracEnd - 1) === 0x30) return false;
  const fraction = fracEnd - intEnd - 1;
  if (t.charCodeAt(intStart) !== 0x30) return intEnd - intStart + fraction <= 15;
  let zeros = 0;
  while (t.charCodeAt(intEnd + 1 + zeros) === 0x30) zeros++;
  return zeros <= 3 && fraction - zeros <= 15;
}

class Printer {
  text = "";
  pos = 0;
  /** The output so far, as UTF-16 code units: `out[0…len)`. */
  out: Uint16Array = new Uint16Array(256);
  len = 0;
  /** Every unit of `out` OR-ed together: below 0x100, the output is Latin-1, a one-byte string. */
  units = 0;
  /** The members of the objects being printed, innermost last: `MEMBER_FIELDS` each. */
  members = new Int32Array(64 * MEMBER_FIELDS);
  top = 0;
  /** An object's members in sorted order (their offsets in `members`). */
  order = new Int32Array(64);
  /** The output is an object whose `unsortedMembers` members (if any) are still to be sorted. */
  unsortedMembers = 0;
  /** The output as Latin-1 bytes, for a one-byte string. */
  bytes = Buffer.allocUnsafe(256);
  /** `out`'s bytes, read as UTF-16LE for a two-byte string (on little-endian hosts). */
  outBytes: Buffer = Buffer.from(this.out.buffer);

  begin(text: string): void {
    this.text = text;
    this.pos = 0;
    this.len = 0;
    this.units = 0;
    this.top = 0;
    this.unsortedMembers = 0;
    // Only a number's canonical form can be longer than its text (`number` makes room for it):
    // everything else prints at most as many units as it reads.
    if (this.out.length < text.length) this.setOut(new Uint16Array(text.length + 16));
  }

  setOut(out: Uint16Array): void {
    out.set(this.out.subarray(0, this.len));
    this.out = out;
    this.outBytes = Buffer.from(out.buffer);
  }

  fail(message: string): never {
    throw new JsonConversionError(`invalid JSON at offset ${this.pos}: ${message}`);
  }

  result(): string {
    const text = this.units < 0x100 ? this.latin1Result() : this.utf16Result();
    if (this.out.length > KEPT_UNITS) {
      // Every other array is at most as long as the output (or a fraction of it).
      this.len = 0;
      this.setOut(new Uint16Array(256));
      this.members = new Int32Array(64 * MEMBER_FIELDS);
      this.order = new Int32Array(64);
      this.bytes = Buffer.allocUnsafe(256);
    }
    return text;
  }

  /** The output as a one-byte string, copied as Latin-1 bytes (the members put in order). */
  latin1Result(): string {
    const n = this.len;
    if (this.bytes.length < n) this.bytes = Buffer.allocUnsafe(Math.max(n, 2 * this.bytes.length));
    if (this.unsortedMembers > 0) this.copySortedObject();
    else {
      const bytes = this.bytes;
      const out = this.out;
      for (let i = 0; i < n; i++) bytes[i] = out[i];
    }
    return latin1Text(this.bytes, n);
  }

  utf16Result(): string {
    if (this.unsortedMembers > 0) {
      // Sorted where the closing brace was, then moved back: the brace is written again.
      this.len--;
      this.moveMembers(0, this.unsortedMembers);
      this.out[this.len++] = 0x7d;
    }
    const n = this.len;
    return IS_LITTLE_ENDIAN ? utf16Text(this.outBytes, 2 * n) : unitsText(this.out, 0, n);
  }

  /** `out`, an object whose members are in `order`, into `bytes` with its members in that order. */
  copySortedObject(): void {
    const bytes = this.bytes;
    const out = this.out;
    const members = this.members;
    const order = this.order;
    bytes[0] = 0x7b; // {
    let w = 1;
    for (let k = 0; k < this.unsortedMembers; k++) {
      if (k > 0) bytes[w++] = 0x2c; // ,
      const m = order[k];
      const end = members[m + END];
      for (let i = members[m + START]; i < end; i++) bytes[w++] = out[i];
    }
    bytes[w] = 0x7d;
  }

  skipWhitespace(): void {
    const t = this.text;
    while (this.pos < t.length) {
      const c = t.charCodeAt(this.pos);
      if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d) this.pos++;
      else break;
    }
  }

  value(depth: number): void {
    if (depth > MAX_DEPTH) this.fail(`nesting deeper than ${MAX_DEPTH}`);
    const c = this.text.charCodeAt(this.pos);
    if (c === 0x22) this.string();
    else if (c === 0x2d || (c >= 0x30 && c <= 0x39)) this.number();
    else if (c === 0x7b /* { */) this.object(depth + 1);
    else if (c === 0x5b /* [ */) this.array(depth + 1);
    else this.literal();
  }

  literal(): void {
    const t = this.text;
    const c = t.charCodeAt(this.pos);
    const literal =
      c === 0x74
        ? "true"
        : c === 0x66
          ? "false"
          : c === 0x6e
            ? "null"
            : this.fail("expected a value");
    if (!t.startsWith(literal, this.pos)) this.fail("expected a value");
    this.copy(this.pos, this.pos + literal.length);
    this.pos += literal.length;
  }

  /** Writes `text[from…to)` (ASCII) as it stands. */
  copy(from: number, to: number): void {
    const t = this.text;
    const out = this.out;
    let len = this.len;
    for (let i = from; i < to; i++) out[len++] = t.charCodeAt(i);
    this.len = len;
  }

  object(depth: number): void {
    const t = this.text;
    this.pos++;
    this.skipWhitespace();
    this.out[this.len++] = 0x7b; // {
    if (t.charCodeAt(this.pos) === 0x7d) {
      this.pos++;
      this.out[this.len++] = 0x7d;
      return;
    }
    const base = this.top;
    let sorted = true;
    let seen: Set<string> | undefined;
    for (;;) {
      this.skipWhitespace();
      if (t.charCodeAt(this.pos) !== 0x22) this.fail("expected an object key");
      const start = this.len;
      const flags = this.string();
      const keyEnd = this.len;
      this.skipWhitespace();
      if (t.charCodeAt(this.pos) !== 0x3a) this.fail("expected ':'");
      this.pos++;
      this.out[this.len++] = 0x3a; // :
      this.skipWhitespace();
      this.value(depth);
      const m = this.pushMember(start, keyEnd, flags);
      // A scan is cheapest for the usual handful of keys; a set once there are many.
      if (m - base >= KEY_SET_MIN * MEMBER_FIELDS) {
        seen ??= this.keySet(base, m);
        const key = this.keyText(m);
        if (seen.has(key)) this.duplicateKey(m);
        seen.add(key);
      } else if (this.findKey(base, m)) this.duplicateKey(m);
      if (sorted && m > base && this.compareKeys(m - MEMBER_FIELDS, m) > 0) sorted = false;
      this.skipWhitespace();
      const sep = t.charCodeAt(this.pos++);
      if (sep === 0x7d) break; // }
      if (sep !== 0x2c) this.fail("expected ',' or '}'");
      this.out[this.len++] = 0x2c; // ,
    }
    if (!sorted) {
      const count = (this.top - base) / MEMBER_FIELDS;
      this.orderMembers(base, count);
      // The outermost object's members are put in order as `result` copies the output, if it does.
      if (depth === 1) this.unsortedMembers = count;
      else this.moveMembers(base, count);
    }
    this.top = base;
    this.out[this.len++] = 0x7d;
  }

  /** Records the member just printed (its key from `start`, its value up to `len`); its offset. */
  pushMember(start: number, keyEnd: number, flags: number): number {
    const m = this.top;
    if (m + MEMBER_FIELDS > this.members.length) {
      const bigger = new Int32Array(2 * this.members.length);
      bigger.set(this.members);
      this.members = bigger;
    }
    const members = this.members;
    const out = this.out;
    const u0 = keyEnd - start > 2 ? out[start + 1] : 0;
    const u1 = keyEnd - start > 3 ? out[start + 2] : 0;
    members[m + START] = start;
    members[m + KEY_END] = keyEnd;
    members[m + END] = this.len;
    members[m + FLAGS] = u0 >= 0xd800 || u1 >= 0xd800 ? flags | KEY_NO_PREFIX : flags;
    // Flipping the sign bit makes the Int32Array's signed order the units' unsigned one.
    members[m + PREFIX] = ((u0 << 16) | u1) ^ 0x80000000;
    this.top = m + MEMBER_FIELDS;
    return m;
  }

  /** Whether a member before `m` (from `base`) has its key. Printed keys are equal iff keys are. */
  findKey(base: number, m: number): boolean {
    const members = this.members;
    const out = this.out;
    const start = members[m + START];
    const length = members[m + KEY_END] - start;
    const prefix = members[m + PREFIX];
    for (let k = base; k < m; k += MEMBER_FIELDS) {
      const other = members[k + START];
      if (members[k + PREFIX] !== prefix || members[k + KEY_END] - other !== length) continue;
      let i = 1;
      while (i < length - 1 && out[start + i] === out[other + i]) i++;
      if (i === length - 1) return true;
    }
    return false;
  }

  /** The printed key of member `m`, quotes included. */
  keyText(m: number): string {
    return unitsText(this.out, this.members[m + START], this.members[m + KEY_END]);
  }

  keySet(base: number, end: number): Set<string> {
    const set = new Set<string>();
    for (let k = base; k < end; k += MEMBER_FIELDS) set.add(this.keyText(k));
    return set;
  }

  duplicateKey(m: number): never {
    const key = JSON.parse(this.keyText(m)) as string;
    throw new JsonConversionError(
      `duplicate object key ${JSON.stringify(key)} (BigQuery's JSON type would keep only the first)`,
    );
  }

  /**
   * The UTF-8 byte order of two members' keys. A key printed without a backslash is the key
   * itself, compared in place; an escaped one (rare) is decoded first.
   */
  compareKeys(a: number, b: number): number {
    const members = this.members;
    const flags = members[a + FLAGS] | members[b + FLAGS];
    if ((flags & (KEY_ESCAPED | KEY_NO_PREFIX)) === 0) {
      const x = members[a + PREFIX];
      const y = members[b + PREFIX];
      if (x !== y) return x < y ? -1 : 1;
    }
    if ((flags & KEY_ESCAPED) !== 0) {
      return compareUtf8(
        JSON.parse(this.keyText(a)) as string,
        JSON.parse(this.keyText(b)) as string,
      );
    }
    return compareUnitsAsUtf8(
      this.out,
      members[a + START] + 1,
      members[a + KEY_END] - 1,
      members[b + START] + 1,
      members[b + KEY_END] - 1,
    );
  }

  /** Puts the members of the object from `base` in key order (keys unique) in `order`. */
  orderMembers(base: number, count: number): void {
    if (this.order.length < count) this.order = new Int32Array(2 * count);
    const order = this.order;
    for (let k = 0; k < count; k++) order[k] = base + k * MEMBER_FIELDS;
    if (count <= INSERTION_SORT_MAX) {
      for (let k = 1; k < count; k++) {
        const m = order[k];
        let j = k - 1;
        while (j >= 0 && this.compareKeys(order[j], m) > 0) {
          order[j + 1] = order[j];
          j--;
        }
        order[j + 1] = m;
      }
    } else {
      // Stable, like the insertion sort: ties (keys with the same UTF-8) keep their order.
      order.set(Array.from(order.subarray(0, count)).sort((x, y) => this.compareKeys(x, y)));
    }
  }

  /** Moves the members of the object from `base`, which ends the output, into `order`. */
  moveMembers(base: number, count: number): void {
    // The sorted text is built past the object's, then moved back.
    const members = this.members;
    const order = this.order;
    const from = members[base + START];
    const to = this.len;
    const room = to + (to - from) + (this.text.length - this.pos);
    if (this.out.length < room) this.setOut(new Uint16Array(Math.max(room, 2 * this.out.length)));
    const out = this.out;
    let w = to;
    for (let k = 0; k < count; k++) {
      if (k > 0) out[w++] = 0x2c; // ,
      const m = order[k];
      const end = members[m + END];
      for (let i = members[m + START]; i < end; i++) out[w++] = out[i];
    }
    out.copyWithin(from, to, w);
  }

  array(depth: number): void {
    const t = this.text;
    this.pos++;
    this.skipWhitespace();
    this.out[this.len++] = 0x5b; // [
    if (t.charCodeAt(this.pos) === 0x5d) {
      this.pos++;
      this.out[this.len++] = 0x5d;
      return;
    }
    for (;;) {
      this.skipWhitespace();
      this.value(depth);
      this.skipWhitespace();
      const sep = t.charCodeAt(this.pos++);
      if (sep === 0x5d) break; // ]
      if (sep !== 0x2c) this.fail("expected ',' or ']'");
      this.out[this.len++] = 0x2c;
    }
    this.out[this.len++] = 0x5d;
  }

  /**
   * Prints the string at `pos` (on its opening quote) in canonical form: its characters as they
   * stand but `"`, `\` and control characters, escaped (`quoteJsonString`). Returns KEY_ESCAPED
   * when the printed text holds an escape.
   */
  string(): number {
    const t = this.text;
    const n = t.length;
    const out = this.out;
    let i = ++this.pos;
    let len = this.len;
    out[len++] = 0x22;
    let units = 0;
    let flags = 0;
    let unicodeEscape = false;
    for (;;) {
      if (i >= n) this.fail("unterminated string");
      let c = t.charCodeAt(i);
      if (c === 0x22) break;
      if (c === 0x5c) {
        const e = t.charCodeAt(i + 1);
        i += 2;
        switch (e) {
          case 0x22: // "
          case 0x5c: // \
          case 0x2f: // /
            c = e;
            break;
          case 0x62: // b
            c = 0x08;
            break;
          case 0x66: // f
            c = 0x0c;
            break;
          case 0x6e: // n
            c = 0x0a;
            break;
          case 0x72: // r
            c = 0x0d;
            break;
          case 0x74: // t
            c = 0x09;
            break;
          case 0x75: // u
            c = hex4(t, i);
            if (c < 0) {
              this.pos = i;
              this.fail("bad \\u escape");
            }
            unicodeEscape = true;
            i += 4;
            break;
          default:
            this.pos = i - 1;
            this.fail("bad escape");
        }
        if (c >= 0x20 && c !== 0x22 && c !== 0x5c) {
          out[len++] = c;
          units |= c;
        } else {
          flags = KEY_ESCAPED;
          len = writeEscape(c, out, len);
        }
        continue;
      }
      if (c < 0x20) {
        this.pos = i;
        this.fail("raw control character in a string");
      }
      out[len++] = c;
      units |= c;
      i++;
    }
    this.pos = i + 1;
    // Text decoded from UTF-8 holds no unpaired surrogate; only a \u escape can make one. Escapes
    // print as ASCII, so surrogates pair in the output exactly as in the decoded string.
    if (unicodeEscape && hasUnpairedSurrogate(out, this.len + 1, len)) {
      throw new JsonConversionError("invalid JSON: a string holds an unpaired surrogate escape");
    }
    out[len++] = 0x22;
    this.len = len;
    this.units |= units;
    return flags;
  }

  /**
   * Prints the number at `pos`: `-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?`, the longest match (a `.`
   * or `e` without digits after it is not part of it). Integers of at most 18 digits (in int64 range
   * and, JSON having no leading zeros, canonical) and plain decimals are printed as their text.
   */
  number(): void {
    const t = this.text;
    const start = this.pos;
    let i = t.charCodeAt(start) === 0x2d ? start + 1 : start;
    const intStart = i;
    const first = t.charCodeAt(i);
    if (first === 0x30) i++;
    else if (first > 0x30 && first <= 0x39) {
      i++;
      while (isDigit(t.charCodeAt(i))) i++;
    } else this.fail("bad number");
    const intEnd = i;
    if (t.charCodeAt(i) === 0x2e && isDigit(t.charCodeAt(i + 1))) {
      i += 2;
      while (isDigit(t.charCodeAt(i))) i++;
    }
    const fracEnd = i;
    let exponent = false;
    const e = t.charCodeAt(i);
    if (e === 0x65 || e === 0x45) {
      const sign = t.charCodeAt(i + 1);
      let j = sign === 0x2b || sign === 0x2d ? i + 2 : i + 1;
      if (isDigit(t.charCodeAt(j))) {
        j++;
        while (isDigit(t.charCodeAt(j))) j++;
        i = j;
        exponent = true;
      }
    }
    this.pos = i;
    if (!exponent) {
      if (fracEnd === intEnd && intEnd - intStart <= 18) {
        // -0 is the integer 0.
        if (first === 0x30) this.out[this.len++] = 0x30;
        else this.copy(start, i);
        return;
      }
      if (fracEnd !== intEnd && isPlainDecimal(t, intStart, intEnd, fracEnd)) {
        this.copy(start, i);
        return;
      }
    }
    const token = t.slice(start, i);
    let canonical = numberCache.get(token);
    if (canonical === undefined) {
      canonical = canonicalNumber(token, fracEnd === intEnd && !exponent);
      if (numberCache.size >= NUMBER_CACHE_SIZE) numberCache.clear();
      numberCache.set(token, canonical);
    }
    const room = this.len + canonical.length + (t.length - i);
    if (this.out.length < room) this.setOut(new Uint16Array(Math.max(room, 2 * this.out.length)));
    const out = this.out;
    let len = this.len;
    for (let k = 0; k < canonical.length; k++) out[len++] = canonical.charCodeAt(k);
    this.len = len;
  }
}

const printer = new Printer();

/** Writes the escape of `c` (`"`, `\` or a control character) as `quoteJsonString` does. */
function writeEscape(c: number, out: Uint16Array, len: number): number {
  out[len++] = 0x5c; // \
  const letter = JSON_ESCAPE_LETTERS[c];
  if (letter !== 0) {
    out[len++] = letter;
    return len;
  }
  out[len++] = 0x75; // u
  out[len++] = 0x30;
  out[len++] = 0x30;
  out[len++] = HEX.charCodeAt(c >> 4);
  out[len++] = HEX.charCodeAt(c & 15);
  return len;
}

/**
 * The same few numbers recur in every row of a column (flags, counts, prices), and printing a
 * non-integer exactly is costly: a bounded memo of a pure function.
 */
const NUMBER_CACHE_SIZE = 4096;
const numberCache = new Map<string, string>();

function canonicalNumber(token: string, isInteger: boolean): string {
  if (isInteger) {
    const n = BigInt(token);
    if (n >= INT64_MIN && n <= UINT64_MAX) return n.toString();
    throw new JsonConversionError(
      `JSON number ${token} is outside the int64/uint64 range that BigQuery's JSON type stores exactly`,
    );
  }
  const d = Number(token);
  if (!Number.isFinite(d) || !sameDecimal(token, d.toExponential())) {
    throw new JsonConversionError(
      `JSON number ${token} cannot be stored exactly by BigQuery's JSON type (it is not a double)`,
    );
  }
  return formatDouble(d);
}

/** Digits and exponent of a decimal literal, trailing zeros removed: exact numeric equality. */
function decimalParts(literal: string): { negative: boolean; digits: string; exponent: number } {
  const m = /^(-?)(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/.exec(literal)!;
  let digits = m[2] + (m[3] ?? "");
  let exponent = Number(m[4] ?? "0") - (m[3]?.length ?? 0);
  digits = digits.replace(/^0+/, "");
  const trimmed = digits.replace(/0+$/, "");
  exponent += digits.length - trimmed.length;
  digits = trimmed;
  if (digits === "") return { negative: false, digits: "0", exponent: 0 };
  return { negative: m[1] === "-", digits, exponent };
}

function sameDecimal(a: string, b: string): boolean {
  const x = decimalParts(a);
  const y = decimalParts(b);
  return (
    x.digits === y.digits &&
    x.exponent === y.exponent &&
    (x.negative === y.negative || x.digits === "0")
  );
}

/** nlohmann::json's double format (used by ZetaSQL/BigQuery): shortest digits, `.0`, `e+NN`. */
export function formatDouble(d: number): string {
  if (d === 0) return Object.is(d, -0) ? "-0.0" : "0.0";
  const sign = d < 0 ? "-" : "";
  const [mantissa, exp] = Math.abs(d).toExponential().split("e");
  const digits = mantissa.replace(".", "");
  const k = digits.length;
  const n = Number(exp) + 1; // value = 0.digits × 10^n
  let body: string;
  if (k <= n && n <= 15) body = `${digits}${"0".repeat(n - k)}.0`;
  else if (0 < n && n <= 15) body = `${digits.slice(0, n)}.${digits.slice(n)}`;
  else if (-4 < n && n <= 0) body = `0.${"0".repeat(-n)}${digits}`;
  else {
    const e = n - 1;
    const abs = Math.abs(e);
    body = `${digits[0]}${k > 1 ? `.${digits.slice(1)}` : ""}e${e < 0 ? "-" : "+"}${abs < 10 ? `0${abs}` : abs}`;
  }
  return sign + body;
}

/** nlohmann's string escaping: only `"`, `\` and control characters; everything else raw. */
export function quoteJsonString(s: string): string {
  let out = '"';
  let runStart = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x20 && c !== 0x22 && c !== 0x5c) continue;
    out += s.slice(runStart, i);
    runStart = i + 1;
    switch (c) {
      case 0x22:
        out += '\\"';
        break;
      case 0x5c:
        out += "\\\\";
        break;
      case 0x08:
        out += "\\b";
        break;
      case 0x0c:
        out += "\\f";
        break;
      case 0x0a:
        out += "\\n";
        break;
      case 0x0d:
        out += "\\r";
        break;
      case 0x09:
        out += "\\t";
        break;
      default:
        out += `\\u${c.toString(16).padStart(4, "0")}`;
    }
  }
  return `${out}${s.slice(runStart)}"`;
}

/**
 * Below U+D800 UTF-16 code units sort as UTF-8 bytes do; only surrogates (astral characters) and
 * U+E000…U+FFFF need the byte comparison.
 */
const BEYOND_UTF16_ORDER = /[\uD800-\uFFFF]/;

/** Byte order of the UTF-8 encodings (std::map<std::string> order), not UTF-16 code units. */
function compareUtf8(a: string, b: string): number {
  if (!BEYOND_UTF16_ORDER.test(a) && !BEYOND_UTF16_ORDER.test(b)) return a < b ? -1 : a > b ? 1 : 0;
  return Buffer.compare(Buffer.from(a, "utf8"), Buffer.from(b, "utf8"));
}

/**
 * `compareUtf8` of the strings `u[a…aEnd)` and `u[b…bEnd)`, in place. Up to the first differing
 * unit both are the same code points; below U+D800 units are code points, and UTF-8 sorts as code
 * points do. Else the code points are compared from the start.
 */
function compareUnitsAsUtf8(
  u: Uint16Array,
  a: number,
  aEnd: number,
  b: number,
  bEnd: number,
): number {
  const n = Math.min(aEnd - a, bEnd - b);
  for (let k = 0; k < n; k++) {
    const x = u[a + k];
    const y = u[b + k];
    if (x === y) continue;
    if (x < 0xd800 && y < 0xd800) return x - y;
    return compareCodePoints(u, a, aEnd, b, bEnd);
  }
  // One is a prefix of the other: shorter first, in code points as in units.
  return aEnd - a - (bEnd - b);
}

/** As the UTF-8 bytes compare: code points, an unpaired surrogate as U+FFFD (as Buffer.from). */
function compareCodePoints(
  u: Uint16Array,
  a: number,
  aEnd: number,
  b: number,
  bEnd: number,
): number {
  while (a < aEnd && b < bEnd) {
    const x = codePointAt(u, a, aEnd);
    const y = codePointAt(u, b, bEnd);
    if (x !== y) return x - y;
    a += x > 0xffff ? 2 : 1;
    b += y > 0xffff ? 2 : 1;
  }
  return aEnd - a - (bEnd - b);
}

function codePointAt(u: Uint16Array, i: number, end: number): number {
  const c = u[i];
  if (c < 0xd800 || c > 0xdfff) return c;
  if (c <= 0xdbff && i + 1 < end && u[i + 1] >= 0xdc00 && u[i + 1] <= 0xdfff) {
    return ((c - 0xd800) << 10) + (u[i + 1] - 0xdc00) + 0x10000;
  }
  return 0xfffd;
}
