/**
 * Encoders from converted rows (see `convert.ts`) to the two load formats: PostgreSQL's COPY text
 * format and BigQuery's newline-delimited JSON.
 */
import { quoteJsonString } from "./canonical-json";
import {
  isLowSurrogate as isLowSurrogateExport,
  NATIVE_WRITE_UNITS as NATIVE_WRITE_UNITS_EXPORT,
  writeBytes as writeBytesExport,
  writeNonAscii as writeNonAsciiExport,
  writeUtf8 as writeUtf8Export,
  type PageBuffer,
} from "./page-buffer";
import type { MigrationColumn } from "./table-plan";

// Module-local bindings of per-value functions: compiled to CommonJS, every use of an imported
// binding is a call of a getter on the exporting module, which cost a worker ~0.3 CPU-s.
const isLowSurrogate = isLowSurrogateExport;
const NATIVE_WRITE_UNITS = NATIVE_WRITE_UNITS_EXPORT;
const writeBytes = writeBytesExport;
const writeNonAscii = writeNonAsciiExport;
const writeUtf8 = writeUtf8Export;

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
 * members come last, which lets `decodeNdjsonLine` find them without a full tokenizer. Strings
 * escape what JSON.stringify escapes (`"`, `\`, control characters; `\b \f \n \r \t`, else
 * `\u00xx`); everything else is raw UTF-8.
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

const QUOTE = 0x22;

function writeNdjsonLine(
  plan: NdjsonPlan,
  row: readonly (string | null)[],
  b: Buffer,
  at: number,
): number {
  const order = plan.order;
  for (let p = 0; p < order.length; p++) {
    const i = order[p];
    const v = row[i];
    if (v === null) {
      at = writeBytes(plan.nulls[p], b, at);
      continue;
    }
    switch (plan.kinds[i]) {
      case "json":
        // Canonical JSON text (`canonical-json.ts`): escaped already, one line.
        at = writeUtf8(v, b, writeBytes(plan.keys[p], b, at));
        break;
      case "boolean":
        at = writeBytes(v === "1" ? plan.trues[p] : plan.falses[p], b, at);
        break;
      case "datetime":
        // `YYYY-MM-DD HH:MM:SS.ffffff` → `YYYY-MM-DDTHH:MM:SS.ffffffZ`.
        at = writeBytes(plan.quotedKeys[p], b, at);
        at = writeUtf8(v, b, at, 10);
        b[at++] = 0x54; // T
        at = writeUtf8(v, b, at, v.length, 11);
        b[at++] = 0x5a; // Z
        b[at++] = QUOTE;
        break;
      case "integer":
      case "decimal":
      case "date":
        // Digits, '-', '.' (checked by the conversion): nothing to escape.
        at = writeUtf8(v, b, writeBytes(plan.quotedKeys[p], b, at));
        b[at++] = QUOTE;
        break;
      default:
        at = writeJsonStringBody(v, b, writeBytes(plan.quotedKeys[p], b, at));
        b[at++] = QUOTE;
    }
  }
  b[at++] = 0x7d; // }
  b[at++] = 0x0a;
  return at;
}

const HEX = "0123456789abcdef";

/** What JSON.stringify escapes in a well-formed string: `"`, `\\` and control characters. */
// eslint-disable-next-line no-control-regex -- control characters are exactly what it looks for
const NEEDS_JSON_ESCAPE = /["\\\u0000-\u001f]/;

/**
 * The inside of a JSON string literal for `s`, as JSON.stringify escapes it: `"` and `\`, control
 * characters as `\b \f \n \r \t` or `\u00xx`, the rest raw UTF-8. (Our values hold no lone
 * surrogate: they come decoded from UTF-8; one would be written as U+FFFD.)
 */
function writeJsonStringBody(s: string, b: Buffer, at: number): number {
  const n = s.length;
  if (n >= NATIVE_WRITE_UNITS && !NEEDS_JSON_ESCAPE.test(s)) return writeUtf8(s, b, at);
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x20 && c < 0x80) {
      if (c === QUOTE || c === 0x5c) b[at++] = 0x5c;
      b[at++] = c;
      continue;
    }
    if (c >= 0x80) {
      at = writeNonAscii(s, i, c, b, at);
      if (c >= 0xd800 && c <= 0xdbff && isLowSurrogate(s, i + 1)) i++;
      continue;
    }
    b[at++] = 0x5c; // \
    switch (c) {
      case 0x08:
        b[at++] = 0x62; // b
        break;
      case 0x0c:
        b[at++] = 0x66; // f
        break;
      case 0x0a:
        b[at++] = 0x6e; // n
        break;
      case 0x0d:
        b[at++] = 0x72; // r
        break;
      case 0x09:
        b[at++] = 0x74; // t
        break;
      default:
        b[at++] = 0x75; // u
        b[at++] = 0x30;
        b[at++] = 0x30;
        b[at++] = HEX.charCodeAt(c >> 4);
        b[at++] = HEX.charCodeAt(c & 15);
    }
  }
  return at;
}

