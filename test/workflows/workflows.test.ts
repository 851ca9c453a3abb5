/**
 * Lints every GitHub workflow: GitHub's own parser (@actions/workflow-parser) must report no error,
 * and our rules hold — actions pinned to an exact version or commit, permissions declared, keyless
 * GCP auth (Workload Identity Federation), no secret interpolated into a shell script, the PR
 * environment serialized per PR, staging and prod behind environments.
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parse as parseYaml } from "yaml";

const root = path.resolve(__dirname, "../..");
const dir = path.join(root, ".github/workflows");
const files = fs
  .readdirSync(dir)
  .filter((f) => /\.ya?ml$/.test(f))
  .sort();

interface Step {
  uses?: string;
  run?: string;
  with?: Record<string, unknown>;
  env?: Record<string, unknown>;
}
interface Job {
  permissions?: Record<string, string>;
  environment?: string | { name: string };
  needs?: string | string[];
  steps?: Step[];
  if?: string;
}
interface Workflow {
  on: Record<string, unknown>;
  permissions?: Record<string, string>;
  concurrency?: { group: string; "cancel-in-progress": boolean };
  jobs: Record<string, Job>;
}

function load(file: string): Workflow {
  return parseYaml(fs.readFileSync(path.join(dir, file), "utf8")) as Workflow;
}

function steps(workflow: Workflow): Step[] {
  return Object.values(workflow.jobs).flatMap((job) => job.steps ?? []);
}

/** Our own rules, returned as messages so a failure names every problem at once. */
function lintWorkflow(file: string, workflow: Workflow): string[] {
  const problems: string[] = [];
  if (!workflow.permissions)
    problems.push(`${file}: no top-level permissions (the default token is too broad)`);
  for (const [name, job] of Object.entries(workflow.jobs)) {
    for (const step of job.steps ?? []) {
      if (step.uses && !step.uses.startsWith("./")) {
        const ref = step.uses.split("@")[1] ?? "";
        if (!/^[0-9a-f]{40}$/.test(ref) && !/^v\d+\.\d+\.\d+$/.test(ref)) {
          problems.push(
            `${file}: job ${name}: ${step.uses} is not pinned to an exact version or commit`,
          );
        }
      }
      if (step.run && /\$\{\{\s*secrets\./.test(step.run)) {
        problems.push(
          `${file}: job ${name}: a secret is interpolated into a run script (pass it through env)`,
        );
      }
      if (
        step.run &&
        /\becho\b[^\n]*\$(PULUMI_CONFIG_PASSPHRASE|PULUMI_BACKEND_URL|GITHUB_TOKEN)/.test(step.run)
      ) {
        problems.push(`${file}: job ${name}: a secret is echoed`);
      }
      if (step.uses?.startsWith("google-github-actions/auth@")) {
        if (!step.with?.workload_identity_provider || !step.with?.service_account) {
          problems.push(
            `${file}: job ${name}: GCP auth without workload_identity_provider and service_account`,
          );
        }
        if (step.with?.credentials_json)
          problems.push(`${file}: job ${name}: GCP auth with a key (credentials_json)`);
        if (job.permissions?.["id-token"] !== "write") {
          problems.push(
            `${file}: job ${name}: Workload Identity Federation needs permissions id-token: write`,
          );
        }
      }
      if (JSON.stringify(step).includes("PULUMI_ACCESS_TOKEN")) {
        problems.push(
          `${file}: job ${name}: uses Pulumi Cloud (PULUMI_ACCESS_TOKEN); the backend is DIY`,
        );
      }
    }
  }
  return problems;
}

describe("GitHub's workflow parser", () => {
  test("reports no error in any workflow", () => {
    const output = execFileSync(
      process.execPath,
      [path.join(__dirname, "parse-workflows.mjs"), ...files.map((f) => path.join(dir, f))],
      {
        cwd: root,
        encoding: "utf8",
      },
    );
    expect(JSON.parse(output)).toEqual(Object.fromEntries(files.map((f) => [f, []])));
  });

  test("and does report a broken one (the check can fail)", () => {
    const broken = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "wf-")), "broken.yml");
    fs.writeFileSync(
      broken,
      "on: push\njobs:\n  a:\n    runs-on: ubuntu-24.04\n    steps:\n      - run: echo hi\n        shell-typo: bash\n",
    );
    const output = JSON.parse(
      execFileSync(process.execPath, [path.join(__dirname, "parse-workflows.mjs"), broken], {
        encoding: "utf8",
      }),
    ) as Record<string, string[]>;
    expect(output["broken.yml"]).toEqual([
      "broken.yml (Line: 7, Col: 9): Unexpected value 'shell-typo'",
    ]);
    fs.rmSync(path.dirname(broken), { recursive: true });
  });
});

