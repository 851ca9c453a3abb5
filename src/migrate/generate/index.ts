/**
 * `migrate generate <name>` and `migrate generate --check`: the migration that takes what the
 * existing migrations produce to what schema/auth.ts declares.
 *
 * The "before" side is obtained by *replaying* the migrations into a throwaway Postgres and reading
 * it back with verify's catalog queries (`liveShape`), not from checked-in snapshots (drizzle's
 * `meta/`): the migrations are then the only record of the current schema, so no snapshot can drift
 * from them, hand-written migrations (the first two, a data fix) count exactly as they run, and the
 * comparison is the one `migrate verify` makes in production. Replay costs about two seconds.
 *
 * Before anything is written, the new files are proven on that same database: up, then the result
 * must match schema/auth.ts (verify's `compareShapes`) and leave nothing more to generate; down,
 * then the schema must be what it was. A migration that fails either is never written.
 */
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Client } from "pg";
import { authTableList } from "../../../schema/auth";
import type { PgTable } from "../../../schema/dsl/postgres";
import type { MigrationRisk } from "../../diff/migration-risks";
import { ToolError } from "../../errors/tool-error";
import { DEFAULT_MIGRATIONS_DIR, MigrationNameError, readMigrationFiles } from "../files";
import { runMigrations } from "../runner";
import {
  compareShapes,
  desiredShape,
  liveShape,
  type SchemaDifference,
  type SchemaShape,
} from "../verify";
import { isEmptyPlan, planMigration, type MigrationPlan } from "./plan";
import { renderMigrationFiles, type GeneratedFile } from "./render";
import { startScratchPostgres } from "./scratch-postgres";

export {
  isEmptyPlan,
  partStatements,
  planMigration,
  type MigrationPlan,
  type PlannedStep,
} from "./plan";
export { renderMigrationFiles, type GeneratedFile, type RenderedMigration } from "./render";
export { RenameDeclarationError } from "./renames";
export {
  ScratchPostgresError,
  startScratchPostgres,
  type ScratchPostgres,
} from "./scratch-postgres";

/** The generated migration did not survive its own proof on the scratch database. */
export class GeneratedMigrationError extends ToolError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("config", message, options);
  }
}

/** `--check`: schema/ declares a change that no migration makes yet. */
export class MigrationsBehindSchemaError extends ToolError {
  constructor(readonly differences: readonly SchemaDifference[]) {
    const count = differences.length;
    super(
      "drift",
      `schema/auth.ts differs from what migrations/ produce (${count} difference${count === 1 ? "" : "s"}): run \`synter-infra migrate generate <name>\` and commit the migration it writes`,
    );
  }
}

interface CommonOptions {
  /** Default: the repository's `migrations/`. */
  readonly migrationsDir?: string;
  /** Default: every auth table of schema/auth.ts. */
  readonly tables?: readonly PgTable[];
  /** Progress lines. Default: silent. */
  readonly log?: (line: string) => void;
}

export interface GenerateOptions extends CommonOptions {
  readonly name: string;
  /** Clock for the timestamp prefix (tests pin it). */
  readonly now?: () => number;
}

export interface WrittenFile extends GeneratedFile {
  readonly path: string;
}

export interface GenerateResult {
  /** Written, in execution order; empty when schema/ already matches. */
  readonly files: readonly WrittenFile[];
  readonly plan: MigrationPlan;
  /** What `synter-infra diff`'s migration lint finds in the new files (destructive changes). */
  readonly risks: readonly MigrationRisk[];
}

export interface CheckResult {
  readonly ok: boolean;
  /** schema/auth.ts against the replayed migrations, as `migrate verify` words them. */
  readonly differences: readonly SchemaDifference[];
  readonly plan: MigrationPlan;
}

const NAME_PATTERN = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;

/** Runs `use` on a scratch database holding what the migrations in `dir` produce. */
async function withReplayedMigrations<T>(
  dir: string,
  log: (line: string) => void,
  use: (client: Client) => Promise<T>,
): Promise<T> {
  // Read first: a broken migrations folder is reported before a server starts.
  const files = readMigrationFiles(dir);
  log(`replaying ${files.length} migration(s) into a scratch Postgres…`);
  const server = await startScratchPostgres();
  try {
    await server.createDatabase("replay");
    const client = await server.connect("replay");
    try {
      await runMigrations({ client, migrationsDir: dir });
      return await use(client);
    } finally {
      await client.end().catch(() => undefined);
    }
  } finally {
    await server.stop();
  }
}

function functionNames(tables: readonly PgTable[]): string[] {
  return [...desiredShape(tables).functions.keys()];
}

