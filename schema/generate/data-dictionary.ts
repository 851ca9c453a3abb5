/**
 * The data dictionary (docs/data-dictionary.md), generated from schema/: every BigQuery table
 * with type, mode, description and legacy source; every view with its description and inputs;
 * every Postgres auth table with type, nullability, default, constraints and legacy source.
 */
import { analyticsTableList } from "../analytics";
import { authTableList, requiredExtensions } from "../auth";
import type { BigQueryTable } from "../dsl/bigquery";
import { renderMySqlDefinition, type LegacyColumn } from "../dsl/legacy";
import { formatPgType, TOUCH_UPDATED_AT_FUNCTION, type PgTable } from "../dsl/postgres";
import { analyticsViewOrder, analyticsViews } from "../views";

/** Escapes text for a markdown table cell. */
function cell(text: string): string {
  return text.replace(/\\/g, "\\\\").replace(/\|/g, "\\|").replace(/\n/g, " ");
}

function code(text: string): string {
  return `\`${text}\``;
}

function legacySource(legacy: LegacyColumn | undefined): string {
  return legacy ? `${code(legacy.column)} ${renderMySqlDefinition(legacy)}` : "—";
}

function bigQueryTableSection(table: BigQueryTable): string[] {
  const { options } = table;
  const lines = [
    `### ${code(table.name)}`,
    "",
    options.description,
    "",
    `- Partitioned by day of ${code(options.partitionBy)}; clustered by ${options.clusterBy.map(code).join(", ")}.`,
    `- Legacy source: SingleStore table ${code(options.legacy.table)} (${options.legacy.keys.map(code).join(", ")}).`,
    "",
    "| column | type | mode | description | legacy source |",
    "|---|---|---|---|---|",
  ];
  for (const [name, column] of Object.entries(table.columns)) {
    const { spec } = column;
    const notes = [
      spec.description,
      spec.allowedValues ? `One of: ${spec.allowedValues.map(code).join(", ")}.` : "",
      spec.defaultValueExpression ? `Default: ${code(spec.defaultValueExpression)}.` : "",
    ].filter((part) => part !== "");
    lines.push(
      `| ${code(name)} | ${spec.type} | ${spec.mode} | ${cell(notes.join(" "))} | ${cell(legacySource(spec.legacy))} |`,
    );
  }
  lines.push("");
  return lines;
}

function viewSection(name: keyof typeof analyticsViews): string[] {
  const view = analyticsViews[name];
  return [
    `### ${code(name)}`,
    "",
    view.description,
    "",
    `- Reads: ${view.dependsOn.map(code).join(", ")}.`,
    `- Definition and semantics (ties, NULLs, lookback): ${code(`schema/views/${name}.sql`)}.`,
    "",
  ];
}

function constraintsOf(table: PgTable, column: string): string[] {
  const spec = table.columns[column].spec;
  const parts: string[] = [];
  if (table.primaryKey.columns.includes(column)) parts.push(`PK ${code(table.primaryKey.name)}`);
  if (spec.identity) parts.push("identity (BY DEFAULT)");
  for (const u of table.uniques) {
    if (u.columns.includes(column)) {
      parts.push(
        u.columns.length === 1
          ? `unique ${code(u.name)}`
          : `unique ${code(u.name)} (${u.columns.join(", ")})`,
      );
    }
  }
  for (const fk of table.foreignKeys) {
    if (fk.fromColumn === column) {
      parts.push(`FK ${code(fk.name)} → ${fk.table}.${fk.column} on delete ${fk.onDelete}`);
    }
  }
  for (const check of table.checks) {
    if (check.column === column) {
      parts.push(`check ${code(check.name)}: one of ${check.values.map(code).join(", ")}`);
    }
  }
  for (const trigger of table.triggers) {
    if (trigger.column === column) parts.push(`set to now() on update by ${code(trigger.name)}`);
  }
  return parts;
}

function postgresTableSection(table: PgTable): string[] {
  const legacy = table.options.legacy;
  const lines = [
    `### ${code(table.name)}`,
    "",
    table.options.description,
    "",
    legacy
      ? `- Legacy source: SingleStore table ${code(legacy.table)} (${legacy.keys.map(code).join(", ")}).`
      : "- No legacy source: native to Postgres.",
  ];
  if (table.indexes.length > 0) {
    lines.push(
      `- Indexes: ${table.indexes
        .map(
          (i) => `${code(i.name)} (${i.columns.join(", ")})${i.where ? ` where ${i.where}` : ""}`,
        )
        .join(", ")}.`,
    );
  }
  lines.push(
    "",
    "| column | type | null | default | constraints | description | legacy source |",
    "|---|---|---|---|---|---|---|",
  );
  for (const [name, column] of Object.entries(table.columns)) {
    const { spec } = column;
    lines.push(
      `| ${code(name)} | ${formatPgType(spec)} | ${spec.notNull ? "NOT NULL" : "NULL"} | ${
        spec.default ? cell(code(spec.default)) : "—"
      } | ${cell(constraintsOf(table, name).join("; ") || "—")} | ${cell(spec.description)} | ${cell(
        legacySource(spec.legacy),
      )} |`,
    );
  }
  lines.push("");
  return lines;
}

export function renderDataDictionary(): string {
  const lines = [
    "# Data dictionary",
    "",
    "<!-- Generated from schema/ by `npm run schema:generate`; do not edit by hand. -->",
    "",
    "Every table and view of the Synter data platform, with where each column comes from in the",
    "legacy SingleStore database.",
    "",
    "## BigQuery dataset `synter_analytics`",
    "",
    "Types are BigQuery's canonical names; `id` is NULLABLE because BigQuery has no sequences",
    "(migrated rows keep their legacy id).",
    "",
    ...analyticsTableList.flatMap(bigQueryTableSection),
    "## BigQuery views",
    "",
    "Standard SQL; tables referenced fully qualified. Listed in creation order.",
    "",
    ...analyticsViewOrder().flatMap(viewSection),
    "## PostgreSQL database `synter`",
    "",
    `Extensions: ${requiredExtensions.map(code).join(", ")}. Tables in foreign-key order; \`updated_at\` columns are maintained by the trigger function ${code(TOUCH_UPDATED_AT_FUNCTION)}.`,
    "",
    ...authTableList.flatMap(postgresTableSection),
  ];
  return `${lines.join("\n").trimEnd()}\n`;
}
