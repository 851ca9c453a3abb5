/**
 * What Pulumi and its providers need, for one stack, to run in CI — derived from the program itself:
 * the stack's config (Pulumi.yaml defaults + Pulumi.<stack>.yaml, as the CLI hands them over), its
 * stack file's secrets provider, and the resources its program registers (the offline plan, under
 * Pulumi's mock runtime). Each resource type maps to what its provider reads:
 *
 * - every stack: its state (the DIY backend URL, `PULUMI_BACKEND_URL` or the action's `cloud-url`)
 *   and its secrets provider (`secretsprovider:` in the stack file; without one a DIY stack uses a
 *   passphrase, `PULUMI_CONFIG_PASSPHRASE`);
 * - `gcp:*`: a GCP identity for the project (`gcp:project`, Application Default Credentials —
 *   Workload Identity Federation in CI), with the roles of ./gcp-roles.ts;
 * - `pulumi-nodejs:dynamic/railway:*`: the Railway token, from the secret config `railway:token`
 *   or else `RAILWAY_TOKEN` (infra/railway/provider-base.ts); only operations that call Railway's
 *   API need it: refresh, up and destroy — a preview calls only `check` and `diff`, which are
 *   offline;
 * - `pulumi:pulumi:StackReference`: the referenced stack's state (same backend) and secrets
 *   provider (its secret outputs are decrypted with it);
 * - `postgresql:*`: nothing from the environment (the program hands it the connection), unless
 *   that connection is a loopback address: then a Cloud SQL Auth Proxy must listen there;
 * - `random:*`, our components and our other dynamic resources: nothing.
 *
 * A resource type this table does not know fails the derivation (UnknownResourceTypeError).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { parse as parseYaml } from "yaml";
import { buildPlan } from "../plan/mock-program";
import type { Plan } from "../plan/resource-graph";
import { readStackConfig, type StackConfig } from "../plan/stack-config";
import { stackKey, type PulumiOperation, type StackKey } from "./environments";
import { gcpRolesFor, UnknownResourceTypeError, type GcpRoleGrant } from "./gcp-roles";

export type StackRequirement =
  | {
      readonly kind: "state";
      readonly stack: StackKey;
      /** `own`: the stack's state (read for a preview, written otherwise); `reference`: read. */
      readonly use: "own" | "reference";
      readonly reason: string;
    }
  | {
      readonly kind: "secrets-provider";
      readonly stack: StackKey;
      /** A `gcpkms://…` key, or `passphrase` (then `PULUMI_CONFIG_PASSPHRASE`). */
      readonly provider: string;
      readonly use: "own" | "reference";
      readonly reason: string;
    }
  | {
      readonly kind: "gcp-identity";
      readonly project: string;
      readonly deployRoles: readonly GcpRoleGrant[];
      readonly previewRoles: readonly GcpRoleGrant[];
      readonly reason: string;
    }
  | {
      readonly kind: "env";
      readonly name: string;
      readonly secret: boolean;
      readonly operations: readonly PulumiOperation[];
      readonly reason: string;
    }
  | {
      readonly kind: "local-listener";
      readonly host: string;
      readonly port: string;
      readonly reason: string;
    };

export interface StackRequirements {
  readonly stack: StackKey;
  readonly requirements: readonly StackRequirement[];
}

/** The top-level settings of a stack file that Pulumi, not the program, reads. */
export interface StackFileSettings {
  /** The file they came from, relative to the project (a PR stack's: the template). */
  readonly file: string;
  readonly secretsProvider?: string;
  readonly encryptedKey?: string;
}

export interface StackFacts {
  readonly stack: StackKey;
  readonly config: StackConfig;
  readonly settings: StackFileSettings;
  readonly plan: Plan;
  /** The stack file settings of a stack this one references (by stack name). */
  readonly settingsOf: (stack: StackKey) => StackFileSettings;
}

/** Operations that call a provider's read/create/update/delete (a preview calls check and diff). */
const LIVE_OPERATIONS: readonly PulumiOperation[] = ["refresh", "up", "destroy"];

const PASSPHRASE = "passphrase";

function secretsProviderOf(settings: StackFileSettings): string {
  return settings.secretsProvider ?? PASSPHRASE;
}

