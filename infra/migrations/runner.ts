/**
 * The migration runner (src/migrate) seen through the small interface the `SchemaMigrations`
 * resource needs. Also reads the migration files at program time (checksum and names).
 */
import {
  migrationsChecksum,
  pendingMigrations,
  readMigrationFiles,
  runMigrations,
  verifySchema,
} from "../../src/migrate";
import type { MigrationRunner } from "./provider-logic";

export interface MigrationFilesSummary {
  /** Digest of every file's name and bytes, in order. */
  readonly checksum: string;
  readonly names: string[];
}

export function migrationFilesSummary(migrationsDir?: string): MigrationFilesSummary {
  return {
    checksum: migrationsChecksum(migrationsDir),
    names: readMigrationFiles(migrationsDir).map((file) => file.name),
  };
}

export function migrationRunner(migrationsDir?: string): MigrationRunner {
  return {
    pending: (databaseUrl) => pendingMigrations({ databaseUrl, migrationsDir }),
    apply: async (databaseUrl) =>
      (await runMigrations({ databaseUrl, migrationsDir })).migrations.map((run) => run.name),
    verify: async (databaseUrl) =>
      (await verifySchema({ databaseUrl })).differences.map((difference) => difference.message),
  };
}
