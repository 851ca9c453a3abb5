/**
 * Micro-benchmark: the 60-bit MD5 prefix of a row's checksum text, three ways, in one run.
 *
 *   npx tsx bench/data-migration/md5.ts [--calls 1000000] [--runs 5] [--sizes 50,80,250,600,2000]
 *
 * 1. `crypto.hash("md5", view, "hex")` and the 15 hex digits parsed into two numbers (what
 *    `md5HexOfScratch` + `HashSum.addHex` in src/data/checksum.ts do per row);
 * 2. `createHash("md5").update(view).digest("hex")` and the same parsing (the fallback before
 *    Node 20.12);
 * 3. `md5PrefixOf(scratch, length)` (src/data/md5.ts), reading `md5Prefix.high` / `.low`, each input
 *    first copied into one scratch buffer, as the row's text is written into one in checksum.ts
 *    (the copy is counted in this way's time);
 * 4. the four-lane WebAssembly SIMD MD5 (src/data/md5-lanes.ts), as checksum.ts queues row texts:
 *    each input copied into the next slot and padded there, the four slots run together.
 *
 * Inputs are ASCII rows of `<n>:<value>` parts like the checksum text, of each size, 1024
 * different ones cycled through (each its own Buffer for node:crypto, as a cached scratch view is), hashed
 * `--calls` times per way. Each run times the three ways in turn, in a rotating order; the
 * medians of `--runs` runs are printed, after a warm-up of every way on every size. Times are
 * this process's CPU time (user + system) per call, which other load on the machine disturbs less
 * than wall time; the wall-clock medians are printed too.
 */
import { createHash, hash as oneShotHash } from "node:crypto";
import { md5Prefix, md5PrefixOf, setPrefixOfWords } from "../../src/data/md5";
import { md5Lanes, padSlot } from "../../src/data/md5-lanes";
import { mulberry32 } from "../../test/support/random";

function argument(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
}

const CALLS = Number(argument("calls", "1000000"));
const RUNS = Number(argument("runs", "5"));
const SIZES = argument("sizes", "50,80,250,600,2000").split(",").map(Number);
const POOL = 1024;

const prng = mulberry32;

/** `count` ASCII checksum-like texts of exactly `size` bytes: `<n>:<value>` parts, or `N`. */
function rows(size: number, count: number, random: () => number): Buffer[] {
  const alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 -_.@:";
  const out: Buffer[] = [];
  for (let r = 0; r < count; r++) {
    let text = "";
    while (text.length < size) {
      if (random() < 0.1) {
        text += "N";
        continue;
      }
      const n = 1 + Math.floor(random() * 40);
      let value = "";
      for (let i = 0; i < n; i++) value += alphabet[Math.floor(random() * alphabet.length)];
      text += `${n}:${value}`;
    }
    out.push(Buffer.from(text.slice(0, size), "latin1"));
  }
  return out;
}

function hexDigit(code: number): number {
  return code <= 0x39 ? code - 0x30 : (code | 0x20) - 0x57;
}

// Each way sums the high and low parts it got, so no work can be dropped and the ways can be
// checked against each other. The parsing is `HashSum.addHex`'s.

/** The 60-bit prefix's two parts parsed from a hex digest, as `HashSum.addHex` does, summed. */
function prefixOfHex(hex: string): number {
  let high = 0;
  for (let i = 0; i < 7; i++) high = high * 16 + hexDigit(hex.charCodeAt(i));
  let low = 0;
  for (let i = 7; i < 15; i++) low = low * 16 + hexDigit(hex.charCodeAt(i));
  return high + low;
}

function viaCryptoHash(inputs: readonly Buffer[], calls: number): number {
  let sum = 0;
  for (let k = 0; k < calls; k++) {
    const hex = oneShotHash("md5", inputs[k & (POOL - 1)], "hex");
    sum = (sum + prefixOfHex(hex)) % 0x100000000;
  }
  return sum;
}

function viaCreateHash(inputs: readonly Buffer[], calls: number): number {
  let sum = 0;
  for (let k = 0; k < calls; k++) {
    const hex = createHash("md5")
      .update(inputs[k & (POOL - 1)])
      .digest("hex");
    sum = (sum + prefixOfHex(hex)) % 0x100000000;
  }
  return sum;
}

