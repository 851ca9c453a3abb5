/**
 * Checks that every job running Pulumi for a stack is given what the program needs for that stack
 * and operation (./stack-requirements.ts), from the GitHub environment made for it
 * (./environments.ts) — and nothing the stack does not need. A requirement the program gains (a
 * provider token, a stack reference, a proxy) but the workflows do not provide is a problem here.
 */
import {
  PROTECTED_ZONES,
  ZONES,
  ciEnvironment,
  stackKey,
  zoneOf,
  type CiEnvironment,
  type PulumiOperation,
  type StackKey,
} from "./environments";
import {
  PASSPHRASE_PROVIDER,
  appliesTo,
  describeRequirement,
  type StackRequirement,
  type StackRequirements,
} from "./stack-requirements";
import { secretName, variableName, type JobModel, type PulumiInvocation } from "./workflow-model";

export type RequirementsByStack = (stack: StackKey) => StackRequirements;

/** A value as the job's environment makes it: `${{ vars.X }}` → X's value there. */
function resolveValue(expression: string | undefined, env: CiEnvironment): string | undefined {
  if (expression === undefined) return undefined;
  const variable = variableName(expression);
  if (variable !== undefined) return env.variables[variable]?.value;
  return expression.includes("${{") || expression.includes("$") ? undefined : expression;
}

/** The secret an env var of the step is set from, when the environment holds it. */
function secretFromEnvironment(
  invocation: PulumiInvocation,
  name: string,
  env: CiEnvironment,
): string | undefined {
  const secret = secretName(invocation.env[name]);
  return secret !== undefined && secret in env.secrets ? secret : undefined;
}

function check(
  requirement: StackRequirement,
  operation: PulumiOperation,
  job: JobModel,
  invocation: PulumiInvocation,
  env: CiEnvironment,
): string | undefined {
  const auth = job.gcpAuth.find((candidate) => candidate.step < invocation.step);
  const identity = env.identity;
  switch (requirement.kind) {
    case "state": {
      const expected = ZONES[zoneOf(requirement.stack)].stateBackend;
      const backend = resolveValue(invocation.backend, env);
      if (backend !== expected) {
        return `logs in to ${backend ?? invocation.backend ?? "no backend"}, not ${expected}`;
      }
      const access = requirement.use === "own" && operation !== "preview" ? "write" : "read";
      const grants = identity.state.filter((grant) => grant.backend === expected);
      const ok = grants.some((grant) => access === "read" || grant.access === "write");
      if (!auth || !ok) {
        return `${identity.serviceAccount} has no ${access} access to ${expected}${auth ? "" : " (and the job does not authenticate to GCP before it)"}`;
      }
      return undefined;
    }
    case "secrets-provider": {
      if (requirement.provider === PASSPHRASE_PROVIDER) {
        return secretFromEnvironment(invocation, "PULUMI_CONFIG_PASSPHRASE", env)
          ? undefined
          : `PULUMI_CONFIG_PASSPHRASE is not set from a secret of environment ${env.name}`;
      }
      if (!auth) return "the job does not authenticate to GCP before it";
      if (!identity.kmsKeys.some(({ key }) => key === requirement.provider)) {
        return `${identity.serviceAccount} may not use ${requirement.provider}`;
      }
      if (
        requirement.use === "own" &&
        invocation.upsert &&
        invocation.secretsProvider !== requirement.provider
      ) {
        return `upsert may create the stack, but secrets-provider is ${invocation.secretsProvider ?? "unset (a passphrase)"}`;
      }
      return undefined;
    }
    case "gcp-identity": {
      if (!auth) return "the job does not authenticate to GCP before it";
      const account = resolveValue(auth.serviceAccount, env);
      if (account !== identity.serviceAccount) {
        return `authenticates as ${account ?? auth.serviceAccount ?? "nobody"}, not ${identity.serviceAccount}`;
      }
      if (!account.endsWith(`@${requirement.project}.iam.gserviceaccount.com`)) {
        return `${account} is not an identity of ${requirement.project}`;
      }
      if (operation !== "preview" && identity.access !== "deploy") {
        return `${account} is a read-only (preview) identity`;
      }
      return resolveValue(auth.workloadIdentityProvider, env) ===
        env.variables.GCP_WORKLOAD_IDENTITY_PROVIDER?.value
        ? undefined
        : `the workload identity provider is not ${env.name}'s GCP_WORKLOAD_IDENTITY_PROVIDER`;
    }
    case "env": {
      if (requirement.secret) {
        return secretFromEnvironment(invocation, requirement.name, env)
          ? undefined
          : `${requirement.name} is not set in the step's env from a secret of environment ${env.name}`;
      }
      return invocation.env[requirement.name] === undefined
        ? `${requirement.name} is not set`
        : undefined;
    }
    case "local-listener": {
      const proxy = (job.job.steps ?? [])
        .slice(0, invocation.step)
        .some((step) => /cloud-sql-proxy/.test(`${step.uses ?? ""} ${step.run ?? ""}`));
      return proxy ? undefined : "no step before it starts the Cloud SQL Auth Proxy";
    }
    default: {
      const unknown: never = requirement;
      throw new Error(`unknown requirement ${JSON.stringify(unknown)}`);
    }
  }
}

