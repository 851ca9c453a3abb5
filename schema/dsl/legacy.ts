/**
 * Where a column's data comes from in the legacy SingleStore/MySQL database, as typed values in
 * the style of drizzle's mysql-core builders: `.from(my.varchar(128).notNull())`. The data
 * migration reads these, the legacy DDL used by the tests and the data dictionary are rendered
 * from them: the mapping exists once, here, and nothing parses it back from text.
 */

/** A legacy column type with its arguments; only the types `schema/` declares. */
export type MySqlDataType =
  | { readonly type: "BIGINT" }
  | { readonly type: "INT" }
  /** Length in characters. */
  | { readonly type: "VARCHAR"; readonly length: number }
  | { readonly type: "CHAR"; readonly length: number }
  | { readonly type: "TEXT" }
  | { readonly type: "ENUM"; readonly values: readonly string[] }
  | { readonly type: "DECIMAL"; readonly precision: number; readonly scale: number }
  /** `fsp`: digits of fractional seconds; 0 is plain `DATETIME`. */
  | { readonly type: "DATETIME"; readonly fsp: DatetimePrecision }
  | { readonly type: "DATE" }
  | { readonly type: "BOOLEAN" }
  | { readonly type: "JSON" };

export type MySqlType = MySqlDataType["type"];
export type DatetimePrecision = 0 | 1 | 2 | 3 | 4 | 5 | 6;

/**
 * A column default: a literal (typed by the column type, see `MySqlDefaultOf`) or
 * `CURRENT_TIMESTAMP(fsp)`.
 */
export type MySqlDefault =
  { readonly kind: "value"; readonly value: number | string | boolean } | { readonly kind: "now" };

interface MySqlModifiers {
  readonly notNull: boolean;
  readonly autoIncrement: boolean;
  readonly default?: MySqlDefault;
  /** `ON UPDATE CURRENT_TIMESTAMP(fsp)`. */
  readonly onUpdateNow: boolean;
}

/** A legacy column definition, e.g. what `VARCHAR(128) NOT NULL` says, as data. */
export type MySqlDefinition = MySqlDataType & MySqlModifiers;

/** A legacy column: its name in the legacy table and its definition. */
export type LegacyColumn = MySqlDefinition & {
  /**
   * Column name in the legacy table: the object key of the column in `schema/`, unless renamed
   * with `.named()`. Filled in by the table (`bigQueryTable`, `pgTable`), as drizzle's tables
   * name their columns; empty only on a column that belongs to no table.
   */
  readonly column: string;
};

export interface LegacyTable {
  /** Table name in the legacy database. */
  readonly table: string;
  /** Keys and indexes of the legacy table, as MySQL DDL clauses (`PRIMARY KEY (id)`, …). */
  readonly keys: readonly string[];
}

/** The literal default each type takes; `never`: `schema/` declares no default of that type. */
interface MySqlDefaultOf {
  BIGINT: number;
  INT: number;
  VARCHAR: never;
  CHAR: never;
  TEXT: never;
  ENUM: string;
  /** A number, as the DDL spells it (`DEFAULT 0`); checked to fit the precision and scale. */
  DECIMAL: number;
  DATETIME: never;
  DATE: never;
  BOOLEAN: boolean;
  JSON: never;
}

type IntegerType = "BIGINT" | "INT";

/** Columns of either table DSL, as far as their legacy source goes. */
type LegacyColumns = Readonly<
  Record<string, { readonly spec: { readonly legacy?: LegacyColumn } }>
>;

/**
 * One legacy column definition being built. Modifiers that a type cannot take are type errors:
 * `autoIncrement()` only on integers, `defaultNow()`/`onUpdateNow()` only on DATETIME, and
 * `default(v)` only with a value of the column's type (an ENUM's one of its values).
 */
export class MySqlColumn<T extends MySqlType = MySqlType, D = MySqlDefaultOf[T]> {
  constructor(
    readonly spec: MySqlDefinition & { readonly type: T },
    /** The legacy name when it differs from the column's key in `schema/`. */
    readonly name?: string,
  ) {}

  private with(patch: Partial<MySqlModifiers>, name = this.name): MySqlColumn<T, D> {
    return new MySqlColumn<T, D>({ ...this.spec, ...patch }, name);
  }

  notNull(): MySqlColumn<T, D> {
    return this.with({ notNull: true });
  }
  default(value: D): MySqlColumn<T, D> {
    return this.with({ default: { kind: "value", value: value as number | string | boolean } });
  }
  autoIncrement(this: MySqlColumn<IntegerType, D>): MySqlColumn<T, D> {
    return (this as unknown as MySqlColumn<T, D>).with({ autoIncrement: true });
  }
  /** `DEFAULT CURRENT_TIMESTAMP(fsp)`. */
  defaultNow(this: MySqlColumn<"DATETIME", D>): MySqlColumn<T, D> {
    return (this as unknown as MySqlColumn<T, D>).with({ default: { kind: "now" } });
  }
  /** `ON UPDATE CURRENT_TIMESTAMP(fsp)`. */
  onUpdateNow(this: MySqlColumn<"DATETIME", D>): MySqlColumn<T, D> {
    return (this as unknown as MySqlColumn<T, D>).with({ onUpdateNow: true });
  }
  /** The legacy column's name, where it differs from the key (like `.renamedFrom()` in pg). */
  named(legacyName: string): MySqlColumn<T, D> {
    return this.with({}, legacyName);
  }
}

