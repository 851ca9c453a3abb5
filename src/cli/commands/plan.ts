/**
 * `synter-infra plan --stack <s> [--json]`: the stack's resource graph, built offline under
 * Pulumi's mock runtime (no cloud, no credentials — works for pull requests from forks).
 */
import type { Command } from "commander";
import type * as MockProgram from "../../plan/mock-program";
import { renderPlanJson, renderPlanTree } from "../../plan/resource-graph";

interface PlanOptions {
  stack: string;
  json?: boolean;
  projectDir: string;
}

export function registerPlanCommands(program: Command): void {
  program
    .command("plan")
    .description(
      "Build a stack's resource graph from Pulumi.<stack>.yaml under the mock runtime (offline) and print it",
    )
    .requiredOption("-s, --stack <stack>", "stack name (dev, staging, prod, pr-<n>)")
    .option("--json", "deterministic JSON (sorted keys and resources) instead of a tree")
    .option("--project-dir <dir>", "directory holding Pulumi.yaml and the program", process.cwd())
    .action(async (options: PlanOptions) => {
      const plan = await mockProgram().buildPlan({
        projectDir: options.projectDir,
        stack: options.stack,
      });
      process.stdout.write(options.json ? renderPlanJson(plan) : renderPlanTree(plan));
    });
}

/**
 * Loaded when a plan is built: it brings the Pulumi SDK and the program, about a second to import,
 * which the top-level `--help` (it registers every command) should not pay.
 */
export function mockProgram(): typeof MockProgram {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- require() defers the loading
  return require("../../plan/mock-program") as typeof MockProgram;
}
