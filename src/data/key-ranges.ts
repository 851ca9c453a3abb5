/**
 * Key ranges `(after, upTo]` of a table's key space: split into parts (the copy's segments, the
 * verification's chunks), and the check of each page that keyset pagination reads. Every loop over
 * pages ends only because each page starts past the last one, so a page that returns a key outside
 * its range (a wrong range condition, a source that ignores it) stops the run at once: without the
 * check the last page is read again forever.
 */
import { ToolError } from "../errors/tool-error";
import type { KeyRange } from "./checksum";

/**
 * Splits a table's key space into `parts` ranges covering everything: the first and last are
 * open-ended, so target rows outside the source's key bounds are still counted.
 */
export function splitKeyRange(bounds: KeyRange | undefined, parts: number): KeyRange[] {
  if (!bounds || parts <= 1 || bounds.after === undefined || bounds.upTo === undefined) return [{}];
  const width = bounds.upTo - bounds.after;
  const cuts = Array.from(
    { length: parts - 1 },
    (_, i) => bounds.after! + (width * BigInt(i + 1)) / BigInt(parts),
  );
  const ranges: KeyRange[] = cuts.map((cut, i) => ({
    after: i === 0 ? undefined : cuts[i - 1],
    upTo: cut,
  }));
  ranges.push({ after: cuts[cuts.length - 1] });
  return ranges;
}

/** A page read for a key range holds keys outside it: the range condition is wrong (a bug). */
export class KeyRangeOverrunError extends ToolError {
  constructor(message: string) {
    super("internal", message);
  }
}

/**
 * Checks a page read in key order for `range`: its first key must be past `range.after` and its
 * last within `range.upTo`, so the next page (after the last key) always moves forward. `label`
 * names what was read (a table, a segment, a checksum).
 */
export function checkPageKeys(
  label: string,
  range: KeyRange,
  firstKey: bigint,
  lastKey: bigint,
): void {
  const inside =
    (range.after === undefined || firstKey > range.after) &&
    (range.upTo === undefined || lastKey <= range.upTo) &&
    firstKey <= lastKey;
  if (inside) return;
  throw new KeyRangeOverrunError(
    `${label}: a page of key range (${range.after ?? "start"}, ${range.upTo ?? "end"}] came back with keys ` +
      `${firstKey}..${lastKey}, not inside it in key order: the key-range condition is wrong, and the paging ` +
      "would not advance; stopped before using that page",
  );
}
