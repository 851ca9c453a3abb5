/**
 * JS values ⇄ ZetaSQL `ValueProto`, exact in both directions: INTEGER and NUMERIC travel as
 * strings (never through a float), TIMESTAMP keeps microseconds, JSON travels as its text.
 *
 * Encodings the service expects (zetasql/public/value.proto):
 * - NUMERIC: value × 10^9 as a little-endian two's-complement integer in the fewest bytes
 *   (BIGNUMERIC: × 10^38);
 * - TIMESTAMP: `{seconds, nanos}` since the Unix epoch (UTC);
 * - DATE: days since 1970-01-01;
 * - JSON: `jsonValue`, the JSON text.
 * An empty `ValueProto` (no member set) is NULL.
 */
import type { TypeProto, ValueProto } from "./proto-types";

/** A column type: a BigQuery canonical type name, FLOAT/BYTES, or a ZetaSQL TypeProto. */
export type SqlScalarType =
  | "INTEGER"
  | "STRING"
  | "NUMERIC"
  | "BIGNUMERIC"
  | "TIMESTAMP"
  | "DATE"
  | "BOOLEAN"
  | "JSON"
  | "FLOAT"
  | "BYTES";
export type SqlType = SqlScalarType | TypeProto;

/**
 * What a cell holds in JS. Inputs accept a little more than outputs give: INTEGER may be a
 * number/bigint/string, NUMERIC a string or number, TIMESTAMP an RFC 3339 string or Date.
 * Outputs: INTEGER/NUMERIC/BIGNUMERIC → string, TIMESTAMP → `YYYY-MM-DDTHH:MM:SS.ffffffZ`,
 * DATE → `YYYY-MM-DD`, FLOAT → number, BOOLEAN → boolean, JSON → parsed value, BYTES → Buffer,
 * ARRAY → array, STRUCT → object by field name; NULL → null.
 */
export type SqlValue =
  | null
  | string
  | number
  | bigint
  | boolean
  | Date
  | Buffer
  | readonly SqlValue[]
  | { readonly [field: string]: SqlValue }
  | object;
export type SqlRow = Record<string, unknown>;

const TYPE_KIND: Record<SqlScalarType, string> = {
  INTEGER: "TYPE_INT64",
  STRING: "TYPE_STRING",
  NUMERIC: "TYPE_NUMERIC",
  BIGNUMERIC: "TYPE_BIGNUMERIC",
  TIMESTAMP: "TYPE_TIMESTAMP",
  DATE: "TYPE_DATE",
  BOOLEAN: "TYPE_BOOL",
  JSON: "TYPE_JSON",
  FLOAT: "TYPE_DOUBLE",
  BYTES: "TYPE_BYTES",
};

export function toTypeProto(type: SqlType): TypeProto {
  return typeof type === "string" ? { typeKind: TYPE_KIND[type] } : type;
}

const NUMERIC_SCALE = 9;
const BIGNUMERIC_SCALE = 38;

