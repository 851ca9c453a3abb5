import { createHash } from "node:crypto";
import { HashSum } from "../../src/data/checksum";

describe("HashSum: 60-bit hashes summed exactly without a BigInt per row", () => {
  test("a full hex digest and its first 15 digits add the same value as the BigInt hash", () => {
    const texts = ["", "a", 'Zoë "Z" O\'Brien, 😀', "12:abc3:def", "x".repeat(1000)];
    const fromFullDigest = new HashSum();
    const fromHex = new HashSum();
    let expected = 0n;
    for (const text of texts) {
      const digest = createHash("md5").update(text, "utf8").digest();
      fromFullDigest.addHex(digest.toString("hex"));
      fromHex.addHex(digest.toString("hex").slice(0, 15));
      // The definition: the first 15 hex digits (60 bits) of the MD5 as an integer.
      expected += BigInt(`0x${digest.toString("hex").slice(0, 15)}`);
    }
    expect(fromFullDigest.total()).toBe(expected);
    expect(fromHex.total()).toBe(expected);
  });

  test("the largest hashes, more times than the doubles can hold unfolded, sum exactly", () => {
    const sum = new HashSum();
    const count = (1 << 20) * 2 + 7;
    for (let i = 0; i < count; i++) sum.addHex("fffffffffffffff");
    expect(sum.total()).toBe((2n ** 60n - 1n) * BigInt(count));
    // total() folds; adding after it continues from the folded value.
    sum.addHex("000000000000001");
    expect(sum.total()).toBe((2n ** 60n - 1n) * BigInt(count) + 1n);
  });

  test("upper- and lower-case hex digits are the same hash", () => {
    const lower = new HashSum();
    const upper = new HashSum();
    for (const hex of ["0123456789abcde", "fedcba987654321", "00000000000000a"]) {
      lower.addHex(hex);
      upper.addHex(hex.toUpperCase());
    }
    expect(upper.total()).toBe(lower.total());
    expect(lower.total()).toBe(0x0123456789abcden + 0xfedcba987654321n + 0xan);
  });
});