/** `pulumi:providers:gcp` counts as `gcp:`: the provider needs what its resources need. */
function packageOf(type: string): string {
  const provider = /^pulumi:providers:(.+)$/.exec(type);
  return provider ? provider[1]! : type.split(":")[0]!;
}

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|localhost|::1)$/;

/** Pure: the requirements of one stack from its facts. */
export function stackRequirements(facts: StackFacts): StackRequirements {
  const { stack, config, settings, plan } = facts;
  const requirements: StackRequirement[] = [
    {
      kind: "state",
      stack,
      use: "own",
      reason: "Pulumi reads and writes the stack's state in its DIY backend",
    },
    {
      kind: "secrets-provider",
      stack,
      provider: secretsProviderOf(settings),
      use: "own",
      reason: settings.secretsProvider
        ? `${settings.file} declares secretsprovider`
        : `${settings.file} declares no secretsprovider: a DIY stack then uses a passphrase`,
    },
  ];
  const byPackage = new Map<string, Plan["resources"][number][]>();
  for (const resource of plan.resources) {
    const pkg = packageOf(resource.type);
    byPackage.set(pkg, [...(byPackage.get(pkg) ?? []), resource]);
  }
  const unknown: string[] = [];
  for (const [pkg, resources] of [...byPackage.entries()].sort(([a], [b]) => a.localeCompare(b))) {
    switch (pkg) {
      case "gcp": {
        let roles;
        try {
          roles = gcpRolesFor({ ...plan, resources });
        } catch (error) {
          if (!(error instanceof UnknownResourceTypeError)) throw error;
          unknown.push(...error.types);
          break;
        }
        const project = config.values["gcp:project"];
        requirements.push({
          kind: "gcp-identity",
          project: project ?? "(gcp:project unset)",
          deployRoles: roles.deploy,
          previewRoles: roles.preview,
          reason:
            "the GCP provider (Application Default Credentials, project gcp:project) for the stack's gcp:* resources",
        });
        break;
      }
      case "pulumi-nodejs":
        unknown.push(...dynamicResourceRequirements(resources, config, requirements));
        break;
      case "pulumi":
        for (const resource of resources) {
          if (resource.type !== "pulumi:pulumi:StackReference") {
            unknown.push(resource.type);
            continue;
          }
          requirements.push(...stackReferenceRequirements(resource, facts));
        }
        break;
      case "postgresql":
        for (const resource of resources) {
          if (resource.type !== "pulumi:providers:postgresql") continue;
          const host = String(resource.inputs.host);
          if (LOOPBACK.test(host)) {
            requirements.push({
              kind: "local-listener",
              host,
              port: String(resource.inputs.port),
              reason: `the postgresql provider ${resource.name} connects to ${host} (postgres.cloudsql.adminHost): the Cloud SQL Auth Proxy must listen there beside pulumi`,
            });
          }
        }
        break;
      case "random":
      case "synter":
        break;
      default:
        unknown.push(...resources.map((resource) => resource.type));
    }
  }
  if (unknown.length > 0) throw new UnknownResourceTypeError([...new Set(unknown)].sort());
  return { stack, requirements: dedupe(requirements) };
}

/** Our dynamic resources: Railway's read the token; SchemaMigrations and KeyRotation read nothing. */
const OFFLINE_DYNAMIC_TYPES = [
  // Connects with the migrator URL the program hands it as an input.
  "pulumi-nodejs:dynamic/synter:SchemaMigrations",
  // Pure state machine over its inputs.
  "pulumi-nodejs:dynamic/synter:KeyRotation",
];

function dynamicResourceRequirements(
  resources: Plan["resources"],
  config: StackConfig,
  requirements: StackRequirement[],
): string[] {
  const unknown: string[] = [];
  const railway = resources.filter((r) => r.type.startsWith("pulumi-nodejs:dynamic/railway:"));
  for (const resource of resources) {
    if (!railway.includes(resource) && !OFFLINE_DYNAMIC_TYPES.includes(resource.type)) {
      unknown.push(resource.type);
    }
  }
  // The secret config value wins (resolveRailwayToken); then it arrives with the stack's config,
  // decrypted by its secrets provider, and no environment variable is needed.
  if (railway.length > 0 && config.values["railway:token"] === undefined) {
    requirements.push({
      kind: "env",
      name: "RAILWAY_TOKEN",
      secret: true,
      operations: LIVE_OPERATIONS,
      reason: `the Railway provider (infra/railway/provider-base.ts) for ${[...new Set(railway.map((r) => r.type.split(":").pop()))].sort().join(", ")}; the stack config sets no railway:token`,
    });
  }
  return unknown;
}