/** Parses a decimal string exactly into an integer scaled by 10^scale. */
export function parseScaledDecimal(text: string, scale: number): bigint {
  const match = /^([+-])?(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/.exec(text.trim());
  if (!match || (match[2] === "" && (match[3] ?? "") === "")) {
    throw new Error(`not a decimal number: "${text}"`);
  }
  const [, sign, whole, fraction = "", exponentText] = match;
  const exponent = Number(exponentText ?? 0);
  let digits = whole + fraction;
  let shift = scale - fraction.length + exponent;
  if (shift < 0) {
    const dropped = digits.slice(digits.length + shift);
    if (/[1-9]/.test(dropped)) {
      throw new Error(`"${text}" has more than ${scale} decimal places`);
    }
    digits = digits.slice(0, digits.length + shift);
    shift = 0;
  }
  const magnitude = BigInt((digits || "0") + "0".repeat(shift));
  return sign === "-" ? -magnitude : magnitude;
}

/** Formats an integer scaled by 10^scale as a plain decimal string without trailing zeros. */
export function formatScaledDecimal(scaled: bigint, scale: number): string {
  const negative = scaled < 0n;
  const digits = (negative ? -scaled : scaled).toString().padStart(scale + 1, "0");
  const whole = digits.slice(0, digits.length - scale);
  const fraction = digits.slice(digits.length - scale).replace(/0+$/, "");
  return `${negative ? "-" : ""}${whole}${fraction ? `.${fraction}` : ""}`;
}

/** Little-endian two's complement in the fewest bytes (0 → one zero byte). */
export function encodeTwosComplementLE(value: bigint): Buffer {
  const bytes: number[] = [];
  let rest = value;
  for (;;) {
    const byte = Number(rest & 0xffn);
    bytes.push(byte);
    rest >>= 8n; // arithmetic shift: stays negative for negative values
    const signBitSet = (byte & 0x80) !== 0;
    if ((rest === 0n && !signBitSet) || (rest === -1n && signBitSet)) break;
  }
  return Buffer.from(bytes);
}

export function decodeTwosComplementLE(bytes: Uint8Array): bigint {
  if (bytes.length === 0) return 0n;
  let value = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) value = (value << 8n) | BigInt(bytes[i]);
  if (bytes[bytes.length - 1] & 0x80) value -= 1n << BigInt(bytes.length * 8);
  return value;
}

export function encodeNumeric(value: string | number): Buffer {
  return encodeTwosComplementLE(parseScaledDecimal(String(value), NUMERIC_SCALE));
}

export function decodeNumeric(bytes: Uint8Array): string {
  return formatScaledDecimal(decodeTwosComplementLE(bytes), NUMERIC_SCALE);
}

const TIMESTAMP_TEXT =
  /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?\s*(Z|z|UTC|[+-]\d{2}(?::?\d{2})?)?$/;

/** RFC 3339 / BigQuery timestamp text (no zone = UTC) → seconds and nanos since the epoch. */
export function parseTimestamp(value: string | Date): { seconds: string; nanos: number } {
  if (value instanceof Date) {
    const ms = value.getTime();
    if (Number.isNaN(ms)) throw new Error("invalid Date");
    const seconds = Math.floor(ms / 1000);
    return { seconds: String(seconds), nanos: (ms - seconds * 1000) * 1_000_000 };
  }
  const match = TIMESTAMP_TEXT.exec(value.trim());
  if (!match) throw new Error(`not a timestamp: "${value}"`);
  const [, y, mo, d, h, mi, s, fraction = "", zone = "Z"] = match;
  let seconds = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s));
  seconds /= 1000;
  if (!/^(Z|z|UTC)$/.test(zone)) {
    const zoneMatch = /^([+-])(\d{2}):?(\d{2})?$/.exec(zone)!;
    const offset = Number(zoneMatch[2]) * 3600 + Number(zoneMatch[3] ?? 0) * 60;
    seconds -= zoneMatch[1] === "-" ? -offset : offset;
  }
  return { seconds: String(seconds), nanos: Number(fraction.padEnd(9, "0")) };
}

export function formatTimestamp(seconds: string | number, nanos: number): string {
  const date = new Date(Number(seconds) * 1000);
  const base = date.toISOString().slice(0, 19);
  // BigQuery timestamps have microsecond precision.
  return `${base}.${String(Math.floor(nanos / 1000)).padStart(6, "0")}Z`;
}

const DAY_MS = 86_400_000;

export function parseDate(value: string): number {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value.trim());
  if (!match) throw new Error(`not a date: "${value}"`);
  return Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3])) / DAY_MS;
}

export function formatDate(days: number): string {
  return new Date(days * DAY_MS).toISOString().slice(0, 10);
}

function describe(value: unknown): string {
  return typeof value === "string" ? `"${value}"` : String(value);
}

