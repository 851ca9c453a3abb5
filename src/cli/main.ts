/**
 * `synter-infra`: one command-line tool for the platform. Each area registers its subcommands
 * from its own module; this file only assembles them and maps errors to exit codes.
 */
import { Command, CommanderError } from "commander";
import { UserError } from "./errors";
import { registerDataCommands } from "./commands/data";
import { registerDiffCommands } from "./commands/diff";
import { registerLocalCommands } from "./commands/local";
import { registerMigrateCommands } from "./commands/migrate";
import { registerPlanCommands } from "./commands/plan";
import { registerSchemaCommands } from "./commands/schema";
import { registerTeardownCommands } from "./commands/teardown";

export function buildProgram(): Command {
  const program = new Command("synter-infra")
    .description("Schema-first infrastructure for the Synter data platform")
    .showHelpAfterError()
    .exitOverride();
  registerLocalCommands(program);
  registerSchemaCommands(program);
  registerMigrateCommands(program);
  registerPlanCommands(program);
  registerDiffCommands(program);
  registerTeardownCommands(program);
  registerDataCommands(program);
  return program;
}

export async function main(argv: string[]): Promise<void> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
  } catch (error) {
    process.exitCode = exitCodeFor(error);
  }
}

function exitCodeFor(error: unknown): number {
  if (error instanceof CommanderError) {
    // Commander already printed the message (or the help text, whose exit code is 0).
    return error.exitCode;
  }
  if (error instanceof UserError) {
    process.stderr.write(`error: ${error.message}\n`);
    return error.exitCode;
  }
  process.stderr.write(
    `internal error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  return 70;
}
