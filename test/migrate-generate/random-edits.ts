/**
 * Random schema edits for the generator's property test: a plain model of the auth tables (column
 * specs as the DSL keeps them), edits on it, and `buildTables` back through the real DSL. Each edit
 * keeps the schema valid (no foreign key to a vanished column, no type change under a foreign key,
 * at most one pending rename per old name), so every failure is the generator's.
 */
import { authTableList } from "../../schema/auth";
import {
  PgColumn,
  type AnyPgColumn,
  type PgBaseType,
  type PgColumnSpec,
  type PgForeignKey,
  type PgTable,
} from "../../schema/dsl/postgres";
import { mulberry32 } from "../support/random";
import { table } from "./schema-edits";

export interface ColumnModel {
  name: string;
  spec: PgColumnSpec;
}

export interface TableModel {
  name: string;
  renamedFrom?: string;
  description: string;
  columns: ColumnModel[];
  uniques: string[][];
  indexes: { columns: string[]; where?: string }[];
  touch?: string;
}

export type SchemaModel = TableModel[];

/** A type as the DSL spells it: base type and its arguments. */
export interface TypeChoice {
  readonly type: PgBaseType;
  readonly typeArgs?: readonly number[];
}

export const STRING_TYPES: readonly TypeChoice[] = [
  { type: "text" },
  { type: "citext" },
  { type: "character varying", typeArgs: [64] },
  { type: "character varying", typeArgs: [255] },
  { type: "character", typeArgs: [8] },
];
export const NUMBER_TYPES: readonly TypeChoice[] = [
  { type: "integer" },
  { type: "bigint" },
  { type: "numeric", typeArgs: [10, 2] },
  { type: "numeric", typeArgs: [12, 4] },
];
export const OTHER_TYPES: readonly TypeChoice[] = [
  { type: "boolean" },
  { type: "timestamp with time zone" },
  { type: "uuid" },
  { type: "bytea" },
  { type: "text[]" },
];
export const ALL_TYPES = [...STRING_TYPES, ...NUMBER_TYPES, ...OTHER_TYPES];

export const typeKey = (t: TypeChoice) =>
  t.typeArgs ? `${t.type}(${t.typeArgs.join(",")})` : t.type;

/** Default expressions per type, as Postgres prints them back (calibrated on the server). */
export type DefaultsByType = ReadonlyMap<string, readonly string[]>;

export interface Random {
  next(): number;
  int(n: number): number;
  pick<T>(items: readonly T[]): T;
  chance(p: number): boolean;
}

/** Seeded (mulberry32): a failing property run reproduces from its seed. */
export function random(seed: number): Random {
  const next = mulberry32(seed);
  const int = (n: number) => Math.floor(next() * n);
  return {
    next,
    int,
    pick: (items) => {
      if (items.length === 0) throw new Error("pick from nothing");
      return items[int(items.length)]!;
    },
    chance: (p) => next() < p,
  };
}

export function modelOf(tables: readonly PgTable[] = authTableList): SchemaModel {
  return tables.map((t) => ({
    name: t.name,
    description: t.options.description,
    columns: Object.entries(t.columns).map(([name, c]) => ({ name, spec: { ...c.spec } })),
    uniques: (t.options.uniques ?? []).map((u) => [...u.columns]),
    indexes: (t.options.indexes ?? []).map((i) => ({ columns: [...i.columns], where: i.where })),
    touch: t.options.touchOnUpdate,
  }));
}

export function buildTables(model: SchemaModel): PgTable[] {
  return model.map((t) =>
    table(
      t.name,
      Object.fromEntries(
        t.columns.map((c) => [c.name, new PgColumn(c.spec as never) as AnyPgColumn]),
      ),
      {
        description: t.description,
        uniques: t.uniques.map((columns) => ({ columns })),
        indexes: t.indexes.map((i) => ({ columns: i.columns, where: i.where })),
        touchOnUpdate: t.touch,
        renamedFrom: t.renamedFrom,
      },
    ),
  );
}

const COLUMN_NAMES = [
  "note",
  "score",
  "label",
  "kind",
  "amount",
  "flag",
  "code",
  "rank",
  "title",
  "detail",
  "ref_code",
  "weight",
  "status_text",
  "external_ref",
];
const TABLE_NAMES = [
  "widgets",
  "gadgets",
  "invoices",
  "teams",
  "projects",
  "api_keys",
  "audit_events",
  "members",
];
const CHECK_VALUES = ["alpha", "beta", "gamma", "delta"];
const ON_DELETE: readonly PgForeignKey["onDelete"][] = [
  "cascade",
  "restrict",
  "set null",
  "no action",
];

