/**
 * Typed Railway operations over `RailwayClient`: one method per document, connections walked
 * page by page, and the find-before-create rule that lets a re-run adopt what a failed run left.
 */
import { RailwayApiError, type RailwayClient } from "./client";

export interface RailwayProjectRecord {
  readonly id: string;
  readonly name: string;
  readonly description: string | null;
  readonly workspaceId: string | null;
}

export interface RailwayEnvironmentRecord {
  readonly id: string;
  readonly name: string;
  readonly projectId: string;
}

export interface RailwayServiceRecord {
  readonly id: string;
  readonly name: string;
  readonly projectId: string;
}

export interface RailwayServiceInstanceRecord {
  readonly id: string;
  readonly serviceId: string;
  readonly environmentId: string;
  readonly startCommand: string | null;
  readonly source: { readonly image: string | null } | null;
}

export interface RailwayVolumeInstanceRecord {
  readonly id: string;
  readonly volumeId: string;
  readonly serviceId: string | null;
  readonly environmentId: string;
  readonly mountPath: string;
}

export interface RailwayTcpProxyRecord {
  readonly id: string;
  readonly domain: string;
  readonly proxyPort: number;
  readonly applicationPort: number;
  readonly serviceId: string;
  readonly environmentId: string;
}

/** Railway's `DeploymentStatus` enum. */
export type RailwayDeploymentStatus =
  | "BUILDING"
  | "CRASHED"
  | "DEPLOYING"
  | "FAILED"
  | "INITIALIZING"
  | "NEEDS_APPROVAL"
  | "QUEUED"
  | "REMOVED"
  | "REMOVING"
  | "SKIPPED"
  | "SLEEPING"
  | "SUCCESS"
  | "WAITING";

export interface RailwayDeploymentRecord {
  readonly id: string;
  readonly status: RailwayDeploymentStatus;
}

export type RailwayVariableMap = Record<string, string>;

interface Connection<T> {
  readonly edges: ReadonlyArray<{ readonly node: T }>;
  readonly pageInfo: { readonly hasNextPage: boolean; readonly endCursor: string | null };
}

const PAGE_SIZE = 100;

async function collectPages<T>(
  fetchPage: (after: string | undefined) => Promise<Connection<T>>,
): Promise<T[]> {
  const items: T[] = [];
  let after: string | undefined;
  for (;;) {
    const page = await fetchPage(after);
    items.push(...page.edges.map((edge) => edge.node));
    if (!page.pageInfo.hasNextPage || !page.pageInfo.endCursor) return items;
    after = page.pageInfo.endCursor;
  }
}

/** Returns `undefined` for Railway's "not found" answer; rethrows anything else. */
export async function unlessNotFound<T>(read: Promise<T>): Promise<T | undefined> {
  try {
    return await read;
  } catch (error) {
    if (error instanceof RailwayApiError && error.notFound) return undefined;
    throw error;
  }
}

/** Deletes tolerate "already gone", so a destroy interrupted halfway can be re-run. */
async function ignoreNotFound(remove: Promise<unknown>): Promise<void> {
  await unlessNotFound(remove);
}

/**
 * Find, else create. A create that fails with a transient error (5xx, dropped connection) may
 * still have happened on Railway's side, so instead of blindly sending it again the object is
 * looked up first; only when it is still missing is the create repeated.
 */
export async function findOrCreate<T>(
  find: () => Promise<T | undefined>,
  create: () => Promise<T>,
  maxCreateAttempts = 3,
): Promise<{ readonly value: T; readonly created: boolean }> {
  for (let attempt = 1; ; attempt++) {
    const existing = await find();
    if (existing !== undefined) return { value: existing, created: false };
    try {
      return { value: await create(), created: true };
    } catch (error) {
      const transient = error instanceof RailwayApiError && error.retryable;
      if (!transient || attempt >= maxCreateAttempts) throw error;
    }
  }
}

export class RailwayApi {
  constructor(readonly client: RailwayClient) {}

  // ---- projects and environments -------------------------------------------------------

  async getProject(id: string): Promise<RailwayProjectRecord | undefined> {
    const data = await unlessNotFound(
      this.client.request<{ project: RailwayProjectRecord }>("Project", { id }),
    );
    return data?.project;
  }

  async listProjects(workspaceId: string | undefined): Promise<RailwayProjectRecord[]> {
    return collectPages(async (after) => {
      const data = await this.client.request<{ projects: Connection<RailwayProjectRecord> }>(
        "Projects",
        { workspaceId: workspaceId ?? null, first: PAGE_SIZE, after: after ?? null },
      );
      return data.projects;
    });
  }

