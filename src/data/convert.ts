/**
 * Checks and normalises one legacy value (always read as text, so nothing passes through a float or
 * a JS Date) into the exact text both targets load. A value that cannot be converted losslessly
 * throws `RejectedValue`; the row then goes to the reject file instead of the target.
 */
import { canonicalJson as canonicalJsonExport, JsonConversionError } from "./canonical-json";
import type { MigrationColumn, TargetLimits } from "./table-plan";

// Module-local bindings of per-value functions: compiled to CommonJS, every use of an imported
// binding is a call of a getter on the exporting module, which cost a worker ~0.3 CPU-s.
const canonicalJson = canonicalJsonExport;

export class RejectedValue extends Error {
  constructor(
    readonly column: string,
    readonly reason: string,
    readonly raw: string | null,
  ) {
    super(`${column}: ${reason}`);
  }
}

const DATETIME = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(?:\.\d{1,6})?$/;
const DATE = /^\d{4}-\d{2}-\d{2}$/;
const INTEGER = /^-?\d+$/;
const DECIMAL = /^-?\d+(?:\.\d+)?$/;

/** The number of 2 or 4 digits at `at` (already matched as digits by the regex). */
function digitsAt(s: string, at: number, length: number): number {
  let n = 0;
  for (let i = at; i < at + length; i++) n = n * 10 + s.charCodeAt(i) - 48;
  return n;
}

function validCalendarDate(y: number, m: number, d: number): boolean {
  if (y < 1 || m < 1 || m > 12 || d < 1) return false;
  const leap = (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
  const days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][m - 1];
  return d <= days;
}

/** Digits of a decimal's integer part without its sign and leading zeros (`-0012.5` → 2). */
function integerDigits(raw: string, point: number): number {
  const end = point < 0 ? raw.length : point;
  let start = raw.charCodeAt(0) === 45 ? 1 : 0; // '-'
  while (start < end && raw.charCodeAt(start) === 48) start++; // '0'
  return end - start;
}

function checkDecimalFits(
  column: MigrationColumn,
  limits: TargetLimits,
  raw: string,
  point: number,
  scale: number,
): void {
  if (limits.integerDigits !== undefined) {
    const digits = integerDigits(raw, point);
    if (digits > limits.integerDigits) {
      throw new RejectedValue(
        column.name,
        `${digits} integer digits do not fit ${limits.type} (at most ${limits.integerDigits})`,
        raw,
      );
    }
  }
  if (limits.fractionDigits !== undefined && scale > limits.fractionDigits) {
    throw new RejectedValue(
      column.name,
      `${scale} fractional digits do not fit ${limits.type} (at most ${limits.fractionDigits}; it would round)`,
      raw,
    );
  }
}

/** The shortest digits that can leave an int32 range: 10 (and the sign). */
const SAFE_INTEGER_LENGTH = 9;

function checkIntegerFits(column: MigrationColumn, limits: TargetLimits, raw: string): void {
  if (limits.min === undefined || limits.max === undefined) return;
  if (raw.length <= SAFE_INTEGER_LENGTH) return;
  const value = BigInt(raw);
  if (value < limits.min || value > limits.max) {
    throw new RejectedValue(column.name, `out of range for ${limits.type}`, raw);
  }
}

function checkStringFits(column: MigrationColumn, limits: TargetLimits, raw: string): void {
  if (limits.noNul && raw.includes("\u0000")) {
    throw new RejectedValue(
      column.name,
      `contains a NUL character, which Postgres ${limits.type} cannot hold`,
      raw,
    );
  }
  // UTF-16 units are at least the characters: only a long value needs counting.
  if (limits.maxLength !== undefined && raw.length > limits.maxLength) {
    const characters = [...raw].length;
    if (characters > limits.maxLength) {
      throw new RejectedValue(
        column.name,
        `${characters} characters do not fit ${limits.type}`,
        raw,
      );
    }
  }
}

/**
 * The normalised text of a value, or null. Datetimes become `YYYY-MM-DD HH:MM:SS.ffffff` (UTC, the
 * legacy database's convention), decimals keep MySQL's fixed-scale text, JSON becomes canonical.
 */
