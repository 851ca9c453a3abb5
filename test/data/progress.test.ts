/**
 * A lane's progress line. The range's row count arrives after its first pages (it runs beside
 * them on the second source connection), so the line must read sensibly without it.
 */
import { TableProgress } from "../../src/data/progress";

describe("TableProgress", () => {
  test("prints rows of an unknown total, then the total and an ETA once the count arrives", () => {
    const lines: string[] = [];
    const progress = new TableProgress("events[1/4]", undefined, (line) => lines.push(line), 0);
    progress.update(10_000);
    progress.expectedRows = 250_000;
    progress.update(20_000);
    progress.update(250_000, true);
    expect(
      lines.map((l) => l.replace(/\d+ rows\/s/, "R rows/s").replace(/ETA \d+s/, "ETA Ns")),
    ).toEqual([
      "events[1/4]: 10000/? rows, R rows/s, ETA ?",
      "events[1/4]: 20000/250000 rows, R rows/s, ETA Ns",
      "events[1/4]: 250000/250000 rows, R rows/s, ETA Ns",
    ]);
    expect(lines[2]).toMatch(/ETA 0s$/);
  });

  test("prints at most once per interval unless forced", () => {
    const lines: string[] = [];
    const progress = new TableProgress("users", 10, (line) => lines.push(line), 60_000);
    progress.update(1);
    progress.update(2);
    progress.update(10, true);
    expect(lines.map((l) => l.split(",")[0])).toEqual(["users: 1/10 rows", "users: 10/10 rows"]);
  });
});
