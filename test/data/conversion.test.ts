/** Value conversion, the COPY and NDJSON encoders, and the plan derived from `schema/`. */
import { RejectedValue, convertRow, convertValue } from "../../src/data/convert";
import { decodeNdjsonLine, encodeCopyLine, encodeNdjsonLine } from "../../src/data/row-encoding";
import {
  migrationTables,
  renderLegacyDdl,
  selectTables,
  valueKindOf,
  type MigrationColumn,
} from "../../src/data/table-plan";
import { rowHash } from "../../src/data/checksum";
import { splitKeyRange } from "../../src/data/verify";

const column = (definition: string, notNull = false, name = "c"): MigrationColumn => ({
  name,
  legacy: { column: name, definition },
  value: valueKindOf(definition),
  notNull,
});

describe("the plan from schema/", () => {
  test("ten legacy tables: auth in foreign-key order, then analytics", () => {
    expect(migrationTables().map((t) => [t.name, t.target, t.key.name])).toEqual([
      ["users", "postgres", "id"],
      ["sessions", "postgres", "id"],
      ["magic_links", "postgres", "id"],
      ["oauth_accounts", "postgres", "id"],
      ["campaign_policies", "postgres", "id"],
      ["events", "bigquery", "id"],
      ["ad_metrics", "bigquery", "id"],
      ["conversions", "bigquery", "id"],
      ["touchpoints", "bigquery", "id"],
      ["agent_runs", "bigquery", "id"],
    ]);
  });

  test("value kinds come from the legacy definitions", () => {
    expect(valueKindOf("ENUM('google','reddit','x') NOT NULL")).toEqual({
      kind: "enum",
      values: ["google", "reddit", "x"],
    });
    expect(valueKindOf("DECIMAL(18,6) DEFAULT 0")).toEqual({ kind: "decimal", scale: 6 });
    expect(valueKindOf("DATETIME(6) NOT NULL")).toEqual({ kind: "datetime" });
    expect(valueKindOf("BOOLEAN DEFAULT TRUE")).toEqual({ kind: "boolean" });
    expect(valueKindOf("JSON")).toEqual({ kind: "json" });
    expect(() => valueKindOf("BLOB")).toThrow('legacy definition "BLOB" has no value conversion');
    // ad_metrics.ingested_at has no legacy source: it is not read.
    const adMetrics = migrationTables().find((t) => t.name === "ad_metrics")!;
    expect(adMetrics.columns.map((c) => c.name)).not.toContain("ingested_at");
  });

  test("legacy DDL is rendered from the schema", () => {
    const ddl = renderLegacyDdl(migrationTables().find((t) => t.name === "agent_runs")!);
    expect(ddl).toBe(
      [
        "CREATE TABLE `agent_runs` (",
        "  `id` BIGINT NOT NULL AUTO_INCREMENT,",
        "  `agent` VARCHAR(64) NOT NULL,",
        "  `run_id` VARCHAR(64) NOT NULL,",
        "  `started_at` DATETIME(6) NOT NULL,",
        "  `finished_at` DATETIME(6),",
        "  `ok` BOOLEAN,",
        "  `stats` JSON,",
        "  `watermark` VARCHAR(64),",
        "  PRIMARY KEY (id),",
        "  UNIQUE KEY agent_runs_agent_run (agent, run_id)",
        ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci",
      ].join("\n"),
    );
  });

  test("--tables keeps migration order and rejects unknown names", () => {
    expect(selectTables(["events", "users"]).map((t) => t.name)).toEqual(["users", "events"]);
    expect(() => selectTables(["oauth_tokens"])).toThrow(/unknown table\(s\) oauth_tokens/);
  });
});

