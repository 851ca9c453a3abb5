/**
 * The analytics views: BigQuery standard SQL in `schema/views/<name>.sql`, referencing tables and
 * other views through `{{ref:<name>}}` placeholders that `renderViewSql` turns into fully
 * qualified `` `project.dataset.name` `` references. What a view reads (`dependsOn`) is derived
 * from its placeholders, never kept by hand, and `analyticsViewOrder()` sorts views so a view
 * comes after every view it reads.
 *
 * The `.sql` files are read lazily (on first use, then cached): importing `schema/` does no I/O.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { analyticsTables } from "../analytics";
import { SchemaError } from "../errors";

export interface AnalyticsView {
  readonly name: string;
  readonly description: string;
  /** Absolute path of the view's `.sql` template. */
  readonly sqlFile: string;
  /** Tables and views the view reads, in order of first reference (from its placeholders). */
  readonly dependsOn: readonly string[];
}

/** Where a rendered view lives: BigQuery project id and dataset id. */
export interface ViewTarget {
  readonly project: string;
  readonly dataset: string;
}

const viewDeclarations = {
  fact_attribution_last_touch: {
    description:
      "One row per conversion with the latest touchpoint of the same user at or before the conversion whose medium is not direct; touch columns NULL when there is none.",
  },
  fact_attribution_first_touch: {
    description:
      "One row per conversion with the earliest non-direct touchpoint of the same user in the 30 days up to the conversion; touch columns NULL when there is none.",
  },
  fact_attribution_linear: {
    description:
      "One row per (conversion, non-direct touchpoint of the same user in the 30-day lookback), with equal NUMERIC credit and attributed value that sum exactly to 1 and to the conversion value.",
  },
  campaign_performance_daily: {
    description:
      "Per platform, day, account and campaign: ad_metrics totals (latest ingestion per natural key), last-touch attributed conversions and value, CTR, CPC, CPA and ROAS (NULL on zero denominators).",
  },
} as const;

export type AnalyticsViewName = keyof typeof viewDeclarations;

const viewDirectory = __dirname;

function sqlFileOf(name: string): string {
  return join(viewDirectory, `${name}.sql`);
}

const templateCache = new Map<string, string>();

/** The raw `.sql` template of a view (placeholders unrendered). */
export function readViewTemplate(name: AnalyticsViewName): string {
  const file = sqlFileOf(name);
  let template = templateCache.get(file);
  if (template === undefined) {
    template = readFileSync(file, "utf8");
    templateCache.set(file, template);
  }
  return template;
}

function buildAnalyticsViews(): { readonly [N in AnalyticsViewName]: AnalyticsView } {
  const views = {} as Record<AnalyticsViewName, AnalyticsView>;
  for (const name of Object.keys(viewDeclarations) as AnalyticsViewName[]) {
    let dependsOn: readonly string[] | undefined;
    views[name] = {
      name,
      description: viewDeclarations[name].description,
      sqlFile: sqlFileOf(name),
      get dependsOn(): readonly string[] {
        dependsOn ??= Object.freeze(
          templateReferences(readViewTemplate(name), sqlFileOf(name)).map((r) => r.name),
        );
        return dependsOn;
      },
    };
  }
  return views;
}

/** Every analytics view, keyed by view name. */
export const analyticsViews = buildAnalyticsViews();

/** Names a placeholder may reference: the analytics tables and the views. */
export function isReferenceable(name: string): boolean {
  return Object.hasOwn(analyticsTables, name) || Object.hasOwn(viewDeclarations, name);
}

export function isAnalyticsViewName(name: string): name is AnalyticsViewName {
  return Object.hasOwn(viewDeclarations, name);
}

/** `{{ ... }}`: anything in double braces is a placeholder; only `{{ref:<name>}}` is valid. */
const PLACEHOLDER = /\{\{([^{}]*)\}\}/g;
const REF = /^\s*ref:([a-z][a-z0-9_]*)\s*$/;

interface TemplateReference {
  readonly name: string;
  readonly line: number;
  readonly column: number;
}

/** Valid references of a template, unique, in order of first appearance; throws on bad ones. */
export function templateReferences(template: string, file: string): TemplateReference[] {
  const seen = new Set<string>();
  const references: TemplateReference[] = [];
  const problems: string[] = [];
  for (const match of template.matchAll(PLACEHOLDER)) {
    const { line, column } = positionOf(template, match.index);
    const ref = REF.exec(match[1]);
    if (!ref) {
      problems.push(
        `${file}:${line}:${column}: unknown placeholder ${match[0]} (expected {{ref:<table or view>}})`,
      );
    } else if (!isReferenceable(ref[1])) {
      problems.push(
        `${file}:${line}:${column}: unknown placeholder ${match[0]}: ${ref[1]} is neither an analytics table nor a view`,
      );
    } else if (!seen.has(ref[1])) {
      seen.add(ref[1]);
      references.push({ name: ref[1], line, column });
    }
  }
  if (problems.length > 0) throw new SchemaError(problems.join("; "));
  return references;
}

