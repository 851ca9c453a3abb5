/**
 * `migrate status`: which migrations are applied (and whether their files are unchanged) and which
 * are pending. Read-only: it takes no lock and creates nothing.
 */
import { connect, resolveDatabaseUrl, type DatabaseTarget } from "./connection";
import { DEFAULT_MIGRATIONS_DIR, readMigrationFiles } from "./files";
import { historyProblems, readApplied, type HistoryProblem } from "./history";

export type AppliedState = "ok" | "edited" | "removed" | "unrecorded" | "reordered";

export interface AppliedMigrationStatus {
  readonly name: string;
  /** Absent when the file is gone. */
  readonly fileName?: string;
  readonly appliedAt: string;
  readonly checksum?: string;
  readonly state: AppliedState;
}

export interface PendingMigrationStatus {
  readonly name: string;
  readonly fileName: string;
  readonly checksum: string;
}

export interface MigrationStatus {
  readonly applied: readonly AppliedMigrationStatus[];
  readonly pending: readonly PendingMigrationStatus[];
  /** Disagreements that make `up`/`down` refuse to run; empty when all is well. */
  readonly problems: readonly HistoryProblem[];
}

export interface MigrationStatusOptions extends DatabaseTarget {
  readonly migrationsDir?: string;
}

export async function migrationStatus(
  options: MigrationStatusOptions = {},
): Promise<MigrationStatus> {
  const files = readMigrationFiles(options.migrationsDir ?? DEFAULT_MIGRATIONS_DIR);
  const client = options.client ?? (await connect(resolveDatabaseUrl(options.databaseUrl)));
  try {
    const applied = await readApplied(client);
    const problems = historyProblems(applied, files);
    const byName = new Map(files.map((f) => [f.name, f]));
    const appliedNames = new Set(applied.map((a) => a.name));
    const stateOf = (name: string): AppliedState =>
      problems.find((p) => p.name === name)?.kind ?? "ok";
    return {
      applied: applied.map((a) => ({
        name: a.name,
        ...(byName.get(a.name) ? { fileName: byName.get(a.name)!.fileName } : {}),
        appliedAt: a.appliedAt.toISOString(),
        ...(a.checksum ? { checksum: a.checksum } : {}),
        state: stateOf(a.name),
      })),
      pending: files
        .filter((f) => !appliedNames.has(f.name))
        .map((f) => ({ name: f.name, fileName: f.fileName, checksum: f.checksum })),
      problems,
    };
  } finally {
    if (!options.client) await client.end().catch(() => undefined);
  }
}

/** Names of the migrations `up` would apply (what `pulumi preview` shows). */
export async function pendingMigrations(options: MigrationStatusOptions = {}): Promise<string[]> {
  return (await migrationStatus(options)).pending.map((p) => p.name);
}
