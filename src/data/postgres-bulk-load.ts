/**
 * Loading an empty Postgres table the way Postgres's own guide to populating a database says to
 * ("Remove Indexes", "Remove Foreign Key Constraints", postgresql.org/docs/15/populate.html; it is
 * also what pg_restore does): the table's secondary indexes and foreign keys are dropped before
 * its first range and built again once its last range is in. A btree built once from sorted input
 * and one validating scan per foreign key cost a fraction of maintaining each index and firing the
 * foreign key's trigger for every copied row. Unique constraints too: a `citext` unique email
 * compared case-folded on every insert cost Postgres more than the COPY itself. Primary keys stay:
 * the copy's idempotent redo of a range rests on them.
 *
 * The price of deferring a unique constraint: a duplicate in the source is found when the table's
 * constraint is built, not in its own range. The table and the tables referring to it are then
 * marked to be copied again (its constraint still deferred), and the run stops on one line naming
 * the duplicated value; once the source is fixed, `--resume` copies them again — each range
 * replaced by the source's rows, the redo path — and builds the constraint.
 *
 * Nothing is lost if the run dies in between: each dropped object's exact definition
 * (`pg_get_indexdef`, `pg_get_constraintdef`) is in the state file before the drop commits, and a
 * run restores whatever is recorded there — after the table's last range, when the run stops for
 * any reason, and at the start of a `--resume` after a `kill -9`. A foreign key comes back
 * `NOT VALID` and is then validated, so a row the copy should not have written (it rejects children
 * of rejected or missing parents itself) fails the run on one line instead of staying unchecked.
 */
import type { Client } from "pg";
import {
  emptyTableState,
  type DeferredObject,
  type MigrationState,
  type TableState,
} from "./checkpoint";
import { connectPostgres, PostgresTargetError, queryPostgres } from "./postgres-sink";
import { migrationTables, type MigrationTable } from "./table-plan";

const q = (name: string) => `"${name.replace(/"/g, '""')}"`;

/**
 * The table's indexes other than its primary key's, its unique constraints and its own foreign
 * keys, as Postgres defines them. Unique constraints come before foreign keys: a foreign key of
 * another table may rest on one (it is then not deferred, and neither is the constraint).
 */
async function deferrableObjects(client: Client, table: string): Promise<DeferredObject[]> {
  const indexes = await queryPostgres<{ name: string; definition: string }>(client, {
    text:
      "SELECT c.relname AS name, pg_get_indexdef(i.indexrelid) AS definition FROM pg_index i " +
      "JOIN pg_class c ON c.oid = i.indexrelid " +
      "WHERE i.indrelid = to_regclass($1) AND NOT i.indisprimary " +
      "AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid) ORDER BY c.relname",
    values: [q(table)],
  });
  const constraints = await queryPostgres<{
    name: string;
    definition: string;
    kind: "u" | "f";
  }>(client, {
    text:
      "SELECT conname AS name, pg_get_constraintdef(k.oid) AS definition, contype AS kind FROM pg_constraint k " +
      "WHERE conrelid = to_regclass($1) AND (contype = 'f' OR (contype = 'u' AND NOT EXISTS " +
      "(SELECT 1 FROM pg_constraint f WHERE f.contype = 'f' AND f.conindid = k.conindid))) " +
      "ORDER BY contype DESC, conname",
    values: [q(table)],
  });
  return [
    ...indexes.rows.map((r) => ({ kind: "index" as const, ...r })),
    ...constraints.rows.map(({ kind, ...r }) => ({
      kind: kind === "u" ? ("unique" as const) : ("foreign-key" as const),
      ...r,
    })),
  ];
}

async function isEmpty(client: Client, table: string): Promise<boolean> {
  const result = await queryPostgres<{ empty: boolean }>(
    client,
    `SELECT NOT EXISTS (SELECT 1 FROM ${q(table)}) AS empty`,
  );
  return result.rows[0].empty;
}

async function exists(client: Client, table: string, object: DeferredObject): Promise<boolean> {
  const result =
    object.kind === "index"
      ? await queryPostgres<{ present: boolean }>(client, {
          text: "SELECT to_regclass($1) IS NOT NULL AS present",
          values: [q(object.name)],
        })
      : await queryPostgres<{ present: boolean }>(client, {
          text: "SELECT EXISTS (SELECT 1 FROM pg_constraint WHERE conrelid = to_regclass($1) AND conname = $2) AS present",
          values: [q(table), object.name],
        });
  return result.rows[0].present;
}

/** The source holds rows a deferred unique constraint refuses; `copyAgain`: the tables to redo. */
export class DuplicateInSourceError extends PostgresTargetError {
  constructor(
    readonly copyAgain: readonly string[],
    message: string,
    options: { cause: unknown },
  ) {
    super("mismatch", message, options);
  }
}

/** The migrated tables with a foreign key to `table`, and theirs, transitively. */
function referringTables(table: string): string[] {
  const found: string[] = [];
  const visit = (parent: string) => {
    for (const t of migrationTables()) {
      if (found.includes(t.name) || t.name === table) continue;
      if (t.columns.some((c) => c.references?.table === parent)) {
        found.push(t.name);
        visit(t.name);
      }
    }
  };
  visit(table);
  return found;
}

