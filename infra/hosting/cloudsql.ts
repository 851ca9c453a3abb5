/**
 * `synter:hosting:CloudSqlPostgres`: Cloud SQL for PostgreSQL 15 and its bootstrap user, as a
 * PostgresServer. Connections are encrypted only (`sslMode: ENCRYPTED_ONLY`); Google's server CA
 * is private, so clients use `sslmode=require` rather than `verify-full`.
 *
 * The instance has a public IPv4 address reachable only from `authorizedNetworks` (empty by
 * default: then Pulumi reaches it through the Cloud SQL Auth Proxy, `postgres.cloudsql.adminHost`).
 */
import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import type { CloudSqlConfig } from "./config-schema";
import { isProtected, type HostingEnvironment, type StackKind } from "./environment";
import type { PostgresServer } from "./types";

export const CLOUD_SQL_DATABASE_VERSION = "POSTGRES_15";
/** Bootstrap login that AuthDatabase uses to create the database and roles. */
export const CLOUD_SQL_ADMIN_USER = "synter_admin";
export const CLOUD_SQL_PASSWORD_LENGTH = 32;

/** Default tiers: shared-core outside prod (ENTERPRISE edition only), 2 vCPU / 7.5 GB in prod. */
export function defaultCloudSqlTier(kind: StackKind): string {
  switch (kind) {
    case "prod":
      return "db-custom-2-7680";
    case "staging":
      return "db-g1-small";
    case "dev":
    case "pr":
      return "db-f1-micro";
    default: {
      const unknown: never = kind;
      throw new Error(`unknown stack kind ${String(unknown)}`);
    }
  }
}

export interface CloudSqlSettings {
  readonly tier: string;
  readonly edition: CloudSqlConfig["edition"];
  readonly region: string;
  readonly availability: "ZONAL" | "REGIONAL";
  readonly backupsEnabled: boolean;
  readonly pointInTimeRecovery: boolean;
  readonly protect: boolean;
}

/** The config merged with the stack's defaults; throws once with every conflict. */
export function resolveCloudSqlSettings(
  config: CloudSqlConfig,
  env: HostingEnvironment,
): CloudSqlSettings {
  const prod = env.kind === "prod";
  const backupsEnabled = config.backups.enabled ?? (prod || env.kind === "staging");
  const pointInTimeRecovery = config.backups.pointInTimeRecovery ?? (prod && backupsEnabled);
  const availability = config.availability ?? (prod && pointInTimeRecovery ? "REGIONAL" : "ZONAL");
  const problems: string[] = [];
  if (pointInTimeRecovery && !backupsEnabled) {
    problems.push("postgres.cloudsql.backups.pointInTimeRecovery: needs backups.enabled");
  }
  if (availability === "REGIONAL" && !pointInTimeRecovery) {
    problems.push("postgres.cloudsql.availability: REGIONAL needs backups.pointInTimeRecovery");
  }
  if (prod && !pointInTimeRecovery) {
    problems.push(
      "postgres.cloudsql.backups.pointInTimeRecovery: prod keeps backups and point-in-time recovery",
    );
  }
  const tier = config.tier ?? defaultCloudSqlTier(env.kind);
  if (config.edition === "ENTERPRISE_PLUS" && !tier.startsWith("db-perf-optimized-")) {
    problems.push(
      "postgres.cloudsql.tier: ENTERPRISE_PLUS supports only db-perf-optimized-* tiers",
    );
  }
  if (problems.length > 0) {
    throw new Error(`invalid configuration:\n  ${problems.join("\n  ")}`);
  }
  return {
    tier,
    edition: config.edition,
    region: config.region ?? env.region,
    availability,
    backupsEnabled,
    pointInTimeRecovery,
    protect: isProtected(env.kind),
  };
}

export interface CloudSqlPostgresArgs {
  readonly config: CloudSqlConfig;
  readonly env: HostingEnvironment;
}

export class CloudSqlPostgres extends pulumi.ComponentResource implements PostgresServer {
  readonly adminHost: pulumi.Output<string>;
  readonly adminPort: pulumi.Output<number>;
  readonly adminUser: pulumi.Output<string>;
  readonly adminPassword: pulumi.Output<string>;
  readonly appHost: pulumi.Output<string>;
  readonly appPort: pulumi.Output<number>;
  readonly sslMode = "require" as const;
  readonly readyResources: readonly pulumi.Resource[];
  readonly instance: gcp.sql.DatabaseInstance;
  /** `project:region:instance`, for the Cloud SQL Auth Proxy and connectors. */
  readonly connectionName: pulumi.Output<string>;

  constructor(name: string, args: CloudSqlPostgresArgs, opts?: pulumi.ComponentResourceOptions) {
    super("synter:hosting:CloudSqlPostgres", name, {}, opts);
    const { config, env } = args;
    const settings = resolveCloudSqlSettings(config, env);

    // Enabling an API is eventually consistent: the instance waits for it. Never disabled on
    // destroy, since other stacks in the project may use it.
    const api = new gcp.projects.Service(
      `${name}-sqladmin`,
      { project: env.projectId, service: "sqladmin.googleapis.com", disableOnDestroy: false },
      { parent: this },
    );

    this.instance = new gcp.sql.DatabaseInstance(
      name,
      {
        project: env.projectId,
        region: settings.region,
        databaseVersion: CLOUD_SQL_DATABASE_VERSION,
        deletionProtection: settings.protect,
        settings: {
          tier: settings.tier,
          // Explicit: the API picks ENTERPRISE_PLUS for newer versions, which rejects these tiers.
          edition: settings.edition,
          availabilityType: settings.availability,
          deletionProtectionEnabled: settings.protect,
          diskAutoresize: true,
          ...(config.diskSizeGb === undefined ? {} : { diskSize: config.diskSizeGb }),
          backupConfiguration: {
            enabled: settings.backupsEnabled,
            pointInTimeRecoveryEnabled: settings.pointInTimeRecovery,
            startTime: config.backups.startTime,
            ...(settings.pointInTimeRecovery
              ? { transactionLogRetentionDays: config.backups.transactionLogRetentionDays }
              : {}),
            backupRetentionSettings: {
              retainedBackups: config.backups.retainedBackups,
              retentionUnit: "COUNT",
            },
          },
          ipConfiguration: {
            ipv4Enabled: true,
            sslMode: "ENCRYPTED_ONLY",
            authorizedNetworks: config.authorizedNetworks.map((network) => ({
              name: network.name,
              value: network.cidr,
            })),
          },
          userLabels: { ...env.labels },
        },
      },
      { parent: this, dependsOn: [api], protect: settings.protect },
    );

    const password = new random.RandomPassword(
      `${name}-admin-password`,
      { length: CLOUD_SQL_PASSWORD_LENGTH, special: false },
      { parent: this },
    );
    const user = new gcp.sql.User(
      `${name}-admin`,
      {
        project: env.projectId,
        instance: this.instance.name,
        name: CLOUD_SQL_ADMIN_USER,
        password: password.result,
      },
      { parent: this, protect: settings.protect },
    );

    this.connectionName = this.instance.connectionName;
    this.adminHost =
      config.adminHost === undefined
        ? this.instance.publicIpAddress
        : pulumi.output(config.adminHost);
    this.adminPort = pulumi.output(config.adminPort ?? 5432);
    this.adminUser = user.name;
    this.adminPassword = pulumi.secret(password.result);
    this.appHost = this.instance.publicIpAddress;
    this.appPort = pulumi.output(5432);
    this.readyResources = [this.instance, user];
    this.registerOutputs({
      adminHost: this.adminHost,
      connectionName: this.connectionName,
    });
  }
}
