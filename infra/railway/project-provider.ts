/**
 * Provider logic for a Railway project and the environment the stack deploys into: either
 * created (and then owned: deleted on destroy) or adopted from ids (never deleted).
 */
import type * as pulumi from "@pulumi/pulumi";
import type { RailwayApi, RailwayEnvironmentRecord, RailwayProjectRecord } from "./operations";
import { findOrCreate } from "./operations";
import { RailwayProviderBase, changedKeys, diffResult, optionalString } from "./provider-base";

export interface RailwayProjectInputs {
  /** Project name; required unless `existingProjectId` is given (then ignored). */
  readonly name?: string;
  readonly description?: string;
  /** Workspace (team) to create the project in; default: the token owner's default. */
  readonly workspaceId?: string;
  /** Adopt this project instead of creating one; it is never deleted by this resource. */
  readonly existingProjectId?: string;
  /** Adopt this environment (must belong to the project); never deleted by this resource. */
  readonly existingEnvironmentId?: string;
  /** Environment to find or create when no `existingEnvironmentId`. Default `production`. */
  readonly environmentName?: string;
}

export interface RailwayProjectOutputs {
  readonly projectId: string;
  readonly projectName: string;
  readonly environmentId: string;
  readonly environmentName: string;
  readonly name: string | null;
  readonly description: string | null;
  readonly workspaceId: string | null;
  readonly existingProjectId: string | null;
  readonly existingEnvironmentId: string | null;
  /** True when this resource created (or adopted its own half-finished) project: destroy deletes it. */
  readonly ownsProject: boolean;
  /** True when this resource created the environment inside a project it does not own. */
  readonly ownsEnvironment: boolean;
}

const RESOURCE = "RailwayProject";
export const DEFAULT_ENVIRONMENT_NAME = "production";

interface NormalizedProjectInputs {
  readonly name: string | null;
  readonly description: string | null;
  readonly workspaceId: string | null;
  readonly existingProjectId: string | null;
  readonly existingEnvironmentId: string | null;
  readonly environmentName: string;
}

export function normalizeProjectInputs(inputs: RailwayProjectInputs): NormalizedProjectInputs {
  const existingProjectId = optionalString(inputs.existingProjectId, "existingProjectId", RESOURCE);
  const existingEnvironmentId = optionalString(
    inputs.existingEnvironmentId,
    "existingEnvironmentId",
    RESOURCE,
  );
  const name = optionalString(inputs.name, "name", RESOURCE);
  const problems: string[] = [];
  if (!existingProjectId && !name)
    problems.push("`name` is required when no `existingProjectId` is given");
  if (existingEnvironmentId && !existingProjectId) {
    problems.push("`existingEnvironmentId` needs `existingProjectId` (the project it belongs to)");
  }
  if (problems.length > 0) throw new Error(`${RESOURCE}: ${problems.join("; ")}.`);
  return {
    name: name ?? null,
    description: optionalString(inputs.description, "description", RESOURCE) ?? null,
    workspaceId: optionalString(inputs.workspaceId, "workspaceId", RESOURCE) ?? null,
    existingProjectId: existingProjectId ?? null,
    existingEnvironmentId: existingEnvironmentId ?? null,
    environmentName:
      optionalString(inputs.environmentName, "environmentName", RESOURCE) ??
      DEFAULT_ENVIRONMENT_NAME,
  };
}

// Pointing at another project, workspace or adopted environment is a different object.
const REPLACE_KEYS = ["existingProjectId", "existingEnvironmentId", "workspaceId"] as const;
const DIFF_KEYS = [...REPLACE_KEYS, "name", "description", "environmentName"] as const;

