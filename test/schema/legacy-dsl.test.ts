/**
 * The typed legacy definitions (`my.*`, schema/dsl/legacy.ts): the DDL each builder renders, the
 * legacy name taken from the key unless `.named()`, and definitions MySQL would refuse, which are
 * type errors and, for callers the types do not reach, problems reported at schema load.
 */
import { bigQueryTable, bq } from "../../schema/dsl/bigquery";
import { my, renderMySqlDefinition, type MySqlColumn } from "../../schema/dsl/legacy";
import { pg, pgTable } from "../../schema/dsl/postgres";

describe("legacy column builders", () => {
  test.each(
    (
      [
        [my.bigint(), "BIGINT"],
        [my.bigint().notNull().autoIncrement(), "BIGINT NOT NULL AUTO_INCREMENT"],
        [my.bigint().default(0), "BIGINT DEFAULT 0"],
        [my.int().default(3), "INT DEFAULT 3"],
        [my.varchar(128), "VARCHAR(128)"],
        [my.varchar(320).notNull(), "VARCHAR(320) NOT NULL"],
        [my.char(3), "CHAR(3)"],
        [my.char(64).notNull(), "CHAR(64) NOT NULL"],
        [my.text(), "TEXT"],
        [my.enum(["google", "reddit", "x"]).notNull(), "ENUM('google','reddit','x') NOT NULL"],
        [
          my.enum(["admin", "analyst", "viewer"]).default("viewer"),
          "ENUM('admin','analyst','viewer') DEFAULT 'viewer'",
        ],
        [my.enum(["it's", "o''k"]).default("it's"), "ENUM('it''s','o''''k') DEFAULT 'it''s'"],
        [my.decimal(18, 6), "DECIMAL(18,6)"],
        [my.decimal(18, 6).default(0), "DECIMAL(18,6) DEFAULT 0"],
        [my.decimal(10, 2).default(-12.5), "DECIMAL(10,2) DEFAULT -12.5"],
        [my.datetime(), "DATETIME"],
        [my.datetime(6).notNull(), "DATETIME(6) NOT NULL"],
        [my.datetime(6).defaultNow(), "DATETIME(6) DEFAULT CURRENT_TIMESTAMP(6)"],
        [
          my.datetime(6).defaultNow().onUpdateNow(),
          "DATETIME(6) DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6)",
        ],
        [my.datetime().defaultNow(), "DATETIME DEFAULT CURRENT_TIMESTAMP"],
        [my.date().notNull(), "DATE NOT NULL"],
        [my.boolean(), "BOOLEAN"],
        [my.boolean().default(true), "BOOLEAN DEFAULT TRUE"],
        [my.boolean().default(false), "BOOLEAN DEFAULT FALSE"],
        [my.json(), "JSON"],
      ] as [MySqlColumn, string][]
    ).map(([definition, ddl]) => [ddl, definition] as const),
  )("renders %s", (ddl, definition) => {
    expect(renderMySqlDefinition(definition.spec)).toBe(ddl);
  });

  it("holds typed values, not text", () => {
    expect(my.decimal(18, 6).notNull().default(0).spec).toEqual({
      type: "DECIMAL",
      precision: 18,
      scale: 6,
      notNull: true,
      autoIncrement: false,
      default: { kind: "value", value: 0 },
      onUpdateNow: false,
    });
    expect(my.datetime(6).defaultNow().onUpdateNow().spec).toEqual({
      type: "DATETIME",
      fsp: 6,
      notNull: false,
      autoIncrement: false,
      default: { kind: "now" },
      onUpdateNow: true,
    });
    expect(my.enum(["a", "b"]).spec).toMatchObject({ type: "ENUM", values: ["a", "b"] });
  });

  it("leaves the builder it started from unchanged", () => {
    const base = my.varchar(8);
    base.notNull().named("other");
    expect(renderMySqlDefinition(base.spec)).toBe("VARCHAR(8)");
    expect(base.name).toBeUndefined();
  });
});

describe("legacy column names", () => {
  const table = pgTable(
    "t",
    {
      id: pg.bigint().identity().describe("id").from(my.bigint().notNull().autoIncrement()),
      kept: pg.text().describe("kept").from(my.text()),
      renamed: pg.text().describe("renamed").from(my.varchar(8).named("old_name")),
      native: pg.text().describe("no legacy source"),
    },
    { description: "t", legacy: { table: "t", keys: ["PRIMARY KEY (id)"] } },
  );

  it("come from the key unless named", () => {
    expect(Object.values(table.columns).map((c) => c.spec.legacy?.column)).toEqual([
      "id",
      "kept",
      "old_name",
      undefined,
    ]);
    const events = bigQueryTable(
      "e",
      {
        ts: bq.timestamp().describe("ts").from(my.datetime(6).notNull()),
        old: bq.string().describe("old").from(my.char(3).named("legacy_old")),
      },
      { description: "e", partitionBy: "ts", clusterBy: [], legacy: { table: "e", keys: [] } },
    );
    expect(events.columns.ts.spec.legacy?.column).toBe("ts");
    expect(events.columns.old.spec.legacy?.column).toBe("legacy_old");
  });

  it("stay with a column taken into another table under a new key", () => {
    const next = pgTable(
      "t",
      { id: table.columns.id, moved: table.columns.kept.renamedFrom("kept") },
      { description: "t", legacy: { table: "t", keys: ["PRIMARY KEY (id)"] } },
    );
    expect(next.columns.moved.spec.legacy?.column).toBe("kept");
    // The column it was taken from is a value: still named by its own table.
    expect(table.columns.kept.spec.legacy?.column).toBe("kept");
  });
});

