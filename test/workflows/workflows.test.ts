/**
 * The workflows, checked three ways:
 *
 * - GitHub's own parser (@actions/workflow-parser) reports no error;
 * - the rule table (src/ci/workflow-rules.ts) holds for every job — the trust boundary of DESIGN §5
 *   first: no job running pull-request code holds anything of staging or prod — and fails on the
 *   workflows as they were before issue 11 (fixtures/before-issue-11, copied from git);
 * - every job running Pulumi for a stack is given what the program needs for that stack
 *   (src/ci/stack-requirements.ts, derived from the stack's config and its offline plan), from its
 *   own GitHub environment, and nothing it does not need; a requirement the program gains but the
 *   workflows do not meet fails.
 *
 * Plus what each workflow must do (refresh before up, destroy with the base branch's program,
 * previews before approved deploys) and that docs/ci.md's generated tables are current.
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import {
  deriveAllStackRequirements,
  readWorkflows,
  renderCiDocBlocks,
  updateCiDoc,
} from "../../src/ci/ci-docs";
import {
  CI_ENVIRONMENTS,
  PROTECTED_ZONES,
  SECRETS_PROVIDERS,
  STACK_KEYS,
  ZONES,
  ciEnvironment,
  zoneOf,
  type StackKey,
} from "../../src/ci/environments";
import { UnknownResourceTypeError } from "../../src/ci/gcp-roles";
import { uncoveredRequirements } from "../../src/ci/requirement-coverage";
import {
  deriveStackRequirements,
  describeRequirement,
  readStackFileSettings,
  stackRequirements,
  type StackRequirement,
  type StackRequirements,
} from "../../src/ci/stack-requirements";
import { modelJobs, type RawJob, type RawWorkflow } from "../../src/ci/workflow-model";
import { WORKFLOW_RULES, checkWorkflowRules } from "../../src/ci/workflow-rules";
import { RailwayTokenMissingError, createRailwayProvider } from "../../infra/railway";
import type { RailwayProviderKind } from "../../infra/railway/providers";
import { buildPlan } from "../../src/plan/mock-program";
import type { Plan } from "../../src/plan/resource-graph";
import { readStackConfig } from "../../src/plan/stack-config";

const root = path.resolve(__dirname, "../..");
const dir = path.join(root, ".github/workflows");
const beforeDir = path.join(__dirname, "fixtures/before-issue-11");
const files = fs
  .readdirSync(dir)
  .filter((f) => /\.ya?ml$/.test(f))
  .sort();
const current = readWorkflows(dir);
const before = readWorkflows(beforeDir);

function workflow(file: string): RawWorkflow {
  const found = current.find((w) => w.file === file);
  if (!found) throw new Error(`no workflow ${file}`);
  return found.workflow;
}

function jobsOf(workflows: readonly { file: string; workflow: RawWorkflow }[]) {
  return workflows.flatMap(({ file, workflow: w }) => modelJobs(file, w));
}

/** A deep copy to modify without touching the parsed originals. */
function copy<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

function parseWithGitHub(paths: string[]): Record<string, string[]> {
  const output = execFileSync(
    process.execPath,
    [path.join(__dirname, "parse-workflows.mjs"), ...paths],
    { cwd: root, encoding: "utf8" },
  );
  return JSON.parse(output) as Record<string, string[]>;
}

// Derived once for the whole file from four offline plans of the real program.
let derived: Map<StackKey, StackRequirements>;
const requirementsOf = (stack: StackKey): StackRequirements => {
  const found = derived.get(stack);
  if (!found) throw new Error(`no requirements for ${stack}`);
  return found;
};
// The dev plan, for the tests that feed the pure derivation modified facts.
let devPlan: Plan;

beforeAll(async () => {
  derived = new Map((await deriveAllStackRequirements(root)).map((r) => [r.stack, r]));
  devPlan = await buildPlan({ projectDir: root, stack: "dev" });
});

/** Requirements as short lines: `kind: description [operations]`. */
function summary(requirements: StackRequirements): string[] {
  return requirements.requirements.map(
    (r) =>
      `${r.kind}: ${describeRequirement(r)}${r.kind === "env" ? ` [${r.operations.join(", ")}]` : ""}`,
  );
}

/** A copy of the project whose listed files are replaced (the rest are symlinks to the real one). */
function projectWith(overrides: Record<string, string>): string {
  const copyDir = fs.mkdtempSync(path.join(os.tmpdir(), "ci-project-"));
  for (const entry of fs.readdirSync(root)) {
    if (entry === ".git" || entry in overrides) continue;
    fs.symlinkSync(path.join(root, entry), path.join(copyDir, entry));
  }
  for (const [file, text] of Object.entries(overrides)) {
    fs.writeFileSync(path.join(copyDir, file), text);
  }
  return copyDir;
}

