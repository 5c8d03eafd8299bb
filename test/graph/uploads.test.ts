import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';

import { afterEach, describe, expect, it } from 'vitest';

import { budgetSignal } from '../../src/core/abort';
import { createLogger } from '../../src/core/logger';
import {
  cancelUploadSession,
  checkUploadUrl,
  nextOffset,
  uploadToSession,
} from '../../src/graph/uploads';
import { ChunkReader, type UploadSource } from '../../src/graph/chunk-reader';
import { startServer } from '../support/http';

const log = createLogger(() => undefined);

/** A source that yields `bytes` in uneven pieces and counts how often it was opened. */
function source(bytes: Buffer, piece = 1000): UploadSource & { opens: number } {
  const result = {
    size: bytes.length,
    opens: 0,
    open() {
      result.opens++;
      const pieces: Buffer[] = [];
      for (let i = 0; i < bytes.length; i += piece) pieces.push(bytes.subarray(i, i + piece));
      return Readable.from(pieces);
    },
  };
  return result;
}

let close: (() => Promise<void>) | undefined;
afterEach(async () => {
  await close?.();
  close = undefined;
});

describe('ChunkReader', () => {
  it('reads forward, re-serves the last chunk and reopens only to go back', async () => {
    const bytes = randomBytes(10_000);
    const src = source(bytes, 777);
    const reader = new ChunkReader(src);
    expect(await reader.read(0, 4000)).toEqual(bytes.subarray(0, 4000));
    expect(await reader.read(4000, 4000)).toEqual(bytes.subarray(4000, 8000));
    expect(await reader.read(4000, 4000)).toEqual(bytes.subarray(4000, 8000)); // retry
    expect(src.opens).toBe(1);
    expect(await reader.read(9000, 1000)).toEqual(bytes.subarray(9000)); // skips forward
    expect(await reader.read(100, 50)).toEqual(bytes.subarray(100, 150)); // goes back
    expect(src.opens).toBe(2);
    reader.close();
  });

  it('reads a random-access source straight into its chunks, never opening a stream', async () => {
    const bytes = randomBytes(10_000);
    const reads: string[] = [];
    const reader = new ChunkReader({
      size: bytes.length,
      open: () => {
        throw new Error('a random-access source is not streamed');
      },
      // At most 1500 bytes a read, as a file read may return fewer than asked.
      readAt: (into, position) => {
        const read = bytes.copy(into, 0, position, Math.min(bytes.length, position + 1500));
        reads.push(`${position}+${read}`);
        return Promise.resolve(read);
      },
    });
    expect(await reader.read(0, 4000)).toEqual(bytes.subarray(0, 4000));
    expect(await reader.read(4000, 4000)).toEqual(bytes.subarray(4000, 8000));
    expect(await reader.read(8000, 2000)).toEqual(bytes.subarray(8000)); // reuses the first chunk's memory
    expect(await reader.read(100, 50)).toEqual(bytes.subarray(100, 150)); // goes back
    expect(reads.slice(0, 3)).toEqual(['0+1500', '1500+1500', '3000+1000']);
    expect(reads.at(-1)).toBe('100+50');
    reader.close();
    const short = new ChunkReader({
      size: 10,
      open: () => Readable.from([]),
      readAt: (into, position) =>
        Promise.resolve(position < 5 ? Math.min(into.length, 5 - position) : 0),
    });
    await expect(short.read(0, 10)).rejects.toThrow(/ended after 5 of 10/);
  });

  it('fails clearly when the source is shorter than declared', async () => {
    const reader = new ChunkReader({ size: 10, open: () => Readable.from([Buffer.alloc(5)]) });
    await expect(reader.read(0, 10)).rejects.toThrow(/ended after 5 of 10/);
  });
});