/** Every requirement not met, and every secret given that no operation of the job needs. */
export function uncoveredRequirements(
  jobs: readonly JobModel[],
  requirementsOf: RequirementsByStack,
): string[] {
  const problems: string[] = [];
  for (const job of jobs) {
    const where = `${job.file}: job ${job.id}`;
    const env = job.environment === undefined ? undefined : ciEnvironment(job.environment);
    const neededSecrets = new Set<string>();
    for (const invocation of job.pulumi) {
      const stack = stackKey(invocation.stack);
      const label = `pulumi ${invocation.operations.join("+")} ${invocation.stack}`;
      if (stack === undefined) {
        problems.push(`${where}: ${label}: the stack could not be resolved`);
        continue;
      }
      if (env === undefined) {
        problems.push(`${where}: ${label} has no GitHub environment, so nothing it needs`);
        continue;
      }
      if (env.zone !== zoneOf(stack)) {
        problems.push(
          `${where}: ${label} runs in environment ${env.name} (zone ${env.zone}), not in zone ${zoneOf(stack)}`,
        );
        continue;
      }
      for (const operation of invocation.operations) {
        for (const requirement of requirementsOf(stack).requirements) {
          if (!appliesTo(requirement, operation)) continue;
          if (requirement.kind === "env" && requirement.secret) neededSecrets.add(requirement.name);
          if (
            requirement.kind === "secrets-provider" &&
            requirement.provider === PASSPHRASE_PROVIDER
          ) {
            neededSecrets.add("PULUMI_CONFIG_PASSPHRASE");
          }
          const problem = check(requirement, operation, job, invocation, env);
          if (problem !== undefined) {
            problems.push(
              `${where}: pulumi ${operation} ${invocation.stack} needs ${describeRequirement(requirement)} (${requirement.reason}): ${problem}`,
            );
          }
        }
      }
    }
    // Least privilege: a secret in a Pulumi job that none of its operations needs.
    if (job.pulumi.length > 0) {
      for (const invocation of job.pulumi) {
        for (const [name, value] of Object.entries(invocation.env)) {
          const secret = secretName(value);
          if (secret !== undefined && secret !== "GITHUB_TOKEN" && !neededSecrets.has(name)) {
            problems.push(
              `${where}: ${invocation.label} is given ${name}, which no operation of this job needs`,
            );
          }
        }
      }
    }
    if (env !== undefined && PROTECTED_ZONES.includes(env.zone) && job.runsPullRequestCode) {
      problems.push(
        `${where}: protected environment ${env.name} in a job running pull-request code`,
      );
    }
  }
  return [...new Set(problems)];
}