describe("GitHub's workflow parser", () => {
  test("reports no error in any workflow", () => {
    expect(parseWithGitHub(files.map((f) => path.join(dir, f)))).toEqual(
      Object.fromEntries(files.map((f) => [f, []])),
    );
  });

  test("and does report a broken one (the check can fail)", () => {
    const broken = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "wf-")), "broken.yml");
    fs.writeFileSync(
      broken,
      "on: push\njobs:\n  a:\n    runs-on: ubuntu-24.04\n    steps:\n      - run: echo hi\n        shell-typo: bash\n",
    );
    expect(parseWithGitHub([broken])["broken.yml"]).toEqual([
      "broken.yml (Line: 7, Col: 9): Unexpected value 'shell-typo'",
    ]);
    fs.rmSync(path.dirname(broken), { recursive: true });
  });
});

describe("the rule table", () => {
  test("the three workflows exist", () => {
    expect(files).toEqual(["deploy.yml", "pr-environment.yml", "pr.yml"]);
  });

  test.each(files)("%s passes every rule", (file) => {
    expect(checkWorkflowRules([{ file, workflow: workflow(file) }])).toEqual([]);
  });

  test("fails on pr.yml as it was before issue 11: PR code previewed staging and prod with the repository-wide passphrase", () => {
    const old = before.filter((w) => w.file === "pr.yml");
    expect(checkWorkflowRules(old)).toEqual([
      "pr.yml: job test: [pr-code-least-privilege] step 1 persists the token in .git/config",
      "pr.yml: job infra-diff: [pr-code-least-privilege] step 1 persists the token in .git/config",
      "pr.yml: job infra-diff: [pr-code-least-privilege] runs pull-request code with write permission pull-requests",
      "pr.yml: job preview: [pr-code-never-protected] runs pull-request code with pulumi preview on the protected stack staging",
      "pr.yml: job preview: [pr-code-never-protected] runs pull-request code with pulumi preview on the protected stack prod",
      "pr.yml: job preview: [secrets-from-environment] reads the repository-wide secret PULUMI_CONFIG_PASSPHRASE (no environment)",
      "pr.yml: job preview: [secrets-from-environment] reads the repository-wide secret PULUMI_BACKEND_URL (no environment)",
      "pr.yml: job preview: [variables-from-environment] reads the repository-wide variable GCP_PREVIEW_SERVICE_ACCOUNT (no environment)",
      "pr.yml: job preview: [variables-from-environment] reads the repository-wide variable GCP_WORKLOAD_IDENTITY_PROVIDER (no environment)",
      "pr.yml: job preview: [secrets-only-in-pulumi-step] PULUMI_BACKEND_URL is in step 5 with, which is not a Pulumi step's env",
      "pr.yml: job preview: [oidc-only-in-environment] requests an OIDC token (id-token: write) without an environment",
      "pr.yml: job preview: [pr-code-least-privilege] step 1 persists the token in .git/config",
      "pr.yml: job preview: [pr-code-least-privilege] runs pull-request code with write permission pull-requests",
      "pr.yml: job preview: [pulumi-in-its-environment] pulumi preview dev runs without a GitHub environment",
      "pr.yml: job preview: [pulumi-in-its-environment] pulumi preview staging runs without a GitHub environment",
      "pr.yml: job preview: [pulumi-in-its-environment] pulumi preview prod runs without a GitHub environment",
    ]);
  });

  // The fixtures are the workflows of commit 989fa74, the last to change them before issue 11. A
  // shallow clone (CI's checkout) lacks that commit: then there is nothing to compare with.
  const BEFORE_COMMIT = "989fa74";
  const haveBeforeCommit = (() => {
    try {
      execFileSync("git", ["cat-file", "-e", `${BEFORE_COMMIT}^{commit}`], {
        cwd: root,
        stdio: "ignore",
      });
      return true;
    } catch {
      return false;
    }
  })();
  (haveBeforeCommit ? test : test.skip).each(["pr.yml", "pr-environment.yml", "deploy.yml"])(
    "the fixture %s is the workflow as git had it before issue 11",
    (file) => {
      const original = execFileSync("git", ["show", `${BEFORE_COMMIT}:.github/workflows/${file}`], {
        cwd: root,
        encoding: "utf8",
      });
      expect(fs.readFileSync(path.join(beforeDir, file), "utf8")).toBe(original);
    },
  );

  test("the trust-boundary rule alone fails only on the old preview of staging and prod", () => {
    const boundary = WORKFLOW_RULES.filter((rule) => rule.id === "pr-code-never-protected");
    expect(checkWorkflowRules(before, boundary)).toEqual([
      "pr.yml: job preview: [pr-code-never-protected] runs pull-request code with pulumi preview on the protected stack staging",
      "pr.yml: job preview: [pr-code-never-protected] runs pull-request code with pulumi preview on the protected stack prod",
    ]);
    expect(checkWorkflowRules(current, boundary)).toEqual([]);
  });

  test("every rule catches what it claims to (each fails on a bad workflow)", () => {
    const head = "${{ github.event.pull_request.head.sha }}";
    const pwn: RawWorkflow = {
      on: { pull_request_target: { types: ["opened"] } },
      jobs: {
        build: {
          environment: "prod",
          permissions: { contents: "read", "id-token": "write" },
          env: { TOKEN: "${{ secrets.RAILWAY_TOKEN }}" },
          steps: [
            { uses: "actions/checkout@v4", with: { ref: head } },
            { run: 'echo "${{ github.event.pull_request.title }}"' },
            {
              uses: "google-github-actions/auth@v2.1.7",
              with: { credentials_json: "${{ secrets.KEY }}" },
            },
            { run: 'pulumi login "${{ secrets.PULUMI_BACKEND_URL }}"\necho $TOKEN' },
            { run: "export PULUMI_ACCESS_TOKEN=x" },
          ],
        },
      },
    };
    const prCode: RawWorkflow = {
      on: { pull_request: {} },
      jobs: {
        preview: {
          environment: "prod-preview",
          permissions: { contents: "write", "id-token": "write" },
          steps: [
            { uses: "actions/checkout@3d3c42e5aac5ba805825da76410c181273ba90b1" },
            {
              name: "preview",
              uses: "pulumi/actions@8e5e406f4007fca908480587cb9893c07090f58d",
              with: { command: "up", "stack-name": "prod", "cloud-url": "${{ vars.OTHER }}" },
              env: { ALL: "${{ toJSON(secrets) }}" },
            },
          ],
        },
        loose: {
          permissions: { "id-token": "write" },
          environment: "${{ github.ref_name }}",
          steps: [{ run: "gcloud projects describe synter-prod" }],
        },
        stranger: { environment: "qa", permissions: {}, steps: [] },
        bare: { permissions: { "id-token": "write" }, steps: [] },
      },
    };
    const noPermissions: RawWorkflow = { on: { push: {} }, jobs: { a: { steps: [] } } };
    const bad = [
      { file: "pwn.yml", workflow: pwn },
      { file: "pr-code.yml", workflow: prCode },
      { file: "no-permissions.yml", workflow: noPermissions },
    ];
    const problems = checkWorkflowRules(bad);
    const failed = new Set(problems.map((p) => /\[([a-z-]+)\]/.exec(p)![1]));
    // A rule that no bad workflow breaks would be a rule that cannot fail.
    expect([...failed].sort()).toEqual(WORKFLOW_RULES.map((rule) => rule.id).sort());
    expect(problems).toEqual(
      expect.arrayContaining([
        `pwn.yml: job build: [no-pwn-request] step 1 checks out the pull request's code (${head}) under pull_request_target`,
        "pwn.yml: job build: [no-untrusted-expression-in-script] step 2 expands ${{ github.event.pull_request.title }} into a script",
        "pwn.yml: job build: [secrets-only-in-pulumi-step] RAILWAY_TOKEN is in the job env",
        "pwn.yml: job build: [no-secret-in-script] step 4 echoes TOKEN",
        "pwn.yml: job build: [keyless-gcp] GCP auth with a key (credentials_json)",
        "pwn.yml: job build: [actions-pinned] actions/checkout@v4 is not pinned to a commit SHA",
        "pwn.yml: job build: [protected-only-on-main] uses prod on pull_request_target (not only pushes to main)",
        "pwn.yml: job build: [pr-environment-same-repository] enters an environment without requiring a same-repository pull request",
        "pr-code.yml: job preview: [pr-code-never-protected] runs pull-request code in the protected environment prod-preview",
        "pr-code.yml: job preview: [pr-code-never-protected] runs pull-request code with pulumi up on the protected stack prod",
        "pr-code.yml: job preview: [pr-code-least-privilege] runs pull-request code with write permission contents",
        "pr-code.yml: job preview: [secrets-from-environment] reads toJSON(secrets)",
        "pr-code.yml: job preview: [variables-from-environment] reads OTHER, which environment prod-preview does not declare",
        "pr-code.yml: job preview: [pulumi-in-its-environment] pulumi up prod: environment prod-preview does not allow up",
        "pr-code.yml: job loose: [pr-code-never-protected] runs pull-request code naming synter-prod",
        "pr-code.yml: job loose: [known-environment] names its environment by an expression (${{ github.ref_name }})",
        "pr-code.yml: job stranger: [known-environment] names environment qa, not one of dev-preview, pr-environments, dev, staging-preview, staging, prod-preview, prod",
        "pr-code.yml: job bare: [oidc-only-in-environment] requests an OIDC token (id-token: write) without an environment",
        "no-permissions.yml: job a: [permissions-declared] no permissions declared (the default is too broad)",
      ]),
    );
  });
});

