/**
 * Wiring: builds a stack's resources from the validated config and returns its outputs
 * (DESIGN §5). Creates nothing at import time, so a test or the offline plan can call
 * `createPlatform` once per stack in one process.
 */
import * as pulumi from "@pulumi/pulumi";
import { analyticsTableList } from "../schema/analytics";
import { prAuthDatabaseName } from "../schema/roles";
import { analyticsViewOrder, analyticsViews, renderViewSql } from "../schema/views";
import { createAppCredentials, createAppWiring } from "./app";
import { Warehouse, type WarehouseView } from "./bigquery";
import { configKeyName, type PlatformConfig } from "./config";
import { createHosting, type HostingEnvironment } from "./hosting";
import { devStackServerExports, serversFromDevStack } from "./hosting/dev-stack";
import { ServiceAccounts } from "./identity";
import { SchemaMigrations } from "./migrations/schema-migrations";
import { AuthDatabase } from "./postgres";
import { GcpProject } from "./project";

export { DEV_STACK_EXPORTS } from "./hosting/dev-stack";

export interface PlatformOutputs {
  readonly bigqueryProjectId: pulumi.Output<string>;
  readonly bigqueryDataset: pulumi.Output<string>;
  readonly bigqueryLocation: pulumi.Output<string>;
  readonly apiServiceAccountEmail: pulumi.Output<string>;
  readonly workersServiceAccountEmail: pulumi.Output<string>;
  /** The app role's connection URL. Secret. */
  readonly postgresUrl: pulumi.Output<string>;
  /** Secret. */
  readonly redisUrl: pulumi.Output<string>;
  /** The environment the API and workers read (DESIGN §5). Secret. */
  readonly appEnv: pulumi.Output<Record<string, string>>;
  /** Dev only: the servers `pr-<n>` stacks reuse (DEV_STACK_EXPORTS). */
  readonly devStackExports?: Record<string, pulumi.Output<unknown>>;
}

export interface PlatformOptions {
  /** Clock for key rotation; the offline plan pins it so its output is reproducible. */
  readonly now?: Date;
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

/** A PR stack's servers: the dev stack's, through a StackReference (DESIGN §3). */
function devStackServers(cfg: PlatformConfig): ReturnType<typeof serversFromDevStack> {
  const dev = cfg.devStack;
  if (dev === undefined) {
    throw new Error(`stack ${cfg.environment.stack} is a pr stack without devStack settings`);
  }
  return serversFromDevStack(
    new pulumi.StackReference("dev-stack", { name: dev.name }),
    dev,
    configKeyName(["devStackPostgresSslMode"]),
  );
}

export function createPlatform(
  cfg: PlatformConfig,
  options: PlatformOptions = {},
): PlatformOutputs {
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

  const kind = environment.kind;
  const hostingEnv: HostingEnvironment = {
    stack: environment.stack,
    // The output, not the configured id: Cloud SQL and Memorystore wait for a created project.
    projectId: project.projectId,
    labels: cfg.labels,
    protect: cfg.protect,
  };
  // A PR stack creates no servers: it gets its own database on the dev stack's Postgres and
  // shares dev's Redis (DESIGN §3).
  const servers =
    kind === "pr"
      ? devStackServers(cfg)
      : createHosting(
          "data",
          { postgres: cfg.postgres, redis: cfg.redis, app: cfg.app },
          hostingEnv,
        );

  const database = new AuthDatabase("auth", {
    server: servers.postgres,
    ...(kind === "pr" && { databaseName: prAuthDatabaseName(environment.prNumber!) }),
    protect: cfg.protect,
  });
  // Runs the migrations as the migrator once the roles and grants exist, and fails the update
  // when `verify` finds drift.
  const migrations = new SchemaMigrations(
    "auth-migrations",
    { databaseUrl: database.migratorUrl },
    { dependsOn: [database.ready] },
  );
  // The app's URL is released only after the schema it needs is in place.
  const postgresUrl = pulumi.secret(
    pulumi.all([database.appUrl, migrations.id]).apply(([url]) => url),
  );

  const credentials = createAppCredentials(
    "app-credentials",
    cfg.credentials,
    identities.emails,
    options.now ?? new Date(),
  );
  const wiring = createAppWiring(
    "app",
    cfg.app,
    {
      postgresUrl,
      redisUrl: servers.redis.url,
      ...(servers.redis.caCertificate && { redisCaCertificate: servers.redis.caCertificate }),
      bigqueryProjectId: project.projectId,
      bigqueryDataset: warehouse.datasetId,
    },
    credentials,
  );

  return {
    bigqueryProjectId: project.projectId,
    bigqueryDataset: warehouse.datasetId,
    bigqueryLocation: warehouse.location,
    apiServiceAccountEmail: identities.emails.api,
    workersServiceAccountEmail: identities.emails.workers,
    postgresUrl,
    redisUrl: pulumi.secret(servers.redis.url),
    appEnv: wiring.appEnv,
    ...(kind === "dev" && {
      devStackExports: devStackServerExports(servers.postgres, servers.redis),
    }),
  };
}
