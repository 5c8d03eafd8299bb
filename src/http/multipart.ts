import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type { ReadableStream as NodeReadableStream } from 'node:stream/web';

import type { HttpRequest } from '@azure/functions';
import busboy from 'busboy';

import { ValidationError } from '../core/errors';
import {
  onFieldPart,
  onFilePart,
  PART_BUFFER_BYTES,
  type PartReader,
  tooLarge,
} from './multipart-parts';

export { PART_BUFFER_BYTES } from './multipart-parts';

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
 * Streams a `multipart/form-data` body: named fields are kept as text, every other part is spooled
 * to its own temporary file while its size and sha256 are taken (idempotency fingerprints), or
 * handed to a taker, so a 150 MiB file never sits in memory. On any failure the temporary files
 * are deleted before the error is thrown.
 */
export async function readMultipart(
  request: HttpRequest,
  options: ReadMultipartOptions,
): Promise<MultipartBody> {
  const dir = await mkdtemp(join(options.tempDir ?? tmpdir(), 'omf-upload-'));
  let disposed = false;
  const dispose = async () => {
    if (disposed) return;
    disposed = true;
    await rm(dir, { recursive: true, force: true });
  };
  let failure: Error | undefined;
  const failed = new AbortController();
  /** Set where the body is being read: stops it and answers with the failure. */
  let onFailure = (_error: Error) => {};
  let fileIndex = 0;
  let fileBytes = 0;
  let asked = false;
  let taker: FileTaker | undefined;
  const reader: PartReader = {
    options,
    dir,
    fields: new Map(),
    files: [],
    writes: [],
    failed: failed.signal,
    failure: () => failure,
    fail(error) {
      if (!failure) {
        failure = error;
        failed.abort(error);
        onFailure(error);
      }
    },
    nextIndex: () => fileIndex++,
    countFileBytes(bytes, path) {
      fileBytes += bytes;
      if (fileBytes > options.maxTotalFileBytes) {
        throw tooLarge('The files together', options.maxTotalFileBytes, path);
      }
    },
    taker() {
      if (!asked) {
        asked = true;
        taker = options.takeFiles?.(reader.fields);
      }
      return taker;
    },
  };

  try {
    const parser = createParser(request.headers.get('content-type') ?? '', options);
    const source = request.body
      ? Readable.fromWeb(request.body as NodeReadableStream<Uint8Array>)
      : Readable.from([]);
    let bytes = 0;

    const done = new Promise<void>((resolve, reject) => {
      const fail = (error: Error) => reader.fail(error);
      onFailure = (error) => {
        // Stop parsing (ends the file streams) but keep reading what the client still sends,
        // up to the body limit, so it gets our answer instead of a reset connection.
        // Deferred: busboy is still inside its own event when most failures are noticed.
        setImmediate(() => parser.destroy());
        source.resume();
        reject(error);
      };

      parser.on('field', (name, value, info) => onFieldPart(reader, name, value, info));
      parser.on('file', (name, stream, info) => onFilePart(reader, name, stream, info));
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
    await Promise.all(reader.writes);
    if (failure) throw failure;
    return { fields: reader.fields, files: reader.files, bytes, dispose };
  } catch (error) {
    await Promise.allSettled(reader.writes);
    await dispose();
    throw failure ?? error;
  }
}

/** The streaming parser, its limits from the options; a bad Content-Type is a 400 naming body. */
function createParser(contentType: string, options: ReadMultipartOptions): busboy.Busboy {
  try {
    return busboy({
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
}