const clone = (model: SchemaModel): SchemaModel => structuredClone(model);
const pkOf = (t: TableModel) => t.columns.find((c) => c.spec.primaryKey)!;
const typeOf = (c: ColumnModel): TypeChoice => ({ type: c.spec.type, typeArgs: c.spec.typeArgs });
const isString = (t: TypeChoice) => STRING_TYPES.some((s) => s.type === t.type);
const isNumber = (t: TypeChoice) => NUMBER_TYPES.some((s) => s.type === t.type);

function referencedBy(model: SchemaModel, tableName: string, column?: string): boolean {
  return model.some((t) =>
    t.columns.some(
      (c) =>
        c.spec.references?.table === tableName &&
        (column === undefined || c.spec.references.column === column) &&
        t.name !== tableName,
    ),
  );
}

function isReferenced(model: SchemaModel, t: TableModel, c: ColumnModel): boolean {
  return model.some((other) =>
    other.columns.some(
      (oc) => oc.spec.references?.table === t.name && oc.spec.references.column === c.name,
    ),
  );
}

/** A name is about to be used: declarations that name it as a previous name become stale. */
function claimTableName(model: SchemaModel, name: string): void {
  for (const t of model) if (t.renamedFrom === name) delete t.renamedFrom;
}
function claimColumnName(t: TableModel, name: string): void {
  for (const c of t.columns)
    if (c.spec.renamedFrom === name) c.spec = { ...c.spec, renamedFrom: undefined };
}

type MutableSpec = { -readonly [K in keyof PgColumnSpec]: PgColumnSpec[K] };

function newColumnSpec(
  type: TypeChoice,
  description = "Generated by the property test.",
): MutableSpec {
  return {
    type: type.type,
    typeArgs: type.typeArgs ? [...type.typeArgs] : undefined,
    notNull: false,
    identity: false,
    primaryKey: false,
    unique: false,
    description,
  };
}

/** Columns an edit may change freely: no key, no foreign key either way, not the touch column. */
function plainColumns(model: SchemaModel, t: TableModel): ColumnModel[] {
  return t.columns.filter(
    (c) =>
      !c.spec.primaryKey && !c.spec.references && !isReferenced(model, t, c) && c.name !== t.touch,
  );
}

export interface Edit {
  /** Which kind of edit: "add column", "rename table"… */
  readonly kind: string;
  readonly description: string;
  readonly model: SchemaModel;
}

type EditFn = (model: SchemaModel, rng: Random, defaults: DefaultsByType) => string | null;

function defaultFor(type: TypeChoice, rng: Random, defaults: DefaultsByType): string | undefined {
  const options = defaults.get(typeKey(type)) ?? [];
  return options.length > 0 ? rng.pick(options) : undefined;
}

