/**
 * JSON with object keys sorted at every level, so the same value always prints to the same bytes:
 * plans and diffs are compared byte for byte in CI and in tests.
 */
export type JsonValue =
  null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

export function sortKeysDeep(value: JsonValue): JsonValue {
  if (Array.isArray(value)) return value.map(sortKeysDeep);
  if (value !== null && typeof value === "object") {
    const sorted: { [key: string]: JsonValue } = {};
    for (const key of Object.keys(value).sort()) sorted[key] = sortKeysDeep(value[key]);
    return sorted;
  }
  return value;
}

export function stableStringify(value: JsonValue, indent = 2): string {
  return JSON.stringify(sortKeysDeep(value), null, indent);
}
