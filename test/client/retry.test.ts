import { createServer, type Server } from 'node:http';
import { type AddressInfo } from 'node:net';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createMailClient, MailApiError } from '../../src/client';
import { retryAfterMs } from '../../src/client/retry';

/** A real HTTP server answering from a script, so the client's own fetch path is exercised. */
let server: Server;
let baseUrl: string;
let script: Array<{ status: number; headers?: Record<string, string> }> = [];
/** Called as each request arrives, before it is answered. */
let onRequest: () => void = () => undefined;
const seen: Array<{
  method: string;
  url: string;
  key?: string | undefined;
  idempotency?: string | undefined;
}> = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      onRequest();
      seen.push({
        method: req.method!,
        url: req.url!,
        key: req.headers['x-api-key'] as string | undefined,
        idempotency: req.headers['idempotency-key'] as string | undefined,
      });
      const next = script.shift() ?? { status: 200 };
      const ok = next.status < 300;
      res.writeHead(next.status, {
        'content-type': ok ? 'application/json' : 'application/problem+json',
        'x-request-id': `req-${seen.length}`,
        ...next.headers,
      });
      res.end(
        JSON.stringify(
          ok
            ? {
                credentials: [],
                sendId: 's1',
                status: 'sent',
                messageId: null,
                internetMessageId: null,
              }
            : {
                type: 'about:blank',
                title: 'Busy',
                status: next.status,
                detail: 'slow down',
                code: 'graph_throttled',
              },
        ),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

function reset(next: typeof script) {
  script = next;
  seen.length = 0;
}

describe('429 and 503', () => {
  it('are retried after their Retry-After, with the same Idempotency-Key', async () => {
    reset([
      { status: 429, headers: { 'retry-after': '0' } },
      { status: 503, headers: { 'retry-after': new Date(Date.now() - 1000).toUTCString() } },
    ]);
    const mail = createMailClient({ baseUrl, apiKey: 'k' });
    const result = await mail.credential('c1').sendMail({ to: 'a@x.com', subject: 's' });
    expect(result.sendId).toBe('s1');
    expect(seen).toHaveLength(3);
    expect(new Set(seen.map((s) => s.idempotency)).size).toBe(1);
    expect(seen[0]!.idempotency).toMatch(/^[0-9a-f-]{36}$/);
    expect(seen.every((s) => s.key === 'k' && s.url === '/api/credentials/c1/send')).toBe(true);
  });

  it('give up after maxRetries, or at once when the wait is longer than allowed', async () => {
    reset([0, 1, 2].map(() => ({ status: 429, headers: { 'retry-after': '0' } })));
    const mail = createMailClient({ baseUrl, apiKey: 'k', retry: { maxRetries: 2 } });
    const error = await mail.listCredentials().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MailApiError);
    expect(error).toMatchObject({ status: 429, code: 'graph_throttled', requestId: 'req-3' });
    expect(seen).toHaveLength(3);

    reset([{ status: 503, headers: { 'retry-after': '3600' } }]);
    const long = await mail.listCredentials().catch((e: unknown) => e);
    expect(long).toMatchObject({ status: 503, retryAfterMs: 3_600_000 });
    expect(seen).toHaveLength(1);
  });

  it('a wait ends when the caller aborts', async () => {
    reset([{ status: 429, headers: { 'retry-after': '30' } }]);
    const mail = createMailClient({ baseUrl, apiKey: 'k' });
    const controller = new AbortController();
    onRequest = () => setImmediate(() => controller.abort(new Error('caller gave up')));
    const pending = mail.listCredentials({ abortSignal: controller.signal });
    await expect(pending).rejects.toThrow('caller gave up');
    onRequest = () => undefined;
    expect(seen).toHaveLength(1);
    expect(script).toEqual([]);
  });

  it('a caller stream is sent once: its request is not repeated', async () => {
    reset([{ status: 503, headers: { 'retry-after': '0' } }]);
    const mail = createMailClient({ baseUrl, apiKey: 'k' });
    const big = new Uint8Array(4 * 1024 * 1024);
    const error = await mail
      .credential('c1')
      .sendMail({
        to: 'a@x.com',
        subject: 's',
        attachments: [{ name: 'x.bin', stream: new Blob([big]).stream() }],
      })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ status: 503 });
    expect(seen).toHaveLength(1);
  });
});

describe('retryAfterMs', () => {
  it('reads delta-seconds and HTTP-dates, and nothing else', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(retryAfterMs('7', now)).toBe(7000);
    expect(retryAfterMs('Thu, 01 Jan 2026 00:00:05 GMT', now)).toBe(5000);
    expect(retryAfterMs('soon', now)).toBeUndefined();
    expect(retryAfterMs('-1', now)).toBeUndefined();
    expect(retryAfterMs(null, now)).toBeUndefined();
  });
});
