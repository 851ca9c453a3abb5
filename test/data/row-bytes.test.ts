/**
 * The byte writers of the analytics path: NDJSON lines written straight into a page's chunks
 * (`appendNdjsonLine`), and the checksum's row text written as UTF-8 into a scratch buffer and
 * hashed from there (`addRowTextHash`, `addJsonPartHashes`). Both are held to plain reference
 * definitions: JSON.stringify and Buffer.from for the lines, MD5 of the normal-form text (built as a
 * string, as `checksum.ts` defines it) for the hashes.
 */
import { createHash } from "node:crypto";
import { addJsonPartHashes, addRowTextHash, HashSum, rowHash } from "../../src/data/checksum";
import { PageBuffer, writeUtf8 } from "../../src/data/page-buffer";
import { appendNdjsonLine, encodeNdjsonLine } from "../../src/data/row-encoding";
import { migrationTables, type MigrationColumn } from "../../src/data/table-plan";

const col = (name: string, kind: MigrationColumn["value"]["kind"]): MigrationColumn =>
  ({
    name,
    legacy: { column: name },
    value:
      kind === "enum"
        ? { kind, values: ["a"] }
        : kind === "decimal"
          ? { kind, scale: 2 }
          : { kind },
    notNull: false,
  }) as unknown as MigrationColumn;

/** One column of every value kind, the JSON one in the middle (it is written last). */
const columns: MigrationColumn[] = [
  col("id", "integer"),
  col("s", "string"),
  col("j", "json"),
  col("e", "enum"),
  col("d", "decimal"),
  col("ts", "datetime"),
  col("day", "date"),
  col("ok", "boolean"),
];

/**
 * The line by definition: members in order (JSON last), strings as JSON.stringify writes them; a
 * NULL left out, unless its column is REQUIRED or has a default of BigQuery's.
 */
function referenceLine(
  row: readonly (string | null)[],
  table: readonly MigrationColumn[] = columns,
): string {
  const members: string[] = [];
  const json: string[] = [];
  table.forEach((c, i) => {
    const v = row[i];
    const key = JSON.stringify(c.name);
    if (v === null && !c.notNull && c.targetDefault !== true) return;
    if (v === null) (c.value.kind === "json" ? json : members).push(`${key}:null`);
    else if (c.value.kind === "json") json.push(`${key}:${v}`);
    else if (c.value.kind === "boolean") members.push(`${key}:${v === "1"}`);
    else if (c.value.kind === "datetime")
      members.push(`${key}:${JSON.stringify(`${v.slice(0, 10)}T${v.slice(11)}Z`)}`);
    else members.push(`${key}:${JSON.stringify(v)}`);
  });
  return `{${[...members, ...json].join(",")}}\n`;
}

const codePoints = (s: string) => [...s].length;
const part = (v: string | null) => (v === null ? "N" : `${codePoints(v)}:${v}`);
const hash60 = (text: string) =>
  BigInt(`0x${createHash("md5").update(text, "utf8").digest("hex").slice(0, 15)}`);

/** `checksum.ts`'s definition, as strings: the row text hash plus each key-bound JSON part. */
function referenceRowHash(row: readonly (string | null)[]): bigint {
  let text = "";
  let sum = 0n;
  columns.forEach((c, i) => {
    if (c.value.kind === "json") sum += hash60(`${row[0]}#${i}#${part(row[i])}`);
    else text += part(row[i]);
  });
  return sum + hash60(text);
}

const TRICKY_STRINGS = [
  "",
  "plain",
  "N",
  "\\N",
  "null",
  'q"uote',
  "back\\slash",
  '\\"',
  "tab\tcr\rlf\n",
  "\b\f",
  "\u0000",
  "a\u0000b",
  "\u0001\u001f\u007f\u0080",
  "é",
  "€",
  "😀",
  "a😀b😀",
  "𝄞 mixed é € 😀 \u2028\u2029",
  "\uffff\ue000",
  "x".repeat(5000),
  // Long enough for the native encoder, with and without escapes.
  "https://example.com/p?id=123456&q=é😀€",
  'a long value, "quoted", with \\ backslash, \t tab, \u0000 NUL and 😀 astral',
  "no escapes but more than twenty-four characters 😀😀😀 é",
  "😀".repeat(3000),
];

