/**
 * The offline plan: every resource a stack's program registers, with its inputs and resource
 * options, in a form that is plain JSON, deterministic (sorted by URN, keys sorted) and safe to
 * print (secrets are `[secret]`, values only known after deployment are `[unknown]`).
 */
import { PULUMI_UNKNOWN_VALUE } from "../../infra/pulumi-internals";
import { stableStringify, type JsonValue } from "./stable-json";

export const SECRET_MARK = "[secret]";
export const UNKNOWN_MARK = "[unknown]";

export interface PlannedResourceOptions {
  readonly protect: boolean;
  /** Explicit `dependsOn` (dependencies not implied by any input), sorted URNs. */
  readonly dependsOn: readonly string[];
  readonly deleteBeforeReplace: boolean;
  readonly retainOnDelete: boolean;
  readonly ignoreChanges: readonly string[];
  readonly replaceOnChanges: readonly string[];
  readonly additionalSecretOutputs: readonly string[];
  /** The explicit provider's URN, when one is set. */
  readonly provider: string | null;
  readonly deletedWith: string | null;
  readonly aliases: readonly string[];
}

export interface PlannedResource {
  readonly urn: string;
  readonly type: string;
  readonly name: string;
  readonly parent: string | null;
  /** `false` for component resources (they only group children). */
  readonly custom: boolean;
  readonly inputs: { readonly [key: string]: JsonValue };
  readonly options: PlannedResourceOptions;
}

export interface Plan {
  readonly project: string;
  readonly stack: string;
  readonly resources: readonly PlannedResource[];
}

// Signatures the Pulumi wire format uses for special values (see @pulumi/pulumi runtime/rpc.ts).
const SPECIAL_SIG_KEY = "4dabf18193072939515e22adb298388d";
const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";
const RESOURCE_SIG = "5cf8f73096256a8f31e491e813e4eb8e";
const ASSET_SIG = "c44067f5952c0a294b673a41bacd8c17";
const ARCHIVE_SIG = "0def7320c3a5731c473e5ecbe6d01bc7";
const OUTPUT_VALUE_SIG = "d0e6a833031e9bbcd3f4e8bde6ca49a4";
export { PULUMI_UNKNOWN_VALUE as UNKNOWN_VALUE } from "../../infra/pulumi-internals";

/** Turns a serialized (wire-format) property value into printable JSON. */
export function normalizeWireValue(value: unknown): JsonValue {
  if (value === undefined || value === null) return null;
  if (value === PULUMI_UNKNOWN_VALUE) return UNKNOWN_MARK;
  if (typeof value === "string" || typeof value === "boolean") return value;
  if (typeof value === "number") return Number.isFinite(value) ? value : String(value);
  if (Array.isArray(value)) return value.map(normalizeWireValue);
  if (typeof value === "object") {
    const record = value as Record<string, unknown>;
    const sig = record[SPECIAL_SIG_KEY];
    if (sig === SECRET_SIG) return SECRET_MARK;
    if (sig === OUTPUT_VALUE_SIG) {
      if (record.secret === true) return SECRET_MARK;
      return "value" in record ? normalizeWireValue(record.value) : UNKNOWN_MARK;
    }
    if (sig === RESOURCE_SIG) return `resource:${String(record.urn)}`;
    if (sig === ASSET_SIG || sig === ARCHIVE_SIG) {
      const source =
        record.path ?? record.uri ?? (record.text !== undefined ? "<text>" : "<assets>");
      return `${sig === ASSET_SIG ? "asset" : "archive"}:${String(source)}`;
    }
    const out: { [key: string]: JsonValue } = {};
    for (const key of Object.keys(record).sort()) {
      if (record[key] === undefined) continue;
      out[key] = normalizeWireValue(record[key]);
    }
    return out;
  }
  return String(value);
}

export function sortPlanResources(resources: Iterable<PlannedResource>): PlannedResource[] {
  return [...resources].sort((a, b) => (a.urn < b.urn ? -1 : a.urn > b.urn ? 1 : 0));
}

export function planToJson(plan: Plan): JsonValue {
  return plan as unknown as JsonValue;
}

/** Deterministic JSON: same program and config → the same bytes. */
export function renderPlanJson(plan: Plan): string {
  return `${stableStringify(planToJson(plan))}\n`;
}

/** Inputs worth a glance in the tree, per type; anything else shows only in `--json`. */
const KEY_INPUTS: readonly string[] = [
  "project",
  "datasetId",
  "tableId",
  "location",
  "accountId",
  "role",
  "member",
  "service",
  "name",
  "database",
  "owner",
  "defaultTableExpirationMs",
  "deletionProtection",
  "length",
];

function shortValue(value: JsonValue): string {
  if (typeof value === "string") return value.length > 60 ? `${value.slice(0, 57)}...` : value;
  const text = JSON.stringify(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

function keyInputsOf(resource: PlannedResource): string {
  const parts: string[] = [];
  for (const key of KEY_INPUTS) {
    const value = resource.inputs[key];
    if (value === undefined || value === null) continue;
    parts.push(`${key}=${shortValue(value)}`);
  }
  return parts.join(" ");
}

/** A readable tree: children under their parent, each line `type name [flags] key=value…`. */
export function renderPlanTree(plan: Plan): string {
  const children = new Map<string | null, PlannedResource[]>();
  const known = new Set(plan.resources.map((r) => r.urn));
  for (const resource of plan.resources) {
    const parent = resource.parent !== null && known.has(resource.parent) ? resource.parent : null;
    const list = children.get(parent) ?? [];
    list.push(resource);
    children.set(parent, list);
  }
  const lines = [
    `stack ${plan.stack} (project ${plan.project}): ${plan.resources.length} resources`,
  ];
  const walk = (parent: string | null, indent: string): void => {
    for (const resource of children.get(parent) ?? []) {
      const flags = [
        resource.options.protect ? "protected" : "",
        resource.options.deleteBeforeReplace ? "delete-before-replace" : "",
        resource.options.retainOnDelete ? "retain-on-delete" : "",
      ].filter((f) => f !== "");
      const details = [flags.length > 0 ? `[${flags.join(", ")}]` : "", keyInputsOf(resource)]
        .filter((d) => d !== "")
        .join(" ");
      lines.push(`${indent}${resource.type} ${resource.name}${details ? ` ${details}` : ""}`);
      walk(resource.urn, `${indent}  `);
    }
  };
  walk(null, "  ");
  return `${lines.join("\n")}\n`;
}
