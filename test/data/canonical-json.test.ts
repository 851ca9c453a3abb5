/**
 * `canonicalJson` must print exactly what BigQuery's TO_JSON_STRING prints for a JSON value, since
 * the source-side checksum of JSON columns depends on it: each case is compared with ZetaSQL (the
 * analyzer BigQuery is built on) evaluating `TO_JSON_STRING(PARSE_JSON(text))`.
 */
import { canonicalJson, formatDouble, JsonConversionError } from "../../src/data/canonical-json";
import { ZetaSql } from "../../src/zetasql/analyzer";

const ACCEPTED = [
  '{"b":1,"a":[1.0,2.50,1e2,-0,0.1,1.7976931348623157e308,5e-324]}',
  '{"q":"he said \\"hi\\"","u":"\\u00e9\\ud83d\\ude00","slash":"\\/","ctl":"\\u0001\\b\\f\\n\\r\\t"}',
  "[1e-5,1e16,1e15,123456789012345.6,0.0001,1.5e300,1e21,-2.5e-7,-0.0,1e17]",
  "[18446744073709551615,-9223372036854775808,9007199254740993,12345678901234567]",
  // Integers of up to 18 digits take a fast path (their own text); 19 digits and more do not.
  "[999999999999999999,-999999999999999999,1000000000000000000,-0,0,-7,10,100,2.5e0]",
  '{"é":1,"z":2,"Z":3,"😀":4,"\\uffff":5,"":6}',
  '  {\n "pretty" : [ 1 ,\n 2 ] , "x" : { } , "y" : [ ] }  ',
  '"a string \\u007f\\u00a0\\u2028"',
  "true",
  "0",
  "-1.25E+3",
  // Many keys (past the point where duplicate detection switches to a set), some non-ASCII.
  `{${Array.from({ length: 40 }, (_, i) => `"${i % 7 === 0 ? "é" : "k"}${39 - i}":${i}`).join(",")}}`,
];

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
  ])("refuses %j", (text, message) => {
    expect(() => canonicalJson(text)).toThrow(JsonConversionError);
    expect(() => canonicalJson(text)).toThrow(message);
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
