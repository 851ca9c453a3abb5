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
import { my, renderMySqlDefinition, type MySqlColumn } from "../../schema/dsl/legacy";
import { splitKeyRange } from "../../src/data/key-ranges";
import { compareSourceColumns, informationSchemaType } from "../../src/data/source-schema";

const column = (definition: MySqlColumn, notNull = false, name = "c"): MigrationColumn => ({
  name,
  legacy: { ...definition.spec, column: name },
  value: valueKindOf(definition.spec),
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
    expect(valueKindOf(my.enum(["google", "reddit", "x"]).notNull().spec)).toEqual({
      kind: "enum",
      values: ["google", "reddit", "x"],
    });
    expect(valueKindOf(my.decimal(18, 6).default(0).spec)).toEqual({ kind: "decimal", scale: 6 });
    expect(valueKindOf(my.datetime(6).notNull().spec)).toEqual({ kind: "datetime" });
    expect(valueKindOf(my.boolean().default(true).spec)).toEqual({ kind: "boolean" });
    expect(valueKindOf(my.json().spec)).toEqual({ kind: "json" });
    expect(valueKindOf(my.int().spec)).toEqual({ kind: "integer" });
    expect(valueKindOf(my.char(3).spec)).toEqual({ kind: "string" });
    expect(valueKindOf(my.date().spec)).toEqual({ kind: "date" });
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

  test("the source's types are compared with the typed legacy definitions", () => {
    expect(
      [my.bigint(), my.boolean(), my.datetime(), my.datetime(6), my.enum(["it's"]), my.json()].map(
        (d) => informationSchemaType(d.spec),
      ),
    ).toEqual(["bigint", "tinyint(1)", "datetime", "datetime(6)", "enum('it''s')", "json"]);
    const tables = selectTables(["users", "events"]);
    // As MariaDB spells them: display widths, BOOLEAN as tinyint(1), JSON as longtext.
    const spelled: Record<string, string> = {
      "users.id": "bigint(20)",
      "users.is_active": "tinyint(1)",
      "users.role": "enum('admin','viewer')",
      "events.properties": "longtext",
      "events.ts": "datetime(3)",
      "events.revenue": "decimal(40,6)",
    };
    const source = tables.flatMap((t) =>
      t.columns.map((c) => {
        const name = `${t.legacyTable}.${c.legacy.column}`;
        return {
          table: t.legacyTable,
          column: c.legacy.column,
          type: spelled[name] ?? informationSchemaType(c.legacy),
          nullable: name === "users.email" || !c.legacy.notNull,
        };
      }),
    );
    expect(compareSourceColumns(tables, source)).toEqual({
      differences: [
        "users.email allows NULL (schema/: NOT NULL)",
        "users.role is enum('admin','viewer') (schema/: ENUM('admin','analyst','viewer'))",
        "events.ts is datetime(3) (schema/: DATETIME(6))",
        "events.revenue is decimal(40,6) (schema/: DECIMAL(18,6))",
      ],
      missing: [],
    });
  });

  test("--tables keeps migration order and rejects unknown names", () => {
    expect(selectTables(["events", "users"]).map((t) => t.name)).toEqual(["users", "events"]);
    expect(() => selectTables(["oauth_tokens"])).toThrow(/unknown table\(s\) oauth_tokens/);
  });
});

