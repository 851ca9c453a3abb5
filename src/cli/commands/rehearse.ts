/**
 * `synter-infra rehearse --stack <s>`: a stack's first `pulumi up` played through Pulumi's own
 * dynamic-provider host against stand-ins that fail as the cloud does, then the app's contract, a
 * no-change `up`, a changed setting and a destroy (src/rehearse/rehearsal.ts). Prints each step
 * with its timing and one summary line per stack; when the deploy would fail, one line naming the
 * phase and the resource, and the exit code of `mismatch`.
 */
import type { Command } from "commander";
import type * as Rehearsal from "../../rehearse/rehearsal";
import { UsageError } from "../errors";

interface RehearseOptions {
  stack: string[];
  json?: boolean;
  projectDir: string;
}

const STACK_NAME = /^(dev|staging|prod|pr-[1-9]\d*)$/;

export function registerRehearseCommands(program: Command): void {
  program
    .command("rehearse")
    .description(
      "Play a stack's first `pulumi up` here: dynamic resources through Pulumi's provider host, " +
        "against a Railway stand-in running real Postgres (TLS) and Redis; then the app's contract, " +
        "a no-change up, a changed setting and a destroy. GCP resources are simulated.",
    )
    .requiredOption(
      "-s, --stack <stack>",
      "stack to rehearse (dev, staging, prod, pr-<n>); repeat for several",
      (value: string, previous: string[] = []) => [...previous, value],
    )
    .option("--json", "print the reports as one JSON line at the end")
    .option("--project-dir <dir>", "directory holding Pulumi.yaml and the program", process.cwd())
    .action(async (options: RehearseOptions) => {
      const invalid = options.stack.filter((stack) => !STACK_NAME.test(stack));
      if (invalid.length > 0) {
        throw new UsageError(
          `cannot rehearse ${invalid.join(", ")}: a stack is dev, staging, prod or pr-<n> (n ≥ 1)`,
        );
      }
      const { rehearseStack, summaryLine } = rehearsal();
      const reports: Rehearsal.StackReport[] = [];
      // A RehearsalFailure is a ToolError (the deploy would fail: `mismatch`; Ctrl-C:
      // `interrupted`): main() prints its one line and exits by its kind.
      for (const stack of options.stack) {
        reports.push(
          await rehearseStack({
            projectDir: options.projectDir,
            stack,
            log: (line) => process.stderr.write(`${line}\n`),
          }),
        );
      }
      for (const report of reports) process.stdout.write(`${summaryLine(report)}\n`);
      if (options.json) process.stdout.write(`${JSON.stringify(reports)}\n`);
    });
}

/** Loaded by the command itself: it brings the Pulumi SDK and the stand-ins, which `--help` should not. */
function rehearsal(): typeof Rehearsal {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- require() defers the loading
  return require("../../rehearse/rehearsal") as typeof Rehearsal;
}
