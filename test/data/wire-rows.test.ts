/**
 * The load-file fast path (`wire-rows.ts`) against the decoded path it stands in for: for every row,
 * the same NDJSON bytes, the same inline sums, the same rejects and errors. On MariaDB over the
 * hostile fixture and rows a non-strict server lets in, and on rows made byte by byte for what a
 * server here cannot send (bytes that are not UTF-8, a ZEROFILL integer's digits).
 */
import type { Connection } from "mysql2/promise";
import { addJsonPartHashes, addRowHashes, HashSum } from "../../src/data/checksum";
import { convertRow, RejectedValue } from "../../src/data/convert";
import { PageBuffer } from "../../src/data/page-buffer";
import {
  crc32Of,
  mysqlRowCrcSql,
  RowCrcCheck,
  SourceRowChangedError,
} from "../../src/data/row-crc";
import { appendNdjsonLine, encodeCopyLine } from "../../src/data/row-encoding";
import { parentChecks } from "../../src/data/lane";
import { connectSource, streamPage, streamWirePage, type WireRow } from "../../src/data/source";
import { migrationTables, type MigrationTable } from "../../src/data/table-plan";
import { WireRowCopier } from "../../src/data/wire-rows";
import { startMariaDb, type MariaDb } from "../support/mariadb";
import { describeWithBinaries } from "../support/servers";
import { insertBadRows, loadLegacyFixture, openLegacy } from "./legacy-fixture";

const tableNamed = (name: string) => migrationTables().find((t) => t.name === name)!;

interface Copied {
  readonly lines: string;
  readonly sums: readonly string[];
  readonly rejects: readonly string[];
  /** Keys of the rows the fast path left to the decoded path. */
  readonly declined: readonly string[];
}

/** A page's outcome, as the lane keeps it. */
class Page {
  readonly out = new PageBuffer();
  readonly sums = { sourceSum: new HashSum(), targetSum: new HashSum(), jsonSum: new HashSum() };
  readonly rejects: string[] = [];
  readonly declined: string[] = [];

  result(): Copied {
    const lines = Buffer.concat(this.out.chunks()).toString("utf8");
    const { sourceSum, targetSum, jsonSum } = this.sums;
    return {
      lines,
      sums: [sourceSum.total(), targetSum.total(), jsonSum.total()].map(String),
      rejects: this.rejects,
      declined: this.declined,
    };
  }
}

type Parents = ReturnType<typeof parentChecks>;

/**
 * The decoded path, as `lane.ts` runs it on a row: CRC, conversion, foreign keys, line, hashes
 * (a Postgres table's source side only) or a reject.
 */
function decodedRow(
  table: MigrationTable,
  crc: RowCrcCheck,
  raw: (string | null)[],
  page: Page,
  parents: Parents = [],
) {
  crc.check(raw);
  const keyIndex = table.columns.indexOf(table.key);
  try {
    const row = convertRow(table.columns, raw);
    for (const parent of parents) parent.check(row, raw);
    if (table.target === "postgres") {
      page.out.append(encodeCopyLine(table.columns, row));
      addRowHashes(page.sums.sourceSum, undefined, table.columns, raw, row);
    } else {
      appendNdjsonLine(table.columns, row, page.out);
      addRowHashes(page.sums.sourceSum, page.sums.targetSum, table.columns, raw, row);
    }
    addJsonPartHashes(page.sums.jsonSum, table.columns, keyIndex, row);
  } catch (error) {
    if (!(error instanceof RejectedValue)) throw error;
    page.rejects.push(`${raw[keyIndex]} ${error.column}: ${error.reason}`);
  }
}

/** The wire path, as `lane.ts` runs it on a row: the copier, else the decoded path. */
function wireRow(
  table: MigrationTable,
  copier: WireRowCopier,
  crc: RowCrcCheck,
  row: WireRow,
  page: Page,
  parents: Parents = [],
) {
  const sums = table.target === "postgres" ? { ...page.sums, targetSum: undefined } : page.sums;
  if (copier.copy(row, page.out, sums)) return;
  const raw = row.decode();
  page.declined.push(raw[table.columns.indexOf(table.key)]!);
  decodedRow(table, crc, raw, page, parents);
}

const analyticsTables = migrationTables().filter((t) => t.target === "bigquery");