describe("convertValue", () => {
  test("datetimes keep microseconds and gain them when absent", () => {
    expect(convertValue(column("DATETIME(6)"), "2024-02-29 23:59:59.000001")).toBe(
      "2024-02-29 23:59:59.000001",
    );
    expect(convertValue(column("DATETIME"), "2025-12-31 23:59:59")).toBe(
      "2025-12-31 23:59:59.000000",
    );
  });

  test.each([
    ["DATETIME(6)", "0000-00-00 00:00:00", "invalid datetime"],
    ["DATETIME(6)", "2023-02-29 00:00:00", "invalid datetime"],
    ["DATE", "2024-00-10", "invalid date"],
    // Century rule: 1900 is not a leap year, so Postgres would fail the COPY on this row.
    ["DATE", "1900-02-29", "invalid date"],
    ["DATETIME(6)", "1900-02-29 12:00:00.000000", "invalid datetime"],
    ["ENUM('admin','analyst','viewer')", "", "value is not one of 'admin', 'analyst', 'viewer'"],
    ["BOOLEAN", "2", "boolean (TINYINT) value other than 0 or 1"],
    ["DECIMAL(18,6)", "1.5", "not a decimal with scale 6"],
    ["JSON", "null", "top-level JSON null would load as SQL NULL in BigQuery"],
  ])("%s %j is rejected: %s", (definition, raw, reason) => {
    const error = (() => {
      try {
        convertValue(column(definition), raw);
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(RejectedValue);
    expect((error as RejectedValue).reason).toBe(reason);
    expect((error as RejectedValue).raw).toBe(raw);
  });

  test("29 February is kept in a leap year, including a century divisible by 400", () => {
    expect(convertValue(column("DATE"), "2000-02-29")).toBe("2000-02-29");
    expect(convertValue(column("DATETIME"), "2000-02-29 00:00:00")).toBe(
      "2000-02-29 00:00:00.000000",
    );
    expect(convertValue(column("DATE"), "2024-02-29")).toBe("2024-02-29");
  });

  test("NULL in a NOT NULL column is rejected; elsewhere kept", () => {
    expect(convertValue(column("VARCHAR(10)"), null)).toBeNull();
    expect(() => convertValue(column("VARCHAR(10) NOT NULL", true), null)).toThrow(
      "c: NULL in a NOT NULL column",
    );
  });
});

describe("encoders", () => {
  const columns = [
    column("BIGINT NOT NULL", true, "id"),
    column("TEXT", false, "t"),
    column("DECIMAL(18,6)", false, "d"),
    column("DATETIME(6)", false, "ts"),
    column("BOOLEAN", false, "ok"),
    column("JSON", false, "j"),
  ];

  test("COPY text keeps NULL, '' and the text \\N apart and escapes tab, CR, LF and backslash", () => {
    const lines = [null, "", "\\N", "a\tb\r\nc\\d"].map((t) =>
      encodeCopyLine(columns, convertRow(columns, ["1", t, null, null, null, null])),
    );
    expect(lines).toEqual([
      "1\t\\N\t\\N\t\\N\t\\N\t\\N\n",
      "1\t\t\\N\t\\N\t\\N\t\\N\n",
      "1\t\\\\N\t\\N\t\\N\t\\N\t\\N\n",
      "1\ta\\tb\\r\\nc\\\\d\t\\N\t\\N\t\\N\t\\N\n",
    ]);
    expect(
      encodeCopyLine(columns, ["9", "x", "-0.000001", "2024-01-01 00:00:00.000001", "1", null]),
    ).toBe("9\tx\t-0.000001\t2024-01-01 00:00:00.000001+00\t1\t\\N\n");
  });

  test("NDJSON: exact strings for numbers, RFC 3339 µs timestamps, JSON embedded last; decodes back", () => {
    const row = convertRow(columns, [
      "9223372036854775807",
      'he said "hi",\\ \n',
      "999999999999.999999",
      "2024-01-01 00:00:00.5",
      "0",
      '{"b": 12345678901234567, "a": ",\\"j\\":"}',
    ]);
    const line = encodeNdjsonLine(columns, row);
    expect(line).toBe(
      '{"id":"9223372036854775807","t":"he said \\"hi\\",\\\\ \\n","d":"999999999999.999999",' +
        '"ts":"2024-01-01T00:00:00.500000Z","ok":false,"j":{"a":",\\"j\\":","b":12345678901234567}}\n',
    );
    expect(decodeNdjsonLine(columns, line.trimEnd())).toEqual(row);
    const nulls = convertRow(columns, ["1", null, null, null, null, null]);
    expect(decodeNdjsonLine(columns, encodeNdjsonLine(columns, nulls).trimEnd())).toEqual(nulls);
  });

  test("NDJSON strings are exactly JSON.stringify's, whether or not they need escaping", () => {
    const strings = [
      "plain",
      "",
      "\\N",
      'q"uote',
      "back\\slash",
      "tab\tcr\rlf\n",
      "\u0000\u001f\u007f",
      "é 😀 \u2028",
      "a/b",
      "\u00a0x",
    ];
    for (const t of strings) {
      const line = encodeNdjsonLine(columns, ["1", t, null, null, null, null]);
      expect(line).toBe(
        `{"id":"1","t":${JSON.stringify(t)},"d":null,"ts":null,"ok":null,"j":null}\n`,
      );
    }
  });

  test("the row hash tells NULL, '' and \\N apart and binds JSON to its key", () => {
    const hashOf = (t: string | null, key = "1", j: string | null = "[1]") =>
      rowHash(columns, 0, [key, t, null, null, null, j]);
    expect(new Set([hashOf(null), hashOf(""), hashOf("\\N"), hashOf("N")]).size).toBe(4);
    // Swapping JSON values between two rows changes the sum.
    expect(hashOf("x", "1", "[1]") + hashOf("x", "2", "[2]")).not.toBe(
      hashOf("x", "1", "[2]") + hashOf("x", "2", "[1]"),
    );
  });
});

describe("splitKeyRange", () => {
  test("covers the whole key space with open ends, in order", () => {
    expect(splitKeyRange({ after: 0n, upTo: 100n }, 4)).toEqual([
      { after: undefined, upTo: 25n },
      { after: 25n, upTo: 50n },
      { after: 50n, upTo: 75n },
      { after: 75n },
    ]);
    expect(splitKeyRange(undefined, 4)).toEqual([{}]);
    expect(splitKeyRange({ after: 0n, upTo: 100n }, 1)).toEqual([{}]);
  });
});
