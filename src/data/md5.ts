/**
 * MD5 (RFC 1321) in TypeScript, specialised for the migration's row hashes: it yields only the
 * digest's 60-bit prefix (its first 15 hex digits, all a row hash uses) as two numbers.
 *
 * Why not node:crypto: rows are small, tens to hundreds of bytes, and for those the cost of
 * `crypto.hash("md5", view, "hex")` is mostly per call (the call into C++, an OpenSSL digest
 * context, a 32-character hex string made only for `HashSum.addHex` to parse straight back into
 * numbers), not the hashing itself. Here a call is int32 arithmetic over the caller's bytes and
 * makes no string, Buffer or object. OpenSSL's assembly is still faster per 64-byte block, so for
 * long inputs (a few hundred bytes and up) node:crypto catches up and then wins; see
 * bench/data-migration/md5.ts.
 *
 * Written from RFC 1321: the message is padded with 0x80, zeros and its length in bits (64-bit,
 * little-endian) to a multiple of 64 bytes; each 64-byte block is sixteen little-endian 32-bit
 * words, mixed into the state A, B, C, D by four rounds of sixteen steps
 * `a = b + ((a + f(b, c, d) + X[k] + T[i]) <<< s)`, T[i] = floor(2^32 · |sin(i)|).
 */

import { LastDataView } from "./page-buffer";

// Written through this module-local name: compiled to CommonJS, a use of the exported binding in
// this module would be a property load on `exports` per call.
const prefix = { high: 0, low: 0 };

/**
 * The result of the last `md5PrefixOf`: the digest's first 28 bits in `high` and the next 32 bits
 * in `low`, unsigned. One object overwritten by every call, rather than a result made per call.
 */
export const md5Prefix: { high: number; low: number } = prefix;

/**
 * The last one or two blocks: the input's bytes after its last whole block, then the padding.
 * Whole blocks are read in place from the caller's bytes, so any length needs only these 128.
 */
const tail = new Uint8Array(128);
const tailView = new DataView(tail.buffer);

/** A DataView of the last input, kept: a caller hashes from one scratch buffer, row after row. */
const inputViews = new LastDataView();

/**
 * MD5 of bytes[0, length) → the digest's first 28 bits in `md5Prefix.high` and the next 32 bits in
 * `md5Prefix.low` (unsigned, as numbers), i.e. the same values HashSum.addHex would parse from the
 * first 15 hex digits. Bytes from `length` on are ignored.
 */