/** Every difference between two live shapes, both ways (extensions included). */
function shapeDifferences(before: SchemaShape, after: SchemaShape): string[] {
  const messages = new Set([
    ...compareShapes(before, after).map((d) => d.message),
    ...compareShapes(after, before).map((d) => `(reverse) ${d.message}`),
  ]);
  return [...messages];
}

export async function checkMigrations(options: CommonOptions = {}): Promise<CheckResult> {
  const tables = options.tables ?? authTableList;
  const dir = options.migrationsDir ?? DEFAULT_MIGRATIONS_DIR;
  return withReplayedMigrations(dir, options.log ?? (() => undefined), async (client) => {
    const live = await liveShape(client, "public", functionNames(tables));
    const differences = compareShapes(desiredShape(tables), live);
    const plan = planMigration({ tables, live });
    return { ok: differences.length === 0 && isEmptyPlan(plan), differences, plan };
  });
}

/**
 * Applies `files` (beside the existing migrations) to `client`, checks the result against
 * `tables`, reverts them and checks the schema is `before` again.
 */
async function prove(
  client: Client,
  dir: string,
  files: readonly GeneratedFile[],
  tables: readonly PgTable[],
  before: SchemaShape,
): Promise<void> {
  const scratchDir = mkdtempSync(join(tmpdir(), "synter-gen-migrations-"));
  const names = functionNames(tables);
  const stage = (what: string, error: unknown) =>
    new GeneratedMigrationError(
      `the generated migration failed its proof (${what}) on a scratch database; nothing was written: ${error instanceof Error ? error.message : String(error)}`,
      { cause: error },
    );
  try {
    for (const file of readMigrationFiles(dir))
      copyFileSync(file.path, join(scratchDir, file.fileName));
    for (const file of files) writeFileSync(join(scratchDir, file.fileName), file.content);
    try {
      await runMigrations({ client, migrationsDir: scratchDir });
    } catch (error) {
      throw stage("up", error);
    }
    const after = await liveShape(client, "public", names);
    const left = compareShapes(desiredShape(tables), after);
    if (left.length > 0 || !isEmptyPlan(planMigration({ tables, live: after }))) {
      throw new GeneratedMigrationError(
        `the generated migration, applied to a scratch database, does not reach schema/auth.ts; nothing was written. Still different: ${left.map((d) => d.message).join("; ") || "(a further migration would be generated)"}. Usually a default or type in schema/auth.ts is not written the way Postgres prints it back (pg_get_expr, format_type); otherwise this is a bug in migrate generate`,
      );
    }
    try {
      await runMigrations({
        client,
        migrationsDir: scratchDir,
        direction: "down",
        count: files.length,
      });
    } catch (error) {
      throw stage("down", error);
    }
    const reverted = shapeDifferences(before, await liveShape(client, "public", names));
    if (reverted.length > 0) {
      throw new GeneratedMigrationError(
        `the generated migration's down does not restore the schema on a scratch database (a bug in migrate generate); nothing was written: ${reverted.join("; ")}`,
      );
    }
  } finally {
    rmSync(scratchDir, { recursive: true, force: true });
  }
}

export async function generateMigration(options: GenerateOptions): Promise<GenerateResult> {
  if (!NAME_PATTERN.test(options.name)) {
    throw new MigrationNameError(
      `invalid migration name "${options.name}": use lower-case words joined by hyphens, e.g. add-user-locale`,
    );
  }
  const tables = options.tables ?? authTableList;
  const dir = options.migrationsDir ?? DEFAULT_MIGRATIONS_DIR;
  const log = options.log ?? (() => undefined);
  return withReplayedMigrations(dir, log, async (client) => {
    const live = await liveShape(client, "public", functionNames(tables));
    const plan = planMigration({ tables, live });
    if (isEmptyPlan(plan)) return { files: [], plan, risks: [] };
    const last = readMigrationFiles(dir).at(-1)?.timestamp ?? 0;
    // Strictly after the last migration, so a new file never sorts before an applied one.
    const timestamp = Math.max((options.now ?? Date.now)(), last + 1);
    const rendered = renderMigrationFiles(plan, { name: options.name, timestamp });
    log("proving it: up, verify, down, verify on the scratch database…");
    await prove(client, dir, rendered.files, tables, live);
    const files = rendered.files.map((file) => {
      const path = join(dir, file.fileName);
      writeFileSync(path, file.content, { flag: "wx" });
      return { ...file, path };
    });
    return { files, plan, risks: rendered.risks };
  });
}
