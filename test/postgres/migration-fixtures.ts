/**
 * Fixtures for the migration tests: a private copy of `migrations/` (so a test can edit, remove or
 * add files without touching the real ones), fresh databases, and small catalog queries.
 */
import { copyFileSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Client } from "pg";
import { DEFAULT_MIGRATIONS_DIR } from "../../src/migrate";
import type { EmbeddedPostgres } from "../support/embedded-postgres";

export const REAL_MIGRATIONS = readdirSync(DEFAULT_MIGRATIONS_DIR).sort();

/** A temp copy of the real migrations plus `extra` files (name → content). */
export function copyMigrations(extra: Record<string, string> = {}): {
  dir: string;
  remove(): void;
} {
  const dir = mkdtempSync(join(tmpdir(), "synter-migrations-"));
  for (const name of REAL_MIGRATIONS)
    copyFileSync(join(DEFAULT_MIGRATIONS_DIR, name), join(dir, name));
  for (const [name, content] of Object.entries(extra)) writeFileSync(join(dir, name), content);
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

let databaseCounter = 0;
/** A new empty database on `server`, named after the test for readable server logs. */
export async function freshDatabase(server: EmbeddedPostgres, label: string): Promise<string> {
  databaseCounter += 1;
  return server.createDatabase(
    `${label.replace(/[^a-z0-9]+/gi, "_").toLowerCase()}_${databaseCounter}`,
  );
}

export async function withClient<T>(url: string, use: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return await use(client);
  } finally {
    await client.end();
  }
}

/** Tables of schema `public`, sorted. */
export async function publicTables(url: string): Promise<string[]> {
  return withClient(url, async (client) => {
    const { rows } = await client.query<{ name: string }>(
      "SELECT tablename AS name FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename",
    );
    return rows.map((r) => r.name);
  });
}
