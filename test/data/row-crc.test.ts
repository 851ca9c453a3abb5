/**
 * The inline verification's source side (`row-crc.ts`, `addRowHashes`): the source's CRC32 of
 * each row against the values as the tool decoded them, and the source's normal form derived by
 * the tool, held to what MariaDB's own SQL computes over the hostile fixture.
 */
import type { Connection } from "mysql2/promise";
import { addRowHashes, HashSum, mysqlChecksumSql } from "../../src/data/checksum";
import { convertRow } from "../../src/data/convert";
import {
  crc32Of,
  mysqlRowCrcSql,
  RowCrcCheck,
  SourceRowChangedError,
  sourceCrcPolynomial,
  type CrcPolynomial,
} from "../../src/data/row-crc";
import { connectSource, querySource, streamPage } from "../../src/data/source";
import { migrationTables, type MigrationTable } from "../../src/data/table-plan";
import { startMariaDb, type MariaDb } from "../support/mariadb";
import { describeWithBinaries } from "../support/servers";
import { loadLegacyFixture } from "./legacy-fixture";

/** The definition, bit by bit (no tables): reflected CRC-32 with the given generator. */
function bitwiseCrc(generator: number, bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of bytes) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ generator : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}

const GENERATORS: Record<CrcPolynomial, number> = {
  "iso-3309": 0xedb88320,
  castagnoli: 0x82f63b78,
};

describe("CRC32 under both polynomials", () => {
  test("the standard check values of '123456789'", () => {
    const check = Buffer.from("123456789");
    expect(crc32Of("iso-3309", check, check.length)).toBe(0xcbf43926);
    expect(crc32Of("castagnoli", check, check.length)).toBe(0xe3069283);
    expect(crc32Of("iso-3309", Buffer.alloc(0), 0)).toBe(0);
  });

  test("every length 0..300 (the 16- and 8-byte steps and the tail) equals the bitwise definition", () => {
    let seed = 7;
    const bytes = Buffer.alloc(301);
    for (let i = 0; i < bytes.length; i++) {
      seed = (seed * 1103515245 + 12345) >>> 0;
      bytes[i] = seed >>> 24;
    }
    for (const polynomial of ["iso-3309", "castagnoli"] as const) {
      for (let length = 0; length <= 300; length++) {
        // Bytes past `length` are there and must be ignored.
        expect(crc32Of(polynomial, bytes, length)).toBe(
          bitwiseCrc(GENERATORS[polynomial], bytes.subarray(0, length)),
        );
      }
    }
  });
});

describeWithBinaries(["mariadbd"])("the source's CRC of each row, on MariaDB", () => {
  let maria: MariaDb;
  let source: Connection;

  beforeAll(async () => {
    maria = await startMariaDb();
    await loadLegacyFixture(maria.url("mysql"), "crc", 40);
    source = await connectSource(maria.url("crc"));
  });

  afterAll(async () => {
    await source?.end();
    await maria?.stop();
  });

  /** Every raw row of `table` as the copy reads it, with the source's CRC after the columns. */
  async function rawRows(table: MigrationTable): Promise<(string | null)[][]> {
    const rows: (string | null)[][] = [];
    await streamPage(source, table, undefined, 1_000_000, undefined, [mysqlRowCrcSql(table)], (r) =>
      rows.push([...r]),
    );
    return rows;
  }

  test("MariaDB computes CRC32 with the ISO 3309 polynomial", async () => {
    expect(await sourceCrcPolynomial(source)).toBe("iso-3309");
  });

  test("every row of every fixture table (hostile strings, unicode, NULLs, JSON) passes", async () => {
    for (const table of migrationTables()) {
      const check = new RowCrcCheck(table, "iso-3309", table.columns.length);
      const rows = await rawRows(table);
      expect(rows.length).toBeGreaterThan(0);
      for (const raw of rows) expect(check.check(raw)).toBe(true);
    }
  });

  test("a value altered after the source, or a NULL read as '', fails its row on one line", async () => {
    const sessions = migrationTables().find((t) => t.name === "sessions")!;
    const check = new RowCrcCheck(sessions, "iso-3309", sessions.columns.length);
    const rows = await rawRows(sessions);
    const agent = sessions.columns.findIndex((c) => c.name === "user_agent");
    const withAgent = rows.find((r) => r[agent] !== null && r[agent]!.length > 0)!;
    const altered = [...withAgent];
    altered[agent] = `${altered[agent]!.slice(0, -1)}?`;
    expect(() => check.check(altered)).toThrow(SourceRowChangedError);
    expect(() => check.check(altered)).toThrow(
      new RegExp(
        `^sessions: row id=${withAgent[0]} arrived different from what the source holds \\(its CRC32 is ${withAgent[sessions.columns.length]} at the source, \\d+ as read\\): ` +
          "the connection's character set or the decoding alters values, or a column is not in utf8mb4; nothing of its key range was written$",
      ),
    );
    // No CRC from the source (a row beyond its max_allowed_packet): not checked, and said so.
    const noCrc = [...withAgent];
    noCrc[sessions.columns.length] = null;
    expect(check.check(noCrc)).toBe(false);
    expect(check.check(withAgent)).toBe(true);
    const withNull = rows.find((r) => r[agent] === null)!;
    const emptied = [...withNull];
    emptied[agent] = "";
    expect(() => check.check(emptied)).toThrow(SourceRowChangedError);
  });

  test("the source's normal form derived from the raw values hashes to MariaDB's own checksum", async () => {
    for (const table of migrationTables()) {
      const derived = new HashSum();
      const rows = await rawRows(table);
      for (const raw of rows) {
        addRowHashes(derived, undefined, table.columns, raw, convertRow(table.columns, raw));
      }
      const [sql] = (await querySource(source, {
        sql: mysqlChecksumSql(table, {}, []),
        rowsAsArray: true,
      })) as [string | number, string][];
      expect({ table: table.name, rows: rows.length, sum: derived.total().toString() }).toEqual({
        table: table.name,
        rows: Number(sql[0]),
        sum: sql[1],
      });
    }
  });

  test("where the conversion changes a value, each side hashes its own text", async () => {
    const sessions = migrationTables().find((t) => t.name === "sessions")!;
    const [raw] = await rawRows(sessions);
    const converted = convertRow(sessions.columns, raw);
    const agent = sessions.columns.findIndex((c) => c.name === "user_agent");
    const changed = [...converted];
    changed[agent] = `${changed[agent] ?? ""}x`;
    const [sourceOnce, targetOnce, sourceChanged, targetChanged] = [0, 1, 2, 3].map(
      () => new HashSum(),
    );
    addRowHashes(sourceOnce, targetOnce, sessions.columns, raw, converted);
    addRowHashes(sourceChanged, targetChanged, sessions.columns, raw, changed);
    expect(targetOnce.total()).toBe(sourceOnce.total());
    expect(sourceChanged.total()).toBe(sourceOnce.total());
    expect(targetChanged.total()).not.toBe(sourceOnce.total());
  });
});
