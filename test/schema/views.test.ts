import { join } from "node:path";
import {
  analyticsViewOrder,
  analyticsViews,
  renderSqlTemplate,
  renderViewSql,
  templateReferences,
  validateViewTarget,
} from "../../schema/views";

const target = { project: "acme-analytics", dataset: "synter_analytics_pr_7" };

describe("analytics view registry", () => {
  it("lists the four views with their .sql files", () => {
    expect(Object.keys(analyticsViews)).toEqual([
      "fact_attribution_last_touch",
      "fact_attribution_first_touch",
      "fact_attribution_linear",
      "campaign_performance_daily",
    ]);
    for (const view of Object.values(analyticsViews)) {
      expect(view.sqlFile).toBe(join(__dirname, "../../schema/views", `${view.name}.sql`));
      expect(view.description.length).toBeGreaterThan(40);
    }
  });

  it("derives dependsOn from the placeholders of each file", () => {
    expect(analyticsViews.fact_attribution_last_touch.dependsOn).toEqual([
      "conversions",
      "touchpoints",
    ]);
    expect(analyticsViews.fact_attribution_first_touch.dependsOn).toEqual([
      "conversions",
      "touchpoints",
    ]);
    expect(analyticsViews.fact_attribution_linear.dependsOn).toEqual([
      "conversions",
      "touchpoints",
    ]);
    expect(analyticsViews.campaign_performance_daily.dependsOn).toEqual([
      "ad_metrics",
      "fact_attribution_last_touch",
    ]);
  });

  it("orders every view after the views it reads", () => {
    const order = analyticsViewOrder();
    expect(order).toEqual([
      "fact_attribution_last_touch",
      "fact_attribution_first_touch",
      "fact_attribution_linear",
      "campaign_performance_daily",
    ]);
    for (const name of order) {
      for (const dependency of analyticsViews[name].dependsOn) {
        if (dependency in analyticsViews) {
          expect(order.indexOf(dependency as never)).toBeLessThan(order.indexOf(name));
        }
      }
    }
  });
});

describe("renderViewSql", () => {
  it("replaces every placeholder by the fully qualified, backtick-quoted name", () => {
    const sql = renderViewSql("campaign_performance_daily", target);
    expect(sql).not.toContain("{{");
    expect(sql).toContain("FROM `acme-analytics.synter_analytics_pr_7.ad_metrics` AS m");
    expect(sql).toContain(
      "FROM `acme-analytics.synter_analytics_pr_7.fact_attribution_last_touch`",
    );
  });

  it("keeps line numbers and maps columns back to the template", () => {
    const template = "SELECT x\nFROM {{ref:events}} AS e JOIN {{ref:touchpoints}} AS t ON bad";
    const rendered = renderSqlTemplate(template, "q.sql", target);
    const lines = rendered.sql.split("\n");
    expect(lines).toEqual([
      "SELECT x",
      "FROM `acme-analytics.synter_analytics_pr_7.events` AS e JOIN `acme-analytics.synter_analytics_pr_7.touchpoints` AS t ON bad",
    ]);
    // Before any placeholder: unchanged.
    expect(rendered.toTemplatePosition(1, 8)).toEqual({ line: 1, column: 8 });
    expect(rendered.toTemplatePosition(2, 1)).toEqual({ line: 2, column: 1 });
    // Inside the first rendered reference: the placeholder's start.
    expect(rendered.toTemplatePosition(2, 10)).toEqual({ line: 2, column: 6 });
    // `bad` after both references.
    const badRendered = lines[1].indexOf("bad") + 1;
    const badTemplate = template.split("\n")[1].indexOf("bad") + 1;
    expect(rendered.toTemplatePosition(2, badRendered)).toEqual({ line: 2, column: badTemplate });
  });

  it("rejects unknown placeholders, naming the file, line and column", () => {
    expect(() => renderSqlTemplate("SELECT 1\nFROM {{ref:nope}}", "views/x.sql", target)).toThrow(
      "views/x.sql:2:6: unknown placeholder {{ref:nope}}: nope is neither an analytics table nor a view",
    );
    expect(() => renderSqlTemplate("SELECT {{ table }}", "views/y.sql", target)).toThrow(
      "views/y.sql:1:8: unknown placeholder {{ table }} (expected {{ref:<table or view>}})",
    );
  });

  it("lists references once, in order of first appearance", () => {
    expect(
      templateReferences("{{ref:touchpoints}} {{ref:events}}\n{{ ref:touchpoints }}", "z.sql").map(
        (r) => [r.name, r.line, r.column],
      ),
    ).toEqual([
      ["touchpoints", 1, 1],
      ["events", 1, 21],
    ]);
  });

  it("rejects project and dataset ids that would change the SQL", () => {
    expect(validateViewTarget({ project: "synter-dev", dataset: "synter_analytics" })).toEqual([]);
    expect(validateViewTarget({ project: "example.com:synter-prod", dataset: "a1" })).toEqual([]);
    expect(validateViewTarget({ project: "a`b", dataset: "x.y" })).toEqual([
      'invalid BigQuery project id "a`b"',
      'invalid BigQuery dataset id "x.y"',
    ]);
    expect(() => renderViewSql("fact_attribution_linear", { project: "P", dataset: "d" })).toThrow(
      /fact_attribution_linear\.sql: invalid BigQuery project id "P"/,
    );
  });
});