describe("impossible legacy definitions", () => {
  it("are reported at schema load, every problem at once", () => {
    expect(() =>
      bigQueryTable(
        "t",
        {
          ts: bq.timestamp().describe("ts").from(my.datetime(6).notNull()),
          ratio: bq.numeric().describe("r").from(my.decimal(6, 18)),
          wide: bq.numeric().describe("w").from(my.decimal(70, 2)),
          empty: bq.string().describe("e").from(my.varchar(0)),
          code: bq.string().describe("c").from(my.char(256)),
          kind: bq
            .string()
            .describe("k")
            .from(my.enum(["x", "X", "y"])),
          big: bq
            .int64()
            .describe("b")
            .from(my.int().default(2 ** 31)),
          cost: bq.numeric().describe("c").from(my.decimal(4, 2).default(123.4)),
          odd: bq.numeric().describe("o").from(my.decimal(4, 2).default(1.234)),
          twin: bq.string().describe("t").from(my.varchar(8).named("empty")),
          spaced: bq.string().describe("s").from(my.varchar(8).named("old name")),
        },
        { description: "t", partitionBy: "ts", clusterBy: [], legacy: { table: "t", keys: [] } },
      ),
    ).toThrow(
      [
        "invalid table t: column ratio: legacy DECIMAL(6,18): DECIMAL scale 18 exceeds its precision 6",
        "column wide: legacy DECIMAL(70,2): DECIMAL precision 70 must be a whole number from 1 to 65",
        "column empty: legacy VARCHAR(0): VARCHAR length 0 must be a whole number from 1 to 16383",
        "column code: legacy CHAR(256): CHAR length 256 must be a whole number from 1 to 255",
        "column kind: legacy ENUM('x','X','y'): ENUM repeats 'X'",
        "column big: legacy INT DEFAULT 2147483648: default 2147483648 is not an INT",
        "column cost: legacy DECIMAL(4,2) DEFAULT 123.4: default 123.4 does not fit DECIMAL(4,2)",
        "column odd: legacy DECIMAL(4,2) DEFAULT 1.234: default 1.234 does not fit DECIMAL(4,2)",
        "columns empty and twin both read legacy column empty",
        'column spaced: legacy name "old name" is not a plain identifier',
        "fix its definition in schema/",
      ].join("; "),
    );
  });

  it("are type errors, and refused at load for callers the types do not reach", () => {
    const AB = ["a", "b"] as const;
    const load = () =>
      pgTable(
        "t",
        {
          id: pg.bigint().identity().describe("id").from(my.bigint().notNull().autoIncrement()),
          // @ts-expect-error VARCHAR needs a length
          a: pg.text().describe("a").from(my.varchar()),
          // @ts-expect-error AUTO_INCREMENT only on an integer
          b: pg.text().describe("b").from(my.text().autoIncrement()),
          // @ts-expect-error CURRENT_TIMESTAMP only on DATETIME
          c: pg.text().describe("c").from(my.date().defaultNow()),
          // @ts-expect-error ON UPDATE CURRENT_TIMESTAMP only on DATETIME
          d: pg.text().describe("d").from(my.bigint().onUpdateNow()),
          // @ts-expect-error a default of the column's own type
          e: pg.text().describe("e").from(my.bigint().default("0")),
          // @ts-expect-error an ENUM default is one of its values
          f: pg.text().describe("f").from(my.enum(AB).default("c")),
          // @ts-expect-error no literal default on TEXT
          g: pg.text().describe("g").from(my.text().default("x")),
          // @ts-expect-error at most 6 fractional digits
          h: pg.text().describe("h").from(my.datetime(7)),
          // @ts-expect-error an ENUM has a value
          i: pg.text().describe("i").from(my.enum([])),
        },
        { description: "t" },
      );
    expect(load).toThrow(
      [
        "invalid table t: column a: legacy VARCHAR(undefined): VARCHAR length undefined must be a whole number from 1 to 16383",
        "column b: legacy TEXT AUTO_INCREMENT: AUTO_INCREMENT needs BIGINT or INT",
        "column c: legacy DATE DEFAULT CURRENT_TIMESTAMP: CURRENT_TIMESTAMP needs DATETIME",
        "column d: legacy BIGINT ON UPDATE CURRENT_TIMESTAMP: CURRENT_TIMESTAMP needs DATETIME",
        `column e: legacy BIGINT DEFAULT '0': default "0" is not an exact integer`,
        `column f: legacy ENUM('a','b') DEFAULT 'c': default "c" is not one of its values`,
        "column g: legacy TEXT DEFAULT 'x': TEXT takes no literal default here",
        "column h: legacy DATETIME(7): DATETIME fractional digits 7 must be a whole number from 0 to 6",
        "column i: legacy ENUM(): ENUM needs at least one value",
        "fix its definition in schema/",
      ].join("; "),
    );
    // @ts-expect-error a misspelt type is no builder at all
    expect(() => my.varchr(128)).toThrow(TypeError);
  });
});
