import { UpstreamError } from '../core/errors';

/** Bytes to upload: read from the start each time `open` is called. */
export interface UploadSource {
  size: number;
  open(): AsyncIterable<Uint8Array>;
  /** Random access (a file): reads from `position` into `into`, returns how many bytes (0 at the end). */
  readAt?: (into: Uint8Array, position: number) => Promise<number>;
}

interface Held {
  offset: number;
  bytes: Buffer;
}

/**
 * Reads `[offset, offset + length)` ranges from a source that can only be read from the start.
 * It holds the last two ranges read (the chunk on its way to the server and the one read ahead
 * while it travels), so a retry, or a resume anywhere inside them, is served from memory; it goes
 * forward through the stream otherwise, and reopens the source only for bytes before those.
 * A source with `readAt` (a file) is read straight into the chunk instead, wherever asked.
 * Reads run one at a time, in the order they were asked for. At most two chunks are in memory:
 * the oldest one's memory takes the next.
 */
export class ChunkReader {
  private iterator: AsyncIterator<Uint8Array> | undefined;
  /** Stream offset of `pending[0]`. */
  private position = 0;
  private pending: Buffer = Buffer.alloc(0);
  private held: Held[] = [];
  /** Why the stream stopped: asked again, a broken stream gives the same answer. */
  private failure: Error | undefined;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly source: UploadSource) {}

  read(offset: number, length: number): Promise<Buffer> {
    const result = this.queue.then(() => this.readNow(offset, length));
    this.queue = result.catch(() => undefined);
    return result;
  }

  /** Starts reading a range now, for a `read` of it later (whose failure, if any, it reports). */
  readAhead(offset: number, length: number): void {
    void this.read(offset, length).catch(() => undefined);
  }

  /**
   * Lets go of the source without waiting: a read may still wait on a live stream (a client that
   * sends slowly), which then ends when its stream does.
   */
  close(): void {
    const iterator = this.iterator;
    this.iterator = undefined;
    this.held = [];
    void Promise.resolve(iterator?.return?.()).catch(() => undefined);
  }

  private async readNow(offset: number, length: number): Promise<Buffer> {
    const within = this.held.find(
      (h) => offset >= h.offset && offset + length <= h.offset + h.bytes.length,
    );
    if (within)
      return within.bytes.subarray(offset - within.offset, offset - within.offset + length);
    const heldEnd = Math.max(0, ...this.held.map((h) => h.offset + h.bytes.length));
    // Going on past what is held (the usual step), the oldest chunk's memory is reused: its
    // upload is over. Anything else (a resume inside the chunk in flight) gets fresh memory.
    const oldest = this.held.length > 1 && offset >= heldEnd ? this.held[0]!.bytes : undefined;
    const out =
      oldest && oldest.buffer.byteLength >= length
        ? Buffer.from(oldest.buffer, 0, length)
        : Buffer.allocUnsafeSlow(length); // never pooled: its memory is ours to reuse
    // From memory as far as the held ranges reach...
    let filled = 0;
    for (const h of this.held) {
      const at = offset + filled;
      if (filled < length && at >= h.offset && at < h.offset + h.bytes.length) {
        filled += h.bytes.copy(out, filled, at - h.offset, at - h.offset + length - filled);
      }
    }
    // ...then from the stream, keeping only the newest range held before it is read on.
    this.held = this.held.slice(-1);
    await this.fill(out, offset + filled, filled);
    this.held.push({ offset, bytes: out });
    return out;
  }

  private async fill(out: Buffer, offset: number, start: number): Promise<void> {
    if (this.source.readAt) return this.fillAt(this.source.readAt, out, offset, start);
    // A stream that failed stays failed: going back would read bytes it may never give again.
    if (this.failure !== undefined) throw this.failure;
    if (!this.iterator || offset < this.position) await this.reopen();
    let filled = start;
    while (filled < out.length) {
      if (this.pending.length === 0) {
        await this.next();
        continue;
      }
      if (this.position < offset) {
        const skip = Math.min(offset - this.position, this.pending.length);
        this.pending = this.pending.subarray(skip);
        this.position += skip;
        continue;
      }
      const take = Math.min(out.length - filled, this.pending.length);
      this.pending.copy(out, filled, 0, take);
      filled += take;
      this.pending = this.pending.subarray(take);
      this.position += take;
    }
  }

  /** Straight into `out` from a random-access source: no stream, no buffers but the chunk's. */
  private async fillAt(
    readAt: NonNullable<UploadSource['readAt']>,
    out: Buffer,
    offset: number,
    start: number,
  ): Promise<void> {
    for (let at = start; at < out.length;) {
      const position = offset + at - start;
      const read = await readAt(out.subarray(at), position);
      if (read === 0) {
        throw new UpstreamError(
          'graph_error',
          `The attachment ended after ${position} of ${this.source.size} bytes.`,
        );
      }
      at += read;
    }
  }

  private async next(): Promise<void> {
    const iterator = this.iterator;
    if (!iterator) throw new UpstreamError('graph_error', 'The attachment upload was stopped.');
    let next: IteratorResult<Uint8Array>;
    try {
      next = await iterator.next();
    } catch (error) {
      this.failure = error as Error;
      throw error;
    }
    if (next.done) {
      this.failure = new UpstreamError(
        'graph_error',
        `The attachment ended after ${this.position} of ${this.source.size} bytes.`,
      );
      throw this.failure;
    }
    this.pending = Buffer.from(next.value.buffer, next.value.byteOffset, next.value.byteLength);
  }

  private async reopen(): Promise<void> {
    const old = this.iterator;
    this.iterator = undefined;
    await old?.return?.();
    this.position = 0;
    this.pending = Buffer.alloc(0);
    this.iterator = this.source.open()[Symbol.asyncIterator]();
  }
}
