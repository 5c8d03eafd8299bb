import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as NodeReadableStream } from 'node:stream/web';

import type { HttpRequest } from '@azure/functions';
import busboy from 'busboy';

import { type AppError, PayloadTooLargeError, ValidationError } from '../core/errors';

/** A file part written to a temporary file while it streamed in; its size is exact. */
export interface SpooledFile {
  /** The part's form field name. */
  field: string;
  /** Position among the file parts (`files[i]` in error paths). */
  index: number;
  filename: string;
  contentType: string;
  size: number;
  /** sha256 hex of the file's bytes (a fingerprint that does not depend on the boundary). */
  sha256: string;
  path: string;
}

export interface MultipartBody {
  /** The named text fields (`fieldNames`), by name. */
  fields: Map<string, string>;
  files: SpooledFile[];
  bytes: number;
  /** Deletes the temporary files. Safe to call more than once. */
  dispose(): Promise<void>;
}

export interface ReadMultipartOptions {
  /** Text fields the caller expects (e.g. `message`); every other part must be a file. */
  fieldNames: readonly string[];
  maxBodyBytes: number;
  maxFileBytes: number;
  /** Sum of all file parts. */
  maxTotalFileBytes: number;
  maxFieldBytes: number;
  maxFiles?: number;
  /** Parent folder of the per-request temporary folder (default: the OS temp folder). */
  tempDir?: string;
  abortSignal?: AbortSignal;
  /** Stops reading parts (the rest of the body is drained, so the client still gets the answer). */
  stopSignal?: AbortSignal;
  /**
   * Called once, when the first file part begins, with the fields read so far. A taker returned
   * gets that part and every later one instead of a temporary file: it reads the part's stream
   * (sizes already counted against the limits) and settles when it is done with it. Throwing
   * fails the body at once.
   */
  takeFiles?: (fields: ReadonlyMap<string, string>) => FileTaker | undefined;
}

/** A file part as it arrives; `stream` ends with the part. */
export interface IncomingFilePart {
  field: string;
  index: number;
  filename: string;
  contentType: string;
  stream: Readable;
  /** A temporary file the taker may spool the part to (deleted with the body). */
  path: string;
  /** Aborted (with the reason) when the body fails: a taker must then settle without waiting. */
  signal: AbortSignal;
}

export type FileTaker = (part: IncomingFilePart) => Promise<void>;

/**
 * How much each stage of a file part's way may buffer: one network read (64 KiB). What a stage
 * holds while the upload waits is socket buffers kept alive; at 1 MiB a stage the paused pipe
 * held several MiB, at this size the caller's socket is paused instead.
 */
export const PART_BUFFER_BYTES = 64 * 1024;

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

function tooLarge(what: string, limit: number, path: string): PayloadTooLargeError {
  return new PayloadTooLargeError(`${what} is larger than ${limit} bytes.`, limit, path);
}

/**
 * Streams a `multipart/form-data` body: named fields are kept as text, every other part is spooled
 * to its own temporary file while its size and sha256 are taken (idempotency fingerprints), or
 * handed to a taker, so a 150 MiB file never sits in memory. On any failure the temporary files
 * are deleted before the error is thrown.
 */
