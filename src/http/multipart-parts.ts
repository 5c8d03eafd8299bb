import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { join } from 'node:path';
import { type Readable, Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';

import type busboy from 'busboy';

import { PayloadTooLargeError, ValidationError } from '../core/errors';
import { type FileTaker, type ReadMultipartOptions, type SpooledFile } from './multipart';

/**
 * How much each stage of a file part's way may buffer: large enough that a part flows without a
 * pause per network read, small beside an upload chunk.
 */
export const PART_BUFFER_BYTES = 1024 * 1024;

/** Passes bytes through unchanged and reports each chunk, so counting keeps backpressure intact. */
function tap(onChunk: (chunk: Buffer) => void): Transform {
  return new Transform({
    highWaterMark: PART_BUFFER_BYTES,
    transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback) {
      try {
        onChunk(chunk);
        callback(null, chunk);
      } catch (error) {
        callback(error as Error);
      }
    },
  });
}

export function tooLarge(what: string, limit: number, path: string): PayloadTooLargeError {
  return new PayloadTooLargeError(`${what} is larger than ${limit} bytes.`, limit, path);
}

const noFileName = (name: string, path: string) =>
  new ValidationError({
    path,
    message: `part "${name}" has no file name (send files with a filename in Content-Disposition)`,
  });

const givenTwice = (name: string) =>
  new ValidationError({ path: name, message: 'is given more than once' });

/** What the part handlers share while one body is read (`readMultipart` keeps it). */
export interface PartReader {
  readonly options: ReadMultipartOptions;
  /** The request's temporary folder. */
  readonly dir: string;
  readonly fields: Map<string, string>;
  readonly files: SpooledFile[];
  /** Each file part's spooling or taker, settled before the body answers. */
  readonly writes: Promise<void>[];
  /** Aborted, with the reason, when the body fails. */
  readonly failed: AbortSignal;
  /** The body's first failure, if any. */
  failure(): Error | undefined;
  /** Fails the body (the first failure is the answer). */
  fail(error: Error): void;
  /** Position of the next file part (`files[i]` in error paths). */
  nextIndex(): number;
  /** Counts file bytes against the total of all file parts; throws past it. */
  countFileBytes(bytes: number, path: string): void;
  /** The taker of file parts, asked once (when the first file part begins); may throw. */
  taker(): FileTaker | undefined;
}

/** A text part: one of the named fields, once and within its limit; anything else is refused. */
export function onFieldPart(
  reader: PartReader,
  name: string,
  value: string,
  info: busboy.FieldInfo,
): void {
  const { options, fields } = reader;
  if (!options.fieldNames.includes(name)) {
    reader.fail(noFileName(name, `files[${reader.nextIndex()}]`));
  } else if (info.valueTruncated) {
    reader.fail(tooLarge(`The ${name} part`, options.maxFieldBytes, name));
  } else if (fields.has(name)) {
    reader.fail(givenTwice(name));
  } else fields.set(name, value);
}

/**
 * A named field sent as a blob (some clients do): read like a field, within the same limit,
 * counted while it streams and destroyed at the limit.
 */
function readBlobField(reader: PartReader, name: string, stream: Readable): void {
  const { maxFieldBytes } = reader.options;
  const chunks: Buffer[] = [];
  let size = 0;
  stream.on('data', (chunk: Buffer) => {
    size += chunk.length;
    if (size > maxFieldBytes) {
      chunks.length = 0;
      stream.destroy();
      reader.fail(tooLarge(`The ${name} part`, maxFieldBytes, name));
      return;
    }
    chunks.push(chunk);
  });
  stream.on('end', () => {
    if (reader.fields.has(name)) reader.fail(givenTwice(name));
    else reader.fields.set(name, Buffer.concat(chunks).toString('utf8'));
  });
}

/** Hands the part to the taker, its bytes counted on the way. */
function handToTaker(
  reader: PartReader,
  taker: FileTaker,
  file: SpooledFile,
  stream: Readable,
  count: (chunk: Buffer) => void,
): void {
  const counted = tap(count);
  // A part cut short (the connection closed) reports why the body failed.
  stream.on('error', (error: Error) => counted.destroy(reader.failure() ?? error));
  reader.writes.push(
    taker({
      field: file.field,
      index: file.index,
      filename: file.filename,
      contentType: file.contentType,
      stream: stream.pipe(counted),
      path: file.path,
      signal: reader.failed,
    }).catch((error: Error) => reader.fail(error)),
  );
}

/** Writes the part to its temporary file, taking its sha256 (an idempotency fingerprint). */
function spool(
  reader: PartReader,
  file: SpooledFile,
  stream: Readable,
  count: (chunk: Buffer) => void,
): void {
  const fileHash = createHash('sha256');
  reader.files.push(file);
  const counter = tap((chunk) => {
    fileHash.update(chunk);
    count(chunk);
  });
  reader.writes.push(
    pipeline(stream, counter, createWriteStream(file.path)).then(
      () => void (file.sha256 = fileHash.digest('hex')),
      (error: Error) => reader.fail(error),
    ),
  );
}

/** A file part: a named field sent as a blob, or a file spooled or handed to the taker. */
export function onFilePart(
  reader: PartReader,
  name: string,
  stream: Readable,
  info: busboy.FileInfo,
): void {
  const { options } = reader;
  if (options.fieldNames.includes(name)) {
    readBlobField(reader, name, stream);
    return;
  }
  const index = reader.nextIndex();
  const path = `files[${index}]`;
  if (!info.filename) {
    stream.resume();
    reader.fail(noFileName(name, path));
    return;
  }
  const file: SpooledFile = {
    field: name,
    index,
    filename: info.filename,
    contentType: info.mimeType || 'application/octet-stream',
    size: 0,
    sha256: '',
    path: join(reader.dir, String(index)),
  };
  stream.on('limit', () =>
    reader.fail(tooLarge(`File part ${path} (${info.filename})`, options.maxFileBytes, path)),
  );
  const count = (chunk: Buffer) => {
    file.size += chunk.length;
    reader.countFileBytes(chunk.length, path);
  };
  let taker: FileTaker | undefined;
  try {
    taker = reader.taker();
  } catch (error) {
    stream.resume();
    reader.fail(error as Error);
    return;
  }
  if (taker) handToTaker(reader, taker, file, stream, count);
  else spool(reader, file, stream, count);
}
