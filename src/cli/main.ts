/**
 * `synter-infra`: one command-line tool for the platform. Each area registers its subcommands
 * from its own module; this file only assembles them and turns errors into exit codes — through
 * the one table in exit-codes.ts.
 *
 * Areas are loaded on demand: `migrate` must not pay for loading Pulumi (the plan and teardown
 * modules take seconds to import), so only the invoked area's module is loaded, and all of them
 * only when the top-level help is asked for.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Command, CommanderError } from "commander";
import { isToolError } from "../errors/tool-error";
import { EXIT_CODES, EXIT_OK } from "./exit-codes";

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

/** The package's version (package.json beside src/). */
export function toolVersion(): string {
  const file = join(__dirname, "..", "..", "package.json");
  return (JSON.parse(readFileSync(file, "utf8")) as { version: string }).version;
}

/** The program with the areas `argv` needs: the named subcommand's, or every one. */
export function buildProgram(argv: readonly string[]): Command {
  const program = new Command("synter-infra")
    .description("Schema-first infrastructure for the Synter data platform")
    .version(toolVersion(), "-V, --version", "print the version of synter-infra")
    .option(
      "--verbose",
      "print the stack trace of any error, not only of internal ones (local: also the server logs)",
    )
    // Parse errors are printed by main() as one line (with the command's --help to run); the
    // settings are inherited by every subcommand registered below.
    .configureOutput({ outputError: () => undefined })
    .exitOverride();
  const args = argv.slice(2);
  const invoked = args.find((arg) => !arg.startsWith("-"));
  // `--version` alone needs no area; anything else unnamed (help, a typo) needs them all.
  const versionOnly = invoked === undefined && args.some((a) => a === "--version" || a === "-V");
  const areas = versionOnly
    ? []
    : invoked !== undefined && invoked in AREAS
      ? [invoked]
      : Object.keys(AREAS);
  for (const area of areas) AREAS[area]()(program);
  return program;
}

export async function main(argv: string[]): Promise<void> {
  // `synter-infra … | head`: the reader went away, which is how a pipe ends, not a failure.
  process.stdout.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code === "EPIPE") process.exit(0);
    throw error;
  });
  let program: Command | undefined;
  try {
    program = buildProgram(argv);
    await program.parseAsync(argv);
  } catch (error) {
    process.exitCode = reportError(error, {
      verbose: argv.slice(2).includes("--verbose"),
      command: program ? commandPath(program, argv.slice(2)) : "synter-infra",
    });
  }
}

/** `synter-infra migrate up`: the (sub)command the arguments name, as far as they name one. */
function commandPath(program: Command, args: readonly string[]): string {
  const names = [program.name()];
  let command = program;
  for (const arg of args) {
    if (arg.startsWith("-")) continue;
    const sub = command.commands.find((c) => c.name() === arg || c.aliases().includes(arg));
    if (!sub) break;
    names.push(sub.name());
    command = sub;
  }
  return names.join(" ");
}

function stackOf(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const own = error.stack ?? `${error.name}: ${error.message}`;
  return error.cause === undefined ? own : `${own}\ncaused by: ${stackOf(error.cause)}`;
}

/** Prints what failed and returns the exit code for it. */
export function reportError(
  error: unknown,
  context: { readonly verbose: boolean; readonly command: string },
): number {
  const write = (text: string) => process.stderr.write(text);
  if (error instanceof CommanderError) {
    // --help and --version end here too, with their text already printed.
    if (error.exitCode === 0) return EXIT_OK;
    // A group without its subcommand (`synter-infra migrate`): commander printed the help.
    if (error.code === "commander.help") return EXIT_CODES.usage;
    // One line: commander's suggestion ("(Did you mean …?)") joins the message.
    const message = error.message.replace(/^error: /, "").replace(/\s*\n\s*/g, " ");
    write(`error: ${message}; see ${context.command} --help\n`);
    return EXIT_CODES.usage;
  }
  if (isToolError(error) && error.kind !== "internal") {
    write(`error: ${error.message}\n`);
    if (context.verbose) write(`${stackOf(error)}\n`);
    return EXIT_CODES[error.kind];
  }
  write(`internal error: ${stackOf(error)}\n`);
  return EXIT_CODES.internal;
}
