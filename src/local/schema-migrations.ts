/** The migration runner (src/migrate) as the local environment uses it. */
import { runMigrations, verifySchema } from "../migrate";
import type { SchemaMigrations } from "./environment";

export function localSchemaMigrations(migrationsDir?: string): SchemaMigrations {
  return {
    apply: async (databaseUrl, signal) =>
      (await runMigrations({ databaseUrl, migrationsDir, signal })).migrations.map(
        (run) => run.name,
      ),
    verify: async (databaseUrl) =>
      (await verifySchema({ databaseUrl })).differences.map((difference) => difference.message),
  };
}