describe('uploadToSession', () => {
  it('PUTs in order without Authorization, follows nextExpectedRanges and retries a failed chunk', async () => {
    const bytes = randomBytes(25_000);
    const received = Buffer.alloc(bytes.length);
    const seen: string[] = [];
    let next = 0;
    let failOnce = true;
    const server = await startServer((req, res, body) => {
      seen.push(`${req.headers['content-range']} auth=${req.headers.authorization ?? '-'}`);
      const [, start, end] = /bytes (\d+)-(\d+)\//.exec(req.headers['content-range']!)!.map(Number);
      if (start === 10_000 && failOnce) {
        failOnce = false;
        res.writeHead(503, { 'retry-after': '0' }).end();
        return;
      }
      body.copy(received, start);
      // The server accepts only part of the second chunk: the client must continue from there.
      next = start === 10_000 ? start + 5000 : end! + 1;
      if (next >= bytes.length) {
        res.writeHead(201, { location: "https://x/Attachments('att-1')" }).end();
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ NextExpectedRanges: [`${next}-`] }));
    });
    close = () => server.close();
    const result = await uploadToSession(
      { uploadUrl: `${server.url}/upload?authtoken=secret`, nextExpectedRanges: ['0-'] },
      source(bytes),
      { abortSignal: budgetSignal(10_000), log, chunkBytes: 10_000 },
    );
    expect(result).toEqual({ attachmentId: 'att-1', chunks: 3 });
    expect(received).toEqual(bytes);
    expect(seen).toEqual([
      'bytes 0-9999/25000 auth=-',
      'bytes 10000-19999/25000 auth=-',
      'bytes 10000-19999/25000 auth=-',
      'bytes 15000-24999/25000 auth=-',
    ]);
  });

  it('retries a chunk whose connection closed before the answer ended, with Content-Length', async () => {
    const bytes = randomBytes(3000);
    const lengths: string[] = [];
    let calls = 0;
    const server = await startServer((req, res) => {
      lengths.push(req.headers['content-length'] ?? '-');
      if (++calls === 1) {
        // Headers and half an answer, then the connection is gone.
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': '100' });
        res.write('{"nextExpec');
        setImmediate(() => res.destroy());
        return;
      }
      res.writeHead(201, { location: "https://x/Attachments('a')" }).end();
    });
    close = () => server.close();
    const result = await uploadToSession(
      { uploadUrl: `${server.url}/u`, nextExpectedRanges: ['0-'] },
      source(bytes),
      { abortSignal: budgetSignal(5000), log },
    );
    expect(result).toEqual({ attachmentId: 'a', chunks: 1 });
    expect(lengths).toEqual(['3000', '3000']);
  });

  /** What uploading 100 bytes within `budgetMs` to a server answering with `handler` throws. */
  async function failedUpload(handler: Parameters<typeof startServer>[0], budgetMs: number) {
    const server = await startServer(handler);
    close = () => server.close();
    return uploadToSession(
      { uploadUrl: `${server.url}/u`, nextExpectedRanges: ['0-'] },
      source(Buffer.alloc(100)),
      { abortSignal: budgetSignal(budgetMs), log },
    ).catch((e: unknown) => e);
  }

  it('stops at once when its budget runs out during a PUT', async () => {
    // The server never answers.
    expect(await failedUpload(() => undefined, 100)).toMatchObject({ code: 'graph_unavailable' });
  });

  it('stops on a 4xx and reports it in our taxonomy', async () => {
    const error = await failedUpload((_req, res) => {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { code: 'ErrorItemNotFound', message: 'gone' } }));
    }, 5000);
    expect(error).toMatchObject({ code: 'not_found' });
  });
});