describe("what each stack needs, derived from the program", () => {
  test("dev, staging and prod (Railway-hosted): state, their own KMS key, a GCP identity, and the Railway token for refresh, up and destroy", () => {
    for (const stack of ["dev", "staging", "prod"] as const) {
      expect(summary(requirementsOf(stack))).toEqual([
        `state: the state of ${stack}`,
        `secrets-provider: the secrets provider of ${stack} (${SECRETS_PROVIDERS[stack]})`,
        `gcp-identity: a GCP identity in ${ZONES[stack].gcpProject}`,
        "env: RAILWAY_TOKEN (secret) [refresh, up, destroy]",
      ]);
    }
  });

  test("pr-<n> reuses dev's servers: no Railway token, but dev's state and dev's key through the StackReference", () => {
    expect(summary(requirementsOf("pr-<n>"))).toEqual([
      "state: the state of pr-<n>",
      `secrets-provider: the secrets provider of pr-<n> (${SECRETS_PROVIDERS["pr-<n>"]})`,
      "gcp-identity: a GCP identity in synter-dev",
      "state: read access to the state of dev",
      `secrets-provider: the secrets provider of dev (${SECRETS_PROVIDERS.dev})`,
    ]);
  });

  test("the deployers' roles follow the resource types; projectIamAdmin may grant only what the program grants", () => {
    const identity = requirementsOf("prod").requirements.find((r) => r.kind === "gcp-identity");
    expect(identity?.kind === "gcp-identity" && identity.deployRoles).toEqual([
      { role: "roles/bigquery.dataOwner", scope: "project" },
      { role: "roles/browser", scope: "project" },
      { role: "roles/iam.serviceAccountAdmin", scope: "project" },
      { role: "roles/iam.serviceAccountKeyAdmin", scope: "project" },
      {
        role: "roles/resourcemanager.projectIamAdmin",
        scope: "project",
        condition:
          "api.getAttribute('iam.googleapis.com/modifiedGrantsByRole', []).hasOnly(['roles/bigquery.jobUser'])",
      },
      { role: "roles/serviceusage.serviceUsageAdmin", scope: "project" },
    ]);
    expect(identity?.kind === "gcp-identity" && identity.previewRoles.map((g) => g.role)).toEqual([
      "roles/bigquery.metadataViewer",
      "roles/browser",
      "roles/iam.securityReviewer",
      "roles/iam.serviceAccountViewer",
      "roles/serviceusage.serviceUsageViewer",
    ]);
  });

  test("each stack file declares its own KMS key (src/ci/environments.ts), in its zone's project", () => {
    for (const stack of STACK_KEYS) {
      const settings = readStackFileSettings(root, stack);
      expect([settings.file, settings.secretsProvider]).toEqual([
        stack === "pr-<n>" ? "Pulumi.pr.template.yaml" : `Pulumi.${stack}.yaml`,
        SECRETS_PROVIDERS[stack],
      ]);
      expect(SECRETS_PROVIDERS[stack]).toContain(`/projects/${ZONES[zoneOf(stack)].gcpProject}/`);
    }
    expect(new Set(Object.values(SECRETS_PROVIDERS)).size).toBe(STACK_KEYS.length);
  });

  test("config decides: staging on Cloud SQL (via the Auth Proxy) and Memorystore needs no Railway token, but the proxy", async () => {
    const staging = fs.readFileSync(path.join(root, "Pulumi.staging.yaml"), "utf8");
    const onGcp = projectWith({
      "Pulumi.staging.yaml": `${staging}  synter-platform:postgres:\n    hosting: cloudsql\n    cloudsql:\n      adminHost: 127.0.0.1\n  synter-platform:redis:\n    hosting: memorystore\n`,
    });
    const requirements = await deriveStackRequirements(onGcp, "staging");
    expect(summary(requirements)).toEqual([
      "state: the state of staging",
      `secrets-provider: the secrets provider of staging (${SECRETS_PROVIDERS.staging})`,
      "gcp-identity: a GCP identity in synter-staging",
      "local-listener: a Cloud SQL Auth Proxy on 127.0.0.1:5432",
    ]);
    const identity = requirements.requirements.find((r) => r.kind === "gcp-identity");
    expect(identity?.kind === "gcp-identity" && identity.deployRoles.map((g) => g.role)).toEqual(
      expect.arrayContaining(["roles/cloudsql.admin", "roles/redis.admin"]),
    );
    // deploy.yml gives staging the Railway token, but no proxy: both are reported.
    const deploy = modelJobs("deploy.yml", workflow("deploy.yml"));
    expect(
      uncoveredRequirements(deploy, (stack) =>
        stack === "staging" ? requirements : requirementsOf(stack),
      ),
    ).toEqual([
      "deploy.yml: job preview-staging: pulumi preview staging needs a Cloud SQL Auth Proxy on 127.0.0.1:5432 (the postgresql provider auth-admin connects to 127.0.0.1 (postgres.cloudsql.adminHost): the Cloud SQL Auth Proxy must listen there beside pulumi): no step before it starts the Cloud SQL Auth Proxy",
      "deploy.yml: job staging: pulumi up staging needs a Cloud SQL Auth Proxy on 127.0.0.1:5432 (the postgresql provider auth-admin connects to 127.0.0.1 (postgres.cloudsql.adminHost): the Cloud SQL Auth Proxy must listen there beside pulumi): no step before it starts the Cloud SQL Auth Proxy",
      "deploy.yml: job staging: pulumi up staging is given RAILWAY_TOKEN, which no operation of this job needs",
    ]);
  });

  test("a railway:token in the stack config replaces RAILWAY_TOKEN (it arrives through the secrets provider)", () => {
    const config = readStackConfig(root, "dev");
    const facts = {
      stack: "dev" as const,
      settings: readStackFileSettings(root, "dev"),
      plan: devPlan,
      settingsOf: (stack: StackKey) => readStackFileSettings(root, stack),
    };
    expect(stackRequirements({ ...facts, config }).requirements.map((r) => r.kind)).toContain(
      "env",
    );
    const withToken = {
      ...config,
      values: { ...config.values, "railway:token": "plan-placeholder-secret-token" },
      secretKeys: [...config.secretKeys, "railway:token"],
    };
    expect(
      stackRequirements({ ...facts, config: withToken }).requirements.map((r) => r.kind),
    ).toEqual(["state", "secrets-provider", "gcp-identity"]);
  });

  test("a stack file without secretsprovider needs a passphrase, which no workflow gives", () => {
    const config = readStackConfig(root, "prod");
    const passphrase = stackRequirements({
      stack: "prod",
      config,
      settings: { file: "Pulumi.prod.yaml" },
      plan: { ...devPlan, stack: "prod" },
      settingsOf: (stack) => readStackFileSettings(root, stack),
    });
    expect(describeRequirement(passphrase.requirements[1]!)).toBe(
      "the passphrase of prod (PULUMI_CONFIG_PASSPHRASE)",
    );
    const deploy = modelJobs("deploy.yml", workflow("deploy.yml")).filter((job) =>
      job.id.endsWith("prod"),
    );
    expect(
      uncoveredRequirements(deploy, (stack) =>
        stack === "prod" ? passphrase : requirementsOf(stack),
      ),
    ).toEqual([
      "deploy.yml: job preview-prod: pulumi preview prod needs the passphrase of prod (PULUMI_CONFIG_PASSPHRASE) (Pulumi.prod.yaml declares no secretsprovider: a DIY stack then uses a passphrase): PULUMI_CONFIG_PASSPHRASE is not set from a secret of environment prod-preview",
      "deploy.yml: job prod: pulumi up prod needs the passphrase of prod (PULUMI_CONFIG_PASSPHRASE) (Pulumi.prod.yaml declares no secretsprovider: a DIY stack then uses a passphrase): PULUMI_CONFIG_PASSPHRASE is not set from a secret of environment prod",
    ]);
  });

  test("a resource type nobody classified fails the derivation, naming it", () => {
    const plan = devPlan;
    const extra = (type: string) => ({ ...plan.resources[0]!, type, urn: `urn:extra:${type}` });
    expect(() =>
      stackRequirements({
        stack: "dev",
        config: readStackConfig(root, "dev"),
        settings: readStackFileSettings(root, "dev"),
        plan: {
          ...plan,
          resources: [
            ...plan.resources,
            extra("gcp:storage/bucket:Bucket"),
            extra("cloudflare:index/record:Record"),
            extra("pulumi-nodejs:dynamic/synter:Webhook"),
          ],
        },
        settingsOf: (stack) => readStackFileSettings(root, stack),
      }),
    ).toThrow(
      new UnknownResourceTypeError([
        "cloudflare:index/record:Record",
        "gcp:storage/bucket:Bucket",
        "pulumi-nodejs:dynamic/synter:Webhook",
      ]),
    );
    expect(() =>
      stackRequirements({
        stack: "dev",
        config: readStackConfig(root, "dev"),
        settings: readStackFileSettings(root, "dev"),
        plan: { ...plan, resources: [...plan.resources, extra("gcp:storage/bucket:Bucket")] },
        settingsOf: (stack) => readStackFileSettings(root, stack),
      }),
    ).toThrow(new UnknownResourceTypeError(["gcp:storage/bucket:Bucket"]));
  });

  test("a preview needs no Railway token: the Railway providers' check and diff make no API call; read does", async () => {
    const kinds: Record<string, RailwayProviderKind> = {
      RailwayProject: "project",
      RailwayPostgres: "postgres",
      RailwayRedis: "redis",
      RailwayTcpProxy: "tcpProxy",
      RailwayVariables: "variables",
    };
    const saved = process.env.RAILWAY_TOKEN;
    delete process.env.RAILWAY_TOKEN;
    try {
      const railway = devPlan.resources.filter((r) =>
        r.type.startsWith("pulumi-nodejs:dynamic/railway:"),
      );
      expect(railway.map((r) => r.type.split(":").pop())).toEqual([
        "RailwayProject",
        "RailwayPostgres",
        "RailwayTcpProxy",
        "RailwayRedis",
      ]);
      for (const resource of railway) {
        const provider = createRailwayProvider(kinds[resource.type.split(":").pop()!]!);
        const { __provider: _shim, ...inputs } = resource.inputs as Record<string, unknown>;
        await expect(provider.check!({}, inputs)).resolves.toBeDefined();
        await expect(provider.diff!("id", inputs, inputs)).resolves.toHaveProperty("changes");
        await expect(provider.read!("id", inputs)).rejects.toThrow(RailwayTokenMissingError);
      }
    } finally {
      if (saved !== undefined) process.env.RAILWAY_TOKEN = saved;
    }
  });
});