describe("our workflow rules", () => {
  test("the three workflows exist", () => {
    expect(files).toEqual(["deploy.yml", "pr-environment.yml", "pr.yml"]);
  });

  test.each(files)("%s passes every rule", (file) => {
    expect(lintWorkflow(file, load(file))).toEqual([]);
  });

  test("the rules catch what they claim to", () => {
    const bad: Workflow = {
      on: { push: {} },
      jobs: {
        a: {
          steps: [
            { uses: "actions/checkout@v4" },
            {
              uses: "google-github-actions/auth@v2.1.7",
              with: { credentials_json: "${{ secrets.KEY }}" },
            },
            { run: 'pulumi login "${{ secrets.PULUMI_BACKEND_URL }}"' },
            { run: "echo $PULUMI_CONFIG_PASSPHRASE" },
          ],
        },
      },
    };
    expect(lintWorkflow("bad.yml", bad)).toEqual([
      "bad.yml: no top-level permissions (the default token is too broad)",
      "bad.yml: job a: actions/checkout@v4 is not pinned to an exact version or commit",
      "bad.yml: job a: GCP auth without workload_identity_provider and service_account",
      "bad.yml: job a: GCP auth with a key (credentials_json)",
      "bad.yml: job a: Workload Identity Federation needs permissions id-token: write",
      "bad.yml: job a: a secret is interpolated into a run script (pass it through env)",
      "bad.yml: job a: a secret is echoed",
    ]);
  });

  test("pr.yml posts the offline diff and previews dev, staging and prod with the Pulumi action", () => {
    const pr = load("pr.yml");
    expect(Object.keys(pr.on)).toEqual(["pull_request"]);
    const diffStep = steps(pr).find((s) => s.run?.includes("synter-infra diff"));
    expect(diffStep?.run).toContain('--base "$BASE_SHA"');
    const comment = steps(pr).find((s) => s.uses?.startsWith("actions/github-script@"));
    expect(String(comment?.with?.script)).toContain("<!-- synter-infra-diff -->");
    expect(String(comment?.with?.script)).toContain("updateComment");
    const preview = pr.jobs.preview as Job & { strategy: { matrix: { stack: string[] } } };
    expect(preview.strategy.matrix.stack).toEqual(["dev", "staging", "prod"]);
    const pulumi = preview.steps?.find((s) => s.uses?.startsWith("pulumi/actions@"));
    expect(pulumi?.with).toMatchObject({
      command: "preview",
      diff: true,
      "comment-on-pr": true,
      "cloud-url": "${{ secrets.PULUMI_BACKEND_URL }}",
    });
  });

  test("pr-environment.yml: up on open/update, destroy + stack rm on close, one run per PR", () => {
    const env = load("pr-environment.yml");
    expect(env.on.pull_request).toEqual({
      types: ["opened", "synchronize", "reopened", "closed"],
      branches: ["main"],
    });
    expect(env.concurrency).toEqual({
      group: "pr-environment-${{ github.event.pull_request.number }}",
      "cancel-in-progress": false,
    });
    const up = env.jobs.up;
    expect(up.if).toContain("github.event.action != 'closed'");
    expect(up.steps?.some((s) => s.run?.includes("Pulumi.pr.template.yaml"))).toBe(true);
    expect(up.steps?.find((s) => s.uses?.startsWith("pulumi/actions@"))?.with).toMatchObject({
      command: "up",
      upsert: true,
    });
    const destroy = env.jobs.destroy;
    expect(destroy.if).toContain("github.event.action == 'closed'");
    const script = destroy.steps?.map((s) => s.run ?? "").join("\n");
    expect(script).toContain('pulumi destroy --yes --skip-preview --stack "$PR_STACK"');
    expect(script).toContain('pulumi stack rm --yes --stack "$PR_STACK"');
  });

  test("deploy.yml: dev on push to main, then staging and prod behind environments", () => {
    const deploy = load("deploy.yml");
    expect(deploy.on).toEqual({ push: { branches: ["main"] } });
    expect(
      Object.entries(deploy.jobs).map(([name, job]) => [name, job.environment, job.needs ?? null]),
    ).toEqual([
      ["dev", "dev", null],
      ["staging", "staging", "dev"],
      ["prod", "prod", "staging"],
    ]);
    expect(deploy.concurrency?.["cancel-in-progress"]).toBe(false);
  });
});
