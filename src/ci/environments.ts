/**
 * The CI trust boundary as data (DESIGN §5, docs/ci.md): the trust zones, where each zone's state
 * and secrets-provider keys live, and the GitHub environments that hold each zone's secrets,
 * variables and GCP identity — for which stacks and Pulumi operations, and what a person must set
 * on each environment in the repository settings. The workflow tests check the workflows against
 * these tables; docs/ci.md renders them.
 *
 * Three zones, each in its own GCP project (so an administrator of one project — and pull-request
 * code does administer the dev project — cannot touch another zone's bucket, key or identities):
 * `dev` (the dev stack and every `pr-<n>` stack: pull-request code reaches it, by design),
 * `staging` and `prod` (protected: never reachable from pull-request code).
 */

export type TrustZone = "dev" | "staging" | "prod";

/** Zones whose secrets providers, state and identities pull-request code must never reach. */
export const PROTECTED_ZONES: readonly TrustZone[] = ["staging", "prod"];

export type PulumiOperation = "preview" | "refresh" | "up" | "destroy";

/** A stack as CI names it: the long-lived stacks, and every PR stack as one. */
export type StackKey = "dev" | "staging" | "prod" | "pr-<n>";

export const STACK_KEYS: readonly StackKey[] = ["dev", "pr-<n>", "staging", "prod"];

/** `pr-42` and `pr-<n>` → `pr-<n>`; the long-lived names as they are; anything else undefined. */
export function stackKey(stack: string): StackKey | undefined {
  if (stack === "dev" || stack === "staging" || stack === "prod") return stack;
  if (/^pr-([1-9][0-9]*|<n>)$/.test(stack)) return "pr-<n>";
  return undefined;
}

export function zoneOf(stack: StackKey): TrustZone {
  switch (stack) {
    case "dev":
    case "pr-<n>":
      return "dev";
    case "staging":
    case "prod":
      return stack;
    default: {
      const unknown: never = stack;
      throw new Error(`unknown stack ${String(unknown)}`);
    }
  }
}

export interface ZoneResources {
  /** The zone's GCP project: its stacks' resources, state bucket, KMS keys and identities. */
  readonly gcpProject: string;
  /**
   * The DIY backend of the zone's stacks. PR stacks share dev's: a StackReference resolves only
   * within one backend.
   */
  readonly stateBackend: string;
}

export const ZONES: Readonly<Record<TrustZone, ZoneResources>> = {
  dev: { gcpProject: "synter-dev", stateBackend: "gs://synter-dev-pulumi-state" },
  staging: { gcpProject: "synter-staging", stateBackend: "gs://synter-staging-pulumi-state" },
  prod: { gcpProject: "synter-prod", stateBackend: "gs://synter-prod-pulumi-state" },
};

function kmsKey(project: string, key: string): string {
  return `gcpkms://projects/${project}/locations/global/keyRings/pulumi/cryptoKeys/${key}`;
}

/**
 * The secrets provider of each stack, as its stack file declares it (`secretsprovider:`): one KMS
 * key per stack, in the stack's zone (every PR stack shares one key). The test checks the stack
 * files against this table.
 */
export const SECRETS_PROVIDERS: Readonly<Record<StackKey, string>> = {
  dev: kmsKey("synter-dev", "dev"),
  "pr-<n>": kmsKey("synter-dev", "pr"),
  staging: kmsKey("synter-staging", "staging"),
  prod: kmsKey("synter-prod", "prod"),
};

export type KmsRole =
  "roles/cloudkms.cryptoKeyEncrypterDecrypter" | "roles/cloudkms.cryptoKeyDecrypter";

export interface StateAccess {
  readonly backend: string;
  /**
   * `read`: roles/storage.objectViewer — enough for `pulumi preview`, which on a DIY backend takes
   * no lock and writes no history (pkg/backend/diy/backend.go, `Preview`). `write`:
   * roles/storage.objectUser.
   */
  readonly access: "read" | "write";
  /** An IAM condition narrowing the grant to some objects; unset: the whole bucket. */
  readonly objects?: string;
}

export interface CiIdentity {
  /** The service account the job impersonates through Workload Identity Federation. */
  readonly serviceAccount: string;
  /** `preview`: read-only roles; `deploy`: the roles `up` needs (derived from the program). */
  readonly access: "preview" | "deploy";
  readonly state: readonly StateAccess[];
  readonly kmsKeys: readonly { readonly key: string; readonly role: KmsRole }[];
}

export interface CiVariable {
  readonly value: string;
  readonly description: string;
}

export interface CiEnvironment {
  /** The GitHub environment's name, as jobs write it in `environment:`. */
  readonly name: string;
  readonly zone: TrustZone;
  readonly purpose: string;
  readonly stacks: readonly StackKey[];
  readonly operations: readonly PulumiOperation[];
  /**
   * The environment's "Deployment branches and tags" setting: `main` (only the main branch; a job
   * triggered by a pull request is refused, since GitHub checks the PR's head branch) or `any`
   * (pull-request jobs may enter it).
   */
  readonly deploymentBranches: "main" | "any";
  /** "Required reviewers" (with "Prevent self-review"): a person approves each job. */
  readonly requiredReviewers: boolean;
  readonly identity: CiIdentity;
  /** Environment variables (`vars.*`): not secret, but scoped like the secrets. */
  readonly variables: Readonly<Record<string, CiVariable>>;
  /** Environment secrets (`secrets.*`): name → what it is. */
  readonly secrets: Readonly<Record<string, string>>;
}

const ENCRYPT_DECRYPT: KmsRole = "roles/cloudkms.cryptoKeyEncrypterDecrypter";

function serviceAccount(zone: TrustZone, name: string): string {
  return `${name}@${ZONES[zone].gcpProject}.iam.gserviceaccount.com`;
}

