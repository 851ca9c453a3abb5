/**
 * `synter-infra diff --base <ref>`: what a change does to the infrastructure, offline — resources,
 * BigQuery tables classified by whether the provider replaces them (deleting data), view SQL, and
 * risky statements in new Postgres migrations. Data loss without --allow-data-loss is `refused`;
 * an applied migration edited or deleted, or a failing program, is `config` (exit-codes.ts).
 */
import { InvalidArgumentError, type Command } from "commander";
import type * as InfraDiff from "../../diff/infra-diff";
import { renderMarkdown } from "../../diff/render-markdown";
import { stableStringify, type JsonValue } from "../../plan/stable-json";
import { EXIT_CODES, EXIT_OK } from "../exit-codes";

interface DiffOptions {
  base: string;
  stack: string;
  allowDataLoss?: boolean;
  format: "markdown" | "json";
}

function parseFormat(value: string): "markdown" | "json" {
  if (value !== "markdown" && value !== "json")
    throw new InvalidArgumentError("expected markdown or json");
  return value;
}

export function registerDiffCommands(program: Command): void {
  program
    .command("diff")
    .description(
      "Compare the plan, schema and migrations of a base git ref with the working tree (offline)",
    )
    .requiredOption("-b, --base <ref>", "git ref to compare against (e.g. origin/main, HEAD~1)")
    .option("-s, --stack <stack>", "stack whose plan to compare", "dev")
    .option("--allow-data-loss", "exit 0 even when the change deletes data")
    .option("-f, --format <format>", "markdown (a PR comment) or json", parseFormat, "markdown")
    .action(async (options: DiffOptions) => {
      const { diffFailure, runDiff } = infraDiff();
      const report = await runDiff({
        cwd: process.cwd(),
        baseRef: options.base,
        stack: options.stack,
      });
      const allow = options.allowDataLoss === true;
      const failure = diffFailure(report, allow);
      const exitCode = failure ? EXIT_CODES[failure.kind] : EXIT_OK;
      process.stdout.write(
        options.format === "json"
          ? `${stableStringify({ ...report, exitCode } as unknown as JsonValue)}\n`
          : renderMarkdown(report, allow),
      );
      if (failure) throw failure;
    });
}

/** Loaded by the command itself: it brings the Pulumi SDK (the plans it compares), which `--help` should not. */
function infraDiff(): typeof InfraDiff {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- require() defers the loading
  return require("../../diff/infra-diff") as typeof InfraDiff;
}