describe("NDJSON lines written as bytes", () => {
  test("exact bytes for every value kind and NULL", () => {
    const row = [
      "-9223372036854775808",
      'a "b" \\ c\n\u0000',
      '{"a":[1,2.5,"\\u0000"],"b":"é"}',
      "a",
      "-0.01",
      "2024-02-29 23:59:59.999999",
      "2024-02-29",
      "1",
    ];
    expect(encodeNdjsonLine(columns, row)).toBe(
      '{"id":"-9223372036854775808","s":"a \\"b\\" \\\\ c\\n\\u0000","e":"a","d":"-0.01",' +
        '"ts":"2024-02-29T23:59:59.999999Z","day":"2024-02-29","ok":true,' +
        '"j":{"a":[1,2.5,"\\u0000"],"b":"é"}}\n',
    );
    // A NULL is left out (BigQuery reads a missing NULLABLE field as NULL), the first member too;
    // written where the column has a default of its own (which a missing field would get).
    const nulls = columns.map(() => null);
    expect(encodeNdjsonLine(columns, nulls)).toBe("{}\n");
    expect(encodeNdjsonLine(columns, [null, "x", null, null, null, null, null, "0"])).toBe(
      '{"s":"x","ok":false}\n',
    );
    const defaulted = columns.map((c) => ({ ...c, targetDefault: true }));
    expect(encodeNdjsonLine(defaulted, nulls)).toBe(
      '{"id":null,"s":null,"e":null,"d":null,"ts":null,"day":null,"ok":null,"j":null}\n',
    );
    const mixed = columns.map((c, i) => (i % 2 === 0 ? { ...c, targetDefault: true } : c));
    expect(encodeNdjsonLine(mixed, nulls)).toBe('{"id":null,"d":null,"day":null,"j":null}\n');
    expect(encodeNdjsonLine(mixed, nulls)).toBe(referenceLine(nulls, mixed));
    const empty = ["0", "", "[]", "a", "0.00", "0001-01-01 00:00:00.000000", "9999-12-31", "0"];
    expect(encodeNdjsonLine(columns, empty)).toBe(
      '{"id":"0","s":"","e":"a","d":"0.00","ts":"0001-01-01T00:00:00.000000Z",' +
        '"day":"9999-12-31","ok":false,"j":[]}\n',
    );
  });

  test("strings are exactly JSON.stringify's, as UTF-8, for quotes, controls, U+0000, astral", () => {
    for (const s of TRICKY_STRINGS) {
      const row = ["1", s, null, null, null, null, null, null];
      expect(encodeNdjsonLine(columns, row)).toBe(referenceLine(row));
      // Every control character by its escape.
      for (let c = 0; c < 0x20; c++) {
        const controls = ["1", `x${String.fromCharCode(c)}y`, null, null, null, null, null, null];
        expect(encodeNdjsonLine(columns, controls)).toBe(referenceLine(controls));
      }
    }
  });

  test("a page holds exactly the UTF-8 of the lines, across chunks and for a line larger than one", () => {
    const page = new PageBuffer();
    const expected: string[] = [];
    const add = (row: (string | null)[]) => {
      appendNdjsonLine(columns, row, page);
      expected.push(referenceLine(row));
    };
    for (let i = 0; i < 20_000; i++) {
      const s = TRICKY_STRINGS[i % TRICKY_STRINGS.length];
      const j = i % 3 === 0 ? null : `{"n":${i},"s":${JSON.stringify(s.slice(0, 50))}}`;
      add([
        String(i),
        i % 7 === 0 ? null : s,
        j,
        "a",
        "1.25",
        "2023-01-01 00:00:00.000001",
        null,
        String(i % 2),
      ]);
    }
    // 2 MB of two-byte characters: more than a chunk.
    add(["1", "ü".repeat(1_000_000), null, null, null, null, null, null]);
    add(["2", "last", null, null, null, null, null, null]);
    expect(page.lines).toBe(expected.length);
    expect(page.chunks().length).toBeGreaterThan(2);
    expect(Buffer.concat(page.chunks()).equals(Buffer.from(expected.join(""), "utf8"))).toBe(true);
    page.release();
  });

  test("reserve and commit: a commit beyond the reserved buffer is refused", () => {
    const page = new PageBuffer();
    const buffer = page.reserve(10);
    expect(() => page.commit(buffer.length + 1)).toThrow("without a matching reserve");
    buffer.write("abc\n", page.offset);
    page.commit(page.offset + 4);
    expect(Buffer.concat(page.chunks()).toString()).toBe("abc\n");
    page.release();
    expect(() => page.reserve(1)).toThrow("PageBuffer used after release");
  });

  // Strings are written four units at a time while all four are plain ASCII, else unit by unit;
  // from 96 units on, one without escapes is written by the native encoder.
  const SPECIALS = ['"', "\\", "\n", "\u0000", "\u001f", "\u007f", "é", "€", "\uffff", "😀"];

  test("strings of every length up to 13 with a special unit at every position", () => {
    for (let n = 0; n <= 13; n++) {
      for (let at = 0; at < n; at++) {
        for (const special of SPECIALS) {
          const s = `${"a".repeat(at)}${special}${"b".repeat(Math.max(0, n - at - 1))}`;
          const row = ["1", s, null, null, null, null, null, null];
          expect(encodeNdjsonLine(columns, row)).toBe(referenceLine(row));
        }
      }
    }
  });

  test("strings around the native encoder's length, with and without escapes", () => {
    for (const n of [94, 95, 96, 97, 128, 4096]) {
      for (const s of [
        "x".repeat(n),
        `${"é".repeat(n - 2)}😀`,
        `${"x".repeat(n - 1)}"`,
        `\t${"x".repeat(n - 1)}`,
        "😀".repeat(Math.floor(n / 2)),
      ]) {
        const row = ["1", s, `"${s.replace(/["\\\t]/g, "")}"`, null, null, null, null, null];
        expect(encodeNdjsonLine(columns, row)).toBe(referenceLine(row));
      }
    }
  });

  test("a surrogate pair across a group of four is written whole; a lone one as U+FFFD", () => {
    for (let at = 0; at < 10; at++) {
      const pair = `${"a".repeat(at)}😀${"b".repeat(9 - at)}`;
      const row = ["1", pair, null, null, null, null, null, null];
      expect(encodeNdjsonLine(columns, row)).toBe(referenceLine(row));
      for (const lone of ["\ud83d", "\ude00", "\ud83d\ud83d", "\ude00\ud83d"]) {
        const s = `${"a".repeat(at)}${lone}${"b".repeat(9 - at)}`;
        const line = encodeNdjsonLine(columns, ["1", s, null, null, null, null, null, null]);
        expect(line).toBe(`{"id":"1","s":"${s.replace(/[\ud800-\udfff]/g, "\ufffd")}"}\n`);
        // Long enough for the native encoder, which writes them the same.
        const long = `${s}${"c".repeat(100)}`;
        expect(encodeNdjsonLine(columns, ["1", long, null, null, null, null, null, null])).toBe(
          `{"id":"1","s":"${long.replace(/[\ud800-\udfff]/g, "\ufffd")}"}\n`,
        );
      }
    }
  });

  test("numbers of every length, datetimes, booleans (anything but 1 is false)", () => {
    for (let n = 1; n <= 30; n++) {
      const digits = "1234567890".repeat(3).slice(0, n);
      const row = [digits, null, null, null, `-${digits}.5`, null, null, null];
      expect(encodeNdjsonLine(columns, row)).toBe(referenceLine(row));
    }
    for (const ok of ["1", "0"]) {
      const row = ["1", null, null, null, null, "1999-12-31 23:59:59.000001", "1999-12-31", ok];
      expect(encodeNdjsonLine(columns, row)).toBe(referenceLine(row));
    }
    expect(encodeNdjsonLine(columns, ["1", null, null, null, null, null, null, "2"])).toBe(
      '{"id":"1","ok":false}\n',
    );
    // The conversion lets only digits, '-', '.' and ':' through: anything else is written as UTF-8
    // as it stands (unescaped).
    for (const odd of ["é", "12é4", "1234é678", "😀", "123😀", "1\ud800", 'ab"d']) {
      const text = Buffer.from(odd, "utf8").toString("utf8"); // a lone surrogate as U+FFFD
      const row = [odd, null, null, null, odd, `2024-01-01 ${odd.padEnd(15, "0")}`, odd, null];
      expect(encodeNdjsonLine(columns, row)).toBe(
        `{"id":"${text}","d":"${text}","ts":"2024-01-01T${text.padEnd(15, "0")}Z",` +
          `"day":"${text}"}\n`,
      );
    }
  });

  test("keys of every length and kind, the line's end right at its buffer's end", () => {
    // Keys are written four bytes a store (padding past the key, which the value overwrites); a
    // one-column line whose value is empty ends just where the reserved buffer does.
    for (let n = 1; n <= 9; n++) {
      for (const kind of ["integer", "string", "json", "boolean", "datetime"] as const) {
        const name = Array.from("ké😀".repeat(3)).slice(0, n).join("");
        const table = [col(name, kind)];
        for (const v of [null, "", "1", "2024-01-01 00:00:00.000000"]) {
          const expected =
            v === null
              ? "null"
              : kind === "json"
                ? v
                : kind === "boolean"
                  ? String(v === "1")
                  : kind === "datetime" && v.length > 10
                    ? JSON.stringify(`${v.slice(0, 10)}T${v.slice(11)}Z`)
                    : JSON.stringify(v);
          if (kind === "datetime" && v !== null && v.length < 26) continue;
          // A NULL is written only where the column's default would otherwise fill it.
          const written = [{ ...table[0], targetDefault: true }];
          expect(encodeNdjsonLine(written, [v])).toBe(`{${JSON.stringify(name)}:${expected}}\n`);
          expect(encodeNdjsonLine(table, [v])).toBe(
            v === null ? "{}\n" : `{${JSON.stringify(name)}:${expected}}\n`,
          );
        }
      }
    }
  });

  test("lines appended to pages in turn, and encoded between, are each right", () => {
    const pages = [new PageBuffer(), new PageBuffer()];
    const expected: string[][] = [[], []];
    for (let i = 0; i < 3000; i++) {
      const s = TRICKY_STRINGS[i % TRICKY_STRINGS.length].slice(0, 200);
      const row = [
        String(i),
        s,
        `{"i":${i}}`,
        "a",
        "1.25",
        "2023-01-01 00:00:00.000001",
        null,
        "1",
      ];
      appendNdjsonLine(columns, row, pages[i % 2]);
      expected[i % 2].push(referenceLine(row));
      if (i % 7 === 0) expect(encodeNdjsonLine(columns, row)).toBe(referenceLine(row));
    }
    pages.forEach((page, k) => {
      const bytes = Buffer.concat(page.chunks());
      expect(bytes.equals(Buffer.from(expected[k].join(""), "utf8"))).toBe(true);
      page.release();
    });
  });

  test("writeUtf8 writes what Buffer.write does, lone surrogates as U+FFFD", () => {
    const b = Buffer.alloc(64);
    for (const s of ["é€😀", "a\ud800b", "\udc00", "x\ud83d", "\ud83d\ude00\ud83d"]) {
      const end = writeUtf8(s, b, 3);
      expect(b.subarray(3, end).equals(Buffer.from(s, "utf8"))).toBe(true);
    }
  });
});