interface NdjsonPlan {
  /** Column indexes in output order: JSON columns last. */
  readonly order: readonly number[];
  /** `"name":` per output position as UTF-8, after `{` (the first) or `,` (the others). */
  readonly keys: readonly Uint8Array[];
  /** The same followed by the value's opening quote, and whole parts for null, true and false. */
  readonly quotedKeys: readonly Uint8Array[];
  readonly nulls: readonly Uint8Array[];
  readonly trues: readonly Uint8Array[];
  readonly falses: readonly Uint8Array[];
  readonly kinds: readonly MigrationColumn["value"]["kind"][];
  /** Bytes of a line besides its values' own: keys, quotes, separators, braces, newline. */
  readonly fixedBytes: number;
}

const plans = new WeakMap<readonly MigrationColumn[], NdjsonPlan>();

function ndjsonPlan(columns: readonly MigrationColumn[]): NdjsonPlan {
  let plan = plans.get(columns);
  if (!plan) {
    const indexes = columns.map((_, i) => i);
    const order = [
      ...indexes.filter((i) => columns[i].value.kind !== "json"),
      ...indexes.filter((i) => columns[i].value.kind === "json"),
    ];
    const keys = order.map((i, p) => `${p === 0 ? "{" : ","}${quoteJsonString(columns[i].name)}:`);
    const bytes = (texts: string[]) => texts.map((t) => new Uint8Array(Buffer.from(t, "utf8")));
    const nulls = bytes(keys.map((k) => `${k}null`));
    const falses = bytes(keys.map((k) => `${k}false`));
    const quotedKeys = bytes(keys.map((k) => `${k}"`));
    plan = {
      order,
      keys: bytes(keys),
      quotedKeys,
      nulls,
      trues: bytes(keys.map((k) => `${k}true`)),
      falses,
      kinds: columns.map((c) => c.value.kind),
      // The longest of a position's forms (`Z"` after a datetime), plus `}` and the newline.
      fixedBytes:
        order.reduce(
          (sum, _, p) =>
            sum + Math.max(nulls[p].length, falses[p].length, quotedKeys[p].length + 2),
          0,
        ) + 2,
    };
    plans.set(columns, plan);
  }
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
    // (quotes inside strings are escaped), so its first occurrence starts the JSON member.
    const at = line.indexOf(marker);
    if (at < 0) throw new Error(`load file line lacks column ${marker.slice(2, -2)}`);
    const object = JSON.parse(`${line.slice(0, at)}}`) as Record<string, string | boolean | null>;
    const jsonText = line.slice(at + marker.length, line.length - 1);
    return columns.map((c) => {
      if (c.value.kind === "json") return jsonText === "null" ? null : jsonText;
      const v = object[c.name];
      if (v === undefined) throw new Error(`load file line lacks column ${c.name}`);
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
    if (text === undefined) throw new Error(`load file line lacks column ${c.name}`);
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
