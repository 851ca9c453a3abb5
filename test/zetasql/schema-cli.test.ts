/** `synter-infra schema check`, run in-process: output format, exit codes, --file and --json. */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { Command } from "commander";
import { analyticsViews } from "../../schema/views";
import { registerSchemaCommands } from "../../src/cli/commands/schema";

interface Run {
  stdout: string;
  stderr: string;
  error?: { message: string; kind: string };
}

/** The analytics tables whose data-migration checksum query ships beside the views. */
const CHECKSUM_TABLES = ["events", "ad_metrics", "conversions", "touchpoints", "agent_runs"];

async function run(args: string[]): Promise<Run> {
  const result: Run = { stdout: "", stderr: "" };
  const out = jest.spyOn(process.stdout, "write").mockImplementation((chunk) => {
    result.stdout += String(chunk);
    return true;
  });
  const err = jest.spyOn(process.stderr, "write").mockImplementation((chunk) => {
    result.stderr += String(chunk);
    return true;
  });
  try {
    const program = new Command("synter-infra").exitOverride();
    registerSchemaCommands(program);
    await program.parseAsync(args, { from: "user" });
  } catch (error) {
    result.error = error as { message: string; kind: string };
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
  return result;
}

let scratch: string;
beforeAll(() => {
  scratch = mkdtempSync(join(tmpdir(), "synter-schema-cli-"));
});
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe("synter-infra schema check", () => {
  it("analyzes every view and succeeds", async () => {
    const result = await run(["schema", "check"]);
    expect(result.error).toBeUndefined();
    expect(result.stderr).toBe("");
    expect(result.stdout).toBe(
      [
        "ok    fact_attribution_last_touch (schema/views/fact_attribution_last_touch.sql)",
        "ok    fact_attribution_first_touch (schema/views/fact_attribution_first_touch.sql)",
        "ok    fact_attribution_linear (schema/views/fact_attribution_linear.sql)",
        "ok    campaign_performance_daily (schema/views/campaign_performance_daily.sql)",
        ...CHECKSUM_TABLES.map(
          (table) => `ok    data-migration checksum of ${table} (src/data/checksum.ts)`,
        ),
        "9 SQL sources analyzed, no errors",
        "",
      ].join("\n"),
    );
  });

  it("prints file:line:column: message for a broken file and fails as a config error", async () => {
    const file = join(scratch, "broken_last_touch.sql");
    const sql = readFileSync(analyticsViews.fact_attribution_last_touch.sqlFile, "utf8").replace(
      "t.campaign,\n    t.adgroup,",
      "t.campaign_name,\n    t.adgroup,",
    );
    writeFileSync(file, sql);
    const line = sql.split("\n").findIndex((text) => text.includes("t.campaign_name")) + 1;
    const column = sql.split("\n")[line - 1].indexOf("campaign_name") + 1;
    const result = await run(["schema", "check", "--file", file]);
    expect(result.stderr).toBe(
      `${relative(process.cwd(), file)}:${line}:${column}: Name campaign_name not found inside t\n`,
    );
    expect(result.error).toMatchObject({
      kind: "config",
      message: "1 of 10 SQL sources have errors (ZetaSQL)",
    });
  });

  it("reports JSON with --json, including the columns of each view", async () => {
    const file = join(scratch, "wrong_function.sql");
    writeFileSync(file, "SELECT\n  DATE_TRUNCC(ts, DAY) AS day\nFROM {{ref:events}}\n");
    const result = await run([
      "schema",
      "check",
      "--json",
      "--project",
      "acme-data",
      "--file",
      file,
    ]);
    const report = JSON.parse(result.stdout);
    expect(report.ok).toBe(false);
    expect(report.target).toEqual({ project: "acme-data", dataset: "synter_analytics" });
    expect(report.results.map((r: { name: string; ok: boolean }) => [r.name, r.ok])).toEqual([
      ["fact_attribution_last_touch", true],
      ["fact_attribution_first_touch", true],
      ["fact_attribution_linear", true],
      ["campaign_performance_daily", true],
      ...CHECKSUM_TABLES.map((table) => [`data-migration checksum of ${table}`, true]),
      ["wrong_function", false],
    ]);
    expect(report.results[9]).toEqual({
      name: "wrong_function",
      file: relative(process.cwd(), file),
      ok: false,
      line: 2,
      column: 3,
      message: expect.stringMatching(/^Function not found: DATE_TRUNCC/),
    });
    expect(report.results[0].columns.slice(0, 4)).toEqual([
      { name: "conversion_id", type: "INT64" },
      { name: "user_id", type: "STRING" },
      { name: "conversion_event", type: "STRING" },
      { name: "conversion_time", type: "TIMESTAMP" },
    ]);
    expect(result.error).toMatchObject({ kind: "config" });
  });

  it("names the file of an unknown placeholder", async () => {
    const file = join(scratch, "bad_placeholder.sql");
    writeFileSync(file, "SELECT * FROM {{ref:users}}\n");
    const result = await run(["schema", "check", "--file", file]);
    expect(result.error).toMatchObject({
      kind: "config",
      message: `${file}:1:15: unknown placeholder {{ref:users}}: users is neither an analytics table nor a view`,
    });
  });
});