describe("every Pulumi job gets what its stack needs, from its own environment", () => {
  test("the workflows meet every requirement, and give no secret that is not needed", () => {
    expect(uncoveredRequirements(jobsOf(current), requirementsOf)).toEqual([]);
  });

  test("the workflows before issue 11 did not: no Railway token reached Pulumi", () => {
    const problems = uncoveredRequirements(jobsOf(before), requirementsOf);
    for (const stack of ["dev", "staging", "prod"]) {
      expect(problems).toContain(
        `deploy.yml: job ${stack}: pulumi up ${stack} needs RAILWAY_TOKEN (secret) (the Railway provider (infra/railway/provider-base.ts) for RailwayPostgres, RailwayProject, RailwayRedis, RailwayTcpProxy; the stack config sets no railway:token): RAILWAY_TOKEN is not set in the step's env from a secret of environment ${stack}`,
      );
    }
    expect(problems).toContain(
      "pr.yml: job preview: pulumi preview prod has no GitHub environment, so nothing it needs",
    );
  });

  test("a requirement added to the program but not to the workflows fails (a modified requirement set)", () => {
    const prod = requirementsOf("prod");
    const token: StackRequirement = {
      kind: "env",
      name: "DATADOG_API_KEY",
      secret: true,
      operations: ["up"],
      reason: "a new provider",
    };
    const withToken = { ...prod, requirements: [...prod.requirements, token] };
    expect(
      uncoveredRequirements(jobsOf(current), (stack) =>
        stack === "prod" ? withToken : requirementsOf(stack),
      ),
    ).toEqual([
      "deploy.yml: job prod: pulumi up prod needs DATADOG_API_KEY (secret) (a new provider): DATADOG_API_KEY is not set in the step's env from a secret of environment prod",
    ]);
  });

  test("a requirement dropped from a workflow fails (a modified workflow)", () => {
    const deploy = copy(workflow("deploy.yml")) as RawWorkflow & { jobs: Record<string, RawJob> };
    const step = deploy.jobs.prod!.steps!.find((s) => s.uses?.startsWith("pulumi/actions@"))!;
    (step as { env?: unknown }).env = {};
    const auth = deploy.jobs.staging!.steps!.find((s) =>
      s.uses?.startsWith("google-github-actions/auth@"),
    )!;
    (auth.with as Record<string, unknown>).service_account =
      "${{ vars.GCP_DEPLOY_SERVICE_ACCOUNT }}";
    expect(uncoveredRequirements(modelJobs("deploy.yml", deploy), requirementsOf)).toEqual([
      "deploy.yml: job staging: pulumi up staging needs a GCP identity in synter-staging (the GCP provider (Application Default Credentials, project gcp:project) for the stack's gcp:* resources): authenticates as ${{ vars.GCP_DEPLOY_SERVICE_ACCOUNT }}, not pulumi-deploy@synter-staging.iam.gserviceaccount.com",
      "deploy.yml: job prod: pulumi up prod needs RAILWAY_TOKEN (secret) (the Railway provider (infra/railway/provider-base.ts) for RailwayPostgres, RailwayProject, RailwayRedis, RailwayTcpProxy; the stack config sets no railway:token): RAILWAY_TOKEN is not set in the step's env from a secret of environment prod",
    ]);
  });

  test("a program change that needs a token in PR stacks (the app's Railway services wired) fails pr-environment.yml", async () => {
    const template = fs.readFileSync(path.join(root, "Pulumi.pr.template.yaml"), "utf8");
    const wired = projectWith({
      "Pulumi.pr.template.yaml": `${template}  synter-platform:app:\n    railway:\n      projectId: p\n      environmentId: e\n      apiServiceId: a\n      workerServiceId: w\n`,
    });
    const pr = await deriveStackRequirements(wired, "pr-<n>");
    expect(summary(pr)).toContain("env: RAILWAY_TOKEN (secret) [refresh, up, destroy]");
    const env = modelJobs("pr-environment.yml", workflow("pr-environment.yml"));
    const reason =
      "the Railway provider (infra/railway/provider-base.ts) for RailwayVariables; the stack config sets no railway:token";
    const missing = (job: string, op: string) =>
      `pr-environment.yml: job ${job}: pulumi ${op} pr-<n> needs RAILWAY_TOKEN (secret) (${reason}): RAILWAY_TOKEN is not set in the step's env from a secret of environment pr-environments`;
    expect(
      uncoveredRequirements(env, (stack) => (stack === "pr-<n>" ? pr : requirementsOf(stack))),
    ).toEqual([
      missing("up", "refresh"),
      missing("up", "up"),
      missing("destroy", "refresh"),
      missing("destroy", "destroy"),
    ]);
  });

  test("nothing of another environment: a stack run from another zone's environment fails", () => {
    const pr = copy(workflow("pr.yml")) as RawWorkflow & { jobs: Record<string, RawJob> };
    const step = pr.jobs["preview-dev"]!.steps!.find((s) => s.uses?.startsWith("pulumi/actions@"))!;
    (step.with as Record<string, unknown>)["stack-name"] = "staging";
    (step as { env?: unknown }).env = { RAILWAY_TOKEN: "${{ secrets.RAILWAY_TOKEN }}" };
    const jobs = modelJobs("pr.yml", pr);
    expect(uncoveredRequirements(jobs, requirementsOf)).toEqual([
      "pr.yml: job preview-dev: pulumi preview staging runs in environment dev-preview (zone dev), not in zone staging",
      "pr.yml: job preview-dev: pulumi preview --diff is given RAILWAY_TOKEN, which no operation of this job needs",
    ]);
    expect(checkWorkflowRules([{ file: "pr.yml", workflow: pr }])).toEqual([
      "pr.yml: job preview-dev: [pr-code-never-protected] runs pull-request code with pulumi preview on the protected stack staging",
      "pr.yml: job preview-dev: [secrets-from-environment] reads RAILWAY_TOKEN, which environment dev-preview does not hold",
      "pr.yml: job preview-dev: [pulumi-in-its-environment] pulumi preview staging runs in environment dev-preview, which is for dev",
    ]);
  });

  test("the environments: each identity, bucket and key in its own zone; each secret needed by a stack it serves", () => {
    for (const env of CI_ENVIRONMENTS) {
      const project = ZONES[env.zone].gcpProject;
      expect(env.identity.serviceAccount).toMatch(
        new RegExp(`@${project}\\.iam\\.gserviceaccount\\.com$`),
      );
      for (const grant of env.identity.state)
        expect(grant.backend).toBe(ZONES[env.zone].stateBackend);
      for (const { key } of env.identity.kmsKeys) expect(key).toContain(`/projects/${project}/`);
      for (const stack of env.stacks) expect(zoneOf(stack)).toBe(env.zone);
      const needed = env.stacks.flatMap((stack) =>
        requirementsOf(stack).requirements.flatMap((r) =>
          r.kind === "env" && r.secret && r.operations.some((op) => env.operations.includes(op))
            ? [r.name]
            : [],
        ),
      );
      expect([env.name, Object.keys(env.secrets).sort()]).toEqual([
        env.name,
        [...new Set(needed)].sort(),
      ]);
      if (PROTECTED_ZONES.includes(env.zone)) expect(env.deploymentBranches).toBe("main");
    }
    expect(CI_ENVIRONMENTS.filter((e) => e.requiredReviewers).map((e) => e.name)).toEqual([
      "staging",
      "prod",
    ]);
    expect(
      CI_ENVIRONMENTS.filter((e) => e.deploymentBranches === "any").map((e) => e.name),
    ).toEqual(["dev-preview", "pr-environments"]);
  });
});