export function convertValue(column: MigrationColumn, raw: string | null): string | null {
  if (raw === null) {
    if (column.notNull) throw new RejectedValue(column.name, "NULL in a NOT NULL column", raw);
    return null;
  }
  const v = column.value;
  const limits = column.limits;
  switch (v.kind) {
    case "string":
      if (limits) checkStringFits(column, limits, raw);
      return raw;
    case "integer":
      if (!INTEGER.test(raw)) throw new RejectedValue(column.name, "not an integer", raw);
      if (limits) checkIntegerFits(column, limits, raw);
      return raw;
    case "enum":
      // Non-strict MySQL stores an invalid ENUM value as '' (index 0).
      if (!v.values.includes(raw)) {
        throw new RejectedValue(
          column.name,
          `value is not one of ${v.values.map((x) => `'${x}'`).join(", ")}`,
          raw,
        );
      }
      return raw;
    case "decimal": {
      // Checked with `test` and index arithmetic: this runs for millions of values.
      const point = raw.indexOf(".");
      const scale = point < 0 ? 0 : raw.length - point - 1;
      if (!DECIMAL.test(raw) || scale !== v.scale) {
        throw new RejectedValue(column.name, `not a decimal with scale ${v.scale}`, raw);
      }
      if (limits) checkDecimalFits(column, limits, raw, point, scale);
      return raw;
    }
    case "datetime": {
      if (
        !DATETIME.test(raw) ||
        !validCalendarDate(digitsAt(raw, 0, 4), digitsAt(raw, 5, 2), digitsAt(raw, 8, 2)) ||
        digitsAt(raw, 11, 2) > 23 ||
        digitsAt(raw, 14, 2) > 59 ||
        digitsAt(raw, 17, 2) > 59
      ) {
        throw new RejectedValue(column.name, "invalid datetime", raw);
      }
      // DATETIME(6) arrives with all six digits: nothing to build.
      if (raw.length === 26) return raw;
      return `${raw.slice(0, 19)}.${raw.slice(20).padEnd(6, "0")}`;
    }
    case "date": {
      if (
        !DATE.test(raw) ||
        !validCalendarDate(digitsAt(raw, 0, 4), digitsAt(raw, 5, 2), digitsAt(raw, 8, 2))
      ) {
        throw new RejectedValue(column.name, "invalid date", raw);
      }
      return raw;
    }
    case "boolean":
      // BOOLEAN is TINYINT(1): it can hold 2 or -1, which no boolean target can keep.
      if (raw !== "0" && raw !== "1") {
        throw new RejectedValue(column.name, "boolean (TINYINT) value other than 0 or 1", raw);
      }
      return raw;
    case "json":
      try {
        const canonical = canonicalJson(raw);
        // A top-level JSON null in an NDJSON load file reads back as SQL NULL: the two would merge.
        if (canonical === "null") {
          throw new JsonConversionError("top-level JSON null would load as SQL NULL in BigQuery");
        }
        return canonical;
      } catch (error) {
        if (error instanceof JsonConversionError) {
          throw new RejectedValue(column.name, error.message, raw);
        }
        throw error;
      }
    default: {
      const never: never = v;
      throw new Error(`unhandled value kind ${JSON.stringify(never)}`);
    }
  }
}

/** Converts a whole row; the first value that cannot be converted rejects the row. */
export function convertRow(
  columns: readonly MigrationColumn[],
  raw: readonly (string | null)[],
): (string | null)[] {
  const out = new Array<string | null>(columns.length);
  for (let i = 0; i < columns.length; i++) out[i] = convertValue(columns[i], raw[i]);
  return out;
}

/*
 * The same rules over a value's bytes (`wire-rows.ts`), for the values `convertValue` passes
 * unchanged: each returns true only when `convertValue` would return the text itself (a datetime:
 * padded). Anything else — a value it rejects, one it rewrites, one these do not know — is false,
 * and the row takes the decoded path, which gives the verdict and the reason. So these may be
 * stricter than `convertValue`, never looser.
 */

const isDigit = (c: number) => c >= 0x30 && c <= 0x39;

function digitsIn(b: Uint8Array, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (!isDigit(b[i])) return false;
  return true;
}

function bytesNumber(b: Uint8Array, at: number, length: number): number {
  let n = 0;
  for (let i = at; i < at + length; i++) n = n * 10 + b[i] - 48;
  return n;
}

/**
 * `-?[1-9][0-9]*` or `0` with at most `maxDigits` digits: text mysql2 gives back unchanged (it reads
 * small integer types as numbers: `007` and `-0` would come back as `7` and `0`) and short enough
 * that no limit of the column's target can refuse it.
 */
