import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';

import { DeclaredParts } from '../../src/http/declared-parts';

/** Errors that reached the process unhandled while `run` and the ticks after it ran. */
async function unhandledDuring(run: () => Promise<void>): Promise<Error[]> {
  const seen: Error[] = [];
  const record = (error: Error) => seen.push(error);
  process.on('uncaughtException', record);
  try {
    await run();
    await new Promise((resolve) => setImmediate(resolve));
    await new Promise((resolve) => setImmediate(resolve));
  } finally {
    process.off('uncaughtException', record);
  }
  return seen;
}

describe('declared parts', () => {
  it('a part cut short after the send stopped reading fails quietly, not as an uncaught error', async () => {
    const stop = new AbortController();
    const parts = new DeclaredParts(new Map([['report', 10]]));
    void parts.input('report').arrival(); // the send is waiting for this part: it is read live
    const stream = new PassThrough();
    const seen = await unhandledDuring(async () => {
      const taken = parts.take({
        field: 'report',
        index: 0,
        filename: 'report.pdf',
        contentType: 'application/pdf',
        stream,
        path: '/nonexistent/never-written',
        signal: stop.signal,
      });
      stream.write(Buffer.alloc(4));
      // The handler disposes the body (the send is done with it), then the connection drops.
      stop.abort(new Error('The request body was no longer needed.'));
      await expect(taken).rejects.toThrow();
      stream.destroy(new Error('aborted'));
    });
    expect(seen).toEqual([]);
  });
});
