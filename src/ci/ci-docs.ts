/**
 * The generated tables of docs/ci.md — every workflow job (trigger, code it runs, token, secrets
 * and identity, what it may change), every GitHub environment with its secrets and variables, the
 * identities and their roles, what each stack needs, and the rule table — rendered from the same
 * data the workflow tests check, so the document cannot drift from the workflows.
 *
 *   npx tsx src/ci/ci-docs.ts      # rewrites the generated blocks of docs/ci.md
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import {
  CI_ENVIRONMENTS,
  SECRETS_PROVIDERS,
  STACK_KEYS,
  ZONES,
  ciEnvironment,
  stackKey,
  zoneOf,
  type CiEnvironment,
  type StackKey,
} from "./environments";
import type { GcpRoleGrant } from "./gcp-roles";
import {
  deriveStackRequirements,
  describeRequirement,
  type StackRequirements,
} from "./stack-requirements";
import {
  modelJobs,
  parseWorkflow,
  triggerFilter,
  type JobModel,
  type RawWorkflow,
} from "./workflow-model";
import { WORKFLOW_RULES } from "./workflow-rules";

export interface CiDocInput {
  readonly workflows: readonly { readonly file: string; readonly workflow: RawWorkflow }[];
  readonly requirements: readonly StackRequirements[];
}

/** A table cell: pipes escaped, and outside code spans `<n>` and `*` kept literal. */
function cell(text: string): string {
  return text
    .split(/(`[^`]*`)/)
    .map((part) =>
      part.startsWith("`")
        ? part
        : part.replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/\*/g, "\\*"),
    )
    .join("")
    .replace(/\|/g, "\\|")
    .replace(/\n/g, " ");
}

function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  return [
    `| ${header.join(" | ")} |`,
    `| ${header.map(() => "---").join(" | ")} |`,
    ...rows.map((row) => `| ${row.map(cell).join(" | ")} |`),
  ].join("\n");
}

const code = (text: string) => `\`${text}\``;

function triggerText(job: JobModel): string {
  const parts = job.triggers.map((trigger) => {
    const filter = triggerFilter(job.workflow, trigger);
    const types = Array.isArray(filter?.types) ? ` (${(filter.types as string[]).join(", ")})` : "";
    const branches = Array.isArray(filter?.branches)
      ? ` ${trigger === "push" ? "to" : "into"} ${(filter.branches as string[]).join(", ")}`
      : "";
    return `${code(trigger)}${types}${branches}`;
  });
  const sameRepository = /head\.repo\.full_name\s*==\s*github\.repository/.test(job.job.if ?? "");
  return `${parts.join("; ")}${sameRepository ? "; same-repository PRs only" : ""}`;
}

function codeText(job: JobModel): string {
  const sources = new Set(job.checkouts.map((checkout) => checkout.source));
  if (sources.has("pull-request")) return "the PR's merge commit (its definition too)";
  if (sources.has("base-branch")) return "the base branch (main), never the PR's head";
  if (sources.has("pushed-commit")) return "main (the merged commit)";
  return job.definitionFromPullRequest
    ? "none checked out (its definition is the PR's)"
    : "none checked out";
}

function tokenText(job: JobModel): string {
  return Object.entries(job.permissions)
    .map(([scope, level]) => `${scope}: ${level}`)
    .join(", ");
}

function holdsText(job: JobModel): string {
  const env = job.environment === undefined ? undefined : ciEnvironment(job.environment);
  const secrets = [...new Set(job.secrets.map((ref) => ref.name))].filter(
    (name) => name !== "GITHUB_TOKEN",
  );
  if (env === undefined) return secrets.length > 0 ? secrets.join(", ") : "nothing";
  const parts = [`environment ${code(env.name)}`];
  if (job.gcpAuth.length > 0) parts.push(`${env.identity.serviceAccount} (${env.identity.access})`);
  if (secrets.length > 0) parts.push(secrets.map(code).join(", "));
  return parts.join("; ");
}

