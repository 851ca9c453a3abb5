/**
 * The rule table over the parsed workflows: each rule is one sentence and one check, and a failure
 * names the file, the job, the rule and what broke it, so one run lists every problem. The rules
 * follow GitHub's "Security hardening for GitHub Actions" guide and DESIGN §5's trust boundary:
 * code from a pull request never runs with anything that can read or change staging or prod.
 */
import {
  CI_ENVIRONMENTS,
  PROTECTED_ZONES,
  ciEnvironment,
  protectedIdentifiers,
  stackKey,
  zoneOf,
} from "./environments";
import { modelJobs, triggerFilter, type JobModel, type RawWorkflow } from "./workflow-model";

export interface WorkflowRule {
  readonly id: string;
  readonly rule: string;
  readonly check: (job: JobModel) => string[];
}

/** Events whose runs start from a pull request (its code or its definition may be in play). */
const PULL_REQUEST_EVENTS = ["pull_request", "pull_request_target", "pull_request_review"];
/** Events that run the base branch's definition with the base's secrets, whatever the PR holds. */
const PRIVILEGED_PR_EVENTS = ["pull_request_target", "workflow_run", "issue_comment"];

// Fields an outsider writes (GitHub's guide, "Understanding the risk of script injections").
const UNTRUSTED_EXPRESSION =
  /\$\{\{[^}]*(github\.head_ref|github\.event\.(issue|pull_request|comment|review|review_comment|discussion|pages|commits|head_commit|workflow_run)\b[^}]*\b(title|body|message|name|email|label|ref|default_branch|page_name)\b)[^}]*\}\}/;

const SECRET_ENV_NAMES = ["PULUMI_CONFIG_PASSPHRASE", "RAILWAY_TOKEN", "GITHUB_TOKEN"];

function steps(job: JobModel) {
  return job.job.steps ?? [];
}

function protectedEnvironment(name: string | undefined): boolean {
  const env = name === undefined ? undefined : ciEnvironment(name);
  return env !== undefined && PROTECTED_ZONES.includes(env.zone);
}

function isPulumiStep(job: JobModel, index: number): boolean {
  return job.pulumi.some((invocation) => invocation.step === index);
}

function writePermissions(job: JobModel): string[] {
  return Object.entries(job.permissions)
    .filter(([, level]) => level === "write" || level === "write-all")
    .map(([scope]) => scope)
    .sort();
}

