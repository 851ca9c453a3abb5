/**
 * Everything `schema export` writes, as (relative path, content) pairs computed purely from
 * schema/: `bigquery/tables/<table>.json` (the canonical field array), `bigquery/views/<view>.sql`
 * (rendered for the target) and `postgres/schema.json`. The checked-in artefacts are the export
 * for the default target under `schema/generated/` plus `docs/data-dictionary.md`.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { analyticsTableList } from "../analytics";
import { analyticsViewOrder, defaultViewTarget, renderViewSql, type ViewTarget } from "../views";
import { bigQuerySchemaFields } from "./bigquery-schema";
import { renderDataDictionary } from "./data-dictionary";
import { renderPostgresSchemaJson } from "./postgres-schema";

export interface GeneratedFile {
  /** Path relative to the output directory (or, for artefacts, to the repository root). */
  readonly path: string;
  readonly content: string;
}

export function renderBigQueryTableJson(table: (typeof analyticsTableList)[number]): string {
  return `${JSON.stringify(bigQuerySchemaFields(table), null, 2)}\n`;
}

/** The rendered view, with a header saying where it comes from (BigQuery ignores comments). */
export function renderViewFile(
  name: ReturnType<typeof analyticsViewOrder>[number],
  target: ViewTarget,
): string {
  const sql = renderViewSql(name, target).trimEnd();
  return `-- Generated from schema/views/${name}.sql for ${target.project}.${target.dataset}; do not edit.\n${sql}\n`;
}

export function schemaExportFiles(target: ViewTarget = defaultViewTarget): GeneratedFile[] {
  return [
    ...analyticsTableList.map((table) => ({
      path: `bigquery/tables/${table.name}.json`,
      content: renderBigQueryTableJson(table),
    })),
    ...analyticsViewOrder().map((name) => ({
      path: `bigquery/views/${name}.sql`,
      content: renderViewFile(name, target),
    })),
    { path: "postgres/schema.json", content: renderPostgresSchemaJson() },
  ];
}

/** The directory (relative to the repository root) holding the checked-in export. */
export const GENERATED_DIRECTORY = "schema/generated";
export const DATA_DICTIONARY_PATH = "docs/data-dictionary.md";
export const REGENERATE_COMMAND = "npm run schema:generate";

/** Every checked-in generated file, with paths relative to the repository root. */
export function checkedInArtefacts(): GeneratedFile[] {
  return [
    ...schemaExportFiles(defaultViewTarget).map((file) => ({
      path: `${GENERATED_DIRECTORY}/${file.path}`,
      content: file.content,
    })),
    { path: DATA_DICTIONARY_PATH, content: renderDataDictionary() },
  ];
}

function listFiles(directory: string): string[] {
  let entries;
  try {
    entries = readdirSync(directory, { withFileTypes: true, recursive: true });
  } catch {
    return [];
  }
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name))
    .sort();
}

function readOrUndefined(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
}

/**
 * Checked-in artefacts that differ from what schema/ generates: changed or missing files, and
 * files in the generated directory that nothing generates any more. Paths relative to `root`.
 */
export function staleArtefacts(root: string): string[] {
  const artefacts = checkedInArtefacts();
  const stale = artefacts
    .filter((file) => readOrUndefined(join(root, file.path)) !== file.content)
    .map((file) => file.path);
  const expected = new Set(artefacts.map((file) => file.path));
  for (const path of listFiles(join(root, GENERATED_DIRECTORY))) {
    const relativePath = relative(root, path).split("\\").join("/");
    if (!expected.has(relativePath)) stale.push(relativePath);
  }
  return stale.sort();
}
