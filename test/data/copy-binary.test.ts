/**
 * COPY's binary format (`row-encoding.ts`), held to Postgres's own parsing of COPY text: the same
 * rows loaded both ways, from converted values and from wire bytes, must read back identically,
 * value for value, for the edges of every type (int64 beyond a double's integers, timestamps
 * around 2000-01-01 and at the ends of a DATETIME's range, numerics of every group width).
 */
import { Client } from "pg";
import { from as copyFrom } from "pg-copy-streams";
import { PageBuffer } from "../../src/data/page-buffer";
import { binaryCopyKinds } from "../../src/data/postgres-sink";
import {
  appendBinaryRow,
  COPY_BINARY_HEADER,
  COPY_BINARY_TRAILER,
  encodeCopyLine,
  writeWireBinaryRow,
} from "../../src/data/row-encoding";
import type { MigrationColumn, MigrationTable } from "../../src/data/table-plan";
import { startEmbeddedPostgres, type EmbeddedPostgres } from "../support/embedded-postgres";

const INT64 = { min: -(2n ** 63n), max: 2n ** 63n - 1n };
const col = (name: string, value: object, limits?: object): MigrationColumn =>
  ({ name, legacy: { column: name }, value, notNull: false, limits }) as unknown as MigrationColumn;

const columns: MigrationColumn[] = [
  col("id", { kind: "integer" }, { type: "bigint", ...INT64 }),
  col("small", { kind: "integer" }, { type: "smallint", min: -32768n, max: 32767n }),
  col("medium", { kind: "integer" }, { type: "integer", min: -(2n ** 31n), max: 2n ** 31n - 1n }),
  col("amount", { kind: "decimal", scale: 6 }),
  col("price", { kind: "decimal", scale: 2 }),
  col("label", { kind: "string" }),
  col("code", { kind: "string" }),
  col("tag", { kind: "string" }),
  col("mood", { kind: "enum", values: ["happy", "sad"] }),
  col("ok", { kind: "boolean" }),
  col("at", { kind: "datetime" }),
  col("local", { kind: "datetime" }),
  col("day", { kind: "date" }),
  col("doc", { kind: "json" }),
  col("raw", { kind: "json" }),
];
const DDL = `(id bigint PRIMARY KEY, small smallint, medium integer, amount numeric(24,6),
  price numeric(10,2), label text, code varchar(12), tag char(5), mood mood, ok boolean,
  at timestamptz, local timestamp, day date, doc jsonb, raw json)`;
const table = { name: "loaded", key: columns[0], columns } as unknown as MigrationTable;

/** Converted rows (`convert.ts`'s forms) over the edges of each type. */
const rows: (string | null)[][] = [
  ["0", "0", "0", "0.000000", "0.00", "", "", "", "happy", "0", "2000-01-01 00:00:00.000000"],
  [
    "1",
    "-1",
    "-1",
    "-0.000001",
    "-0.05",
    "tab\there",
    "new\nline",
    "ab",
    "sad",
    "1",
    "1999-12-31 23:59:59.999999",
  ],
  [
    "-9223372036854775808",
    "32767",
    "2147483647",
    "123456789012345678.123456",
    "99999999.99",
    "back\\slash \\N",
    "é😀",
    "abcde",
    null,
    "1",
    "1000-01-01 00:00:00.000000",
  ],
  [
    "9223372036854775807",
    "-32768",
    "-2147483648",
    "-1.500000",
    "12345678.90",
    "'quoted' \"twice\"",
    "x",
    "é",
    "happy",
    "0",
    "9999-12-31 23:59:59.999999",
  ],
  [
    "9007199254740993",
    "7",
    "-0042",
    "10000.000100",
    "0.10",
    "x".repeat(3000),
    "12 chars....",
    "z",
    "sad",
    null,
    "2024-02-29 12:34:56.000001",
  ],
  [
    "-9007199254740993",
    null,
    "1",
    "9999.999900",
    "1.00",
    "ü\u0001\u001f",
    null,
    null,
    "happy",
    "1",
    "1970-01-01 00:00:00.000000",
  ],
  [
    "2",
    "10",
    "100000",
    "0.500000",
    "-0.00",
    "plain",
    "c",
    "d",
    "sad",
    "0",
    "1900-03-01 00:00:00.500000",
  ],
  ["3", null, null, null, null, null, null, null, null, null, null],
  // Negative int64s whose halves carry, and times whose low word passes 2^32 as it is put together.
  ...(
    [
      ["-5", "2000-01-01 01:11:34.967296"],
      ["-4294967296", "2000-01-01 01:11:34.967295"],
      ["-4294967297", "1999-12-31 22:48:25.032704"],
      ["4294967296", "2000-01-01 00:00:00.999999"],
    ] as const
  ).map(([id, at]) => [id, ...Array<null>(9).fill(null), at]),
].map((r) => {
  const [id, ...rest] = r;
  const at = rest[9] ?? null;
  const local = at === null ? null : at.replace(/^2/, "1");
  const day = at === null ? null : at.slice(0, 10);
  const doc = at === null ? null : `{"id":${JSON.stringify(id)},"v":[1,2.5,"é"],"n":null}`;
  return [id, ...rest, local, day, doc, doc === null ? null : `{"raw": ${doc}}`];
});