/** A JS value → ValueProto of the given type (null/undefined → NULL). */
export function toValueProto(value: unknown, type: SqlType): ValueProto {
  if (value === null || value === undefined) return {};
  const kind = toTypeProto(type).typeKind;
  const fail = (expected: string): never => {
    throw new Error(`${describe(value)} is not a valid ${expected} value`);
  };
  switch (kind) {
    case "TYPE_INT64": {
      if (typeof value === "number" && !Number.isSafeInteger(value)) fail("INTEGER");
      if (typeof value === "string" && !/^[+-]?\d+$/.test(value)) fail("INTEGER");
      if (!["number", "bigint", "string"].includes(typeof value)) fail("INTEGER");
      return { int64Value: BigInt(value as string | number | bigint).toString() };
    }
    case "TYPE_STRING":
      return typeof value === "string" ? { stringValue: value } : fail("STRING");
    case "TYPE_NUMERIC":
      return typeof value === "string" || typeof value === "number"
        ? { numericValue: encodeNumeric(value) }
        : fail("NUMERIC");
    case "TYPE_BIGNUMERIC":
      return typeof value === "string" || typeof value === "number"
        ? {
            bignumericValue: encodeTwosComplementLE(
              parseScaledDecimal(String(value), BIGNUMERIC_SCALE),
            ),
          }
        : fail("BIGNUMERIC");
    case "TYPE_TIMESTAMP":
      return typeof value === "string" || value instanceof Date
        ? { timestampValue: parseTimestamp(value) }
        : fail("TIMESTAMP");
    case "TYPE_DATE":
      return typeof value === "string" ? { dateValue: parseDate(value) } : fail("DATE");
    case "TYPE_BOOL":
      return typeof value === "boolean" ? { boolValue: value } : fail("BOOLEAN");
    case "TYPE_JSON":
      return { jsonValue: JSON.stringify(value) };
    case "TYPE_DOUBLE":
      return typeof value === "number" ? { doubleValue: value } : fail("FLOAT");
    case "TYPE_BYTES":
      return Buffer.isBuffer(value) ? { bytesValue: value } : fail("BYTES");
    default:
      throw new Error(`input values of type ${kind} are not supported`);
  }
}

/** A ValueProto of the given type → JS value (see `SqlValue` for the mapping). */
export function fromValueProto(cell: ValueProto, type: TypeProto): unknown {
  if (!cell.value) return null;
  switch (type.typeKind) {
    case "TYPE_INT64":
    case "TYPE_UINT64":
      return String(cell.int64Value ?? cell.uint64Value);
    case "TYPE_INT32":
    case "TYPE_UINT32":
      return cell.int32Value ?? cell.uint32Value;
    case "TYPE_STRING":
      return cell.stringValue;
    case "TYPE_NUMERIC":
      return decodeNumeric(cell.numericValue ?? Buffer.alloc(0));
    case "TYPE_BIGNUMERIC":
      return formatScaledDecimal(
        decodeTwosComplementLE(cell.bignumericValue ?? Buffer.alloc(0)),
        BIGNUMERIC_SCALE,
      );
    case "TYPE_TIMESTAMP":
      return formatTimestamp(cell.timestampValue?.seconds ?? 0, cell.timestampValue?.nanos ?? 0);
    case "TYPE_DATE":
      return formatDate(cell.dateValue ?? 0);
    case "TYPE_BOOL":
      return cell.boolValue;
    case "TYPE_JSON":
      return JSON.parse(cell.jsonValue ?? "null");
    case "TYPE_DOUBLE":
    case "TYPE_FLOAT":
      return cell.doubleValue ?? cell.floatValue;
    case "TYPE_BYTES":
      return cell.bytesValue;
    case "TYPE_ARRAY":
      return (cell.arrayValue?.element ?? []).map((element) =>
        fromValueProto(element, type.arrayType?.elementType ?? {}),
      );
    case "TYPE_STRUCT": {
      const fields = type.structType?.field ?? [];
      const values = cell.structValue?.field ?? [];
      return Object.fromEntries(
        fields.map((field, i) => [
          field.fieldName || `_field_${i + 1}`,
          fromValueProto(values[i] ?? {}, field.fieldType ?? {}),
        ]),
      );
    }
    default:
      throw new Error(`result values of type ${type.typeKind} are not supported`);
  }
}