export class RailwayProjectProvider
  extends RailwayProviderBase
  implements pulumi.dynamic.ResourceProvider<RailwayProjectInputs, RailwayProjectOutputs>
{
  async check(
    _olds: RailwayProjectInputs,
    news: RailwayProjectInputs,
  ): Promise<pulumi.dynamic.CheckResult<RailwayProjectInputs>> {
    try {
      normalizeProjectInputs(news);
      return { inputs: news };
    } catch (error) {
      return { inputs: news, failures: [{ property: "name", reason: (error as Error).message }] };
    }
  }

  async create(inputs: RailwayProjectInputs): Promise<{ id: string; outs: RailwayProjectOutputs }> {
    const desired = normalizeProjectInputs(inputs);
    const api = this.api;
    let project: RailwayProjectRecord;
    let ownsProject: boolean;
    if (desired.existingProjectId) {
      project = await requireProject(api, desired.existingProjectId);
      ownsProject = false;
    } else {
      const name = desired.name as string;
      // A project of this name left by an earlier, interrupted run is adopted, not duplicated.
      const result = await findOrCreate(
        async () =>
          (await api.listProjects(desired.workspaceId ?? undefined)).find((p) => p.name === name),
        () =>
          api.createProject({
            name,
            description: desired.description ?? undefined,
            workspaceId: desired.workspaceId ?? undefined,
            defaultEnvironmentName: desired.environmentName,
          }),
      );
      project = result.value;
      ownsProject = true;
    }

    let environment: RailwayEnvironmentRecord;
    let ownsEnvironment = false;
    if (desired.existingEnvironmentId) {
      environment = await requireEnvironment(api, desired.existingEnvironmentId, project.id);
    } else {
      const result = await findOrCreate(
        async () =>
          (await api.listEnvironments(project.id)).find((e) => e.name === desired.environmentName),
        () => api.createEnvironment(project.id, desired.environmentName),
      );
      environment = result.value;
      // In an adopted project, only an environment this run created is ours to delete.
      ownsEnvironment = !ownsProject && result.created;
    }
    return {
      id: project.id,
      outs: projectOutputs(desired, project, environment, ownsProject, ownsEnvironment),
    };
  }

  async read(
    id: string,
    props?: RailwayProjectOutputs,
  ): Promise<pulumi.dynamic.ReadResult<RailwayProjectOutputs>> {
    if (!props)
      throw new Error(`${RESOURCE}: read needs the stored outputs (import is not supported).`);
    const project = await this.api.getProject(id);
    if (!project) return {};
    const environment = await this.api.getEnvironment(props.environmentId);
    if (!environment) return {};
    return {
      id,
      props: {
        ...props,
        projectName: project.name,
        environmentName: environment.name,
      },
    };
  }

  async diff(
    _id: string,
    olds: RailwayProjectOutputs,
    news: RailwayProjectInputs,
  ): Promise<pulumi.dynamic.DiffResult> {
    const desired = normalizeProjectInputs(news);
    // Compare against what Railway holds (refreshed by `read`), so a rename in the UI shows up.
    const live = { ...olds, name: olds.projectName };
    let changed = changedKeys<(typeof DIFF_KEYS)[number]>(live, desired, DIFF_KEYS);
    // An adopted project's name and description are not ours to manage.
    if (desired.existingProjectId)
      changed = changed.filter((k) => k !== "name" && k !== "description");
    if (desired.existingEnvironmentId) changed = changed.filter((k) => k !== "environmentName");
    return diffResult(changed, REPLACE_KEYS);
  }

  async update(
    id: string,
    olds: RailwayProjectOutputs,
    news: RailwayProjectInputs,
  ): Promise<{ outs: RailwayProjectOutputs }> {
    const desired = normalizeProjectInputs(news);
    const api = this.api;
    let project = await requireProject(api, id);
    if (
      !desired.existingProjectId &&
      (desired.name !== project.name || desired.description !== olds.description)
    ) {
      project = await api.updateProject(id, {
        name: desired.name ?? undefined,
        description: desired.description ?? undefined,
      });
    }
    let environment = await requireEnvironment(api, olds.environmentId, id);
    if (!desired.existingEnvironmentId && environment.name !== desired.environmentName) {
      environment = await api.renameEnvironment(environment.id, desired.environmentName);
    }
    return {
      outs: projectOutputs(desired, project, environment, olds.ownsProject, olds.ownsEnvironment),
    };
  }

  async delete(id: string, props: RailwayProjectOutputs): Promise<void> {
    if (props.ownsProject) {
      await this.api.deleteProject(id);
    } else if (props.ownsEnvironment) {
      await this.api.deleteEnvironment(props.environmentId);
    }
  }
}

async function requireProject(api: RailwayApi, id: string): Promise<RailwayProjectRecord> {
  const project = await api.getProject(id);
  if (!project)
    throw new Error(
      `${RESOURCE}: Railway project ${id} does not exist or is not visible to the token.`,
    );
  return project;
}

async function requireEnvironment(
  api: RailwayApi,
  id: string,
  projectId: string,
): Promise<RailwayEnvironmentRecord> {
  const environment = await api.getEnvironment(id);
  if (!environment) {
    throw new Error(
      `${RESOURCE}: Railway environment ${id} does not exist or is not visible to the token.`,
    );
  }
  if (environment.projectId !== projectId) {
    throw new Error(
      `${RESOURCE}: environment ${id} belongs to project ${environment.projectId}, not ${projectId}.`,
    );
  }
  return environment;
}

function projectOutputs(
  desired: NormalizedProjectInputs,
  project: RailwayProjectRecord,
  environment: RailwayEnvironmentRecord,
  ownsProject: boolean,
  ownsEnvironment: boolean,
): RailwayProjectOutputs {
  return {
    projectId: project.id,
    projectName: project.name,
    environmentId: environment.id,
    environmentName: environment.name,
    name: desired.name,
    description: desired.description,
    workspaceId: desired.workspaceId,
    existingProjectId: desired.existingProjectId,
    existingEnvironmentId: desired.existingEnvironmentId,
    ownsProject,
    ownsEnvironment,
  };
}