describeWithBinaries(["mariadbd"])("the wire path on MariaDB", () => {
  let maria: MariaDb;
  let source: Connection;

  beforeAll(async () => {
    maria = await startMariaDb();
    await loadLegacyFixture(maria.url("mysql"), "wire", 40);
    await insertBadRows(maria.url("mysql"), "wire");
    const db = await openLegacy(maria.url("mysql"), "wire");
    try {
      await db.query("SET SESSION sql_mode = '', SESSION check_constraint_checks = 0");
      await db.query(
        "INSERT INTO agent_runs (id, agent, run_id, started_at, ok, stats) VALUES " +
          "(1001, 'b', 'r', '2024-01-01 00:00:00', 2, '{}'), (1002, 'c', 'r', '2024-01-01 00:00:00', 1, 'null')",
      );
      // Fewer fractional digits on the wire, which both paths pad to six.
      await db.query("ALTER TABLE agent_runs MODIFY finished_at DATETIME(2)");
      // What Postgres cannot hold (a value longer than its column, a NUL), a session whose user
      // the source lacks, and one of a user whose row is rejected (`users` 1000, `insertBadRows`).
      await db.query("ALTER TABLE sessions MODIFY user_agent VARCHAR(300)");
      await db.query(
        "INSERT INTO sessions (id, user_id, session_token, expires_at, user_agent) VALUES " +
          "(5000, 1, REPEAT('a', 64), '2025-01-01 00:00:00', REPEAT('é', 256)), " +
          "(5001, 1, REPEAT('b', 64), '2025-01-01 00:00:00', CONCAT('nul', CHAR(0), 'here')), " +
          "(5002, 999999, REPEAT('c', 64), '2025-01-01 00:00:00', 'orphan'), " +
          "(5003, 1000, REPEAT('d', 64), '2025-01-01 00:00:00', 'child of a rejected user'), " +
          "(5004, 1, REPEAT('e', 64), '2025-01-01 00:00:00', REPEAT('é', 255))",
      );
    } finally {
      await db.end();
    }
    source = await connectSource(maria.url("wire"));
  });

  afterAll(async () => {
    await source?.end();
    await maria?.stop();
  });

  async function both(
    table: MigrationTable,
    knownRejects: ReadonlySet<string> = new Set(),
  ): Promise<{ decoded: Copied; wire: Copied }> {
    const crc = new RowCrcCheck(table, "iso-3309", table.columns.length);
    const parents = parentChecks(table, knownRejects, table.columns.length + 1);
    const extras = [mysqlRowCrcSql(table), ...parents.map((p) => p.existsSql)];
    const decoded = new Page();
    await streamPage(source, table, undefined, 1_000_000, undefined, extras, (raw) =>
      decodedRow(table, crc, raw, decoded, parents),
    );
    const wire = new Page();
    const copier = new WireRowCopier(
      table,
      crc,
      true,
      parents.map((p) => p.wire),
    );
    await streamWirePage(source, table, undefined, 1_000_000, undefined, extras, (row) =>
      wireRow(table, copier, crc, row, wire, parents),
    );
    return { decoded: decoded.result(), wire: wire.result() };
  }

  test.each(analyticsTables.map((t) => [t.name]))(
    "%s: the same lines, sums and rejects; only the rows to reject leave the fast path",
    async (name) => {
      const table = tableNamed(name);
      expect(WireRowCopier.supports(table)).toBe(true);
      const { decoded, wire } = await both(table);
      expect(wire.lines).toBe(decoded.lines);
      expect(wire.sums).toEqual(decoded.sums);
      expect(wire.rejects).toEqual(decoded.rejects);
      // The rows a non-strict server let in (`insertBadRows`, the rows above) are rejected; the
      // extreme BIGINTs of the fixture are accepted, by the decoded path, which checks the limit.
      const rejected: Record<string, string[]> = {
        events: ["1000"],
        touchpoints: ["1000"],
        agent_runs: ["1000", "1001", "1002"],
        ad_metrics: [],
        conversions: [],
      };
      expect(wire.rejects.map((r) => r.split(" ")[0])).toEqual(rejected[name]);
      expect(wire.declined).toEqual(name === "ad_metrics" ? ["100", "101"] : rejected[name]);
      expect(decoded.lines.split("\n").length).toBeGreaterThan(10);
    },
  );

  const authTables = migrationTables().filter((t) => t.target === "postgres");

  test.each(authTables.map((t) => [t.name]))(
    "%s: the same COPY lines, source sums and rejects; only the rows to reject leave the fast path",
    async (name) => {
      const table = tableNamed(name);
      expect(WireRowCopier.supports(table)).toBe(true);
      // `users` 1000 was rejected (its role), as the lane knows once `users` is copied.
      const { decoded, wire } = await both(table, new Set(["users\u00001000"]));
      expect(wire.lines).toBe(decoded.lines);
      expect(wire.sums).toEqual(decoded.sums);
      expect(wire.rejects).toEqual(decoded.rejects);
      const rejected: Record<string, string[]> = {
        users: ["1000 role: value is not one of 'admin', 'analyst', 'viewer'"],
        sessions: [
          "5000 user_agent: 256 characters do not fit character varying(255)",
          "5001 user_agent: contains a NUL character, which Postgres character varying(255) cannot hold",
          "5002 user_id: its users row id=999999 does not exist in the source",
          "5003 user_id: its users row id=1000 was rejected",
        ],
        magic_links: [],
        oauth_accounts: [],
        campaign_policies: [],
      };
      expect(wire.rejects).toEqual(rejected[name]);
      // Besides those, the fixture's INTEGER extreme (2147483647, ten digits) leaves the fast path
      // and is accepted by the decoded path, which checks its limit.
      const extremes: Record<string, string[]> = {
        campaign_policies: ["1", "3", "5", "7", "9"],
      };
      expect(wire.declined).toEqual([
        ...(extremes[name] ?? []),
        ...rejected[name].map((r) => r.split(" ")[0]),
      ]);
      expect(decoded.lines.split("\n").length).toBeGreaterThan(10);
    },
  );
});

