/**
 * MD5 (RFC 1321) of four messages at once, one per 32-bit lane of WebAssembly's 128-bit SIMD
 * (the `i32x4` operations every engine Node 16.4+ runs). MD5's 64 steps are one dependency chain:
 * a single message cannot go faster than that chain (`md5.ts` is within a quarter of OpenSSL's
 * assembly on long inputs), but four independent chains side by side take about the time of one.
 *
 * The module is written here as bytes, by the small emitter below, rather than shipped as a
 * compiled file: it is one function, and the generator is the reviewable source. Each message sits
 * in its own slot of the module's memory, already padded by the caller (`padSlot`); the function
 * runs the blocks of the longest one, and a lane whose message has fewer blocks keeps its state
 * (a per-lane mask) while the others go on. It leaves each lane's A and B words (the digest's
 * first 8 bytes) at `RESULT_OFFSET`.
 */

/** Bytes per slot: a message of up to `SLOT_MESSAGE_BYTES` and its padding (at most 72 bytes). */
export const SLOT_BYTES = 2304;
export const SLOT_MESSAGE_BYTES = 2048;
/** Where the four A words and then the four B words are left (`Int32Array` index × 4). */
export const RESULT_OFFSET = 4 * SLOT_BYTES;

// ---------------------------------------------------------------- a minimal WebAssembly emitter

function unsignedLeb(n: number): number[] {
  const out: number[] = [];
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n !== 0) byte |= 0x80;
    out.push(byte);
  } while (n !== 0);
  return out;
}

function signedLeb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const byte = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (byte & 0x40) === 0) || (n === -1 && (byte & 0x40) !== 0)) {
      out.push(byte);
      return out;
    }
    out.push(byte | 0x80);
  }
}

const section = (id: number, body: number[]) => [id, ...unsignedLeb(body.length), ...body];
const name = (text: string) => [...unsignedLeb(text.length), ...Buffer.from(text, "ascii")];

const I32 = 0x7f;
const V128 = 0x7b;

/** The SIMD opcodes used (prefix 0xfd, then the opcode as LEB128). */
const SIMD = {
  store: 0x0b,
  const: 0x0c,
  splat: 0x11,
  replaceLane: 0x1c,
  ltU: 0x3a,
  not: 0x4d,
  and: 0x4e,
  andNot: 0x4f,
  or: 0x50,
  xor: 0x51,
  bitselect: 0x52,
  load32Lane: 0x56,
  shl: 0xab,
  shrU: 0xad,
  add: 0xae,
} as const;

class Code {
  readonly bytes: number[] = [];
  get(local: number): this {
    this.bytes.push(0x20, ...unsignedLeb(local));
    return this;
  }
  set(local: number): this {
    this.bytes.push(0x21, ...unsignedLeb(local));
    return this;
  }
  tee(local: number): this {
    this.bytes.push(0x22, ...unsignedLeb(local));
    return this;
  }
  i32(value: number): this {
    this.bytes.push(0x41, ...signedLeb(value | 0));
    return this;
  }
  simd(op: number, ...immediates: number[]): this {
    this.bytes.push(0xfd, ...unsignedLeb(op), ...immediates);
    return this;
  }
  /** A vector of four copies of the 32-bit `value`. */
  splat4(value: number): this {
    const lane = [value & 0xff, (value >>> 8) & 0xff, (value >>> 16) & 0xff, value >>> 24];
    return this.simd(SIMD.const, ...lane, ...lane, ...lane, ...lane);
  }
  raw(...bytes: number[]): this {
    this.bytes.push(...bytes);
    return this;
  }
}

// ---------------------------------------------------------------- the MD5 function