describe("checksum row text written as bytes", () => {
  test("equals the definition for tricky values: NULL vs '', astral lengths, U+0000, long values", () => {
    // A lone surrogate (never decoded from UTF-8, but defined: U+FFFD, one code point).
    const values = [...TRICKY_STRINGS, null, "lone \ud800 surrogate in a long value ..", "\udc00"];
    for (const s of values) {
      for (const j of [null, "[]", '{"a":"😀"}', `"${"é".repeat(40)}"`]) {
        const row = ["42", s, j, "a", "1.00", "2024-01-01 00:00:00.000000", "2024-01-01", "0"];
        expect(rowHash(columns, 0, row)).toBe(referenceRowHash(row));
      }
    }
    // A value whose code point count has fewer digits than its UTF-16 length (10 vs 9).
    const shorter = ["1", "😀a", null, null, null, null, null, null];
    expect(rowHash(columns, 0, shorter)).toBe(referenceRowHash(shorter));
    const nine = ["1", `${"😀".repeat(1)}${"a".repeat(8)}`, null, null, null, null, null, null];
    expect(rowHash(columns, 0, nine)).toBe(referenceRowHash(nine));
    const hundred = ["1", `${"😀".repeat(5)}${"a".repeat(95)}`, null, null, null, null, null, null];
    expect(rowHash(columns, 0, hundred)).toBe(referenceRowHash(hundred));
  });

  test("a large row grows the scratch buffer, and later rows hash right again", () => {
    const big = [
      "7",
      "€".repeat(100_000),
      `"${"😀".repeat(50_000)}"`,
      null,
      null,
      null,
      null,
      null,
    ];
    const small = ["8", "x", null, null, null, null, null, null];
    expect(rowHash(columns, 0, small)).toBe(referenceRowHash(small));
    expect(rowHash(columns, 0, big)).toBe(referenceRowHash(big));
    expect(rowHash(columns, 0, small)).toBe(referenceRowHash(small));
  });

  test("the events table's rows, summed, equal the definition", () => {
    const events = migrationTables().find((t) => t.name === "events")!;
    const sum = new HashSum();
    let expected = 0n;
    for (let i = 0; i < 500; i++) {
      const row = events.columns.map((c, k) => {
        if (k === 0) return String(i);
        if (i % (k + 2) === 0) return null;
        switch (c.value.kind) {
          case "datetime":
            return "2023-05-06 07:08:09.123456";
          case "decimal":
            return `${i}.000001`;
          case "json":
            return `{"i":${i},"s":"é😀"}`;
          default:
            return TRICKY_STRINGS[(i + k) % TRICKY_STRINGS.length].slice(0, 64);
        }
      });
      addRowTextHash(sum, events.columns, row);
      addJsonPartHashes(sum, events.columns, 0, row);
      let text = "";
      events.columns.forEach((c, k) => {
        if (c.value.kind === "json") expected += hash60(`${row[0]}#${k}#${part(row[k])}`);
        else text += part(row[k]);
      });
      expected += hash60(text);
    }
    expect(sum.total()).toBe(expected);
  });
});