/**
 * A unique constraint in its plain form, `UNIQUE [NULLS NOT DISTINCT] (columns)`, as the unique
 * index Postgres would build for it: built by CREATE UNIQUE INDEX, which takes a SHARE lock, then
 * attached (`ADD CONSTRAINT … USING INDEX`, a catalog change). ADD CONSTRAINT UNIQUE itself takes
 * an ACCESS EXCLUSIVE lock for the whole build, which would hold the table's other builds back.
 */
function uniqueIndexSql(table: string, object: DeferredObject): string | undefined {
  const plain = /^UNIQUE (NULLS NOT DISTINCT )?(\([^()]*\))$/.exec(object.definition);
  if (!plain) return undefined;
  const nulls = plain[1] ? " NULLS NOT DISTINCT" : "";
  return `CREATE UNIQUE INDEX ${q(object.name)} ON ${q(table)} ${plain[2]}${nulls}`;
}

/** Connections that build one table's indexes at once (the first is the bulk load's own). */
const MAX_PARALLEL_BUILDS = 3;

/**
 * Builds an index, or a unique constraint's index (attached to its constraint afterwards, see
 * `uniqueIndexSql`; a unique constraint of another form is added whole). A duplicate the copy let
 * in (the source holds it; the constraint was deferred) marks the table to be copied again, with
 * those of `state`'s tables that refer to it, and stops the run.
 */
async function buildIndex(
  client: Client,
  table: string,
  object: DeferredObject,
  state: MigrationState,
): Promise<void> {
  try {
    if (object.kind === "index") {
      await queryPostgres(client, object.definition);
      return;
    }
    const index = uniqueIndexSql(table, object);
    if (index === undefined) {
      await queryPostgres(
        client,
        `ALTER TABLE ${q(table)} ADD CONSTRAINT ${q(object.name)} ${object.definition}`,
      );
      return;
    }
    // A run killed between the build and the attach left the index without its constraint.
    await queryPostgres(client, `DROP INDEX IF EXISTS ${q(object.name)}`);
    await queryPostgres(client, index);
  } catch (error) {
    const e = (error as { cause?: { code?: string; detail?: string } }).cause ?? {};
    const cause = error as { code?: string; detail?: string };
    const code = cause.code ?? e.code;
    if (code !== "23505") throw error;
    // The tables that refer to it are copied meanwhile, against its rows as they are now: a fix
    // in the source (two users merged) changes their rows too, so they are copied again.
    const again = [table, ...referringTables(table).filter((t) => state.tables[t])];
    throw new DuplicateInSourceError(
      again,
      `${table}: the source holds rows that break ${object.name} (${cause.detail ?? e.detail ?? "a duplicated value"}); ` +
        `fix them in the source, then resume: ${again.join(", ")} ${again.length > 1 ? "are" : "is"} copied again and ${object.name} built`,
      { cause: error },
    );
  }
}

/** The auth tables' deferred indexes and foreign keys over one run (see the module header). */
export class PostgresBulkLoad {
  private readonly restoring = new Map<string, Promise<void>>();
  /** The last restore started: restores run one after another on the one client. */
  private lastRestore: Promise<void> = Promise.resolve();

  /** More connections for the builds of one table, which run side by side; opened on first use. */
  private readonly builders: Promise<Client>[] = [];

  private constructor(
    private readonly client: Client,
    private readonly postgresUrl: string,
    private readonly state: MigrationState,
    private readonly save: () => void,
    private readonly log: (line: string) => void,
  ) {}

  /**
   * Restores what an earlier run (killed in between) left deferred on tables with progress, then
   * defers the indexes and foreign keys of every auth table this run loads from empty.
   */
  static async start(options: {
    readonly postgresUrl: string;
    readonly tables: readonly MigrationTable[];
    readonly state: MigrationState;
    readonly save: () => void;
    readonly log: (line: string) => void;
  }): Promise<PostgresBulkLoad> {
    const client = await connectPostgres(options.postgresUrl);
    const bulk = new PostgresBulkLoad(
      client,
      options.postgresUrl,
      options.state,
      options.save,
      options.log,
    );
    try {
      for (const table of options.tables) {
        if (table.target !== "postgres") continue;
        const tableState = options.state.tables[table.name];
        if (tableState.done) await bulk.restore(table.name);
        else if (!tableState.deferred) await bulk.defer(table.name, tableState);
      }
    } catch (error) {
      // Its build connections too: an open socket would keep the process from exiting.
      await bulk.close();
      throw error;
    }
    return bulk;
  }

