/**
 * Builds a stack of this project under the mock runtime from its Pulumi.<stack>.yaml (a PR stack
 * from the rendered template), the way `pulumi up` enters the program: loadConfig → createPlatform.
 */
import * as pulumi from "@pulumi/pulumi";
import * as fs from "node:fs";
import * as path from "node:path";
import { DEFAULT_DEV_STACK, loadConfig, renderPrStackConfig } from "../../infra/config";
import { createPlatform } from "../../infra/platform";
import {
  readStackConfig,
  REPOSITORY_ROOT,
  runUnderMocks,
  valueOf,
  type RecordedResource,
  type StackConfig,
} from "../support/pulumi-harness";

/** What the dev stack exports for PR stacks (DEV_STACK_EXPORTS), with fake values. */
export const DEV_STACK_OUTPUTS = {
  postgresAdminHost: "shuttle.proxy.rlwy.net",
  postgresAdminPort: 41234,
  postgresAdminUser: "postgres",
  postgresAdminPassword: "dev-admin-password",
  postgresAppHost: "postgres.railway.internal",
  postgresAppPort: 5432,
  postgresSslMode: "require",
  redisUrl: "redis://default:dev-redis-password@redis.railway.internal:6379",
  redisHost: "redis.railway.internal",
  redisPort: 6379,
} as const;

export function stackConfig(stack: string): StackConfig {
  const pr = /^pr-(\d+)$/.exec(stack);
  if (!pr) return readStackConfig(stack);
  const template = fs.readFileSync(path.join(REPOSITORY_ROOT, "Pulumi.pr.template.yaml"), "utf8");
  return readStackConfig(stack, { stackFileText: renderPrStackConfig(template, Number(pr[1])) });
}

export interface BuiltStack {
  readonly resources: readonly RecordedResource[];
  readonly outputs: Record<string, unknown>;
  /** Names of the outputs that are Pulumi secrets. */
  readonly secretOutputs: readonly string[];
}

export async function buildStack(
  stack: string,
  edit: (values: Record<string, string>) => void = () => {},
): Promise<BuiltStack> {
  const config = stackConfig(stack);
  const values = { ...config.values };
  edit(values);
  const run = await runUnderMocks(
    {
      project: config.project,
      stack,
      config: values,
      secretKeys: config.secretKeys,
      stackOutputs: { [DEFAULT_DEV_STACK]: DEV_STACK_OUTPUTS },
    },
    () => createPlatform(loadConfig()),
  );
  const { devStackExports, ...outputs } = run.result;
  const all = Object.entries({ ...outputs, ...devStackExports }) as [
    string,
    pulumi.Output<unknown>,
  ][];
  const entries = await Promise.all(
    all.map(async ([key, output]) => [key, await valueOf(output)] as const),
  );
  const secrets = await Promise.all(
    all.map(async ([key, output]) => ((await pulumi.isSecret(output)) ? [key] : [])),
  );
  return {
    resources: run.resources,
    outputs: Object.fromEntries(entries),
    secretOutputs: secrets.flat().sort(),
  };
}
