import { createHash } from "node:crypto";
import { addRowTextHash, HashSum } from "../../src/data/checksum";
import { md5Prefix, md5PrefixOf } from "../../src/data/md5";
import { md5Lanes, padSlot, SLOT_MESSAGE_BYTES } from "../../src/data/md5-lanes";
import type { MigrationColumn } from "../../src/data/table-plan";
import { mulberry32 } from "../support/random";

const prng = mulberry32;

function randomBytes(length: number, random: () => number): Buffer {
  const bytes = Buffer.alloc(length);
  for (let i = 0; i < length; i++) bytes[i] = Math.floor(random() * 256);
  return bytes;
}

/** The prefix `md5PrefixOf` must give: the first 7 and the next 8 hex digits of the digest. */
function expectedPrefix(hex: string): { high: number; low: number } {
  return { high: parseInt(hex.slice(0, 7), 16), low: parseInt(hex.slice(7, 15), 16) };
}

function nodeMd5(bytes: Uint8Array): string {
  return createHash("md5").update(bytes).digest("hex");
}

/** `md5PrefixOf(bytes, length)`, copied out of the shared result object. */
function prefixOf(bytes: Uint8Array, length: number): { high: number; low: number } {
  md5PrefixOf(bytes, length);
  return { high: md5Prefix.high, low: md5Prefix.low };
}

describe("md5PrefixOf: the 60-bit MD5 prefix of a row hash without node:crypto", () => {
  test("RFC 1321's test suite", () => {
    const suite: [string, string][] = [
      ["", "d41d8cd98f00b204e9800998ecf8427e"],
      ["a", "0cc175b9c0f1b6a831c399e269772661"],
      ["abc", "900150983cd24fb0d6963f7d28e17f72"],
      ["message digest", "f96b697d7cb7938d525a2f31aaf161d0"],
      ["abcdefghijklmnopqrstuvwxyz", "c3fcd3d76192e4007dfb496cca67e13b"],
      [
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
        "d174ab98d277d9f5a5611c2c9f419d9f",
      ],
      [
        "1234567890".repeat(8), // 80 bytes: two blocks
        "57edf4a22be3c955ac49da2e2107b67a",
      ],
    ];
    for (const [text, hex] of suite) {
      const bytes = Buffer.from(text, "latin1");
      expect({ text, ...prefixOf(bytes, bytes.length) }).toEqual({
        text,
        ...expectedPrefix(hex),
      });
    }
  });

  /** Random bytes of each length, hashed whole, against node:crypto. */
  function expectLengthsMatchNode(lengths: readonly number[], seed: number): void {
    const random = prng(seed);
    for (const length of lengths) {
      const bytes = randomBytes(length, random);
      expect({ length, ...prefixOf(bytes, length) }).toEqual({
        length,
        ...expectedPrefix(nodeMd5(bytes)),
      });
    }
  }

  test("every length 0..300 of random bytes matches node:crypto", () => {
    expectLengthsMatchNode(
      Array.from({ length: 301 }, (_, length) => length),
      1321,
    );
  });

  test("lengths around the block and padding boundaries, and beyond 64 KiB", () => {
    const lengths = [55, 56, 57, 63, 64, 65, 119, 120, 121, 127, 128, 129, 1000, 4095, 4096];
    expectLengthsMatchNode([...lengths, 65535, 65536, 65537, 200_003], 64);
  });

  test("bytes after `length` are ignored, and a shorter call after a longer one is clean", () => {
    const random = prng(7);
    // One big buffer hashed at many lengths, in an order where the tail left by a longer call is
    // followed by shorter ones (the reused padding block must not keep its bytes).
    const bytes = randomBytes(5000, random);
    const lengths = [4999, 0, 300, 57, 3, 130, 56, 1, 64, 2000, 63, 120];
    for (let i = 0; i < 200; i++) lengths.push(Math.floor(random() * bytes.length));
    for (const length of lengths) {
      expect({ length, ...prefixOf(bytes, length) }).toEqual({
        length,
        ...expectedPrefix(nodeMd5(bytes.subarray(0, length))),
      });
    }
  });

  test("a plain Uint8Array, and a view at an offset into a larger buffer", () => {
    const random = prng(99);
    const backing = randomBytes(1024, random);
    const plain = new Uint8Array(backing.buffer, backing.byteOffset, backing.length);
    expect(prefixOf(plain, 700)).toEqual(expectedPrefix(nodeMd5(backing.subarray(0, 700))));
    // A view starting at an odd offset, with garbage after its `length`.
    const view = backing.subarray(13, 513);
    expect(prefixOf(view, 250)).toEqual(expectedPrefix(nodeMd5(backing.subarray(13, 263))));
    expect(prefixOf(view, view.length)).toEqual(expectedPrefix(nodeMd5(view)));
  });

  test("the prefix is what HashSum.addHex parses from the hex digest", () => {
    const random = prng(2024);
    const viaHex = new HashSum();
    let viaPrefix = 0n;
    for (let i = 0; i < 500; i++) {
      const bytes = randomBytes(Math.floor(random() * 700), random);
      viaHex.addHex(nodeMd5(bytes));
      md5PrefixOf(bytes, bytes.length);
      expect(md5Prefix.high).toBeLessThan(2 ** 28);
      expect(md5Prefix.low).toBeLessThan(2 ** 32);
      expect(md5Prefix.low).toBeGreaterThanOrEqual(0);
      viaPrefix += (BigInt(md5Prefix.high) << 32n) + BigInt(md5Prefix.low);
    }
    expect(viaPrefix).toBe(viaHex.total());
  });

  test("UTF-8 checksum text as the migration writes it", () => {
    for (const text of ['5:Zoë "Z"1:😀N0:', "12:abc3:def", "é".repeat(300)]) {
      const bytes = Buffer.from(text, "utf8");
      expect(prefixOf(bytes, bytes.length)).toEqual(expectedPrefix(nodeMd5(bytes)));
    }
  });

  test("a length outside the bytes is an error, not a hash of zeros", () => {
    const bytes = Buffer.alloc(10);
    expect(() => md5PrefixOf(bytes, 11)).toThrow(RangeError);
    expect(() => md5PrefixOf(bytes, -1)).toThrow(RangeError);
    expect(() => md5PrefixOf(bytes, 1.5)).toThrow(RangeError);
    expect(() => md5PrefixOf(bytes, NaN)).toThrow(RangeError);
  });
});

