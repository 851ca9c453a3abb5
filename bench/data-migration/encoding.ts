/**
 * Micro-benchmark (a script, not a test) of the two per-row encoders of the analytics path:
 * `canonicalJson` over the legacy JSON column text, and `appendNdjsonLine` of converted rows into a
 * `PageBuffer` (released every page, as the lane does). The rows are the `events` table's, shaped
 * like `run.ts`'s generator, and fixed (seeded) so that numbers compare across edits.
 *
 * Usage: npx tsx bench/data-migration/encoding.ts [--rows 200000] [--repetitions 9]
 *          [--baseline <dir>]
 *
 * `--baseline <dir>`: a directory holding another `canonical-json.ts` and `row-encoding.ts` (say, a
 * copy of an earlier version, outside the repository); both are timed in the same run, alternating,
 * and their output is checked to be the same bytes.
 */
import { createHash } from "node:crypto";
import { resolve } from "node:path";
import * as current from "../../src/data/canonical-json";
import { convertRow } from "../../src/data/convert";
import { PageBuffer } from "../../src/data/page-buffer";
import * as currentRows from "../../src/data/row-encoding";
import { migrationTables, type MigrationColumn } from "../../src/data/table-plan";
import { mulberry32 } from "../../test/support/random";

type CanonicalJson = (text: string) => string;
type AppendNdjsonLine = (
  columns: readonly MigrationColumn[],
  row: readonly (string | null)[],
  out: PageBuffer,
) => void;

interface Implementation {
  readonly name: string;
  readonly canonicalJson: CanonicalJson;
  readonly appendNdjsonLine: AppendNdjsonLine;
}

const PAGE_ROWS = 10_000; // `--page-size`'s default

