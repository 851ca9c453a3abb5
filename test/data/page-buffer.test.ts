import { PageBuffer } from "../../src/data/page-buffer";

describe("PageBuffer: a page's lines as UTF-8 chunks", () => {
  test("chunks hold exactly the UTF-8 of the lines, in order, across chunk boundaries", () => {
    const page = new PageBuffer();
    const lines: string[] = [];
    // ~3.5 MB of mixed one-, two-, three- and four-byte characters: several 1 MB chunks, with
    // lines ending near every boundary.
    for (let i = 0; i < 12_000; i++) {
      const line = `${i}\t${"é😀€a".repeat(i % 97)}\\N\t"${"x".repeat(i % 13)}"\n`;
      lines.push(line);
      page.append(line);
    }
    const chunks = page.chunks();
    expect(chunks.length).toBeGreaterThan(2);
    expect(Buffer.concat(chunks).equals(Buffer.from(lines.join(""), "utf8"))).toBe(true);
    expect(page.lines).toBe(12_000);
  });

  test("a line longer than a chunk gets its own buffer without reordering", () => {
    const page = new PageBuffer();
    const big = `${"ü".repeat(700_000)}\n`; // 1.4 MB of UTF-8, more than a chunk
    page.append("first\n");
    page.append(big);
    page.append("last\n");
    expect(Buffer.concat(page.chunks()).toString("utf8")).toBe(`first\n${big}last\n`);
    expect(page.lines).toBe(3);
  });

  test("an empty page has no bytes", () => {
    const page = new PageBuffer();
    expect(page.chunks()).toEqual([]);
    expect(page.lines).toBe(0);
  });

  test("a lone surrogate is written as U+FFFD, as Buffer.from writes it, and never overflows", () => {
    const page = new PageBuffer();
    const lines = Array.from({ length: 1000 }, (_, i) => `${"\ud800".repeat(i)}\n`);
    for (const line of lines) page.append(line);
    expect(Buffer.concat(page.chunks()).equals(Buffer.from(lines.join(""), "utf8"))).toBe(true);
  });

  test("a released page's chunks serve the next page, which holds exactly its own lines", () => {
    const first = new PageBuffer();
    for (let i = 0; i < 5000; i++) first.append(`first ${i} ${"a".repeat(400)}\n`);
    const firstChunks = first.chunks();
    first.release();
    expect(() => first.append("late\n")).toThrow("PageBuffer used after release");

    const second = new PageBuffer();
    const lines = Array.from({ length: 3000 }, (_, i) => `second ${i} ${"b".repeat(300)}\n`);
    for (const line of lines) second.append(line);
    const secondChunks = second.chunks();
    // The same memory, reused: the first page's chunks are not reallocated.
    expect(secondChunks.some((c) => firstChunks.some((f) => f.buffer === c.buffer))).toBe(true);
    expect(Buffer.concat(secondChunks).toString("utf8")).toBe(lines.join(""));
  });
});
