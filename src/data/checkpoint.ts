/**
 * The migration's state file: per table, the last key whose range is committed in the target, the
 * rows moved, the load files written and whether the table is finished. It is written only after
 * the target has committed a range, and atomically (temp file, fsync, rename), so after a crash or
 * `kill -9` it never claims a range the target lacks. A range the target committed but the state
 * did not record is simply redone: the sinks make every range idempotent.
 */
import {
  closeSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  writeSync,
} from "node:fs";
import { dirname, join } from "node:path";

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
   * A large analytics table is copied in key-range segments `(after, upTo]`, each by its own lane
   * with its own checkpoint (fields as above, per segment); the table's rows/rejected/files are
   * the segments' sums. Fixed when the table's copy starts, so a resume reuses the same bounds.
   */
  segments?: SegmentState[];
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

export function writeFileAtomically(path: string, content: string | Buffer): void {
  mkdirSync(dirname(path), { recursive: true });
  const temp = `${path}.tmp-${process.pid}`;
  const fd = openSync(temp, "w");
  try {
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
