/**
 * The registry of every BigQuery SQL text the project ships, which `schema check` analyzes. Each
 * provider returns its sources rendered for a target; to add SQL (e.g. a data-migration checksum
 * query), add a provider to `projectSqlProviders` — `sqlTemplateSource` renders a `.sql` file
 * with `{{ref:<table or view>}}` placeholders and keeps positions mapped back to the file.
 */
import { readFileSync } from "node:fs";
import { dataMigrationChecksumSources } from "../data/bigquery-sql-sources";
import { ToolError } from "../errors/tool-error";
import {
  analyticsViewOrder,
  analyticsViews,
  readViewTemplate,
  renderSqlTemplate,
  templateReferences,
  type ViewTarget,
} from "../../schema/views";

export interface ProjectSqlSource {
  /** Short name, e.g. the view name. */
  readonly name: string;
  /** The file the SQL comes from (errors are reported against it). */
  readonly file: string;
  /** The SQL as BigQuery receives it. */
  readonly sql: string;
  /** Tables and views it reads (by table id), so views are analyzed before their readers. */
  readonly dependsOn: readonly string[];
  /** When the source is a view: its name, registered as a table for the sources after it. */
  readonly definesView?: string;
  /** Maps a position of `sql` to the same point of `file` (identity when absent). */
  toSourcePosition?(line: number, column: number): { line: number; column: number };
}

export type ProjectSqlProvider = (target: ViewTarget) => ProjectSqlSource[];

/** A `.sql` file that cannot be read, or whose placeholders do not render; names the file. */
export class SqlSourceError extends ToolError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("config", message, options);
  }
}

const FILE_ERRORS: Readonly<Record<string, string>> = {
  ENOENT: "no such file",
  EISDIR: "it is a directory",
  EACCES: "permission denied",
  ENOTDIR: "a part of the path is not a directory",
};

/** A `.sql` template file rendered for `target` (not a view). */
export function sqlTemplateSource(
  name: string,
  file: string,
  target: ViewTarget,
): ProjectSqlSource {
  let template: string;
  try {
    template = readFileSync(file, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? "";
    throw new SqlSourceError(
      `cannot read ${file}: ${FILE_ERRORS[code] ?? (error as Error).message}`,
      { cause: error },
    );
  }
  let rendered: ReturnType<typeof renderSqlTemplate>;
  try {
    rendered = renderSqlTemplate(template, file, target);
  } catch (error) {
    // schema/ raises its own config error; its message already names file:line:column.
    throw new SqlSourceError((error as Error).message, { cause: error });
  }
  return {
    name,
    file,
    sql: rendered.sql,
    dependsOn: templateReferences(template, file).map((reference) => reference.name),
    toSourcePosition: rendered.toTemplatePosition,
  };
}

/** The analytics views, each after the views it reads. */
export const analyticsViewSources: ProjectSqlProvider = (target) =>
  analyticsViewOrder().map((name) => {
    const view = analyticsViews[name];
    const rendered = renderSqlTemplate(readViewTemplate(name), view.sqlFile, target);
    return {
      name,
      file: view.sqlFile,
      sql: rendered.sql,
      dependsOn: view.dependsOn,
      definesView: name,
      toSourcePosition: rendered.toTemplatePosition,
    };
  });

/** Every provider of BigQuery SQL in the project; views first (other SQL may read them). */
export const projectSqlProviders: readonly ProjectSqlProvider[] = [
  analyticsViewSources,
  dataMigrationChecksumSources,
];

export function projectSqlSources(target: ViewTarget): ProjectSqlSource[] {
  return projectSqlProviders.flatMap((provider) => provider(target));
}