describe("convertValue", () => {
  test("datetimes keep microseconds and gain them when absent", () => {
    expect(convertValue(column(my.datetime(6)), "2024-02-29 23:59:59.000001")).toBe(
      "2024-02-29 23:59:59.000001",
    );
    expect(convertValue(column(my.datetime()), "2025-12-31 23:59:59")).toBe(
      "2025-12-31 23:59:59.000000",
    );
  });

  test.each(
    (
      [
        [my.datetime(6), "0000-00-00 00:00:00", "invalid datetime"],
        [my.datetime(6), "2023-02-29 00:00:00", "invalid datetime"],
        [my.date(), "2024-00-10", "invalid date"],
        // Century rule: 1900 is not a leap year, so Postgres would fail the COPY on this row.
        [my.date(), "1900-02-29", "invalid date"],
        [my.datetime(6), "1900-02-29 12:00:00.000000", "invalid datetime"],
        [
          my.enum(["admin", "analyst", "viewer"]),
          "",
          "value is not one of 'admin', 'analyst', 'viewer'",
        ],
        [my.boolean(), "2", "boolean (TINYINT) value other than 0 or 1"],
        [my.decimal(18, 6), "1.5", "not a decimal with scale 6"],
        [my.json(), "null", "top-level JSON null would load as SQL NULL in BigQuery"],
      ] as const
    ).map(([definition, raw, reason]) => [
      renderMySqlDefinition(definition.spec),
      raw,
      reason,
      definition,
    ]),
  )("%s %j is rejected: %s", (_label, raw, reason, definition) => {
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
    expect(convertValue(column(my.date()), "2000-02-29")).toBe("2000-02-29");
    expect(convertValue(column(my.datetime()), "2000-02-29 00:00:00")).toBe(
      "2000-02-29 00:00:00.000000",
    );
    expect(convertValue(column(my.date()), "2024-02-29")).toBe("2024-02-29");
  });

  test("NULL in a NOT NULL column is rejected; elsewhere kept", () => {
    expect(convertValue(column(my.varchar(10)), null)).toBeNull();
    expect(() => convertValue(column(my.varchar(10).notNull(), true), null)).toThrow(
      "c: NULL in a NOT NULL column",
    );
  });
});

describe("encoders", () => {
  const columns = [
    column(my.bigint().notNull(), true, "id"),
    column(my.text(), false, "t"),
    column(my.decimal(18, 6), false, "d"),
    column(my.datetime(6), false, "ts"),
    column(my.boolean(), false, "ok"),
    column(my.json(), false, "j"),
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
    expect(encodeNdjsonLine(columns, nulls)).toBe('{"id":"1"}\n');
    expect(decodeNdjsonLine(columns, encodeNdjsonLine(columns, nulls).trimEnd())).toEqual(nulls);
  });

  test("NDJSON: a NULL left out decodes as NULL; a REQUIRED or defaulted member missing is an error", () => {
    // Written NULLs decode too (files of an earlier release), with or without a JSON column.
    const noJson = columns.slice(0, 5);
    for (const table of [columns, noJson]) {
      const nulls = table.map((_, i) => (i === 0 ? "1" : null));
      expect(decodeNdjsonLine(table, '{"id":"1"}')).toEqual(nulls);
      const written = `{"id":"1",${table
        .slice(1)
        .map((c) => `"${c.name}":null`)
        .join(",")}}`;
      expect(decodeNdjsonLine(table, written)).toEqual(nulls);
      expect(decodeNdjsonLine(table, '{"t":"null","ok":true,"id":"2"}')).toEqual(
        table.map((c) => ({ id: "2", t: "null", ok: "1" })[c.name] ?? null),
      );
      expect(() => decodeNdjsonLine(table, '{"t":"x"}')).toThrow("load file line lacks column id");
      const defaulted = table.map((c) =>
        c.name === "j" || c.name === "ok" ? { ...c, targetDefault: true } : c,
      );
      expect(() => decodeNdjsonLine(defaulted, '{"id":"1"}')).toThrow(
        "load file line lacks column ok",
      );
    }
    const defaultedJson = columns.map((c) => (c.name === "j" ? { ...c, targetDefault: true } : c));
    expect(() => decodeNdjsonLine(defaultedJson, '{"id":"1"}')).toThrow(
      "load file line lacks column j",
    );
    expect(decodeNdjsonLine(defaultedJson, '{"id":"1","j":null}')).toEqual([
      "1",
      null,
      null,
      null,
      null,
      null,
    ]);
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
      expect(line).toBe(`{"id":"1","t":${JSON.stringify(t)}}\n`);
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
