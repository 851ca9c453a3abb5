/**
 * `canonicalJson` must print exactly what BigQuery's TO_JSON_STRING prints for a JSON value, since
 * the source-side checksum of JSON columns depends on it: each case is compared with ZetaSQL (the
 * analyzer BigQuery is built on) evaluating `TO_JSON_STRING(PARSE_JSON(text))`.
 */
import { canonicalJson, formatDouble, JsonConversionError } from "../../src/data/canonical-json";
import { ZetaSql } from "../../src/zetasql/analyzer";
import { ACCEPTED } from "./json-corpus";

describe("canonicalJson", () => {
  let zeta: ZetaSql;
  beforeAll(async () => {
    zeta = await ZetaSql.start();
  });
  afterAll(async () => {
    await zeta?.stop();
  });

  test.each(ACCEPTED)("prints %j as BigQuery's TO_JSON_STRING does", async (text) => {
    const base64 = Buffer.from(text, "utf8").toString("base64");
    const result = await zeta.evaluateQueryRaw(
      `SELECT TO_JSON_STRING(PARSE_JSON(SAFE_CONVERT_BYTES_TO_STRING(FROM_BASE64('${base64}')))) AS j`,
      {},
      { tables: [] },
    );
    expect(canonicalJson(text)).toBe(result.rows[0][0].stringValue);
  });

  test.each([
    ['{"a":1,"a":2}', /duplicate object key "a"/],
    [
      `{${Array.from({ length: 30 }, (_, i) => `"k${i}":${i}`).join(",")},"k3":0}`,
      /duplicate object key "k3"/,
    ],
    ["123456789012345678901234567890", /outside the int64\/uint64 range/],
    ["-9223372036854775809", /outside the int64\/uint64 range/],
    ["9007199254740993.0", /cannot be stored exactly/],
    ["1.0000000000000001", /cannot be stored exactly/],
    ["1e400", /cannot be stored exactly/],
    ['{"broken": ', /invalid JSON/],
    ["[1,]", /invalid JSON/],
    ['"\\ud800"', /unpaired surrogate/],
    ["NaN", /invalid JSON/],
    ['"raw\ttab"', /raw control character/],
    ["01", /invalid JSON/],
    ["[-]", /invalid JSON/],
    ["[1.]", /invalid JSON/],
    ["[.5]", /invalid JSON/],
    ["[-01]", /invalid JSON/],
    // 16 significant digits: not a plain decimal, and this one is no double.
    ["99999999999999.99", /cannot be stored exactly/],
    ["9007199254740.993", /cannot be stored exactly/],
  ])("refuses %j", (text, message) => {
    expect(() => canonicalJson(text)).toThrow(JsonConversionError);
    expect(() => canonicalJson(text)).toThrow(message);
  });

  const duplicateOf = (key: string) =>
    `duplicate object key ${JSON.stringify(key)} (BigQuery's JSON type would keep only the first)`;
  const keys = (n: number) => Array.from({ length: n }, (_, i) => `"k${i}":${i}`).join(",");

  // The exact message, offset included, of every way the text can be refused.
  test.each([
    ["-", "invalid JSON at offset 0: bad number"],
    ["-a", "invalid JSON at offset 0: bad number"],
    ["1.", "invalid JSON at offset 1: unexpected text after the JSON value"],
    ["1e", "invalid JSON at offset 1: unexpected text after the JSON value"],
    ["01", "invalid JSON at offset 1: unexpected text after the JSON value"],
    ["[1.]", "invalid JSON at offset 3: expected ',' or ']'"],
    ["[1e]", "invalid JSON at offset 3: expected ',' or ']'"],
    ["[1e+]", "invalid JSON at offset 3: expected ',' or ']'"],
    ["[01]", "invalid JSON at offset 3: expected ',' or ']'"],
    ["[1.5e]", "invalid JSON at offset 5: expected ',' or ']'"],
    ["[1,2", "invalid JSON at offset 5: expected ',' or ']'"],
    ['{"a" 1}', "invalid JSON at offset 5: expected ':'"],
    ['{"a":1 "b":2}', "invalid JSON at offset 8: expected ',' or '}'"],
    ['{"a":1,}', "invalid JSON at offset 7: expected an object key"],
    ["{", "invalid JSON at offset 1: expected an object key"],
    ['{"a":[}', "invalid JSON at offset 6: expected a value"],
    ["[", "invalid JSON at offset 1: expected a value"],
    ["", "invalid JSON at offset 0: expected a value"],
    [" ", "invalid JSON at offset 1: expected a value"],
    ["tru", "invalid JSON at offset 0: expected a value"],
    ["[nul]", "invalid JSON at offset 1: expected a value"],
    ['{"b":1}x', "invalid JSON at offset 7: unexpected text after the JSON value"],
    ['["\\u12g4"]', "invalid JSON at offset 4: bad \\u escape"],
    ['"\\u12', "invalid JSON at offset 3: bad \\u escape"],
    ['"\\x"', "invalid JSON at offset 2: bad escape"],
    ['"\\', "invalid JSON at offset 2: bad escape"],
    ['"abc', "invalid JSON at offset 1: unterminated string"],
    ['["a\nb"]', "invalid JSON at offset 3: raw control character in a string"],
    ['"\\ud800"', "invalid JSON: a string holds an unpaired surrogate escape"],
    ['"\\udc00\\ud800"', "invalid JSON: a string holds an unpaired surrogate escape"],
    // A duplicate is found when its value is read, before a later error.
    ['{"a":1,"a":[}', "invalid JSON at offset 12: expected a value"],
    ['{"a":1,"a":2,"b":}', duplicateOf("a")],
    // The same key however it is escaped.
    ['{"A":1,"\\u0041":2}', duplicateOf("A")],
    ['{"\\"":1,"\\u0022":2}', duplicateOf('"')],
    ['{"\\u00e9":1,"é":2}', duplicateOf("é")],
    // Keys equal in their first two units, and keys that are only that long.
    ['{"ab":1,"abc":2,"ab":3}', duplicateOf("ab")],
    ['{"a":1,"b":2,"a":3}', duplicateOf("a")],
    ['{"":1,"":2}', duplicateOf("")],
    // Duplicates found by the scan (the 16th member) and by the set (the 17th on).
    [`{${keys(15)},"k3":0}`, duplicateOf("k3")],
    [`{${keys(16)},"k3":0}`, duplicateOf("k3")],
    [`{${keys(17)},"k16":0}`, duplicateOf("k16")],
  ])("refuses %j with its exact message", (text, message) => {
    let error: unknown;
    try {
      canonicalJson(text);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(JsonConversionError);
    expect((error as Error).message).toBe(message);
  });

  test("nesting: 500 levels print, 501 are refused at the first value past them", () => {
    const nested = (open: string, close: string, n: number) =>
      `${open.repeat(n)}1${close.repeat(n)}`;
    expect(canonicalJson(nested("[", "]", 500))).toBe(nested("[", "]", 500));
    expect(() => canonicalJson(nested("[", "]", 501))).toThrow(
      new JsonConversionError("invalid JSON at offset 501: nesting deeper than 500"),
    );
    expect(() => canonicalJson(nested('{"a":', "}", 501))).toThrow(
      "invalid JSON at offset 2505: nesting deeper than 500",
    );
  });

  test("text that is not UTF-8 (lone surrogates, never decoded from the source) prints as before", () => {
    // Raw lone surrogates stand as they are; as keys they sort as U+FFFD, as UTF-8 encodes them.
    expect(canonicalJson('"\ud800"')).toBe('"\ud800"');
    expect(canonicalJson('"\ud800\\n"')).toBe('"\ud800\\n"');
    expect(canonicalJson('"\ud83d\\ude00"')).toBe('"😀"');
    expect(canonicalJson('{"\udc00":1,"\ud800":2,"a":3}')).toBe('{"a":3,"\udc00":1,"\ud800":2}');
    expect(canonicalJson('{"\ud800":1,"\udc00":2}')).toBe('{"\ud800":1,"\udc00":2}');
    expect(canonicalJson('{"\uffff":1,"\ud800":2,"😀":3}')).toBe('{"\ud800":2,"\uffff":1,"😀":3}');
    expect(canonicalJson('{"\ufffe":1,"\ud800":2}')).toBe('{"\ud800":2,"\ufffe":1}');
    // The same UTF-8, different keys: they keep their order.
    expect(canonicalJson('{"\ufffd":1,"\ud800":2}')).toBe('{"\ufffd":1,"\ud800":2}');
    expect(canonicalJson('{"\ud800":1,"\ufffd":2}')).toBe('{"\ud800":1,"\ufffd":2}');
    expect(() => canonicalJson('{"\ud800":1,"\ud800":2}')).toThrow(duplicateOf("\ud800"));
    // Any \u escape in the string has all of it checked for unpaired surrogates.
    expect(() => canonicalJson('"\ud800\\u0041"')).toThrow("unpaired surrogate escape");
  });

  test("a value larger than the reused buffers, then small ones, print right", () => {
    const big = `{"z":"${"é".repeat(70_000)}","a":[${"1.5,".repeat(20_000)}2]}`;
    const printed = canonicalJson(big);
    expect(printed).toBe(`{"a":[${"1.5,".repeat(20_000)}2],"z":"${"é".repeat(70_000)}"}`);
    expect(canonicalJson('{"b": 1, "a": "€"}')).toBe('{"a":"€","b":1}');
    expect(() => canonicalJson(`[${"1,".repeat(100_000)}`)).toThrow(JsonConversionError);
    expect(canonicalJson('{"b": 1, "a": 2}')).toBe('{"a":2,"b":1}');
  });

  test("doubles follow nlohmann's format", () => {
    expect([1, 100, 1e15, 1e16, 0.0001, 1e-5, -2.5, 123456789012345.6].map(formatDouble)).toEqual([
      "1.0",
      "100.0",
      "1e+15",
      "1e+16",
      "0.0001",
      "1e-05",
      "-2.5",
      "123456789012345.6",
    ]);
  });
});