export const WORKFLOW_RULES: readonly WorkflowRule[] = [
  {
    id: "actions-pinned",
    rule: "Every action is pinned to a full commit SHA (a tag can be moved; a SHA cannot).",
    check: (job) =>
      steps(job).flatMap((step) => {
        if (!step.uses || step.uses.startsWith("./")) return [];
        const ref = step.uses.split("@")[1] ?? "";
        return /^[0-9a-f]{40}$/.test(ref) ? [] : [`${step.uses} is not pinned to a commit SHA`];
      }),
  },
  {
    id: "permissions-declared",
    rule: "The token's permissions are declared (workflow or job): never the repository default.",
    check: (job) =>
      "(default)" in job.permissions ? ["no permissions declared (the default is too broad)"] : [],
  },
  {
    id: "keyless-gcp",
    rule: "GCP is reached only through Workload Identity Federation: no service-account key.",
    check: (job) =>
      steps(job).flatMap((step) => {
        if (!step.uses?.startsWith("google-github-actions/auth@")) return [];
        const problems: string[] = [];
        if (!step.with?.workload_identity_provider || !step.with?.service_account) {
          problems.push("GCP auth without workload_identity_provider and service_account");
        }
        if (step.with?.credentials_json) problems.push("GCP auth with a key (credentials_json)");
        if (job.permissions["id-token"] !== "write") {
          problems.push("Workload Identity Federation needs permissions id-token: write");
        }
        return problems;
      }),
  },
  {
    id: "no-pulumi-cloud",
    rule: "Nothing needs Pulumi Cloud (DESIGN §3): no PULUMI_ACCESS_TOKEN.",
    check: (job) =>
      JSON.stringify(job.job).includes("PULUMI_ACCESS_TOKEN") ||
      JSON.stringify(job.workflow.env ?? {}).includes("PULUMI_ACCESS_TOKEN")
        ? ["uses Pulumi Cloud (PULUMI_ACCESS_TOKEN)"]
        : [],
  },
  {
    id: "no-secret-in-script",
    rule: "No secret is interpolated into a script or echoed; secrets reach scripts through env.",
    check: (job) => {
      const secretEnv = new Set(SECRET_ENV_NAMES);
      for (const env of [job.workflow.env, job.job.env, ...steps(job).map((s) => s.env)]) {
        for (const [name, value] of Object.entries(env ?? {})) {
          if (/secrets\./.test(String(value))) secretEnv.add(name);
        }
      }
      return steps(job).flatMap((step, index) => {
        const script = step.run ?? (typeof step.with?.script === "string" ? step.with.script : "");
        const problems: string[] = [];
        if (/\$\{\{\s*secrets\./.test(script)) {
          problems.push(`step ${index + 1} interpolates a secret into its script`);
        }
        for (const name of secretEnv) {
          if (new RegExp(`\\becho\\b[^\\n]*\\$\\{?${name}\\b`).test(script)) {
            problems.push(`step ${index + 1} echoes ${name}`);
          }
        }
        return problems;
      });
    },
  },
  {
    id: "no-untrusted-expression-in-script",
    rule: "No attacker-controlled expression (PR title, body, branch name…) is expanded into a script.",
    check: (job) =>
      steps(job).flatMap((step, index) => {
        const script = step.run ?? (typeof step.with?.script === "string" ? step.with.script : "");
        const match = UNTRUSTED_EXPRESSION.exec(script);
        return match ? [`step ${index + 1} expands ${match[0]} into a script`] : [];
      }),
  },
  {
    id: "pr-code-never-protected",
    rule: "A job running pull-request code (any job of a pull_request workflow, or a checkout of the PR's code) holds nothing of staging or prod: no protected environment, no Pulumi operation on a protected stack, no protected project, bucket, key or identity.",
    check: (job) => {
      if (!job.runsPullRequestCode) return [];
      const problems: string[] = [];
      if (protectedEnvironment(job.environment)) {
        problems.push(`runs pull-request code in the protected environment ${job.environment}`);
      }
      for (const invocation of job.pulumi) {
        const key = stackKey(invocation.stack);
        if (key !== undefined && PROTECTED_ZONES.includes(zoneOf(key))) {
          problems.push(
            `runs pull-request code with pulumi ${invocation.operations.join("+")} on the protected stack ${invocation.stack}`,
          );
        }
      }
      const text = JSON.stringify(job.job);
      for (const identifier of protectedIdentifiers()) {
        if (text.includes(identifier)) problems.push(`runs pull-request code naming ${identifier}`);
      }
      return problems;
    },
  },
  {
    id: "no-pwn-request",
    rule: "A job triggered with the base branch's privileges (pull_request_target, workflow_run, issue_comment) never checks out or runs the pull request's code.",
    check: (job) => {
      if (!job.triggers.some((t) => PRIVILEGED_PR_EVENTS.includes(t))) return [];
      return job.checkouts
        .filter((checkout) => checkout.source === "pull-request")
        .map(
          (checkout) =>
            `step ${checkout.step + 1} checks out the pull request's code (${checkout.ref ?? "default ref"}) under ${job.triggers.join(", ")}`,
        );
    },
  },
  {
    id: "secrets-from-environment",
    rule: "Every secret but GITHUB_TOKEN is an environment secret of the job's GitHub environment, declared for it: no repository-wide secret, no dynamic access to all secrets.",
    check: (job) => {
      const env = job.environment === undefined ? undefined : ciEnvironment(job.environment);
      const problems = new Set<string>();
      for (const ref of job.secrets) {
        if (ref.name === "GITHUB_TOKEN") continue;
        if (ref.name.includes("[") || ref.name.includes("(")) {
          problems.add(`reads ${ref.name}`);
        } else if (env === undefined) {
          problems.add(`reads the repository-wide secret ${ref.name} (no environment)`);
        } else if (!(ref.name in env.secrets)) {
          problems.add(`reads ${ref.name}, which environment ${env.name} does not hold`);
        }
      }
      return [...problems];
    },
  },
  {
    id: "variables-from-environment",
    rule: "Every variable a job reads is declared for its GitHub environment (so each environment's values stay its own).",
    check: (job) => {
      const env = job.environment === undefined ? undefined : ciEnvironment(job.environment);
      return job.variables.flatMap((name) => {
        if (env === undefined)
          return [`reads the repository-wide variable ${name} (no environment)`];
        return name in env.variables
          ? []
          : [`reads ${name}, which environment ${env.name} does not declare`];
      });
    },
  },
  {
    id: "secrets-only-in-pulumi-step",
    rule: "A secret (but GITHUB_TOKEN) is given only to the step running Pulumi, through its env: never to the workflow or job env, so no other step (npm ci, tests) sees it.",
    check: (job) => {
      const problems = new Set<string>();
      for (const ref of job.secrets) {
        if (ref.name === "GITHUB_TOKEN") continue;
        if (ref.step === undefined) {
          problems.add(`${ref.name} is in the ${ref.where}`);
        } else if (!ref.inEnv || !isPulumiStep(job, ref.step)) {
          problems.add(`${ref.name} is in ${ref.where}, which is not a Pulumi step's env`);
        }
      }
      return [...problems];
    },
  },
  {
    id: "oidc-only-in-environment",
    rule: "Only a job in a GitHub environment may request an OIDC token (id-token: write): the token's subject then names the environment, which each identity's Workload Identity binding requires.",
    check: (job) =>
      job.permissions["id-token"] === "write" && job.environment === undefined
        ? ["requests an OIDC token (id-token: write) without an environment"]
        : [],
  },
  {
    id: "pr-code-least-privilege",
    rule: "A job that checks out pull-request code keeps the token out of .git (persist-credentials: false) and holds no write permission but id-token.",
    check: (job) => {
      if (!job.checksOutPullRequestCode) return [];
      const problems = job.checkouts
        .filter((checkout) => checkout.persistCredentials)
        .map((checkout) => `step ${checkout.step + 1} persists the token in .git/config`);
      const writes = writePermissions(job).filter((scope) => scope !== "id-token");
      if (writes.length > 0) {
        problems.push(`runs pull-request code with write permission ${writes.join(", ")}`);
      }
      return problems;
    },
  },
  {
    id: "protected-only-on-main",
    rule: "A protected environment (staging, prod) is used only by jobs that run on a push to main, and is itself restricted to main.",
    check: (job) => {
      if (!protectedEnvironment(job.environment)) return [];
      const problems: string[] = [];
      const push = triggerFilter(job.workflow, "push");
      const branches = push?.branches;
      const onlyMain = Array.isArray(branches) && branches.length === 1 && branches[0] === "main";
      if (job.triggers.some((t) => t !== "push") || !onlyMain) {
        problems.push(
          `uses ${job.environment} on ${job.triggers.join(", ")}${onlyMain ? "" : " (not only pushes to main)"}`,
        );
      }
      if (ciEnvironment(job.environment!)!.deploymentBranches !== "main") {
        problems.push(`environment ${job.environment} is not restricted to main`);
      }
      return problems;
    },
  },
  {
    id: "known-environment",
    rule: "A job names its environment literally, and only one of the environments in src/ci/environments.ts.",
    check: (job) => {
      const name = job.environment;
      if (name === undefined) return [];
      if (name.includes("${{")) return [`names its environment by an expression (${name})`];
      return ciEnvironment(name) === undefined
        ? [`names environment ${name}, not one of ${CI_ENVIRONMENTS.map((e) => e.name).join(", ")}`]
        : [];
    },
  },
  {
    id: "pulumi-in-its-environment",
    rule: "Every Pulumi operation runs in the environment made for its stack and operation (the stack's zone, an operation the environment allows).",
    check: (job) => {
      const env = job.environment === undefined ? undefined : ciEnvironment(job.environment);
      return job.pulumi.flatMap((invocation) => {
        const what = `pulumi ${invocation.operations.join("+")} ${invocation.stack}`;
        const key = stackKey(invocation.stack);
        if (key === undefined) return [`${what}: the stack could not be resolved`];
        if (env === undefined) return [`${what} runs without a GitHub environment`];
        const problems: string[] = [];
        if (!env.stacks.includes(key)) {
          problems.push(
            `${what} runs in environment ${env.name}, which is for ${env.stacks.join(", ")}`,
          );
        }
        const refused = invocation.operations.filter((op) => !env.operations.includes(op));
        if (refused.length > 0) {
          problems.push(`${what}: environment ${env.name} does not allow ${refused.join(", ")}`);
        }
        return problems;
      });
    },
  },
  {
    id: "pr-environment-same-repository",
    rule: "A job of a pull-request event that enters an environment runs only for pull requests from this repository (a fork gets no secrets or OIDC token, and its PR never deploys).",
    check: (job) => {
      if (job.environment === undefined) return [];
      if (!job.triggers.some((t) => PULL_REQUEST_EVENTS.includes(t))) return [];
      return /github\.event\.pull_request\.head\.repo\.full_name\s*==\s*github\.repository/.test(
        job.job.if ?? "",
      )
        ? []
        : ["enters an environment without requiring a same-repository pull request"];
    },
  },
];

/** Every rule over every job of the given workflows, as `file: job id: [rule] problem`. */
export function checkWorkflowRules(
  workflows: readonly { readonly file: string; readonly workflow: RawWorkflow }[],
  rules: readonly WorkflowRule[] = WORKFLOW_RULES,
): string[] {
  const problems: string[] = [];
  for (const { file, workflow } of workflows) {
    for (const job of modelJobs(file, workflow)) {
      for (const rule of rules) {
        for (const problem of rule.check(job)) {
          problems.push(`${file}: job ${job.id}: [${rule.id}] ${problem}`);
        }
      }
    }
  }
  return problems;
}
