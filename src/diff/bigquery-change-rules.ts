/**
 * What the Google provider does to an existing BigQuery table when its definition changes: update it
 * in place, or delete and re-create it (ForceNew) — which deletes every row. One table of rules,
 * pure functions, no I/O.
 *
 * Source of the rules (terraform-provider-google, which @pulumi/gcp bridges):
 * - `resourceBigQueryTableSchemaIsChangeable` / `resourceBigQueryTableSchemaCustomizeDiff` in
 *   google/services/bigquery/resource_bigquery_table.go: the schema is changeable only when every
 *   old field is still present with the same `name`, an equivalent `type` (INTEGER≡INT64,
 *   FLOAT≡FLOAT64, BOOLEAN≡BOOL), and a mode that is unchanged or relaxed REQUIRED→NULLABLE
 *   (`bigQueryTableModeIsForceNew`); a newly added field must not be REQUIRED; `description` and
 *   `policyTags` are changeable. Anything else → `d.ForceNew("schema")`.
 * - Dropping a top-level column became an in-place `ALTER TABLE … DROP COLUMN`
 *   (GoogleCloudPlatform/magic-modules#10170, "Allow in-place column drop for bigquery table",
 *   fixing hashicorp/terraform-provider-google#14769); the table survives but that column's data is
 *   gone. Nested (RECORD) fields still cannot shrink in place. There is no rename: a renamed column
 *   is a drop plus an add (hashicorp/terraform-provider-google#17787 tracks rename).
 * - `time_partitioning.field`, `range_partitioning.field`, `encryption_configuration`, `table_id`,
 *   `dataset_id`, `project` are `ForceNew: true`. Changing `time_partitioning.type` or adding /
 *   removing partitioning is refused by the BigQuery API on an existing table ("Cannot change
 *   partitioning spec"), so re-creation is the only way through. `expiration_ms`,
 *   `require_partition_filter`, `clustering`, `description`, `labels`, `friendly_name`,
 *   `expiration_time` and `deletion_protection` are updated in place.
 */

export type ChangeEffect = "in-place" | "replace";

export type BigQueryRuleId =
  | "column-added-nullable"
  | "column-added-required"
  | "column-removed"
  | "nested-column-removed"
  | "column-renamed"
  | "column-type-changed"
  | "column-mode-relaxed"
  | "column-mode-tightened"
  | "column-description-changed"
  | "partitioning-field-changed"
  | "partitioning-type-changed"
  | "partitioning-added-or-removed"
  | "range-partitioning-changed"
  | "partition-expiration-changed"
  | "require-partition-filter-changed"
  | "clustering-changed"
  | "encryption-changed"
  | "description-changed"
  | "labels-changed"
  | "friendly-name-changed"
  | "expiration-changed"
  | "deletion-protection-changed";

export interface BigQueryRule {
  readonly effect: ChangeEffect;
  /** Rows or column values are deleted when this applies (always true for a replace). */
  readonly dataLoss: boolean;
  /** What the provider does, for the report. */
  readonly explanation: string;
}

