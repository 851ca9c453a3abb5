/**
 * `synter-infra migrate generate <name> | --check` (src/migrate/generate): writes the migration
 * schema/auth.ts asks for, or, with `--check`, fails with the drift code when one is missing — the
 * CI step that stops a schema change without its migration. Registered by `migrate.ts`.
 */
import { Command, Option } from "commander";
import { relative } from "node:path";
import { MigrationNameError } from "../../migrate/files";

/* eslint-disable @typescript-eslint/no-require-imports -- require() defers loading to the action */
/**
 * Loaded by the action only: generating loads schema/, the planner and the scratch server, which
 * every other `migrate` command (registered beside this one) would otherwise pay for at start-up.
 */
const loadGenerate = () =>
  require("../../migrate/generate") as typeof import("../../migrate/generate");
const loadRiskRules = () =>
  require("../../diff/migration-risks") as typeof import("../../diff/migration-risks");
/* eslint-enable @typescript-eslint/no-require-imports */

interface GenerateFlags {
  check?: boolean;
  json?: boolean;
  migrationsDir?: string;
}

const stderrLog = (line: string) => process.stderr.write(`${line}\n`);
const shown = (path: string) => relative(process.cwd(), path) || path;

async function check(flags: GenerateFlags): Promise<void> {
  const { MigrationsBehindSchemaError, checkMigrations } = loadGenerate();
  const result = await checkMigrations({ migrationsDir: flags.migrationsDir, log: stderrLog });
  if (flags.json) {
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  } else if (result.ok) {
    process.stdout.write("migrations/ produce exactly schema/auth.ts: nothing to generate\n");
  } else {
    const lines = result.differences.map((d) => `  - ${d.message}`);
    const steps = [...result.plan.transactional, ...result.plan.concurrent];
    process.stdout.write(
      `schema/auth.ts differs from what migrations/ produce:\n${lines.join("\n")}\nmigrate generate would:\n${steps.map((s) => `  - ${s.summary}`).join("\n")}\n`,
    );
  }
  if (!result.ok) throw new MigrationsBehindSchemaError(result.differences);
}

async function generate(name: string | undefined, flags: GenerateFlags): Promise<void> {
  if (name === undefined) {
    throw new MigrationNameError(
      "migrate generate needs a name for the migration (kebab-case, e.g. add-user-locale), or --check",
    );
  }
  const result = await loadGenerate().generateMigration({
    name,
    migrationsDir: flags.migrationsDir,
    log: stderrLog,
  });
  if (flags.json) {
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    return;
  }
  if (result.files.length === 0) {
    process.stdout.write("migrations/ produce exactly schema/auth.ts: nothing to generate\n");
    return;
  }
  for (const risk of result.risks) {
    const target = [risk.table, risk.column].filter(Boolean).join(".");
    const label = loadRiskRules().MIGRATION_RISK_RULES[risk.rule].destructive
      ? "destructive"
      : "warning";
    stderrLog(`${label}: ${risk.rule}${target ? ` on ${target}` : ""}: ${risk.reason}`);
  }
  for (const file of result.files) process.stdout.write(`${shown(file.path)}\n`);
}

export function registerGenerateCommand(migrate: Command): void {
  migrate
    .command("generate")
    .description(
      "write the migration from what migrations/ produce to what schema/auth.ts declares (replayed into a throwaway Postgres, proven up and down before it is written); renames only where declared with renamedFrom",
    )
    .argument("[name]", "kebab-case name, e.g. add-user-locale (not with --check)")
    .option(
      "--check",
      "write nothing; exit with the drift code when schema/auth.ts differs from what the migrations produce",
    )
    .option("--json", "print the result as JSON")
    .addOption(new Option("--migrations-dir <dir>", "migrations folder").hideHelp())
    .action((name: string | undefined, flags: GenerateFlags) =>
      flags.check ? check(flags) : generate(name, flags),
    );
}
