/**
 * Hosting settings with every per-environment default already resolved, by infra/config.ts (the
 * one place that knows the stack's kind). Components take these as plain, explicit values and
 * never derive a setting from the stack name.
 */
import type { PostgresConfig, RedisConfig } from "./config-schema";

export interface CloudSqlBackupSettings {
  /** Config default: on in staging and prod. */
  readonly enabled: boolean;
  /** Config default: on in prod. */
  readonly pointInTimeRecovery: boolean;
  readonly retainedBackups: number;
  /** Applied only with point-in-time recovery. */
  readonly transactionLogRetentionDays: number;
  /** HH:MM, UTC. */
  readonly startTime: string;
}

export interface CloudSqlSettings {
  /** Config default: `db-f1-micro` (dev, PR), `db-g1-small` (staging), `db-custom-2-7680` (prod). */
  readonly tier: string;
  /** Explicit: the API picks ENTERPRISE_PLUS for newer versions, which rejects shared tiers. */
  readonly edition: "ENTERPRISE" | "ENTERPRISE_PLUS";
  /** Config default: the stack's `gcp.region`. */
  readonly region: string;
  /** Config default: REGIONAL (HA) in prod, ZONAL elsewhere. */
  readonly availability: "ZONAL" | "REGIONAL";
  /** Unset: the API's default size, grown automatically. */
  readonly diskSizeGb?: number;
  readonly authorizedNetworks: readonly { readonly name: string; readonly cidr: string }[];
  readonly backups: CloudSqlBackupSettings;
  /** Where Pulumi reaches the instance when not its public IP (the Cloud SQL Auth Proxy). */
  readonly adminHost?: string;
  readonly adminPort?: number;
}

/**
 * The VPC network Memorystore peers with: one named in config, one created for it (a project the
 * stack creates has no `default` network), or the project's `default` network.
 */
export type MemorystoreNetwork =
  | { readonly kind: "configured"; readonly name: string }
  | { readonly kind: "create"; readonly name: string }
  | { readonly kind: "default" };

export interface MemorystoreSettings {
  /** Config default: the stack's `gcp.region`. */
  readonly region: string;
  /** Config default: STANDARD_HA in prod, BASIC elsewhere. */
  readonly tier: "BASIC" | "STANDARD_HA";
  readonly memorySizeGb: number;
  readonly connectMode: RedisConfig["memorystore"]["connectMode"];
  readonly snapshotPeriod: RedisConfig["memorystore"]["snapshotPeriod"];
  readonly network: MemorystoreNetwork;
}

/** `postgres` with its Cloud SQL section resolved. */
export interface PostgresSettings extends Omit<PostgresConfig, "cloudsql"> {
  readonly cloudsql: CloudSqlSettings;
}

/** `redis` with its Memorystore section resolved. */
export interface RedisSettings extends Omit<RedisConfig, "memorystore"> {
  readonly memorystore: MemorystoreSettings;
}
