import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { ValidationError } from '../../src/core/errors';
import {
  contentDisposition,
  createAttachmentReader,
  safeFileName,
  safeMediaType,
} from '../../src/graph/attachments';
import { createGraphFactory } from '../../src/graph/client';
import { startServer } from '../support/http';
import { readOptions } from '../support/graph-read';

describe('attachment names and types', () => {
  it('sanitises file names', () => {
    expect(safeFileName('..\\..\\etc/passwd')).toBe('_.._etc_passwd');
    expect(safeFileName('a\u0000b\r\nc.txt')).toBe('a_b__c.txt');
    expect(safeFileName('   ')).toBe('attachment');
    expect(safeFileName('x'.repeat(300))).toHaveLength(200);
  });

  it('writes an RFC 6266 disposition with an ASCII fallback and the UTF-8 name', () => {
    expect(contentDisposition("Prix d'été (1).pdf")).toBe(
      `attachment; filename="Prix d'_t_ (1).pdf"; filename*=UTF-8''Prix%20d%27%C3%A9t%C3%A9%20%281%29.pdf`,
    );
    expect(contentDisposition('100%.txt')).toBe(
      `attachment; filename="100_.txt"; filename*=UTF-8''100%25.txt`,
    );
  });

  it('passes only plain media types', () => {
    expect(safeMediaType('Application/PDF; name="x"')).toBe('application/pdf');
    expect(safeMediaType('text/html\r\nset-cookie: x')).toBe('application/octet-stream');
    expect(safeMediaType(null)).toBe('application/octet-stream');
  });
});

describe('attachment reader over HTTP', () => {
  const bytes = Buffer.alloc(70_000, 7);
  let server: { url: string; close(): Promise<void> };
  const seen: string[] = [];
  beforeAll(async () => {
    server = await startServer((req, res) => {
      seen.push(req.url!);
      if (req.url!.endsWith('/$value')) {
        res.writeHead(200, {
          'content-type': 'application/octet-stream',
          'content-length': bytes.length,
        });
        res.end(bytes);
        return;
      }
      const link = req.url!.includes('/ref');
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          '@odata.type': link
            ? '#microsoft.graph.referenceAttachment'
            : '#microsoft.graph.fileAttachment',
          id: 'a1',
          name: 'data.bin',
          contentType: 'application/zip',
        }),
      );
    });
  });
  afterAll(() => server.close());

  const reader = () =>
    createAttachmentReader({
      graph: createGraphFactory({
        graphBaseUrl: server.url,
        tokens: {
          getAccessToken: () =>
            Promise.resolve({
              accessToken: 't',
              scopes: ['Mail.Read'],
              account: { id: 'u', address: 'adele@contoso.test' },
            }),
        },
      }),
    });
  const key = { serviceId: 's', credentialId: 'c' };

  it('streams $value with the declared length and the metadata content type', async () => {
    const content = await reader().open(key, 'm/1', 'a1', readOptions());
    expect(content).toMatchObject({
      contentType: 'application/zip',
      contentLength: bytes.length,
      fileName: 'data.bin',
    });
    const chunks: Buffer[] = [];
    for await (const chunk of content.body) chunks.push(Buffer.from(chunk));
    expect(Buffer.concat(chunks).equals(bytes)).toBe(true);
    expect(seen.at(-1)).toBe('/v1.0/me/messages/m%2F1/attachments/a1/$value');
  });

  it('refuses to download a reference (cloud link) attachment', async () => {
    await expect(reader().open(key, 'm', 'ref', readOptions())).rejects.toBeInstanceOf(
      ValidationError,
    );
  });
});