/** One buffer every row's text is written into before it is hashed, as `checksum.ts` does. */
const scratch = Buffer.alloc(1 << 14);

function viaMd5PrefixOf(inputs: readonly Buffer[], calls: number): number {
  let sum = 0;
  for (let k = 0; k < calls; k++) {
    const input = inputs[k & (POOL - 1)];
    // The copy is counted against this way: checksum.ts writes the text there itself.
    input.copy(scratch);
    md5PrefixOf(scratch, input.length);
    sum = (sum + md5Prefix.high + md5Prefix.low) % 0x100000000;
  }
  return sum;
}

const lanes = md5Lanes();

function viaLanes(inputs: readonly Buffer[], calls: number): number {
  if (!lanes) throw new Error("this Node has no WebAssembly SIMD");
  let sum = 0;
  const blocks = [0, 0, 0, 0];
  for (let k = 0; k < calls; k += 4) {
    for (let i = 0; i < 4; i++) {
      const input = inputs[(k + i) & (POOL - 1)];
      input.copy(lanes.slots[i]);
      blocks[i] = padSlot(lanes.slots[i], input.length);
    }
    lanes.run(blocks[0], blocks[1], blocks[2], blocks[3]);
    for (let i = 0; i < 4; i++) {
      setPrefixOfWords(lanes.words[i], lanes.words[4 + i]);
      sum = (sum + md5Prefix.high + md5Prefix.low) % 0x100000000;
    }
  }
  return sum;
}

const WAYS = [
  { name: "crypto.hash+parse", run: viaCryptoHash },
  { name: "createHash+parse", run: viaCreateHash },
  { name: "md5PrefixOf", run: viaMd5PrefixOf },
  { name: "md5Lanes", run: viaLanes },
] as const;

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

function main(): void {
  const random = prng(0x5eed);
  const inputs = SIZES.map((size) => rows(size, POOL, random));
  // Warm-up: every way optimised on every size before any timing (and checked to agree).
  for (const pool of inputs) {
    const sums = WAYS.map((way) => way.run(pool, 100_000));
    if (new Set(sums).size !== 1) throw new Error(`the ways disagree: ${sums.join(" ")}`);
  }
  const cpuNs = SIZES.map(() => WAYS.map((): number[] => []));
  const wallNs = SIZES.map(() => WAYS.map((): number[] => []));
  for (let run = 0; run < RUNS; run++) {
    for (let s = 0; s < SIZES.length; s++) {
      for (let w = 0; w < WAYS.length; w++) {
        const way = (w + run) % WAYS.length; // rotate which way goes first
        const cpu = process.cpuUsage();
        const start = process.hrtime.bigint();
        WAYS[way].run(inputs[s], CALLS);
        const wall = Number(process.hrtime.bigint() - start);
        const used = process.cpuUsage(cpu);
        cpuNs[s][way].push(((used.user + used.system) * 1000) / CALLS);
        wallNs[s][way].push(wall / CALLS);
      }
    }
  }

  console.log(
    `MD5 60-bit prefix, ${CALLS.toLocaleString("en-US")} calls per way, median of ${RUNS} runs ` +
      `(node ${process.version})`,
  );
  const table = (title: string, ns: number[][][]) => {
    console.log(`\n${title}, ns/call`);
    const header = [
      "bytes",
      ...WAYS.map((w) => w.name),
      "hash/ours",
      "createHash/ours",
      "ours/lanes",
    ];
    console.log(header.map((h) => h.padStart(19)).join(""));
    return SIZES.map((size, s) => {
      const [hash, create, ours, four] = ns[s].map(median);
      const cells = [size, hash, create, ours, four].map((n) => n.toFixed(0));
      cells.push(`${(hash / ours).toFixed(2)}x`, `${(create / ours).toFixed(2)}x`);
      cells.push(`${(ours / four).toFixed(2)}x`);
      console.log(cells.map((c) => c.padStart(19)).join(""));
      return {
        bytes: size,
        cryptoHashNs: hash,
        createHashNs: create,
        md5PrefixOfNs: ours,
        md5LanesNs: four,
      };
    });
  };
  const cpu = table("CPU time", cpuNs);
  const wall = table("Wall time", wallNs);
  console.log(JSON.stringify({ calls: CALLS, runs: RUNS, cpu, wall }));
}

main();
