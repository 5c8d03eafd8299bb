import { Readable } from 'node:stream';

import { describe, expect, it } from 'vitest';

import { PayloadTooLargeError, ValidationError } from '../../src/core/errors';
import { type FileTaker } from '../../src/http/multipart';
import { onFieldPart, onFilePart, type PartReader } from '../../src/http/multipart-parts';

const fieldInfo = (valueTruncated = false) => ({
  nameTruncated: false,
  valueTruncated,
  encoding: '7bit',
  mimeType: 'text/plain',
});
const fileInfo = (filename: string) => ({ filename, encoding: '7bit', mimeType: '' });

/** The state a body read keeps, with every failure recorded. */
function reader(taker?: () => FileTaker | undefined): PartReader & { failures: Error[] } {
  const failures: Error[] = [];
  let index = 0;
  return {
    options: {
      fieldNames: ['message'],
      maxBodyBytes: 1000,
      maxFileBytes: 100,
      maxTotalFileBytes: 150,
      maxFieldBytes: 10,
    },
    dir: '/nonexistent',
    fields: new Map(),
    files: [],
    writes: [],
    failed: new AbortController().signal,
    failure: () => failures[0],
    fail: (error) => void failures.push(error),
    nextIndex: () => index++,
    countFileBytes: () => undefined,
    taker: taker ?? (() => undefined),
    failures,
  };
}

const pathOf = (error: Error | undefined) =>
  error instanceof ValidationError ? error.errors[0]!.path : (error as PayloadTooLargeError).path;

describe('multipart parts', () => {
  it('keeps a named field once; a repeat, an oversized value or an unnamed text part fails', () => {
    const r = reader();
    onFieldPart(r, 'message', '{}', fieldInfo());
    expect(r.fields.get('message')).toBe('{}');
    onFieldPart(r, 'message', '{}', fieldInfo());
    expect(r.failures[0]).toBeInstanceOf(ValidationError);
    expect(r.failures[0]!.message).toContain('more than once');

    const big = reader();
    onFieldPart(big, 'message', '{"a":1}', fieldInfo(true));
    expect(big.failures[0]).toBeInstanceOf(PayloadTooLargeError);
    expect(big.fields.size).toBe(0);

    const stray = reader();
    onFieldPart(stray, 'attachment', 'x', fieldInfo());
    expect(pathOf(stray.failures[0])).toBe('files[0]');
  });

  it('reads a named field sent as a blob, destroying it past the field limit', async () => {
    const r = reader();
    const small = Readable.from([Buffer.from('{"to"'), Buffer.from(':1}')]);
    onFilePart(r, 'message', small, fileInfo('message.json'));
    await new Promise((resolve) => small.on('end', resolve));
    expect(r.fields.get('message')).toBe('{"to":1}');

    const over = reader();
    const large = Readable.from([Buffer.alloc(8), Buffer.alloc(8)]);
    onFilePart(over, 'message', large, fileInfo('message.json'));
    await new Promise((resolve) => large.on('close', resolve));
    expect(over.failures[0]).toBeInstanceOf(PayloadTooLargeError);
    expect(large.destroyed).toBe(true);
  });

  it('fails a file part without a file name, or when the taker refuses, draining the part', async () => {
    const r = reader();
    const unnamed = Readable.from([Buffer.from('x')]);
    onFilePart(r, 'file', unnamed, fileInfo(''));
    expect(pathOf(r.failures[0])).toBe('files[0]');

    const refused = new ValidationError({ path: 'attachments', message: 'not declared' });
    const t = reader(() => {
      throw refused;
    });
    const part = Readable.from([Buffer.from('bytes')]);
    onFilePart(t, 'file', part, fileInfo('a.pdf'));
    expect(t.failures).toEqual([refused]);
    await new Promise((resolve) => part.on('end', resolve)); // resumed, so busboy is not stalled
    expect(t.writes).toEqual([]);
  });
});
