/**
 * `synter-infra teardown --stack <s>`: snapshot, then destroy. BigQuery tables are snapshotted into
 * a backup dataset with an expiry and the Postgres database is dumped (optionally uploaded to a
 * bucket) before `pulumi destroy` runs; prod and staging need `--confirm <stack>`; protected
 * resources are explained up front. `--dry-run` prints the steps without running anything.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { InvalidArgumentError, type Command } from "commander";
import {
  TeardownRefusedError,
  buildTeardownPlan,
  checkTeardownAllowed,
  protectionProblems,
  renderTeardownPlan,
} from "../../teardown/teardown-plan";
import { TeardownStepError, processExecutor, runTeardown } from "../../teardown/teardown-runner";
import { UsageError } from "../errors";
import { mockProgram } from "./plan";

interface TeardownCommandOptions {
  stack: string;
  confirm?: string;
  dryRun?: boolean;
  unprotect?: boolean;
  backupDataset: string;
  backupExpirationDays: number;
  dumpDir: string;
  bucket?: string;
  databaseUrl?: string;
  databaseUrlOutput: string;
  skipPostgres?: boolean;
  removeStack?: boolean;
  projectDir: string;
}

function positiveInteger(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0)
    throw new InvalidArgumentError("expected a positive whole number");
  return n;
}

function timestampNow(): string {
  return new Date().toISOString().replace(/[-:T]/g, "").slice(0, 14);
}

export function registerTeardownCommands(program: Command): void {
  program
    .command("teardown")
    .description("Snapshot a stack's BigQuery tables and Postgres database, then pulumi destroy it")
    .requiredOption("-s, --stack <stack>", "stack to tear down")
    .option("--confirm <stack>", "required for prod and staging: the stack name again")
    .option("--dry-run", "print the ordered steps and exit without running them")
    .option(
      "--unprotect",
      "after the snapshots, lift Pulumi protect and remove deletion-protected tables",
    )
    .option(
      "--backup-dataset <dataset>",
      "dataset the table snapshots go to",
      "synter_teardown_backups",
    )
    .option("--backup-expiration-days <days>", "days the snapshots are kept", positiveInteger, 30)
    .option("--dump-dir <dir>", "directory for the pg_dump file", ".local/backups")
    .option("--bucket <gs://bucket/prefix>", "also upload the dump to this bucket")
    .option(
      "--database-url <url>",
      "database to dump (default: the stack output named by --database-url-output)",
    )
    .option("--database-url-output <name>", "stack output holding the database URL", "postgresUrl")
    .option("--skip-postgres", "the stack has no Postgres database to dump")
    .option("--remove-stack", "also `pulumi stack rm` after the destroy (PR stacks)")
    .option("--project-dir <dir>", "directory holding Pulumi.yaml and the program", process.cwd())
    .action(async (options: TeardownCommandOptions) => {
      if (!options.dryRun) checkTeardownAllowed(options.stack, options.confirm);
      if (options.bucket && !options.bucket.startsWith("gs://")) {
        throw new UsageError(`--bucket must be a gs:// URL, got ${options.bucket}`);
      }
      const plan = await mockProgram().buildPlan({
        projectDir: options.projectDir,
        stack: options.stack,
      });
      const problems = protectionProblems(plan, options.unprotect === true);
      const dumpDir = path.resolve(options.projectDir, options.dumpDir);
      const steps = buildTeardownPlan(plan, {
        stack: options.stack,
        confirm: options.confirm,
        unprotect: options.unprotect === true,
        timestamp: timestampNow(),
        backupDataset: options.backupDataset,
        backupExpirationDays: options.backupExpirationDays,
        dumpDir,
        bucket: options.bucket,
        databaseUrlOutput: options.databaseUrlOutput,
        databaseUrlGiven: options.databaseUrl !== undefined,
        skipPostgres: options.skipPostgres === true,
        removeStack: options.removeStack === true,
      });
      if (options.dryRun) {
        process.stdout.write(
          `teardown of stack ${options.stack} (dry run; nothing was run):\n${renderTeardownPlan(steps)}`,
        );
        for (const problem of problems) process.stdout.write(`\nwarning: ${problem}\n`);
        return;
      }
      if (problems.length > 0) throw new TeardownRefusedError(problems.join("\n"));
      fs.mkdirSync(dumpDir, { recursive: true });
      const outcome = await runTeardown(steps, processExecutor, {
        databaseUrl: options.databaseUrl,
        progress: (line) => process.stderr.write(`${line}\n`),
      });
      const savedReport =
        outcome.saved.length > 0
          ? `Saved:\n${outcome.saved.map((s) => `  - ${s}`).join("\n")}\n`
          : "Nothing was saved.\n";
      process.stdout.write(savedReport);
      if (outcome.failed) throw new TeardownStepError(outcome.failed, outcome.saved);
      process.stdout.write(`Stack ${options.stack} destroyed. Restore with docs/rollback.md.\n`);
    });
}
