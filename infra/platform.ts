/**
 * Wiring: builds a stack's resources from the validated config and returns its outputs
 * (DESIGN §5). Creates nothing at import time, so a test or the offline plan can call
 * `createPlatform` once per stack in one process.
 */
import * as pulumi from "@pulumi/pulumi";
import { analyticsTableList } from "../schema/analytics";
import { analyticsViewOrder, analyticsViews, renderViewSql } from "../schema/views";
import { Warehouse, type WarehouseView } from "./bigquery";
import type { PlatformConfig } from "./config";
import { ServiceAccounts } from "./identity";
import { GcpProject } from "./project";

/**
 * What the dev stack exports for `pr-<n>` stacks, which reuse its Postgres server and Redis
 * through a StackReference (secrets stay secrets across the reference). Wired once the hosting
 * modules exist: the dev stack exports these, a PR stack reads them instead of creating servers.
 */
export const DEV_STACK_EXPORTS = {
  postgresAdminHost: "postgresAdminHost",
  postgresAdminPort: "postgresAdminPort",
  postgresAdminUser: "postgresAdminUser",
  /** Secret. */
  postgresAdminPassword: "postgresAdminPassword",
  postgresAppHost: "postgresAppHost",
  postgresAppPort: "postgresAppPort",
  /** Secret (DESIGN §5's `redisUrl`). */
  redisUrl: "redisUrl",
} as const;

export interface PlatformOutputs {
  readonly bigqueryProjectId: pulumi.Output<string>;
  readonly bigqueryDataset: pulumi.Output<string>;
  readonly bigqueryLocation: pulumi.Output<string>;
  readonly apiServiceAccountEmail: pulumi.Output<string>;
  readonly workersServiceAccountEmail: pulumi.Output<string>;
}

/** The views in creation order, rendered for the stack's project and dataset. */
export function warehouseViews(projectId: string, datasetId: string): WarehouseView[] {
  return analyticsViewOrder().map((name) => ({
    name,
    description: analyticsViews[name].description,
    query: renderViewSql(name, { project: projectId, dataset: datasetId }),
    dependsOn: analyticsViews[name].dependsOn,
  }));
}

export function createPlatform(cfg: PlatformConfig): PlatformOutputs {
  const { environment } = cfg;
  if (environment.kind === "local") {
    throw new Error(
      "the local environment has no cloud resources: run `synter-infra local` instead of a Pulumi stack",
    );
  }

  const project = new GcpProject("gcp", {
    projectId: cfg.gcp.projectId,
    ...(cfg.gcp.createProject && { create: cfg.gcp.createProject }),
    labels: cfg.labels,
    protect: cfg.protect,
  });

  const warehouse = new Warehouse("warehouse", {
    projectId: project.projectId,
    datasetId: cfg.bigquery.datasetId,
    location: cfg.bigquery.location,
    description: cfg.bigquery.description,
    labels: cfg.labels,
    ...(cfg.bigquery.defaultTableExpirationDays !== undefined && {
      defaultTableExpirationDays: cfg.bigquery.defaultTableExpirationDays,
    }),
    tables: analyticsTableList,
    views: warehouseViews(cfg.gcp.projectId, cfg.bigquery.datasetId),
    requirePartitionFilter: cfg.bigquery.requirePartitionFilter,
    protect: cfg.protect,
    apiDependencies: [project.api("bigquery")],
  });

  const identities = new ServiceAccounts("identity", {
    projectId: project.projectId,
    datasetId: warehouse.datasetId,
    accountIdSuffix: environment.kind === "pr" ? `-pr-${environment.prNumber}` : "",
    iamApi: project.api("iam"),
    projectIamApi: project.api("cloudresourcemanager"),
    bigqueryApi: project.api("bigquery"),
  });

  if (environment.kind === "pr" && cfg.devStack !== undefined) {
    // The PR stack's Postgres database and Redis come from the dev stack's servers
    // (DEV_STACK_EXPORTS); the reference is created here so the plan shows the dependency.
    new pulumi.StackReference("dev-stack", { name: cfg.devStack });
  }

  return {
    bigqueryProjectId: project.projectId,
    bigqueryDataset: warehouse.datasetId,
    bigqueryLocation: warehouse.location,
    apiServiceAccountEmail: identities.emails.api,
    workersServiceAccountEmail: identities.emails.workers,
  };
}
