/**
 * `synter-infra migrate up|down [N]|status|verify|create <name>|generate <name>`: the Postgres auth
 * schema's migrations (src/migrate). Failures exit by their kind (src/cli/exit-codes.ts): a failed
 * migration by what failed, history problems `mismatch`, verify's differences `drift`, `down all`
 * without `--yes` `refused`, Ctrl-C `interrupted` — after the running statement was cancelled on
 * the server and the lock released.
 */
import { Command, Option } from "commander";
import { relative } from "node:path";
import { ConfirmationRefusedError, UsageError } from "../errors";
import { EXIT_CODES } from "../exit-codes";
import { registerGenerateCommand } from "./migrate-generate";
// Imported from their own modules, not the src/migrate barrel: the barrel loads verify.ts, and with
// it schema/, which `migrate up` does not need (start-up time, bench/migrations).
import { DATABASE_URL_VARIABLE, redactUrl, resolveDatabaseUrl } from "../../migrate/connection";
import { createMigration } from "../../migrate/files";
import {
  DEFAULT_LOCK_TIMEOUT,
  DEFAULT_STATEMENT_TIMEOUT,
  LOCK_TIMEOUT_VARIABLE,
  MigrationHistoryError,
  STATEMENT_TIMEOUT_VARIABLE,
  runMigrations,
  type MigrationDirection,
} from "../../migrate/runner";

/* eslint-disable @typescript-eslint/no-require-imports -- require() defers loading to the action */
/** `migrate status` only (loaded by its action). */
const loadStatus = () => require("../../migrate/status") as typeof import("../../migrate/status");
/** `migrate verify` only: loads schema/. */
const loadVerify = () => require("../../migrate/verify") as typeof import("../../migrate/verify");
/** `down all` on a terminal only. */
const loadReadline = () =>
  require("node:readline/promises") as typeof import("node:readline/promises");
/* eslint-enable @typescript-eslint/no-require-imports */

interface ConnectionFlags {
  databaseUrl?: string;
  migrationsDir?: string;
}
interface RunFlags extends ConnectionFlags {
  lockTimeout?: string;
  statementTimeout?: string;
  json?: boolean;
  yes?: boolean;
}

function withConnection(command: Command): Command {
  return command
    .option(
      "--database-url <url>",
      `Postgres connection URL, as psql reads it: sslmode=require encrypts without verifying; verify-ca checks the certificate against sslrootcert=<CA file>, verify-full also the host name (default: $${DATABASE_URL_VARIABLE})`,
    )
    .addOption(new Option("--migrations-dir <dir>", "migrations folder").hideHelp());
}

function withTimeouts(command: Command): Command {
  return command
    .option(
      "--lock-timeout <interval>",
      `how long a statement may wait for a table lock (default: $${LOCK_TIMEOUT_VARIABLE} or ${DEFAULT_LOCK_TIMEOUT})`,
    )
    .option(
      "--statement-timeout <interval>",
      `upper bound per statement (default: $${STATEMENT_TIMEOUT_VARIABLE} or ${DEFAULT_STATEMENT_TIMEOUT})`,
    );
}

/**
 * `N` is a whole number ≥ 1 or `all`. `0` is refused rather than read as "nothing": a run that
 * does nothing would print "nothing to do" while migrations are pending.
 */
export function parseCount(
  value: string | undefined,
  direction: MigrationDirection,
): number | undefined {
  if (value === undefined) return undefined;
  if (value === "all") return Infinity;
  if (!/^\d+$/.test(value) || Number(value) === 0) {
    throw new UsageError(
      `invalid count "${value}" for ${direction}: a whole number ≥ 1, or "all" (migrate status lists what is pending)`,
    );
  }
  return Number(value);
}

const stderrLog = (line: string) => process.stderr.write(`${line}\n`);

/**
 * `down all` reverts every migration: every table and its data is dropped. It needs `--yes`, or
 * the answer "yes" on a terminal.
 */
async function confirmRevertAll(flags: RunFlags): Promise<void> {
  if (flags.yes) return;
  const where = redactUrl(resolveDatabaseUrl(flags.databaseUrl));
  const refusal = `refusing to revert every migration of ${where} without --yes: down all drops every table and its data; pass --yes, or revert N migrations`;
  if (!process.stdin.isTTY || !process.stderr.isTTY) throw new ConfirmationRefusedError(refusal);
  const prompt = loadReadline().createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = await prompt.question(
      `down all reverts every migration of ${where}: every table and its data is dropped. Type yes to go on: `,
    );
    if (answer.trim() !== "yes") throw new ConfirmationRefusedError(refusal);
  } finally {
    prompt.close();
  }
}

/**
 * Ctrl-C (or SIGTERM) stops the run: the runner cancels the running statement on the server, rolls
 * its migration back and releases the lock, then rejects with an `interrupted` error. A second
 * signal exits at once.
 */