export async function readMultipart(
  request: HttpRequest,
  options: ReadMultipartOptions,
): Promise<MultipartBody> {
  const contentType = request.headers.get('content-type') ?? '';
  const dir = await mkdtemp(join(options.tempDir ?? tmpdir(), 'omf-upload-'));
  let disposed = false;
  const dispose = async () => {
    if (disposed) return;
    disposed = true;
    await rm(dir, { recursive: true, force: true });
  };

  const fields = new Map<string, string>();
  const files: SpooledFile[] = [];
  const writes: Promise<void>[] = [];
  let bytes = 0;
  let fileBytes = 0;
  let fileIndex = 0;
  let failure: AppError | Error | undefined;
  let taker: FileTaker | undefined;
  let takerAsked = false;
  const failed = new AbortController();

  try {
    let parser: busboy.Busboy;
    try {
      parser = busboy({
        headers: { 'content-type': contentType },
        defParamCharset: 'utf8',
        highWaterMark: PART_BUFFER_BYTES,
        fileHwm: PART_BUFFER_BYTES,
        limits: {
          // busboy reports reaching the limit; one byte more means "over" it.
          fileSize: options.maxFileBytes + 1,
          fieldSize: options.maxFieldBytes,
          files: options.maxFiles ?? 100,
          fields: options.fieldNames.length + 10,
        },
      });
    } catch (error) {
      throw new ValidationError({
        path: 'body',
        message: `is not valid multipart/form-data: ${(error as Error).message}`,
      });
    }
    const source = request.body
      ? Readable.fromWeb(request.body as NodeReadableStream<Uint8Array>)
      : Readable.from([]);

    const done = new Promise<void>((resolve, reject) => {
      const fail = (error: Error) => {
        if (!failure) {
          failure = error;
          failed.abort(error);
          // Stop parsing (ends the file streams) but keep reading what the client still sends,
          // up to the body limit, so it gets our answer instead of a reset connection.
          // Deferred: busboy is still inside its own event when most failures are noticed.
          setImmediate(() => parser.destroy());
          source.resume();
        }
        reject(failure);
      };

      parser.on('field', (name, value, info) => {
        if (options.fieldNames.includes(name)) {
          if (info.valueTruncated) {
            fail(tooLarge(`The ${name} part`, options.maxFieldBytes, name));
          } else if (fields.has(name)) {
            fail(new ValidationError({ path: name, message: 'is given more than once' }));
          } else fields.set(name, value);
          return;
        }
        fail(
          new ValidationError({
            path: `files[${fileIndex++}]`,
            message: `part "${name}" has no file name (send files with a filename in Content-Disposition)`,
          }),
        );
      });

      parser.on('file', (name, stream, info) => {
        if (options.fieldNames.includes(name)) {
          // A JSON part sent as a blob (some clients do): read it like a field, within the same
          // limit, counted while it streams and destroyed at the limit.
          const chunks: Buffer[] = [];
          let size = 0;
          stream.on('data', (chunk: Buffer) => {
            size += chunk.length;
            if (size > options.maxFieldBytes) {
              chunks.length = 0;
              stream.destroy();
              fail(tooLarge(`The ${name} part`, options.maxFieldBytes, name));
              return;
            }
            chunks.push(chunk);
          });
          stream.on('end', () => {
            if (fields.has(name)) {
              fail(new ValidationError({ path: name, message: 'is given more than once' }));
            } else fields.set(name, Buffer.concat(chunks).toString('utf8'));
          });
          return;
        }
        const index = fileIndex++;
        const path = `files[${index}]`;
        if (!info.filename) {
          stream.resume();
          fail(
            new ValidationError({
              path,
              message: `part "${name}" has no file name (send files with a filename in Content-Disposition)`,
            }),
          );
          return;
        }
        const file: SpooledFile = {
          field: name,
          index,
          filename: info.filename,
          contentType: info.mimeType || 'application/octet-stream',
          size: 0,
          sha256: '',
          path: join(dir, String(index)),
        };
        stream.on('limit', () =>
          fail(tooLarge(`File part ${path} (${info.filename})`, options.maxFileBytes, path)),
        );
        const count = (chunk: Buffer) => {
          file.size += chunk.length;
          fileBytes += chunk.length;
          if (fileBytes > options.maxTotalFileBytes) {
            throw tooLarge('The files together', options.maxTotalFileBytes, path);
          }
        };
        if (!takerAsked) {
          takerAsked = true;
          try {
            taker = options.takeFiles?.(fields);
          } catch (error) {
            stream.resume();
            fail(error as Error);
            return;
          }
        }
        if (taker) {
          const counted = tap(count);
          // A part cut short (the connection closed) reports why the body failed.
          stream.on('error', (error: Error) => counted.destroy(failure ?? error));
          writes.push(
            taker({
              field: name,
              index,
              filename: file.filename,
              contentType: file.contentType,
              stream: stream.pipe(counted),
              path: file.path,
              signal: failed.signal,
            }).catch((error: Error) => fail(error)),
          );
          return;
        }
        const fileHash = createHash('sha256');
        files.push(file);
        const counter = tap((chunk) => {
          fileHash.update(chunk);
          count(chunk);
        });
        writes.push(
          pipeline(stream, counter, createWriteStream(file.path)).then(
            () => void (file.sha256 = fileHash.digest('hex')),
            (error: Error) => fail(error),
          ),
        );
      });

      parser.on('filesLimit', () =>
        fail(new ValidationError({ path: 'files', message: 'too many file parts' })),
      );
      parser.on('fieldsLimit', () =>
        fail(new ValidationError({ path: 'body', message: 'too many form fields' })),
      );
      parser.on('error', (error: Error) =>
        fail(
          new ValidationError({
            path: 'body',
            message: `is not valid multipart/form-data: ${error.message}`,
          }),
        ),
      );
      parser.on('close', () => resolve());

      options.stopSignal?.addEventListener(
        'abort',
        () => fail(new Error('The request body was no longer needed.')),
        { once: true },
      );
      options.abortSignal?.addEventListener(
        'abort',
        () => {
          fail(new Error('The request was aborted while its body was being read.'));
          source.destroy();
        },
        { once: true },
      );
      source.on('data', (chunk: Buffer) => {
        bytes += chunk.length;
        if (bytes > options.maxBodyBytes) {
          fail(tooLarge('The request body', options.maxBodyBytes, 'body'));
          source.destroy();
          return;
        }
        if (failure) return;
        if (!parser.write(chunk)) {
          source.pause();
          parser.once('drain', () => source.resume());
        }
      });
      source.on('end', () => {
        if (!failure) parser.end();
      });
      source.on('error', () =>
        fail(
          new ValidationError({
            path: 'body',
            message: 'ended before it was complete (the connection was closed)',
          }),
        ),
      );
    });

    await done;
    await Promise.all(writes);
    if (failure) throw failure;
    return { fields, files, bytes, dispose };
  } catch (error) {
    await Promise.allSettled(writes);
    await dispose();
    throw failure ?? error;
  }
}