describe('uploadToSession: answers the docs allow', () => {
  /** A session server that keeps what it got and answers per `answer` (default: the docs'). */
  async function session(
    size: number,
    answer: (info: { start: number; end: number; next: number; call: number }) => {
      status: number;
      body?: unknown;
    } | null = () => null,
  ) {
    const state = { next: 0, calls: 0, ranges: [] as string[] };
    const server = await startServer((req, res) => {
      const [, start, end] = /bytes (\d+)-(\d+)\//.exec(req.headers['content-range']!)!.map(Number);
      state.ranges.push(`${start}-${end}`);
      const custom = answer({ start: start!, end: end!, next: state.next, call: ++state.calls });
      if (!custom && start !== state.next) {
        res.writeHead(416, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { code: 'ErrorInvalidRequestedRange' } }));
        return;
      }
      // A 504 stands for an answer lost after the server kept the bytes.
      if (!custom || [200, 201, 504].includes(custom.status)) state.next = end! + 1;
      if (custom) {
        res.writeHead(custom.status, { 'content-type': 'application/json' });
        res.end(custom.body === undefined ? '' : JSON.stringify(custom.body));
        return;
      }
      if (state.next >= size) res.writeHead(201, { location: "https://x/Attachments('a')" }).end();
      else {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ nextExpectedRanges: [String(state.next)] }));
      }
    });
    close = () => server.close();
    const upload = () =>
      uploadToSession(
        { uploadUrl: `${server.url}/u`, nextExpectedRanges: ['0-'] },
        source(randomBytes(size)),
        { abortSignal: budgetSignal(5000), log, chunkBytes: 1000 },
      );
    return { state, upload };
  }

  it('continues after a 200 without nextExpectedRanges: only a 201 completes', async () => {
    const { state, upload } = await session(2500, ({ end }) =>
      end < 2499 ? { status: 200, body: {} } : null,
    );
    expect(await upload()).toEqual({ attachmentId: 'a', chunks: 3 });
    expect(state.ranges).toEqual(['0-999', '1000-1999', '2000-2499']);
  });

  it('fails when a 200 answers the last byte without completing the attachment', async () => {
    const { upload } = await session(1000, () => ({ status: 200, body: {} }));
    await expect(upload()).rejects.toMatchObject({ code: 'graph_error' });
  });

  it('continues where a 416 says when a retried chunk had already arrived', async () => {
    // The answer to the second chunk is lost after the server kept it; the retry gets 416.
    const { state, upload } = await session(3000, ({ call, next }) => {
      if (call === 2) return { status: 504 };
      if (call === 3) return { status: 416, body: { nextExpectedRanges: [String(next)] } };
      return null;
    });
    expect(await upload()).toEqual({ attachmentId: 'a', chunks: 2 });
    expect(state.ranges).toEqual(['0-999', '1000-1999', '1000-1999', '2000-2999']);
  });

  it('fails on a 416 that does not say where to continue', async () => {
    const { upload } = await session(3000, ({ call }) =>
      call === 2 ? { status: 416, body: { error: { code: 'ErrorInvalidRequestedRange' } } } : null,
    );
    await expect(upload()).rejects.toMatchObject({ code: 'graph_error', upstreamStatus: 416 });
  });

  it('cancels a session inside one of the mailbox slots', async () => {
    const server = await startServer((_req, res) => {
      res.writeHead(204).end();
    });
    close = () => server.close();
    const held: string[] = [];
    await cancelUploadSession(`${server.url}/u`, {
      abortSignal: new AbortController().signal,
      slot: () => {
        held.push('acquired');
        return Promise.resolve(() => held.push('released'));
      },
    });
    expect(held).toEqual(['acquired', 'released']);
  });
});

describe('upload URL checks', () => {
  it('accepts https and loopback http only', () => {
    expect(checkUploadUrl('https://outlook.office.com/api/v2.0/x?authtoken=a').host).toBe(
      'outlook.office.com',
    );
    expect(checkUploadUrl('http://127.0.0.1:8080/x').port).toBe('8080');
    expect(checkUploadUrl('http://[::1]:8080/x').port).toBe('8080');
    expect(() => checkUploadUrl('http://outlook.office.com/x')).toThrow(/not https/);
    expect(() => checkUploadUrl('ftp://127.0.0.1/x')).toThrow(/not https/);
    expect(() => checkUploadUrl('not a url')).toThrow(/not a URL/);
  });

  it('reads the start of nextExpectedRanges in either spelling', () => {
    expect(nextOffset(['2097152'])).toBe(2097152);
    expect(nextOffset(['2097152-'])).toBe(2097152);
    expect(nextOffset([])).toBeUndefined();
    expect(nextOffset(undefined)).toBeUndefined();
  });
});
