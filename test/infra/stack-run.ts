/**
 * Builds a stack of this project under the mock runtime from its Pulumi.<stack>.yaml (a PR stack
 * from the rendered template), the way `pulumi up` enters the program: loadConfig → createPlatform.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { loadConfig, renderPrStackConfig } from "../../infra/config";
import { createPlatform, type PlatformOutputs } from "../../infra/platform";
import {
  readStackConfig,
  REPOSITORY_ROOT,
  runUnderMocks,
  valueOf,
  type RecordedResource,
  type StackConfig,
} from "../support/pulumi-harness";

export function stackConfig(stack: string): StackConfig {
  const pr = /^pr-(\d+)$/.exec(stack);
  if (!pr) return readStackConfig(stack);
  const template = fs.readFileSync(path.join(REPOSITORY_ROOT, "Pulumi.pr.template.yaml"), "utf8");
  return readStackConfig(stack, { stackFileText: renderPrStackConfig(template, Number(pr[1])) });
}

export interface BuiltStack {
  readonly resources: readonly RecordedResource[];
  readonly outputs: Record<keyof PlatformOutputs, unknown>;
}

export async function buildStack(
  stack: string,
  edit: (values: Record<string, string>) => void = () => {},
): Promise<BuiltStack> {
  const config = stackConfig(stack);
  const values = { ...config.values };
  edit(values);
  const run = await runUnderMocks(
    { project: config.project, stack, config: values, secretKeys: config.secretKeys },
    () => createPlatform(loadConfig()),
  );
  const entries = await Promise.all(
    Object.entries(run.result).map(
      async ([key, output]) =>
        [key, await valueOf(output as PlatformOutputs[keyof PlatformOutputs])] as const,
    ),
  );
  return {
    resources: run.resources,
    outputs: Object.fromEntries(entries) as Record<keyof PlatformOutputs, unknown>,
  };
}
