/**
 * Pulumi resources for Railway (dynamic resources; Railway has no Pulumi provider).
 *
 * Type tokens are `pulumi-nodejs:dynamic/railway:<Name>`. Secret outputs (`password`,
 * `variables`, `url`) are listed in `additionalSecretOutputs`, so they stay secrets even when
 * the caller passed a plain value. The token is never an input: the provider reads the stack's
 * secret config `railway:token` or `RAILWAY_TOKEN` when it runs.
 */
import * as pulumi from "@pulumi/pulumi";
import { serializableProvider } from "../serializable-provider";
import type { RailwayProviderKind } from "./providers";
import type { EndpointProtocol } from "./service-readiness";
import {
  DRAINING_SECONDS,
  POSTGRES_MOUNT_PATH,
  POSTGRES_PGDATA,
  POSTGRES_PORT,
  RAILWAY_POSTGRES_SSL_IMAGE,
  READY_TIMEOUT_SECONDS,
  REDIS_IMAGE,
  REDIS_MOUNT_PATH,
  REDIS_PORT,
  REDIS_START_COMMAND,
} from "./service-defaults";

const MODULE = "railway";
/** Path of `providers.ts` relative to the Pulumi project root, without extension. */
export const RAILWAY_PROVIDER_MODULE = "./infra/railway/providers";

function withSecretOutputs(
  opts: pulumi.CustomResourceOptions | undefined,
  secretOutputs: string[],
): pulumi.CustomResourceOptions {
  return {
    ...opts,
    additionalSecretOutputs: [...(opts?.additionalSecretOutputs ?? []), ...secretOutputs],
  };
}

// One shim per kind, shared by every resource of that kind: Pulumi caches the serialised text
// per provider object, so a stack with many resources serialises each kind once.
const providers = new Map<RailwayProviderKind, pulumi.dynamic.ResourceProvider>();
function providerFor(kind: RailwayProviderKind): pulumi.dynamic.ResourceProvider {
  let provider = providers.get(kind);
  if (!provider) {
    // `providers.ts` keeps this path and export: state written by older deployments loads it.
    provider = serializableProvider({
      module: RAILWAY_PROVIDER_MODULE,
      factory: "createRailwayProvider",
      args: [kind],
    });
    providers.set(kind, provider);
  }
  return provider;
}

// ---- RailwayProject ---------------------------------------------------------------------

export interface RailwayProjectArgs {
  /** Project name; required unless `existingProjectId` is set (then ignored). */
  readonly name?: pulumi.Input<string>;
  readonly description?: pulumi.Input<string>;
  /** Workspace to create the project in. Default: the token's default workspace. */
  readonly workspaceId?: pulumi.Input<string>;
  /** Use this existing project; it is never deleted by Pulumi. */
  readonly existingProjectId?: pulumi.Input<string>;
  /** Use this existing environment of `existingProjectId`; never deleted by Pulumi. */
  readonly existingEnvironmentId?: pulumi.Input<string>;
  /** Environment to find or create. Default `production`. */
  readonly environmentName?: pulumi.Input<string>;
}

/** A Railway project and the environment this stack deploys into (created or adopted). */
export class RailwayProject extends pulumi.dynamic.Resource {
  declare readonly projectId: pulumi.Output<string>;
  declare readonly projectName: pulumi.Output<string>;
  declare readonly environmentId: pulumi.Output<string>;
  declare readonly environmentName: pulumi.Output<string>;
  declare readonly ownsProject: pulumi.Output<boolean>;
  declare readonly ownsEnvironment: pulumi.Output<boolean>;

  constructor(name: string, args: RailwayProjectArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      providerFor("project"),
      name,
      {
        name: undefined,
        environmentName: undefined,
        ...args,
        projectId: undefined,
        projectName: undefined,
        environmentId: undefined,
        ownsProject: undefined,
        ownsEnvironment: undefined,
      },
      opts,
      MODULE,
      "RailwayProject",
    );
  }
}

// ---- RailwayPostgres / RailwayRedis -----------------------------------------------------

