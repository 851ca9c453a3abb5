/**
 * The few pieces of SQL text `migrate generate` writes itself. Everything else it emits is the
 * text Postgres prints (format_type, pg_get_expr, pg_get_constraintdef, pg_get_indexdef,
 * pg_get_triggerdef) — on the desired side rendered by verify's `desiredShape`, on the live side
 * read back by `liveShape` — and that text is valid SQL as it stands, so an up migration is built
 * from the desired shape and its down from the live one.
 */
import type { ColumnShape } from "../verify";

/** Postgres' reserved key words (SQL Key Words appendix): as names they must be quoted. */
const RESERVED = new Set(
  `all analyse analyze and any array as asc asymmetric both case cast check collate column
   constraint create current_catalog current_date current_role current_time current_timestamp
   current_user default deferrable desc distinct do else end except false fetch for foreign from
   grant group having in initially intersect into lateral leading limit localtime localtimestamp
   not null offset on only or order placing primary references returning select session_user some
   symmetric table then to trailing true union unique user using variadic when where window with`.split(
    /\s+/,
  ),
);

/** A name as SQL: bare when Postgres would print it bare, else double-quoted. */
export function ident(name: string): string {
  return /^[a-z_][a-z0-9_$]*$/.test(name) && !RESERVED.has(name)
    ? name
    : `"${name.replace(/"/g, '""')}"`;
}

/** `email citext NOT NULL DEFAULT …`: a column as CREATE TABLE / ADD COLUMN take it. */
export function columnDefinition(column: ColumnShape): string {
  return [
    ident(column.name),
    column.type,
    column.identity ? `GENERATED ${column.identity} AS IDENTITY` : undefined,
    column.notNull ? "NOT NULL" : undefined,
    column.default !== undefined ? `DEFAULT ${column.default}` : undefined,
  ]
    .filter(Boolean)
    .join(" ");
}

const STRING_TYPES = new Set(["text", "character varying", "character", "citext"]);
const NUMBER_TYPES = new Set(["smallint", "integer", "bigint", "numeric"]);

/** `character varying(64)` → `character varying`; `text[]` stays `text[]`. */
function baseType(type: string): string {
  return type.replace(/\(.*\)$/, "");
}

/**
 * Whether `ALTER COLUMN … TYPE to` needs `USING col::to`. Not between number types, nor to a string
 * type: Postgres has assignment casts there, and those fail on a value that does not fit (a
 * too-long string, a numeric overflow) where an explicit `::varchar(64)` would silently truncate.
 * Everything else (text → integer, text → uuid…) exists only as an explicit cast.
 */
export function needsUsing(from: string, to: string): boolean {
  const source = baseType(from);
  const target = baseType(to);
  if (STRING_TYPES.has(target)) return false;
  if (NUMBER_TYPES.has(source) && NUMBER_TYPES.has(target)) return false;
  return true;
}

/** `ALTER TABLE t ALTER COLUMN c TYPE to [USING c::to]`. */
export function alterTypeStatement(
  table: string,
  column: string,
  from: string,
  to: string,
): string {
  const using = needsUsing(from, to) ? ` USING ${ident(column)}::${to}` : "";
  return `ALTER TABLE ${ident(table)} ALTER COLUMN ${ident(column)} TYPE ${to}${using}`;
}

/** A dollar-quote tag that does not occur in `body`. */
export function dollarQuote(body: string): string {
  let tag = "$$";
  for (let i = 0; body.includes(tag); i++) tag = `$fn${i === 0 ? "" : i}$`;
  return tag;
}

/** Whitespace runs as one space: verify compares function bodies so. */
export function normalizeBody(body: string): string {
  return body.replace(/\s+/g, " ").trim();
}

/**
 * A constraint name Postgres accepts (≤ 63 bytes): `<table>_<column>_not_null`, shortened with a
 * hash of the full name when too long, so two long names still differ.
 */
export function notNullCheckName(table: string, column: string): string {
  const full = `${table}_${column}_not_null`;
  if (Buffer.byteLength(full) <= 63) return full;
  let hash = 0;
  for (const ch of full) hash = (Math.imul(hash, 31) + ch.charCodeAt(0)) >>> 0;
  const suffix = `_${hash.toString(16).padStart(8, "0")}_nn`;
  return `${full.slice(0, 63 - suffix.length)}${suffix}`;
}