describe("what each workflow does", () => {
  test("pr.yml: tests, the offline diff of dev, staging and prod, one comment, and a read-only preview of dev only", () => {
    const jobs = modelJobs("pr.yml", workflow("pr.yml"));
    expect(
      jobs.map((job) => [
        job.id,
        job.environment ?? null,
        job.pulumi.map((p) => `${p.operations.join("+")} ${p.stack}`),
      ]),
    ).toEqual([
      ["test", null, []],
      ["infra-diff", null, []],
      ["infra-diff-comment", null, []],
      ["preview-dev", "dev-preview", ["preview dev"]],
    ]);
    const diff = workflow("pr.yml").jobs["infra-diff"] as RawJob & {
      strategy: { matrix: { stack: string[] } };
    };
    expect(diff.strategy.matrix.stack).toEqual(["dev", "staging", "prod"]);
    expect(diff.steps?.find((s) => s.id === "diff")?.run).toContain(
      'npx synter-infra diff --base "$BASE_SHA" --stack "$STACK" --format markdown',
    );
    const comment = jobs.find((job) => job.id === "infra-diff-comment")!;
    expect(comment.checkouts).toEqual([]);
    const script = String(comment.job.steps?.[1]?.with?.script);
    expect(script).toContain("<!-- synter-infra-diff -->");
    expect(script).toContain("updateComment");
  });

  test("pr-environment.yml: refresh before up on open/update; destroy on close with the base branch's program", () => {
    const w = workflow("pr-environment.yml");
    expect(w.on).toEqual({
      pull_request: { types: ["opened", "synchronize", "reopened"], branches: ["main"] },
      pull_request_target: { types: ["closed"], branches: ["main"] },
    });
    expect(w.concurrency).toEqual({
      group: "pr-environment-${{ github.event.pull_request.number }}",
      "cancel-in-progress": false,
    });
    const [up, destroy] = modelJobs("pr-environment.yml", w);
    expect([up!.id, up!.triggers, up!.runsPullRequestCode]).toEqual(["up", ["pull_request"], true]);
    expect(up!.pulumi.map((p) => [p.operations, p.stack, p.upsert, p.secretsProvider])).toEqual([
      [["refresh"], "pr-<n>", true, SECRETS_PROVIDERS["pr-<n>"]],
      [["up"], "pr-<n>", true, SECRETS_PROVIDERS["pr-<n>"]],
    ]);
    expect(up!.job.steps?.some((s) => s.run?.includes("Pulumi.pr.template.yaml"))).toBe(true);

    expect([destroy!.id, destroy!.triggers, destroy!.runsPullRequestCode]).toEqual([
      "destroy",
      ["pull_request_target"],
      false,
    ]);
    expect(destroy!.checkouts).toEqual([
      {
        step: 0,
        source: "base-branch",
        ref: "${{ github.event.pull_request.base.ref }}",
        persistCredentials: false,
      },
    ]);
    expect(destroy!.pulumi.map((p) => [p.operations, p.stack])).toEqual([
      [["refresh", "destroy"], "pr-<n>"],
    ]);
    const script = destroy!.job.steps?.map((s) => s.run ?? "").join("\n");
    expect(script).toContain('pulumi destroy --yes --skip-preview --refresh --stack "$PR_STACK"');
    expect(script).toContain('pulumi stack rm --yes --stack "$PR_STACK"');
    expect(script).toContain("set -euo pipefail");
  });

  test("deploy.yml: dev, then for staging and prod a read-only preview before the approved up", () => {
    const deploy = workflow("deploy.yml");
    expect(deploy.on).toEqual({ push: { branches: ["main"] } });
    expect(
      modelJobs("deploy.yml", deploy).map((job) => [
        job.id,
        job.environment,
        job.job.needs ?? null,
        job.pulumi.map((p) => `${p.operations.join("+")} ${p.stack}`),
        ciEnvironment(job.environment!)!.requiredReviewers,
      ]),
    ).toEqual([
      ["dev", "dev", null, ["up dev"], false],
      ["preview-staging", "staging-preview", "dev", ["preview staging"], false],
      ["staging", "staging", "preview-staging", ["up staging"], true],
      ["preview-prod", "prod-preview", "staging", ["preview prod"], false],
      ["prod", "prod", "preview-prod", ["up prod"], true],
    ]);
    expect(deploy.concurrency).toEqual({ group: "deploy", "cancel-in-progress": false });
  });
});

test("docs/ci.md's generated tables are current (npx tsx src/ci/ci-docs.ts)", () => {
  const doc = fs.readFileSync(path.join(root, "docs/ci.md"), "utf8");
  const requirements = STACK_KEYS.map(requirementsOf);
  expect(updateCiDoc(doc, renderCiDocBlocks({ workflows: current, requirements }))).toBe(doc);
});