const EDITS: readonly [number, string, EditFn][] = [
  [
    3,
    "add column",
    (model, rng, defaults) => {
      const t = rng.pick(model);
      const free = COLUMN_NAMES.filter((n) => !t.columns.some((c) => c.name === n));
      if (free.length === 0) return null;
      const name = rng.pick(free);
      const type = rng.pick(ALL_TYPES);
      const spec = newColumnSpec(type);
      spec.default = rng.chance(0.35) ? defaultFor(type, rng, defaults) : undefined;
      spec.notNull = rng.chance(0.3);
      spec.unique = rng.chance(0.1);
      if (isString(type) && rng.chance(0.15))
        spec.allowedValues = CHECK_VALUES.slice(0, 2 + rng.int(3));
      claimColumnName(t, name);
      t.columns.push({ name, spec: cleanSpec(spec) });
      return `add column ${t.name}.${name} ${typeKey(type)}${spec.notNull ? " NOT NULL" : ""}${spec.default ? ` DEFAULT ${spec.default}` : ""}${spec.unique ? " UNIQUE" : ""}${spec.allowedValues ? " CHECK" : ""}`;
    },
  ],
  [
    2,
    "drop column",
    (model, rng) => {
      const t = rng.pick(model);
      const candidates = plainColumns(model, t);
      if (candidates.length === 0) return null;
      const c = rng.pick(candidates);
      t.columns = t.columns.filter((x) => x !== c);
      t.uniques = t.uniques.filter((u) => !u.includes(c.name));
      t.indexes = t.indexes.filter((i) => !i.columns.includes(c.name));
      return `drop column ${t.name}.${c.name}`;
    },
  ],
  [
    2,
    "rename column",
    (model, rng) => {
      const t = rng.pick(model);
      const c = rng.pick(t.columns);
      const free = COLUMN_NAMES.filter((n) => !t.columns.some((x) => x.name === n));
      if (free.length === 0 || c.name === t.touch) return null;
      const to = rng.pick(free);
      const from = c.name;
      claimColumnName(t, to);
      claimColumnName(t, from);
      c.name = to;
      c.spec = { ...c.spec, renamedFrom: from };
      t.uniques = t.uniques.map((u) => u.map((n) => (n === from ? to : n)));
      t.indexes = t.indexes.map((i) => ({
        ...i,
        columns: i.columns.map((n) => (n === from ? to : n)),
      }));
      for (const other of model) {
        for (const oc of other.columns) {
          const ref = oc.spec.references;
          if (ref?.table === t.name && ref.column === from)
            oc.spec = { ...oc.spec, references: { ...ref, column: to } };
        }
      }
      return `rename column ${t.name}.${from} to ${to}`;
    },
  ],
  [
    2.5,
    "change type",
    (model, rng, defaults) => {
      const t = rng.pick(model);
      const candidates = plainColumns(model, t);
      if (candidates.length === 0) return null;
      const c = rng.pick(candidates);
      const from = typeOf(c);
      const targets = isString(from)
        ? [
            ...STRING_TYPES,
            { type: "integer" },
            { type: "boolean" },
            { type: "uuid" },
            { type: "timestamp with time zone" },
            { type: "numeric", typeArgs: [10, 2] },
          ]
        : isNumber(from)
          ? [...NUMBER_TYPES, ...STRING_TYPES]
          : STRING_TYPES;
      const options = (targets as TypeChoice[]).filter((x) => typeKey(x) !== typeKey(from));
      const to = rng.pick(options);
      c.spec = cleanSpec({
        ...c.spec,
        type: to.type,
        typeArgs: to.typeArgs ? [...to.typeArgs] : undefined,
        default:
          c.spec.default !== undefined || rng.chance(0.2)
            ? defaultFor(to, rng, defaults)
            : undefined,
      });
      return `change type of ${t.name}.${c.name} from ${typeKey(from)} to ${typeKey(to)}${c.spec.default ? ` (default ${c.spec.default})` : ""}`;
    },
  ],
  [
    2,
    "change default",
    (model, rng, defaults) => {
      const t = rng.pick(model);
      const candidates = t.columns.filter((c) => !c.spec.identity);
      const c = rng.pick(candidates);
      const options = (defaults.get(typeKey(typeOf(c))) ?? []).filter((d) => d !== c.spec.default);
      const next =
        c.spec.default !== undefined && (options.length === 0 || rng.chance(0.5))
          ? undefined
          : options.length > 0
            ? rng.pick(options)
            : undefined;
      if (next === c.spec.default) return null;
      c.spec = cleanSpec({ ...c.spec, default: next });
      return `default of ${t.name}.${c.name}: ${next ?? "(none)"}`;
    },
  ],
  [
    2,
    "toggle nullability",
    (model, rng) => {
      const t = rng.pick(model);
      const candidates = t.columns.filter((c) => !c.spec.primaryKey);
      if (candidates.length === 0) return null;
      const c = rng.pick(candidates);
      c.spec = { ...c.spec, notNull: !c.spec.notNull };
      return `${t.name}.${c.name} ${c.spec.notNull ? "NOT NULL" : "nullable"}`;
    },
  ],
  [
    1.5,
    "add index",
    (model, rng) => {
      const t = rng.pick(model);
      const columns = pickColumns(t, rng);
      const key = columns.join(",");
      if (t.indexes.some((i) => i.columns.join(",") === key)) return null;
      t.indexes.push({ columns });
      return `add index on ${t.name} (${key})`;
    },
  ],
  [
    1,
    "drop index",
    (model, rng) => {
      const t = rng.pick(model);
      if (t.indexes.length === 0) return null;
      const i = rng.int(t.indexes.length);
      const [dropped] = t.indexes.splice(i, 1);
      return `drop index on ${t.name} (${dropped!.columns.join(",")})`;
    },
  ],
  [
    1.5,
    "add unique",
    (model, rng) => {
      const t = rng.pick(model);
      const columns = pickColumns(t, rng);
      if (columns.length === 1) {
        const c = t.columns.find((x) => x.name === columns[0])!;
        if (c.spec.unique || c.spec.primaryKey) return null;
        c.spec = { ...c.spec, unique: true };
      } else {
        const key = columns.join(",");
        if (t.uniques.some((u) => u.join(",") === key)) return null;
        t.uniques.push(columns);
      }
      return `add unique on ${t.name} (${columns.join(",")})`;
    },
  ],
  [
    1,
    "drop unique",
    (model, rng) => {
      const t = rng.pick(model);
      const single = t.columns.filter((c) => c.spec.unique && !isReferenced(model, t, c));
      const options = [...single.map((c) => ({ c })), ...t.uniques.map((u) => ({ u }))];
      if (options.length === 0) return null;
      const choice = rng.pick(options);
      if ("c" in choice) {
        choice.c.spec = { ...choice.c.spec, unique: false };
        return `drop unique on ${t.name} (${choice.c.name})`;
      }
      t.uniques = t.uniques.filter((u) => u !== choice.u);
      return `drop unique on ${t.name} (${choice.u.join(",")})`;
    },
  ],
  [
    1,
    "add check",
    (model, rng) => {
      const t = rng.pick(model);
      const candidates = t.columns.filter(
        (c) => !c.spec.allowedValues && !c.spec.primaryKey && !c.spec.references,
      );
      if (candidates.length === 0) return null;
      const c = rng.pick(candidates);
      c.spec = { ...c.spec, allowedValues: CHECK_VALUES.slice(0, 2 + rng.int(3)) };
      return `add check on ${t.name}.${c.name} (${typeKey(typeOf(c))})`;
    },
  ],
  [
    1,
    "drop check",
    (model, rng) => {
      const t = rng.pick(model);
      const candidates = t.columns.filter((c) => c.spec.allowedValues);
      if (candidates.length === 0) return null;
      const c = rng.pick(candidates);
      c.spec = cleanSpec({ ...c.spec, allowedValues: undefined });
      return `drop check on ${t.name}.${c.name}`;
    },
  ],
  [
    1.5,
    "add foreign key",
    (model, rng) => {
      const t = rng.pick(model);
      const target = rng.pick(model);
      const pk = pkOf(target);
      const onDelete = rng.pick(ON_DELETE);
      const reference = { table: target.name, column: pk.name, onDelete };
      // On an existing column of the right type, or on a new one.
      const existing = plainColumns(model, t).filter((c) => c.spec.type === pk.spec.type);
      if (existing.length > 0 && rng.chance(0.5)) {
        const c = rng.pick(existing);
        c.spec = { ...c.spec, references: reference, allowedValues: undefined };
        c.spec = cleanSpec({ ...c.spec, default: undefined });
        return `add foreign key ${t.name}.${c.name} → ${target.name}.${pk.name} on delete ${onDelete}`;
      }
      const name = `${target.name.slice(0, 20)}_ref`;
      if (t.columns.some((c) => c.name === name)) return null;
      claimColumnName(t, name);
      t.columns.push({
        name,
        spec: { ...newColumnSpec({ type: pk.spec.type }), references: reference },
      });
      return `add column ${t.name}.${name} → ${target.name}.${pk.name} on delete ${onDelete}`;
    },
  ],
  [
    1,
    "drop foreign key",
    (model, rng) => {
      const t = rng.pick(model);
      const candidates = t.columns.filter((c) => c.spec.references);
      if (candidates.length === 0) return null;
      const c = rng.pick(candidates);
      c.spec = cleanSpec({ ...c.spec, references: undefined });
      return `drop foreign key ${t.name}.${c.name}`;
    },
  ],
  [
    0.7,
    "add table",
    (model, rng, defaults) => {
      const free = TABLE_NAMES.filter((n) => !model.some((t) => t.name === n));
      if (free.length === 0) return null;
      const name = rng.pick(free);
      const uuid = rng.chance(0.3);
      const id: ColumnModel = uuid
        ? {
            name: "id",
            spec: {
              ...newColumnSpec({ type: "uuid" }),
              primaryKey: true,
              notNull: true,
              default: "gen_random_uuid()",
            },
          }
        : {
            name: "id",
            spec: {
              ...newColumnSpec({ type: "bigint" }),
              primaryKey: true,
              notNull: true,
              identity: true,
            },
          };
      const columns = [id];
      for (let i = 0, n = 1 + rng.int(3); i < n; i++) {
        const type = rng.pick(ALL_TYPES);
        const spec = newColumnSpec(type);
        spec.notNull = rng.chance(0.3);
        spec.default = rng.chance(0.3) ? defaultFor(type, rng, defaults) : undefined;
        columns.push({ name: COLUMN_NAMES[i]!, spec: cleanSpec(spec) });
      }
      const t: TableModel = {
        name,
        description: "A table of the property test.",
        columns,
        uniques: [],
        indexes: [],
      };
      if (rng.chance(0.5)) {
        const target = rng.pick(model);
        const pk = pkOf(target);
        columns.push({
          name: "parent_ref",
          spec: {
            ...newColumnSpec({ type: pk.spec.type }),
            references: { table: target.name, column: pk.name, onDelete: "cascade" },
          },
        });
        t.indexes.push({ columns: ["parent_ref"] });
      }
      if (rng.chance(0.4)) {
        columns.push({
          name: "updated_at",
          spec: {
            ...newColumnSpec({ type: "timestamp with time zone" }),
            notNull: true,
            default: "now()",
          },
        });
        t.touch = "updated_at";
      }
      claimTableName(model, name);
      model.push(t);
      return `add table ${name} (${columns.map((c) => c.name).join(", ")})`;
    },
  ],
  [
    0.5,
    "drop table",
    (model, rng) => {
      if (model.length <= 3) return null;
      const candidates = model.filter((t) => !referencedBy(model, t.name));
      if (candidates.length === 0) return null;
      const t = rng.pick(candidates);
      model.splice(model.indexOf(t), 1);
      return `drop table ${t.name}`;
    },
  ],
  [
    1,
    "rename table",
    (model, rng) => {
      const free = TABLE_NAMES.filter((n) => !model.some((t) => t.name === n));
      if (free.length === 0) return null;
      const t = rng.pick(model);
      const to = rng.pick(free);
      const from = t.name;
      claimTableName(model, to);
      claimTableName(model, from);
      t.name = to;
      t.renamedFrom = from;
      for (const other of model) {
        for (const c of other.columns) {
          const ref = c.spec.references;
          if (ref?.table === from) c.spec = { ...c.spec, references: { ...ref, table: to } };
        }
      }
      return `rename table ${from} to ${to}`;
    },
  ],
];

