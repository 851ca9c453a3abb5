/**
 * A GitHub workflow file read as the trust analysis needs it: per job, which events run it, whose
 * code it runs (the pull request's, the base branch's, main's), which GitHub environment, secrets,
 * variables, permissions and GCP identity it holds, and every Pulumi operation it performs on which
 * stack. GitHub's own parser (@actions/workflow-parser, test/workflows) checks the syntax; this
 * reads the YAML for meaning.
 *
 * Deliberately small: environments must be literal names, stacks literal or resolved through
 * `env`/`matrix` values and the PR number; what it cannot resolve it reports as unresolved, and
 * the rules refuse that rather than guess.
 */
import { parse as parseYaml } from "yaml";
import { stackKey, type PulumiOperation } from "./environments";

export interface RawStep {
  readonly id?: string;
  readonly name?: string;
  readonly uses?: string;
  readonly run?: string;
  readonly if?: string;
  readonly with?: Readonly<Record<string, unknown>>;
  readonly env?: Readonly<Record<string, unknown>>;
}

export interface RawJob {
  readonly name?: string;
  readonly if?: string;
  readonly environment?: string | { readonly name: string; readonly url?: string };
  readonly permissions?: Readonly<Record<string, string>> | string;
  readonly needs?: string | readonly string[];
  readonly env?: Readonly<Record<string, unknown>>;
  readonly strategy?: { readonly matrix?: Readonly<Record<string, unknown>> };
  readonly steps?: readonly RawStep[];
  readonly uses?: string;
}

export interface RawWorkflow {
  readonly name?: string;
  readonly on: string | readonly string[] | Readonly<Record<string, unknown>>;
  readonly permissions?: Readonly<Record<string, string>> | string;
  readonly env?: Readonly<Record<string, unknown>>;
  readonly concurrency?: unknown;
  readonly jobs: Readonly<Record<string, RawJob>>;
}

/** Whose code a job's checkout brings in. */
export type CodeSource = "pull-request" | "base-branch" | "pushed-commit" | "none";

export interface SecretRef {
  readonly name: string;
  /** Where the expression sits: `workflow-env`, `job-env`, `step <i> env`, `step <i> with`… */
  readonly where: string;
  /** The step index, when in a step. */
  readonly step?: number;
  readonly inEnv: boolean;
}

export interface PulumiInvocation {
  readonly step: number;
  readonly label: string;
  readonly via: "action" | "cli";
  /** The command and, with `refresh`, a refresh before it. */
  readonly operations: readonly PulumiOperation[];
  /** Resolved and normalised (`pr-<n>`), or the raw text when it could not be resolved. */
  readonly stack: string;
  /** The backend expression as written (`${{ vars.PULUMI_BACKEND_URL }}`), if any. */
  readonly backend?: string;
  /** Environment of the step: workflow, then job, then step `env` (raw expressions). */
  readonly env: Readonly<Record<string, string>>;
  /** The action's `secrets-provider` input (used when `upsert` creates the stack). */
  readonly secretsProvider?: string;
  readonly upsert: boolean;
}

export interface GcpAuth {
  readonly step: number;
  readonly workloadIdentityProvider?: string;
  readonly serviceAccount?: string;
}

export interface JobModel {
  readonly file: string;
  readonly id: string;
  readonly workflow: RawWorkflow;
  readonly job: RawJob;
  /** Events that run this job (the workflow's triggers, narrowed by `github.event_name` in `if`). */
  readonly triggers: readonly string[];
  readonly environment?: string;
  /** Effective token permissions (the job's, else the workflow's). */
  readonly permissions: Readonly<Record<string, string>>;
  /** The job's definition comes from the pull request (`pull_request`: the merge commit's file). */
  readonly definitionFromPullRequest: boolean;
  /** The job checks out the pull request's code (its merge commit or head) and runs it. */
  readonly checksOutPullRequestCode: boolean;
  /** Its definition or the code it checks out comes from the pull request. */
  readonly runsPullRequestCode: boolean;
  readonly checkouts: readonly {
    readonly step: number;
    readonly source: CodeSource;
    readonly ref?: string;
    readonly persistCredentials: boolean;
  }[];
  readonly secrets: readonly SecretRef[];
  readonly variables: readonly string[];
  readonly gcpAuth: readonly GcpAuth[];
  readonly pulumi: readonly PulumiInvocation[];
}

