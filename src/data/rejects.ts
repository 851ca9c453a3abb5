/**
 * The reject file: one JSON line per row that could not be converted losslessly (table, key,
 * column, reason, raw value). Lines are appended after the range's target commit; a range redone
 * after a crash would append its rejects again, so lines are de-duplicated by (table, key). The
 * file holds raw legacy values: it is owner-only, checked on every append.
 */
import {
  closeSync,
  fchmodSync,
  openSync,
  readFileSync,
  rmSync,
  truncateSync,
  writeSync,
} from "node:fs";
import { dirname, join } from "node:path";
import {
  localFileError,
  makePrivateDir,
  PRIVATE_FILE_MODE,
  writeFileAtomically,
} from "./checkpoint";

export interface RejectRecord {
  readonly table: string;
  readonly key: string;
  readonly column: string;
  readonly reason: string;
  readonly value: string | null;
}

export const REJECT_FILE = "rejects.jsonl";

export function rejectPath(stateDir: string): string {
  return join(stateDir, REJECT_FILE);
}

function readRejectText(stateDir: string): string {
  try {
    return readFileSync(rejectPath(stateDir), "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return "";
    throw error;
  }
}

export function readRejects(stateDir: string): RejectRecord[] {
  const text = readRejectText(stateDir);
  const seen = new Map<string, RejectRecord>();
  // A last line without its newline is a torn append (the disk filled up, or a kill): the range
  // it belonged to was not checkpointed, so it is redone and its rejects appended again.
  const complete = text.endsWith("\n") ? text : text.slice(0, text.lastIndexOf("\n") + 1);
  for (const line of complete.split("\n")) {
    if (!line.trim()) continue;
    const r = JSON.parse(line) as RejectRecord;
    seen.set(`${r.table}\u0000${r.key}`, r);
  }
  return [...seen.values()];
}

/** Cuts a torn last line (see `readRejects`), so the next append starts on a line of its own. */
export function repairRejects(stateDir: string): void {
  const text = readRejectText(stateDir);
  if (text === "" || text.endsWith("\n")) return;
  const path = rejectPath(stateDir);
  try {
    truncateSync(path, Buffer.byteLength(text.slice(0, text.lastIndexOf("\n") + 1)));
  } catch (error) {
    throw localFileError(error, path);
  }
}

export function appendRejects(stateDir: string, records: readonly RejectRecord[]): void {
  if (records.length === 0) return;
  const path = rejectPath(stateDir);
  makePrivateDir(dirname(path));
  try {
    const fd = openSync(path, "a", PRIVATE_FILE_MODE);
    try {
      // The mode given to open applies only when it creates the file.
      fchmodSync(fd, PRIVATE_FILE_MODE);
      writeSync(fd, records.map((r) => `${JSON.stringify(r)}\n`).join(""));
    } finally {
      closeSync(fd);
    }
  } catch (error) {
    throw localFileError(error, path);
  }
}

/** Replaces the reject file with `records`, atomically (a fresh run keeps other tables' rejects). */
export function replaceRejects(stateDir: string, records: readonly RejectRecord[]): void {
  if (records.length === 0) {
    rmSync(rejectPath(stateDir), { force: true });
    return;
  }
  writeFileAtomically(rejectPath(stateDir), records.map((r) => `${JSON.stringify(r)}\n`).join(""));
}

/** Keys of a table's rejected rows (excluded from verification: they never reach a target). */
export function rejectedKeys(rejects: readonly RejectRecord[], table: string): string[] {
  return rejects.filter((r) => r.table === table).map((r) => r.key);
}
