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
  PULUMI_UNKNOWN,
  RailwayProviderBase,
  changedKeys,
  diffResult,
  requirePort,
  requireString,
  requireWholeNumber,
} from "./provider-base";
import { waitForDeployment, waitForEndpoint, type EndpointProtocol } from "./service-readiness";

export {
  POSTGRES_MOUNT_PATH,
  POSTGRES_PGDATA,
  POSTGRES_PORT,
  RAILWAY_POSTGRES_SSL_IMAGE,
  REDIS_IMAGE,
  REDIS_MOUNT_PATH,
  REDIS_PORT,
  REDIS_START_COMMAND,
} from "./service-defaults";

/** Railway's private DNS name of a service: `<service-name>.railway.internal`, fixed at creation. */
export function railwayPrivateHost(serviceName: string): string {
  const slug = serviceName
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, "-")
    .replace(/^-+|-+$/g, "");
  return `${slug}.railway.internal`;
}

/** Inputs both services take. Every setting the provider applies is one of them. */
interface DatabaseServiceInputs {
  readonly projectId: string;
  readonly environmentId: string;
  readonly serviceName: string;
  readonly image: string;
  /** Where the service's volume is mounted in the container. */
  readonly mountPath: string;
  /** Port the server listens on inside the container. */
  readonly port: number;
  /** `RAILWAY_DEPLOYMENT_DRAINING_SECONDS`: grace before Railway stops the old deployment. */
  readonly drainingSeconds: number;
  /** How long a create or update waits for its deployment and endpoint. */
  readonly readyTimeoutSeconds: number;
}

export interface RailwayPostgresInputs extends DatabaseServiceInputs {
  /** Bootstrap login (`POSTGRES_USER`). */
  readonly user: string;
  /** Bootstrap password (pass a `@pulumi/random` secret). */
  readonly password: string;
  /** Database created at first start (`POSTGRES_DB`). */
  readonly database: string;
  /** `PGDATA`, under `mountPath`. */
  readonly dataDirectory: string;
}

export interface RailwayRedisInputs extends DatabaseServiceInputs {
  /** The container's start command; reads the password from `$REDIS_PASSWORD`. */
  readonly startCommand: string;
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
  readonly drainingSeconds: number;
  readonly readyTimeoutSeconds: number;
  /** The deployment the last create or update waited for. */
  readonly deploymentId: string;
}

export interface RailwayPostgresOutputs extends RailwayDatabaseServiceOutputs {
  readonly user: string;
  readonly database: string;
  readonly dataDirectory: string;
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
  readonly port: number;
  readonly readyTimeoutSeconds: number;
}

const REPLACE_KEYS = ["projectId", "environmentId"] as const;
const DIFF_KEYS = [
  ...REPLACE_KEYS,
  "serviceName",
  "image",
  "mountPath",
  "startCommand",
  "variables",
  "port",
  "readyTimeoutSeconds",
] as const;
// What a running service is made of: a change to any of these needs a new deployment (a new
// timeout does not).
const DEPLOYED_KEYS: readonly (typeof DIFF_KEYS)[number][] = [
  "serviceName",
  "image",
  "mountPath",
  "startCommand",
  "variables",
  "port",
];

