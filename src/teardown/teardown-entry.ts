/**
 * Stand-alone entry for `teardown` (`node -r tsx/cjs src/teardown/teardown-entry.ts --stack pr-42`):
 * the same command as `synter-infra teardown`, without loading every other command module, so that
 * the tests depend on the teardown code alone.
 */
import { Command } from "commander";
import { UserError } from "../cli/errors";
import { registerTeardownCommands } from "../cli/commands/teardown";

async function run(): Promise<void> {
  const program = new Command("synter-infra").exitOverride();
  registerTeardownCommands(program);
  try {
    await program.parseAsync(["node", "synter-infra", "teardown", ...process.argv.slice(2)]);
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
