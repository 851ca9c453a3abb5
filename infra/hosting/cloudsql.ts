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
import type { CloudSqlSettings } from "./settings";
import type { PostgresServer } from "./types";

export const CLOUD_SQL_DATABASE_VERSION = "POSTGRES_15";
/** Bootstrap login that AuthDatabase uses to create the database and roles. */
export const CLOUD_SQL_ADMIN_USER = "synter_admin";
export const CLOUD_SQL_PASSWORD_LENGTH = 32;

/** The instance settings (resolved by infra/config.ts) plus where it goes and how it is kept. */
export interface CloudSqlPostgresArgs extends CloudSqlSettings {
  /**
   * The project, as GcpProject's output: the API, the instance and its user wait for a project the
   * stack creates.
   */
  readonly projectId: pulumi.Input<string>;
  /** `userLabels` of the instance. Default none. */
  readonly labels?: Readonly<Record<string, string>>;
  /** Pulumi `protect` and Cloud SQL deletion protection on the instance and its user. Default false. */
  readonly protect?: boolean;
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
    const protect = args.protect ?? false;

    // Enabling an API is eventually consistent: the instance waits for it. Never disabled on
    // destroy, since other stacks in the project may use it.
    const api = new gcp.projects.Service(
      `${name}-sqladmin`,
      { project: args.projectId, service: "sqladmin.googleapis.com", disableOnDestroy: false },
      { parent: this },
    );

    this.instance = new gcp.sql.DatabaseInstance(
      name,
      {
        project: args.projectId,
        region: args.region,
        databaseVersion: CLOUD_SQL_DATABASE_VERSION,
        deletionProtection: protect,
        settings: {
          tier: args.tier,
          edition: args.edition,
          availabilityType: args.availability,
          deletionProtectionEnabled: protect,
          diskAutoresize: true,
          ...(args.diskSizeGb === undefined ? {} : { diskSize: args.diskSizeGb }),
          backupConfiguration: {
            enabled: args.backups.enabled,
            pointInTimeRecoveryEnabled: args.backups.pointInTimeRecovery,
            startTime: args.backups.startTime,
            ...(args.backups.pointInTimeRecovery
              ? { transactionLogRetentionDays: args.backups.transactionLogRetentionDays }
              : {}),
            backupRetentionSettings: {
              retainedBackups: args.backups.retainedBackups,
              retentionUnit: "COUNT",
            },
          },
          // Public IP only, so no VPC is needed, even in a project the stack creates.
          ipConfiguration: {
            ipv4Enabled: true,
            sslMode: "ENCRYPTED_ONLY",
            authorizedNetworks: args.authorizedNetworks.map((network) => ({
              name: network.name,
              value: network.cidr,
            })),
          },
          userLabels: { ...args.labels },
        },
      },
      { parent: this, dependsOn: [api], protect },
    );

    const password = new random.RandomPassword(
      `${name}-admin-password`,
      { length: CLOUD_SQL_PASSWORD_LENGTH, special: false },
      { parent: this },
    );
    const user = new gcp.sql.User(
      `${name}-admin`,
      {
        project: args.projectId,
        instance: this.instance.name,
        name: CLOUD_SQL_ADMIN_USER,
        password: password.result,
      },
      { parent: this, protect },
    );

    this.connectionName = this.instance.connectionName;
    this.adminHost =
      args.adminHost === undefined ? this.instance.publicIpAddress : pulumi.output(args.adminHost);
    this.adminPort = pulumi.output(args.adminPort ?? 5432);
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