function stopOnSignals(): { signal: AbortSignal; dispose(): void } {
  const controller = new AbortController();
  const onSignal = (name: NodeJS.Signals) => {
    if (!controller.signal.aborted) {
      stderrLog(`${name}: cancelling the running statement on the server…`);
      controller.abort();
      return;
    }
    stderrLog(`error: ${name} again: exiting without waiting for the cancel`);
    process.exit(EXIT_CODES.interrupted);
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  return {
    signal: controller.signal,
    dispose: () => {
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
    },
  };
}

async function run(direction: MigrationDirection, countArg: string | undefined, flags: RunFlags) {
  const count = parseCount(countArg, direction);
  if (direction === "down" && count === Infinity) await confirmRevertAll(flags);
  const stop = stopOnSignals();
  let result;
  try {
    result = await runMigrations({
      databaseUrl: flags.databaseUrl,
      direction,
      count,
      lockTimeout: flags.lockTimeout,
      statementTimeout: flags.statementTimeout,
      migrationsDir: flags.migrationsDir,
      // With --json, stdout carries only the JSON; progress still goes to stderr.
      log: stderrLog,
      signal: stop.signal,
    });
  } finally {
    stop.dispose();
  }
  if (flags.json) {
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    return;
  }
  const verb = direction === "up" ? "applied" : "reverted";
  process.stdout.write(
    result.migrations.length === 0
      ? `nothing to do\n`
      : `${verb} ${result.migrations.length} migration(s): ${result.migrations.map((m) => m.name).join(", ")}\n`,
  );
}

export function registerMigrateCommands(program: Command): void {
  const migrate = program
    .command("migrate")
    .description("Postgres auth schema: apply, revert, inspect and verify migrations");

  withTimeouts(withConnection(migrate.command("up")))
    .description("apply pending migrations (all, or the next N), one runner at a time")
    .argument("[N]", 'how many to apply (default: all; "all" works too)')
    .option("--json", "print the result as JSON")
    .action((count: string | undefined, flags: RunFlags) => run("up", count, flags));

  withTimeouts(withConnection(migrate.command("down")))
    .description("revert the last N applied migrations (default 1)")
    .argument("[N]", 'how many to revert (default: 1; "all" reverts everything and needs --yes)')
    .option("--yes", "go ahead with down all without asking (it drops every table)")
    .option("--json", "print the result as JSON")
    .action((count: string | undefined, flags: RunFlags) => run("down", count ?? "1", flags));

  withConnection(migrate.command("status"))
    .description("list applied migrations (with checksum state) and pending ones")
    .option("--json", "print the status as JSON")
    .action(async (flags: ConnectionFlags & { json?: boolean }) => {
      const status = await loadStatus().migrationStatus({
        databaseUrl: flags.databaseUrl,
        migrationsDir: flags.migrationsDir,
      });
      if (flags.json) {
        process.stdout.write(`${JSON.stringify(status, null, 2)}\n`);
      } else {
        const lines = [`applied (${status.applied.length}):`];
        for (const a of status.applied) {
          lines.push(`  ${a.state === "ok" ? "✓" : "✗"} ${a.name}  ${a.appliedAt}  ${a.state}`);
        }
        lines.push(`pending (${status.pending.length}):`);
        for (const p of status.pending) lines.push(`  · ${p.name}`);
        for (const p of status.problems) lines.push(`problem: ${p.message}`);
        process.stdout.write(`${lines.join("\n")}\n`);
      }
      if (status.problems.length > 0) {
        const count = status.problems.length;
        throw new MigrationHistoryError(
          `the migration files disagree with the applied history (${count} problem${count === 1 ? "" : "s"}, listed above); up and down refuse to run until the files are restored`,
          status.problems,
        );
      }
    });

  withConnection(migrate.command("verify"))
    .description(
      "compare the live database with schema/auth.ts (tables, columns, types, nullability, defaults, identity, constraints, indexes, triggers and whether they are enabled, trigger functions and their bodies); exits with the drift code on a difference",
    )
    .option("--schema <name>", "Postgres schema to verify", "public")
    .option("--json", "print the differences as JSON")
    .action(async (flags: ConnectionFlags & { json?: boolean; schema: string }) => {
      const { SchemaDriftError, verifySchema } = loadVerify();
      const result = await verifySchema({ databaseUrl: flags.databaseUrl, schema: flags.schema });
      if (flags.json) {
        process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
      } else if (result.ok) {
        process.stdout.write(`schema ${result.schema} matches schema/auth.ts\n`);
      } else {
        process.stdout.write(
          `schema ${result.schema} differs from schema/auth.ts (${result.differences.length}):\n${result.differences.map((d) => `  - ${d.message}`).join("\n")}\n`,
        );
      }
      if (!result.ok) throw new SchemaDriftError(result);
    });

  migrate
    .command("create")
    .description("write a new timestamped SQL migration from the template")
    .argument("<name>", "kebab-case name, e.g. add-user-locale")
    .addOption(new Option("--migrations-dir <dir>", "migrations folder").hideHelp())
    .action((name: string, flags: { migrationsDir?: string }) => {
      const path = createMigration(name, { dir: flags.migrationsDir });
      process.stdout.write(`${relative(process.cwd(), path) || path}\n`);
    });

  registerGenerateCommand(migrate);
}
