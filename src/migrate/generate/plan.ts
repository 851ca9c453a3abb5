/**
 * The migration from the live schema (what the existing migrations produce) to the desired one
 * (schema/auth.ts), as steps: each step is the statements of one change and the statements that
 * undo it, so a down is the steps' undos in reverse order and reverts exactly the up. Pure: input
 * is the desired tables (rendered by verify's `desiredShape`) and the live shape, output SQL text.
 *
 * Two parts, because some safe patterns need statements that each commit on their own:
 *
 * - `transactional` (a `.sql` migration, one transaction): renames, drops, new tables and columns,
 *   type/default/nullability changes, and constraints on existing tables added `NOT VALID` (a
 *   foreign key, a check, the `CHECK (col IS NOT NULL)` that proves a coming SET NOT NULL);
 * - `concurrent` (a `.js` migration with `pgm.noTransaction()`, after it): `VALIDATE CONSTRAINT`
 *   (only a SHARE UPDATE EXCLUSIVE lock, and in a transaction of its own, so no ACCESS EXCLUSIVE
 *   lock from the first part is held while rows are scanned), `SET NOT NULL` once the check proves
 *   it, and every index or unique constraint on an existing table built `CONCURRENTLY`. Each of its
 *   statements may be run again after a failure: indexes are dropped `IF EXISTS` before they are
 *   built, the proving checks are dropped last.
 *
 * On tables the migration creates, none of that is needed (they have no rows): they are created
 * whole, in the first part.
 */
import type { PgTable } from "../../../schema/dsl/postgres";
import { CHECKSUMS_TABLE, MIGRATIONS_TABLE } from "../history";
import { desiredShape, type ColumnShape, type SchemaShape, type TableShape } from "../verify";
import { resolveRenames } from "./renames";
import {
  alterTypeStatement,
  columnDefinition,
  dollarQuote,
  ident,
  normalizeBody,
  notNullCheckName,
} from "./sql-text";

export interface PlannedStep {
  /** One line for people: `add column users.locale`. */
  readonly summary: string;
  readonly up: readonly string[];
  /** Undoes `up`, run in this order, from the state right after `up`. */
  readonly down: readonly string[];
}

export interface MigrationPlan {
  readonly transactional: readonly PlannedStep[];
  readonly concurrent: readonly PlannedStep[];
  /** Renames that take effect: `table users → accounts`, `column users.name → display_name`. */
  readonly renames: readonly string[];
}

export interface PlanInput {
  /** The desired tables, parents before children (schema/auth.ts's `authTableList`). */
  readonly tables: readonly PgTable[];
  /** What the existing migrations produce, read by verify's `liveShape`. */
  readonly live: SchemaShape;
}

export function isEmptyPlan(plan: MigrationPlan): boolean {
  return plan.transactional.length === 0 && plan.concurrent.length === 0;
}

/** The statements of one part, up or down. */
export function partStatements(steps: readonly PlannedStep[], direction: "up" | "down"): string[] {
  if (direction === "up") return steps.flatMap((s) => s.up);
  return [...steps].reverse().flatMap((s) => s.down);
}

const BOOKKEEPING_TABLES = new Set([MIGRATIONS_TABLE, CHECKSUMS_TABLE]);

const TRIGGER_STATE_SQL = {
  enabled: "ENABLE TRIGGER",
  disabled: "DISABLE TRIGGER",
  replica: "ENABLE REPLICA TRIGGER",
  always: "ENABLE ALWAYS TRIGGER",
} as const;

type ConstraintKind = "primary key" | "unique" | "check" | "foreign key" | "other";

function constraintKind(definition: string): ConstraintKind {
  if (definition.startsWith("PRIMARY KEY")) return "primary key";
  if (definition.startsWith("UNIQUE")) return "unique";
  if (definition.startsWith("CHECK")) return "check";
  if (definition.startsWith("FOREIGN KEY")) return "foreign key";
  return "other";
}

