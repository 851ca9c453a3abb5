/**
 * The logic of the `SchemaMigrations` dynamic resource as plain functions, tested directly
 * against embedded Postgres; the serialized provider only loads this module and delegates.
 *
 * - check: computes `pending` (connecting as the migrator when the URL is known, otherwise from the
 *   files not yet recorded as applied), so `pulumi preview` shows the pending names as a changed
 *   input;
 * - diff: changes when the migrations checksum, the database or the pending list changed;
 * - create/update: apply the migrations, then verify; drift fails the update with every difference;
 * - delete: nothing. Pulumi never drops data through this resource: the database goes with
 *   `AuthDatabase` (protected on staging/prod), and `migrate down` is a deliberate CLI act.
 */
import type * as pulumi from "@pulumi/pulumi";
import { PULUMI_UNKNOWN_VALUE } from "../pulumi-internals";

/** What the resource needs from the migration runner (src/migrate). */
export interface MigrationRunner {
  /** Names of the migrations not yet applied to the database, in order. */
  pending(databaseUrl: string): Promise<string[]>;
  /** Applies the pending migrations; returns the names applied by this call. */
  apply(databaseUrl: string): Promise<string[]>;
  /** One line per difference between the live schema and schema/ (empty: none). */
  verify(databaseUrl: string): Promise<string[]>;
}

export interface SchemaMigrationsInputs {
  /** The migrator's URL (secret). */
  readonly databaseUrl: string;
  /** Digest of the migration files: a new or edited file changes it. */
  readonly checksum: string;
  /** Every migration file name, in order. */
  readonly migrations: readonly string[];
  /** Folder of migration files; absent: the repository's `migrations/`. */
  readonly migrationsDir?: string;
  /** Filled by `check`: the names `create`/`update` would apply. */
  readonly pending?: readonly string[];
}

export interface SchemaMigrationsOutputs extends SchemaMigrationsInputs {
  readonly pending: readonly string[];
  /** Every migration applied to the database after the last create/update. */
  readonly applied: readonly string[];
  /** Applied by the last create/update. */
  readonly appliedByLastRun: readonly string[];
}

export { PULUMI_UNKNOWN_VALUE as UNKNOWN_VALUE } from "../pulumi-internals";

export class SchemaDriftError extends Error {
  constructor(readonly differences: readonly string[]) {
    super(
      `the database differs from schema/ after migrating (${differences.length} ` +
        `difference${differences.length === 1 ? "" : "s"}):\n  ${differences.join("\n  ")}`,
    );
    this.name = "SchemaDriftError";
  }
}

/**
 * `olds` are the resource's old *inputs* — what the engine passes to check (pulumi/pulumi
 * pkg/resource/deploy/step_generator.go) — never its outputs: there is no `applied` in them.
 */
export async function checkMigrations(
  olds: Partial<SchemaMigrationsInputs> | undefined,
  news: SchemaMigrationsInputs,
  runner: MigrationRunner,
): Promise<pulumi.dynamic.CheckResult<SchemaMigrationsInputs>> {
  return { inputs: { ...news, pending: await pendingFor(olds, news, runner) } };
}

async function pendingFor(
  olds: Partial<SchemaMigrationsInputs> | undefined,
  news: SchemaMigrationsInputs,
  runner: MigrationRunner,
): Promise<string[]> {
  if (typeof news.databaseUrl === "string" && news.databaseUrl !== PULUMI_UNKNOWN_VALUE) {
    try {
      return await runner.pending(news.databaseUrl);
    } catch {
      // Not reachable (a preview from a runner that cannot reach it, or the server is created in
      // this same update): judge from the files.
    }
  }
  // Old inputs are those of the last create/update that succeeded (a failed one leaves the state
  // as it was), and that one applied every migration it listed: so only names it did not list
  // are pending. No old inputs: a first deployment, everything is.
  const applied = new Set(olds?.migrations ?? []);
  return news.migrations.filter((name) => !applied.has(name));
}

export function diffMigrations(
  olds: SchemaMigrationsOutputs,
  news: SchemaMigrationsInputs,
): pulumi.dynamic.DiffResult {
  const changed =
    olds.checksum !== news.checksum ||
    olds.databaseUrl !== news.databaseUrl ||
    !sameList(olds.migrations, news.migrations) ||
    !sameList(olds.pending, news.pending ?? []);
  // Never a replacement: replacing would mean "delete" (a no-op) then "create" — same effect as
  // an update, but reported as a replacement of the schema, which would alarm every reviewer.
  return { changes: changed, replaces: [], deleteBeforeReplace: false };
}

export async function applyMigrations(
  inputs: SchemaMigrationsInputs,
  runner: MigrationRunner,
): Promise<SchemaMigrationsOutputs> {
  const appliedByLastRun = await runner.apply(inputs.databaseUrl);
  const differences = await runner.verify(inputs.databaseUrl);
  if (differences.length > 0) throw new SchemaDriftError(differences);
  const stillPending = new Set(await runner.pending(inputs.databaseUrl));
  return {
    ...inputs,
    pending: [],
    applied: inputs.migrations.filter((name) => !stillPending.has(name)),
    appliedByLastRun,
  };
}

export async function createMigrations(
  inputs: SchemaMigrationsInputs,
  runner: MigrationRunner,
): Promise<pulumi.dynamic.CreateResult<SchemaMigrationsOutputs>> {
  return { id: "schema-migrations", outs: await applyMigrations(inputs, runner) };
}

export async function updateMigrations(
  news: SchemaMigrationsInputs,
  runner: MigrationRunner,
): Promise<pulumi.dynamic.UpdateResult<SchemaMigrationsOutputs>> {
  return { outs: await applyMigrations(news, runner) };
}

function sameList(a: readonly string[] | undefined, b: readonly string[] | undefined): boolean {
  const left = a ?? [];
  const right = b ?? [];
  return left.length === right.length && left.every((value, i) => value === right[i]);
}
