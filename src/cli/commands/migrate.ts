/**
 * `synter-infra migrate up|down [N]|status|verify|create <name>`: the Postgres auth schema's
 * migrations (src/migrate). Exit codes: 0 ok, 1 user error (connection…), 2 bad arguments,
 * 3 a migration failed, 4 applied files disagree with the history, 5 verify found drift.
 */
import { Command, Option } from "commander";
import { relative } from "node:path";
import { UserError } from "../errors";
import {
  DATABASE_URL_VARIABLE,
  DEFAULT_LOCK_TIMEOUT,
  DEFAULT_STATEMENT_TIMEOUT,
  EXIT_DRIFT,
  EXIT_HISTORY_MISMATCH,
  LOCK_TIMEOUT_VARIABLE,
  STATEMENT_TIMEOUT_VARIABLE,
  createMigration,
  migrationStatus,
  runMigrations,
  verifySchema,
  type MigrationDirection,
} from "../../migrate";

interface ConnectionFlags {
  databaseUrl?: string;
  migrationsDir?: string;
}
interface RunFlags extends ConnectionFlags {
  lockTimeout?: string;
  statementTimeout?: string;
  json?: boolean;
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

function parseCount(value: string | undefined, direction: MigrationDirection): number | undefined {
  if (value === undefined) return undefined;
  if (value === "all") return Infinity;
  if (!/^\d+$/.test(value)) {
    throw new UserError(`invalid count "${value}" for ${direction}: a whole number or "all"`, 2);
  }
  return Number(value);
}

const stderrLog = (line: string) => process.stderr.write(`${line}\n`);

async function run(direction: MigrationDirection, countArg: string | undefined, flags: RunFlags) {
  const result = await runMigrations({
    databaseUrl: flags.databaseUrl,
    direction,
    count: parseCount(countArg, direction),
    lockTimeout: flags.lockTimeout,
    statementTimeout: flags.statementTimeout,
    migrationsDir: flags.migrationsDir,
    // With --json, stdout carries only the JSON; progress still goes to stderr.
    log: stderrLog,
  });
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
    .argument("[N]", 'how many to revert (default: 1; "all" reverts everything)')
    .option("--json", "print the result as JSON")
    .action((count: string | undefined, flags: RunFlags) => run("down", count ?? "1", flags));

  withConnection(migrate.command("status"))
    .description("list applied migrations (with checksum state) and pending ones")
    .option("--json", "print the status as JSON")
    .action(async (flags: ConnectionFlags & { json?: boolean }) => {
      const status = await migrationStatus({
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
      if (status.problems.length > 0) process.exitCode = EXIT_HISTORY_MISMATCH;
    });

  withConnection(migrate.command("verify"))
    .description(
      "compare the live database with schema/auth.ts (tables, columns, types, nullability, defaults, identity, constraints, indexes, triggers); exit 5 on drift",
    )
    .option("--schema <name>", "Postgres schema to verify", "public")
    .option("--json", "print the differences as JSON")
    .action(async (flags: ConnectionFlags & { json?: boolean; schema: string }) => {
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
      if (!result.ok) process.exitCode = EXIT_DRIFT;
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
}