/** The phases of the migration, in execution order; see the module header. */
class Phases {
  readonly dropForeignKeys: PlannedStep[] = [];
  readonly dropObjects: PlannedStep[] = [];
  readonly dropColumns: PlannedStep[] = [];
  readonly dropTables: PlannedStep[] = [];
  readonly renameTables: PlannedStep[] = [];
  readonly renameColumns: PlannedStep[] = [];
  readonly renameObjects: PlannedStep[] = [];
  readonly extensionsAndFunctions: PlannedStep[] = [];
  readonly createTables: PlannedStep[] = [];
  readonly newTableForeignKeys: PlannedStep[] = [];
  readonly addColumns: PlannedStep[] = [];
  readonly alterColumns: PlannedStep[] = [];
  readonly addConstraints: PlannedStep[] = [];
  // The concurrent part.
  readonly validate: PlannedStep[] = [];
  readonly setNotNull: PlannedStep[] = [];
  readonly uniques: PlannedStep[] = [];
  readonly indexes: PlannedStep[] = [];
  readonly dropProofs: PlannedStep[] = [];

  transactional(): PlannedStep[] {
    return [
      ...this.dropForeignKeys,
      ...this.dropObjects,
      ...this.dropColumns,
      ...this.dropTables,
      ...this.renameTables,
      ...this.renameColumns,
      ...this.renameObjects,
      ...this.extensionsAndFunctions,
      ...this.createTables,
      ...this.newTableForeignKeys,
      ...this.addColumns,
      ...this.alterColumns,
      ...this.addConstraints,
    ];
  }

  concurrent(): PlannedStep[] {
    return [
      ...this.validate,
      ...this.setNotNull,
      ...this.uniques,
      ...this.indexes,
      ...this.dropProofs,
    ];
  }
}

const step = (summary: string, up: string[], down: string[]): PlannedStep => ({
  summary,
  up,
  down,
});

const alterTable = (table: string, action: string) => `ALTER TABLE ${ident(table)} ${action}`;

/** CREATE TABLE with every column and every constraint but foreign keys (added once all exist). */
function createTableStatements(table: TableShape): string[] {
  const lines = table.columns.map((c) => `  ${columnDefinition(c)}`);
  for (const [name, definition] of table.constraints) {
    if (constraintKind(definition) !== "foreign key")
      lines.push(`  CONSTRAINT ${ident(name)} ${definition}`);
  }
  const statements = [`CREATE TABLE ${ident(table.name)} (\n${lines.join(",\n")}\n)`];
  statements.push(...table.indexes.values(), ...table.triggers.values());
  for (const [name, state] of table.triggerStates) {
    if (state !== "enabled")
      statements.push(alterTable(table.name, `${TRIGGER_STATE_SQL[state]} ${ident(name)}`));
  }
  return statements;
}

function foreignKeysOf(table: TableShape): [string, string][] {
  return [...table.constraints].filter(([, d]) => constraintKind(d) === "foreign key");
}

/** `CREATE INDEX x ON …` → `CREATE INDEX CONCURRENTLY x ON …` (also UNIQUE). */
function concurrently(indexDefinition: string): string {
  return indexDefinition.replace(/^CREATE (UNIQUE )?INDEX /, "CREATE $1INDEX CONCURRENTLY ");
}

/** The unique index behind `UNIQUE (a, b)`, as `pg_get_indexdef` prints it. */
function uniqueIndexDefinition(name: string, table: string, definition: string): string {
  const columns = /^UNIQUE \((.*)\)$/.exec(definition)?.[1];
  if (columns === undefined) throw new Error(`not a plain unique constraint: ${definition}`);
  return `CREATE UNIQUE INDEX ${ident(name)} ON public.${ident(table)} USING btree (${columns})`;
}

interface TablePair {
  /** The desired table under its new names. */
  readonly want: TableShape;
  /** The same table under the names the live schema has (renames not applied yet). */
  readonly previous: TableShape;
  readonly live: TableShape;
}

