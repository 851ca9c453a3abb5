/**
 * A page's encoded lines, kept as UTF-8 bytes outside the JavaScript heap. Each line is written
 * into a chunk as soon as it is encoded, so its string is garbage at once and dies young. Keeping
 * the page as an array of strings made every line survive several young-generation collections
 * and be promoted before the page was written: copying survivors was the copy's largest single
 * cost (about a fifth of its CPU time).
 */

/** Chunk size: large enough that chunk bookkeeping is rare, small enough to not waste memory. */
const CHUNK_BYTES = 1 << 20;
/** Most UTF-8 bytes one UTF-16 code unit encodes to (a lone surrogate is written as 3 bytes). */
const MAX_BYTES_PER_UNIT = 3;

export class PageBuffer {
  private readonly full: Buffer[] = [];
  private chunk: Buffer = Buffer.allocUnsafe(CHUNK_BYTES);
  private used = 0;
  /** Lines appended. */
  lines = 0;

  append(line: string): void {
    const worst = line.length * MAX_BYTES_PER_UNIT;
    if (this.used + worst > this.chunk.length) {
      if (this.used > 0) this.retire();
      if (worst > this.chunk.length) {
        // A line larger than a chunk gets a buffer of its own.
        this.full.push(Buffer.from(line, "utf8"));
        this.lines++;
        return;
      }
    }
    this.used += this.chunk.write(line, this.used, "utf8");
    this.lines++;
  }

  /** The bytes written so far, in order (views of the chunks, not copies). */
  chunks(): Buffer[] {
    return this.used === 0 ? [...this.full] : [...this.full, this.chunk.subarray(0, this.used)];
  }

  private retire(): void {
    this.full.push(this.chunk.subarray(0, this.used));
    this.chunk = Buffer.allocUnsafe(CHUNK_BYTES);
    this.used = 0;
  }
}
