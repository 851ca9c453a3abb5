/**
 * The reject file: one JSON line per row that could not be converted losslessly (table, key,
 * column, reason, raw value). Lines are appended after the range's target commit; a range redone
 * after a crash would append its rejects again, so lines are de-duplicated by (table, key).
 */
import { appendFileSync, mkdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";

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

export function readRejects(stateDir: string): RejectRecord[] {
  let text: string;
  try {
    text = readFileSync(rejectPath(stateDir), "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw error;
  }
  const seen = new Map<string, RejectRecord>();
  for (const line of text.split("\n")) {
    if (!line.trim()) continue;
    const r = JSON.parse(line) as RejectRecord;
    seen.set(`${r.table}\u0000${r.key}`, r);
  }
  return [...seen.values()];
}

export function appendRejects(stateDir: string, records: readonly RejectRecord[]): void {
  if (records.length === 0) return;
  mkdirSync(dirname(rejectPath(stateDir)), { recursive: true });
  appendFileSync(rejectPath(stateDir), records.map((r) => `${JSON.stringify(r)}\n`).join(""));
}

/** Keys of a table's rejected rows (excluded from verification: they never reach a target). */
export function rejectedKeys(rejects: readonly RejectRecord[], table: string): string[] {
  return rejects.filter((r) => r.table === table).map((r) => r.key);
}