export const BIGQUERY_TABLE_RULES: Readonly<Record<BigQueryRuleId, BigQueryRule>> = {
  "column-added-nullable": {
    effect: "in-place",
    dataLoss: false,
    explanation: "a new NULLABLE column is added to the table in place",
  },
  "column-added-required": {
    effect: "replace",
    dataLoss: true,
    explanation:
      "a new REQUIRED column forces the table to be re-created (existing rows have no value)",
  },
  "column-removed": {
    effect: "in-place",
    dataLoss: true,
    explanation: "the column is dropped in place (ALTER TABLE DROP COLUMN); its values are deleted",
  },
  "nested-column-removed": {
    effect: "replace",
    dataLoss: true,
    explanation: "a nested field cannot be dropped in place; the table is re-created",
  },
  "column-renamed": {
    effect: "in-place",
    dataLoss: true,
    explanation:
      "BigQuery tables have no rename through the provider: the old column is dropped (its values deleted) and a new empty one added",
  },
  "column-type-changed": {
    effect: "replace",
    dataLoss: true,
    explanation: "a column type change forces the table to be re-created",
  },
  "column-mode-relaxed": {
    effect: "in-place",
    dataLoss: false,
    explanation: "relaxing REQUIRED to NULLABLE is done in place",
  },
  "column-mode-tightened": {
    effect: "replace",
    dataLoss: true,
    explanation: "a mode change other than REQUIRED→NULLABLE forces the table to be re-created",
  },
  "column-description-changed": {
    effect: "in-place",
    dataLoss: false,
    explanation: "column descriptions are updated in place",
  },
  "partitioning-field-changed": {
    effect: "replace",
    dataLoss: true,
    explanation: "time_partitioning.field is ForceNew: the table is re-created",
  },
  "partitioning-type-changed": {
    effect: "replace",
    dataLoss: true,
    explanation:
      "the partitioning granularity of an existing table cannot change: the table is re-created",
  },
  "partitioning-added-or-removed": {
    effect: "replace",
    dataLoss: true,
    explanation:
      "partitioning cannot be added to or removed from an existing table: it is re-created",
  },
  "range-partitioning-changed": {
    effect: "replace",
    dataLoss: true,
    explanation: "range_partitioning.field is ForceNew: the table is re-created",
  },
  "partition-expiration-changed": {
    effect: "in-place",
    dataLoss: false,
    explanation:
      "partition expiration is updated in place (a shorter one lets BigQuery expire older partitions)",
  },
  "require-partition-filter-changed": {
    effect: "in-place",
    dataLoss: false,
    explanation: "require_partition_filter is updated in place",
  },
  "clustering-changed": {
    effect: "in-place",
    dataLoss: false,
    explanation: "clustering is updated in place (applies to newly written data)",
  },
  "encryption-changed": {
    effect: "replace",
    dataLoss: true,
    explanation: "encryption_configuration is ForceNew: the table is re-created",
  },
  "description-changed": {
    effect: "in-place",
    dataLoss: false,
    explanation: "the description is updated in place",
  },
  "labels-changed": {
    effect: "in-place",
    dataLoss: false,
    explanation: "labels are updated in place",
  },
  "friendly-name-changed": {
    effect: "in-place",
    dataLoss: false,
    explanation: "the friendly name is updated in place",
  },
  "expiration-changed": {
    effect: "in-place",
    dataLoss: false,
    explanation:
      "the table expiration is updated in place (when it passes, BigQuery deletes the table)",
  },
  "deletion-protection-changed": {
    effect: "in-place",
    dataLoss: false,
    explanation: "deletion_protection lives in the provider's state only",
  },
};

export interface BigQueryFieldSpec {
  readonly name: string;
  readonly type: string;
  readonly mode?: string;
  readonly description?: string;
  readonly fields?: readonly BigQueryFieldSpec[];
}

export interface BigQueryTableSpec {
  readonly tableId: string;
  readonly fields: readonly BigQueryFieldSpec[];
  readonly timePartitioning: {
    readonly type: string;
    readonly field: string | null;
    readonly expirationMs: number | null;
  } | null;
  readonly rangePartitioningField: string | null;
  readonly requirePartitionFilter: boolean;
  readonly clustering: readonly string[];
  readonly description: string | null;
  readonly labels: Readonly<Record<string, string>>;
  readonly friendlyName: string | null;
  readonly expirationTime: number | null;
  readonly deletionProtection: boolean | null;
  readonly kmsKeyName: string | null;
}

export interface BigQueryFinding {
  readonly rule: BigQueryRuleId;
  readonly effect: ChangeEffect;
  readonly dataLoss: boolean;
  /** Affected columns (dotted paths for nested fields); empty for table-level settings. */
  readonly columns: readonly string[];
  readonly detail: string;
}

export interface BigQueryTableChange {
  readonly tableId: string;
  /** `replace` when any finding forces re-creation. */
  readonly effect: ChangeEffect;
  readonly dataLoss: boolean;
  readonly findings: readonly BigQueryFinding[];
}

function finding(
  rule: BigQueryRuleId,
  columns: readonly string[],
  detail: string,
): BigQueryFinding {
  const { effect, dataLoss } = BIGQUERY_TABLE_RULES[rule];
  return { rule, effect, dataLoss, columns, detail };
}

