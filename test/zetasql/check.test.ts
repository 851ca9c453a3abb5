import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { analyticsViews, defaultViewTarget } from "../../schema/views";
import {
  checkProjectSql,
  projectSqlSources,
  qualifiedTableName,
  sqlTemplateSource,
  ZetaSql,
  type ProjectSqlSource,
} from "../../src/zetasql";

let zeta: ZetaSql;
let scratch: string;

beforeAll(async () => {
  zeta = await ZetaSql.start();
  scratch = mkdtempSync(join(tmpdir(), "synter-zetasql-check-"));
});

afterAll(async () => {
  await zeta?.stop();
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

const target = defaultViewTarget;

/** A view source built from a temp copy of a real view, edited by `edit`. */
function brokenCopy(
  name: keyof typeof analyticsViews,
  edit: (sql: string) => string,
): ProjectSqlSource {
  const file = join(scratch, `${name}.sql`);
  copyFileSync(analyticsViews[name].sqlFile, file);
  writeFileSync(file, edit(readFileSync(file, "utf8")));
  return { ...sqlTemplateSource(name, file, target), definesView: name };
}

function lineOf(file: string, needle: string): { line: number; column: number } {
  const lines = readFileSync(file, "utf8").split("\n");
  const line = lines.findIndex((text) => text.includes(needle));
  return { line: line + 1, column: lines[line].indexOf(needle) + 1 };
}

describe("schema check (ZetaSQL analysis)", () => {
  it("analyzes every view the project ships, with the exact output columns", async () => {
    const report = await checkProjectSql(zeta, projectSqlSources(target), target);
    expect(report.results.map((r) => [r.name, r.ok, r.message])).toEqual([
      ["fact_attribution_last_touch", true, undefined],
      ["fact_attribution_first_touch", true, undefined],
      ["fact_attribution_linear", true, undefined],
      ["campaign_performance_daily", true, undefined],
      ...["events", "ad_metrics", "conversions", "touchpoints", "agent_runs"].map((table) => [
        `data-migration checksum of ${table}`,
        true,
        undefined,
      ]),
    ]);
    const columns = (name: string) =>
      report.results
        .find((r) => r.name === name)!
        .outputColumns!.map((c) => `${c.name}:${c.type.typeKind!.replace("TYPE_", "")}`);
    // DESIGN §4: the API selects exactly these columns.
    expect(columns("fact_attribution_last_touch")).toEqual([
      "conversion_id:INT64",
      "user_id:STRING",
      "conversion_event:STRING",
      "conversion_time:TIMESTAMP",
      "conversion_value:NUMERIC",
      "currency:STRING",
      "platform:STRING",
      "campaign:STRING",
      "adgroup:STRING",
      "ad_id:STRING",
      "source:STRING",
      "medium:STRING",
    ]);
    expect(columns("fact_attribution_first_touch")).toEqual(columns("fact_attribution_last_touch"));
    expect(columns("fact_attribution_linear")).toEqual([
      "conversion_id:INT64",
      "user_id:STRING",
      "conversion_event:STRING",
      "conversion_time:TIMESTAMP",
      "conversion_value:NUMERIC",
      "currency:STRING",
      "touchpoint_id:INT64",
      "touch_time:TIMESTAMP",
      "platform:STRING",
      "campaign:STRING",
      "adgroup:STRING",
      "ad_id:STRING",
      "source:STRING",
      "medium:STRING",
      "touch_position:INT64",
      "touch_count:INT64",
      "credit:NUMERIC",
      "attributed_value:NUMERIC",
    ]);
    expect(columns("campaign_performance_daily")).toEqual([
      "platform:STRING",
      "date:DATE",
      "account_id:STRING",
      "campaign_id:STRING",
      "impressions:INT64",
      "clicks:INT64",
      "spend:NUMERIC",
      "platform_conversions:INT64",
      "platform_revenue:NUMERIC",
      "attributed_conversions:INT64",
      "attributed_value:NUMERIC",
      "ctr:DOUBLE",
      "cpc:NUMERIC",
      "cpa:NUMERIC",
      "roas:NUMERIC",
      "platform_roas:NUMERIC",
    ]);
    // Views that analyzed are registered for their readers under the rendered name.
    expect(report.catalog.tables.map((t) => t.name)).toContain(
      qualifiedTableName(target, "fact_attribution_last_touch"),
    );
  });

  it("reports an unknown column with the file, the template position and ZetaSQL's message", async () => {
    const broken = brokenCopy("fact_attribution_first_touch", (sql) =>
      sql.replace("t.medium IS NULL OR", "t.mediumm IS NULL OR"),
    );
    const report = await checkProjectSql(zeta, [broken], target);
    expect(report.ok).toBe(false);
    expect(report.results).toEqual([
      {
        name: "fact_attribution_first_touch",
        file: broken.file,
        ok: false,
        ...lineOf(broken.file, "mediumm IS NULL"),
        message: "Name mediumm not found inside t",
      },
    ]);
  });

  it("reports a wrong function after a placeholder at the template column", async () => {
    const broken = brokenCopy("fact_attribution_last_touch", (sql) =>
      sql.replace(
        "LEFT JOIN {{ref:touchpoints}} AS t\n    ON t.user_id = c.user_id",
        "LEFT JOIN {{ref:touchpoints}} AS t ON LOWERR(t.user_id) = c.user_id",
      ),
    );
    const report = await checkProjectSql(zeta, [broken], target);
    expect(report.results).toEqual([
      {
        name: "fact_attribution_last_touch",
        file: broken.file,
        ok: false,
        ...lineOf(broken.file, "LOWERR("),
        message: "Function not found: LOWERR; Did you mean lower?",
      },
    ]);
  });

  it("reports a wrong argument type", async () => {
    const broken = brokenCopy("campaign_performance_daily", (sql) =>
      sql.replace("SAFE_DIVIDE(d.clicks, d.impressions)", "SAFE_DIVIDE(d.clicks, d.platform)"),
    );
    const lastTouch = projectSqlSources(target).find(
      (source) => source.name === "fact_attribution_last_touch",
    )!;
    const [, result] = (await checkProjectSql(zeta, [lastTouch, broken], target)).results;
    expect(result).toMatchObject({
      ok: false,
      ...lineOf(broken.file, "SAFE_DIVIDE(d.clicks, d.platform)"),
    });
    expect(result.message).toMatch(
      /^No matching signature for function SAFE_DIVIDE for argument types: INT64, STRING/,
    );
  });

  it("does not analyze a view whose input view is broken, and says why", async () => {
    const broken = brokenCopy("fact_attribution_last_touch", (sql) =>
      sql.replace("c.event_name AS conversion_event", "c.event AS conversion_event"),
    );
    const [, reader] = projectSqlSources(target).filter((s) =>
      ["fact_attribution_last_touch", "campaign_performance_daily"].includes(s.name),
    );
    const report = await checkProjectSql(zeta, [broken, reader], target);
    expect(report.results.map((r) => [r.name, r.line, r.column, r.message])).toEqual([
      [
        "fact_attribution_last_touch",
        lineOf(broken.file, "c.event AS").line,
        lineOf(broken.file, "c.event AS").column + 2,
        "Name event not found inside c",
      ],
      [
        "campaign_performance_daily",
        1,
        1,
        "not analyzed: it reads view fact_attribution_last_touch, which has errors",
      ],
    ]);
  });

  it("rejects an unknown placeholder before analysis, naming the file", () => {
    const file = join(scratch, "unknown_placeholder.sql");
    writeFileSync(file, "SELECT *\nFROM {{ref:sessions}}\n");
    expect(() => sqlTemplateSource("unknown_placeholder", file, target)).toThrow(
      `${file}:2:6: unknown placeholder {{ref:sessions}}: sessions is neither an analytics table nor a view`,
    );
  });
});
