/**
 * A PR stack connects to the dev stack's Postgres with the TLS mode dev exports
 * (`postgresSslMode`), not a hard-coded `require`: the postgresql provider and every URL follow
 * it, and a PR stack whose config disagrees with dev's export fails, saying what to set.
 */
import * as pulumi from "@pulumi/pulumi";
import { spawnSync } from "node:child_process";
import * as path from "node:path";
import { ConfigError, DEFAULT_DEV_STACK, loadConfig, parseConfig } from "../../infra/config";
import { POSTGRES_SSL_MODES } from "../../infra/hosting/config-schema";
import { serversFromDevStack } from "../../infra/hosting/dev-stack";
import { createPlatform } from "../../infra/platform";
import { REPOSITORY_ROOT, resourceNamed, runUnderMocks, valueOf } from "../support/pulumi-harness";
import { DEV_STACK_OUTPUTS, stackConfig } from "./stack-run";

const KEY = "synter-platform:devStackPostgresSslMode";

/**
 * An output's value, or its failure: the SDK's own promise of the value (not public API; `apply`
 * never calls back on a failed output, so it cannot show one).
 */
function settled<T>(output: pulumi.Output<T>): Promise<T> {
  return (output as unknown as { promise(): Promise<T> }).promise();
}

async function buildPr(devExport: string, prSetting?: string) {
  const config = stackConfig("pr-42");
  const values = { ...config.values };
  if (prSetting !== undefined) values[KEY] = prSetting;
  const run = await runUnderMocks(
    {
      project: config.project,
      stack: "pr-42",
      config: values,
      secretKeys: config.secretKeys,
      stackOutputs: { [DEFAULT_DEV_STACK]: { ...DEV_STACK_OUTPUTS, postgresSslMode: devExport } },
    },
    () => createPlatform(loadConfig()),
  );
  const sslModeOf = (url: string) => new URL(url).searchParams.get("sslmode");
  const migrations = resourceNamed(
    run.resources,
    "pulumi-nodejs:dynamic/synter:SchemaMigrations",
    "auth-migrations",
  );
  const migratorUrl = (migrations.inputs.databaseUrl as { value?: string }).value ?? "";
  return {
    provider: resourceNamed(run.resources, "pulumi:providers:postgresql", "auth-admin").inputs,
    postgresUrl: await valueOf(run.result.postgresUrl),
    appSslMode: sslModeOf((await valueOf(run.result.appEnv)).POSTGRES_URL),
    migratorSslMode: sslModeOf(migratorUrl),
  };
}

test("the PR template follows the dev default: require", async () => {
  const built = await buildPr("require");
  expect(built.provider.sslmode).toBe("require");
  expect(built.postgresUrl).toBe(
    "postgresql://synter_pr_42_app:pw-auth-app-password@postgres.railway.internal:5432/synter_pr_42?sslmode=require",
  );
});

test("a dev stack exporting verify-full: the provider and every URL verify too", async () => {
  const built = await buildPr("verify-full", "verify-full");
  expect(built.provider).toMatchObject({
    host: DEV_STACK_OUTPUTS.postgresAdminHost,
    port: String(DEV_STACK_OUTPUTS.postgresAdminPort),
    sslmode: "verify-full",
  });
  expect(built.postgresUrl).toBe(
    "postgresql://synter_pr_42_app:pw-auth-app-password@postgres.railway.internal:5432/synter_pr_42?sslmode=verify-full",
  );
  expect([built.appSslMode, built.migratorSslMode]).toEqual(["verify-full", "verify-full"]);
});

/** The PR stack in a process of its own (./pr-stack-in-process.ts): whether its update fails, and why. */
function runPrStack(
  edits: Record<string, string>,
  devOutputs: object,
): { status: number | null; failures: string[] } {
  const child = spawnSync(
    process.execPath,
    [
      "--import",
      "tsx",
      path.join(__dirname, "pr-stack-in-process.ts"),
      JSON.stringify(edits),
      JSON.stringify(devOutputs),
    ],
    { cwd: REPOSITORY_ROOT, encoding: "utf8", timeout: 60_000 },
  );
  expect(child.stderr).toBe("");
  return {
    status: child.status,
    failures: (JSON.parse(child.stdout) as { failures: string[] }).failures,
  };
}

test("a PR stack whose setting disagrees with dev's export fails, naming the key and the value", () => {
  const devOutputs = { ...DEV_STACK_OUTPUTS, postgresSslMode: "verify-full" };
  expect(runPrStack({}, devOutputs)).toEqual({
    status: 32,
    failures: [
      `RunError: the dev stack ${DEFAULT_DEV_STACK} exports postgresSslMode verify-full, but ${KEY} is require: set it to verify-full (Pulumi.pr.template.yaml, so every PR stack gets it)`,
    ],
  });
  // The same program, configured as dev exports, completes.
  expect(runPrStack({ [KEY]: "verify-full" }, devOutputs)).toEqual({ status: 0, failures: [] });
});

test("a PR stack that agrees with dev's export connects where dev says", async () => {
  const run = await runUnderMocks(
    {
      project: "synter-platform",
      stack: "pr-42",
      config: {},
      stackOutputs: {
        [DEFAULT_DEV_STACK]: { ...DEV_STACK_OUTPUTS, postgresSslMode: "verify-full" },
      },
    },
    () =>
      serversFromDevStack(
        new pulumi.StackReference("dev-stack", { name: DEFAULT_DEV_STACK }),
        { name: DEFAULT_DEV_STACK, postgresSslMode: "verify-full", redisTls: false },
        KEY,
      ).postgres,
  );
  expect(run.result.sslMode).toBe("verify-full");
  expect(await settled(run.result.adminHost)).toBe(DEV_STACK_OUTPUTS.postgresAdminHost);
  expect(await settled(run.result.appHost)).toBe(DEV_STACK_OUTPUTS.postgresAppHost);
});

test("devStackPostgresSslMode: only in pr stacks, only a libpq mode", () => {
  const problems = (raw: Record<string, unknown>, stack: string) => {
    try {
      parseConfig({ gcp: { projectId: "synter-dev" }, ...raw }, stack);
      return [];
    } catch (error) {
      if (error instanceof ConfigError) return error.problems;
      throw error;
    }
  };
  expect(problems({ devStackPostgresSslMode: "verify-full" }, "dev")).toEqual([
    `${KEY}: only pr stacks read it (the sslmode of the dev stack's Postgres they reuse)`,
  ]);
  expect(problems({ devStackPostgresSslMode: "prefer" }, "pr-3")).toEqual([
    `${KEY}: must be one of ${POSTGRES_SSL_MODES.join(", ")} (what the dev stack exports as postgresSslMode)`,
  ]);
  expect(parseConfig({ gcp: { projectId: "synter-dev" } }, "pr-3").devStack).toEqual({
    name: DEFAULT_DEV_STACK,
    postgresSslMode: "require",
    redisTls: false,
  });
});
