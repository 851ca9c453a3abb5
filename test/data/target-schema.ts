/**
 * Creates the Postgres auth schema for the data migration tests and the benchmark the way
 * production does: the project's migration runner applying `migrations/`.
 */
import { runMigrations } from "../../src/migrate";

export async function createAuthSchema(url: string): Promise<void> {
  await runMigrations({ databaseUrl: url, direction: "up" });
}