export const PR_NUMBER_EXPRESSIONS = [
  "${{ github.event.pull_request.number }}",
  "${{ github.event.number }}",
];

export function parseWorkflow(text: string): RawWorkflow {
  return parseYaml(text) as RawWorkflow;
}

export function workflowTriggers(workflow: RawWorkflow): string[] {
  const on = workflow.on;
  if (typeof on === "string") return [on];
  if (Array.isArray(on)) return [...(on as string[])];
  return Object.keys(on as Record<string, unknown>);
}

/** A trigger's filter (`types`, `branches`), when the workflow gives one. */
export function triggerFilter(
  workflow: RawWorkflow,
  trigger: string,
): Readonly<Record<string, unknown>> | undefined {
  const on = workflow.on;
  if (typeof on !== "object" || Array.isArray(on)) return undefined;
  const value = (on as Record<string, unknown>)[trigger];
  return value && typeof value === "object" ? (value as Record<string, unknown>) : undefined;
}

/** The job's triggers: `github.event_name == 'x'` in its `if` keeps x, `!=` drops it. */
function jobTriggers(workflow: RawWorkflow, job: RawJob): string[] {
  let triggers = workflowTriggers(workflow);
  const condition = job.if ?? "";
  const equal = [...condition.matchAll(/github\.event_name\s*==\s*'([a-z_]+)'/g)].map((m) => m[1]!);
  if (equal.length > 0) triggers = triggers.filter((t) => equal.includes(t));
  const unequal = [...condition.matchAll(/github\.event_name\s*!=\s*'([a-z_]+)'/g)].map(
    (m) => m[1]!,
  );
  return triggers.filter((t) => !unequal.includes(t));
}

function asText(value: unknown): string {
  return typeof value === "string" ? value : JSON.stringify(value);
}

function textRecord(value: Readonly<Record<string, unknown>> | undefined): Record<string, string> {
  return Object.fromEntries(Object.entries(value ?? {}).map(([k, v]) => [k, asText(v)]));
}

function effectivePermissions(workflow: RawWorkflow, job: RawJob): Record<string, string> {
  const permissions = job.permissions ?? workflow.permissions;
  if (permissions === undefined) return { "(default)": "write-all" };
  if (typeof permissions === "string") return { "(all)": permissions };
  return { ...permissions };
}

const PR_HEAD_REF =
  /github\.event\.pull_request\.head\.|github\.head_ref|refs\/pull\/|github\.event\.workflow_run\.head_|github\.event\.issue\.pull_request/;
const BASE_REF = /github\.event\.pull_request\.base\.|github\.base_ref|^main$|^refs\/heads\/main$/;

/** What a checkout without `ref` brings in, per trigger (GitHub's `GITHUB_SHA`). */
function defaultCheckout(trigger: string): CodeSource {
  switch (trigger) {
    case "pull_request":
      return "pull-request"; // the merge commit of the PR
    case "pull_request_target":
    case "workflow_run":
    case "issue_comment":
      return "base-branch";
    default:
      return "pushed-commit";
  }
}

function checkoutSource(ref: string | undefined, triggers: readonly string[]): CodeSource {
  if (ref !== undefined) {
    if (PR_HEAD_REF.test(ref)) return "pull-request";
    if (BASE_REF.test(ref)) return "base-branch";
    return "pull-request"; // an unknown ref: assume the worst
  }
  const sources = triggers.map(defaultCheckout);
  if (sources.includes("pull-request")) return "pull-request";
  if (sources.includes("base-branch")) return "base-branch";
  return "pushed-commit";
}

function collectRefs(
  prefix: "secrets" | "vars",
  value: unknown,
): { name: string; dynamic: boolean }[] {
  const text = asText(value ?? "");
  const refs: { name: string; dynamic: boolean }[] = [];
  for (const match of text.matchAll(new RegExp(`\\b${prefix}\\.([A-Za-z_][A-Za-z0-9_]*)`, "g"))) {
    refs.push({ name: match[1]!, dynamic: false });
  }
  if (new RegExp(`\\b${prefix}\\[`).test(text)) refs.push({ name: `${prefix}[…]`, dynamic: true });
  if (prefix === "secrets" && /toJSON\(\s*secrets\s*\)/.test(text)) {
    refs.push({ name: "toJSON(secrets)", dynamic: true });
  }
  return refs;
}