function mayChangeText(job: JobModel): string {
  const env = job.environment === undefined ? undefined : ciEnvironment(job.environment);
  const operations = new Map<StackKey, Set<string>>();
  const railway = new Set<StackKey>();
  for (const invocation of job.pulumi) {
    const stack = stackKey(invocation.stack);
    if (stack === undefined) continue;
    const ops = operations.get(stack) ?? new Set<string>();
    for (const op of invocation.operations) ops.add(op);
    operations.set(stack, ops);
    if (invocation.env.RAILWAY_TOKEN !== undefined) railway.add(stack);
  }
  const changes: string[] = [];
  for (const [stack, ops] of operations) {
    const project = ZONES[zoneOf(stack)].gcpProject;
    const live = [...ops].filter((op) => op !== "preview");
    if (live.length === 0) {
      changes.push(`nothing: reads ${stack}'s state and ${project}`);
    } else {
      const workspace = railway.has(stack) ? ", its Railway workspace" : "";
      changes.push(`${stack} (${live.join(", ")}): ${project}${workspace}, the ${stack} state`);
    }
  }
  const writes = Object.entries(job.permissions)
    .filter(([scope, level]) => level === "write" && scope !== "id-token")
    .map(([scope]) => scope);
  if (writes.includes("pull-requests")) changes.push("the PR's comments");
  if (changes.length === 0) return env ? "nothing" : "nothing (read-only token)";
  return changes.join("; ");
}

export function renderZonesTable(): string {
  const zones = [...new Set(STACK_KEYS.map(zoneOf))];
  return table(
    ["Zone", "Stacks", "GCP project", "State (DIY backend)", "Secrets provider (stack file)"],
    zones.map((zone) => {
      const stacks = STACK_KEYS.filter((stack) => zoneOf(stack) === zone);
      return [
        code(zone),
        stacks.map(code).join(", "),
        code(ZONES[zone].gcpProject),
        code(ZONES[zone].stateBackend),
        stacks.map((stack) => `${code(stack)}: ${code(SECRETS_PROVIDERS[stack])}`).join("; "),
      ];
    }),
  );
}

export function renderJobsTable(input: CiDocInput): string {
  const rows = input.workflows.flatMap(({ file, workflow }) =>
    modelJobs(file, workflow).map((job) => [
      `${code(file)} · ${code(job.id)}`,
      triggerText(job),
      codeText(job),
      tokenText(job),
      holdsText(job),
      mayChangeText(job),
    ]),
  );
  return table(
    ["Workflow · job", "Trigger", "Code it runs", "Token", "Secrets and identity", "May change"],
    rows,
  );
}

function usedBy(input: CiDocInput, env: CiEnvironment): string {
  const jobs = input.workflows.flatMap(({ file, workflow }) =>
    modelJobs(file, workflow)
      .filter((job) => job.environment === env.name)
      .map((job) => `${file} · ${job.id}`),
  );
  return jobs.length > 0 ? jobs.join(", ") : "—";
}

export function renderEnvironmentsTable(input: CiDocInput): string {
  const rows = CI_ENVIRONMENTS.map((env) => [
    code(env.name),
    env.zone,
    env.deploymentBranches === "main" ? "`main` only" : "any branch (PR heads)",
    env.requiredReviewers ? "yes (and prevent self-review)" : "no",
    usedBy(input, env),
    Object.keys(env.secrets).length > 0
      ? Object.entries(env.secrets)
          .map(([name, what]) => `${code(name)}: ${what}`)
          .join("; ")
      : "none",
    Object.entries(env.variables)
      .map(([name, variable]) => `${code(name)} = ${code(variable.value)}`)
      .join("; "),
  ]);
  return table(
    [
      "Environment",
      "Zone",
      "Deployment branches",
      "Required reviewers",
      "Used by",
      "Secrets",
      "Variables",
    ],
    rows,
  );
}

function rolesOf(env: CiEnvironment, requirements: readonly StackRequirements[]): GcpRoleGrant[] {
  const grants = new Map<string, GcpRoleGrant>();
  for (const stack of env.stacks) {
    const derived = requirements.find((r) => r.stack === stack);
    for (const requirement of derived?.requirements ?? []) {
      if (requirement.kind !== "gcp-identity") continue;
      const roles =
        env.identity.access === "deploy" ? requirement.deployRoles : requirement.previewRoles;
      for (const grant of roles) grants.set(`${grant.role}|${grant.condition ?? ""}`, grant);
    }
  }
  return [...grants.values()];
}

function grantText(grant: GcpRoleGrant): string {
  const scope = grant.scope === "project" ? "" : ` on the ${grant.scope}`;
  const condition = grant.condition ? ` if ${code(grant.condition)}` : "";
  return `${code(grant.role)}${scope}${condition}`;
}