/**
 * A wire row made from values (bytes as given; strings as UTF-8) as the text protocol lays out a
 * row packet: each value after its length-encoded length (one byte below 251, else 0xfc and two
 * bytes), a NULL as the one byte 0xfb. Decoded as mysql2 decodes UTF-8; the columns in `numeric`
 * as mysql2 reads a small integer type, through a number.
 */
function madeRow(
  values: readonly (string | Buffer | null)[],
  numeric: readonly number[] = [],
): WireRow {
  const parts = values.map((v) => (v === null ? null : typeof v === "string" ? Buffer.from(v) : v));
  const lengthOf = (n: number) =>
    n < 251 ? Buffer.of(n) : Buffer.of(0xfc, n & 0xff, (n >>> 8) & 0xff);
  const encoded = parts.map((p) =>
    p === null ? Buffer.of(0xfb) : Buffer.concat([lengthOf(p.length), p]),
  );
  const buffer = Buffer.concat([Buffer.from("pad"), ...encoded]);
  const start = new Int32Array(values.length);
  const end = new Int32Array(values.length);
  let at = 3;
  parts.forEach((p, i) => {
    if (p === null) {
      start[i] = end[i] = -1;
      at += 1;
      return;
    }
    at += lengthOf(p.length).length;
    start[i] = at;
    end[i] = at + p.length;
    at += p.length;
  });
  return {
    buffer,
    start,
    end,
    bytesAreText: true,
    numeric: Uint8Array.from(values, (_, i) => (numeric.includes(i) ? 1 : 0)),
    decode: () =>
      parts.map((p, i) =>
        p === null ? null : numeric.includes(i) ? String(Number(p)) : p.toString("utf8"),
      ),
  };
}

/** `values` of `table`'s columns, with the source's CRC of their bytes appended. */
function withCrc(
  values: readonly (string | Buffer | null)[],
  crc = true,
): (string | Buffer | null)[] {
  const present = values
    .filter((v): v is string | Buffer => v !== null)
    .map((v) => (typeof v === "string" ? Buffer.from(v) : v));
  const joined = Buffer.concat(present.flatMap((p, i) => (i === 0 ? [p] : [Buffer.of(0x1f), p])));
  return [...values, crc ? String(crc32Of("iso-3309", joined, joined.length)) : null];
}