export const EDIT_KINDS: readonly string[] = EDITS.map(([, kind]) => kind);

function pickColumns(t: TableModel, rng: Random): string[] {
  const first = rng.pick(t.columns).name;
  if (rng.chance(0.6)) return [first];
  const second = rng.pick(t.columns).name;
  return second === first ? [first] : [first, second];
}

/** Drops keys whose value is undefined, so specs compare and clone cleanly. */
function cleanSpec(spec: PgColumnSpec): PgColumnSpec {
  return Object.fromEntries(
    Object.entries(spec).filter(([, v]) => v !== undefined),
  ) as unknown as PgColumnSpec;
}

/**
 * One random edit of `model` (which is left alone). Declarations of earlier renames stay half of
 * the time, as they may in schema/ after their migration. Edits the DSL rejects (a derived name
 * over 63 bytes…) are retried with another.
 */
export function randomEdit(model: SchemaModel, rng: Random, defaults: DefaultsByType): Edit {
  const total = EDITS.reduce((sum, [weight]) => sum + weight, 0);
  for (let attempt = 0; attempt < 200; attempt++) {
    const next = clone(model);
    if (rng.chance(0.5)) {
      for (const t of next) {
        delete t.renamedFrom;
        for (const c of t.columns) c.spec = cleanSpec({ ...c.spec, renamedFrom: undefined });
      }
    }
    let roll = rng.next() * total;
    const [, kind, edit] = EDITS.find(([weight]) => (roll -= weight) < 0) ?? EDITS[0]!;
    const description = edit(next, rng, defaults);
    if (description === null) continue;
    try {
      buildTables(next);
    } catch {
      continue;
    }
    return { kind, description, model: next };
  }
  throw new Error("no applicable edit found in 200 attempts");
}