interface DatabaseServiceArgs {
  readonly projectId: pulumi.Input<string>;
  readonly environmentId: pulumi.Input<string>;
  /** Service name (also its private DNS name `<name>.railway.internal`). */
  readonly serviceName?: pulumi.Input<string>;
  /** Container image; see the defaults on each resource. */
  readonly image?: pulumi.Input<string>;
  /** Pass a `@pulumi/random` `RandomPassword.result` (a secret). */
  readonly password: pulumi.Input<string>;
  /** Where the volume is mounted; see the defaults on each resource. */
  readonly mountPath?: pulumi.Input<string>;
  /** Port the server listens on in the container; see the defaults on each resource. */
  readonly port?: pulumi.Input<number>;
  /** Grace before Railway stops the previous deployment. Default 60. */
  readonly drainingSeconds?: pulumi.Input<number>;
  /** How long create/update wait for the deployment and the endpoint. Default 600. */
  readonly readyTimeoutSeconds?: pulumi.Input<number>;
}

export interface RailwayPostgresArgs extends DatabaseServiceArgs {
  /** Bootstrap login. Default `postgres`. */
  readonly user?: pulumi.Input<string>;
  /** Database created at first start. Default `railway`. */
  readonly database?: pulumi.Input<string>;
  /** `PGDATA`, inside the volume. Default `/var/lib/postgresql/data/pgdata`. */
  readonly dataDirectory?: pulumi.Input<string>;
}

// Every output must be a key of the props handed to the dynamic resource, or Pulumi does not
// create the Output property for it; optional inputs are listed here for the same reason.
const serviceOutputs = {
  serviceId: undefined,
  volumeId: undefined,
  startCommand: undefined,
  variables: undefined,
  privateHost: undefined,
  deploymentId: undefined,
};

/** The settings every service has, with the program's defaults filled in (shown by a preview). */
function serviceSettings(
  args: DatabaseServiceArgs,
  defaults: { name: string; image: string; mountPath: string; port: number },
) {
  return {
    serviceName: args.serviceName ?? defaults.name,
    image: args.image ?? defaults.image,
    mountPath: args.mountPath ?? defaults.mountPath,
    port: args.port ?? defaults.port,
    drainingSeconds: args.drainingSeconds ?? DRAINING_SECONDS,
    readyTimeoutSeconds: args.readyTimeoutSeconds ?? READY_TIMEOUT_SECONDS,
  };
}

/**
 * Postgres 15 on Railway: Railway's SSL Postgres image (`RAILWAY_POSTGRES_SSL_IMAGE`; clients
 * use `sslmode=require`, the certificate is self-signed), a volume at the data directory, and
 * `POSTGRES_USER` / `POSTGRES_PASSWORD` / `POSTGRES_DB` / `PGDATA`. Changing the password input
 * updates the variable only: Postgres keeps the password set at first start (run `ALTER ROLE`).
 */
export class RailwayPostgres extends pulumi.dynamic.Resource {
  declare readonly serviceId: pulumi.Output<string>;
  declare readonly volumeId: pulumi.Output<string>;
  declare readonly serviceName: pulumi.Output<string>;
  declare readonly image: pulumi.Output<string>;
  declare readonly privateHost: pulumi.Output<string>;
  declare readonly port: pulumi.Output<number>;
  declare readonly user: pulumi.Output<string>;
  declare readonly password: pulumi.Output<string>;
  declare readonly database: pulumi.Output<string>;
  declare readonly variables: pulumi.Output<Record<string, string>>;

  constructor(name: string, args: RailwayPostgresArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      providerFor("postgres"),
      name,
      {
        ...serviceOutputs,
        ...args,
        ...serviceSettings(args, {
          name: "postgres",
          image: RAILWAY_POSTGRES_SSL_IMAGE,
          mountPath: POSTGRES_MOUNT_PATH,
          port: POSTGRES_PORT,
        }),
        user: args.user ?? "postgres",
        database: args.database ?? "railway",
        dataDirectory: args.dataDirectory ?? POSTGRES_PGDATA,
      },
      withSecretOutputs(opts, ["password", "variables"]),
      MODULE,
      "RailwayPostgres",
    );
  }
}

export interface RailwayRedisArgs extends DatabaseServiceArgs {
  /** Default `REDIS_START_COMMAND`: password from `$REDIS_PASSWORD`, AOF, `noeviction`. */
  readonly startCommand?: pulumi.Input<string>;
}

