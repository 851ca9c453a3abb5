/**
 * A page's encoded lines, kept as UTF-8 bytes outside the JavaScript heap. Each line is written
 * into a chunk as soon as it is encoded, so its string is garbage at once and dies young. Keeping
 * the page as an array of strings made every line survive several young-generation collections
 * and be promoted before the page was written: copying survivors was the copy's largest single
 * cost (about a fifth of its CPU time).
 *
 * Chunks are reused by later pages once a page is written (`release`): a fresh 1 MB buffer per
 * chunk counted as external memory, which made V8 run full collections far more often.
 */

/** Chunk size: large enough that chunk bookkeeping is rare, small enough to not waste memory. */
const CHUNK_BYTES = 1 << 20;
/** Most UTF-8 bytes one UTF-16 code unit encodes to (a lone surrogate is written as 3 bytes). */
const MAX_BYTES_PER_UNIT = 3;
/** Spare chunks kept per thread: two pages in flight of a few MB each. */
const MAX_SPARE_CHUNKS = 16;

/** Released chunks, per thread (module state is per worker thread). */
const spareChunks: Buffer[] = [];

export class PageBuffer {
  /** Filled buffers, in order, and how many bytes of each are used. */
  private readonly filled: Buffer[] = [];
  private readonly filledBytes: number[] = [];
  private chunk: Buffer | undefined;
  private used = 0;
  private released = false;
  /** Lines appended. */
  lines = 0;

  append(line: string): void {
    if (this.released) throw new Error("PageBuffer used after release");
    const worst = line.length * MAX_BYTES_PER_UNIT;
    if (this.chunk === undefined || this.used + worst > this.chunk.length) {
      this.retire();
      if (worst > CHUNK_BYTES) {
        // A line larger than a chunk gets a buffer of its own.
        const own = Buffer.from(line, "utf8");
        this.filled.push(own);
        this.filledBytes.push(own.length);
        this.lines++;
        return;
      }
      this.chunk = spareChunks.pop() ?? Buffer.allocUnsafe(CHUNK_BYTES);
    }
    this.used += this.chunk.write(line, this.used, "utf8");
    this.lines++;
  }

  /** The bytes written so far, in order: views of the chunks, valid until `release`. */
  chunks(): Buffer[] {
    const views = this.filled.map((b, i) => b.subarray(0, this.filledBytes[i]));
    if (this.chunk !== undefined && this.used > 0) views.push(this.chunk.subarray(0, this.used));
    return views;
  }

  /** The page is written: its chunks may be reused by the next pages. */
  release(): void {
    if (this.released) return;
    this.released = true;
    this.retire();
    for (const b of this.filled) {
      if (b.length === CHUNK_BYTES && spareChunks.length < MAX_SPARE_CHUNKS) spareChunks.push(b);
    }
    this.filled.length = 0;
    this.filledBytes.length = 0;
  }

  private retire(): void {
    if (this.chunk !== undefined && this.used > 0) {
      this.filled.push(this.chunk);
      this.filledBytes.push(this.used);
    } else if (this.chunk !== undefined && spareChunks.length < MAX_SPARE_CHUNKS) {
      spareChunks.push(this.chunk);
    }
    this.chunk = undefined;
    this.used = 0;
  }
}