export function md5PrefixOf(bytes: Uint8Array, length: number): void {
  // Reads past the end would be `undefined`, i.e. silently zeros: a wrong hash, not an error.
  if (!(length >= 0 && length <= bytes.length && Number.isInteger(length))) {
    throw new RangeError(`md5PrefixOf: length ${length} is not in 0..${bytes.length}`);
  }
  // The tail: the last `rest` bytes, 0x80, zeros, and the length in bits in its last 8 bytes;
  // with `rest` >= 56 those 9 bytes do not fit after the data, and the padding takes two blocks.
  const whole = length & ~63;
  const rest = length - whole;
  const tailLength = rest < 56 ? 64 : 128;
  for (let i = 0; i < rest; i++) tail[i] = bytes[whole + i];
  tail[rest] = 0x80;
  // A loop, not `tail.fill(0, …)`: that is a call into the runtime, measurable on small rows.
  for (let i = rest + 1; i < tailLength - 8; i++) tail[i] = 0;
  // Bits as two 32-bit halves (`>>> 0` is `length * 8` mod 2^32; exact for any array length).
  const bitsLow = (length * 8) >>> 0;
  const bitsHigh = Math.floor(length / 0x20000000);
  tail[tailLength - 8] = bitsLow;
  tail[tailLength - 7] = bitsLow >>> 8;
  tail[tailLength - 6] = bitsLow >>> 16;
  tail[tailLength - 5] = bitsLow >>> 24;
  tail[tailLength - 4] = bitsHigh;
  tail[tailLength - 3] = bitsHigh >>> 8;
  tail[tailLength - 2] = bitsHigh >>> 16;
  tail[tailLength - 1] = bitsHigh >>> 24;

  const bytesView = inputViews.of(bytes);
  // The RFC's initial state, as int32 (every value below is kept an int32 by `| 0`).
  let h0 = 0x67452301;
  let h1 = 0xefcdab89 | 0;
  let h2 = 0x98badcfe | 0;
  let h3 = 0x10325476;
  // One loop over the whole blocks and then the tail's, so the 64 unrolled steps exist once.
  const blocks = (whole >>> 6) + (tailLength >>> 6);
  for (let n = 0, at = 0; n < blocks; n++, at += 64) {
    const src = at < whole ? bytesView : tailView;
    const p = at < whole ? at : at - whole;
    // The block's sixteen words, little-endian, in locals rather than an array: one DataView load
    // each, half the time of four byte loads and their shifts.
    const x0 = src.getInt32(p + 0, true);
    const x1 = src.getInt32(p + 4, true);
    const x2 = src.getInt32(p + 8, true);
    const x3 = src.getInt32(p + 12, true);
    const x4 = src.getInt32(p + 16, true);
    const x5 = src.getInt32(p + 20, true);
    const x6 = src.getInt32(p + 24, true);
    const x7 = src.getInt32(p + 28, true);
    const x8 = src.getInt32(p + 32, true);
    const x9 = src.getInt32(p + 36, true);
    const x10 = src.getInt32(p + 40, true);
    const x11 = src.getInt32(p + 44, true);
    const x12 = src.getInt32(p + 48, true);
    const x13 = src.getInt32(p + 52, true);
    const x14 = src.getInt32(p + 56, true);
    const x15 = src.getInt32(p + 60, true);

    let a = h0;
    let b = h1;
    let c = h2;
    let d = h3;
    // The steps are the RFC's, written so each depends on the step just before through as few
    // operations as possible (the 64 steps are one chain; its length is the hash's time): X[k] +
    // T[i] + a is summed first, off the chain, and f in forms equal to the RFC's
    //   F = (b & c) | (~b & d) = d ^ (b & (c ^ d))
    //   G = (b & d) | (c & ~d) = (c & ~d) + (b & d)   (disjoint bits: | is +; only b & d waits)
    //   H = b ^ c ^ d          = b ^ (c ^ d)          (c ^ d is ready before b)
    //   I = c ^ (b | ~d)
    // `| 0` after the sums keeps them int32 (wrapping mod 2^32), as the RFC's 32-bit words are.

    // Round 1: F, words k (mod 16), shifts 7, 12, 17, 22.
    a = (a + x0 + 0xd76aa478 + (d ^ (b & (c ^ d)))) | 0;
    a = (((a << 7) | (a >>> 25)) + b) | 0;
    d = (d + x1 + 0xe8c7b756 + (c ^ (a & (b ^ c)))) | 0;
    d = (((d << 12) | (d >>> 20)) + a) | 0;
    c = (c + x2 + 0x242070db + (b ^ (d & (a ^ b)))) | 0;
    c = (((c << 17) | (c >>> 15)) + d) | 0;
    b = (b + x3 + 0xc1bdceee + (a ^ (c & (d ^ a)))) | 0;
    b = (((b << 22) | (b >>> 10)) + c) | 0;
    a = (a + x4 + 0xf57c0faf + (d ^ (b & (c ^ d)))) | 0;
    a = (((a << 7) | (a >>> 25)) + b) | 0;
    d = (d + x5 + 0x4787c62a + (c ^ (a & (b ^ c)))) | 0;
    d = (((d << 12) | (d >>> 20)) + a) | 0;
    c = (c + x6 + 0xa8304613 + (b ^ (d & (a ^ b)))) | 0;
    c = (((c << 17) | (c >>> 15)) + d) | 0;
    b = (b + x7 + 0xfd469501 + (a ^ (c & (d ^ a)))) | 0;
    b = (((b << 22) | (b >>> 10)) + c) | 0;
    a = (a + x8 + 0x698098d8 + (d ^ (b & (c ^ d)))) | 0;
    a = (((a << 7) | (a >>> 25)) + b) | 0;
    d = (d + x9 + 0x8b44f7af + (c ^ (a & (b ^ c)))) | 0;
    d = (((d << 12) | (d >>> 20)) + a) | 0;
    c = (c + x10 + 0xffff5bb1 + (b ^ (d & (a ^ b)))) | 0;
    c = (((c << 17) | (c >>> 15)) + d) | 0;
    b = (b + x11 + 0x895cd7be + (a ^ (c & (d ^ a)))) | 0;
    b = (((b << 22) | (b >>> 10)) + c) | 0;
    a = (a + x12 + 0x6b901122 + (d ^ (b & (c ^ d)))) | 0;
    a = (((a << 7) | (a >>> 25)) + b) | 0;
    d = (d + x13 + 0xfd987193 + (c ^ (a & (b ^ c)))) | 0;
    d = (((d << 12) | (d >>> 20)) + a) | 0;
    c = (c + x14 + 0xa679438e + (b ^ (d & (a ^ b)))) | 0;
    c = (((c << 17) | (c >>> 15)) + d) | 0;
    b = (b + x15 + 0x49b40821 + (a ^ (c & (d ^ a)))) | 0;
    b = (((b << 22) | (b >>> 10)) + c) | 0;

    // Round 2: G, words 1 + 5k (mod 16), shifts 5, 9, 14, 20.
    a = (a + x1 + 0xf61e2562 + (c & ~d) + (b & d)) | 0;
    a = (((a << 5) | (a >>> 27)) + b) | 0;
    d = (d + x6 + 0xc040b340 + (b & ~c) + (a & c)) | 0;
    d = (((d << 9) | (d >>> 23)) + a) | 0;
    c = (c + x11 + 0x265e5a51 + (a & ~b) + (d & b)) | 0;
    c = (((c << 14) | (c >>> 18)) + d) | 0;
    b = (b + x0 + 0xe9b6c7aa + (d & ~a) + (c & a)) | 0;
    b = (((b << 20) | (b >>> 12)) + c) | 0;
    a = (a + x5 + 0xd62f105d + (c & ~d) + (b & d)) | 0;
    a = (((a << 5) | (a >>> 27)) + b) | 0;
    d = (d + x10 + 0x02441453 + (b & ~c) + (a & c)) | 0;
    d = (((d << 9) | (d >>> 23)) + a) | 0;
    c = (c + x15 + 0xd8a1e681 + (a & ~b) + (d & b)) | 0;
    c = (((c << 14) | (c >>> 18)) + d) | 0;
    b = (b + x4 + 0xe7d3fbc8 + (d & ~a) + (c & a)) | 0;
    b = (((b << 20) | (b >>> 12)) + c) | 0;
    a = (a + x9 + 0x21e1cde6 + (c & ~d) + (b & d)) | 0;
    a = (((a << 5) | (a >>> 27)) + b) | 0;
    d = (d + x14 + 0xc33707d6 + (b & ~c) + (a & c)) | 0;
    d = (((d << 9) | (d >>> 23)) + a) | 0;
    c = (c + x3 + 0xf4d50d87 + (a & ~b) + (d & b)) | 0;
    c = (((c << 14) | (c >>> 18)) + d) | 0;
    b = (b + x8 + 0x455a14ed + (d & ~a) + (c & a)) | 0;
    b = (((b << 20) | (b >>> 12)) + c) | 0;
    a = (a + x13 + 0xa9e3e905 + (c & ~d) + (b & d)) | 0;
    a = (((a << 5) | (a >>> 27)) + b) | 0;
    d = (d + x2 + 0xfcefa3f8 + (b & ~c) + (a & c)) | 0;
    d = (((d << 9) | (d >>> 23)) + a) | 0;
    c = (c + x7 + 0x676f02d9 + (a & ~b) + (d & b)) | 0;
    c = (((c << 14) | (c >>> 18)) + d) | 0;
    b = (b + x12 + 0x8d2a4c8a + (d & ~a) + (c & a)) | 0;
    b = (((b << 20) | (b >>> 12)) + c) | 0;

    // Round 3: H, words 5 + 3k (mod 16), shifts 4, 11, 16, 23.
    a = (a + x5 + 0xfffa3942 + (b ^ (c ^ d))) | 0;
    a = (((a << 4) | (a >>> 28)) + b) | 0;
    d = (d + x8 + 0x8771f681 + (a ^ (b ^ c))) | 0;
    d = (((d << 11) | (d >>> 21)) + a) | 0;
    c = (c + x11 + 0x6d9d6122 + (d ^ (a ^ b))) | 0;
    c = (((c << 16) | (c >>> 16)) + d) | 0;
    b = (b + x14 + 0xfde5380c + (c ^ (d ^ a))) | 0;
    b = (((b << 23) | (b >>> 9)) + c) | 0;
    a = (a + x1 + 0xa4beea44 + (b ^ (c ^ d))) | 0;
    a = (((a << 4) | (a >>> 28)) + b) | 0;
    d = (d + x4 + 0x4bdecfa9 + (a ^ (b ^ c))) | 0;
    d = (((d << 11) | (d >>> 21)) + a) | 0;
    c = (c + x7 + 0xf6bb4b60 + (d ^ (a ^ b))) | 0;
    c = (((c << 16) | (c >>> 16)) + d) | 0;
    b = (b + x10 + 0xbebfbc70 + (c ^ (d ^ a))) | 0;
    b = (((b << 23) | (b >>> 9)) + c) | 0;
    a = (a + x13 + 0x289b7ec6 + (b ^ (c ^ d))) | 0;
    a = (((a << 4) | (a >>> 28)) + b) | 0;
    d = (d + x0 + 0xeaa127fa + (a ^ (b ^ c))) | 0;
    d = (((d << 11) | (d >>> 21)) + a) | 0;
    c = (c + x3 + 0xd4ef3085 + (d ^ (a ^ b))) | 0;
    c = (((c << 16) | (c >>> 16)) + d) | 0;
    b = (b + x6 + 0x04881d05 + (c ^ (d ^ a))) | 0;
    b = (((b << 23) | (b >>> 9)) + c) | 0;
    a = (a + x9 + 0xd9d4d039 + (b ^ (c ^ d))) | 0;
    a = (((a << 4) | (a >>> 28)) + b) | 0;
    d = (d + x12 + 0xe6db99e5 + (a ^ (b ^ c))) | 0;
    d = (((d << 11) | (d >>> 21)) + a) | 0;
    c = (c + x15 + 0x1fa27cf8 + (d ^ (a ^ b))) | 0;
    c = (((c << 16) | (c >>> 16)) + d) | 0;
    b = (b + x2 + 0xc4ac5665 + (c ^ (d ^ a))) | 0;
    b = (((b << 23) | (b >>> 9)) + c) | 0;

    // Round 4: I, words 7k (mod 16), shifts 6, 10, 15, 21.
    a = (a + x0 + 0xf4292244 + (c ^ (b | ~d))) | 0;
    a = (((a << 6) | (a >>> 26)) + b) | 0;
    d = (d + x7 + 0x432aff97 + (b ^ (a | ~c))) | 0;
    d = (((d << 10) | (d >>> 22)) + a) | 0;
    c = (c + x14 + 0xab9423a7 + (a ^ (d | ~b))) | 0;
    c = (((c << 15) | (c >>> 17)) + d) | 0;
    b = (b + x5 + 0xfc93a039 + (d ^ (c | ~a))) | 0;
    b = (((b << 21) | (b >>> 11)) + c) | 0;
    a = (a + x12 + 0x655b59c3 + (c ^ (b | ~d))) | 0;
    a = (((a << 6) | (a >>> 26)) + b) | 0;
    d = (d + x3 + 0x8f0ccc92 + (b ^ (a | ~c))) | 0;
    d = (((d << 10) | (d >>> 22)) + a) | 0;
    c = (c + x10 + 0xffeff47d + (a ^ (d | ~b))) | 0;
    c = (((c << 15) | (c >>> 17)) + d) | 0;
    b = (b + x1 + 0x85845dd1 + (d ^ (c | ~a))) | 0;
    b = (((b << 21) | (b >>> 11)) + c) | 0;
    a = (a + x8 + 0x6fa87e4f + (c ^ (b | ~d))) | 0;
    a = (((a << 6) | (a >>> 26)) + b) | 0;
    d = (d + x15 + 0xfe2ce6e0 + (b ^ (a | ~c))) | 0;
    d = (((d << 10) | (d >>> 22)) + a) | 0;
    c = (c + x6 + 0xa3014314 + (a ^ (d | ~b))) | 0;
    c = (((c << 15) | (c >>> 17)) + d) | 0;
    b = (b + x13 + 0x4e0811a1 + (d ^ (c | ~a))) | 0;
    b = (((b << 21) | (b >>> 11)) + c) | 0;
    a = (a + x4 + 0xf7537e82 + (c ^ (b | ~d))) | 0;
    a = (((a << 6) | (a >>> 26)) + b) | 0;
    d = (d + x11 + 0xbd3af235 + (b ^ (a | ~c))) | 0;
    d = (((d << 10) | (d >>> 22)) + a) | 0;
    c = (c + x2 + 0x2ad7d2bb + (a ^ (d | ~b))) | 0;
    c = (((c << 15) | (c >>> 17)) + d) | 0;
    b = (b + x9 + 0xeb86d391 + (d ^ (c | ~a))) | 0;
    b = (((b << 21) | (b >>> 11)) + c) | 0;

    h0 = (h0 + a) | 0;
    h1 = (h1 + b) | 0;
    h2 = (h2 + c) | 0;
    h3 = (h3 + d) | 0;
  }

  setPrefixOfWords(h0, h1);
}

/**
 * Sets `md5Prefix` from a digest's first two state words A and B. The digest is A, B, C, D each
 * little-endian, so its first 8 bytes, read as hex, are A and B with their bytes reversed: 64
 * bits, of which the first 28 are `high` and the next 32 `low`.
 */
export function setPrefixOfWords(a: number, b: number): void {
  const first = byteSwap(a);
  const second = byteSwap(b);
  prefix.high = first >>> 4;
  prefix.low = (((first & 0xf) << 28) | (second >>> 4)) >>> 0;
}

/** The 32-bit word with its bytes in reverse order, unsigned. */
function byteSwap(x: number): number {
  return (((x & 0xff) << 24) | ((x & 0xff00) << 8) | ((x >>> 8) & 0xff00) | (x >>> 24)) >>> 0;
}