abstract class RailwayDatabaseServiceProvider<Inputs, Outputs extends RailwayDatabaseServiceOutputs>
  extends RailwayProviderBase
  implements pulumi.dynamic.ResourceProvider<Inputs, Outputs>
{
  abstract spec(inputs: Inputs): DatabaseServiceSpec;
  protected abstract outputs(inputs: Inputs, spec: DatabaseServiceSpec, ids: ServiceIds): Outputs;
  protected abstract readonly resourceName: string;
  /** How the endpoint is probed once deployed (the service's own protocol). */
  protected abstract readonly protocol: EndpointProtocol;

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
    const deploymentId = await this.deployAndWait(spec, serviceId);
    return {
      id: serviceId,
      outs: this.outputs(inputs, spec, {
        serviceId,
        volumeId,
        privateHost: railwayPrivateHost(spec.serviceName),
        deploymentId,
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
    let deploymentId = olds.deploymentId ?? "";
    if (changed.some((key) => DEPLOYED_KEYS.includes(key)) || !olds.volumeId) {
      deploymentId = await this.deployAndWait(spec, id);
    }
    // The private DNS name is fixed when the service is created; a rename does not move it.
    return {
      outs: this.outputs(news, spec, {
        serviceId: id,
        volumeId,
        privateHost: olds.privateHost,
        deploymentId,
      }),
    };
  }

  /**
   * Deploys the instance's current configuration and waits until the deployment succeeded and
   * every TCP proxy of the service's port answers in its protocol (none on a first create: the
   * proxy is a later resource, which waits for itself).
   */
  private async deployAndWait(spec: DatabaseServiceSpec, serviceId: string): Promise<string> {
    const api = this.api;
    const clock = this.clock;
    const wait = {
      ...clock,
      subject: `${this.resourceName} "${spec.serviceName}"`,
      timeoutSeconds: spec.readyTimeoutSeconds,
    };
    const deploymentId = await api.deployServiceInstance(spec.environmentId, serviceId);
    await waitForDeployment(api, deploymentId, wait);
    const proxies = await api.listTcpProxies(spec.environmentId, serviceId);
    for (const proxy of proxies.filter((p) => p.applicationPort === spec.port)) {
      await waitForEndpoint(proxy.domain, proxy.proxyPort, this.protocol, wait);
    }
    return deploymentId;
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

interface ServiceIds {
  readonly serviceId: string;
  readonly volumeId: string;
  readonly privateHost: string;
  readonly deploymentId: string;
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

function commonSpec(inputs: DatabaseServiceInputs, r: string) {
  return {
    projectId: requireString(inputs.projectId, "projectId", r),
    environmentId: requireString(inputs.environmentId, "environmentId", r),
    serviceName: requireString(inputs.serviceName, "serviceName", r),
    image: requireString(inputs.image, "image", r),
    mountPath: requireString(inputs.mountPath, "mountPath", r),
    port: requirePort(inputs.port, "port", r),
    readyTimeoutSeconds: requireWholeNumber(inputs.readyTimeoutSeconds, "readyTimeoutSeconds", r),
  };
}

export class RailwayPostgresProvider extends RailwayDatabaseServiceProvider<
  RailwayPostgresInputs,
  RailwayPostgresOutputs
> {
  protected readonly resourceName = "RailwayPostgres";
  protected readonly protocol = "postgres";

  spec(inputs: RailwayPostgresInputs): DatabaseServiceSpec {
    const r = this.resourceName;
    const common = commonSpec(inputs, r);
    const dataDirectory = requireString(inputs.dataDirectory, "dataDirectory", r);
    if (dataDirectory !== PULUMI_UNKNOWN && !dataDirectory.startsWith(`${common.mountPath}/`)) {
      throw new Error(
        `${r}: \`dataDirectory\` ${dataDirectory} must be inside the volume at ${common.mountPath} (or the data is lost on redeploy).`,
      );
    }
    return {
      ...common,
      startCommand: null,
      variables: {
        POSTGRES_USER: requireString(inputs.user, "user", r),
        POSTGRES_PASSWORD: requireString(inputs.password, "password", r),
        POSTGRES_DB: requireString(inputs.database, "database", r),
        PGDATA: dataDirectory,
        RAILWAY_DEPLOYMENT_DRAINING_SECONDS: String(
          requireWholeNumber(inputs.drainingSeconds, "drainingSeconds", r),
        ),
      },
    };
  }

  protected outputs(
    _inputs: RailwayPostgresInputs,
    spec: DatabaseServiceSpec,
    ids: ServiceIds,
  ): RailwayPostgresOutputs {
    return {
      ...spec,
      ...ids,
      user: spec.variables.POSTGRES_USER,
      password: spec.variables.POSTGRES_PASSWORD,
      database: spec.variables.POSTGRES_DB,
      dataDirectory: spec.variables.PGDATA,
      drainingSeconds: Number(spec.variables.RAILWAY_DEPLOYMENT_DRAINING_SECONDS),
    };
  }
}

export class RailwayRedisProvider extends RailwayDatabaseServiceProvider<
  RailwayRedisInputs,
  RailwayRedisOutputs
> {
  protected readonly resourceName = "RailwayRedis";
  protected readonly protocol = "redis";

  spec(inputs: RailwayRedisInputs): DatabaseServiceSpec {
    const r = this.resourceName;
    return {
      ...commonSpec(inputs, r),
      startCommand: requireString(inputs.startCommand, "startCommand", r),
      variables: {
        REDIS_PASSWORD: requireString(inputs.password, "password", r),
        RAILWAY_DEPLOYMENT_DRAINING_SECONDS: String(
          requireWholeNumber(inputs.drainingSeconds, "drainingSeconds", r),
        ),
      },
    };
  }

  protected outputs(
    _inputs: RailwayRedisInputs,
    spec: DatabaseServiceSpec,
    ids: ServiceIds,
  ): RailwayRedisOutputs {
    const password = spec.variables.REDIS_PASSWORD;
    return {
      ...spec,
      ...ids,
      password,
      drainingSeconds: Number(spec.variables.RAILWAY_DEPLOYMENT_DRAINING_SECONDS),
      url: `redis://default:${encodeURIComponent(password)}@${ids.privateHost}:${spec.port}`,
    };
  }
}
