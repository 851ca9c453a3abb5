/**
 * Provider logic for a set of variables on a Railway service (or shared by an environment).
 * Upserts what it manages and, on update or delete, removes only names it managed — variables
 * set by hand or by another resource on the same service are left alone.
 */
import type * as pulumi from "@pulumi/pulumi";
import type { RailwayVariableMap, RailwayVariableScope } from "./operations";
import { RailwayProviderBase, changedKeys, diffResult, requireString } from "./provider-base";

export interface RailwayVariablesInputs {
  readonly projectId: string;
  readonly environmentId: string;
  /** Omit for environment-wide shared variables. */
  readonly serviceId?: string;
  /** Name → value. Values are secrets in state. */
  readonly variables: RailwayVariableMap;
  /**
   * Do not redeploy the service after a change (Railway applies variables on the next deploy).
   * Default false: a change redeploys, so `pulumi up` is the whole deploy.
   */
  readonly skipDeploys?: boolean;
}

export interface RailwayVariablesOutputs {
  readonly projectId: string;
  readonly environmentId: string;
  readonly serviceId: string | null;
  readonly variables: RailwayVariableMap;
  /** The managed names, in order (not secret, unlike the values). */
  readonly names: string[];
  readonly skipDeploys: boolean;
}

const RESOURCE = "RailwayVariables";
const VARIABLE_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const REPLACE_KEYS = ["projectId", "environmentId", "serviceId"] as const;
const DIFF_KEYS = [...REPLACE_KEYS, "variables", "skipDeploys"] as const;

export function normalizeVariablesInputs(inputs: RailwayVariablesInputs): RailwayVariablesOutputs {
  const variables = inputs.variables ?? {};
  const problems: string[] = [];
  for (const [name, value] of Object.entries(variables)) {
    if (!VARIABLE_NAME.test(name))
      problems.push(
        `variable name ${JSON.stringify(name)} is not a valid environment variable name`,
      );
    if (typeof value !== "string") problems.push(`variable ${name} must be a string`);
  }
  if (problems.length > 0) throw new Error(`${RESOURCE}: ${problems.join("; ")}.`);
  return {
    projectId: requireString(inputs.projectId, "projectId", RESOURCE),
    environmentId: requireString(inputs.environmentId, "environmentId", RESOURCE),
    serviceId: inputs.serviceId ? requireString(inputs.serviceId, "serviceId", RESOURCE) : null,
    variables,
    names: Object.keys(variables).sort(),
    skipDeploys: inputs.skipDeploys ?? false,
  };
}

function scopeOf(outputs: RailwayVariablesOutputs): RailwayVariableScope {
  return {
    projectId: outputs.projectId,
    environmentId: outputs.environmentId,
    serviceId: outputs.serviceId ?? undefined,
  };
}

export class RailwayVariablesProvider
  extends RailwayProviderBase
  implements pulumi.dynamic.ResourceProvider<RailwayVariablesInputs, RailwayVariablesOutputs>
{
  async check(
    _olds: RailwayVariablesInputs,
    news: RailwayVariablesInputs,
  ): Promise<pulumi.dynamic.CheckResult<RailwayVariablesInputs>> {
    try {
      normalizeVariablesInputs(news);
      return { inputs: news };
    } catch (error) {
      return {
        inputs: news,
        failures: [{ property: "variables", reason: (error as Error).message }],
      };
    }
  }

  /** Upsert is idempotent, so a re-run after a failed create simply writes the same values. */
  async create(
    inputs: RailwayVariablesInputs,
  ): Promise<{ id: string; outs: RailwayVariablesOutputs }> {
    const desired = normalizeVariablesInputs(inputs);
    await this.api.upsertVariables(scopeOf(desired), desired.variables, desired.skipDeploys);
    const id = [desired.projectId, desired.environmentId, desired.serviceId ?? "shared"].join("/");
    return { id, outs: desired };
  }

  async read(
    id: string,
    props?: RailwayVariablesOutputs,
  ): Promise<pulumi.dynamic.ReadResult<RailwayVariablesOutputs>> {
    if (!props)
      throw new Error(`${RESOURCE}: read needs the stored outputs (import is not supported).`);
    const live = await this.api.getVariables(scopeOf(props));
    const variables = Object.fromEntries(
      props.names.filter((name) => name in live).map((name) => [name, live[name]]),
    );
    return { id, props: { ...props, variables, names: Object.keys(variables).sort() } };
  }

  async diff(
    _id: string,
    olds: RailwayVariablesOutputs,
    news: RailwayVariablesInputs,
  ): Promise<pulumi.dynamic.DiffResult> {
    const desired = {
      ...news,
      serviceId: news.serviceId ?? null,
      skipDeploys: news.skipDeploys ?? false,
    };
    return diffResult(
      changedKeys<(typeof DIFF_KEYS)[number]>(olds, desired, DIFF_KEYS),
      REPLACE_KEYS,
    );
  }

  async update(
    _id: string,
    olds: RailwayVariablesOutputs,
    news: RailwayVariablesInputs,
  ): Promise<{ outs: RailwayVariablesOutputs }> {
    const desired = normalizeVariablesInputs(news);
    const scope = scopeOf(desired);
    const removed = olds.names.filter((name) => !(name in desired.variables));
    const changed = Object.fromEntries(
      Object.entries(desired.variables).filter(([name, value]) => olds.variables[name] !== value),
    );
    // Removals first, so a renamed variable never exists twice in a deployment.
    for (const name of removed) await this.api.deleteVariable(scope, name);
    await this.api.upsertVariables(scope, changed, desired.skipDeploys);
    return { outs: desired };
  }

  async delete(_id: string, props: RailwayVariablesOutputs): Promise<void> {
    for (const name of props.names) await this.api.deleteVariable(scopeOf(props), name);
  }
}
