/**
 * Provider logic for the two stateful services the platform runs on Railway: Postgres 15
 * (Railway's SSL Postgres image) and Redis 7 (AOF on, `noeviction`, a password). Both are an
 * image service with a volume, a set of variables and an optional start command, so one
 * provider drives both and each flavour only says what its service looks like.
 */
import type * as pulumi from "@pulumi/pulumi";
import {
  findOrCreate,
  unlessNotFound,
  type RailwayApi,
  type RailwayVariableMap,
} from "./operations";
import {
  RailwayProviderBase,
  changedKeys,
  diffResult,
  optionalString,
  requireString,
} from "./provider-base";

/** Railway's Postgres template image: stock Postgres plus a self-signed certificate (SSL on). */
export const RAILWAY_POSTGRES_SSL_IMAGE = "ghcr.io/railwayapp-templates/postgres-ssl:15";
export const REDIS_IMAGE = "redis:7";
export const POSTGRES_MOUNT_PATH = "/var/lib/postgresql/data";
// initdb refuses a non-empty directory and a fresh volume root holds `lost+found`.
export const POSTGRES_PGDATA = `${POSTGRES_MOUNT_PATH}/pgdata`;
export const REDIS_MOUNT_PATH = "/data";
export const POSTGRES_PORT = 5432;
export const REDIS_PORT = 6379;
// Railway stops the old deployment this long after the new one is up: time for a clean shutdown
// (checkpoint, AOF fsync) instead of a kill.
const DRAINING_SECONDS = "60";

/**
 * Redis reads its password from the service variable at start, so the password is never part of
 * the start command (which Railway shows in plain text). BullMQ needs `noeviction`; AOF makes the
 * queue survive restarts (DESIGN §7).
 */
export const REDIS_START_COMMAND =
  '/bin/sh -c \'exec redis-server --requirepass "$REDIS_PASSWORD" --appendonly yes ' +
  "--appendfsync everysec --maxmemory-policy noeviction --dir /data'";

/** Railway's private DNS name of a service: `<service-name>.railway.internal`, fixed at creation. */
export function railwayPrivateHost(serviceName: string): string {
  const slug = serviceName
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, "-")
    .replace(/^-+|-+$/g, "");
  return `${slug}.railway.internal`;
}

export interface RailwayPostgresInputs {
  readonly projectId: string;
  readonly environmentId: string;
  /** Default `postgres`. */
  readonly serviceName?: string;
  /** Default `RAILWAY_POSTGRES_SSL_IMAGE`. */
  readonly image?: string;
  /** Bootstrap superuser; default `postgres`. */
  readonly user?: string;
  /** Bootstrap password (pass a `@pulumi/random` secret). */
  readonly password: string;
  /** Database created at first start; default `railway`. */
  readonly database?: string;
}

export interface RailwayRedisInputs {
  readonly projectId: string;
  readonly environmentId: string;
  /** Default `redis`. */
  readonly serviceName?: string;
  /** Default `redis:7`. */
  readonly image?: string;
  /** `requirepass` (pass a `@pulumi/random` secret). */
  readonly password: string;
}

/** What both services store; `variables` and `password` (and Redis's `url`) are secrets. */
export interface RailwayDatabaseServiceOutputs {
  readonly serviceId: string;
  readonly volumeId: string;
  readonly projectId: string;
  readonly environmentId: string;
  readonly serviceName: string;
  readonly image: string;
  readonly mountPath: string;
  readonly startCommand: string | null;
  /** Every variable this resource manages on the service, with its value. */
  readonly variables: RailwayVariableMap;
  readonly privateHost: string;
  readonly port: number;
  readonly password: string;
}

export interface RailwayPostgresOutputs extends RailwayDatabaseServiceOutputs {
  readonly user: string;
  readonly database: string;
}

export interface RailwayRedisOutputs extends RailwayDatabaseServiceOutputs {
  /** `redis://default:<password>@<privateHost>:6379` — reachable inside the Railway project only. */
  readonly url: string;
}

/** The desired shape of a service, derived from its inputs. */
export interface DatabaseServiceSpec {
  readonly projectId: string;
  readonly environmentId: string;
  readonly serviceName: string;
  readonly image: string;
  readonly mountPath: string;
  readonly startCommand: string | null;
  readonly variables: RailwayVariableMap;
}

const REPLACE_KEYS = ["projectId", "environmentId"] as const;
const DIFF_KEYS = [
  ...REPLACE_KEYS,
  "serviceName",
  "image",
  "mountPath",
  "startCommand",
  "variables",
] as const;

