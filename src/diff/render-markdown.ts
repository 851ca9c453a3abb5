/**
 * The diff as a pull-request comment. The first line is a hidden marker the workflow searches for,
 * so each push updates the same comment instead of adding one.
 */
import { BIGQUERY_TABLE_RULES } from "./bigquery-change-rules";
import type { DiffReport } from "./infra-diff";

export const COMMENT_MARKER = "<!-- synter-infra-diff -->";

function code(text: string): string {
  return `\`${text.replace(/`/g, "'")}\``;
}

function fence(text: string, language = ""): string {
  const longest = Math.max(2, ...(text.match(/`+/g) ?? []).map((m) => m.length));
  const ticks = "`".repeat(longest + 1);
  return `${ticks}${language}\n${text.replace(/\n$/, "")}\n${ticks}`;
}

function short(value: unknown): string {
  if (value === undefined) return "(absent)";
  const text = typeof value === "string" ? value : JSON.stringify(value);
  return text.length > 120 ? `${text.slice(0, 117)}...` : text;
}

export function renderMarkdown(report: DiffReport, allowDataLoss: boolean): string {
  const lines: string[] = [COMMENT_MARKER];
  const headline =
    report.errors.length > 0
      ? "❌ **Errors** — fix them before merging"
      : report.dataLoss
        ? allowDataLoss
          ? "⚠️ **Data loss accepted** (`--allow-data-loss`)"
          : "🛑 **Data loss** — this change deletes data; re-run with `--allow-data-loss` once that is intended"
        : "✅ **No data loss**";
  lines.push(
    `## Infrastructure diff: stack ${code(report.stack)} vs ${code(report.baseRef)} (${report.baseCommit.slice(0, 12)})`,
    "",
    headline,
    "",
  );

  if (report.errors.length > 0) {
    lines.push("### Errors", "");
    for (const error of report.errors) lines.push(`- ${error}`);
    lines.push("");
  }

  lines.push(
    `### BigQuery tables (from ${report.tableSource === "plan" ? "the offline plan" : "schema/"})`,
    "",
  );
  const { tables } = report;
  if (tables.added.length + tables.removed.length + tables.changed.length === 0) {
    lines.push("No table changes.", "");
  } else {
    for (const key of tables.added) lines.push(`- ${code(key)}: **new table** (created)`);
    for (const key of tables.removed)
      lines.push(`- ${code(key)}: **REMOVED — the table and all its data are deleted**`);
    for (const table of tables.changed) {
      const verdict =
        table.effect === "replace"
          ? "**REPLACE — the table is re-created and its data deleted**"
          : table.dataLoss
            ? "**IN PLACE, with column data deleted**"
            : "IN PLACE";
      lines.push(`- ${code(table.key)}: ${verdict}`);
      for (const f of table.findings) {
        const columns = f.columns.length > 0 ? ` — columns ${f.columns.map(code).join(", ")}` : "";
        const effect = f.effect === "replace" ? "REPLACE" : "in place";
        lines.push(
          `  - ${effect}: ${code(f.rule)}${columns}: ${f.detail}. ${BIGQUERY_TABLE_RULES[f.rule].explanation}.`,
        );
      }
    }
    lines.push("");
  }

  if (report.views.length > 0) {
    lines.push("### Views", "");
    for (const view of report.views) {
      lines.push(`${code(view.key)} (${view.status})`, "", fence(view.patch, "diff"), "");
    }
  }

  lines.push("### Postgres migrations", "");
  const { migrations } = report;
  if (migrations.added.length === 0 && migrations.problems.length === 0) {
    lines.push("No new migrations.", "");
  } else {
    for (const problem of migrations.problems) {
      lines.push(
        `- ❌ ${code(`migrations/${problem.file}`)} was **${problem.problem}** after merge`,
      );
    }
    for (const file of migrations.added) {
      const risks = migrations.risks.filter((r) => r.file === file);
      lines.push(
        `- ${code(file)}: ${risks.length === 0 ? "no risky statements" : `${risks.length} risk(s)`}`,
      );
      for (const r of risks) {
        const target = [r.table, r.column].filter((x): x is string => x !== null).join(".");
        lines.push(
          `  - ${r.dataLoss ? "🛑 data loss" : "⚠️"} ${code(r.rule)}${target ? ` on ${code(target)}` : ""}: ${r.reason}${r.statement ? ` — ${code(short(r.statement))}` : ""}`,
        );
      }
    }
    lines.push("");
  }

  if (report.resources) {
    const { added, removed, changed } = report.resources;
    lines.push(
      "### Resources",
      "",
      `${added.length} to add, ${removed.length} to remove, ${changed.length} to change.`,
      "",
    );
    if (added.length + removed.length + changed.length > 0) {
      lines.push("<details><summary>Details</summary>", "");
      for (const r of added) lines.push(`- \\+ ${code(r.type)} ${code(r.name)}`);
      for (const r of removed)
        lines.push(
          `- \\- ${code(r.type)} ${code(r.name)}${r.options.protect ? " (protected: the destroy will fail until unprotected)" : ""}`,
        );
      for (const r of changed) {
        lines.push(`- ~ ${code(r.type)} ${code(r.name)}`);
        for (const c of [
          ...r.inputs,
          ...r.options.map((o) => ({ ...o, path: `options.${o.path}` })),
        ]) {
          lines.push(`  - ${code(c.path)}: ${code(short(c.before))} → ${code(short(c.after))}`);
        }
      }
      lines.push("", "</details>", "");
    }
  }

  if (report.notes.length > 0) {
    lines.push("<details><summary>Notes</summary>", "");
    for (const note of report.notes) lines.push(`- ${note}`);
    lines.push("", "</details>", "");
  }
  lines.push(
    "_Offline: computed under the Pulumi mock runtime from the repository alone; `pulumi preview` below shows the live view._",
  );
  return `${lines.join("\n")}\n`;
}
