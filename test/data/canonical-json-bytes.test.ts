/**
 * The byte path prints what the text path prints, as UTF-8, or declines: never anything else. The
 * text path is held to ZetaSQL (test/data/canonical-json.test.ts); this holds the byte path to
 * the text path over the shared corpus, generated JSON and mutations of it, and checks that the
 * byte path takes what it is for (MariaDB's JSON_OBJECT text) rather than declining everything.
 */
import { canonicalJson, JsonConversionError } from "../../src/data/canonical-json";
import { canonicalJsonBytes, DECLINED } from "../../src/data/canonical-json-bytes";
import { mulberry32 } from "../support/random";
import { ACCEPTED } from "./json-corpus";

/** The text path's verdict on the bytes, as the copy's fast path takes it: its UTF-8, or none. */
function textPath(bytes: Buffer): Buffer | undefined {
  if (!bytes.equals(Buffer.from(bytes.toString("utf8"), "utf8"))) return undefined; // not UTF-8
  try {
    const canonical = canonicalJson(bytes.toString("utf8"));
    return canonical === "null" ? undefined : Buffer.from(canonical, "utf8");
  } catch (error) {
    if (error instanceof JsonConversionError) return undefined;
    throw error;
  }
}

/**
 * The byte path on `bytes` set in the middle of a larger buffer (bytes around it that it must not
 * read), into an output buffer with exactly the room it is promised past a prefix it must keep.
 */
function bytePath(bytes: Buffer, before = "[[", after = '"]}'): Buffer | undefined {
  const framed = Buffer.concat([Buffer.from(before), bytes, Buffer.from(after)]);
  const out = Buffer.alloc(3 + bytes.length, 0xee);
  out.write("abc");
  const end = canonicalJsonBytes(framed, before.length, before.length + bytes.length, out, 3);
  expect(out.toString("latin1", 0, 3)).toBe("abc");
  return end === DECLINED ? undefined : out.subarray(3, end);
}

/** Asserts the byte path's agreement with the text path; returns whether it took the value. */
function expectAgreement(bytes: Buffer): boolean {
  const printed = bytePath(bytes);
  if (printed === undefined) return false;
  const expected = textPath(bytes);
  expect({ input: bytes.toString("latin1"), printed: printed.toString("latin1") }).toEqual({
    input: bytes.toString("latin1"),
    printed: expected?.toString("latin1"),
  });
  return true;
}