  private async defer(table: string, tableState: TableState): Promise<void> {
    if (tableState.lastKey !== undefined || !(await isEmpty(this.client, table))) return;
    const objects = await deferrableObjects(this.client, table);
    if (objects.length === 0) return;
    // Recorded first: a run killed right after the drop still knows what to build again.
    tableState.deferred = objects;
    this.save();
    await queryPostgres(this.client, "BEGIN");
    try {
      for (const object of objects) {
        await queryPostgres(
          this.client,
          object.kind === "index"
            ? `DROP INDEX ${q(object.name)}`
            : `ALTER TABLE ${q(table)} DROP CONSTRAINT ${q(object.name)}`,
        );
      }
      await queryPostgres(this.client, "COMMIT");
    } catch (error) {
      await this.client.query("ROLLBACK").catch(() => undefined);
      throw error;
    }
    this.log(
      `${table}: ${objects.map((o) => o.name).join(", ")} deferred until the table is loaded`,
    );
  }

  /**
   * Builds again what is deferred on `table` (a no-op when nothing is); concurrent calls for one
   * table share one restore.
   */
  restore(table: string): Promise<void> {
    let restoring = this.restoring.get(table);
    if (!restoring) {
      restoring = this.lastRestore.catch(() => undefined).then(() => this.restoreNow(table));
      this.lastRestore = restoring;
      this.restoring.set(table, restoring);
      restoring.catch(() => undefined);
    }
    return restoring;
  }

  private async restoreNow(table: string): Promise<void> {
    const deferred = this.state.tables[table]?.deferred;
    if (!deferred) return;
    const started = Date.now();
    // The indexes (a unique constraint's too) side by side, each on its own connection (each holds
    // a SHARE lock, which does not block the others), as pg_restore --jobs and pgloader build
    // them; then the unique constraints attached to theirs and the foreign keys, whose locks
    // would wait for the builds anyway and, waiting, hold back every later lock on the table.
    const missing: DeferredObject[] = [];
    for (const object of deferred) {
      if (object.kind !== "foreign-key" && !(await exists(this.client, table, object))) {
        missing.push(object);
      }
    }
    let next = 0;
    const builders = Array.from(
      { length: Math.min(missing.length, MAX_PARALLEL_BUILDS) },
      async (_, index) => {
        const client = index === 0 ? this.client : await this.builder(index - 1);
        while (next < missing.length) await buildIndex(client, table, missing[next++], this.state);
      },
    );
    const built = await Promise.allSettled(builders);
    const failed = built.find((b): b is PromiseRejectedResult => b.status === "rejected");
    if (failed) throw failed.reason;
    for (const object of missing) {
      if (object.kind === "unique" && uniqueIndexSql(table, object) !== undefined) {
        await queryPostgres(
          this.client,
          `ALTER TABLE ${q(table)} ADD CONSTRAINT ${q(object.name)} UNIQUE USING INDEX ${q(object.name)}`,
        );
      }
    }
    for (const object of deferred) {
      if (object.kind !== "foreign-key" || (await exists(this.client, table, object))) continue;
      await queryPostgres(
        this.client,
        `ALTER TABLE ${q(table)} ADD CONSTRAINT ${q(object.name)} ${object.definition} NOT VALID`,
      );
      try {
        await queryPostgres(
          this.client,
          `ALTER TABLE ${q(table)} VALIDATE CONSTRAINT ${q(object.name)}`,
        );
      } catch (error) {
        const e = error as { code?: string; message?: string };
        if (e.code !== "23503") throw error;
        throw new PostgresTargetError(
          "mismatch",
          `${table}: foreign key ${object.name} does not hold for the copied rows (${e.message}); it is in place NOT VALID, find the rows with a query on its columns`,
          { cause: error },
        );
      }
    }
    delete this.state.tables[table].deferred;
    this.save();
    this.log(
      `${table}: ${deferred.map((o) => o.name).join(", ")} built (${((Date.now() - started) / 1000).toFixed(1)} s)`,
    );
  }

  /** The `index`th extra connection for builds (see `restoreNow`). */
  private builder(index: number): Promise<Client> {
    this.builders[index] ??= connectPostgres(this.postgresUrl);
    return this.builders[index];
  }

  /**
   * Restores every table's deferred objects: the end of a run, whether it finished or stopped.
   * Called once no lane runs, so a duplicate's tables can be marked to be copied again here.
   */
  async restoreAll(): Promise<void> {
    const tables = Object.keys(this.state.tables).filter((t) => this.state.tables[t].deferred);
    const results = await Promise.allSettled(tables.map((t) => this.restore(t)));
    const failures = results.flatMap((r) => (r.status === "rejected" ? [r.reason as unknown] : []));
    for (const failure of failures) {
      if (!(failure instanceof DuplicateInSourceError)) continue;
      for (const name of failure.copyAgain) {
        // In place: the scheduler's report of the run holds this object.
        const tableState: Partial<TableState> = this.state.tables[name];
        const deferred = tableState.deferred;
        for (const key of Object.keys(tableState) as (keyof TableState)[]) delete tableState[key];
        Object.assign(tableState, emptyTableState(), deferred ? { deferred } : {});
      }
      this.save();
    }
    if (failures.length > 0) throw failures[0];
  }

  async close(): Promise<void> {
    const builders = await Promise.allSettled(this.builders);
    for (const b of builders)
      if (b.status === "fulfilled") await b.value.end().catch(() => undefined);
    await this.client.end().catch(() => undefined);
  }
}
