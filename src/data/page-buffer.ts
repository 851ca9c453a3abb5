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
  /**
   * Bytes used of the current chunk: where the line reserved by `reserve` starts in its buffer. A
   * field, not a getter: it is read once per row. Only `PageBuffer` itself changes it.
   */
  offset = 0;
  private released = false;
  /** Lines appended. */
  lines = 0;

  append(line: string): void {
    if (this.released) throw new Error("PageBuffer used after release");
    const worst = line.length * MAX_BYTES_PER_UNIT;
    if (this.chunk === undefined || this.offset + worst > this.chunk.length) {
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
    this.offset += this.chunk.write(line, this.offset, "utf8");
    this.lines++;
  }

  /**
   * Room for one line of at most `maxBytes` bytes, for an encoder that writes the line's bytes
   * itself (no string per line): the buffer to write into from `offset`, then `commit(end)`.
   */
  reserve(maxBytes: number): Buffer {
    if (this.released) throw new Error("PageBuffer used after release");
    if (this.chunk === undefined || this.offset + maxBytes > this.chunk.length) {
      this.retire();
      // A line larger than a chunk gets a buffer of its own.
      this.chunk =
        maxBytes > CHUNK_BYTES
          ? Buffer.allocUnsafe(maxBytes)
          : (spareChunks.pop() ?? Buffer.allocUnsafe(CHUNK_BYTES));
    }
    return this.chunk;
  }

  /** The reserved line ends at `end` (its buffer's offset just past its last byte). */
  commit(end: number): void {
    if (this.chunk === undefined || end < this.offset || end > this.chunk.length)
      throw new Error("PageBuffer.commit without a matching reserve");
    this.offset = end;
    this.lines++;
  }

  /** The bytes written so far, in order: views of the chunks, valid until `release`. */
  chunks(): Buffer[] {
    const views = this.filled.map((b, i) => b.subarray(0, this.filledBytes[i]));
    if (this.chunk !== undefined && this.offset > 0)
      views.push(this.chunk.subarray(0, this.offset));
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
    if (this.chunk !== undefined && this.offset > 0) {
      this.filled.push(this.chunk);
      this.filledBytes.push(this.offset);
    } else if (
      this.chunk !== undefined &&
      this.chunk.length === CHUNK_BYTES &&
      spareChunks.length < MAX_SPARE_CHUNKS
    ) {
      spareChunks.push(this.chunk);
    }
    this.chunk = undefined;
    this.offset = 0;
  }
}

/**
 * Values at least this long are written by the native UTF-8 encoder: a call costs ~0.1 µs, a
 * JavaScript loop ~6 ns per character, so short values (most of a row's) are cheaper in the loop.
 */
export const NATIVE_WRITE_UNITS = 24;

type Utf8Writer = (buffer: Buffer, s: string, at: number) => number;
/** `Buffer#utf8Write` skips `write`'s encoding dispatch; present in every Node we run on. */
const nativeUtf8Write: Utf8Writer =
  typeof (Buffer.prototype as { utf8Write?: unknown }).utf8Write === "function"
    ? (buffer, s, at) =>
        (buffer as Buffer & { utf8Write(s: string, at: number): number }).utf8Write(s, at)
    : (buffer, s, at) => buffer.write(s, at, "utf8");

/**
 * A DataView of the last buffer asked for, made again only when the buffer changes: byte loops that
 * load or store four bytes at a time call it per value, and one buffer (a page's chunk, a network
 * chunk, a scratch buffer) serves thousands of them. It keeps that one buffer alive.
 */
export class LastDataView {
  private bytes: Uint8Array | undefined;
  private view: DataView | undefined;

  of(bytes: Uint8Array): DataView {
    if (bytes !== this.bytes) {
      this.bytes = bytes;
      this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    }
    return this.view!;
  }
}

interface NativeSlices {
  utf8Slice(start: number, end: number): string;
  latin1Slice(start: number, end: number): string;
}
/** `Buffer#utf8Slice` and `#latin1Slice` skip `toString`'s encoding dispatch (as mysql2 uses them). */
const hasNativeSlices =
  typeof (Buffer.prototype as Partial<NativeSlices>).utf8Slice === "function" &&
  typeof (Buffer.prototype as Partial<NativeSlices>).latin1Slice === "function";

/** The text of the UTF-8 bytes `b[start, end)` (a sequence that is not UTF-8 reads as U+FFFD). */
export const utf8Text: (b: Buffer, start: number, end: number) => string = hasNativeSlices
  ? (b, start, end) => (b as Buffer & NativeSlices).utf8Slice(start, end)
  : (b, start, end) => b.toString("utf8", start, end);

/** The text of the bytes `b[start, end)`, one character per byte (for ASCII digits). */
export const latin1Text: (b: Buffer, start: number, end: number) => string = hasNativeSlices
  ? (b, start, end) => (b as Buffer & NativeSlices).latin1Slice(start, end)
  : (b, start, end) => b.toString("latin1", start, end);

/**
 * Writes `s` (its UTF-16 units `from` … `to`) as UTF-8 into `buffer` from `at` (room for 3 bytes
 * per unit is the caller's), returning the offset past it, exactly as `Buffer.write` does (a lone
 * surrogate becomes U+FFFD).
 */
export function writeUtf8(
  s: string,
  buffer: Buffer,
  at: number,
  to: number = s.length,
  from = 0,
): number {
  if (from === 0 && to === s.length && to >= NATIVE_WRITE_UNITS) {
    return at + nativeUtf8Write(buffer, s, at);
  }
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) {
      buffer[at++] = c;
      continue;
    }
    at = writeNonAscii(s, i, c, buffer, at);
    if (c >= 0xd800 && c <= 0xdbff && isLowSurrogate(s, i + 1)) i++;
  }
  return at;
}

export function isLowSurrogate(s: string, i: number): boolean {
  if (i >= s.length) return false;
  const c = s.charCodeAt(i);
  return c >= 0xdc00 && c <= 0xdfff;
}

/**
 * The UTF-8 bytes of the non-ASCII unit `c` at `s[i]` (with its low surrogate when it starts a
 * pair: the caller then skips that unit); returns the offset past them.
 */
export function writeNonAscii(s: string, i: number, c: number, buffer: Buffer, at: number): number {
  if (c < 0x800) {
    buffer[at++] = 0xc0 | (c >> 6);
    buffer[at++] = 0x80 | (c & 0x3f);
    return at;
  }
  if (c >= 0xd800 && c <= 0xdfff) {
    if (c <= 0xdbff && isLowSurrogate(s, i + 1)) {
      const cp = ((c - 0xd800) << 10) + (s.charCodeAt(i + 1) - 0xdc00) + 0x10000;
      buffer[at++] = 0xf0 | (cp >> 18);
      buffer[at++] = 0x80 | ((cp >> 12) & 0x3f);
      buffer[at++] = 0x80 | ((cp >> 6) & 0x3f);
      buffer[at++] = 0x80 | (cp & 0x3f);
      return at;
    }
    c = 0xfffd; // a lone surrogate, as Buffer.write and TextEncoder write it
  }
  buffer[at++] = 0xe0 | (c >> 12);
  buffer[at++] = 0x80 | ((c >> 6) & 0x3f);
  buffer[at++] = 0x80 | (c & 0x3f);
  return at;
}

/** Copies `bytes` (a short, pre-encoded piece such as a JSON key) into `buffer` at `at`. */
export function writeBytes(bytes: Uint8Array, buffer: Buffer, at: number): number {
  for (let i = 0; i < bytes.length; i++) buffer[at++] = bytes[i];
  return at;
}