  async createProject(input: {
    name: string;
    description?: string;
    workspaceId?: string;
    defaultEnvironmentName?: string;
  }): Promise<RailwayProjectRecord> {
    const data = await this.client.request<{ projectCreate: RailwayProjectRecord }>(
      "ProjectCreate",
      { input },
    );
    return data.projectCreate;
  }

  async updateProject(
    id: string,
    input: { name?: string; description?: string },
  ): Promise<RailwayProjectRecord> {
    const data = await this.client.request<{ projectUpdate: RailwayProjectRecord }>(
      "ProjectUpdate",
      { id, input },
      { idempotent: true },
    );
    return data.projectUpdate;
  }

  async deleteProject(id: string): Promise<void> {
    await ignoreNotFound(this.client.request("ProjectDelete", { id }, { idempotent: true }));
  }

  async getEnvironment(id: string): Promise<RailwayEnvironmentRecord | undefined> {
    const data = await unlessNotFound(
      this.client.request<{ environment: RailwayEnvironmentRecord }>("Environment", { id }),
    );
    return data?.environment;
  }

  async listEnvironments(projectId: string): Promise<RailwayEnvironmentRecord[]> {
    return collectPages(async (after) => {
      const data = await this.client.request<{
        environments: Connection<RailwayEnvironmentRecord>;
      }>("Environments", { projectId, first: PAGE_SIZE, after: after ?? null });
      return data.environments;
    });
  }

  async createEnvironment(projectId: string, name: string): Promise<RailwayEnvironmentRecord> {
    const data = await this.client.request<{ environmentCreate: RailwayEnvironmentRecord }>(
      "EnvironmentCreate",
      { input: { projectId, name } },
    );
    return data.environmentCreate;
  }

  async renameEnvironment(id: string, name: string): Promise<RailwayEnvironmentRecord> {
    const data = await this.client.request<{ environmentRename: RailwayEnvironmentRecord }>(
      "EnvironmentRename",
      { id, input: { name } },
      { idempotent: true },
    );
    return data.environmentRename;
  }

  async deleteEnvironment(id: string): Promise<void> {
    await ignoreNotFound(this.client.request("EnvironmentDelete", { id }, { idempotent: true }));
  }

  // ---- services ------------------------------------------------------------------------

  async listServices(projectId: string): Promise<RailwayServiceRecord[]> {
    return collectPages(async (after) => {
      const data = await this.client.request<{
        project: { services: Connection<RailwayServiceRecord> };
      }>("ProjectServices", { projectId, first: PAGE_SIZE, after: after ?? null });
      return data.project.services;
    });
  }

  async findServiceByName(
    projectId: string,
    name: string,
  ): Promise<RailwayServiceRecord | undefined> {
    const services = await this.listServices(projectId);
    return services.find((service) => service.name === name);
  }

  async getService(id: string): Promise<RailwayServiceRecord | undefined> {
    const data = await unlessNotFound(
      this.client.request<{ service: RailwayServiceRecord }>("Service", { id }),
    );
    return data?.service;
  }

  async getServiceInstance(
    environmentId: string,
    serviceId: string,
  ): Promise<RailwayServiceInstanceRecord | undefined> {
    const data = await unlessNotFound(
      this.client.request<{ serviceInstance: RailwayServiceInstanceRecord }>("ServiceInstance", {
        environmentId,
        serviceId,
      }),
    );
    return data?.serviceInstance;
  }

  async createService(input: {
    projectId: string;
    environmentId: string;
    name: string;
    image: string;
    variables: RailwayVariableMap;
  }): Promise<RailwayServiceRecord> {
    const data = await this.client.request<{ serviceCreate: RailwayServiceRecord }>(
      "ServiceCreate",
      {
        input: {
          projectId: input.projectId,
          environmentId: input.environmentId,
          name: input.name,
          source: { image: input.image },
          variables: input.variables,
        },
      },
    );
    return data.serviceCreate;
  }

  async renameService(id: string, name: string): Promise<RailwayServiceRecord> {
    const data = await this.client.request<{ serviceUpdate: RailwayServiceRecord }>(
      "ServiceUpdate",
      { id, input: { name } },
      { idempotent: true },
    );
    return data.serviceUpdate;
  }

  async updateServiceInstance(
    serviceId: string,
    environmentId: string,
    input: { image?: string; startCommand?: string | null },
  ): Promise<void> {
    const update: Record<string, unknown> = {};
    if (input.image !== undefined) update.source = { image: input.image };
    if (input.startCommand !== undefined) update.startCommand = input.startCommand;
    await this.client.request(
      "ServiceInstanceUpdate",
      { serviceId, environmentId, input: update },
      { idempotent: true },
    );
  }