describe("canonicalJsonBytes", () => {
  test.each([
    // MariaDB's JSON_OBJECT text, as the benchmark's and production's JSON columns hold it.
    [
      '{"path": "/p/12", "n": 5, "label": "café \\"😀\\"", "items": [2, 2.5]}',
      '{"items":[2,2.5],"label":"café \\"😀\\"","n":5,"path":"/p/12"}',
    ],
    ['{"cost_micros": 1000, "name": "Campaign 1"}', '{"cost_micros":1000,"name":"Campaign 1"}'],
    // Nested objects out of order, each put in order; arrays keep theirs.
    [
      '{"b":{"d":1,"c":[{"f":1,"e":{"h":null,"g":true}}]},"a":[{"z":1,"y":2}]}',
      '{"a":[{"y":2,"z":1}],"b":{"c":[{"e":{"g":true,"h":null},"f":1}],"d":1}}',
    ],
    // Keys in UTF-8 byte order (U+FFFD before U+1F600, which UTF-16 units would put first).
    [
      '{"😀":1,"\uFFFD":2,"é":3,"z":4,"":5,"a":6,"ab":7}',
      '{"":5,"a":6,"ab":7,"z":4,"é":3,"\uFFFD":2,"😀":1}',
    ],
    // The escapes kept as they are, and `\/` printed as the slash.
    ['["\\"\\\\\\b\\f\\n\\r\\t", "a\\/b"]', '["\\"\\\\\\b\\f\\n\\r\\t","a/b"]'],
    // Numbers printed as their text; -0 as 0.
    [
      "[0, -0, -7, 999999999999999999, 0.5, -12.345001, 0.0001234, 123456789012345]",
      "[0,0,-7,999999999999999999,0.5,-12.345001,0.0001234,123456789012345]",
    ],
    [" \t\r\n{ } ", "{}"],
    ["[ ]", "[]"],
    ["false", "false"],
    ['"top"', '"top"'],
  ])("prints %j as %j", (text, canonical) => {
    const bytes = Buffer.from(text, "utf8");
    expect(bytePath(bytes)?.toString("utf8")).toBe(canonical);
    expect(textPath(bytes)?.toString("utf8")).toBe(canonical);
  });

  test.each([
    ['"\\u0041"', "a \\u escape"],
    ['{"\\n":1}', "an escaped key"],
    ["1e2", "an exponent"],
    ["[2.50]", "a trailing zero in a fraction"],
    ["1000000000000000000", "an integer of 19 digits"],
    ["0.1234567890123456", "16 significant digits"],
    ["0.00001", "four zeros after the point"],
    ['{"a":1,"a":2}', "a duplicate key"],
    ['{"a":1,"b":2,"a":3}', "a duplicate key, not next to the first"],
    [`{${Array.from({ length: 33 }, (_, i) => `"k${i}":${i}`).join(",")}}`, "33 members"],
    [`${"[".repeat(65)}${"]".repeat(65)}`, "nesting deeper than 64"],
    ["null", "a top-level null"],
    ['"raw\ttab"', "a control character"],
    ["[1,]", "a syntax error"],
    ["01", "text after the value"],
    ["\uFEFF{}", "a byte order mark"],
  ])("declines %j (%s)", (text) => {
    expect(bytePath(Buffer.from(text, "utf8"))).toBeUndefined();
  });

  test("declines bytes that are not UTF-8, in a string or a key", () => {
    for (const bytes of [
      Buffer.from([0x22, 0xc3, 0x22]), // a cut sequence
      Buffer.from([0x22, 0xc0, 0xaf, 0x22]), // an overlong '/'
      Buffer.from([0x22, 0xed, 0xa0, 0x80, 0x22]), // a surrogate
      Buffer.from([0x22, 0xf4, 0x90, 0x80, 0x80, 0x22]), // past U+10FFFF
      Buffer.from([0x7b, 0x22, 0xff, 0x22, 0x3a, 0x31, 0x7d]), // {"\xff":1}
    ]) {
      expect(bytePath(bytes)).toBeUndefined();
      expect(textPath(bytes)).toBeUndefined();
    }
  });

  test("reads nothing past the value's end, whatever follows it", () => {
    // Each would be valid JSON if the byte after its end were read.
    for (const [text, after] of [
      ['{"a":1', "}"],
      ['"ab', '"'],
      ["[1,2", "]"],
      ["tru", "e"],
      ["-", "1"],
      ["1.", "5"],
      ['{"a"', ":1}"],
    ]) {
      const framed = Buffer.from(`${text}${after}`);
      const out = Buffer.alloc(framed.length);
      expect(canonicalJsonBytes(framed, 0, text.length, out, 0)).toBe(DECLINED);
      expect(canonicalJsonBytes(framed, 0, framed.length, out, 0)).not.toBe(DECLINED);
    }
  });

  test("agrees with the text path on every text of the shared corpus", () => {
    let taken = 0;
    for (const text of ACCEPTED) if (expectAgreement(Buffer.from(text, "utf8"))) taken++;
    // The ones without \u escapes, exponents, long decimals, escaped keys or more than 32 members.
    expect(taken).toBe(15);
  });

  const KEYS = ["a", "b", "ab", "", "é", "z", "Z", "😀", "\uFFFD", "中", "a b", "k1", "k10"];
  const STRINGS = [
    "x",
    "",
    "café",
    'q"uote',
    "back\\slash",
    "tab\t",
    "nl\n",
    "/",
    "😀",
    "\u007f",
    "\u2028",
  ];
  const NUMBERS = [
    "0",
    "-0",
    "7",
    "-12",
    "2.5",
    "0.001",
    "0.0001",
    "1e3",
    "1.50",
    "-0.5",
    "123456789012345678",
    "1234567890123456789",
    "0.1234567890123456",
  ];

  /** A random JSON value, written with JSON.stringify's escapes or \u ones, and random spaces. */
  function generate(random: () => number, depth: number): string {
    const pick = <T>(list: readonly T[]) => list[Math.floor(random() * list.length)];
    const space = () => pick(["", "", "", " ", "\n  ", "\t"]);
    const quote = (s: string) =>
      random() < 0.1
        ? `"${[...s].map((c) => (c.length === 1 ? `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}` : c)).join("")}"`
        : random() < 0.1
          ? JSON.stringify(s).replace(/\//g, "\\/")
          : JSON.stringify(s);
    const r = random();
    if (depth < 4 && r < 0.3) {
      const n = Math.floor(random() * 6);
      const members = Array.from(
        { length: n },
        () =>
          `${space()}${quote(pick(KEYS))}${space()}:${space()}${generate(random, depth + 1)}${space()}`,
      );
      return `{${members.join(",")}}`;
    }
    if (depth < 4 && r < 0.45) {
      const n = Math.floor(random() * 5);
      return `[${Array.from({ length: n }, () => `${space()}${generate(random, depth + 1)}${space()}`).join(",")}]`;
    }
    if (r < 0.7) return quote(pick(STRINGS));
    if (r < 0.95) return pick(NUMBERS);
    return pick(["true", "false", "null"]);
  }

  test("agrees with the text path on 20,000 generated values and 20,000 mutations of them", () => {
    const random = mulberry32(15);
    let taken = 0;
    let mutantsTaken = 0;
    for (let i = 0; i < 20_000; i++) {
      const bytes = Buffer.from(generate(random, 0), "utf8");
      if (expectAgreement(bytes)) taken++;
      // One byte replaced, dropped or doubled: mostly invalid, sometimes another valid value.
      const at = Math.floor(random() * bytes.length);
      const kind = random();
      const mutant =
        kind < 0.4
          ? Buffer.concat([
              bytes.subarray(0, at),
              Buffer.from([Math.floor(random() * 256)]),
              bytes.subarray(at + 1),
            ])
          : kind < 0.7
            ? Buffer.concat([bytes.subarray(0, at), bytes.subarray(at + 1)])
            : Buffer.concat([bytes.subarray(0, at + 1), bytes.subarray(at)]);
      if (expectAgreement(mutant)) mutantsTaken++;
    }
    // Most generated values are of the kinds the byte path is for, and some mutants stay valid
    // (the counts are those of this seed).
    expect(taken).toBe(12_362);
    expect(mutantsTaken).toBe(3_111);
  });
});