function stackReferenceRequirements(
  resource: Plan["resources"][number],
  facts: StackFacts,
): StackRequirement[] {
  const name = String(resource.inputs.name);
  const referenced = stackKey(name.split("/").pop() ?? name);
  if (referenced === undefined) {
    throw new Error(
      `StackReference ${resource.name} names ${name}, which is not one of our stacks`,
    );
  }
  return [
    {
      kind: "state",
      stack: referenced,
      use: "reference",
      reason: `StackReference ${resource.name} reads ${name}'s outputs (same backend)`,
    },
    {
      kind: "secrets-provider",
      stack: referenced,
      provider: secretsProviderOf(facts.settingsOf(referenced)),
      use: "reference",
      reason: `StackReference ${resource.name}: ${name}'s secret outputs are decrypted with its secrets provider`,
    },
  ];
}

function requirementKey(requirement: StackRequirement): string {
  return JSON.stringify(requirement);
}

function dedupe(requirements: StackRequirement[]): StackRequirement[] {
  const seen = new Map<string, StackRequirement>();
  for (const requirement of requirements) seen.set(requirementKey(requirement), requirement);
  return [...seen.values()];
}

/** Whether `requirement` applies to `operation` (the Railway token: not to a preview). */
export function appliesTo(requirement: StackRequirement, operation: PulumiOperation): boolean {
  return requirement.kind === "env" ? requirement.operations.includes(operation) : true;
}

/** A concrete stack name for a key (the plan of `pr-<n>` is planned as `pr-1`). */
export function sampleStackName(stack: StackKey): string {
  return stack === "pr-<n>" ? "pr-1" : stack;
}

/** `secretsprovider` and `encryptedkey` of a stack file (a PR stack's: of its template). */
export function readStackFileSettings(projectDir: string, stack: StackKey): StackFileSettings {
  const own = `Pulumi.${sampleStackName(stack)}.yaml`;
  const file =
    stack === "pr-<n>" && !fs.existsSync(path.join(projectDir, own))
      ? "Pulumi.pr.template.yaml"
      : own;
  const parsed = parseYaml(fs.readFileSync(path.join(projectDir, file), "utf8")) as Record<
    string,
    unknown
  > | null;
  const text = (key: string) => (typeof parsed?.[key] === "string" ? parsed[key] : undefined);
  const secretsProvider = text("secretsprovider");
  const encryptedKey = text("encryptedkey");
  return {
    file,
    ...(secretsProvider !== undefined && { secretsProvider }),
    ...(encryptedKey !== undefined && { encryptedKey }),
  };
}

/** Reads the stack's files and plans its program offline, then derives its requirements. */
export async function deriveStackRequirements(
  projectDir: string,
  stack: StackKey,
): Promise<StackRequirements> {
  const name = sampleStackName(stack);
  const plan = await buildPlan({ projectDir, stack: name });
  return stackRequirements({
    stack,
    config: readStackConfig(projectDir, name),
    settings: readStackFileSettings(projectDir, stack),
    plan,
    settingsOf: (other) => readStackFileSettings(projectDir, other),
  });
}

/** One line describing a requirement, for messages and docs. */
export function describeRequirement(requirement: StackRequirement): string {
  switch (requirement.kind) {
    case "state":
      return requirement.use === "own"
        ? `the state of ${requirement.stack}`
        : `read access to the state of ${requirement.stack}`;
    case "secrets-provider":
      return requirement.provider === PASSPHRASE
        ? `the passphrase of ${requirement.stack} (PULUMI_CONFIG_PASSPHRASE)`
        : `the secrets provider of ${requirement.stack} (${requirement.provider})`;
    case "gcp-identity":
      return `a GCP identity in ${requirement.project}`;
    case "env":
      return `${requirement.name}${requirement.secret ? " (secret)" : ""}`;
    case "local-listener":
      return `a Cloud SQL Auth Proxy on ${requirement.host}:${requirement.port}`;
    default: {
      const unknown: never = requirement;
      throw new Error(`unknown requirement ${JSON.stringify(unknown)}`);
    }
  }
}

export { PASSPHRASE as PASSPHRASE_PROVIDER };