export function planMigration(input: PlanInput): MigrationPlan {
  const liveTables = new Map(
    input.live.tables.filter((t) => !BOOKKEEPING_TABLES.has(t.name)).map((t) => [t.name, t]),
  );
  const renames = resolveRenames(input.tables, liveTables);
  const want = desiredShape(input.tables);
  const previous = desiredShape(renames.previousTables);
  const phases = new Phases();
  const renameLines: string[] = [];

  planExtensionsAndFunctions(want, input.live, phases);

  const matched = new Set<string>();
  const newTables: TableShape[] = [];
  want.tables.forEach((wantTable, i) => {
    const previousTable = previous.tables[i]!;
    const liveTable = liveTables.get(previousTable.name);
    if (!liveTable) {
      newTables.push(wantTable);
      return;
    }
    matched.add(liveTable.name);
    if (previousTable.name !== wantTable.name) {
      renameLines.push(`table ${previousTable.name} → ${wantTable.name}`);
      phases.renameTables.push(
        step(
          `rename table ${previousTable.name} to ${wantTable.name}`,
          [alterTable(previousTable.name, `RENAME TO ${ident(wantTable.name)}`)],
          [alterTable(wantTable.name, `RENAME TO ${ident(previousTable.name)}`)],
        ),
      );
    }
    planTable({ want: wantTable, previous: previousTable, live: liveTable }, phases, renameLines);
  });

  for (const table of newTables) {
    phases.createTables.push(
      step(`create table ${table.name}`, createTableStatements(table), [
        `DROP TABLE ${ident(table.name)}`,
      ]),
    );
    for (const [name, definition] of foreignKeysOf(table)) {
      phases.newTableForeignKeys.push(
        step(
          `add foreign key ${name} on ${table.name}`,
          [alterTable(table.name, `ADD CONSTRAINT ${ident(name)} ${definition}`)],
          [alterTable(table.name, `DROP CONSTRAINT ${ident(name)}`)],
        ),
      );
    }
  }

  // Live tables no desired table claims are dropped, their foreign keys first (and re-added last
  // by the down, once every table they reference is back).
  const dropped = [...liveTables.values()].filter((t) => !matched.has(t.name));
  for (const table of dropped) {
    for (const [name, definition] of foreignKeysOf(table)) {
      phases.dropForeignKeys.push(
        step(
          `drop foreign key ${name} on ${table.name} (its table is dropped)`,
          [alterTable(table.name, `DROP CONSTRAINT ${ident(name)}`)],
          [alterTable(table.name, `ADD CONSTRAINT ${ident(name)} ${definition}`)],
        ),
      );
    }
  }
  // Every foreign key into or out of a dropped table is gone by now, so any order works.
  for (const table of dropped) {
    phases.dropTables.push(
      step(
        `drop table ${table.name}`,
        [`DROP TABLE ${ident(table.name)}`],
        createTableStatements(table),
      ),
    );
  }

  return {
    transactional: phases.transactional(),
    concurrent: phases.concurrent(),
    renames: renameLines,
  };
}

function planExtensionsAndFunctions(want: SchemaShape, live: SchemaShape, phases: Phases): void {
  for (const extension of want.extensions) {
    if (live.extensions.has(extension)) continue;
    phases.extensionsAndFunctions.push(
      step(
        `create extension ${extension}`,
        [`CREATE EXTENSION IF NOT EXISTS ${ident(extension)}`],
        [`DROP EXTENSION IF EXISTS ${ident(extension)}`],
      ),
    );
  }
  for (const [name, fn] of want.functions) {
    const define = (f: { returns: string; language: string; body: string }, replace: boolean) => {
      const quote = dollarQuote(f.body);
      return `CREATE ${replace ? "OR REPLACE " : ""}FUNCTION ${ident(name)}() RETURNS ${f.returns}\nLANGUAGE ${f.language} AS ${quote}${f.body}${quote}`;
    };
    const have = live.functions.get(name);
    if (!have) {
      phases.extensionsAndFunctions.push(
        step(`create function ${name}()`, [define(fn, false)], [`DROP FUNCTION ${ident(name)}()`]),
      );
    } else if (
      have.returns !== fn.returns ||
      have.language !== fn.language ||
      normalizeBody(have.body) !== normalizeBody(fn.body)
    ) {
      phases.extensionsAndFunctions.push(
        step(`replace function ${name}()`, [define(fn, true)], [define(have, true)]),
      );
    }
  }
}