const TYPE_ALIASES: Readonly<Record<string, string>> = {
  INT64: "INTEGER",
  FLOAT64: "FLOAT",
  BOOL: "BOOLEAN",
  STRUCT: "RECORD",
};

/** bigQueryTableTypeEq: case-insensitive, with the legacy/standard aliases treated as equal. */
export function canonicalType(type: string): string {
  const upper = type.toUpperCase();
  return TYPE_ALIASES[upper] ?? upper;
}

/** bigQueryTableNormalizeMode: a missing mode is NULLABLE. */
export function canonicalMode(mode: string | undefined): string {
  return (mode ?? "NULLABLE").toUpperCase();
}

function compareFields(
  before: readonly BigQueryFieldSpec[],
  after: readonly BigQueryFieldSpec[],
  prefix: string,
  out: BigQueryFinding[],
): void {
  const topLevel = prefix === "";
  const beforeByName = new Map(before.map((f) => [f.name, f]));
  const afterByName = new Map(after.map((f) => [f.name, f]));
  const removed = before.filter((f) => !afterByName.has(f.name));
  const added = after.filter((f) => !beforeByName.has(f.name));

  // A removed column and an added one of the same type and mode read as a rename.
  const renamedTo = new Map<string, BigQueryFieldSpec>();
  const pairedAdded = new Set<string>();
  if (topLevel) {
    for (const old of removed) {
      const match = added.find(
        (candidate) =>
          !pairedAdded.has(candidate.name) &&
          canonicalType(candidate.type) === canonicalType(old.type) &&
          canonicalMode(candidate.mode) === canonicalMode(old.mode),
      );
      if (match) {
        renamedTo.set(old.name, match);
        pairedAdded.add(match.name);
      }
    }
  }

  for (const old of removed) {
    const path = `${prefix}${old.name}`;
    const target = renamedTo.get(old.name);
    if (target) {
      out.push(
        finding(
          canonicalMode(target.mode) === "REQUIRED" ? "column-added-required" : "column-renamed",
          [path, `${prefix}${target.name}`],
          `${path} → ${prefix}${target.name} (${canonicalType(old.type)})`,
        ),
      );
    } else if (topLevel) {
      out.push(finding("column-removed", [path], `${path} (${canonicalType(old.type)}) removed`));
    } else {
      out.push(finding("nested-column-removed", [path], `${path} removed from a RECORD`));
    }
  }
  for (const fresh of added) {
    if (pairedAdded.has(fresh.name)) continue;
    const path = `${prefix}${fresh.name}`;
    const mode = canonicalMode(fresh.mode);
    out.push(
      mode === "REQUIRED"
        ? finding(
            "column-added-required",
            [path],
            `${path} ${canonicalType(fresh.type)} REQUIRED added`,
          )
        : finding(
            "column-added-nullable",
            [path],
            `${path} ${canonicalType(fresh.type)} ${mode} added`,
          ),
    );
  }
  for (const old of before) {
    const current = afterByName.get(old.name);
    if (!current) continue;
    const path = `${prefix}${old.name}`;
    const oldType = canonicalType(old.type);
    const newType = canonicalType(current.type);
    if (oldType !== newType) {
      out.push(finding("column-type-changed", [path], `${oldType} → ${newType}`));
    }
    const oldMode = canonicalMode(old.mode);
    const newMode = canonicalMode(current.mode);
    if (oldMode !== newMode) {
      const relaxed = oldMode === "REQUIRED" && newMode === "NULLABLE";
      out.push(
        finding(
          relaxed ? "column-mode-relaxed" : "column-mode-tightened",
          [path],
          `${oldMode} → ${newMode}`,
        ),
      );
    }
    if ((old.description ?? "") !== (current.description ?? "")) {
      out.push(finding("column-description-changed", [path], "description changed"));
    }
    if (oldType === "RECORD" && newType === "RECORD") {
      compareFields(old.fields ?? [], current.fields ?? [], `${path}.`, out);
    }
  }
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((value, i) => value === b[i]);
}

function sameLabels(
  a: Readonly<Record<string, string>>,
  b: Readonly<Record<string, string>>,
): boolean {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...keys].every((key) => a[key] === b[key]);
}