function column<T extends MySqlDataType>(type: T): MySqlColumn<T["type"]> {
  return new MySqlColumn({ ...type, notNull: false, autoIncrement: false, onUpdateNow: false });
}

/** The legacy column builders, as drizzle's mysql-core names them. */
export const my = {
  bigint: () => column({ type: "BIGINT" }),
  int: () => column({ type: "INT" }),
  varchar: (length: number) => column({ type: "VARCHAR", length }),
  char: (length: number) => column({ type: "CHAR", length }),
  text: () => column({ type: "TEXT" }),
  enum: <const V extends readonly [string, ...string[]]>(values: V) =>
    column({ type: "ENUM", values }) as MySqlColumn<"ENUM", V[number]>,
  decimal: (precision: number, scale: number) => column({ type: "DECIMAL", precision, scale }),
  datetime: (fsp: DatetimePrecision = 0) => column({ type: "DATETIME", fsp }),
  date: () => column({ type: "DATE" }),
  boolean: () => column({ type: "BOOLEAN" }),
  json: () => column({ type: "JSON" }),
};

/** What a column's `.from()` records; its name, when not renamed, comes from the table. */
export function legacyColumnOf(definition: MySqlColumn): LegacyColumn {
  return { ...definition.spec, column: definition.name ?? "" };
}

/**
 * A table's columns with every legacy name filled in: the object key, unless `.named()` (or an
 * earlier table the column was taken from) gave one. `rebuild` copies a column with its new
 * `legacy`; columns are values, never changed in place, so one may serve in two tables.
 */
export function nameLegacyColumns<C extends LegacyColumns>(
  columns: C,
  rebuild: (column: C[keyof C], legacy: LegacyColumn) => C[keyof C],
): C {
  const named = Object.entries(columns).map(([key, column]) => {
    const legacy = column.spec.legacy;
    if (!legacy || legacy.column !== "") return [key, column];
    return [key, rebuild(column as C[keyof C], { ...legacy, column: key })];
  });
  return Object.fromEntries(named) as C;
}

function quote(text: string): string {
  return `'${text.replace(/'/g, "''")}'`;
}

function currentTimestamp(definition: MySqlDefinition): string {
  const fsp = definition.type === "DATETIME" ? definition.fsp : 0;
  return fsp === 0 ? "CURRENT_TIMESTAMP" : `CURRENT_TIMESTAMP(${fsp})`;
}

/** The type as the DDL spells it: `VARCHAR(128)`, `DECIMAL(18,6)`, `ENUM('a','b')`. */
export function renderMySqlType(type: MySqlDataType): string {
  switch (type.type) {
    case "VARCHAR":
    case "CHAR":
      return `${type.type}(${type.length})`;
    case "ENUM":
      return `ENUM(${type.values.map(quote).join(",")})`;
    case "DECIMAL":
      return `DECIMAL(${type.precision},${type.scale})`;
    case "DATETIME":
      return type.fsp === 0 ? "DATETIME" : `DATETIME(${type.fsp})`;
    case "BIGINT":
    case "INT":
    case "TEXT":
    case "DATE":
    case "BOOLEAN":
    case "JSON":
      return type.type;
    default: {
      const unknown: never = type;
      throw new Error(`unknown legacy type ${JSON.stringify(unknown)}`);
    }
  }
}

function renderDefault(definition: MySqlDefinition, value: MySqlDefault): string {
  if (value.kind === "now") return currentTimestamp(definition);
  if (typeof value.value === "boolean") return value.value ? "TRUE" : "FALSE";
  return typeof value.value === "number" ? String(value.value) : quote(value.value);
}

/** The column definition as the DDL spells it: `BIGINT NOT NULL AUTO_INCREMENT`. */
export function renderMySqlDefinition(definition: MySqlDefinition): string {
  const parts = [renderMySqlType(definition)];
  if (definition.notNull) parts.push("NOT NULL");
  if (definition.autoIncrement) parts.push("AUTO_INCREMENT");
  if (definition.default) parts.push(`DEFAULT ${renderDefault(definition, definition.default)}`);
  if (definition.onUpdateNow) parts.push(`ON UPDATE ${currentTimestamp(definition)}`);
  return parts.join(" ");
}

const INT32 = { min: -(2 ** 31), max: 2 ** 31 - 1 };

function integerInRange(value: number, min: number, max: number): boolean {
  return Number.isInteger(value) && value >= min && value <= max;
}

