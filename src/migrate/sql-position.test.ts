import { locateStatement, statementSpans } from "./sql-position";

describe("statementSpans", () => {
  it("splits at top-level semicolons only, not inside quotes, dollar quotes or comments", () => {
    const sql = [
      "CREATE FUNCTION f() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END; $$;",
      "-- a comment; with a semicolon",
      "INSERT INTO t VALUES ('a;b', \"we;ird\");",
      "/* block; comment */ SELECT $tag$;$tag$",
    ].join("\n");
    expect(statementSpans(sql).map((s) => sql.slice(s.start, s.end).trim())).toEqual([
      "CREATE FUNCTION f() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END; $$;",
      "-- a comment; with a semicolon\nINSERT INTO t VALUES ('a;b', \"we;ird\");",
      "/* block; comment */ SELECT $tag$;$tag$",
    ]);
  });
});

describe("locateStatement", () => {
  const sql = "-- Up Migration\nCREATE TABLE a (id int);\n-- why\nSELECT nope\n  FROM b;\n";

  it("finds the statement around Postgres' 1-based position, without its leading comments", () => {
    const position = sql.indexOf("nope") + 1;
    expect(locateStatement(sql, position)).toEqual({
      statement: "SELECT nope\n  FROM b;",
      line: 4,
      column: 8,
    });
  });

  it("gives up on a position outside the text", () => {
    expect(locateStatement(sql, 0)).toBeUndefined();
    expect(locateStatement(sql, sql.length + 5)).toBeUndefined();
  });
});