abstract class RailwayDatabaseServiceProvider<Inputs, Outputs extends RailwayDatabaseServiceOutputs>
  extends RailwayProviderBase
  implements pulumi.dynamic.ResourceProvider<Inputs, Outputs>
{
  abstract spec(inputs: Inputs): DatabaseServiceSpec;
  protected abstract outputs(
    inputs: Inputs,
    spec: DatabaseServiceSpec,
    ids: { serviceId: string; volumeId: string; privateHost: string },
  ): Outputs;
  protected abstract readonly resourceName: string;

  async check(_olds: Inputs, news: Inputs): Promise<pulumi.dynamic.CheckResult<Inputs>> {
    try {
      this.spec(news);
      return { inputs: news };
    } catch (error) {
      return { inputs: news, failures: [{ property: "", reason: (error as Error).message }] };
    }
  }

  async create(inputs: Inputs): Promise<{ id: string; outs: Outputs }> {
    const spec = this.spec(inputs);
    const api = this.api;
    // A service of this name in the project (an earlier run that failed halfway) is adopted and
    // brought to the desired shape instead of being created a second time.
    const service = await findOrCreate(
      () => api.findServiceByName(spec.projectId, spec.serviceName),
      () =>
        api.createService({
          projectId: spec.projectId,
          environmentId: spec.environmentId,
          name: spec.serviceName,
          image: spec.image,
          variables: spec.variables,
        }),
    );
    const serviceId = service.value.id;
    if (service.created) {
      if (spec.startCommand !== null) {
        await api.updateServiceInstance(serviceId, spec.environmentId, {
          startCommand: spec.startCommand,
        });
      }
    } else {
      await api.upsertVariables(scopeOf(spec, serviceId), spec.variables, true);
      await api.updateServiceInstance(serviceId, spec.environmentId, {
        image: spec.image,
        startCommand: spec.startCommand,
      });
    }
    const volumeId = await ensureVolume(api, spec, serviceId);
    // One deployment that has the variables, the volume and the start command together.
    await api.redeployServiceInstance(spec.environmentId, serviceId);
    return {
      id: serviceId,
      outs: this.outputs(inputs, spec, {
        serviceId,
        volumeId,
        privateHost: railwayPrivateHost(spec.serviceName),
      }),
    };
  }

  async read(id: string, props?: Outputs): Promise<pulumi.dynamic.ReadResult<Outputs>> {
    if (!props)
      throw new Error(
        `${this.resourceName}: read needs the stored outputs (import is not supported).`,
      );
    const api = this.api;
    const service = await api.getService(id);
    if (!service) return {};
    const instance = await api.getServiceInstance(props.environmentId, id);
    if (!instance) return {};
    const live = await api.getVariables(scopeOf(props, id));
    const managed = Object.keys(props.variables);
    const variables = Object.fromEntries(
      managed.filter((name) => name in live).map((name) => [name, live[name]]),
    );
    const volume = await api.findServiceVolume(props.environmentId, id);
    return {
      id,
      props: {
        ...props,
        serviceName: service.name,
        image: instance.source?.image ?? props.image,
        startCommand: instance.startCommand ?? null,
        variables,
        volumeId: volume?.volumeId ?? "",
        mountPath: volume?.mountPath ?? "",
      },
    };
  }

  async diff(_id: string, olds: Outputs, news: Inputs): Promise<pulumi.dynamic.DiffResult> {
    const changed = changedKeys<(typeof DIFF_KEYS)[number]>(olds, this.spec(news), DIFF_KEYS);
    // Replacing must delete first: the new service would otherwise be found by its name and
    // adopted, and deleting the old one would then delete it.
    return diffResult(changed, REPLACE_KEYS, true);
  }

  async update(id: string, olds: Outputs, news: Inputs): Promise<{ outs: Outputs }> {
    const spec = this.spec(news);
    const api = this.api;
    const changed = changedKeys<(typeof DIFF_KEYS)[number]>(olds, spec, DIFF_KEYS);
    if (changed.includes("serviceName")) await api.renameService(id, spec.serviceName);
    if (changed.includes("image") || changed.includes("startCommand")) {
      await api.updateServiceInstance(id, spec.environmentId, {
        image: spec.image,
        startCommand: spec.startCommand,
      });
    }
    if (changed.includes("variables")) {
      const scope = scopeOf(spec, id);
      const upserts = Object.fromEntries(
        Object.entries(spec.variables).filter(([name, value]) => olds.variables[name] !== value),
      );
      await api.upsertVariables(scope, upserts, true);
      for (const name of Object.keys(olds.variables)) {
        if (!(name in spec.variables)) await api.deleteVariable(scope, name);
      }
    }
    let volumeId = olds.volumeId;
    if (!volumeId) {
      volumeId = await ensureVolume(api, spec, id);
    } else if (changed.includes("mountPath")) {
      await api.remountVolume(volumeId, spec.environmentId, spec.mountPath);
    }
    if (changed.length > 0 || !olds.volumeId) {
      await api.redeployServiceInstance(spec.environmentId, id);
    }
    // The private DNS name is fixed when the service is created; a rename does not move it.
    return {
      outs: this.outputs(news, spec, { serviceId: id, volumeId, privateHost: olds.privateHost }),
    };
  }

  /**
   * A Railway service belongs to the project and has an instance in every environment, and
   * `serviceDelete` removes it from all of them. Stacks sharing one project (staging and prod in
   * two environments) share the service, each with its own volume: so this stack's volume is
   * deleted, and the service only when no other environment still has a volume on it.
   */
  async delete(id: string, props: Outputs): Promise<void> {
    const api = this.api;
    if (props.volumeId) await api.deleteVolume(props.volumeId);
    const environments = (await unlessNotFound(api.listEnvironments(props.projectId))) ?? [];
    for (const environment of environments) {
      if (environment.id === props.environmentId) continue;
      if (await api.findServiceVolume(environment.id, id)) {
        for (const name of Object.keys(props.variables)) {
          await api.deleteVariable(scopeOf(props, id), name);
        }
        return;
      }
    }
    await api.deleteService(id);
  }
}