/** `12.5` fits DECIMAL(p,s) when its integer digits fit p - s and its decimals fit s. */
function decimalFits(value: number, precision: number, scale: number): boolean {
  const m = /^-?(\d+)(?:\.(\d+))?$/.exec(String(value));
  if (!m) return false;
  const integerDigits = m[1].replace(/^0+/, "").length;
  return integerDigits <= precision - scale && (m[2] ?? "").length <= scale;
}

/** What MySQL would refuse in a definition, or what it would silently change. */
function typeProblems(type: MySqlDataType): string[] {
  switch (type.type) {
    case "VARCHAR":
      // utf8mb4 (the legacy tables' charset): up to 4 bytes a character in a 65,535-byte row.
      return integerInRange(type.length, 1, 16383)
        ? []
        : [`VARCHAR length ${type.length} must be a whole number from 1 to 16383`];
    case "CHAR":
      return integerInRange(type.length, 1, 255)
        ? []
        : [`CHAR length ${type.length} must be a whole number from 1 to 255`];
    case "DECIMAL": {
      const problems: string[] = [];
      if (!integerInRange(type.precision, 1, 65))
        problems.push(`DECIMAL precision ${type.precision} must be a whole number from 1 to 65`);
      if (!integerInRange(type.scale, 0, 30))
        problems.push(`DECIMAL scale ${type.scale} must be a whole number from 0 to 30`);
      if (type.scale > type.precision)
        problems.push(`DECIMAL scale ${type.scale} exceeds its precision ${type.precision}`);
      return problems;
    }
    case "DATETIME":
      return integerInRange(type.fsp, 0, 6)
        ? []
        : [`DATETIME fractional digits ${type.fsp} must be a whole number from 0 to 6`];
    case "ENUM": {
      if (type.values.length === 0) return ["ENUM needs at least one value"];
      // The legacy collation is case-insensitive: 'X' and 'x' are the same ENUM value.
      const folded = type.values.map((v) => v.toLowerCase());
      const repeated = type.values.filter((_, i) => folded.indexOf(folded[i]) !== i);
      return repeated.length > 0 ? [`ENUM repeats ${repeated.map(quote).join(", ")}`] : [];
    }
    default:
      return [];
  }
}

/** A literal default the column's type cannot take (see `MySqlDefaultOf`). */
function literalDefaultProblem(definition: MySqlDefinition, value: unknown): string | undefined {
  const shown = JSON.stringify(value);
  switch (definition.type) {
    case "BIGINT":
      return typeof value === "number" && Number.isSafeInteger(value)
        ? undefined
        : `default ${shown} is not an exact integer`;
    case "INT":
      return typeof value === "number" && integerInRange(value, INT32.min, INT32.max)
        ? undefined
        : `default ${shown} is not an INT`;
    case "DECIMAL":
      return typeof value === "number" && decimalFits(value, definition.precision, definition.scale)
        ? undefined
        : `default ${shown} does not fit ${renderMySqlType(definition)}`;
    case "ENUM":
      return typeof value === "string" && definition.values.includes(value)
        ? undefined
        : `default ${shown} is not one of its values`;
    case "BOOLEAN":
      return typeof value === "boolean" ? undefined : `default ${shown} is not a boolean`;
    default:
      return `${definition.type} takes no literal default here`;
  }
}

/** What the builders' types refuse, checked again for callers the types do not reach. */
function modifierProblems(definition: MySqlDefinition): string[] {
  const problems: string[] = [];
  const integer = definition.type === "BIGINT" || definition.type === "INT";
  if (definition.autoIncrement && !integer) problems.push("AUTO_INCREMENT needs BIGINT or INT");
  const now = definition.default?.kind === "now" || definition.onUpdateNow;
  if (now && definition.type !== "DATETIME") problems.push("CURRENT_TIMESTAMP needs DATETIME");
  if (definition.default?.kind === "value") {
    const problem = literalDefaultProblem(definition, definition.default.value);
    if (problem) problems.push(problem);
  }
  return problems;
}

/**
 * Every problem of the legacy columns of one table, each naming its column, so a mistake in
 * `schema/` is reported whole when the schema is loaded. Expects the names filled in
 * (`nameLegacyColumns`).
 */
export function legacyColumnProblems(columns: LegacyColumns): string[] {
  const problems: string[] = [];
  const byLegacyName = new Map<string, string>();
  for (const [key, { spec }] of Object.entries(columns)) {
    const legacy = spec.legacy;
    if (!legacy) continue;
    const where = `column ${key}: legacy ${renderMySqlDefinition(legacy)}`;
    for (const p of [...typeProblems(legacy), ...modifierProblems(legacy)])
      problems.push(`${where}: ${p}`);
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(legacy.column))
      problems.push(`column ${key}: legacy name "${legacy.column}" is not a plain identifier`);
    const other = byLegacyName.get(legacy.column);
    if (other !== undefined)
      problems.push(`columns ${other} and ${key} both read legacy column ${legacy.column}`);
    byLegacyName.set(legacy.column, key);
  }
  return problems;
}
