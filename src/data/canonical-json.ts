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
 */

export class JsonConversionError extends Error {}

const MAX_DEPTH = 500;
const UNPAIRED_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const INT64_MIN = -(2n ** 63n);
const UINT64_MAX = 2n ** 64n - 1n;

/** Parses legacy JSON text and prints BigQuery's canonical form; throws JsonConversionError. */
export function canonicalJson(text: string): string {
  const parser = new Parser(text);
  parser.skipWhitespace();
  const out = parser.value(0);
  parser.skipWhitespace();
  if (parser.pos !== text.length) parser.fail("unexpected text after the JSON value");
  return out;
}

class Parser {
  pos = 0;
  constructor(readonly text: string) {}

  fail(message: string): never {
    throw new JsonConversionError(`invalid JSON at offset ${this.pos}: ${message}`);
  }

  skipWhitespace(): void {
    const t = this.text;
    while (this.pos < t.length) {
      const c = t.charCodeAt(this.pos);
      if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d) this.pos++;
      else break;
    }
  }

  value(depth: number): string {
    if (depth > MAX_DEPTH) this.fail(`nesting deeper than ${MAX_DEPTH}`);
    const t = this.text;
    const c = t.charCodeAt(this.pos);
    if (c === 0x7b) return this.object(depth + 1); // {
    if (c === 0x5b) return this.array(depth + 1); // [
    if (c === 0x22) {
      const decoded = this.string();
      return this.quoted ?? quoteJsonString(decoded);
    }
    if (c === 0x2d || (c >= 0x30 && c <= 0x39)) return this.number();
    for (const literal of LITERALS) {
      if (t.startsWith(literal, this.pos)) {
        this.pos += literal.length;
        return literal;
      }
    }
    return this.fail("expected a value");
  }

  object(depth: number): string {
    this.pos++;
    this.skipWhitespace();
    if (this.text[this.pos] === "}") {
      this.pos++;
      return "{}";
    }
    // Parallel arrays, not a Map: objects are small, and this runs for every JSON value migrated.
    // `members[i]` is the printed `"key":value` of `keys[i]`.
    const keys: string[] = [];
    const members: string[] = [];
    let seen: Set<string> | undefined;
    /** Every key below U+D800, where UTF-16 order is UTF-8 byte order. */
    let utf16Order = true;
    for (;;) {
      this.skipWhitespace();
      if (this.text[this.pos] !== '"') this.fail("expected an object key");
      const key = this.string();
      const quotedKey = this.quoted ?? quoteJsonString(key);
      this.skipWhitespace();
      if (this.text[this.pos] !== ":") this.fail("expected ':'");
      this.pos++;
      this.skipWhitespace();
      const member = this.value(depth);
      // A linear scan is cheapest for the usual handful of keys; a set once there are many.
      if (keys.length >= 16) seen ??= new Set(keys);
      if (seen ? seen.has(key) : keys.includes(key)) {
        throw new JsonConversionError(
          `duplicate object key ${JSON.stringify(key)} (BigQuery's JSON type would keep only the first)`,
        );
      }
      if (utf16Order && BEYOND_UTF16_ORDER.test(key)) utf16Order = false;
      keys.push(key);
      members.push(`${quotedKey}:${member}`);
      seen?.add(key);
      this.skipWhitespace();
      const sep = this.text[this.pos++];
      if (sep === "}") break;
      if (sep !== ",") this.fail("expected ',' or '}'");
    }
    sortMembers(keys, members, utf16Order ? compareUtf16 : compareUtf8);
    return `{${members.join(",")}}`;
  }

  array(depth: number): string {
    this.pos++;
    const items: string[] = [];
    this.skipWhitespace();
    if (this.text[this.pos] === "]") {
      this.pos++;
      return "[]";
    }
    for (;;) {
      this.skipWhitespace();
      items.push(this.value(depth));
      this.skipWhitespace();
      const sep = this.text[this.pos++];
      if (sep === "]") break;
      if (sep !== ",") this.fail("expected ',' or ']'");
    }
    return `[${items.join(",")}]`;
  }

  /**
   * The printed form of the string `string()` just read, when it had no escape: its source text,
   * quotes included (a string without escapes holds no `"`, `\` or control character, so it is
   * printed as it stands). Undefined when it had escapes.
   */
  quoted: string | undefined;

  /** Reads a string at `pos` (on its opening quote) and returns its decoded value. */
  string(): string {
    const t = this.text;
    const open = this.pos;
    let i = ++this.pos;
    let out = "";
    let runStart = i;
    let escaped = false;
    let unicodeEscape = false;
    for (;;) {
      if (i >= t.length) this.fail("unterminated string");
      const c = t.charCodeAt(i);
      if (c === 0x22) break;
      if (c < 0x20) {
        this.pos = i;
        this.fail("raw control character in a string");
      }
      if (c === 0x5c) {
        escaped = true;
        out += t.slice(runStart, i);
        const e = t[i + 1];
        i += 2;
        switch (e) {
          case '"':
          case "\\":
          case "/":
            out += e;
            break;
          case "b":
            out += "\b";
            break;
          case "f":
            out += "\f";
            break;
          case "n":
            out += "\n";
            break;
          case "r":
            out += "\r";
            break;
          case "t":
            out += "\t";
            break;
          case "u": {
            const hex = t.slice(i, i + 4);
            if (!/^[0-9a-fA-F]{4}$/.test(hex)) {
              this.pos = i;
              this.fail("bad \\u escape");
            }
            out += String.fromCharCode(Number.parseInt(hex, 16));
            unicodeEscape = true;
            i += 4;
            break;
          }
          default:
            this.pos = i - 1;
            this.fail("bad escape");
        }
        runStart = i;
        continue;
      }
      i++;
    }
    this.pos = i + 1;
    if (!escaped) {
      this.quoted = t.slice(open, i + 1);
      return t.slice(runStart, i);
    }
    this.quoted = undefined;
    out += t.slice(runStart, i);
    // Text decoded from UTF-8 holds no unpaired surrogate; only a \u escape can make one.
    if (unicodeEscape && UNPAIRED_SURROGATE.test(out)) {
      throw new JsonConversionError("invalid JSON: a string holds an unpaired surrogate escape");
    }
    return out;
  }

  number(): string {
    // An integer of at most 18 digits — nearly every number in practice — is in int64 range and,
    // JSON having no leading zeros, already canonical: its own text, scanned without the regex.
    const t = this.text;
    const start = this.pos;
    let i = t.charCodeAt(start) === 0x2d ? start + 1 : start;
    const firstDigit = i;
    while (i < t.length) {
      const c = t.charCodeAt(i);
      if (c < 0x30 || c > 0x39) break;
      i++;
    }
    const digits = i - firstDigit;
    const next = i < t.length ? t.charCodeAt(i) : 0;
    const plainInteger =
      digits > 0 &&
      digits <= 18 &&
      next !== 0x2e && // .
      next !== 0x65 && // e
      next !== 0x45 && // E
      (digits === 1 || t.charCodeAt(firstDigit) !== 0x30);
    if (plainInteger) {
      this.pos = i;
      // -0 is the integer 0.
      return digits === 1 && t.charCodeAt(firstDigit) === 0x30 ? "0" : t.slice(start, i);
    }
    NUMBER_TOKEN.lastIndex = start;
    const match = NUMBER_TOKEN.exec(t);
    if (!match) return this.fail("bad number");
    this.pos += match[0].length;
    const token = match[0];
    let canonical = numberCache.get(token);
    if (canonical === undefined) {
      canonical = canonicalNumber(token, match[1] === undefined && match[2] === undefined);
      if (numberCache.size >= NUMBER_CACHE_SIZE) numberCache.clear();
      numberCache.set(token, canonical);
    }
    return canonical;
  }
}

