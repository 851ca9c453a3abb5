/**
 * Resource-level difference of two offline plans, keyed by URN: what is added, removed, and which
 * inputs or options of the rest change (as dotted paths with before/after values; secrets stay
 * `[secret]`, so a changed secret shows as unchanged — the plan never holds secret values).
 */
import type { Plan, PlannedResource } from "../plan/resource-graph";
import type { JsonValue } from "../plan/stable-json";

export interface ValueChange {
  readonly path: string;
  readonly before: JsonValue | undefined;
  readonly after: JsonValue | undefined;
}

export interface ResourceChange {
  readonly urn: string;
  readonly type: string;
  readonly name: string;
  readonly inputs: readonly ValueChange[];
  readonly options: readonly ValueChange[];
}

export interface ResourceDiff {
  readonly added: readonly PlannedResource[];
  readonly removed: readonly PlannedResource[];
  readonly changed: readonly ResourceChange[];
}

function isRecord(value: JsonValue | undefined): value is { [key: string]: JsonValue } {
  return (
    value !== null && value !== undefined && typeof value === "object" && !Array.isArray(value)
  );
}

export function diffValues(
  before: JsonValue | undefined,
  after: JsonValue | undefined,
  prefix: string,
  out: ValueChange[],
): void {
  if (isRecord(before) && isRecord(after)) {
    const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
    for (const key of keys)
      diffValues(before[key], after[key], prefix ? `${prefix}.${key}` : key, out);
    return;
  }
  if (JSON.stringify(before) !== JSON.stringify(after)) out.push({ path: prefix, before, after });
}

export function diffPlans(base: Plan | null, head: Plan | null): ResourceDiff {
  const before = new Map((base?.resources ?? []).map((r) => [r.urn, r]));
  const after = new Map((head?.resources ?? []).map((r) => [r.urn, r]));
  const added = [...after.values()].filter((r) => !before.has(r.urn));
  const removed = [...before.values()].filter((r) => !after.has(r.urn));
  const changed: ResourceChange[] = [];
  for (const [urn, resource] of after) {
    const old = before.get(urn);
    if (!old) continue;
    const inputs: ValueChange[] = [];
    const options: ValueChange[] = [];
    diffValues(old.inputs, resource.inputs, "", inputs);
    diffValues(
      old.options as unknown as JsonValue,
      resource.options as unknown as JsonValue,
      "",
      options,
    );
    if (inputs.length > 0 || options.length > 0) {
      changed.push({ urn, type: resource.type, name: resource.name, inputs, options });
    }
  }
  return { added, removed, changed };
}