describe("md5Lanes: four MD5s at once in WebAssembly SIMD", () => {
  const lanes = md5Lanes();

  test("this Node runs WebAssembly SIMD (else the row hashes fall back to md5PrefixOf)", () => {
    expect(lanes).toBeDefined();
  });

  /** Runs up to four messages through the lanes; each lane's A and B words against node:crypto. */
  function expectLanesMatchNode(messages: readonly Buffer[]): void {
    const blocks = [0, 0, 0, 0];
    messages.forEach((m, i) => {
      m.copy(lanes!.slots[i]);
      blocks[i] = padSlot(lanes!.slots[i], m.length);
    });
    lanes!.run(blocks[0], blocks[1], blocks[2], blocks[3]);
    messages.forEach((m, i) => {
      const digest = createHash("md5").update(m).digest();
      expect({ length: m.length, a: lanes!.words[i], b: lanes!.words[4 + i] }).toEqual({
        length: m.length,
        a: digest.readInt32LE(0),
        b: digest.readInt32LE(4),
      });
    });
  }

  test("lanes of different lengths (so of different block counts) side by side", () => {
    const random = prng(404);
    for (let round = 0; round < 400; round++) {
      const longest = round % 4 === 0 ? SLOT_MESSAGE_BYTES + 1 : 200;
      expectLanesMatchNode(
        [0, 1, 2, 3].map(() => randomBytes(Math.floor(random() * longest), random)),
      );
    }
  });

  test("the padding boundaries, the slot's largest message, and fewer than four lanes", () => {
    const random = prng(55);
    const boundaries = [0, 55, 56, 57, 63, 64, 65, 119, 120, 121, 2047, SLOT_MESSAGE_BYTES];
    for (let i = 0; i < boundaries.length; i += 4) {
      expectLanesMatchNode(boundaries.slice(i, i + 4).map((n) => randomBytes(n, random)));
    }
    // A lane that is not run keeps nothing of an earlier run in the others' results.
    expectLanesMatchNode([randomBytes(3, random)]);
    expectLanesMatchNode([randomBytes(700, random), randomBytes(1, random)]);
  });

  test("a slot reused for a shorter message after a longer one is padded clean", () => {
    const random = prng(8);
    expectLanesMatchNode([1500, 1500, 1500, 1500].map((n) => randomBytes(n, random)));
    expectLanesMatchNode([10, 70, 130, 0].map((n) => randomBytes(n, random)));
  });
});

describe("row hashes through the four lanes: queued, then added before any sum is read", () => {
  const columns = [
    { name: "id", value: { kind: "integer" } },
    { name: "text", value: { kind: "string" } },
  ] as unknown as MigrationColumn[];

  /** The sum of the 60-bit prefixes of each row's checksum text, by node:crypto. */
  function expectedSum(rows: readonly (readonly (string | null)[])[]): bigint {
    let sum = 0n;
    for (const row of rows) {
      const text = row.map((v) => (v === null ? "N" : `${[...v].length}:${v}`)).join("");
      sum += BigInt(`0x${createHash("md5").update(text, "utf8").digest("hex").slice(0, 15)}`);
    }
    return sum;
  }

  test("hashes queued for two sums land in each, whichever sum is read first", () => {
    const random = prng(31);
    const odd = new HashSum();
    const even = new HashSum();
    const rows: [string, string | null][] = [];
    for (let i = 0; i < 103; i++) {
      // Some texts too long for a slot (hashed at once) between the queued ones.
      const length = i % 17 === 0 ? 3000 : Math.floor(random() * 300);
      rows.push([String(i), i % 11 === 0 ? null : "é😀x".repeat(length / 3)]);
    }
    rows.forEach((row, i) => addRowTextHash(i % 2 === 1 ? odd : even, columns, row));
    // 103 rows: three left queued until a total() runs them, for both sums.
    expect(odd.total()).toBe(expectedSum(rows.filter((_, i) => i % 2 === 1)));
    expect(even.total()).toBe(expectedSum(rows.filter((_, i) => i % 2 === 0)));
  });
});