  /**
   * Starts a deployment of the instance's current configuration and returns its id. Not retried
   * blindly: a lost answer may still have started one, and a second deployment only supersedes
   * the first, so a retry is harmless but the id waited for is the last one Railway answered.
   */
  async deployServiceInstance(environmentId: string, serviceId: string): Promise<string> {
    const data = await this.client.request<{ serviceInstanceDeployV2: string }>(
      "ServiceInstanceDeploy",
      { environmentId, serviceId },
      { idempotent: true },
    );
    return data.serviceInstanceDeployV2;
  }

  async getDeployment(id: string): Promise<RailwayDeploymentRecord | undefined> {
    const data = await unlessNotFound(
      this.client.request<{ deployment: RailwayDeploymentRecord }>("RailwayDeployment", { id }),
    );
    return data?.deployment;
  }

  async deleteService(id: string): Promise<void> {
    await ignoreNotFound(this.client.request("ServiceDelete", { id }, { idempotent: true }));
  }

  // ---- volumes -------------------------------------------------------------------------

  async listVolumeInstances(environmentId: string): Promise<RailwayVolumeInstanceRecord[]> {
    return collectPages(async (after) => {
      const data = await this.client.request<{
        environment: { volumeInstances: Connection<RailwayVolumeInstanceRecord> };
      }>("EnvironmentVolumeInstances", { environmentId, first: PAGE_SIZE, after: after ?? null });
      return data.environment.volumeInstances;
    });
  }

  async findServiceVolume(
    environmentId: string,
    serviceId: string,
  ): Promise<RailwayVolumeInstanceRecord | undefined> {
    const instances = await unlessNotFound(this.listVolumeInstances(environmentId));
    return instances?.find((instance) => instance.serviceId === serviceId);
  }

  async createVolume(input: {
    projectId: string;
    environmentId: string;
    serviceId: string;
    mountPath: string;
  }): Promise<{ id: string }> {
    const data = await this.client.request<{ volumeCreate: { id: string } }>("VolumeCreate", {
      input,
    });
    return data.volumeCreate;
  }

  async remountVolume(volumeId: string, environmentId: string, mountPath: string): Promise<void> {
    await this.client.request(
      "VolumeInstanceUpdate",
      { volumeId, environmentId, input: { mountPath } },
      { idempotent: true },
    );
  }

  async deleteVolume(volumeId: string): Promise<void> {
    await ignoreNotFound(this.client.request("VolumeDelete", { volumeId }, { idempotent: true }));
  }

  // ---- variables -----------------------------------------------------------------------

  async getVariables(scope: RailwayVariableScope): Promise<RailwayVariableMap> {
    const data = await this.client.request<{ variables: RailwayVariableMap }>("Variables", {
      projectId: scope.projectId,
      environmentId: scope.environmentId,
      serviceId: scope.serviceId ?? null,
    });
    return data.variables;
  }

  /** Upsert is idempotent by nature: retried like a read. */
  async upsertVariables(
    scope: RailwayVariableScope,
    variables: RailwayVariableMap,
    skipDeploys: boolean,
  ): Promise<void> {
    if (Object.keys(variables).length === 0) return;
    await this.client.request(
      "VariableCollectionUpsert",
      {
        input: {
          projectId: scope.projectId,
          environmentId: scope.environmentId,
          serviceId: scope.serviceId ?? null,
          variables,
          replace: false,
          skipDeploys,
        },
      },
      { idempotent: true },
    );
  }

  async deleteVariable(scope: RailwayVariableScope, name: string): Promise<void> {
    await ignoreNotFound(
      this.client.request(
        "VariableDelete",
        {
          input: {
            projectId: scope.projectId,
            environmentId: scope.environmentId,
            serviceId: scope.serviceId ?? null,
            name,
          },
        },
        { idempotent: true },
      ),
    );
  }

  // ---- TCP proxies ---------------------------------------------------------------------

  async listTcpProxies(environmentId: string, serviceId: string): Promise<RailwayTcpProxyRecord[]> {
    const data = await unlessNotFound(
      this.client.request<{ tcpProxies: RailwayTcpProxyRecord[] }>("TcpProxies", {
        environmentId,
        serviceId,
      }),
    );
    return data?.tcpProxies ?? [];
  }

  async createTcpProxy(input: {
    environmentId: string;
    serviceId: string;
    applicationPort: number;
  }): Promise<RailwayTcpProxyRecord> {
    const data = await this.client.request<{ tcpProxyCreate: RailwayTcpProxyRecord }>(
      "TcpProxyCreate",
      { input },
    );
    return data.tcpProxyCreate;
  }

  async deleteTcpProxy(id: string): Promise<void> {
    await ignoreNotFound(this.client.request("TcpProxyDelete", { id }, { idempotent: true }));
  }
}

/** Variables live on a service in an environment, or are shared by the environment. */
export interface RailwayVariableScope {
  readonly projectId: string;
  readonly environmentId: string;
  readonly serviceId?: string;
}