/** T[i] = floor(2^32 · |sin(i + 1)|), the RFC's table. */
const T = Array.from({ length: 64 }, (_, i) => Math.floor(Math.abs(Math.sin(i + 1)) * 2 ** 32));
const SHIFTS = [
  [7, 12, 17, 22],
  [5, 9, 14, 20],
  [4, 11, 16, 23],
  [6, 10, 15, 21],
];
/** The message word step `i` reads, per the RFC's four rounds. */
const wordOf = (i: number) => [i, (1 + 5 * i) % 16, (5 + 3 * i) % 16, (7 * i) % 16][i >> 4] % 16;

// Locals: parameters 0–3 are the lanes' block counts, 4 the largest; then i32 `n` (the block) and
// `at` (its byte offset), then the vectors.
const P_BLOCKS = 4;
const L_N = 5;
const L_AT = 6;
const V = 7;
const [L_A, L_B, L_C, L_D, L_H0, L_H1, L_H2, L_H3, L_MASK, L_COUNTS, L_TMP] = Array.from(
  { length: 11 },
  (_, i) => V + i,
);
const L_X = V + 11; // sixteen message words
const VECTOR_LOCALS = 11 + 16;

function md5x4Body(): number[] {
  const c = new Code();
  // The lanes' block counts as one vector, for the mask.
  c.get(0).simd(SIMD.splat);
  for (let lane = 1; lane < 4; lane++) c.get(lane).simd(SIMD.replaceLane, lane);
  c.set(L_COUNTS);
  c.splat4(0x67452301).set(L_H0);
  c.splat4(0xefcdab89).set(L_H1);
  c.splat4(0x98badcfe).set(L_H2);
  c.splat4(0x10325476).set(L_H3);
  c.i32(0).set(L_N);
  c.raw(0x03, 0x40); // loop
  // at = n * 64; mask = n < counts, lane by lane
  c.get(L_N).i32(6).raw(0x74).set(L_AT);
  c.get(L_N).simd(SIMD.splat).get(L_COUNTS).simd(SIMD.ltU).set(L_MASK);
  // Word k of each lane's block n: one 32-bit load into each lane.
  for (let k = 0; k < 16; k++) {
    for (let lane = 0; lane < 4; lane++) {
      c.get(L_AT).get(L_X + k);
      c.simd(SIMD.load32Lane, 2, ...unsignedLeb(lane * SLOT_BYTES + 4 * k), lane);
      c.set(L_X + k);
    }
  }
  c.get(L_H0).set(L_A).get(L_H1).set(L_B).get(L_H2).set(L_C).get(L_H3).set(L_D);
  let [a, b, cc, d] = [L_A, L_B, L_C, L_D];
  for (let i = 0; i < 64; i++) {
    const round = i >> 4;
    // a + f(b, c, d)
    c.get(a);
    if (round === 0) c.get(d).get(b).get(cc).get(d).simd(SIMD.xor).simd(SIMD.and).simd(SIMD.xor);
    else if (round === 1)
      c.get(b).get(d).simd(SIMD.and).get(cc).get(d).simd(SIMD.andNot).simd(SIMD.or);
    else if (round === 2) c.get(b).get(cc).simd(SIMD.xor).get(d).simd(SIMD.xor);
    else c.get(cc).get(b).get(d).simd(SIMD.not).simd(SIMD.or).simd(SIMD.xor);
    c.simd(SIMD.add);
    c.get(L_X + wordOf(i)).simd(SIMD.add);
    c.splat4(T[i]).simd(SIMD.add);
    // <<< s, then + b
    const s = SHIFTS[round][i % 4];
    c.tee(L_TMP).i32(s).simd(SIMD.shl);
    c.get(L_TMP)
      .i32(32 - s)
      .simd(SIMD.shrU);
    c.simd(SIMD.or).get(b).simd(SIMD.add).set(a);
    [a, b, cc, d] = [d, a, b, cc];
  }
  // h += (a, b, c, d) in the lanes still in their message; the others keep theirs.
  for (const [h, x] of [
    [L_H0, L_A],
    [L_H1, L_B],
    [L_H2, L_C],
    [L_H3, L_D],
  ]) {
    c.get(h).get(x).simd(SIMD.add).get(h).get(L_MASK).simd(SIMD.bitselect).set(h);
  }
  // n += 1; continue while n < blocks
  c.get(L_N).i32(1).raw(0x6a).tee(L_N).get(P_BLOCKS).raw(0x49, 0x0d, 0x00);
  c.raw(0x0b); // end loop
  c.i32(0)
    .get(L_H0)
    .simd(SIMD.store, 4, ...unsignedLeb(RESULT_OFFSET));
  c.i32(0)
    .get(L_H1)
    .simd(SIMD.store, 4, ...unsignedLeb(RESULT_OFFSET + 16));
  c.raw(0x0b); // end function
  const locals = [2, ...unsignedLeb(2), I32, ...unsignedLeb(VECTOR_LOCALS), V128];
  return [...unsignedLeb(locals.length + c.bytes.length), ...locals, ...c.bytes];
}

