/**
 * The page check of keyset pagination: a page with a key outside its range (the bug that made the
 * last page of a table be read again forever) is an internal error naming the range and the keys.
 */
import { EXIT_CODES } from "../../src/cli/exit-codes";
import { checkPageKeys, KeyRangeOverrunError } from "../../src/data/key-ranges";

describe("checkPageKeys", () => {
  test("a page inside its range, in key order, passes", () => {
    expect(() => checkPageKeys("events", { after: 7n, upTo: 14n }, 8n, 14n)).not.toThrow();
    expect(() => checkPageKeys("events", {}, -5n, -5n)).not.toThrow();
    expect(() => checkPageKeys("events", { upTo: 3n }, 1n, 3n)).not.toThrow();
  });

  test("a page that starts at or before its lower bound would not advance: an internal error", () => {
    let error: unknown;
    try {
      checkPageKeys("events[2/4]", { after: 7n, upTo: 14n }, 7n, 13n);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(KeyRangeOverrunError);
    expect((error as KeyRangeOverrunError).kind).toBe("internal");
    expect(EXIT_CODES[(error as KeyRangeOverrunError).kind]).toBe(70);
    expect((error as Error).message).toBe(
      "events[2/4]: a page of key range (7, 14] came back with keys 7..13, not inside it in key order: " +
        "the key-range condition is wrong, and the paging would not advance; stopped before using that page",
    );
  });

  test("a page past its upper bound, or out of key order, is refused too", () => {
    expect(() => checkPageKeys("users", { upTo: 10n }, 8n, 11n)).toThrow(
      /^users: a page of key range \(start, 10\] came back with keys 8\.\.11, not inside it/,
    );
    expect(() => checkPageKeys("users", { after: 1n }, 9n, 4n)).toThrow(
      /^users: a page of key range \(1, end\] came back with keys 9\.\.4, not inside it/,
    );
  });
});