/** The variables every cloud-touching environment has, with its zone's values. */
function zoneVariables(zone: TrustZone, account: string): Record<string, CiVariable> {
  const project = ZONES[zone].gcpProject;
  return {
    GCP_WORKLOAD_IDENTITY_PROVIDER: {
      value: `projects/<number of ${project}>/locations/global/workloadIdentityPools/github/providers/synter-infra`,
      description: `the Workload Identity provider in ${project} (one pool per zone's project)`,
    },
    GCP_SERVICE_ACCOUNT: {
      value: account,
      description: "the identity this environment's jobs get",
    },
    PULUMI_BACKEND_URL: {
      value: ZONES[zone].stateBackend,
      description: `the DIY state backend of the ${zone} zone`,
    },
  };
}

const RAILWAY_TOKEN_SECRET = (zone: TrustZone) =>
  `a Railway workspace token of the ${zone} workspace only (the provider creates projects, so a project token is not enough; one workspace per zone keeps it away from the others)`;

function environment(
  spec: Omit<CiEnvironment, "variables"> & { readonly variables?: Record<string, CiVariable> },
): CiEnvironment {
  return {
    ...spec,
    variables: {
      ...zoneVariables(spec.zone, spec.identity.serviceAccount),
      ...spec.variables,
    },
  };
}

/** Objects of the PR stacks in dev's bucket (DIY layout: .pulumi/{stacks,locks,history,backups}/…). */
const PR_STACK_OBJECTS =
  'resource.name.matches("projects/_/buckets/synter-dev-pulumi-state/objects/[.]pulumi/(stacks|locks|history|backups)/(organization/)?synter-platform/pr-[0-9]+([./].*)?")';

function previewEnvironment(zone: TrustZone, stack: StackKey, branches: "main" | "any") {
  return environment({
    name: `${zone}-preview`,
    zone,
    purpose:
      branches === "any"
        ? `pulumi preview of ${stack} on pull-request code (same-repository PRs)`
        : `pulumi preview of ${stack} on main's code, before the ${zone} deploy is approved`,
    stacks: [stack],
    operations: ["preview"],
    deploymentBranches: branches,
    requiredReviewers: false,
    identity: {
      serviceAccount: serviceAccount(zone, "pulumi-preview"),
      access: "preview",
      state: [{ backend: ZONES[zone].stateBackend, access: "read" }],
      // Encrypt too: a stack file without its `encryptedkey` makes Pulumi generate a data key.
      kmsKeys: [{ key: SECRETS_PROVIDERS[stack], role: ENCRYPT_DECRYPT }],
    },
    secrets: {},
  });
}

function deployEnvironment(zone: "dev" | "staging" | "prod"): CiEnvironment {
  return environment({
    name: zone,
    zone,
    purpose: `pulumi up of ${zone} on main's code, after merge`,
    stacks: [zone],
    operations: ["up"],
    deploymentBranches: "main",
    requiredReviewers: zone !== "dev",
    identity: {
      serviceAccount: serviceAccount(zone, "pulumi-deploy"),
      access: "deploy",
      state: [{ backend: ZONES[zone].stateBackend, access: "write" }],
      kmsKeys: [{ key: SECRETS_PROVIDERS[zone], role: ENCRYPT_DECRYPT }],
    },
    secrets: { RAILWAY_TOKEN: RAILWAY_TOKEN_SECRET(zone) },
  });
}

/** Every GitHub environment the workflows may name; anything else is refused by the rules. */
export const CI_ENVIRONMENTS: readonly CiEnvironment[] = [
  previewEnvironment("dev", "dev", "any"),
  environment({
    name: "pr-environments",
    zone: "dev",
    purpose:
      "pr-<n> up (pull-request code) and destroy (the base branch's code) in the dev project",
    stacks: ["pr-<n>"],
    operations: ["refresh", "up", "destroy"],
    deploymentBranches: "any",
    requiredReviewers: false,
    identity: {
      serviceAccount: serviceAccount("dev", "pulumi-pr"),
      access: "deploy",
      state: [
        // Reads dev's state through the StackReference; writes only the PR stacks' objects.
        { backend: ZONES.dev.stateBackend, access: "read" },
        { backend: ZONES.dev.stateBackend, access: "write", objects: PR_STACK_OBJECTS },
      ],
      kmsKeys: [
        { key: SECRETS_PROVIDERS["pr-<n>"], role: ENCRYPT_DECRYPT },
        // The dev stack's outputs a PR stack reads (its servers' admin login) are its secrets.
        { key: SECRETS_PROVIDERS.dev, role: "roles/cloudkms.cryptoKeyDecrypter" },
      ],
    },
    secrets: {},
  }),
  deployEnvironment("dev"),
  previewEnvironment("staging", "staging", "main"),
  deployEnvironment("staging"),
  previewEnvironment("prod", "prod", "main"),
  deployEnvironment("prod"),
];

export function ciEnvironment(name: string): CiEnvironment | undefined {
  return CI_ENVIRONMENTS.find((candidate) => candidate.name === name);
}

/**
 * Strings that name something of a protected zone (its project, bucket, keys, identities): none
 * may appear in a job that runs pull-request code.
 */
export function protectedIdentifiers(): string[] {
  const names = new Set<string>();
  for (const zone of PROTECTED_ZONES) {
    names.add(ZONES[zone].gcpProject);
    names.add(ZONES[zone].stateBackend);
  }
  for (const env of CI_ENVIRONMENTS) {
    if (!PROTECTED_ZONES.includes(env.zone)) continue;
    names.add(env.identity.serviceAccount);
    for (const { key } of env.identity.kmsKeys) names.add(key);
  }
  return [...names].sort();
}
