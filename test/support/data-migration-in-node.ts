/**
 * `migrate()` in a real-Node worker thread (`real-node.ts`). A segmented table's BigQuery load runs
 * on migrate's own thread, and Google's clients need Node's module loader, not Jest's.
 */
import { migrate, type MigrateOptions, type MigrateResult } from "../../src/data/data-migration";
import { selectTables } from "../../src/data/table-plan";
import { callInNode } from "./real-node";

/** The options that cross into the worker thread: plain data, tables by name, no log. */
export type PlainMigrateOptions = Omit<MigrateOptions, "log" | "tables" | "onRange" | "signal"> & {
  readonly tables: readonly string[];
};

/** Runs in the worker. */
export function runMigrate(options: PlainMigrateOptions): Promise<MigrateResult> {
  return migrate({ ...options, tables: selectTables([...options.tables]), log: () => undefined });
}

export function migrateInNode(options: PlainMigrateOptions): Promise<MigrateResult> {
  return callInNode(__filename, "runMigrate", [options]);
}
