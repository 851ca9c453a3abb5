/**
 * Steps run on one `BigQueryWarehouse` in a real-Node worker thread (`real-node.ts`): one
 * warehouse, so one set of clients and tokens across the steps, as in a migration's lane.
 */
import {
  BigQueryWarehouse,
  type BigQueryWarehouseOptions,
} from "../../src/data/bigquery-warehouse";
import type { Checksum, KeyRange } from "../../src/data/checksum";
import { selectTables } from "../../src/data/table-plan";
import { callInNode } from "./real-node";

export type WarehouseStep =
  | {
      readonly load: {
        readonly table: string;
        readonly dir: string;
        readonly files: readonly string[];
        readonly partition?: string;
      };
    }
  | { readonly checksum: { readonly table: string; readonly range: KeyRange } };

export type StepResult =
  | { readonly jobId: string }
  | { readonly checksum: Checksum }
  | { readonly error: { readonly name: string; readonly kind?: string; readonly message: string } };

/** Runs in the worker: every step, in order; a failing step's error is its result. */
export async function runWarehouseSteps(
  options: BigQueryWarehouseOptions,
  steps: readonly WarehouseStep[],
): Promise<StepResult[]> {
  const warehouse = new BigQueryWarehouse(options);
  const results: StepResult[] = [];
  for (const step of steps) {
    try {
      if ("load" in step) {
        const { table, dir, files, partition } = step.load;
        results.push({
          jobId: await warehouse.loadTable(selectTables([table])[0], dir, files, partition),
        });
      } else {
        const { table, range } = step.checksum;
        results.push({ checksum: await warehouse.checksum(selectTables([table])[0])(range) });
      }
    } catch (error) {
      const e = error as { name?: string; kind?: string; message?: string };
      results.push({ error: { name: e.name ?? "Error", kind: e.kind, message: e.message ?? "" } });
    }
  }
  return results;
}

/** From a test: the steps on one warehouse, in a real-Node worker thread. */
export function warehouseSteps(
  options: BigQueryWarehouseOptions,
  steps: readonly WarehouseStep[],
  env?: NodeJS.ProcessEnv,
): Promise<StepResult[]> {
  return callInNode(__filename, "runWarehouseSteps", [options, steps], env);
}
