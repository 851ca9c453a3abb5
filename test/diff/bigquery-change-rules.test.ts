/**
 * Every rule of the provider's table-change behaviour, one row each: a base table, an edit, and
 * the exact classification (rule, effect, data loss, columns).
 */
import {
  BIGQUERY_TABLE_RULES,
  classifyTableChange,
  type BigQueryRuleId,
  type BigQueryTableSpec,
  type ChangeEffect,
} from "../../src/diff/bigquery-change-rules";

const base: BigQueryTableSpec = {
  tableId: "events",
  fields: [
    { name: "id", type: "INTEGER", mode: "NULLABLE", description: "Id." },
    { name: "ts", type: "TIMESTAMP", mode: "REQUIRED", description: "When." },
    { name: "user_id", type: "STRING", mode: "NULLABLE", description: "User." },
    {
      name: "context",
      type: "RECORD",
      mode: "NULLABLE",
      description: "Context.",
      fields: [
        { name: "ip", type: "STRING", mode: "NULLABLE" },
        { name: "agent", type: "STRING", mode: "NULLABLE" },
      ],
    },
  ],
  timePartitioning: { type: "DAY", field: "ts", expirationMs: null },
  rangePartitioningField: null,
  requirePartitionFilter: false,
  clustering: ["user_id"],
  description: "Events.",
  labels: { team: "data" },
  friendlyName: null,
  expirationTime: null,
  deletionProtection: true,
  kmsKeyName: null,
};

type Edit = (t: BigQueryTableSpec) => BigQueryTableSpec;
const withFields =
  (edit: (f: BigQueryTableSpec["fields"]) => BigQueryTableSpec["fields"]): Edit =>
  (t) => ({
    ...t,
    fields: edit(t.fields),
  });

const cases: [string, Edit, BigQueryRuleId, ChangeEffect, boolean, string[]][] = [
  [
    "add NULLABLE column",
    withFields((f) => [...f, { name: "utm", type: "STRING", mode: "NULLABLE" }]),
    "column-added-nullable",
    "in-place",
    false,
    ["utm"],
  ],
  [
    "add column without mode (NULLABLE)",
    withFields((f) => [...f, { name: "utm", type: "STRING" }]),
    "column-added-nullable",
    "in-place",
    false,
    ["utm"],
  ],
  [
    // REPEATED is not REQUIRED: existing rows get an empty array, so the provider adds it in place.
    "add REPEATED column",
    withFields((f) => [...f, { name: "tags", type: "STRING", mode: "REPEATED" }]),
    "column-added-nullable",
    "in-place",
    false,
    ["tags"],
  ],
  [
    "add REQUIRED column",
    withFields((f) => [...f, { name: "utm", type: "STRING", mode: "REQUIRED" }]),
    "column-added-required",
    "replace",
    true,
    ["utm"],
  ],
  [
    "drop top-level column",
    withFields((f) => f.filter((c) => c.name !== "user_id")),
    "column-removed",
    "in-place",
    true,
    ["user_id"],
  ],
  [
    "drop nested field",
    withFields((f) => f.map((c) => (c.name === "context" ? { ...c, fields: [c.fields![0]] } : c))),
    "nested-column-removed",
    "replace",
    true,
    ["context.agent"],
  ],
  [
    "rename column",
    withFields((f) => f.map((c) => (c.name === "user_id" ? { ...c, name: "account_id" } : c))),
    "column-renamed",
    "in-place",
    true,
    ["user_id", "account_id"],
  ],
  [
    "change column type",
    withFields((f) => f.map((c) => (c.name === "id" ? { ...c, type: "STRING" } : c))),
    "column-type-changed",
    "replace",
    true,
    ["id"],
  ],
  [
    "change nested field type",
    withFields((f) =>
      f.map((c) =>
        c.name === "context" ? { ...c, fields: [{ name: "ip", type: "BYTES" }, c.fields![1]] } : c,
      ),
    ),
    "column-type-changed",
    "replace",
    true,
    ["context.ip"],
  ],
  [
    "NULLABLE → REQUIRED",
    withFields((f) => f.map((c) => (c.name === "user_id" ? { ...c, mode: "REQUIRED" } : c))),
    "column-mode-tightened",
    "replace",
    true,
    ["user_id"],
  ],
  [
    "NULLABLE → REPEATED",
    withFields((f) => f.map((c) => (c.name === "user_id" ? { ...c, mode: "REPEATED" } : c))),
    "column-mode-tightened",
    "replace",
    true,
    ["user_id"],
  ],
  [
    // Only REQUIRED→NULLABLE is a relaxation (bigQueryTableModeIsForceNew); →REPEATED re-creates.
    "REQUIRED → REPEATED",
    withFields((f) => f.map((c) => (c.name === "ts" ? { ...c, mode: "REPEATED" } : c))),
    "column-mode-tightened",
    "replace",
    true,
    ["ts"],
  ],
  [
    "REQUIRED → NULLABLE",
    withFields((f) => f.map((c) => (c.name === "ts" ? { ...c, mode: "NULLABLE" } : c))),
    "column-mode-relaxed",
    "in-place",
    false,
    ["ts"],
  ],
  [
    "column description",
    withFields((f) => f.map((c) => (c.name === "id" ? { ...c, description: "Legacy id." } : c))),
    "column-description-changed",
    "in-place",
    false,
    ["id"],
  ],
  [
    "partitioning field",
    (t) => ({ ...t, timePartitioning: { type: "DAY", field: "id", expirationMs: null } }),
    "partitioning-field-changed",
    "replace",
    true,
    ["ts", "id"],
  ],
  [
    "partitioning type",
    (t) => ({ ...t, timePartitioning: { type: "MONTH", field: "ts", expirationMs: null } }),
    "partitioning-type-changed",
    "replace",
    true,
    ["ts"],
  ],
  [
    "partitioning removed",
    (t) => ({ ...t, timePartitioning: null }),
    "partitioning-added-or-removed",
    "replace",
    true,
    ["ts"],
  ],
  [
    "range partitioning",
    (t) => ({ ...t, rangePartitioningField: "id" }),
    "range-partitioning-changed",
    "replace",
    true,
    ["id"],
  ],
  [
    "partition expiration",
    (t) => ({ ...t, timePartitioning: { type: "DAY", field: "ts", expirationMs: 86400000 } }),
    "partition-expiration-changed",
    "in-place",
    false,
    [],
  ],
  [
    "require partition filter",
    (t) => ({ ...t, requirePartitionFilter: true }),
    "require-partition-filter-changed",
    "in-place",
    false,
    [],
  ],
  [
    "clustering",
    (t) => ({ ...t, clustering: ["user_id", "id"] }),
    "clustering-changed",
    "in-place",
    false,
    ["user_id", "id"],
  ],
  [
    "encryption key",
    (t) => ({ ...t, kmsKeyName: "projects/p/locations/us/keyRings/r/cryptoKeys/k" }),
    "encryption-changed",
    "replace",
    true,
    [],
  ],
  [
    "description",
    (t) => ({ ...t, description: "Raw events." }),
    "description-changed",
    "in-place",
    false,
    [],
  ],
  [
    "labels",
    (t) => ({ ...t, labels: { team: "data", env: "dev" } }),
    "labels-changed",
    "in-place",
    false,
    [],
  ],
  [
    "friendly name",
    (t) => ({ ...t, friendlyName: "Events" }),
    "friendly-name-changed",
    "in-place",
    false,
    [],
  ],
  [
    "expiration",
    (t) => ({ ...t, expirationTime: 1900000000000 }),
    "expiration-changed",
    "in-place",
    false,
    [],
  ],
  [
    "deletion protection",
    (t) => ({ ...t, deletionProtection: false }),
    "deletion-protection-changed",
    "in-place",
    false,
    [],
  ],
];