function planTable(pair: TablePair, phases: Phases, renameLines: string[]): void {
  const { want, previous, live } = pair;
  const table = want.name;
  const liveColumns = new Map(live.columns.map((c) => [c.name, c]));
  const matchedColumns = new Set<string>();
  // Columns that become NOT NULL: through a proving check, unless a new primary key (which sets
  // NOT NULL itself) or a new identity (which needs it first) forces the plain form.
  const plainNotNull = new Set<string>();
  const previousConstraints = [...previous.constraints];
  [...want.constraints].forEach(([, definition], i) => {
    const [previousName, previousDefinition] = previousConstraints[i]!;
    if (constraintKind(definition) !== "primary key") return;
    if (live.constraints.get(previousName) === previousDefinition) return;
    const columns = /^PRIMARY KEY \((.*)\)$/.exec(definition)?.[1]?.split(", ") ?? [];
    for (const c of columns) plainNotNull.add(c);
  });

  want.columns.forEach((wantColumn, i) => {
    const previousName = previous.columns[i]!.name;
    const liveColumn = liveColumns.get(previousName);
    if (!liveColumn) {
      phases.addColumns.push(
        step(
          `add column ${table}.${wantColumn.name}`,
          [alterTable(table, `ADD COLUMN ${columnDefinition(wantColumn)}`)],
          [alterTable(table, `DROP COLUMN ${ident(wantColumn.name)}`)],
        ),
      );
      return;
    }
    matchedColumns.add(previousName);
    if (previousName !== wantColumn.name) {
      renameLines.push(`column ${table}.${previousName} → ${wantColumn.name}`);
      phases.renameColumns.push(
        step(
          `rename column ${table}.${previousName} to ${wantColumn.name}`,
          [alterTable(table, `RENAME COLUMN ${ident(previousName)} TO ${ident(wantColumn.name)}`)],
          [alterTable(table, `RENAME COLUMN ${ident(wantColumn.name)} TO ${ident(previousName)}`)],
        ),
      );
    }
    if (wantColumn.identity && !liveColumn.identity) plainNotNull.add(wantColumn.name);
    planColumnChange(table, wantColumn, liveColumn, plainNotNull.has(wantColumn.name), phases);
  });
  for (const column of live.columns) {
    if (matchedColumns.has(column.name)) continue;
    phases.dropColumns.push(
      step(
        `drop column ${live.name}.${column.name}`,
        [alterTable(live.name, `DROP COLUMN ${ident(column.name)}`)],
        [alterTable(live.name, `ADD COLUMN ${columnDefinition(column)}`)],
      ),
    );
  }

  planConstraints(pair, phases);
  planIndexes(pair, phases);
  planTriggers(pair, phases);
}

function planColumnChange(
  table: string,
  want: ColumnShape,
  live: ColumnShape,
  plainNotNull: boolean,
  phases: Phases,
): void {
  const column = ident(want.name);
  const where = `${table}.${want.name}`;
  const alter = (action: string) => alterTable(table, `ALTER COLUMN ${column} ${action}`);
  const add = (summary: string, up: string[], down: string[]) =>
    phases.alterColumns.push(step(summary, up, down));
  const typeChanged = want.type !== live.type;
  const defaultChanged = (want.default ?? "") !== (live.default ?? "");

  if (live.identity && live.identity !== want.identity) {
    if (want.identity) {
      add(
        `identity of ${where}: GENERATED ${want.identity}`,
        [alter(`SET GENERATED ${want.identity}`)],
        [alter(`SET GENERATED ${live.identity}`)],
      );
    } else {
      add(
        `drop identity of ${where}`,
        [alter("DROP IDENTITY")],
        [alter(`ADD GENERATED ${live.identity} AS IDENTITY`)],
      );
    }
  }
  // The old default may not cast to the new type: off before the change, the new one after.
  if (live.default !== undefined && (typeChanged || defaultChanged)) {
    add(
      `drop default of ${where}`,
      [alter("DROP DEFAULT")],
      [alter(`SET DEFAULT ${live.default}`)],
    );
  }
  if (typeChanged) {
    add(
      `change type of ${where} from ${live.type} to ${want.type}`,
      [alterTypeStatement(table, want.name, live.type, want.type)],
      [alterTypeStatement(table, want.name, want.type, live.type)],
    );
  }
  if (want.default !== undefined && (typeChanged || defaultChanged)) {
    add(
      `default of ${where}: ${want.default}`,
      [alter(`SET DEFAULT ${want.default}`)],
      [alter("DROP DEFAULT")],
    );
  }
  if (live.notNull && !want.notNull) {
    add(`${where} becomes nullable`, [alter("DROP NOT NULL")], [alter("SET NOT NULL")]);
  } else if (!live.notNull && want.notNull) {
    if (plainNotNull) {
      add(`${where} becomes NOT NULL`, [alter("SET NOT NULL")], [alter("DROP NOT NULL")]);
    } else {
      planProvenNotNull(table, want.name, phases);
    }
  }
  if (want.identity && !live.identity) {
    add(
      `${where} becomes an identity`,
      [alter(`ADD GENERATED ${want.identity} AS IDENTITY`)],
      [alter("DROP IDENTITY")],
    );
  }
}