describe("COPY binary format against Postgres's own text parsing", () => {
  let pg: EmbeddedPostgres;
  let client: Client;

  beforeAll(async () => {
    pg = await startEmbeddedPostgres();
    client = new Client({ connectionString: await pg.createDatabase("binary") });
    await client.connect();
    await client.query("SET TIME ZONE 'UTC'; SET DateStyle = 'ISO, YMD'");
    await client.query("CREATE TYPE mood AS ENUM ('happy', 'sad')");
    for (const name of ["loaded", "as_text", "from_wire"]) {
      await client.query(`CREATE TABLE ${name} ${DDL}`);
    }
  });

  afterAll(async () => {
    await client?.end();
    await pg?.stop();
  });

  async function copy(target: string, chunks: readonly Buffer[], binary: boolean): Promise<void> {
    const names = columns.map((c) => c.name).join(", ");
    const format = binary ? " (FORMAT binary)" : "";
    const stream = client.query(copyFrom(`COPY ${target} (${names}) FROM STDIN${format}`));
    const done = new Promise((resolve, reject) => {
      stream.on("finish", resolve);
      stream.on("error", reject);
    });
    for (const chunk of binary ? [COPY_BINARY_HEADER, ...chunks, COPY_BINARY_TRAILER] : chunks)
      stream.write(chunk);
    stream.end();
    await done;
  }

  /** Every row as Postgres prints it, in key order. */
  async function contents(name: string): Promise<string[]> {
    const result = await client.query({
      text: `SELECT * FROM ${name} ORDER BY id`,
      rowMode: "array",
      types: { getTypeParser: () => (v: string) => v },
    });
    return result.rows.map((r: unknown[]) => JSON.stringify(r));
  }

  test("the target's types give every column a binary kind; a narrower integer falls back to text", async () => {
    const kinds = await binaryCopyKinds(client, table);
    expect(kinds).toBeDefined();
    // schema/ lets a bigint's range through to what is here an integer: text, whose parsing
    // refuses what does not fit.
    const widened = columns.map((c, i) =>
      i === 2 ? col(c.name, { kind: "integer" }, { type: "bigint", ...INT64 }) : c,
    );
    expect(await binaryCopyKinds(client, { ...table, columns: widened })).toBeUndefined();
    const unknown = [...columns, col("extra", { kind: "string" })];
    expect(await binaryCopyKinds(client, { ...table, columns: unknown })).toBeUndefined();
  });

  test("converted rows and wire bytes load in binary exactly as COPY text loads them", async () => {
    const kinds = (await binaryCopyKinds(client, table))!;
    const text = new PageBuffer();
    const binary = new PageBuffer();
    const wire = new PageBuffer();
    const codePoints = new Int32Array(columns.length);
    const nuls = new Uint8Array(columns.length);
    for (const row of rows) {
      text.append(encodeCopyLine(columns, row));
      appendBinaryRow(columns, kinds, row, binary);
      // The same values as the protocol's bytes: one buffer, NULL where start is -1.
      const bytes = Buffer.from(row.map((v) => v ?? "").join(""), "utf8");
      const start = new Int32Array(columns.length);
      const end = new Int32Array(columns.length);
      let at = 0;
      row.forEach((v, i) => {
        const length = v === null ? 0 : Buffer.byteLength(v, "utf8");
        start[i] = v === null ? -1 : at;
        end[i] = at + length;
        at += length;
      });
      const lineEnd = writeWireBinaryRow(columns, kinds, bytes, start, end, codePoints, nuls, wire);
      expect(lineEnd).toBeGreaterThan(0);
      wire.commit(lineEnd);
    }
    await copy("as_text", text.chunks(), false);
    await copy("loaded", binary.chunks(), true);
    await copy("from_wire", wire.chunks(), true);
    const expected = await contents("as_text");
    expect(expected).toHaveLength(rows.length);
    expect(await contents("loaded")).toEqual(expected);
    expect(await contents("from_wire")).toEqual(expected);
    // And they are the values given: spot checks of the widest ones as Postgres prints them.
    expect(expected.join("\n")).toContain('"-9223372036854775808","32767","2147483647"');
    expect(expected.join("\n")).toContain('"9999-12-31 23:59:59.999999+00"');
    expect(expected.join("\n")).toContain('"123456789012345678.123456"');
  });

  test("a wire string that is not UTF-8 is left to the decoded path", () => {
    const kinds = new Uint8Array([1]);
    const one = [col("label", { kind: "string" })];
    const out = new PageBuffer();
    const bytes = Buffer.from([0x61, 0xc3]); // a cut two-byte sequence
    const result = writeWireBinaryRow(
      one,
      kinds,
      bytes,
      Int32Array.of(0),
      Int32Array.of(2),
      new Int32Array(1),
      new Uint8Array(1),
      out,
    );
    expect(result).toBe(-1);
  });
});
