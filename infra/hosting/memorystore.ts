/**
 * `synter:hosting:MemorystoreRedis`: Memorystore for Redis 7 as a RedisServer, with what BullMQ
 * needs: `maxmemory-policy noeviction` (an evicting policy silently drops queued jobs), AUTH, TLS
 * and RDB snapshots.
 *
 * Caveats that shape where this choice fits:
 * - Memorystore has NO public IP. It is reachable only from the VPC it peers with (GCE, GKE,
 *   Cloud Run with a VPC connector). An app on Railway cannot reach it without a connector or
 *   proxy inside that VPC; with the app on Railway, choose `railway` or `external` instead.
 * - Memorystore offers RDB snapshots, not AOF: up to one snapshot period of writes can be lost
 *   on failure. STANDARD_HA (prod) adds a replica with automatic failover.
 */
import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";
import type { MemorystoreConfig } from "./config-schema";
import { isProtected, type HostingEnvironment } from "./environment";
import type { RedisServer } from "./types";

export const MEMORYSTORE_REDIS_VERSION = "REDIS_7_X";

/** Settings BullMQ depends on; `redisConfigs` accepts only Memorystore's supported keys. */
export const MEMORYSTORE_REDIS_CONFIGS: Readonly<Record<string, string>> = {
  "maxmemory-policy": "noeviction",
};

export function memorystoreTier(
  config: MemorystoreConfig,
  env: HostingEnvironment,
): "BASIC" | "STANDARD_HA" {
  return config.tier ?? (env.kind === "prod" ? "STANDARD_HA" : "BASIC");
}

/** `rediss://:<auth>@host:port`: Memorystore AUTH has no user name. */
export function memorystoreUrl(
  authString: pulumi.Input<string>,
  host: pulumi.Input<string>,
  port: pulumi.Input<number>,
): pulumi.Output<string> {
  return pulumi.secret(
    pulumi
      .all([authString, host, port])
      .apply(([auth, h, p]) => `rediss://:${encodeURIComponent(auth)}@${h}:${p}`),
  );
}

export interface MemorystoreRedisArgs {
  readonly config: MemorystoreConfig;
  readonly env: HostingEnvironment;
}

export class MemorystoreRedis extends pulumi.ComponentResource implements RedisServer {
  readonly url: pulumi.Output<string>;
  readonly host: pulumi.Output<string>;
  readonly port: pulumi.Output<number>;
  readonly tls = true;
  readonly caCertificate: pulumi.Output<string>;
  readonly instance: gcp.redis.Instance;

  constructor(name: string, args: MemorystoreRedisArgs, opts?: pulumi.ComponentResourceOptions) {
    super("synter:hosting:MemorystoreRedis", name, {}, opts);
    const { config, env } = args;
    const protect = isProtected(env.kind);

    const api = new gcp.projects.Service(
      `${name}-redis-api`,
      { project: env.projectId, service: "redis.googleapis.com", disableOnDestroy: false },
      { parent: this },
    );

    this.instance = new gcp.redis.Instance(
      name,
      {
        project: env.projectId,
        region: config.region ?? env.region,
        redisVersion: MEMORYSTORE_REDIS_VERSION,
        tier: memorystoreTier(config, env),
        memorySizeGb: config.memorySizeGb,
        authEnabled: true,
        transitEncryptionMode: "SERVER_AUTHENTICATION",
        redisConfigs: { ...MEMORYSTORE_REDIS_CONFIGS },
        persistenceConfig: {
          persistenceMode: "RDB",
          rdbSnapshotPeriod: config.snapshotPeriod,
        },
        connectMode: config.connectMode,
        ...(config.authorizedNetwork === undefined
          ? {}
          : { authorizedNetwork: config.authorizedNetwork }),
        deletionProtection: protect,
        labels: { ...env.labels },
      },
      {
        parent: this,
        dependsOn: [api],
        protect,
        // The provider returns the AUTH string in state; keep it encrypted there too.
        additionalSecretOutputs: ["authString"],
      },
    );

    this.host = this.instance.host;
    this.port = this.instance.port;
    this.url = memorystoreUrl(this.instance.authString, this.instance.host, this.instance.port);
    this.caCertificate = this.instance.serverCaCerts.apply((certs) =>
      certs.map((cert) => cert.cert).join("\n"),
    );
    this.registerOutputs({ host: this.host, port: this.port, url: this.url });
  }
}