function positionOf(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset);
  const line = before.split("\n").length;
  return { line, column: offset - before.lastIndexOf("\n") };
}

// Project ids are lower-case letters, digits and hyphens, optionally domain-scoped
// (`example.com:project`); dataset ids are letters, digits and underscores. Checking them keeps a
// stray backtick or dot from turning a reference into different SQL.
const PROJECT_ID = /^([a-z][a-z0-9.-]*[a-z0-9]:)?[a-z][a-z0-9-]{4,28}[a-z0-9]$/;
const DATASET_ID = /^[A-Za-z0-9_]{1,1024}$/;

export function validateViewTarget(target: ViewTarget): string[] {
  const problems: string[] = [];
  if (!PROJECT_ID.test(target.project))
    problems.push(`invalid BigQuery project id "${target.project}"`);
  if (!DATASET_ID.test(target.dataset))
    problems.push(`invalid BigQuery dataset id "${target.dataset}"`);
  return problems;
}

/** A rendered template, with the way back from rendered positions to template positions. */
export interface RenderedSql {
  readonly sql: string;
  /** Maps a 1-based (line, column) of `sql` to the same point of the template file. */
  toTemplatePosition(line: number, column: number): { line: number; column: number };
}

/**
 * Renders any SQL template of the project: every `{{ref:<name>}}` becomes
 * `` `project.dataset.name` ``. Replacements never span lines, so lines are unchanged and only
 * columns after a placeholder shift; `toTemplatePosition` undoes the shift.
 */
export function renderSqlTemplate(template: string, file: string, target: ViewTarget): RenderedSql {
  const problems = validateViewTarget(target);
  if (problems.length > 0) throw new SchemaError(`${file}: ${problems.join("; ")}`);
  templateReferences(template, file); // throws, naming the file, on any unknown placeholder
  // Per line: [renderedStart, renderedEnd, templateStart, templateEnd] of each replacement (0-based).
  const shifts = new Map<number, [number, number, number, number][]>();
  const lines = template.split("\n").map((text, index) => {
    let rendered = "";
    let last = 0;
    for (const match of text.matchAll(PLACEHOLDER)) {
      const name = REF.exec(match[1])![1];
      rendered += text.slice(last, match.index);
      const replacement = `\`${target.project}.${target.dataset}.${name}\``;
      const start = rendered.length;
      rendered += replacement;
      const lineShifts = shifts.get(index + 1) ?? [];
      lineShifts.push([start, rendered.length, match.index, match.index + match[0].length]);
      shifts.set(index + 1, lineShifts);
      last = match.index + match[0].length;
    }
    return rendered + text.slice(last);
  });
  return {
    sql: lines.join("\n"),
    toTemplatePosition(line, column) {
      let offset = column - 1;
      let templateOffset = offset;
      for (const [rStart, rEnd, tStart, tEnd] of shifts.get(line) ?? []) {
        if (offset < rStart) break;
        // Inside a rendered reference: point at the placeholder's start.
        if (offset < rEnd) return { line, column: tStart + 1 };
        templateOffset = tEnd + (offset - rEnd);
      }
      offset = templateOffset;
      return { line, column: offset + 1 };
    },
  };
}

/** The view's SQL with every placeholder replaced by `` `project.dataset.name` ``. */
export function renderViewSql(name: AnalyticsViewName, target: ViewTarget): string {
  return renderSqlTemplate(readViewTemplate(name), sqlFileOf(name), target).sql;
}

let viewOrder: readonly AnalyticsViewName[] | undefined;

/**
 * Every view name, each after the views it reads (declaration order otherwise): the order to
 * create them in. Throws on a reference cycle.
 */
export function analyticsViewOrder(): readonly AnalyticsViewName[] {
  if (viewOrder) return viewOrder;
  const names = Object.keys(viewDeclarations) as AnalyticsViewName[];
  const ordered: AnalyticsViewName[] = [];
  const state = new Map<AnalyticsViewName, "visiting" | "done">();
  const visit = (name: AnalyticsViewName, path: readonly string[]): void => {
    if (state.get(name) === "done") return;
    if (state.get(name) === "visiting")
      throw new SchemaError(
        `view reference cycle: ${[...path, name].join(" -> ")}; a view cannot read itself, even through others`,
      );
    state.set(name, "visiting");
    for (const dependency of analyticsViews[name].dependsOn) {
      if (isAnalyticsViewName(dependency)) visit(dependency, [...path, name]);
    }
    state.set(name, "done");
    ordered.push(name);
  };
  for (const name of names) visit(name, []);
  viewOrder = Object.freeze(ordered);
  return viewOrder;
}

/**
 * The target used where none is given (export, `schema check`, tests): a placeholder dev project
 * and the dataset name of DESIGN §4. Real deployments render with their stack's project/dataset.
 */
export const defaultViewTarget: ViewTarget = { project: "synter-dev", dataset: "synter_analytics" };
