/**
 * `synter-infra diff --base <ref>`: what a change does to the infrastructure, offline — resources,
 * BigQuery tables classified by whether the provider replaces them (deleting data), view SQL, and
 * risky statements in new Postgres migrations. Exit 2 on data loss unless --allow-data-loss;
 * exit 1 when an applied migration was edited or deleted.
 */
import { InvalidArgumentError, type Command } from "commander";
import { exitCodeFor, runDiff } from "../../diff/infra-diff";
import { renderMarkdown } from "../../diff/render-markdown";
import { stableStringify, type JsonValue } from "../../plan/stable-json";
import { UserError } from "../errors";

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
      const report = await runDiff({
        cwd: process.cwd(),
        baseRef: options.base,
        stack: options.stack,
      });
      const allow = options.allowDataLoss === true;
      process.stdout.write(
        options.format === "json"
          ? `${stableStringify({ ...report, exitCode: exitCodeFor(report, allow) } as unknown as JsonValue)}\n`
          : renderMarkdown(report, allow),
      );
      const code = exitCodeFor(report, allow);
      if (code !== 0) {
        throw new UserError(
          code === 2
            ? "the change deletes data (see the report); pass --allow-data-loss if that is intended"
            : "the diff found errors (see the report)",
          code,
        );
      }
    });
}