export function renderIdentitiesTable(input: CiDocInput): string {
  const rows = CI_ENVIRONMENTS.map((env) => [
    code(env.identity.serviceAccount),
    code(env.name),
    `${rolesOf(env, input.requirements).map(grantText).join(", ")} on ${ZONES[env.zone].gcpProject}`,
    env.identity.state
      .map(
        (grant) =>
          `${grant.access === "read" ? "roles/storage.objectViewer" : "roles/storage.objectUser"} on ${code(grant.backend)}${grant.objects ? ` if ${code(grant.objects)}` : ""}`,
      )
      .join("; "),
    env.identity.kmsKeys.map(({ key, role }) => `${role} on ${code(key)}`).join("; "),
    `${code(`repo:<owner>/<repo>:environment:${env.name}`)}`,
  ]);
  return table(
    [
      "Service account",
      "Environment",
      "Project roles (derived from the program)",
      "State",
      "Secrets provider",
      "Workload Identity subject",
    ],
    rows,
  );
}

export function renderRequirementsTable(input: CiDocInput): string {
  const rows = input.requirements.flatMap((derived) =>
    derived.requirements.map((requirement) => [
      code(derived.stack),
      describeRequirement(requirement),
      requirement.kind === "env" ? requirement.operations.join(", ") : "all",
      requirement.reason,
    ]),
  );
  return table(["Stack", "Needs", "For", "Why (derived from)"], rows);
}

export function renderRulesTable(): string {
  return table(
    ["Rule", "What it requires"],
    WORKFLOW_RULES.map((rule) => [code(rule.id), rule.rule]),
  );
}

export function renderCiDocBlocks(input: CiDocInput): Record<string, string> {
  return {
    zones: renderZonesTable(),
    jobs: renderJobsTable(input),
    environments: renderEnvironmentsTable(input),
    identities: renderIdentitiesTable(input),
    requirements: renderRequirementsTable(input),
    rules: renderRulesTable(),
  };
}

/**
 * Replaces each `<!-- ci:<name> -->` … `<!-- /ci:<name> -->` block (throws on a missing one), then
 * formats the document as `prettier --check .` expects it.
 */
export function updateCiDoc(text: string, blocks: Readonly<Record<string, string>>): string {
  let result = text;
  for (const [name, content] of Object.entries(blocks)) {
    const pattern = new RegExp(`(<!-- ci:${name} -->\\n)[\\s\\S]*?(<!-- /ci:${name} -->)`);
    if (!pattern.test(result)) throw new Error(`docs/ci.md has no <!-- ci:${name} --> block`);
    result = result.replace(
      pattern,
      (_all, open: string, close: string) => `${open}\n${content}\n\n${close}`,
    );
  }
  return formatMarkdown(result);
}

/** Prettier's CLI in a child process: its API is ESM underneath, which jest's CommonJS cannot load. */
function formatMarkdown(text: string): string {
  const manifest = require.resolve("prettier/package.json");
  const bin = path.join(path.dirname(manifest), "bin/prettier.cjs");
  const root = path.resolve(__dirname, "../..");
  return execFileSync(process.execPath, [bin, "--stdin-filepath", "docs/ci.md"], {
    cwd: root,
    input: text,
    encoding: "utf8",
  });
}

/** The workflows of a directory, sorted by file name. */
export function readWorkflows(dir: string): { file: string; workflow: RawWorkflow }[] {
  return fs
    .readdirSync(dir)
    .filter((file) => /\.ya?ml$/.test(file))
    .sort()
    .map((file) => ({
      file,
      workflow: parseWorkflow(fs.readFileSync(path.join(dir, file), "utf8")),
    }));
}

export async function deriveAllStackRequirements(
  projectDir: string,
  stacks: readonly StackKey[] = STACK_KEYS,
): Promise<StackRequirements[]> {
  const derived: StackRequirements[] = [];
  // One at a time: the mock runtime is process-global.
  for (const stack of stacks) derived.push(await deriveStackRequirements(projectDir, stack));
  return derived;
}

async function main(): Promise<void> {
  const root = path.resolve(__dirname, "../..");
  const docFile = path.join(root, "docs/ci.md");
  const input: CiDocInput = {
    workflows: readWorkflows(path.join(root, ".github/workflows")),
    requirements: await deriveAllStackRequirements(root),
  };
  const text = updateCiDoc(fs.readFileSync(docFile, "utf8"), renderCiDocBlocks(input));
  fs.writeFileSync(docFile, text);
  console.log(`updated ${path.relative(process.cwd(), docFile)}`);
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : String(error));
    process.exitCode = 1;
  });
}
