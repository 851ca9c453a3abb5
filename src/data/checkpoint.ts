/**
 * The migration's state file: per table, the last key whose range is committed in the target, the
 * rows moved, the load files written and whether the table is finished. It is written only after
 * the target has committed a range, and atomically (temp file, fsync, rename), so after a crash or
 * `kill -9` it never claims a range the target lacks. A range the target committed but the state
 * did not record is simply redone: the sinks make every range idempotent.
 */
import {
  chmodSync,
  closeSync,
  fchmodSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  unlinkSync,
  writeSync,
} from "node:fs";
import { mkdir, open, rename, rm } from "node:fs/promises";
import { dirname, join } from "node:path";
import { ToolError } from "../errors/tool-error";

/**
 * The files of a migration hold raw legacy values (load files, rejects) and where they came from:
 * owner-only, whatever the umask, on every run (`restrictPermissions` fixes files an earlier run or
 * version left readable).
 */
export const PRIVATE_FILE_MODE = 0o600;
export const PRIVATE_DIR_MODE = 0o700;

/** A file of the migration (state, rejects, load files) cannot be written: full disk, permissions. */
export class LocalFileError extends ToolError {}

/** What a failed write of `path` means for the user; other failures pass through unchanged. */
export function localFileError(error: unknown, path: string): Error {
  if (error instanceof ToolError) return error;
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  switch (code) {
    case "ENOSPC":
    case "EDQUOT":
      // Nothing is wrong with the run: it stopped where the disk did, and resumes from there.
      return new LocalFileError(
        "interrupted",
        `cannot write ${path}: no space left on device; free some space there (or use another --out / --state-dir)`,
        { cause: error },
      );
    case "EACCES":
    case "EPERM":
      return new LocalFileError(
        "config",
        `cannot write ${path}: permission denied; use a directory this user owns for --out / --state-dir`,
        { cause: error },
      );
    case "EROFS":
      return new LocalFileError(
        "config",
        `cannot write ${path}: read-only file system; use another --out / --state-dir`,
        { cause: error },
      );
    case "ENOTDIR":
    case "EEXIST":
    case "EISDIR":
      return new LocalFileError(
        "config",
        `cannot write ${path}: ${code === "EISDIR" ? "it is a directory" : "a part of its path is not a directory"}; use another --out / --state-dir`,
        { cause: error },
      );
    default:
      return error instanceof Error ? error : new Error(String(error));
  }
}

/** Creates `dir` (and its parents) owner-only; an existing directory is left as it is. */
export function makePrivateDir(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
  } catch (error) {
    throw localFileError(error, dir);
  }
}

/** Makes existing files owner-only (files of an earlier run or version); absent ones are skipped. */
export function restrictPermissions(paths: readonly string[]): void {
  for (const path of paths) {
    try {
      chmodSync(path, PRIVATE_FILE_MODE);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") continue;
      throw localFileError(error, path);
    }
  }
}

export interface TableState {
  /** Decimal digits of the last committed key; absent before the first range. */
  lastKey?: string;
  rows: number;
  rejected: number;
  /** Load files of the table (BigQuery/--out), in key order, relative to the output directory. */
  files: string[];
  done: boolean;
  /** BigQuery load job that replaced the table, once it succeeded. */
  loadJobId?: string;
  sequenceMoved?: boolean;
  /**
   * A large table is copied in key-range segments `(after, upTo]`, each by its own lane
   * with its own checkpoint (fields as above, per segment); the table's rows/rejected/files are
   * the segments' sums. Fixed when the table's copy starts, so a resume reuses the same bounds;
   * the last segment's `upTo` is the source's largest key then, and its lane reads on past it.
   */
  segments?: SegmentState[];
  inline?: InlineChecks;
  /**
   * Indexes, unique constraints and foreign keys of a Postgres table dropped for its load and not
   * yet built again (`postgres-bulk-load.ts`), with their exact definitions.
   */
  deferred?: DeferredObject[];
}

/** An index (`definition`: its CREATE INDEX), a unique constraint or a foreign key (its constraint definition). */
export interface DeferredObject {
  readonly kind: "index" | "unique" | "foreign-key";
  readonly name: string;
  readonly definition: string;
}

/**
 * The inline verification's sums over the committed ranges (decimal digits): the hash of the
 * source's normal form of every row the copy read, each row checked against the source's own CRC
 * (plus its JSON parts), and, for load files, the hash of every row as written. `sourceCount` is the source's `COUNT(*)` over the table's (or segment's) key range,
 * recorded when the copy of that range is done. Absent when some range was copied without it
 * (`--no-verify`, or a state from an earlier version): the table is then verified by a full scan.
 */
export interface InlineChecks {
  sourceSum: string;
  targetSum?: string;
  sourceCount?: number;
}

export interface SegmentState {
  /** Exclusive lower bound (absent: from the first key). */
  after?: string;
  /** Inclusive upper bound. */
  upTo: string;
  lastKey?: string;
  rows: number;
  rejected: number;
  files: string[];
  done: boolean;
  inline?: InlineChecks;
}