/**
 * SET NOT NULL without a full-table scan under ACCESS EXCLUSIVE: a `CHECK (col IS NOT NULL)` added
 * NOT VALID (instant), validated in its own transaction (SHARE UPDATE EXCLUSIVE: reads and writes
 * go on), then SET NOT NULL, which Postgres 12+ proves from the valid check without scanning.
 */
function planProvenNotNull(table: string, column: string, phases: Phases): void {
  const check = notNullCheckName(table, column);
  const where = `${table}.${column}`;
  phases.addConstraints.push(
    step(
      `prove ${where} NOT NULL: check added NOT VALID`,
      [
        alterTable(
          table,
          `ADD CONSTRAINT ${ident(check)} CHECK (${ident(column)} IS NOT NULL) NOT VALID`,
        ),
      ],
      [alterTable(table, `DROP CONSTRAINT IF EXISTS ${ident(check)}`)],
    ),
  );
  phases.setNotNull.push(
    step(
      `${where} becomes NOT NULL (validated check, then SET NOT NULL)`,
      [
        alterTable(table, `VALIDATE CONSTRAINT ${ident(check)}`),
        alterTable(table, `ALTER COLUMN ${ident(column)} SET NOT NULL`),
      ],
      [alterTable(table, `ALTER COLUMN ${ident(column)} DROP NOT NULL`)],
    ),
  );
  phases.dropProofs.push(
    step(
      `drop the proving check of ${where}`,
      [alterTable(table, `DROP CONSTRAINT IF EXISTS ${ident(check)}`)],
      [],
    ),
  );
}

/**
 * Walks the desired objects of one kind beside their previous-name twins: a live object under the
 * previous name with the previous definition is kept (renamed when its derived name changes); one
 * with another definition is dropped and the desired one added; live objects left over are dropped.
 */
function pairObjects(
  want: ReadonlyMap<string, string>,
  previous: ReadonlyMap<string, string>,
  live: ReadonlyMap<string, string>,
  on: {
    keep(previousName: string, name: string): void;
    add(name: string, definition: string): void;
    drop(name: string, definition: string): void;
  },
): void {
  const previousEntries = [...previous];
  const claimed = new Set<string>();
  [...want].forEach(([name, definition], i) => {
    const [previousName, previousDefinition] = previousEntries[i]!;
    const liveDefinition = live.get(previousName);
    if (liveDefinition === undefined) {
      on.add(name, definition);
      return;
    }
    claimed.add(previousName);
    if (liveDefinition === previousDefinition) {
      on.keep(previousName, name);
    } else {
      on.drop(previousName, liveDefinition);
      on.add(name, definition);
    }
  });
  for (const [name, definition] of live) if (!claimed.has(name)) on.drop(name, definition);
}

function planConstraints({ want, previous, live }: TablePair, phases: Phases): void {
  const table = want.name;
  pairObjects(want.constraints, previous.constraints, live.constraints, {
    keep(previousName, name) {
      if (previousName === name) return;
      phases.renameObjects.push(
        step(
          `rename constraint ${previousName} to ${name}`,
          [alterTable(table, `RENAME CONSTRAINT ${ident(previousName)} TO ${ident(name)}`)],
          [alterTable(table, `RENAME CONSTRAINT ${ident(name)} TO ${ident(previousName)}`)],
        ),
      );
    },
    drop(name, definition) {
      // Before any rename: the live table name. Foreign keys go first (a dropped column or table
      // may be what they reference).
      const target =
        constraintKind(definition) === "foreign key" ? phases.dropForeignKeys : phases.dropObjects;
      target.push(
        step(
          `drop constraint ${name} on ${live.name}`,
          [alterTable(live.name, `DROP CONSTRAINT ${ident(name)}`)],
          [alterTable(live.name, `ADD CONSTRAINT ${ident(name)} ${definition}`)],
        ),
      );
    },
    add(name, definition) {
      const kind = constraintKind(definition);
      if (kind === "unique") {
        // Built CONCURRENTLY, then attached: a plain ADD UNIQUE holds ACCESS EXCLUSIVE while the
        // index builds, and a duplicate fails only there (re-runnable from the top).
        phases.uniques.push(
          step(
            `add unique constraint ${name} on ${table} (index built concurrently)`,
            [
              alterTable(table, `DROP CONSTRAINT IF EXISTS ${ident(name)}`),
              `DROP INDEX CONCURRENTLY IF EXISTS ${ident(name)}`,
              concurrently(uniqueIndexDefinition(name, table, definition)),
              alterTable(table, `ADD CONSTRAINT ${ident(name)} UNIQUE USING INDEX ${ident(name)}`),
            ],
            [alterTable(table, `DROP CONSTRAINT IF EXISTS ${ident(name)}`)],
          ),
        );
      } else if (kind === "check" || kind === "foreign key") {
        phases.addConstraints.push(
          step(
            `add ${kind} ${name} on ${table} (NOT VALID, validated after)`,
            [alterTable(table, `ADD CONSTRAINT ${ident(name)} ${definition} NOT VALID`)],
            [alterTable(table, `DROP CONSTRAINT ${ident(name)}`)],
          ),
        );
        phases.validate.push(
          step(
            `validate ${name} on ${table}`,
            [alterTable(table, `VALIDATE CONSTRAINT ${ident(name)}`)],
            [],
          ),
        );
      } else {
        phases.addConstraints.push(
          step(
            `add ${kind} ${name} on ${table}`,
            [alterTable(table, `ADD CONSTRAINT ${ident(name)} ${definition}`)],
            [alterTable(table, `DROP CONSTRAINT ${ident(name)}`)],
          ),
        );
      }
    },
  });
}

