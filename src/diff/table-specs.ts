/**
 * Normalizes BigQuery table definitions from the two places they can be read — the offline plan
 * (`gcp:bigquery/table:Table` inputs, exactly what the provider receives) and `schema/` itself
 * (when a ref has no Pulumi program yet) — into the one shape the change rules compare.
 */
import type { PlannedResource } from "../plan/resource-graph";
import type { JsonValue } from "../plan/stable-json";
import type { BigQueryFieldSpec, BigQueryTableSpec } from "./bigquery-change-rules";

export const BIGQUERY_TABLE_TYPE = "gcp:bigquery/table:Table";

export interface ViewSpec {
  /** `dataset.view` from a plan, or the view name from `schema/views/<name>.sql`. */
  readonly key: string;
  readonly sql: string;
}

export interface KeyedTableSpec {
  readonly key: string;
  readonly spec: BigQueryTableSpec;
}

type JsonRecord = { readonly [key: string]: JsonValue };

function record(value: JsonValue | undefined): JsonRecord | null {
  return value !== null && typeof value === "object" && !Array.isArray(value) ? value : null;
}

function str(value: JsonValue | undefined): string | null {
  return typeof value === "string" ? value : null;
}

function num(value: JsonValue | undefined): number | null {
  if (typeof value === "number") return value;
  if (typeof value === "string" && /^-?\d+$/.test(value)) return Number(value);
  return null;
}

function parseFields(value: unknown): BigQueryFieldSpec[] {
  if (!Array.isArray(value)) return [];
  return value
    .filter((f): f is Record<string, unknown> => f !== null && typeof f === "object")
    .map((f) => ({
      name: String(f.name),
      type: String(f.type ?? ""),
      ...(typeof f.mode === "string" ? { mode: f.mode } : {}),
      ...(typeof f.description === "string" ? { description: f.description } : {}),
      ...(Array.isArray(f.fields) ? { fields: parseFields(f.fields) } : {}),
    }));
}

function isView(inputs: JsonRecord): boolean {
  return record(inputs.view) !== null || record(inputs.materializedView) !== null;
}

export function tableSpecFromPlanInputs(inputs: JsonRecord): BigQueryTableSpec {
  let fields: BigQueryFieldSpec[] = [];
  const schema = str(inputs.schema);
  if (schema !== null) {
    try {
      fields = parseFields(JSON.parse(schema));
    } catch {
      fields = [];
    }
  }
  const tp = record(inputs.timePartitioning);
  const labels: Record<string, string> = {};
  for (const [k, v] of Object.entries(record(inputs.labels) ?? {})) labels[k] = String(v);
  const clustering = Array.isArray(inputs.clusterings) ? inputs.clusterings.map(String) : [];
  return {
    tableId: str(inputs.tableId) ?? "",
    fields,
    timePartitioning: tp
      ? { type: str(tp.type) ?? "DAY", field: str(tp.field), expirationMs: num(tp.expirationMs) }
      : null,
    rangePartitioningField: str(record(inputs.rangePartitioning)?.field),
    requirePartitionFilter:
      inputs.requirePartitionFilter === true || tp?.requirePartitionFilter === true,
    clustering,
    description: str(inputs.description),
    labels,
    friendlyName: str(inputs.friendlyName),
    expirationTime: num(inputs.expirationTime),
    deletionProtection:
      typeof inputs.deletionProtection === "boolean" ? inputs.deletionProtection : null,
    kmsKeyName: str(record(inputs.encryptionConfiguration)?.kmsKeyName),
  };
}

function planKey(inputs: JsonRecord): string {
  const dataset = str(inputs.datasetId);
  const table = str(inputs.tableId) ?? "";
  return dataset ? `${dataset}.${table}` : table;
}

export function tablesFromPlan(resources: readonly PlannedResource[]): KeyedTableSpec[] {
  return resources
    .filter((r) => r.type === BIGQUERY_TABLE_TYPE && !isView(r.inputs))
    .map((r) => ({ key: planKey(r.inputs), spec: tableSpecFromPlanInputs(r.inputs) }))
    .sort((a, b) => a.key.localeCompare(b.key));
}

export function viewsFromPlan(resources: readonly PlannedResource[]): ViewSpec[] {
  return resources
    .filter((r) => r.type === BIGQUERY_TABLE_TYPE && isView(r.inputs))
    .map((r) => {
      const view = record(r.inputs.view) ?? record(r.inputs.materializedView);
      return { key: planKey(r.inputs), sql: str(view?.query) ?? "" };
    })
    .sort((a, b) => a.key.localeCompare(b.key));
}

/** The subset of a `schema/` BigQuery table the snapshot reads; kept structural on purpose. */
export interface SchemaModuleTable {
  readonly name: string;
  readonly columns: Readonly<
    Record<
      string,
      {
        readonly spec: {
          readonly type: string;
          readonly mode: string;
          readonly description: string;
        };
      }
    >
  >;
  readonly options: {
    readonly description?: string;
    readonly partitionBy?: string;
    readonly clusterBy?: readonly string[];
  };
}

export function tableSpecFromSchema(table: SchemaModuleTable): BigQueryTableSpec {
  return {
    tableId: table.name,
    fields: Object.entries(table.columns).map(([name, column]) => ({
      name,
      type: column.spec.type,
      mode: column.spec.mode,
      description: column.spec.description,
    })),
    timePartitioning: table.options.partitionBy
      ? { type: "DAY", field: table.options.partitionBy, expirationMs: null }
      : null,
    rangePartitioningField: null,
    requirePartitionFilter: false,
    clustering: [...(table.options.clusterBy ?? [])],
    description: table.options.description ?? null,
    labels: {},
    friendlyName: null,
    expirationTime: null,
    deletionProtection: null,
    kmsKeyName: null,
  };
}
