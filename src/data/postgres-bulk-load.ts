/**
 * Loading an empty Postgres table the way Postgres's own guide to populating a database says to
 * ("Remove Indexes", "Remove Foreign Key Constraints", postgresql.org/docs/15/populate.html; it is
 * also what pg_restore does): the table's secondary indexes and foreign keys are dropped before
 * its first range and built again once its last range is in. A btree built once from sorted input
 * and one validating scan per foreign key cost a fraction of maintaining each index and firing the
 * foreign key's trigger for every copied row. Primary keys and unique constraints stay: the copy's
 * idempotent redo and its duplicate detection rest on them.
 *
 * Nothing is lost if the run dies in between: each dropped object's exact definition
 * (`pg_get_indexdef`, `pg_get_constraintdef`) is in the state file before the drop commits, and a
 * run restores whatever is recorded there — after the table's last range, when the run stops for
 * any reason, and at the start of a `--resume` after a `kill -9`. A foreign key comes back
 * `NOT VALID` and is then validated, so a row the copy should not have written (it rejects children
 * of rejected or missing parents itself) fails the run on one line instead of staying unchecked.
 */
import type { Client } from "pg";
import type { DeferredObject, MigrationState, TableState } from "./checkpoint";
import { connectPostgres, PostgresTargetError, queryPostgres } from "./postgres-sink";
import type { MigrationTable } from "./table-plan";

const q = (name: string) => `"${name.replace(/"/g, '""')}"`;

/** The table's secondary (non-unique) indexes and its own foreign keys, as Postgres defines them. */
async function deferrableObjects(client: Client, table: string): Promise<DeferredObject[]> {
  const indexes = await queryPostgres<{ name: string; definition: string }>(client, {
    text:
      "SELECT c.relname AS name, pg_get_indexdef(i.indexrelid) AS definition FROM pg_index i " +
      "JOIN pg_class c ON c.oid = i.indexrelid " +
      "WHERE i.indrelid = to_regclass($1) AND NOT i.indisunique AND NOT i.indisprimary " +
      "AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid) ORDER BY c.relname",
    values: [q(table)],
  });
  const foreignKeys = await queryPostgres<{ name: string; definition: string }>(client, {
    text:
      "SELECT conname AS name, pg_get_constraintdef(oid) AS definition FROM pg_constraint " +
      "WHERE conrelid = to_regclass($1) AND contype = 'f' ORDER BY conname",
    values: [q(table)],
  });
  return [
    ...indexes.rows.map((r) => ({ kind: "index" as const, ...r })),
    ...foreignKeys.rows.map((r) => ({ kind: "foreign-key" as const, ...r })),
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

/** The auth tables' deferred indexes and foreign keys over one run (see the module header). */
export class PostgresBulkLoad {
  private readonly restoring = new Map<string, Promise<void>>();

  private constructor(
    private readonly client: Client,
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
    const bulk = new PostgresBulkLoad(client, options.state, options.save, options.log);
    try {
      for (const table of options.tables) {
        if (table.target !== "postgres") continue;
        const tableState = options.state.tables[table.name];
        if (tableState.done) await bulk.restore(table.name);
        else if (!tableState.deferred) await bulk.defer(table.name, tableState);
      }
    } catch (error) {
      await client.end().catch(() => undefined);
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
      restoring = this.restoreNow(table);
      this.restoring.set(table, restoring);
      restoring.catch(() => undefined);
    }
    return restoring;
  }

  private async restoreNow(table: string): Promise<void> {
    const deferred = this.state.tables[table]?.deferred;
    if (!deferred) return;
    const started = Date.now();
    for (const object of deferred) {
      if (await exists(this.client, table, object)) continue;
      if (object.kind === "index") {
        await queryPostgres(this.client, object.definition);
        continue;
      }
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

  /** Restores every table's deferred objects: the end of a run, whether it finished or stopped. */
  async restoreAll(): Promise<void> {
    const tables = Object.keys(this.state.tables).filter((t) => this.state.tables[t].deferred);
    const results = await Promise.allSettled(tables.map((t) => this.restore(t)));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
    if (failed) throw failed.reason;
  }

  async close(): Promise<void> {
    await this.client.end().catch(() => undefined);
  }
}
