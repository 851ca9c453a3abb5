/**
 * Stand-alone entry for `plan` (`node -r tsx/cjs src/plan/plan-entry.ts --stack dev --json`): the
 * same command as `synter-infra plan`, without loading every other command module, so that `diff`'s
 * subprocesses and the tests depend on the plan code alone.
 */
import { Command } from "commander";
import { UserError } from "../cli/errors";
import { registerPlanCommands } from "../cli/commands/plan";

async function run(): Promise<void> {
  const program = new Command("synter-infra").exitOverride();
  registerPlanCommands(program);
  try {
    await program.parseAsync(["node", "synter-infra", "plan", ...process.argv.slice(2)]);
  } catch (error) {
    if (error instanceof UserError) {
      process.stderr.write(`error: ${error.message}\n`);
      process.exitCode = error.exitCode;
      return;
    }
    if (error instanceof Error && "exitCode" in error) {
      process.exitCode = Number((error as { exitCode: number }).exitCode);
      return;
    }
    throw error;
  }
}

void run();