describe("classifyTableChange", () => {
  test.each(cases)("%s", (_label, edit, rule, effect, dataLoss, columns) => {
    const change = classifyTableChange(base, edit(base));
    expect(change.findings.map((f) => [f.rule, f.effect, f.dataLoss, f.columns])).toEqual([
      [rule, effect, dataLoss, columns],
    ]);
    expect(change.effect).toBe(effect);
    expect(change.dataLoss).toBe(dataLoss);
  });

  test("every rule in the table is exercised above", () => {
    expect(new Set(cases.map((c) => c[2]))).toEqual(new Set(Object.keys(BIGQUERY_TABLE_RULES)));
  });

  test("type aliases and case are not changes (INT64 ≡ INTEGER, bool ≡ BOOLEAN)", () => {
    const aliased = withFields((f) => [{ ...f[0], type: "int64" }, ...f.slice(1)])(base);
    expect(classifyTableChange(base, aliased).findings).toEqual([]);
    expect(
      classifyTableChange(
        { ...base, fields: [{ name: "ok", type: "BOOLEAN" }] },
        { ...base, fields: [{ name: "ok", type: "BOOL", mode: "nullable" }] },
      ).findings,
    ).toEqual([]);
  });

  test("column order alone is not a change", () => {
    expect(
      classifyTableChange(base, { ...base, fields: [...base.fields].reverse() }).findings,
    ).toEqual([]);
  });

  test("one replace among in-place changes makes the table a replace", () => {
    const edited = withFields((f) => [
      ...f.map((c) => (c.name === "user_id" ? { ...c, type: "INTEGER" } : c)),
      { name: "utm", type: "STRING" },
    ])(base);
    const change = classifyTableChange(base, edited);
    expect(change.effect).toBe("replace");
    expect(change.findings.map((f) => f.rule)).toEqual([
      "column-added-nullable",
      "column-type-changed",
    ]);
  });

  test("a renamed column added as REQUIRED forces replacement", () => {
    const edited = withFields((f) =>
      f.map((c) => (c.name === "ts" ? { ...c, name: "event_time" } : c)),
    )(base);
    const change = classifyTableChange(base, edited);
    expect(change.findings.map((f) => [f.rule, f.columns])).toEqual([
      ["column-added-required", ["ts", "event_time"]],
    ]);
    expect(change.effect).toBe("replace");
  });
});