/**
 * Redis 7 on Railway (`redis:7`): a volume at `/data`, started with `--requirepass` (read from
 * the `REDIS_PASSWORD` variable, never written into the start command), `--appendonly yes` and
 * `--maxmemory-policy noeviction` (BullMQ). `url` reaches it inside the Railway project only.
 */
export class RailwayRedis extends pulumi.dynamic.Resource {
  declare readonly serviceId: pulumi.Output<string>;
  declare readonly volumeId: pulumi.Output<string>;
  declare readonly serviceName: pulumi.Output<string>;
  declare readonly image: pulumi.Output<string>;
  declare readonly privateHost: pulumi.Output<string>;
  declare readonly port: pulumi.Output<number>;
  declare readonly password: pulumi.Output<string>;
  declare readonly url: pulumi.Output<string>;
  declare readonly startCommand: pulumi.Output<string>;
  declare readonly variables: pulumi.Output<Record<string, string>>;

  constructor(name: string, args: RailwayRedisArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      providerFor("redis"),
      name,
      {
        ...serviceOutputs,
        url: undefined,
        ...args,
        ...serviceSettings(args, {
          name: "redis",
          image: REDIS_IMAGE,
          mountPath: REDIS_MOUNT_PATH,
          port: REDIS_PORT,
        }),
        startCommand: args.startCommand ?? REDIS_START_COMMAND,
      },
      withSecretOutputs(opts, ["password", "variables", "url"]),
      MODULE,
      "RailwayRedis",
    );
  }
}

// ---- RailwayTcpProxy --------------------------------------------------------------------

export interface RailwayTcpProxyArgs {
  readonly environmentId: pulumi.Input<string>;
  readonly serviceId: pulumi.Input<string>;
  /** Port inside the container, e.g. 5432. */
  readonly applicationPort: pulumi.Input<number>;
  /** What answers behind the proxy, probed before create returns. Default `tcp`. */
  readonly protocol?: pulumi.Input<EndpointProtocol>;
  /** How long create waits for the proxy's deployment and endpoint. Default 600. */
  readonly readyTimeoutSeconds?: pulumi.Input<number>;
}

/** A public `domain:proxyPort` in front of a service port (for CI migrations). */
export class RailwayTcpProxy extends pulumi.dynamic.Resource {
  declare readonly proxyId: pulumi.Output<string>;
  declare readonly domain: pulumi.Output<string>;
  declare readonly proxyPort: pulumi.Output<number>;
  declare readonly endpoint: pulumi.Output<string>;

  constructor(name: string, args: RailwayTcpProxyArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      providerFor("tcpProxy"),
      name,
      {
        proxyId: undefined,
        domain: undefined,
        proxyPort: undefined,
        endpoint: undefined,
        ...args,
        protocol: args.protocol ?? "tcp",
        readyTimeoutSeconds: args.readyTimeoutSeconds ?? READY_TIMEOUT_SECONDS,
      },
      opts,
      MODULE,
      "RailwayTcpProxy",
    );
  }
}

// ---- RailwayVariables -------------------------------------------------------------------

export interface RailwayVariablesArgs {
  readonly projectId: pulumi.Input<string>;
  readonly environmentId: pulumi.Input<string>;
  /** Omit for environment-wide shared variables. */
  readonly serviceId?: pulumi.Input<string>;
  /** Name → value; values are secrets in state. */
  readonly variables: pulumi.Input<Record<string, pulumi.Input<string>>>;
  /** Do not redeploy after a change. Default false. */
  readonly skipDeploys?: pulumi.Input<boolean>;
}

/**
 * Variables on a Railway service. Only the names listed here are managed: other variables on
 * the service are left alone, and destroy removes only these.
 */
export class RailwayVariables extends pulumi.dynamic.Resource {
  declare readonly variables: pulumi.Output<Record<string, string>>;
  declare readonly names: pulumi.Output<string[]>;

  constructor(name: string, args: RailwayVariablesArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      providerFor("variables"),
      name,
      { names: undefined, serviceId: undefined, skipDeploys: undefined, ...args },
      withSecretOutputs(opts, ["variables"]),
      MODULE,
      "RailwayVariables",
    );
  }
}
