/**
 * What has been applied, and whether the files still agree with it. node-pg-migrate's own table
 * `pgmigrations` stays the record of *which* migrations ran (so its CLI still works on this
 * database as an escape hatch); `synter_migrations` beside it holds the sha256 of each applied
 * file, written in the same transaction as the migration itself, because node-pg-migrate stores no
 * checksum (DESIGN §7).
 */
import type { ClientBase } from "pg";
import type { MigrationFile } from "./files";

export const MIGRATIONS_TABLE = "pgmigrations";
export const CHECKSUMS_TABLE = "synter_migrations";
/** Bookkeeping tables live here, beside the auth tables. */
export const MIGRATIONS_SCHEMA = "public";

export interface AppliedRecord {
  readonly name: string;
  readonly appliedAt: Date;
  /** Absent when the migration was applied by another tool (node-pg-migrate's CLI). */
  readonly checksum?: string;
}

export type HistoryProblemKind = "edited" | "removed" | "reordered" | "unrecorded";

export interface HistoryProblem {
  readonly kind: HistoryProblemKind;
  /** Migration name (file name without extension). */
  readonly name: string;
  readonly message: string;
}

const q = (identifier: string) => `"${identifier.replace(/"/g, '""')}"`;
export const migrationsTableSql = `${q(MIGRATIONS_SCHEMA)}.${q(MIGRATIONS_TABLE)}`;
export const checksumsTableSql = `${q(MIGRATIONS_SCHEMA)}.${q(CHECKSUMS_TABLE)}`;

/** Creates both tables when missing; `pgmigrations` exactly as node-pg-migrate creates it. */
export async function ensureHistoryTables(client: ClientBase): Promise<void> {
  // One round trip (a parameterless multi-statement query); the caller holds the migration lock,
  // so IF NOT EXISTS cannot race with another runner.
  await client.query(
    `CREATE TABLE IF NOT EXISTS ${migrationsTableSql} (id SERIAL PRIMARY KEY, name varchar(255) NOT NULL, run_on timestamp NOT NULL);
     CREATE TABLE IF NOT EXISTS ${checksumsTableSql} (
       name varchar(255) PRIMARY KEY,
       checksum char(64) NOT NULL,
       applied_at timestamptz NOT NULL DEFAULT now(),
       duration_ms integer NOT NULL
     );`,
  );
}

/** Applied migrations in the order they were applied; empty when the tables do not exist yet. */
export async function readApplied(client: ClientBase): Promise<AppliedRecord[]> {
  const { rows: exists } = await client.query<{ migrations: boolean; checksums: boolean }>(
    `SELECT to_regclass($1) IS NOT NULL AS migrations, to_regclass($2) IS NOT NULL AS checksums`,
    [migrationsTableSql, checksumsTableSql],
  );
  if (!exists[0]?.migrations) return [];
  const checksumJoin = exists[0].checksums
    ? `LEFT JOIN ${checksumsTableSql} s ON s.name = p.name`
    : "LEFT JOIN (SELECT NULL::text AS name, NULL::text AS checksum) s ON false";
  // One statement, so both tables are read from the same snapshot.
  const { rows } = await client.query<{ name: string; run_on: Date; checksum: string | null }>(
    `SELECT p.name, p.run_on, s.checksum FROM ${migrationsTableSql} p ${checksumJoin} ORDER BY p.run_on, p.id`,
  );
  return rows.map((r) => ({
    name: r.name,
    appliedAt: r.run_on,
    ...(r.checksum ? { checksum: r.checksum.trim() } : {}),
  }));
}

/**
 * Every disagreement between the applied history and the files: an applied migration whose file
 * was edited, removed, or whose position changed, and a pending file that sorts before an applied
 * one (it would never run in its intended order).
 */
export function historyProblems(
  applied: readonly AppliedRecord[],
  files: readonly MigrationFile[],
): HistoryProblem[] {
  const problems: HistoryProblem[] = [];
  const byName = new Map(files.map((f) => [f.name, f]));
  const appliedNames = new Set(applied.map((a) => a.name));
  for (const record of applied) {
    const file = byName.get(record.name);
    if (!file) {
      problems.push({
        kind: "removed",
        name: record.name,
        message: `applied migration ${record.name} has no file any more: restore it (applied migrations are never removed; write a new migration to undo one)`,
      });
    } else if (record.checksum === undefined) {
      problems.push({
        kind: "unrecorded",
        name: record.name,
        message: `applied migration ${file.fileName} has no recorded checksum (applied by another tool?): cannot prove the file is unchanged`,
      });
    } else if (record.checksum !== file.checksum) {
      problems.push({
        kind: "edited",
        name: record.name,
        message: `applied migration ${file.fileName} was edited (applied sha256 ${record.checksum.slice(0, 12)}…, file now ${file.checksum.slice(0, 12)}…): restore it and put the change in a new migration`,
      });
    }
  }
  // Applied migrations that still have files must appear in file order, before every pending one.
  const appliedWithFiles = applied.filter((a) => byName.has(a.name)).map((a) => a.name);
  const fileOrder = files.filter((f) => appliedNames.has(f.name)).map((f) => f.name);
  for (let i = 0; i < appliedWithFiles.length; i++) {
    if (appliedWithFiles[i] !== fileOrder[i]) {
      const name = appliedWithFiles[i]!;
      problems.push({
        kind: "reordered",
        name,
        message: `applied migration ${byName.get(name)!.fileName} is out of order: it was applied as #${i + 1} but the files now put ${byName.get(fileOrder[i]!)!.fileName} there (was a file renamed?)`,
      });
      break;
    }
  }
  const lastApplied = [...files].reverse().find((f) => appliedNames.has(f.name));
  if (lastApplied) {
    for (const f of files) {
      if (f.timestamp >= lastApplied.timestamp) break;
      if (!appliedNames.has(f.name)) {
        problems.push({
          kind: "reordered",
          name: f.name,
          message: `pending migration ${f.fileName} sorts before the applied ${lastApplied.fileName}: give it a later timestamp (synter-infra migrate create makes one)`,
        });
      }
    }
  }
  return problems;
}
