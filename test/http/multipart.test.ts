import { access, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';

import { HttpRequest } from '@azure/functions';
import { describe, expect, it } from 'vitest';

import { readMultipart, type ReadMultipartOptions } from '../../src/http/multipart';

const options: ReadMultipartOptions = {
  fieldNames: ['message'],
  maxBodyBytes: 1_000_000,
  maxFileBytes: 1000,
  maxTotalFileBytes: 1500,
  maxFieldBytes: 200,
  tempDir: tmpdir(),
};

function request(parts: Array<{ headers: string; body: string | Buffer }>): HttpRequest {
  const boundary = 'b0undary';
  const body = Buffer.concat([
    ...parts.flatMap((p) => [
      Buffer.from(`--${boundary}\r\n${p.headers}\r\n\r\n`),
      Buffer.from(p.body),
      Buffer.from('\r\n'),
    ]),
    Buffer.from(`--${boundary}--\r\n`),
  ]);
  return new HttpRequest({
    url: 'http://127.0.0.1/api/x',
    method: 'POST',
    headers: { 'content-type': `multipart/form-data; boundary=${boundary}` },
    body: { bytes: new Uint8Array(body) },
  });
}

const field = (name: string, body: string) => ({
  headers: `Content-Disposition: form-data; name="${name}"`,
  body,
});
const file = (name: string, filename: string, body: string | Buffer, type = 'text/plain') => ({
  headers: `Content-Disposition: form-data; name="${name}"; filename="${filename}"\r\nContent-Type: ${type}`,
  body,
});

const exists = (path: string) =>
  access(path).then(
    () => true,
    () => false,
  );

describe('readMultipart', () => {
  it('keeps named fields and spools every file with its size, type and hash', async () => {
    const body = await readMultipart(
      request([
        field('message', '{"a":1}'),
        file('f1', 'a.txt', 'hello'),
        file('f2', 'b.bin', Buffer.alloc(900, 1), 'application/pdf'),
      ]),
      options,
    );
    expect(body.fields.get('message')).toBe('{"a":1}');
    expect(body.files.map((f) => [f.field, f.index, f.filename, f.contentType, f.size])).toEqual([
      ['f1', 0, 'a.txt', 'text/plain', 5],
      ['f2', 1, 'b.bin', 'application/pdf', 900],
    ]);
    expect(await readFile(body.files[0]!.path, 'utf8')).toBe('hello');
    expect(body.files[0]!.sha256).toMatch(/^[0-9a-f]{64}$/);
    await body.dispose();
    expect(await exists(body.files[0]!.path)).toBe(false);
  });

  it('names a part without a file name as files[i]', async () => {
    const error = await readMultipart(
      request([field('message', '{}'), file('f1', 'a.txt', 'x'), field('doc', 'no name')]),
      options,
    ).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'validation_failed', errors: [{ path: 'files[1]' }] });
  });

  it('refuses a file over the per-file limit with 413 naming it', async () => {
    const error = await readMultipart(
      request([file('f1', 'big.bin', Buffer.alloc(1001))]),
      options,
    ).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'payload_too_large', path: 'files[0]', limitBytes: 1000 });
  });

  it('accepts a file of exactly the per-file limit', async () => {
    const body = await readMultipart(request([file('f1', 'max.bin', Buffer.alloc(1000))]), options);
    expect(body.files[0]!.size).toBe(1000);
    await body.dispose();
  });

  it('refuses files that together exceed the total, naming the one that crossed it', async () => {
    const error = await readMultipart(
      request([file('f1', 'a.bin', Buffer.alloc(800)), file('f2', 'b.bin', Buffer.alloc(800))]),
      options,
    ).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'payload_too_large', path: 'files[1]', limitBytes: 1500 });
  });

  it('refuses a repeated or oversized message field', async () => {
    const twice = await readMultipart(
      request([field('message', '{}'), field('message', '{}')]),
      options,
    ).catch((e: unknown) => e);
    expect(twice).toMatchObject({ errors: [{ path: 'message' }] });
    const big = await readMultipart(request([field('message', 'x'.repeat(201))]), options).catch(
      (e: unknown) => e,
    );
    expect(big).toMatchObject({ code: 'payload_too_large', path: 'message' });
    // The same part sent as a file: the same limit, not the file limit.
    const asFile = await readMultipart(
      request([file('message', 'm.json', 'x'.repeat(201), 'application/json')]),
      options,
    ).catch((e: unknown) => e);
    expect(asFile).toMatchObject({ code: 'payload_too_large', path: 'message', limitBytes: 200 });
    const fits = await readMultipart(
      request([file('message', 'm.json', 'x'.repeat(200), 'application/json')]),
      options,
    );
    expect(fits.fields.get('message')).toBe('x'.repeat(200));
    await fits.dispose();
  });

  it('refuses a body over the body limit and a malformed body', async () => {
    const over = await readMultipart(request([file('f', 'a', Buffer.alloc(500))]), {
      ...options,
      maxBodyBytes: 100,
    }).catch((e: unknown) => e);
    expect(over).toMatchObject({ code: 'payload_too_large', path: 'body' });
    const malformed = await readMultipart(
      new HttpRequest({
        url: 'http://127.0.0.1/x',
        method: 'POST',
        headers: { 'content-type': 'multipart/form-data' },
        body: { string: 'x' },
      }),
      options,
    ).catch((e: unknown) => e);
    expect(malformed).toMatchObject({ code: 'validation_failed', errors: [{ path: 'body' }] });
  });
});