function moduleBytes(): Uint8Array {
  const type = [0x60, 5, I32, I32, I32, I32, I32, 0];
  return Uint8Array.from([
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
    ...section(1, [1, ...type]),
    ...section(3, [1, 0]),
    ...section(5, [1, 0x00, 1]), // one memory of one page
    ...section(7, [2, ...name("memory"), 0x02, 0, ...name("md5x4"), 0x00, 0]),
    ...section(10, [1, ...md5x4Body()]),
  ]);
}

// ---------------------------------------------------------------- the instance

/** What of the WebAssembly JS API is used (the project's `lib` is ES2022 alone: no DOM types). */
declare const WebAssembly:
  | {
      validate(bytes: Uint8Array): boolean;
      Module: new (bytes: Uint8Array) => object;
      Instance: new (module: object) => { readonly exports: Record<string, unknown> };
    }
  | undefined;

export interface Md5Lanes {
  /** The four slots, views of the module's memory: write a message at 0, then `padSlot`. */
  readonly slots: readonly Buffer[];
  /** Runs the four padded slots of `blocks[i]` blocks each (0 for an unused slot). */
  run(blocks0: number, blocks1: number, blocks2: number, blocks3: number): void;
  /** After `run`: lane `i`'s A word at `words[i]`, its B word at `words[4 + i]`. */
  readonly words: Int32Array;
}

/** The module, or undefined where WebAssembly SIMD is not available (`md5.ts` is used then). */
export function md5Lanes(): Md5Lanes | undefined {
  const bytes = moduleBytes();
  if (typeof WebAssembly === "undefined" || !WebAssembly.validate(bytes)) return undefined;
  const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes));
  const memory = instance.exports.memory as { readonly buffer: ArrayBuffer };
  const run = instance.exports.md5x4 as (
    a: number,
    b: number,
    c: number,
    d: number,
    max: number,
  ) => void;
  return {
    slots: [0, 1, 2, 3].map((i) => Buffer.from(memory.buffer, i * SLOT_BYTES, SLOT_BYTES)),
    run: (b0, b1, b2, b3) => run(b0, b1, b2, b3, Math.max(b0, b1, b2, b3)),
    words: new Int32Array(memory.buffer, RESULT_OFFSET, 8),
  };
}

/**
 * Pads the message `slot[0, length)` in place (0x80, zeros, its length in bits as 64 bits
 * little-endian) and returns its number of 64-byte blocks. `length` ≤ `SLOT_MESSAGE_BYTES`.
 */
export function padSlot(slot: Buffer, length: number): number {
  const blocks = ((length + 8) >>> 6) + 1;
  const end = blocks << 6;
  slot[length] = 0x80;
  for (let i = length + 1; i < end - 8; i++) slot[i] = 0;
  const bits = length * 8;
  slot[end - 8] = bits;
  slot[end - 7] = bits >>> 8;
  slot[end - 6] = bits >>> 16;
  slot[end - 5] = bits >>> 24;
  slot[end - 4] = 0;
  slot[end - 3] = 0;
  slot[end - 2] = 0;
  slot[end - 1] = 0;
  return blocks;
}