export function wireIntegerAccepted(
  b: Uint8Array,
  s: number,
  e: number,
  maxDigits: number,
): boolean {
  const from = b[s] === 0x2d ? s + 1 : s; // '-'
  const digits = e - from;
  if (digits < 1 || digits > maxDigits || !digitsIn(b, from, e)) return false;
  return b[from] !== 0x30 || (digits === 1 && from === s);
}

/** Digits an integer may have for `wireIntegerAccepted` to pass it unchecked by its limits. */
export function wireIntegerDigits(column: MigrationColumn): number {
  const limits = column.limits;
  if (limits?.min === undefined || limits.max === undefined) return Number.MAX_SAFE_INTEGER;
  // One digit fewer than the shorter bound: every such value lies between the two.
  return Math.min(String(limits.max).length, String(-limits.min).length) - 1;
}

/**
 * A decimal of exactly the column's scale (`-?\d+` then `.` and `scale` digits) whose integer
 * part fits its target's limits.
 */
export function wireDecimalAccepted(
  column: MigrationColumn,
  b: Uint8Array,
  s: number,
  e: number,
): boolean {
  const v = column.value;
  if (v.kind !== "decimal") return false;
  const limits = column.limits;
  if (limits?.fractionDigits !== undefined && v.scale > limits.fractionDigits) return false;
  let from = b[s] === 0x2d ? s + 1 : s;
  const point = v.scale === 0 ? e : e - v.scale - 1;
  if (point - from < 1) return false;
  if (v.scale > 0 && (b[point] !== 0x2e || !digitsIn(b, point + 1, e))) return false;
  if (!digitsIn(b, from, point)) return false;
  if (limits?.integerDigits !== undefined) {
    while (from < point && b[from] === 0x30) from++;
    if (point - from > limits.integerDigits) return false;
  }
  return true;
}

function wireCalendarDate(b: Uint8Array, s: number): boolean {
  return (
    digitsIn(b, s, s + 4) &&
    b[s + 4] === 0x2d &&
    digitsIn(b, s + 5, s + 7) &&
    b[s + 7] === 0x2d &&
    digitsIn(b, s + 8, s + 10) &&
    validCalendarDate(bytesNumber(b, s, 4), bytesNumber(b, s + 5, 2), bytesNumber(b, s + 8, 2))
  );
}

/** `YYYY-MM-DD`, a real calendar date. */
export function wireDateAccepted(b: Uint8Array, s: number, e: number): boolean {
  return e - s === 10 && wireCalendarDate(b, s);
}

/** `YYYY-MM-DD HH:MM:SS` with 0 or 1–6 fractional digits, a real date and time of day. */
export function wireDatetimeAccepted(b: Uint8Array, s: number, e: number): boolean {
  const length = e - s;
  if (length !== 19 && (length < 21 || length > 26)) return false;
  if (length > 19 && (b[s + 19] !== 0x2e || !digitsIn(b, s + 20, e))) return false;
  return (
    wireCalendarDate(b, s) &&
    b[s + 10] === 0x20 &&
    digitsIn(b, s + 11, s + 13) &&
    b[s + 13] === 0x3a &&
    digitsIn(b, s + 14, s + 16) &&
    b[s + 16] === 0x3a &&
    digitsIn(b, s + 17, s + 19) &&
    bytesNumber(b, s + 11, 2) <= 23 &&
    bytesNumber(b, s + 14, 2) <= 59 &&
    bytesNumber(b, s + 17, 2) <= 59
  );
}

/**
 * A datetime accepted by `wireDatetimeAccepted` in its normal form, 26 bytes: `separator` between
 * date and time, the fraction padded with zeros to six digits.
 */
export function writeWireDatetime(
  b: Uint8Array,
  s: number,
  e: number,
  separator: number,
  d: Uint8Array,
  at: number,
): number {
  for (let k = s; k < s + 10; k++) d[at++] = b[k];
  d[at++] = separator;
  for (let k = s + 11; k < e; k++) d[at++] = b[k];
  const length = e - s;
  if (length === 19) d[at++] = 0x2e; // .
  const zeros = length === 19 ? 6 : 26 - length;
  for (let n = 0; n < zeros; n++) d[at++] = 0x30;
  return at;
}