function scopeOf(spec: { projectId: string; environmentId: string }, serviceId: string) {
  return { projectId: spec.projectId, environmentId: spec.environmentId, serviceId };
}

async function ensureVolume(
  api: RailwayApi,
  spec: DatabaseServiceSpec,
  serviceId: string,
): Promise<string> {
  const volume = await findOrCreate(
    async () => {
      const instance = await api.findServiceVolume(spec.environmentId, serviceId);
      return instance && { id: instance.volumeId, mountPath: instance.mountPath };
    },
    async () => ({
      ...(await api.createVolume({
        projectId: spec.projectId,
        environmentId: spec.environmentId,
        serviceId,
        mountPath: spec.mountPath,
      })),
      mountPath: spec.mountPath,
    }),
  );
  if (volume.value.mountPath !== spec.mountPath) {
    await api.remountVolume(volume.value.id, spec.environmentId, spec.mountPath);
  }
  return volume.value.id;
}

export class RailwayPostgresProvider extends RailwayDatabaseServiceProvider<
  RailwayPostgresInputs,
  RailwayPostgresOutputs
> {
  protected readonly resourceName = "RailwayPostgres";

  spec(inputs: RailwayPostgresInputs): DatabaseServiceSpec {
    const r = this.resourceName;
    const user = optionalString(inputs.user, "user", r) ?? "postgres";
    const database = optionalString(inputs.database, "database", r) ?? "railway";
    return {
      projectId: requireString(inputs.projectId, "projectId", r),
      environmentId: requireString(inputs.environmentId, "environmentId", r),
      serviceName: optionalString(inputs.serviceName, "serviceName", r) ?? "postgres",
      image: optionalString(inputs.image, "image", r) ?? RAILWAY_POSTGRES_SSL_IMAGE,
      mountPath: POSTGRES_MOUNT_PATH,
      startCommand: null,
      variables: {
        POSTGRES_USER: user,
        POSTGRES_PASSWORD: requireString(inputs.password, "password", r),
        POSTGRES_DB: database,
        PGDATA: POSTGRES_PGDATA,
        RAILWAY_DEPLOYMENT_DRAINING_SECONDS: DRAINING_SECONDS,
      },
    };
  }

  protected outputs(
    _inputs: RailwayPostgresInputs,
    spec: DatabaseServiceSpec,
    ids: { serviceId: string; volumeId: string; privateHost: string },
  ): RailwayPostgresOutputs {
    return {
      ...spec,
      ...ids,
      port: POSTGRES_PORT,
      user: spec.variables.POSTGRES_USER,
      password: spec.variables.POSTGRES_PASSWORD,
      database: spec.variables.POSTGRES_DB,
    };
  }
}

export class RailwayRedisProvider extends RailwayDatabaseServiceProvider<
  RailwayRedisInputs,
  RailwayRedisOutputs
> {
  protected readonly resourceName = "RailwayRedis";

  spec(inputs: RailwayRedisInputs): DatabaseServiceSpec {
    const r = this.resourceName;
    return {
      projectId: requireString(inputs.projectId, "projectId", r),
      environmentId: requireString(inputs.environmentId, "environmentId", r),
      serviceName: optionalString(inputs.serviceName, "serviceName", r) ?? "redis",
      image: optionalString(inputs.image, "image", r) ?? REDIS_IMAGE,
      mountPath: REDIS_MOUNT_PATH,
      startCommand: REDIS_START_COMMAND,
      variables: {
        REDIS_PASSWORD: requireString(inputs.password, "password", r),
        RAILWAY_DEPLOYMENT_DRAINING_SECONDS: DRAINING_SECONDS,
      },
    };
  }

  protected outputs(
    _inputs: RailwayRedisInputs,
    spec: DatabaseServiceSpec,
    ids: { serviceId: string; volumeId: string; privateHost: string },
  ): RailwayRedisOutputs {
    const password = spec.variables.REDIS_PASSWORD;
    return {
      ...spec,
      ...ids,
      port: REDIS_PORT,
      password,
      url: `redis://default:${encodeURIComponent(password)}@${ids.privateHost}:${REDIS_PORT}`,
    };
  }
}
