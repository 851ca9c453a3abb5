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
 * - It peers with a VPC network (`authorizedNetwork`, the provider's default being the project's
 *   `default` network). A project this stack creates has none (`autoCreateNetwork: false`), so
 *   the config then asks for a network of its own, created here after the Compute API.
 */
import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";
import type { MemorystoreSettings } from "./settings";
import type { RedisServer } from "./types";

export const MEMORYSTORE_REDIS_VERSION = "REDIS_7_X";

/** Settings BullMQ depends on; `redisConfigs` accepts only Memorystore's supported keys. */
export const MEMORYSTORE_REDIS_CONFIGS: Readonly<Record<string, string>> = {
  "maxmemory-policy": "noeviction",
};

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

/** The instance settings (resolved by infra/config.ts) plus where it goes and how it is kept. */
export interface MemorystoreRedisArgs extends MemorystoreSettings {
  /**
   * The project, as GcpProject's output: the APIs, the network and the instance wait for a project
   * the stack creates.
   */
  readonly projectId: pulumi.Input<string>;
  /** Labels of the instance. Default none. */
  readonly labels?: Readonly<Record<string, string>>;
  /** Pulumi `protect` and Memorystore deletion protection on the instance. Default false. */
  readonly protect?: boolean;
}

export class MemorystoreRedis extends pulumi.ComponentResource implements RedisServer {
  readonly url: pulumi.Output<string>;
  readonly host: pulumi.Output<string>;
  readonly port: pulumi.Output<number>;
  readonly tls = true;
  readonly caCertificate: pulumi.Output<string>;
  readonly instance: gcp.redis.Instance;
  /** The network created for the instance, when the settings ask for one. */
  readonly network?: gcp.compute.Network;

  constructor(name: string, args: MemorystoreRedisArgs, opts?: pulumi.ComponentResourceOptions) {
    super("synter:hosting:MemorystoreRedis", name, {}, opts);
    const protect = args.protect ?? false;

    const api = new gcp.projects.Service(
      `${name}-redis-api`,
      { project: args.projectId, service: "redis.googleapis.com", disableOnDestroy: false },
      { parent: this },
    );

    let authorizedNetwork: pulumi.Input<string> | undefined;
    switch (args.network.kind) {
      case "configured":
        authorizedNetwork = args.network.name;
        break;
      case "create": {
        const computeApi = new gcp.projects.Service(
          `${name}-compute-api`,
          { project: args.projectId, service: "compute.googleapis.com", disableOnDestroy: false },
          { parent: this },
        );
        // Custom mode, no subnets: the peering needs none, and a client (a VPC connector, a VM)
        // gets a subnet in its own region when it is added.
        this.network = new gcp.compute.Network(
          `${name}-network`,
          {
            project: args.projectId,
            name: args.network.name,
            description: `Memorystore (${name}) peers with this network; clients need a subnet in it.`,
            autoCreateSubnetworks: false,
          },
          { parent: this, dependsOn: [computeApi] },
        );
        authorizedNetwork = this.network.id;
        break;
      }
      case "default":
        authorizedNetwork = undefined;
        break;
      default: {
        const unknown: never = args.network;
        throw new pulumi.ResourceError(`unknown network ${JSON.stringify(unknown)}`, this);
      }
    }

    this.instance = new gcp.redis.Instance(
      name,
      {
        project: args.projectId,
        region: args.region,
        redisVersion: MEMORYSTORE_REDIS_VERSION,
        tier: args.tier,
        memorySizeGb: args.memorySizeGb,
        authEnabled: true,
        transitEncryptionMode: "SERVER_AUTHENTICATION",
        redisConfigs: { ...MEMORYSTORE_REDIS_CONFIGS },
        persistenceConfig: {
          persistenceMode: "RDB",
          rdbSnapshotPeriod: args.snapshotPeriod,
        },
        connectMode: args.connectMode,
        ...(authorizedNetwork === undefined ? {} : { authorizedNetwork }),
        deletionProtection: protect,
        labels: { ...args.labels },
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
