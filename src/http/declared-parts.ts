import { createReadStream, createWriteStream } from 'node:fs';
import { type Readable, Transform, type TransformCallback } from 'node:stream';
import { finished, pipeline } from 'node:stream/promises';

import { UpstreamError, ValidationError } from '../core/errors';
import { type AttachmentInput } from '../mail/send-types';
import { type IncomingFilePart, PART_BUFFER_BYTES } from './multipart';

/**
 * File parts whose sizes the `message` part declared (`fileSizes`), handed to the send while they
 * arrive: each is read once, live, by whoever opened it. Multipart parts come one after the other,
 * so a part that arrives while the send waits for another is spooled to its temporary file first
 * (right in any order, fastest in the order the send reads them).
 */

type Bytes = () => AsyncIterable<Uint8Array>;

/** A promise settled from outside. */
function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  promise.catch(() => undefined); // whoever awaits it hears of a failure
  return { promise, resolve, reject };
}

interface Slot {
  size: number;
  /** The send has started on this part (asked for its name, or its bytes). */
  wanted: boolean;
  read: boolean;
  arrived: boolean;
  /** The part's name and type once it begins. */
  header: ReturnType<typeof deferred<{ name: string; contentType: string }>>;
  /** The part's bytes (its live stream or its spool file). */
  bytes: ReturnType<typeof deferred<Bytes>>;
  /** Set while an arrived part waits for the send; calling it moves the part on. */
  release?: () => void;
}

/** Where a declared size is named in errors. */
export const declaredPath = (name: string) => `message.fileSizes.${name}`;

/** A file part whose size is not the one declared for it. */
export function sizeMismatch(
  part: { field: string; index: number },
  declared: number,
  what: string,
): ValidationError {
  return new ValidationError({
    path: `files[${part.index}]`,
    message: `part "${part.field}" ${what}; ${declaredPath(part.field)} declares ${declared}`,
  });
}

/** A file part the declaration does not name, or names once and gets twice. */
export function undeclaredPart(part: { field: string; index: number }, again: boolean) {
  return new ValidationError({
    path: `files[${part.index}]`,
    message: again
      ? `part "${part.field}" is given more than once`
      : `part "${part.field}" is not declared in message.fileSizes (declare the size of every file part, or of none)`,
  });
}

/** Declared parts the request does not contain. */
export function missingParts(names: string[]): ValidationError {
  return new ValidationError(
    names.map((name) => ({
      path: declaredPath(name),
      message: `declares a file part "${name}" that the request does not contain`,
    })),
  );
}

/** Passes the part through and fails it, naming the part, when it is not the declared size. */
function sizeCheck(part: IncomingFilePart, declared: number): Transform {
  let size = 0;
  return new Transform({
    highWaterMark: PART_BUFFER_BYTES,
    transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback) {
      size += chunk.length;
      if (size > declared)
        callback(sizeMismatch(part, declared, `has more than ${declared} bytes`));
      else callback(null, chunk);
    },
    flush(callback: TransformCallback) {
      callback(size === declared ? null : sizeMismatch(part, declared, `has ${size} bytes`));
    },
  });
}

/**
 * A part's bytes as they arrive. Its reader stops at the declared size; what follows is drained,
 * never kept, so the part is still checked to its end (a byte too many is a mismatch).
 */
async function* liveBytes(part: Readable): AsyncIterable<Uint8Array> {
  try {
    yield* part.iterator({ destroyOnReturn: false }) as AsyncIterable<Uint8Array>;
  } finally {
    part.resume();
  }
}

export class DeclaredParts {
  private readonly slots = new Map<string, Slot>();

  constructor(sizes: ReadonlyMap<string, number>) {
    for (const [name, size] of sizes) {
      this.slots.set(name, {
        size,
        wanted: false,
        read: false,
        arrived: false,
        header: deferred(),
        bytes: deferred(),
      });
    }
  }

  /**
   * A declared part as an attachment source: its size, its name and type once it begins, and its
   * bytes, readable once.
   */
  input(name: string): Required<Pick<AttachmentInput, 'size' | 'arrival' | 'open'>> {
    const slot = this.slots.get(name)!;
    const want = () => this.want(slot);
    return {
      size: slot.size,
      arrival: () => {
        want();
        return slot.header.promise;
      },
      async *open() {
        if (slot.read) {
          throw new UpstreamError(
            'graph_error',
            `The file part "${name}" was read as it arrived and cannot be read a second time.`,
          );
        }
        slot.read = true;
        want();
        yield* (await slot.bytes.promise)();
      },
    };
  }

  /** The send waits for `slot`: held parts move on, this one to the send, others to spool files. */
  private want(slot: Slot): void {
    slot.wanted = true;
    for (const other of this.slots.values()) other.release?.();
  }

  /** The multipart reader's `FileTaker`: settles once the part is read or spooled. */
  take = async (part: IncomingFilePart): Promise<void> => {
    const slot = this.slots.get(part.field);
    if (!slot || slot.arrived) {
      part.stream.resume();
      throw undeclaredPart(part, slot !== undefined);
    }
    slot.arrived = true;
    slot.header.resolve({ name: part.filename, contentType: part.contentType });
    const checked = part.stream.pipe(sizeCheck(part, slot.size));
    part.stream.on('error', (error: Error) => checked.destroy(error));
    // Its readers (the live iterator, `finished`, `pipeline`) hear of its errors themselves, but
    // once the body was disposed none may be listening, and an unheard 'error' crashes the process.
    checked.on('error', () => undefined);
    const { signal } = part;
    if (!slot.wanted && !this.sendWaitsElsewhere()) {
      // Held (the client waits) until its reader comes or a reader waits for another part.
      await new Promise<void>((resolve, reject) => {
        slot.release = resolve;
        if (signal.aborted) reject(signal.reason as Error);
        signal.addEventListener('abort', () => reject(signal.reason as Error), { once: true });
      }).finally(() => delete slot.release);
    }
    if (slot.wanted) {
      slot.bytes.resolve(() => liveBytes(checked));
      return finished(checked, { signal });
    }
    await pipeline(checked, createWriteStream(part.path), { signal });
    slot.bytes.resolve(() => createReadStream(part.path, { highWaterMark: 256 * 1024 }));
  };

  private sendWaitsElsewhere(): boolean {
    return [...this.slots.values()].some((s) => s.wanted && !s.arrived);
  }

  /**
   * After the body: when it failed, whatever the send still waits for is refused with why; when
   * it was read whole, every declared part it lacks is named. Throws what the caller should hear.
   */
  finish(failure?: Error): void {
    const missing = [...this.slots].filter(([, slot]) => !slot.arrived);
    const error =
      failure ?? (missing.length === 0 ? undefined : missingParts(missing.map(([name]) => name)));
    if (error === undefined) return;
    // Settled promises stay as they are; only the waiting hear of it.
    for (const slot of failure === undefined ? missing.map(([, s]) => s) : this.slots.values()) {
      slot.header.reject(error);
      slot.bytes.reject(error);
    }
    throw error;
  }
}
