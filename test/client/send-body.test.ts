import { randomBytes } from 'node:crypto';
import { rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

import busboy from 'busboy';
import { describe, expect, it } from 'vitest';

import { JSON_ATTACHMENTS_LIMIT, sendBody } from '../../src/client/send';

/** Reads a multipart body the way the server does (busboy): fields and files in order. */
async function parts(body: ReadableStream<Uint8Array>, contentType: string) {
  const found: Array<{ name: string; filename?: string | undefined; value: Buffer }> = [];
  const parser = busboy({ headers: { 'content-type': contentType }, defParamCharset: 'utf8' });
  const done = new Promise<void>((resolve, reject) => {
    parser.on('field', (name, value) => found.push({ name, value: Buffer.from(value) }));
    parser.on('file', (name, stream, info) => {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () =>
        found.push({ name, filename: info.filename, value: Buffer.concat(chunks) }),
      );
    });
    parser.on('close', resolve);
    parser.on('error', reject);
  });
  for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) parser.write(chunk);
  parser.end();
  await done;
  return found;
}

describe('sendBody', () => {
  it('sends small in-memory attachments as one JSON body', async () => {
    const built = await sendBody({
      to: 'a@x.com',
      subject: 's',
      attachments: [{ name: 'n.txt', content: 'hello' }],
    });
    expect(built.contentType).toBe('application/json');
    expect(JSON.parse(built.body() as string)).toEqual({
      to: 'a@x.com',
      subject: 's',
      attachments: [
        { name: 'n.txt', contentType: 'application/octet-stream', contentBase64: 'aGVsbG8=' },
      ],
    });
  });

  it('streams the rest as multipart: message part first, declaring every file size', async () => {
    const file = path.join(tmpdir(), `omf-send-body-${process.pid}.bin`);
    const onDisk = randomBytes(JSON_ATTACHMENTS_LIMIT + 1);
    await writeFile(file, onDisk);
    const streamed = randomBytes(1000);
    const built = await sendBody({
      to: 'a@x.com',
      subject: 's',
      attachments: [
        { path: file, contentType: 'application/pdf' },
        { name: 'r "1".bin', stream: new Blob([streamed]).stream(), size: streamed.length },
      ],
    });
    expect(built.replayable).toBe(false);
    const found = await parts(built.body() as ReadableStream<Uint8Array>, built.contentType);
    await rm(file);
    expect(found.map((p) => p.name)).toEqual(['message', 'file0', 'file1']);
    expect(JSON.parse(found[0]!.value.toString())).toEqual({
      to: 'a@x.com',
      subject: 's',
      attachments: [{ file: 'file0' }, { file: 'file1' }],
      fileSizes: { file0: onDisk.length, file1: streamed.length },
    });
    expect(found[1]!.filename).toBe(path.basename(file));
    expect(found[1]!.value.equals(onDisk)).toBe(true);
    expect(found[2]!.filename).toBe('r %221%22.bin');
    expect(found[2]!.value.equals(streamed)).toBe(true);
  });

  it('declares no sizes when a stream of unknown length is among the files', async () => {
    const built = await sendBody({
      to: 'a@x.com',
      subject: 's',
      attachments: [
        { name: 'big.bin', content: new Uint8Array(JSON_ATTACHMENTS_LIMIT + 1) },
        { name: 'live.bin', stream: new Blob([new Uint8Array(10)]).stream() },
      ],
    });
    const found = await parts(built.body() as ReadableStream<Uint8Array>, built.contentType);
    expect(JSON.parse(found[0]!.value.toString())).not.toHaveProperty('fileSizes');
    expect(found.map((p) => p.value.length)).toEqual([
      expect.any(Number),
      JSON_ATTACHMENTS_LIMIT + 1,
      10,
    ]);
  });

  it('refuses a content type that would break the part headers', async () => {
    await expect(
      sendBody({
        to: 'a@x.com',
        subject: 's',
        attachments: [{ name: 'x', content: 'x', contentType: 'text/plain\r\nX-Evil: 1' }],
      }),
    ).rejects.toThrow(/not a media type/);
  });
});