function secretRefs(workflow: RawWorkflow, job: RawJob): SecretRef[] {
  const refs: SecretRef[] = [];
  const add = (value: unknown, where: string, inEnv: boolean, step?: number) => {
    for (const ref of collectRefs("secrets", value)) {
      refs.push({ name: ref.name, where, inEnv, ...(step !== undefined && { step }) });
    }
  };
  add(workflow.env, "workflow env", true);
  add(job.env, "job env", true);
  (job.steps ?? []).forEach((step, index) => {
    add(step.env, `step ${index + 1} env`, true, index);
    add(step.with, `step ${index + 1} with`, false, index);
    add(step.run, `step ${index + 1} run`, false, index);
    add(step.if, `step ${index + 1} if`, false, index);
  });
  add({ if: job.if, environment: job.environment, strategy: job.strategy }, "job", false);
  return refs;
}

function variableRefs(workflow: RawWorkflow, job: RawJob): string[] {
  const names = new Set<string>();
  for (const ref of [...collectRefs("vars", workflow.env), ...collectRefs("vars", job)]) {
    names.add(ref.name);
  }
  return [...names].sort();
}

/** Replaces `${{ env.X }}`, `$X`, `${X}` and the PR number until nothing changes. */
export function resolveText(text: string, env: Readonly<Record<string, string>>): string {
  let current = text;
  for (let round = 0; round < 5; round += 1) {
    let next = current;
    for (const expression of PR_NUMBER_EXPRESSIONS) next = next.replaceAll(expression, "<n>");
    next = next.replace(/\$\{\{\s*env\.([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g, (all, name: string) =>
      env[name] !== undefined ? env[name]! : all,
    );
    next = next.replace(
      /\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)/g,
      (all, a, b) => {
        const name = (a ?? b) as string;
        return env[name] !== undefined ? env[name]! : all;
      },
    );
    if (next === current) break;
    current = next;
  }
  return current;
}

/** The stacks a `stack-name` / `--stack` value stands for, one per matrix value. */
function resolveStacks(
  raw: string,
  env: Readonly<Record<string, string>>,
  matrix: Readonly<Record<string, unknown>> | undefined,
): string[] {
  const unquoted = raw.replace(/^"(.*)"$/, "$1");
  const matrixRef = /\$\{\{\s*matrix\.([A-Za-z_][A-Za-z0-9_-]*)\s*\}\}/.exec(unquoted);
  const values =
    matrixRef && Array.isArray(matrix?.[matrixRef[1]!])
      ? (matrix![matrixRef[1]!] as unknown[]).map((value) =>
          unquoted.replace(matrixRef[0], String(value)),
        )
      : [unquoted];
  return values.map((value) => {
    const resolved = resolveText(value, env);
    return stackKey(resolved) ?? resolved;
  });
}

const PULUMI_ACTION = /^pulumi\/actions@/;
const ACTION_COMMANDS: Readonly<Record<string, PulumiOperation>> = {
  preview: "preview",
  up: "up",
  update: "up",
  refresh: "refresh",
  destroy: "destroy",
};

function isTrue(value: unknown): boolean {
  return value === true || value === "true";
}

function pulumiInvocations(workflow: RawWorkflow, job: RawJob): PulumiInvocation[] {
  const invocations: PulumiInvocation[] = [];
  const matrix = job.strategy?.matrix;
  (job.steps ?? []).forEach((step, index) => {
    const env = { ...textRecord(workflow.env), ...textRecord(job.env), ...textRecord(step.env) };
    const label = step.name ?? step.uses ?? step.run?.split("\n")[0] ?? `step ${index + 1}`;
    if (step.uses && PULUMI_ACTION.test(step.uses) && step.with?.command !== undefined) {
      const command = ACTION_COMMANDS[asText(step.with.command)];
      if (command === undefined) return; // `output` reads outputs only
      const operations: PulumiOperation[] =
        isTrue(step.with.refresh) && command !== "refresh" ? ["refresh", command] : [command];
      const backend = step.with["cloud-url"] ?? env.PULUMI_BACKEND_URL;
      const secretsProvider = step.with["secrets-provider"];
      for (const stack of resolveStacks(asText(step.with["stack-name"] ?? ""), env, matrix)) {
        invocations.push({
          step: index,
          label,
          via: "action",
          operations,
          stack,
          ...(backend !== undefined && { backend: resolveText(asText(backend), env) }),
          env,
          ...(secretsProvider !== undefined && {
            secretsProvider: resolveText(asText(secretsProvider), env),
          }),
          upsert: isTrue(step.with.upsert),
        });
      }
      return;
    }
    if (!step.run) return;
    const login = /\bpulumi\s+login\s+("?)(\S+?)\1(\s|$)/m.exec(step.run);
    const backend = login ? login[2] : env.PULUMI_BACKEND_URL;
    for (const line of step.run.split("\n")) {
      const match = /\bpulumi\s+(preview|up|update|refresh|destroy)\b(.*)$/.exec(line);
      if (!match) continue;
      const command = ACTION_COMMANDS[match[1]!]!;
      const args = match[2]!;
      const stackArg = /(?:--stack|-s)[= ]("?)([^\s"]+)\1/.exec(args);
      const operations: PulumiOperation[] =
        /--refresh\b/.test(args) && command !== "refresh" ? ["refresh", command] : [command];
      for (const stack of resolveStacks(stackArg ? stackArg[2]! : "(current)", env, matrix)) {
        invocations.push({
          step: index,
          label,
          via: "cli",
          operations,
          stack,
          ...(backend !== undefined && { backend: resolveText(backend, env) }),
          env,
          upsert: false,
        });
      }
    }
  });
  return invocations;
}

function environmentName(job: RawJob): string | undefined {
  if (job.environment === undefined) return undefined;
  return typeof job.environment === "string" ? job.environment : job.environment.name;
}

export function modelJobs(file: string, workflow: RawWorkflow): JobModel[] {
  return Object.entries(workflow.jobs).map(([id, job]) => {
    const triggers = jobTriggers(workflow, job);
    const definitionFromPullRequest = triggers.includes("pull_request");
    const checkouts = (job.steps ?? []).flatMap((step, index) => {
      if (!step.uses?.startsWith("actions/checkout@")) return [];
      const ref = step.with?.ref === undefined ? undefined : asText(step.with.ref);
      return [
        {
          step: index,
          source: checkoutSource(ref, triggers),
          ...(ref !== undefined && { ref }),
          persistCredentials: step.with?.["persist-credentials"] !== false,
        },
      ];
    });
    const checksOutPullRequestCode = checkouts.some((c) => c.source === "pull-request");
    const gcpAuth = (job.steps ?? []).flatMap((step, index) =>
      step.uses?.startsWith("google-github-actions/auth@")
        ? [
            {
              step: index,
              ...(step.with?.workload_identity_provider !== undefined && {
                workloadIdentityProvider: asText(step.with.workload_identity_provider),
              }),
              ...(step.with?.service_account !== undefined && {
                serviceAccount: asText(step.with.service_account),
              }),
            },
          ]
        : [],
    );
    const environment = environmentName(job);
    return {
      file,
      id,
      workflow,
      job,
      triggers,
      ...(environment !== undefined && { environment }),
      permissions: effectivePermissions(workflow, job),
      definitionFromPullRequest,
      runsPullRequestCode: definitionFromPullRequest || checksOutPullRequestCode,
      checksOutPullRequestCode,
      checkouts,
      secrets: secretRefs(workflow, job),
      variables: variableRefs(workflow, job),
      gcpAuth,
      pulumi: pulumiInvocations(workflow, job),
    };
  });
}

/** `${{ vars.NAME }}` → NAME; anything else undefined. */
export function variableName(expression: string | undefined): string | undefined {
  return /^\$\{\{\s*vars\.([A-Za-z_][A-Za-z0-9_]*)\s*\}\}$/.exec(expression ?? "")?.[1];
}

/** `${{ secrets.NAME }}` → NAME; anything else undefined. */
export function secretName(expression: string | undefined): string | undefined {
  return /^\$\{\{\s*secrets\.([A-Za-z_][A-Za-z0-9_]*)\s*\}\}$/.exec(expression ?? "")?.[1];
}
