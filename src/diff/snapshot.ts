/**
 * Everything `diff` compares, read from one checkout: the offline plan of a stack and the BigQuery
 * tables and views of `schema/`. Runs in its own process per checkout (see snapshot-entry.ts)
 * because the Pulumi runtime and the loaded `schema/` modules are process-global.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { buildPlan } from "../plan/mock-program";
import type { Plan } from "../plan/resource-graph";
import {
  tableSpecFromSchema,
  type KeyedTableSpec,
  type SchemaModuleTable,
  type ViewSpec,
} from "./table-specs";

export interface CheckoutSnapshot {
  readonly plan: Plan | null;
  /** Why there is no plan (no program at this ref, a failing program…). */
  readonly planError: string | null;
  readonly schemaTables: readonly KeyedTableSpec[];
  readonly schemaViews: readonly ViewSpec[];
  readonly schemaError: string | null;
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function readSchemaTables(projectDir: string): KeyedTableSpec[] {
  const candidates = ["schema/analytics.ts", "schema/analytics.js"].map((p) =>
    path.join(projectDir, p),
  );
  const file = candidates.find((c) => fs.existsSync(c));
  if (!file) return [];
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const mod = require(file) as {
    analyticsTableList?: readonly SchemaModuleTable[];
    analyticsTables?: Record<string, SchemaModuleTable>;
  };
  const tables = mod.analyticsTableList ?? Object.values(mod.analyticsTables ?? {});
  return tables
    .map((table) => ({ key: table.name, spec: tableSpecFromSchema(table) }))
    .sort((a, b) => a.key.localeCompare(b.key));
}

function readSchemaViews(projectDir: string): ViewSpec[] {
  const dir = path.join(projectDir, "schema/views");
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith(".sql"))
    .sort()
    .map((f) => ({
      key: f.replace(/\.sql$/, ""),
      sql: fs.readFileSync(path.join(dir, f), "utf8"),
    }));
}

export async function takeSnapshot(projectDir: string, stack: string): Promise<CheckoutSnapshot> {
  let plan: Plan | null = null;
  let planError: string | null = null;
  try {
    plan = await buildPlan({ projectDir, stack });
  } catch (error) {
    planError = message(error);
  }
  let schemaTables: KeyedTableSpec[] = [];
  let schemaViews: ViewSpec[] = [];
  let schemaError: string | null = null;
  try {
    schemaTables = readSchemaTables(projectDir);
    schemaViews = readSchemaViews(projectDir);
  } catch (error) {
    schemaError = message(error);
  }
  return { plan, planError, schemaTables, schemaViews, schemaError };
}