export interface MigrationState {
  version: 1;
  /** Where the run reads from, without credentials; a resume against another source is refused. */
  source: string;
  tables: Record<string, TableState>;
}

export const STATE_FILE = "migration-state.json";

export function statePath(stateDir: string): string {
  return join(stateDir, STATE_FILE);
}

export function readState(stateDir: string): MigrationState | undefined {
  try {
    return JSON.parse(readFileSync(statePath(stateDir), "utf8")) as MigrationState;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
}

export function writeState(stateDir: string, state: MigrationState): void {
  writeFileAtomically(statePath(stateDir), `${JSON.stringify(state, null, 2)}\n`);
}

/**
 * Writes `path` whole or not at all (temp file, fsync, rename, directory fsync), owner-only. A
 * failure (a full disk) leaves the previous content in place and no temp file behind.
 */
export function writeFileAtomically(path: string, content: string | Buffer): void {
  makePrivateDir(dirname(path));
  const temp = tempPathOf(path);
  try {
    const fd = openSync(temp, "w", PRIVATE_FILE_MODE);
    try {
      // A temp file a killed run left under this pid keeps its mode through "w".
      fchmodSync(fd, PRIVATE_FILE_MODE);
      if (typeof content === "string") writeSync(fd, content);
      else writeSync(fd, content);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temp, path);
    // The rename itself is durable only once the directory is synced.
    const dirFd = openSync(dirname(path), "r");
    try {
      fsyncSync(dirFd);
    } finally {
      closeSync(dirFd);
    }
  } catch (error) {
    rmSync(temp, { force: true });
    throw localFileError(error, path);
  }
}

/**
 * `writeFileAtomically` without blocking the thread: a lane keeps converting the next page while
 * its load file is written and synced (the sync calls blocked a worker for each file).
 */
export async function writeFileAtomicallyAsync(path: string, content: Buffer): Promise<void> {
  const temp = tempPathOf(path);
  try {
    await mkdir(dirname(path), { recursive: true, mode: PRIVATE_DIR_MODE });
    const file = await open(temp, "w", PRIVATE_FILE_MODE);
    try {
      await file.chmod(PRIVATE_FILE_MODE);
      await file.writeFile(content);
      await file.sync();
    } finally {
      await file.close();
    }
    await rename(temp, path);
    const dir = await open(dirname(path), "r");
    try {
      await dir.sync();
    } finally {
      await dir.close();
    }
  } catch (error) {
    // A full disk: the partial temp file would only hold on to the space.
    await rm(temp, { force: true }).catch(() => undefined);
    throw localFileError(error, path);
  }
}

const TEMP_SUFFIX = /\.tmp-(\d+)$/;

/** Where a file is written before its atomic rename (what `removeTempFiles` matches). */
function tempPathOf(path: string): string {
  return `${path}.tmp-${process.pid}`;
}

/**
 * Removes the temp files a killed run left in `dir` (a `kill -9` between write and rename leaves
 * `<name>.tmp-<pid>`). Called while holding the run lock, so no live run owns them.
 */
export function removeTempFiles(dir: string): number {
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return 0;
  }
  const stale = entries.filter((name) => TEMP_SUFFIX.test(name));
  for (const name of stale) rmSync(join(dir, name), { force: true });
  return stale.length;
}

export const LOCK_FILE = "migration.lock";

/** Raised when another live run holds the state directory. */
export class StateLockedError extends ToolError {
  constructor(message: string) {
    super("refused", message);
  }
}

/**
 * Takes the state directory for this process: one run at a time may write the state, the load
 * files and the rejects. A lock left by a dead process (crash, `kill -9`) is taken over. Returns
 * the release function.
 */
export function lockStateDir(stateDir: string): () => void {
  makePrivateDir(stateDir);
  const path = join(stateDir, LOCK_FILE);
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fd = openSync(path, "wx", PRIVATE_FILE_MODE);
      try {
        writeSync(fd, `${process.pid}\n`);
      } finally {
        closeSync(fd);
      }
      return () => rmSync(path, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") {
        rmSync(path, { force: true });
        throw localFileError(error, path);
      }
    }
    const holder = Number.parseInt(readFileOrEmpty(path), 10);
    if (Number.isInteger(holder) && holder > 0 && holder !== process.pid && isAlive(holder)) {
      throw new StateLockedError(
        `another migration (pid ${holder}) is using ${stateDir}; wait for it or stop it first`,
      );
    }
    // The holder is gone: its lock is stale.
    try {
      unlinkSync(path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
    }
  }
  throw new StateLockedError(`could not take the lock ${path}`);
}

/** Runs `work` holding the state directory's lock (`lockStateDir`), released however it ends. */
export async function withStateDirLock<T>(stateDir: string, work: () => Promise<T>): Promise<T> {
  const release = lockStateDir(stateDir);
  try {
    return await work();
  } finally {
    release();
  }
}

function readFileOrEmpty(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return "";
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

export function emptyTableState(): TableState {
  return { rows: 0, rejected: 0, files: [], done: false };
}

/** `mysql://user:secret@host/db` → `mysql://host/db`: the state file holds no credentials. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return "(unparseable URL)";
  }
}