function planIndexes({ want, previous, live }: TablePair, phases: Phases): void {
  pairObjects(want.indexes, previous.indexes, live.indexes, {
    keep(previousName, name) {
      if (previousName === name) return;
      phases.renameObjects.push(
        step(
          `rename index ${previousName} to ${name}`,
          [`ALTER INDEX ${ident(previousName)} RENAME TO ${ident(name)}`],
          [`ALTER INDEX ${ident(name)} RENAME TO ${ident(previousName)}`],
        ),
      );
    },
    drop(name, definition) {
      phases.dropObjects.push(
        step(`drop index ${name} on ${live.name}`, [`DROP INDEX ${ident(name)}`], [definition]),
      );
    },
    add(name, definition) {
      phases.indexes.push(
        step(
          `add index ${name} on ${want.name} (built concurrently)`,
          [`DROP INDEX CONCURRENTLY IF EXISTS ${ident(name)}`, concurrently(definition)],
          [`DROP INDEX CONCURRENTLY IF EXISTS ${ident(name)}`],
        ),
      );
    },
  });
}

function planTriggers({ want, previous, live }: TablePair, phases: Phases): void {
  const table = want.name;
  pairObjects(want.triggers, previous.triggers, live.triggers, {
    keep(previousName, name) {
      if (previousName !== name) {
        phases.renameObjects.push(
          step(
            `rename trigger ${previousName} to ${name}`,
            [`ALTER TRIGGER ${ident(previousName)} ON ${ident(table)} RENAME TO ${ident(name)}`],
            [`ALTER TRIGGER ${ident(name)} ON ${ident(table)} RENAME TO ${ident(previousName)}`],
          ),
        );
      }
      const wanted = want.triggerStates.get(name) ?? "enabled";
      const actual = live.triggerStates.get(previousName) ?? "enabled";
      if (wanted !== actual) {
        phases.addConstraints.push(
          step(
            `trigger ${name} on ${table}: ${wanted}`,
            [alterTable(table, `${TRIGGER_STATE_SQL[wanted]} ${ident(name)}`)],
            [alterTable(table, `${TRIGGER_STATE_SQL[actual]} ${ident(name)}`)],
          ),
        );
      }
    },
    drop(name, definition) {
      const state = live.triggerStates.get(name) ?? "enabled";
      phases.dropObjects.push(
        step(
          `drop trigger ${name} on ${live.name}`,
          [`DROP TRIGGER ${ident(name)} ON ${ident(live.name)}`],
          [
            definition,
            ...(state === "enabled"
              ? []
              : [alterTable(live.name, `${TRIGGER_STATE_SQL[state]} ${ident(name)}`)]),
          ],
        ),
      );
    },
    add(name, definition) {
      phases.addConstraints.push(
        step(
          `add trigger ${name} on ${table}`,
          [definition],
          [`DROP TRIGGER ${ident(name)} ON ${ident(table)}`],
        ),
      );
    },
  });
}