describe("the wire path on rows made byte by byte", () => {
  const agentRuns = tableNamed("agent_runs");
  const adMetrics = tableNamed("ad_metrics");
  // agent_runs: id, agent, run_id, started_at, finished_at, ok, stats, watermark
  const run = (over: Partial<Record<string, string | Buffer | null>>) =>
    agentRuns.columns.map((c) =>
      c.name in over
        ? over[c.name]!
        : (
            {
              id: "7",
              agent: "agent",
              run_id: "r-1",
              started_at: "2024-02-29 23:59:59.123456",
              finished_at: null,
              ok: "1",
              stats: '{"b": 1, "a": [1.50, "x"]}',
              watermark: "w",
            } as Record<string, string | null>
          )[c.name],
    );
  // ad_metrics: id, platform, date, account_id, campaign_id, adgroup_id, ad_id, impressions,
  // clicks, conversions, spend, revenue, raw
  const metric = (over: Partial<Record<string, string | Buffer | null>>) =>
    adMetrics.columns.map((c) =>
      c.name in over
        ? over[c.name]!
        : (
            {
              id: "9",
              platform: "reddit",
              date: "2024-12-31",
              account_id: "acc",
              campaign_id: "cmp",
              adgroup_id: null,
              ad_id: "",
              impressions: "-12",
              clicks: "0",
              conversions: "123456789012345678",
              spend: "-0.500000",
              revenue: "00012.000000",
              raw: null,
            } as Record<string, string | null>
          )[c.name],
    );

  /** Both paths over one made row; whether the fast path took it. */
  function compare(
    table: MigrationTable,
    values: readonly (string | Buffer | null)[],
    crc = true,
    numeric: readonly number[] = [],
  ) {
    const check = new RowCrcCheck(table, "iso-3309", table.columns.length);
    const row = madeRow(withCrc(values, crc), numeric);
    const decoded = new Page();
    let decodedError: unknown;
    try {
      decodedRow(table, check, row.decode(), decoded);
    } catch (error) {
      decodedError = error;
    }
    const wire = new Page();
    let wireError: unknown;
    const packet = Buffer.from(row.buffer);
    try {
      wireRow(table, new WireRowCopier(table, check, true), check, row, wire);
    } catch (error) {
      wireError = error;
    }
    // The CRC borrows the length bytes as separators (`matchesWire`): the packet is as it came,
    // for mysql2 to decode the row again on the decoded path.
    expect(row.buffer.equals(packet)).toBe(true);
    expect(String(wireError)).toBe(String(decodedError));
    const [d, w] = [decoded.result(), wire.result()];
    expect(w.lines).toBe(d.lines);
    expect(w.sums).toEqual(d.sums);
    expect(w.rejects).toEqual(d.rejects);
    return { fast: w.declined.length === 0 && wireError === undefined, ...d, error: wireError };
  }

  test("values the decoded path passes unchanged take the fast path, with identical bytes and sums", () => {
    const accepted: [MigrationTable, (string | Buffer | null)[]][] = [
      [agentRuns, run({})],
      [agentRuns, run({ finished_at: "2024-01-01 00:00:00" })],
      [agentRuns, run({ finished_at: "2024-01-01 00:00:00.1" })],
      [agentRuns, run({ finished_at: "1999-12-31 12:30:00.12345" })],
      [agentRuns, run({ ok: "0", stats: null, watermark: null })],
      [agentRuns, run({ agent: 'q"uote\\ back\u0001\u001f\ttab\nnl é ß 中 😀 \u2028 \ufffd' })],
      [agentRuns, run({ stats: '{"s": "\\u00e9\\ud83d\\ude00 \ufffd", "n": 1e2}' })],
      [agentRuns, run({ watermark: "x".repeat(300), agent: "é".repeat(100) })],
      [adMetrics, metric({})],
      [adMetrics, metric({ platform: "x", impressions: "0", spend: "0.000000", raw: "[]" })],
    ];
    for (const [table, values] of accepted) {
      const result = compare(table, values);
      expect({ values, fast: result.fast, rejects: result.rejects }).toEqual({
        values,
        fast: true,
        rejects: [],
      });
    }
  });

  test("anything else takes the decoded path, which gives the same line, reject or error", () => {
    const declined: [MigrationTable, (string | Buffer | null)[], string?][] = [
      // Not UTF-8: an overlong NUL, a surrogate, a cut sequence, a byte no sequence starts with.
      [agentRuns, run({ watermark: Buffer.from([0x61, 0xc0, 0x80]) }), "arrived different"],
      [agentRuns, run({ agent: Buffer.from([0xed, 0xa0, 0x80]) }), "arrived different"],
      [agentRuns, run({ agent: Buffer.from([0x61, 0xe2, 0x82]) }), "arrived different"],
      [agentRuns, run({ agent: Buffer.from([0xf5, 0x80, 0x80, 0x80]) }), "arrived different"],
      [agentRuns, run({ stats: Buffer.from([0x22, 0xff, 0x22]) }), "arrived different"],
      // What the conversion rejects.
      [agentRuns, run({ started_at: null })],
      [agentRuns, run({ started_at: "2023-02-29 00:00:00" })],
      [agentRuns, run({ started_at: "2024-01-01 24:00:00" })],
      [agentRuns, run({ started_at: "2024-01-01 00:00:00." })],
      [agentRuns, run({ started_at: "2024-01-01 00:00:00.1234567" })],
      [agentRuns, run({ ok: "2" })],
      [agentRuns, run({ stats: "null" })],
      [agentRuns, run({ stats: '{"a": ' })],
      [adMetrics, metric({ platform: "" })],
      [adMetrics, metric({ platform: "Reddit" })],
      [adMetrics, metric({ date: "2024-13-01" })],
      [adMetrics, metric({ spend: "1.5" })],
      [adMetrics, metric({ spend: "1.5000000" })],
      [adMetrics, metric({ revenue: `${"9".repeat(30)}.000000` })],
      [adMetrics, metric({ clicks: "12a" })],
      [adMetrics, metric({ clicks: "9223372036854775808" })],
      // Accepted by the decoded path, yet not the fast path's to judge: digits it would have read
      // as a number (a ZEROFILL column, `-0`), a 19-digit integer its limit must check.
      [adMetrics, metric({ clicks: "0005" })],
      [adMetrics, metric({ clicks: "-0" })],
      [adMetrics, metric({ clicks: "+5" })],
      [adMetrics, metric({ clicks: "-9223372036854775808" })],
    ];
    for (const [table, values, error] of declined) {
      const result = compare(table, values);
      expect({ values, fast: result.fast }).toEqual({ values, fast: false });
      if (error) expect(String(result.error)).toContain(error);
    }
  });

  test("columns beyond schema/: a non-ASCII enum, a small integer type under any kind, a NUL limit on a load file", () => {
    // An enum holding a non-ASCII value: its checksum text counts code points, as for a string.
    const enumTable: MigrationTable = {
      ...adMetrics,
      columns: adMetrics.columns.map((c) =>
        c.name === "platform" ? { ...c, value: { kind: "enum", values: ["é", "x"] } } : c,
      ),
    };
    const withEnum = compare(enumTable, metric({ platform: "é" }));
    expect(withEnum.fast).toBe(true);
    expect(withEnum.lines).toContain('"platform":"é"');
    // A source column mysql2 reads as a number (ZEROFILL, YEAR) under a string or decimal kind:
    // its text is the number's digits, so only canonical digits stay on the fast path.
    const agentAt = agentRuns.columns.findIndex((c) => c.name === "watermark");
    expect(compare(agentRuns, run({ watermark: "007" }), true, [agentAt]).fast).toBe(false);
    expect(compare(agentRuns, run({ watermark: "7" }), true, [agentAt]).fast).toBe(true);
    const spendAt = adMetrics.columns.findIndex((c) => c.name === "spend");
    const scaleZero: MigrationTable = {
      ...adMetrics,
      columns: adMetrics.columns.map((c) =>
        c.name === "spend" ? { ...c, value: { kind: "decimal", scale: 0 }, limits: undefined } : c,
      ),
    };
    expect(compare(scaleZero, metric({ spend: "00042" }), true, [spendAt]).fast).toBe(false);
    expect(compare(scaleZero, metric({ spend: "42" }), true, [spendAt]).fast).toBe(true);
    // A load-file string with a NUL limit: the decoded path rejects it, the fast path declines.
    const noNul: MigrationTable = {
      ...agentRuns,
      columns: agentRuns.columns.map((c) =>
        c.name === "agent" ? { ...c, limits: { type: "STRING without NUL", noNul: true } } : c,
      ),
    };
    const nul = compare(noNul, run({ agent: "a\u0000b" }));
    expect({ fast: nul.fast, rejects: nul.rejects }).toEqual({
      fast: false,
      rejects: ["7 agent: contains a NUL character, which Postgres STRING without NUL cannot hold"],
    });
    expect(compare(noNul, run({ agent: "ab" })).fast).toBe(true);
  });

  test("COPY lines: escapes, limits and NULs as the decoded path has them", () => {
    const sessions = tableNamed("sessions");
    // sessions: id, user_id, session_token, created_at, expires_at, user_agent, ip
    const session = (over: Partial<Record<string, string | Buffer | null>>) =>
      sessions.columns.map((c) =>
        c.name in over
          ? over[c.name]!
          : (
              {
                id: "3",
                user_id: "1",
                session_token: "t".repeat(64),
                created_at: null,
                expires_at: "2025-06-30 12:00:00.5",
                user_agent: "back\\slash\ttab\nLF\rCR \u0001 \\N é 😀",
                ip: "",
              } as Record<string, string | null>
            )[c.name],
      );
    const parents = parentChecks(sessions, new Set(), sessions.columns.length + 1);
    const exists = (values: (string | Buffer | null)[]) => [...withCrc(values), "1"];
    const run = (values: (string | Buffer | null)[]) => {
      const check = new RowCrcCheck(sessions, "iso-3309", sessions.columns.length);
      const row = madeRow(exists(values));
      const decoded = new Page();
      decodedRow(sessions, check, row.decode(), decoded, parents);
      const wire = new Page();
      const copier = new WireRowCopier(
        sessions,
        check,
        true,
        parents.map((p) => p.wire),
      );
      wireRow(sessions, copier, check, row, wire, parents);
      const [d, w] = [decoded.result(), wire.result()];
      expect({ lines: w.lines, sums: w.sums, rejects: w.rejects }).toEqual({
        lines: d.lines,
        sums: d.sums,
        rejects: d.rejects,
      });
      return { fast: w.declined.length === 0, ...d };
    };
    const plain = run(session({}));
    expect(plain.fast).toBe(true);
    expect(plain.lines).toBe(
      "3\t1\t" +
        "t".repeat(64) +
        "\t\\N\t2025-06-30 12:00:00.500000+00\t" +
        "back\\\\slash\\ttab\\nLF\\rCR \u0001 \\\\N é 😀\t\n",
    );
    expect(run(session({ user_agent: "é".repeat(255) })).fast).toBe(true);
    // Declined: too long, a NUL, NULL in a NOT NULL column (rejected by the decoded path); a
    // ZEROFILL-like key it accepts as it is.
    const declined: [(string | Buffer | null)[], number][] = [
      [session({ user_agent: "é".repeat(256) }), 1],
      [session({ ip: Buffer.from([0x31, 0x00, 0x32]) }), 1],
      [session({ session_token: null }), 1],
      [session({ user_id: "0012" }), 0],
    ];
    for (const [values, rejects] of declined) {
      const result = run(values);
      expect({ values, fast: result.fast, rejects: result.rejects.length }).toEqual({
        values,
        fast: false,
        rejects,
      });
    }
  });

  test("a CRC that does not match, or none, leaves the row to the decoded path's verdict", () => {
    const altered = withCrc(run({}));
    altered[agentRuns.columns.findIndex((c) => c.name === "agent")] = "agenT";
    const check = new RowCrcCheck(agentRuns, "iso-3309", agentRuns.columns.length);
    const copier = new WireRowCopier(agentRuns, check, true);
    const page = new Page();
    expect(copier.copy(madeRow(altered), page.out, page.sums)).toBe(false);
    expect(() => wireRow(agentRuns, copier, check, madeRow(altered), page)).toThrow(
      SourceRowChangedError,
    );
    expect(page.out.lines).toBe(0);
    // No CRC (a row past the source's max_allowed_packet): the decoded path says so.
    const result = compare(agentRuns, run({}), false);
    expect(result.fast).toBe(false);
    expect(result.lines).toContain('"agent":"agent"');
  });

  test("without verification the fast path writes the same line and adds nothing", () => {
    const row = madeRow(withCrc(run({})).slice(0, -1));
    const page = new Page();
    expect(new WireRowCopier(agentRuns, undefined, false).copy(row, page.out, page.sums)).toBe(
      true,
    );
    const reference = new PageBuffer();
    appendNdjsonLine(agentRuns.columns, convertRow(agentRuns.columns, row.decode()), reference);
    expect(page.result().lines).toBe(Buffer.concat(reference.chunks()).toString("utf8"));
    expect(page.result().sums).toEqual(["0", "0", "0"]);
    // A column whose bytes are not its text (another character set) sends every row decoded.
    const page2 = new Page();
    expect(
      new WireRowCopier(agentRuns, undefined, false).copy(
        { ...row, bytesAreText: false },
        page2.out,
        page2.sums,
      ),
    ).toBe(false);
  });
});
