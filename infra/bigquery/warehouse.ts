/**
 * The analytics warehouse: one BigQuery dataset, the tables of `schema/analytics.ts` and the views
 * of `schema/views/`. Tables and views are keyed by their id, never by position, so adding one
 * never renames another.
 *
 * Why the settings are as they are (DESIGN §7):
 * - The provider replaces a table (deleting its data) on a type change, a new REQUIRED column or
 *   a new partitioning field: protected stacks carry Pulumi `protect` and `deletionProtection`.
 * - `useLegacySql` unset means legacy SQL, so every view sets it to `false`.
 * - The dataset's inline `accesses` are never set: IAM is granted with additive members
 *   (infra/identity), and mixing the two makes them fight.
 * - Nothing Pulumi manages expires: no dataset default table (or partition) expiration. BigQuery
 *   stamps a dataset's default on each table it creates and later deletes the table while the
 *   state still lists it; no update recreates it. A PR stack's tables go with its destroy.
 */
import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";
import type { BigQueryTable } from "../../schema/dsl/bigquery";
import { bigQuerySchemaJson } from "../../schema/generate/bigquery-schema";

export interface WarehouseView {
  readonly name: string;
  readonly description: string;
  /** Rendered BigQuery standard SQL with fully qualified table references. */
  readonly query: string;
  /** Tables and views the view reads; each must be in the warehouse. */
  readonly dependsOn: readonly string[];
}

export interface WarehouseArgs {
  /** The project, as an output so that a created project is waited for. */
  readonly projectId: pulumi.Input<string>;
  readonly datasetId: string;
  /** `US`, `EU` or a region. */
  readonly location: string;
  readonly description: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly tables: readonly BigQueryTable[];
  /** In creation order: a view after every view it reads. */
  readonly views: readonly WarehouseView[];
  /** Table ids whose queries must filter on the partition column. Default none. */
  readonly requirePartitionFilter?: readonly string[];
  /** Staging/prod: Pulumi `protect` and BigQuery deletion protection. Dev/PR: destroyable. */
  readonly protect: boolean;
  /** The BigQuery API service (and anything else every BigQuery resource must wait for). */
  readonly apiDependencies: readonly pulumi.Resource[];
}

/** Every problem of the arguments, collected, so a broken schema or config is reported whole. */
export function validateWarehouseArgs(args: WarehouseArgs): string[] {
  const problems: string[] = [];
  if (!/^[A-Za-z0-9_]{1,1024}$/.test(args.datasetId)) {
    problems.push(`dataset id "${args.datasetId}" must be letters, digits and underscores`);
  }
  const ids = new Set<string>();
  for (const id of [...args.tables.map((t) => t.name), ...args.views.map((v) => v.name)]) {
    if (ids.has(id))
      problems.push(`"${id}" is defined twice (tables and views share one namespace)`);
    ids.add(id);
  }
  const tableIds = new Set(args.tables.map((t) => t.name));
  const filtered = new Set(args.requirePartitionFilter ?? []);
  for (const id of filtered) {
    if (!tableIds.has(id)) problems.push(`requirePartitionFilter names unknown table ${id}`);
  }
  const created = new Set<string>(tableIds);
  for (const view of args.views) {
    if (!/\S/.test(view.query)) problems.push(`view ${view.name} has no SQL`);
    for (const dependency of view.dependsOn) {
      if (!ids.has(dependency)) {
        problems.push(`view ${view.name} reads ${dependency}, which is neither a table nor a view`);
      } else if (!created.has(dependency)) {
        problems.push(`view ${view.name} reads view ${dependency}, which comes later`);
      }
      // A view cannot carry a partition filter for its callers: every query through it would fail.
      if (filtered.has(dependency)) {
        problems.push(
          `view ${view.name} reads ${dependency}, which requires a partition filter the view does not apply`,
        );
      }
    }
    created.add(view.name);
  }
  return problems;
}

export class Warehouse extends pulumi.ComponentResource {
  readonly dataset: gcp.bigquery.Dataset;
  /** Keyed by table id. */
  readonly tables: Readonly<Record<string, gcp.bigquery.Table>>;
  /** Keyed by view name. */
  readonly views: Readonly<Record<string, gcp.bigquery.Table>>;
  readonly datasetId: pulumi.Output<string>;
  readonly location: pulumi.Output<string>;

  constructor(name: string, args: WarehouseArgs, opts?: pulumi.ComponentResourceOptions) {
    super("synter:bigquery:Warehouse", name, {}, opts);
    const problems = validateWarehouseArgs(args);
    if (problems.length > 0) {
      throw new pulumi.ResourceError(
        `invalid warehouse ${name}:\n  - ${problems.join("\n  - ")}`,
        this,
      );
    }
    const protect = args.protect;
    const labels = { ...args.labels };
    const childOptions = (dependsOn: readonly pulumi.Resource[]): pulumi.CustomResourceOptions => ({
      parent: this,
      protect,
      dependsOn: [...args.apiDependencies, ...dependsOn],
    });

    this.dataset = new gcp.bigquery.Dataset(
      `${name}-dataset`,
      {
        project: args.projectId,
        datasetId: args.datasetId,
        location: args.location,
        description: args.description,
        labels,
        // Only a destroyable stack may drop a dataset that still holds tables.
        deleteContentsOnDestroy: !protect,
      },
      childOptions([]),
    );

    const filtered = new Set(args.requirePartitionFilter ?? []);
    const tables: Record<string, gcp.bigquery.Table> = {};
    for (const table of args.tables) {
      tables[table.name] = new gcp.bigquery.Table(
        `${name}-${table.name}`,
        {
          project: args.projectId,
          datasetId: this.dataset.datasetId,
          tableId: table.name,
          description: table.options.description,
          labels,
          schema: bigQuerySchemaJson(table),
          timePartitioning: { type: "DAY", field: table.options.partitionBy },
          clusterings: [...table.options.clusterBy],
          // Top-level since provider v6; the field inside timePartitioning is deprecated.
          requirePartitionFilter: filtered.has(table.name),
          // The provider defaults to true: set it either way so dev and PR stacks can be destroyed.
          deletionProtection: protect,
        },
        childOptions([]),
      );
    }
    this.tables = tables;

    const readable: Record<string, gcp.bigquery.Table> = { ...tables };
    const views: Record<string, gcp.bigquery.Table> = {};
    for (const view of args.views) {
      views[view.name] = new gcp.bigquery.Table(
        `${name}-${view.name}`,
        {
          project: args.projectId,
          datasetId: this.dataset.datasetId,
          tableId: view.name,
          description: view.description,
          labels,
          view: { query: view.query, useLegacySql: false },
          deletionProtection: protect,
        },
        childOptions(view.dependsOn.map((dependency) => readable[dependency])),
      );
      readable[view.name] = views[view.name];
    }
    this.views = views;

    this.datasetId = this.dataset.datasetId;
    this.location = pulumi.output(args.location);
    this.registerOutputs({ datasetId: this.datasetId, location: this.location });
  }
}
