/** Per-table progress lines on stderr (rows, rows/s, ETA), at most once per interval. */
export class TableProgress {
  private readonly started = Date.now();
  private lastPrinted = 0;
  constructor(
    private readonly table: string,
    /** The rows to expect, once known: settable, for a count that arrives after the start. */
    public expectedRows: number | undefined,
    private readonly write: (line: string) => void,
    private readonly intervalMs = 1000,
  ) {}

  update(rows: number, force = false): void {
    const now = Date.now();
    if (!force && now - this.lastPrinted < this.intervalMs) return;
    this.lastPrinted = now;
    const seconds = Math.max((now - this.started) / 1000, 0.001);
    const rate = rows / seconds;
    const expected = this.expectedRows;
    const eta =
      rate > 0 && expected !== undefined
        ? `${Math.ceil(Math.max(expected - rows, 0) / rate)}s`
        : "?";
    this.write(
      `${this.table}: ${rows}/${expected ?? "?"} rows, ${Math.round(rate)} rows/s, ETA ${eta}`,
    );
  }

  elapsedSeconds(): number {
    return (Date.now() - this.started) / 1000;
  }
}

/** A plain-text table for the final summary. */
export function formatTable(
  header: readonly string[],
  rows: readonly (readonly string[])[],
): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]))
      .join("  ")
      .trimEnd();
  return [line(header), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n");
}