/** Every change between two definitions of the same table, each with its rule. */
export function classifyTableChange(
  before: BigQueryTableSpec,
  after: BigQueryTableSpec,
): BigQueryTableChange {
  const findings: BigQueryFinding[] = [];
  compareFields(before.fields, after.fields, "", findings);

  const oldTp = before.timePartitioning;
  const newTp = after.timePartitioning;
  if ((oldTp === null) !== (newTp === null)) {
    findings.push(
      finding(
        "partitioning-added-or-removed",
        [oldTp?.field ?? newTp?.field ?? ""].filter((c) => c !== ""),
        oldTp
          ? `time partitioning on ${oldTp.field ?? "_PARTITIONTIME"} removed`
          : `time partitioning on ${newTp?.field ?? "_PARTITIONTIME"} added`,
      ),
    );
  } else if (oldTp && newTp) {
    if ((oldTp.field ?? null) !== (newTp.field ?? null)) {
      findings.push(
        finding(
          "partitioning-field-changed",
          [oldTp.field, newTp.field].filter((c): c is string => c !== null),
          `partitioning field ${oldTp.field ?? "_PARTITIONTIME"} → ${newTp.field ?? "_PARTITIONTIME"}`,
        ),
      );
    }
    if (oldTp.type.toUpperCase() !== newTp.type.toUpperCase()) {
      findings.push(
        finding(
          "partitioning-type-changed",
          newTp.field ? [newTp.field] : [],
          `partitioning type ${oldTp.type} → ${newTp.type}`,
        ),
      );
    }
    if ((oldTp.expirationMs ?? null) !== (newTp.expirationMs ?? null)) {
      findings.push(
        finding(
          "partition-expiration-changed",
          [],
          `partition expiration ${oldTp.expirationMs ?? "none"} → ${newTp.expirationMs ?? "none"} ms`,
        ),
      );
    }
  }
  if (before.rangePartitioningField !== after.rangePartitioningField) {
    findings.push(
      finding(
        "range-partitioning-changed",
        [before.rangePartitioningField, after.rangePartitioningField].filter(
          (c): c is string => c !== null,
        ),
        `range partitioning ${before.rangePartitioningField ?? "none"} → ${after.rangePartitioningField ?? "none"}`,
      ),
    );
  }
  if (before.requirePartitionFilter !== after.requirePartitionFilter) {
    findings.push(
      finding(
        "require-partition-filter-changed",
        [],
        `require partition filter ${before.requirePartitionFilter} → ${after.requirePartitionFilter}`,
      ),
    );
  }
  if (!sameList(before.clustering, after.clustering)) {
    findings.push(
      finding(
        "clustering-changed",
        [...new Set([...before.clustering, ...after.clustering])],
        `clustering (${before.clustering.join(", ")}) → (${after.clustering.join(", ")})`,
      ),
    );
  }
  if (before.kmsKeyName !== after.kmsKeyName) {
    findings.push(finding("encryption-changed", [], "encryption key changed"));
  }
  if ((before.description ?? "") !== (after.description ?? "")) {
    findings.push(finding("description-changed", [], "table description changed"));
  }
  if (!sameLabels(before.labels, after.labels)) {
    findings.push(finding("labels-changed", [], "labels changed"));
  }
  if (before.friendlyName !== after.friendlyName) {
    findings.push(finding("friendly-name-changed", [], "friendly name changed"));
  }
  if (before.expirationTime !== after.expirationTime) {
    findings.push(
      finding(
        "expiration-changed",
        [],
        `expiration ${before.expirationTime ?? "none"} → ${after.expirationTime ?? "none"}`,
      ),
    );
  }
  if (before.deletionProtection !== after.deletionProtection) {
    findings.push(
      finding(
        "deletion-protection-changed",
        [],
        `deletion protection ${String(before.deletionProtection)} → ${String(after.deletionProtection)}`,
      ),
    );
  }
  return {
    tableId: after.tableId,
    effect: findings.some((f) => f.effect === "replace") ? "replace" : "in-place",
    dataLoss: findings.some((f) => f.dataLoss),
    findings,
  };
}
