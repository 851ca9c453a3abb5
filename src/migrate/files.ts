/**
 * The migration files on disk: which exist, in which order, and the sha256 of their bytes. The
 * order is node-pg-migrate's own (numeric timestamp prefix), so its CLI and ours agree.
 */
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { basename, extname, join, resolve } from "node:path";
import { ToolError } from "../errors/tool-error";

/** `migrations/` at the repository root, independent of the current directory. */
export const DEFAULT_MIGRATIONS_DIR = resolve(__dirname, "..", "..", "migrations");

/** `<13-digit ms timestamp>_<kebab-name>.sql|.js` — what `create` writes and the runner accepts. */
const MIGRATION_FILE_PATTERN = /^(\d{13})_([a-z0-9]+(?:-[a-z0-9]+)*)\.(sql|js)$/;

/** The migrations directory is missing or holds files the runner cannot order or would not run. */
export class MigrationFilesError extends ToolError {
  constructor(message: string) {
    super("config", message);
  }
}

/** `migrate create` was given a name that is not kebab-case. */
export class MigrationNameError extends ToolError {
  constructor(message: string) {
    super("usage", message);
  }
}

export interface MigrationFile {
  /** File name without extension: the name node-pg-migrate records in `pgmigrations`. */
  readonly name: string;
  readonly fileName: string;
  readonly path: string;
  readonly timestamp: number;
  readonly language: "sql" | "js";
  /** sha256 (hex) of the file's bytes. */
  readonly checksum: string;
  /** The bytes as text, read once: what is checksummed is what runs. */
  readonly content: string;
}

export function sha256(data: string | Buffer): string {
  return createHash("sha256").update(data).digest("hex");
}

/**
 * Every migration file, ordered. Files node-pg-migrate would also pick up (anything not starting
 * with a dot) but whose names do not follow the pattern are an error, since they would run too.
 */
export function readMigrationFiles(dir: string = DEFAULT_MIGRATIONS_DIR): MigrationFile[] {
  if (!existsSync(dir)) throw new MigrationFilesError(`migrations directory not found: ${dir}`);
  const names = readdirSync(dir, { withFileTypes: true })
    .filter((entry) => (entry.isFile() || entry.isSymbolicLink()) && !entry.name.startsWith("."))
    .map((entry) => entry.name);
  const bad = names.filter((n) => !MIGRATION_FILE_PATTERN.test(n));
  if (bad.length > 0) {
    throw new MigrationFilesError(
      `unexpected files in ${dir} (migrations are named <13-digit timestamp>_<kebab-name>.sql|.js): ${bad.join(", ")}`,
    );
  }
  const files = names.map((fileName): MigrationFile => {
    const match = MIGRATION_FILE_PATTERN.exec(fileName)!;
    const path = join(dir, fileName);
    const bytes = readFileSync(path);
    return {
      name: basename(fileName, extname(fileName)),
      fileName,
      path,
      timestamp: Number(match[1]),
      language: match[3] as "sql" | "js",
      checksum: sha256(bytes),
      content: bytes.toString("utf8"),
    };
  });
  // Same rule as node-pg-migrate: by timestamp, then by name.
  files.sort((a, b) => a.timestamp - b.timestamp || a.name.localeCompare(b.name));
  const seen = new Map<number, string>();
  for (const f of files) {
    const other = seen.get(f.timestamp);
    if (other) {
      throw new MigrationFilesError(
        `migrations ${other} and ${f.fileName} share the timestamp ${f.timestamp}`,
      );
    }
    seen.set(f.timestamp, f.fileName);
  }
  return files;
}

/**
 * One digest of every migration file (names and bytes, in order). The `pulumi up` migration
 * resource keeps it as an input, so adding or changing a file triggers a re-run.
 */
export function migrationsChecksum(dir: string = DEFAULT_MIGRATIONS_DIR): string {
  return sha256(
    readMigrationFiles(dir)
      .map((f) => `${f.fileName}\0${f.checksum}\n`)
      .join(""),
  );
}

const SQL_TEMPLATE = `-- Why this migration exists (one or two lines). Migrations are never edited once merged:
-- to change something, write a new migration. Keep schema/auth.ts in step — verify compares.

-- Up Migration


-- Down Migration

`;

export interface CreateMigrationOptions {
  readonly dir?: string;
  /** Clock for the timestamp prefix (tests pin it). */
  readonly now?: () => number;
}

/** Writes `<timestamp>_<name>.sql` from the template and returns its path. */
export function createMigration(name: string, options: CreateMigrationOptions = {}): string {
  const dir = options.dir ?? DEFAULT_MIGRATIONS_DIR;
  if (!/^[a-z0-9]+(?:-[a-z0-9]+)*$/.test(name)) {
    throw new MigrationNameError(
      `invalid migration name "${name}": use lower-case words joined by hyphens, e.g. add-user-locale`,
    );
  }
  mkdirSync(dir, { recursive: true });
  const existing = existsSync(dir) ? readMigrationFiles(dir) : [];
  // Strictly after the last migration, so a new file can never sort before an applied one.
  const last = existing.at(-1)?.timestamp ?? 0;
  const timestamp = Math.max((options.now ?? Date.now)(), last + 1);
  const path = join(dir, `${timestamp}_${name}.sql`);
  writeFileSync(path, SQL_TEMPLATE, { flag: "wx" });
  return path;
}
