/**
 * Stand-alone entry for `diff` (`node -r tsx/cjs src/diff/diff-entry.ts --base HEAD~1`): the same
 * command as `synter-infra diff` without loading the other command modules; used by the tests.
 */
import { Command } from "commander";
import { UserError } from "../cli/errors";
import { registerDiffCommands } from "../cli/commands/diff";

async function run(): Promise<void> {
  const program = new Command("synter-infra").exitOverride();
  registerDiffCommands(program);
  try {
    await program.parseAsync(["node", "synter-infra", "diff", ...process.argv.slice(2)]);
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
