/**
 * `synter-infra`: one command-line tool for the platform. Each area registers its subcommands
 * from its own module; this file only assembles them and maps errors to exit codes.
 *
 * Areas are loaded on demand: `migrate` must not pay for loading Pulumi (the plan and teardown
 * modules take seconds to import), so only the invoked area's module is loaded, and all of them
 * only when the top-level help is asked for.
 */
import { Command, CommanderError } from "commander";
import { UserError } from "./errors";

type Register = (program: Command) => void;

/* eslint-disable @typescript-eslint/no-require-imports -- require() is what defers the loading */
const AREAS: Record<string, () => Register> = {
  local: () =>
    (require("./commands/local") as typeof import("./commands/local")).registerLocalCommands,
  schema: () =>
    (require("./commands/schema") as typeof import("./commands/schema")).registerSchemaCommands,
  migrate: () =>
    (require("./commands/migrate") as typeof import("./commands/migrate")).registerMigrateCommands,
  plan: () => (require("./commands/plan") as typeof import("./commands/plan")).registerPlanCommands,
  diff: () => (require("./commands/diff") as typeof import("./commands/diff")).registerDiffCommands,
  teardown: () =>
    (require("./commands/teardown") as typeof import("./commands/teardown"))
      .registerTeardownCommands,
  data: () => (require("./commands/data") as typeof import("./commands/data")).registerDataCommands,
  rehearse: () =>
    (require("./commands/rehearse") as typeof import("./commands/rehearse"))
      .registerRehearseCommands,
};
/* eslint-enable @typescript-eslint/no-require-imports */

/** The program with the areas `argv` needs: the named subcommand's, or every one. */
export function buildProgram(argv: readonly string[]): Command {
  const program = new Command("synter-infra")
    .description("Schema-first infrastructure for the Synter data platform")
    .showHelpAfterError()
    .exitOverride();
  const invoked = argv.slice(2).find((arg) => !arg.startsWith("-"));
  const areas = invoked !== undefined && invoked in AREAS ? [invoked] : Object.keys(AREAS);
  for (const area of areas) AREAS[area]()(program);
  return program;
}

export async function main(argv: string[]): Promise<void> {
  try {
    const program = buildProgram(argv);
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