function argument(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const random = mulberry32;

const md5 = (n: number) => createHash("md5").update(String(n)).digest("hex");

/** A microsecond offset from 2023-01-01 as MariaDB prints DATETIME(6). */
function datetime(micros: number): string {
  const d = new Date(Date.UTC(2023, 0, 1) + Math.floor(micros / 1000));
  const us = String(micros % 1_000_000).padStart(6, "0");
  return `${d.toISOString().slice(0, 19).replace("T", " ")}.${us}`;
}

/**
 * JSON as MariaDB's JSON_OBJECT prints it (`": "` and `", "`), mostly `run.ts`'s shape; one row in
 * twenty something else real columns hold: nested, unsorted, escaped, fractional.
 */
function properties(seq: number, rand: () => number): string | null {
  if (seq % 10 === 0) return null;
  if (rand() < 0.05) {
    const price = (Math.floor(rand() * 1e6) / 100).toFixed(2);
    return (
      `{"utm": {"source": "google", "medium": "cpc"}, "cart": [{"sku": "A-${seq % 97}", ` +
      `"qty": ${seq % 3}, "price": ${price}}], "ratio": ${rand().toFixed(3)}, ` +
      `"note": "line\\nbreak \\u00e9", "ok": ${seq % 2 === 0}, "gone": null}`
    );
  }
  const label = seq % 9 === 0 ? 'café \\"😀\\"' : "x";
  return `{"path": "/p/${seq % 1000}", "n": ${seq % 17}, "label": "${label}", "items": [${seq % 5}, 2.5]}`;
}

function eventsRow(seq: number, rand: () => number, users: number): (string | null)[] {
  const pick = <T>(values: readonly T[]) => values[seq % values.length];
  return [
    String(seq),
    pick(["page_view", "purchase", "signup", "add_to_cart"]),
    datetime(seq * 2591),
    seq % 3 === 0 ? null : `u${seq % users}`,
    md5(seq),
    `s${Math.floor(seq / 7)}`,
    pick(["google", "reddit", "x", null]),
    seq % 4 === 3 ? null : "cpc",
    `camp-${seq % 500}`,
    seq % 6 === 0 ? 'running shoes, "red"' : null,
    seq % 5 === 0 ? "ad\tvariant\b" : null,
    seq % 4 === 0 ? md5(seq * 3) : null,
    null,
    null,
    seq % 4 === 1 ? md5(seq * 5) : null,
    seq % 4 === 2 ? md5(seq * 7) : null,
    `https://example.com/p?id=${seq}${seq % 13 === 0 ? "&q=é😀\r\n" : ""}`,
    seq % 4 === 1
      ? `${Math.floor((seq % 100000) / 1000)}.${String(seq % 1000).padStart(3, "0")}001`
      : null,
    seq % 4 === 1 ? "USD" : null,
    properties(seq, rand),
  ];
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Keeps results alive so the work cannot be optimised away. */
let sink = 0;

/**
 * CPU time of the process in ns (the machine may be shared: wall time then counts other processes'
 * turns; CPU time still counts this one's collector threads).
 */
function cpuNow(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) * 1000;
}

function timeCanonicalJson(impl: Implementation, texts: readonly string[]): number {
  const canonicalJson = impl.canonicalJson;
  const start = cpuNow();
  for (let i = 0; i < texts.length; i++) sink += canonicalJson(texts[i]).length;
  return cpuNow() - start;
}

function timeNdjson(
  impl: Implementation,
  columns: readonly MigrationColumn[],
  rows: readonly (readonly (string | null)[])[],
): number {
  const appendNdjsonLine = impl.appendNdjsonLine;
  const start = cpuNow();
  let page = new PageBuffer();
  for (let i = 0; i < rows.length; i++) {
    appendNdjsonLine(columns, rows[i], page);
    if (page.lines === PAGE_ROWS) {
      sink += page.offset;
      page.release();
      page = new PageBuffer();
    }
  }
  page.release();
  return cpuNow() - start;
}

/** The bytes each implementation writes for the first rows, and its JSON text, must agree. */
function checkSameOutput(
  a: Implementation,
  b: Implementation,
  columns: readonly MigrationColumn[],
  rows: readonly (readonly (string | null)[])[],
  texts: readonly string[],
): void {
  for (const text of texts) {
    if (a.canonicalJson(text) !== b.canonicalJson(text))
      throw new Error(`canonicalJson differs for ${JSON.stringify(text)}`);
  }
  const pages = [a, b].map((impl) => {
    const page = new PageBuffer();
    for (const row of rows.slice(0, PAGE_ROWS)) impl.appendNdjsonLine(columns, row, page);
    const bytes = Buffer.concat(page.chunks());
    page.release();
    return bytes;
  });
  if (!pages[0].equals(pages[1])) throw new Error("appendNdjsonLine writes different bytes");
}

function main(): void {
  const rowCount = Number(argument("rows") ?? 200_000);
  const repetitions = Number(argument("repetitions") ?? 9);
  const baselineDir = argument("baseline");
  const events = migrationTables().find((t) => t.name === "events")!;
  const columns = events.columns;

  const rand = random(20230101);
  const users = Math.max(10, Math.round(rowCount * 0.05));
  // Flat strings, as the driver decodes them from its packets (built ones are ropes, slower to read).
  const flat = (v: string | null) => (v === null ? null : Buffer.from(v, "utf8").toString("utf8"));
  const raw = Array.from({ length: rowCount }, (_, i) => eventsRow(i + 1, rand, users).map(flat));
  const jsonIndex = columns.findIndex((c) => c.value.kind === "json");
  const texts = raw.map((r) => r[jsonIndex]).filter((t): t is string => t !== null);
  const rows = raw.map((r) => convertRow(columns, r));

  const impls: Implementation[] = [
    {
      name: "current",
      canonicalJson: current.canonicalJson,
      appendNdjsonLine: currentRows.appendNdjsonLine,
    },
  ];
  if (baselineDir !== undefined) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- a path given at run time
    const json = require(resolve(baselineDir, "canonical-json.ts")) as typeof current;
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- a path given at run time
    const lines = require(resolve(baselineDir, "row-encoding.ts")) as typeof currentRows;
    impls.unshift({
      name: "baseline",
      canonicalJson: json.canonicalJson,
      appendNdjsonLine: lines.appendNdjsonLine,
    });
    checkSameOutput(impls[0], impls[1], columns, rows, texts);
  }

  const results = impls.map(() => ({ json: [] as number[], ndjson: [] as number[] }));
  // One warm-up round (not counted) lets both reach their optimised code first.
  for (let r = 0; r <= repetitions; r++) {
    impls.forEach((impl, k) => {
      const json = timeCanonicalJson(impl, texts);
      const ndjson = timeNdjson(impl, columns, rows);
      if (r > 0) {
        results[k].json.push(json / rowCount);
        results[k].ndjson.push(ndjson / rowCount);
      }
    });
  }

  console.log(
    `${rowCount} events rows (${texts.length} with JSON), ${repetitions} repetitions, ` +
      `CPU ns/row, median (min):`,
  );
  impls.forEach((impl, k) => {
    const { json, ndjson } = results[k];
    const both = json.map((j, r) => j + ndjson[r]);
    const show = (ns: number[]) =>
      `${median(ns).toFixed(0).padStart(5)} (${Math.min(...ns)
        .toFixed(0)
        .padStart(5)})`;
    console.log(
      `  ${impl.name.padEnd(8)}  canonicalJson ${show(json)}  appendNdjsonLine ${show(ndjson)}` +
        `  both ${show(both)}`,
    );
  });
  if (sink === 0) console.log("(nothing written)");
}

main();
