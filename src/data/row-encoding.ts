/**
 * Encoders from converted rows (see `convert.ts`) to the two load formats: PostgreSQL's COPY text
 * format and BigQuery's newline-delimited JSON.
 */
import { quoteJsonString } from "./canonical-json";
import type { MigrationColumn } from "./table-plan";

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
 * members come last, which lets `decodeNdjsonLine` find them without a full tokenizer.
 */
export function encodeNdjsonLine(
  columns: readonly MigrationColumn[],
  row: readonly (string | null)[],
): string {
  const plan = ndjsonPlan(columns);
  // Parts joined once: a flat string, with the braces inside the first and last part. Appending
  // to one string instead builds a rope of dozens of nodes per line that survive until the page is
  // written (tripled garbage collection), and even `{${joined}}` is a small rope, which V8 encodes
  // to UTF-8 on a slow path (four times slower than a flat string).
  const last = plan.order.length - 1;
  const parts = new Array<string>(plan.order.length);
  for (let p = 0; p <= last; p++) {
    const i = plan.order[p];
    const v = row[i];
    let part: string;
    if (v === null) {
      part = plan.nulls[p];
    } else {
      switch (plan.kinds[i]) {
        case "json":
          part = plan.keys[p] + v;
          break;
        case "boolean":
          part = v === "1" ? plan.trues[p] : plan.falses[p];
          break;
        case "datetime":
          part = `${plan.quotedKeys[p]}${v.slice(0, 10)}T${v.slice(11)}Z"`;
          break;
        case "integer":
        case "decimal":
        case "date":
          // Digits, '-', '.' (checked by the conversion): nothing to escape.
          part = `${plan.quotedKeys[p]}${v}"`;
          break;
        default:
          // JSON.stringify is exact for strings (our values hold no lone surrogates: they come
          // decoded from UTF-8), and the loader reads any valid JSON string escape. A string with
          // nothing to escape — nearly all — is quoted as is: the same text, at half the cost.
          part = NEEDS_JSON_ESCAPE.test(v)
            ? plan.keys[p] + JSON.stringify(v)
            : `${plan.quotedKeys[p]}${v}"`;
      }
    }
    parts[p] = p === last ? `${part}}\n` : part;
  }
  return parts.join(",");
}

/** What JSON.stringify escapes in a well-formed string: `"`, `\` and control characters. */
// eslint-disable-next-line no-control-regex -- control characters are exactly what it looks for
const NEEDS_JSON_ESCAPE = /["\\\u0000-\u001f]/;

interface NdjsonPlan {
  /** Column indexes in output order: JSON columns last. */
  readonly order: readonly number[];
  /** `"name":` per output position, the first one opening the object: `{"name":`. */
  readonly keys: readonly string[];
  /** The same followed by the value's opening quote, and whole parts for null, true and false. */
  readonly quotedKeys: readonly string[];
  readonly nulls: readonly string[];
  readonly trues: readonly string[];
  readonly falses: readonly string[];
  readonly kinds: readonly MigrationColumn["value"]["kind"][];
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
    const keys = order.map((i, p) => `${p === 0 ? "{" : ""}${quoteJsonString(columns[i].name)}:`);
    plan = {
      order,
      keys,
      quotedKeys: keys.map((k) => `${k}"`),
      nulls: keys.map((k) => `${k}null`),
      trues: keys.map((k) => `${k}true`),
      falses: keys.map((k) => `${k}false`),
      kinds: columns.map((c) => c.value.kind),
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