/** Sticky: matches at `lastIndex` only, without slicing the text. */
const NUMBER_TOKEN = /-?(?:0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/y;

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

const LITERALS = ["true", "false", "null"] as const;

/**
 * Below U+D800 UTF-16 code units sort as UTF-8 bytes do; only surrogates (astral characters) and
 * U+E000…U+FFFF need the byte comparison. Keys are mostly ASCII: no allocation for them.
 */
const BEYOND_UTF16_ORDER = /[\uD800-\uFFFF]/;

function compareUtf16(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Byte order of the UTF-8 encodings (std::map<std::string> order), not UTF-16 code units. */
function compareUtf8(a: string, b: string): number {
  if (!BEYOND_UTF16_ORDER.test(a) && !BEYOND_UTF16_ORDER.test(b)) return compareUtf16(a, b);
  return Buffer.compare(Buffer.from(a, "utf8"), Buffer.from(b, "utf8"));
}

/**
 * Sorts `members` by `keys` (both in place, keys unique): insertion sort, as objects usually have
 * a handful of keys, often already in order; no index array or closure per object.
 */
function sortMembers(
  keys: string[],
  members: string[],
  compare: (a: string, b: string) => number,
): void {
  for (let i = 1; i < keys.length; i++) {
    const key = keys[i];
    const member = members[i];
    let j = i - 1;
    while (j >= 0 && compare(keys[j], key) > 0) {
      keys[j + 1] = keys[j];
      members[j + 1] = members[j];
      j--;
    }
    keys[j + 1] = key;
    members[j + 1] = member;
  }
}
