import { historyProblems, type AppliedRecord } from "./history";
import type { MigrationFile } from "./files";

const file = (timestamp: number, name: string, checksum = `sum-${name}`): MigrationFile => ({
  name: `${timestamp}_${name}`,
  fileName: `${timestamp}_${name}.sql`,
  path: `/m/${timestamp}_${name}.sql`,
  timestamp,
  language: "sql",
  checksum,
  content: "",
});
/** `null`: applied by another tool, without a checksum. */
const applied = (f: MigrationFile, checksum: string | null = f.checksum): AppliedRecord => ({
  name: f.name,
  appliedAt: new Date(0),
  ...(checksum ? { checksum } : {}),
});

const a = file(1000000000001, "a");
const b = file(1000000000002, "b");
const c = file(1000000000003, "c");

describe("historyProblems", () => {
  it("accepts applied files in order followed by pending ones", () => {
    expect(historyProblems([applied(a), applied(b)], [a, b, c])).toEqual([]);
  });

  it("names every edited, removed and checksum-less migration at once", () => {
    const problems = historyProblems([applied(a, "old"), applied(b), applied(c, null)], [a, c]);
    expect(problems.map((p) => [p.kind, p.name])).toEqual([
      ["edited", a.name],
      ["removed", b.name],
      ["unrecorded", c.name],
    ]);
  });

  it("flags a pending file that sorts before the last applied one", () => {
    expect(
      historyProblems([applied(a), applied(c)], [a, b, c]).map((p) => [p.kind, p.name]),
    ).toEqual([["reordered", b.name]]);
  });

  it("flags applied files whose order on disk no longer matches the order they ran in", () => {
    expect(historyProblems([applied(b), applied(a)], [a, b]).map((p) => [p.kind, p.name])).toEqual([
      ["reordered", b.name],
    ]);
  });
});
