import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import { budgetSignal } from '../../src/core/abort';
import { createLogger } from '../../src/core/logger';
import { runBatch } from '../../src/graph/batch';
import { createGraphFactory, type GraphAccess } from '../../src/graph/client';
import { startServer } from '../support/http';

type Handler = (req: {
  method: string;
  url: string;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}) =>
  | { status: number; headers?: Record<string, string>; body?: unknown; delayMs?: number }
  | undefined;

/** A Graph helper over `graphBaseUrl` whose credential always has the same token. */
function stubGraph(graphBaseUrl: string) {
  return createGraphFactory<string>({
    graphBaseUrl,
    tokens: {
      getAccessToken: () =>
        Promise.resolve({ accessToken: 't', scopes: [], account: { id: 'u', address: 'a@b.c' } }),
    },
  });
}

describe('Graph helper client', () => {
  let server: { url: string; close(): Promise<void> };
  let handler: Handler = () => undefined;
  const seen: Array<{ method: string; url: string; authorization: string | undefined }> = [];
  let active = 0;
  let maxActive = 0;
  const tokenCalls: boolean[] = [];
  let tokenCounter = 0;
  const log = createLogger(() => undefined);

  beforeAll(async () => {
    server = await startServer(async (req, res, body) => {
      active++;
      maxActive = Math.max(maxActive, active);
      seen.push({ method: req.method!, url: req.url!, authorization: req.headers.authorization });
      const answer = handler({
        method: req.method!,
        url: req.url!,
        headers: req.headers,
        body: body.toString(),
      }) ?? {
        status: 200,
        body: { ok: true },
      };
      if (answer.delayMs) await new Promise((r) => setTimeout(r, answer.delayMs));
      active--;
      res.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers });
      res.end(answer.body === undefined ? '' : JSON.stringify(answer.body));
    });
  });
  afterAll(() => server.close());
  afterEach(() => {
    seen.length = 0;
    tokenCalls.length = 0;
    maxActive = 0;
    handler = () => undefined;
  });

  const factory = () =>
    createGraphFactory<string>({
      graphBaseUrl: server.url,
      tokens: {
        getAccessToken: (_key, options): Promise<GraphAccess> => {
          tokenCalls.push(options?.forceRefresh ?? false);
          tokenCounter++;
          return Promise.resolve({
            accessToken: `token-${tokenCounter}`,
            scopes: ['Mail.ReadWrite'],
            account: { id: 'u1', address: 'adele@contoso.test' },
          });
        },
      },
    });

  const graphFor = async (budgetMs = 10_000, mailbox?: string) =>
    factory().forCredential('cred', { abortSignal: budgetSignal(budgetMs), log, mailbox });

  it('sends the bearer token and encodes every query value', async () => {
    const { client, root } = await graphFor();
    const hostile = "x' or isRead eq true & $top=1000 #frag";
    await client.get(`${root}/messages`, {
      query: { $filter: `subject eq '${hostile}'`, $top: 5 },
    });
    const url = new URL(seen[0]!.url, server.url);
    expect(url.pathname).toBe('/v1.0/me/messages');
    expect([...url.searchParams.keys()]).toEqual(['$filter', '$top']);
    expect(url.searchParams.get('$filter')).toBe(`subject eq '${hostile}'`);
    expect(seen[0]!.authorization).toMatch(/^Bearer token-\d+$/);
  });

  it('retries 429 after the fractional Retry-After and succeeds', async () => {
    let calls = 0;
    handler = () =>
      ++calls <= 2
        ? {
            status: 429,
            headers: { 'retry-after': '0.2' },
            body: { error: { code: 'TooManyRequests' } },
          }
        : undefined;
    const { client } = await graphFor();
    const startedAt = Date.now();
    await expect(client.get('/me/messages')).resolves.toMatchObject({ status: 200 });
    expect(seen).toHaveLength(3);
    expect(Date.now() - startedAt).toBeGreaterThanOrEqual(380);
  });

  it('gives up at once with Retry-After when the wait does not fit the budget', async () => {
    handler = () => ({
      status: 429,
      headers: { 'retry-after': '30' },
      body: { error: { code: 'TooManyRequests', message: 'Please retry again later.' } },
    });
    const { client } = await graphFor(2_000);
    const startedAt = Date.now();
    await expect(client.get('/me/messages')).rejects.toMatchObject({
      code: 'graph_throttled',
      retryAfterMs: 30_000,
    });
    expect(Date.now() - startedAt).toBeLessThan(1_000);
    expect(seen).toHaveLength(1);
  });

  it('never retries a POST on 503/504, where the outcome is unknown', async () => {
    handler = () => ({ status: 504, body: { error: { code: 'UnknownError' } } });
    const { client } = await graphFor();
    await expect(
      client.json('POST', '/me/sendMail', { body: { message: {} } }),
    ).rejects.toMatchObject({
      code: 'graph_unavailable',
      upstreamStatus: 504,
    });
    expect(seen).toHaveLength(1);
  });

  it('refreshes the token once on 401 and retries once', async () => {
    let calls = 0;
    handler = () =>
      ++calls === 1
        ? { status: 401, body: { error: { code: 'InvalidAuthenticationToken' } } }
        : undefined;
    const { client } = await graphFor();
    await expect(client.get('/me')).resolves.toMatchObject({ status: 200 });
    expect(tokenCalls).toEqual([false, true]);
    expect(seen[0]!.authorization).not.toBe(seen[1]!.authorization);

    seen.length = 0;
    handler = () => ({ status: 401, body: { error: { code: 'InvalidAuthenticationToken' } } });
    await expect(client.get('/me')).rejects.toMatchObject({ upstreamStatus: 401 });
    expect(seen).toHaveLength(2);
  });

  it('maps 404 and 403 to not_found and forbidden', async () => {
    handler = (req) =>
      req.url.includes('missing')
        ? { status: 404, body: { error: { code: 'ErrorItemNotFound', message: 'not found' } } }
        : {
            status: 403,
            body: { error: { code: 'ErrorAccessDenied', message: 'Access is denied.' } },
          };
    const { client } = await graphFor();
    await expect(client.get('/me/messages/missing')).rejects.toMatchObject({ code: 'not_found' });
    await expect(client.get('/me/messages/denied')).rejects.toMatchObject({ code: 'forbidden' });
  });

  it('keeps at most 4 requests in flight per mailbox, across clients', async () => {
    handler = () => ({ status: 200, body: {}, delayMs: 60 });
    const shared = factory();
    const clients = await Promise.all(
      [1, 2, 3].map(() => shared.forCredential('cred', { abortSignal: budgetSignal(10_000), log })),
    );
    await Promise.all(
      Array.from({ length: 12 }, (_, i) => clients[i % 3]!.client.get('/me/messages')),
    );
    expect(seen).toHaveLength(12);
    expect(maxActive).toBeLessThanOrEqual(4);
    expect(maxActive).toBeGreaterThan(1);
  });

  it('follows only next links that point at the configured Graph, byte for byte', async () => {
    const { client } = await graphFor();
    expect(client.nextLinkPath(`${server.url}/v1.0/me/messages?%24skip=10`)).toBe(
      '/me/messages?%24skip=10',
    );
    const literal = `${server.url}/v1.0/me/messages?$filter=subject%20eq%20'a''b'&x=1&x=2&$skiptoken=Z%3D`;
    await client.get(client.nextLinkPath(literal));
    // Order and repeated keys survive; fetch itself applies WHATWG URL encoding (' → %27).
    const sent = new URL(literal);
    expect(seen.at(-1)!.url).toBe(sent.pathname + sent.search);
    expect(() => client.nextLinkPath('https://evil.example/v1.0/me/messages')).toThrow(
      /another host/,
    );
    expect(() => client.nextLinkPath(`${server.url}/beta/me/messages`)).toThrow(/another host/);
  });

  it('lets a streamed download outlive the budget once headers arrived, and only then', async () => {
    const slow = await startServer(async (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      for (let i = 0; i < 6; i++) {
        res.write(Buffer.alloc(1024, i));
        await new Promise((r) => setTimeout(r, 150));
      }
      res.end();
    });
    try {
      const graph = stubGraph(slow.url);
      const open = async (streamBody: boolean) => {
        const { client } = await graph.forCredential('k', { abortSignal: budgetSignal(400), log });
        const response = await client.send('GET', '/me/messages/m/attachments/a/$value', {
          streamBody,
        });
        return (await response.arrayBuffer()).byteLength;
      };
      await expect(open(true)).resolves.toBe(6 * 1024);
      await expect(open(false)).rejects.toThrow();
    } finally {
      await slow.close();
    }
  });

  it('works with a Graph base URL that has a path (a proxy), next links included', async () => {
    const graph = stubGraph(`${server.url}/proxy/graph/`);
    const { client } = await graph.forCredential('k', { abortSignal: budgetSignal(5_000), log });
    await client.get('/me/mailFolders');
    expect(seen.at(-1)!.url).toBe('/proxy/graph/v1.0/me/mailFolders');
    expect(client.nextLinkPath(`${server.url}/proxy/graph/v1.0/me/mailFolders?%24skip=10`)).toBe(
      '/me/mailFolders?%24skip=10',
    );
    expect(() => client.nextLinkPath(`${server.url}/v1.0/me/mailFolders`)).toThrow(/another host/);
  });

  it('asks for immutable ids on every request and sends no content type without a body', async () => {
    const headers: Array<Record<string, string | string[] | undefined>> = [];
    handler = (req) => {
      headers.push(req.headers);
      return { status: 202 };
    };
    const { client } = await graphFor();
    await client.send('POST', '/me/messages/m1/send');
    await client.get('/me/messages', { headers: { Prefer: 'outlook.body-content-type="text"' } });
    expect(headers[0]!['content-type']).toBeUndefined();
    expect(headers[0]!.prefer).toBe('IdType="ImmutableId"');
    expect(headers[1]!.prefer).toBe('outlook.body-content-type="text", IdType="ImmutableId"');
  });

  it('holds a mailbox slot until the answer has been read to its end', async () => {
    let open = 0;
    let most = 0;
    const slow = await startServer(async (_req, res) => {
      open++;
      most = Math.max(most, open);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"value":[');
      await new Promise((r) => setTimeout(r, 80));
      res.end(']}');
      open--;
    });
    try {
      const graph = stubGraph(slow.url);
      const { client } = await graph.forCredential('k', { abortSignal: budgetSignal(10_000), log });
      await Promise.all(Array.from({ length: 10 }, () => client.get('/me/messages')));
      expect(most).toBeLessThanOrEqual(4);
      expect(most).toBeGreaterThan(1);
    } finally {
      await slow.close();
    }
  });

  it('maps Graph 400s about caller input and 413s to client errors, other 4xx to graph_error', async () => {
    handler = (req) =>
      req.url.includes('bad-id')
        ? {
            status: 400,
            body: { error: { code: 'ErrorInvalidIdMalformed', message: 'Id is malformed.' } },
          }
        : req.url.includes('recipients')
          ? {
              status: 400,
              body: {
                error: {
                  code: 'ErrorInvalidRecipients',
                  message: 'At least one recipient is not valid.',
                },
              },
            }
          : req.url.includes('big')
            ? {
                status: 413,
                body: { error: { code: 'ErrorMessageSizeExceeded', message: 'too big' } },
              }
            : {
                status: 400,
                body: { error: { code: 'BadRequest', message: 'Unsupported query.' } },
              };
    const { client } = await graphFor();
    await expect(client.get('/me/messages/bad-id')).rejects.toMatchObject({ code: 'not_found' });
    await expect(client.json('POST', '/me/recipients', { body: {} })).rejects.toMatchObject({
      code: 'validation_failed',
    });
    await expect(client.json('POST', '/me/big', { body: {} })).rejects.toMatchObject({
      code: 'payload_too_large',
    });
    await expect(client.get('/me/other')).rejects.toMatchObject({
      code: 'graph_error',
      upstreamStatus: 400,
    });
  });

  it('refuses a shared mailbox without the .Shared scopes before calling Graph', async () => {
    await expect(graphFor(10_000, 'support@contoso.test')).rejects.toMatchObject({
      code: 'forbidden',
    });
    expect(seen).toHaveLength(0);
  });

  it('retries throttled batch items after the longest inner Retry-After', async () => {
    let round = 0;
    handler = (req) => {
      const { requests } = JSON.parse(req.body) as { requests: Array<{ id: string }> };
      round++;
      return {
        status: 200,
        body: {
          responses: requests.map((r) =>
            round === 1 && r.id === 'b'
              ? {
                  id: r.id,
                  status: 429,
                  headers: { 'Retry-After': '0.1' },
                  body: { error: { code: 'TooManyRequests' } },
                }
              : { id: r.id, status: 200, headers: {}, body: { value: [r.id] } },
          ),
        },
      };
    };
    const { client } = await graphFor();
    const results = await runBatch(
      client,
      ['a', 'b', 'c'].map((id) => ({
        id,
        method: 'GET' as const,
        url: `/me/mailFolders/${id}/childFolders`,
      })),
      { abortSignal: budgetSignal(5_000), log },
    );
    expect([...results.values()].map((r) => r.status)).toEqual([200, 200, 200]);
    expect(seen.map((s) => s.url)).toEqual(['/v1.0/$batch', '/v1.0/$batch']);
    expect(JSON.parse(JSON.stringify(results.get('b')!.body))).toEqual({ value: ['b'] });
  });
});
