import { afterEach, describe, expect, it } from 'vitest';
import type { Sandbox } from '../../../src/local/sandbox';
import { call, token, value, withSandbox } from '../../support/sandbox';
import { validateGraphResponse } from '../../support/openapi-validator';
import { useStack } from '../../support/use-stack';

type Inner = {
  id: string;
  status: number;
  headers: Record<string, string>;
  body?: Record<string, unknown>;
};

describe('JSON batching', () => {
  let tok: string;
  const sb = useStack(
    () => withSandbox({ messagesPerUser: 20 }),
    async () => {
      tok = await token(sb);
    },
  );

  const batch = async (
    requests: unknown[],
  ): Promise<{ status: number; responses: Inner[]; json: Record<string, unknown> }> => {
    const r = await call(sb, tok, 'POST', '/v1.0/$batch', { body: { requests } });
    return {
      status: r.status,
      responses: (r.json.responses as Inner[] | undefined) ?? [],
      json: r.json,
    };
  };

  it('runs independent requests and reports inner statuses (each inner body valid against OpenAPI)', async () => {
    const r = await batch([
      { id: '1', method: 'GET', url: '/me/messages?$top=2&$select=subject' },
      { id: '2', method: 'GET', url: 'me/mailFolders/inbox' },
      { id: '3', method: 'GET', url: '/users/nobody@contoso.test/messages' },
      {
        id: '4',
        method: 'POST',
        url: '/me/messages',
        body: { subject: 'from batch' },
        headers: { 'Content-Type': 'application/json' },
      },
    ]);
    expect(r.status).toBe(200);
    const byId = new Map(r.responses.map((x) => [x.id, x]));
    expect(byId.get('1')!.status).toBe(200);
    expect(byId.get('2')!.body!.displayName).toBe('Inbox');
    expect(byId.get('3')!.status).toBe(404);
    expect(byId.get('4')!.status).toBe(201);
    const urls: Record<string, [string, string]> = {
      '1': ['GET', '/v1.0/me/messages'],
      '2': ['GET', '/v1.0/me/mailFolders/inbox'],
      '4': ['POST', '/v1.0/me/messages'],
    };
    for (const [id, [m, p]] of Object.entries(urls))
      expect(validateGraphResponse(m, p, byId.get(id)!.status, byId.get(id)!.body).errors).toEqual(
        [],
      );
  });

  it('rejects more than 20 requests, duplicate ids and bodies without headers', async () => {
    const many = Array.from({ length: 21 }, (_, i) => ({
      id: String(i),
      method: 'GET',
      url: '/me',
    }));
    expect((await batch(many)).status).toBe(400);
    expect((await batch(many.slice(0, 20))).status).toBe(200);
    expect(
      (
        await batch([
          { id: 'a', method: 'GET', url: '/me' },
          { id: 'A', method: 'GET', url: '/me' },
        ])
      ).status,
    ).toBe(400);
    expect((await batch([{ id: '1', method: 'POST', url: '/me/messages', body: {} }])).status).toBe(
      400,
    );
  });

  it('sequences dependsOn and fails dependents of a failed request with 424', async () => {
    const r = await batch([
      { id: '1', method: 'GET', url: '/me/messages/AAMkAGdoesnotexist=' },
      { id: '2', method: 'GET', url: '/me', dependsOn: ['1'] },
      { id: '4', method: 'GET', url: '/me/mailFolders', dependsOn: ['2'] },
      { id: '3', method: 'GET', url: '/me', dependsOn: ['4'] },
    ]);
    const statuses = Object.fromEntries(r.responses.map((x) => [x.id, x.status]));
    expect(statuses).toEqual({ '1': 404, '2': 424, '4': 424, '3': 424 });
    const ok = await batch([
      { id: '1', method: 'GET', url: '/me' },
      { id: '2', method: 'GET', url: '/me/mailFolders', dependsOn: ['1'] },
    ]);
    expect(ok.responses.map((x) => x.status)).toEqual([200, 200]);
  });

  it('throttles inner requests individually (inner 429 with retry-after)', async () => {
    sb.control.setLimits({ requestsPerWindow: 3, requestWindowMs: 60_000 });
    try {
      const own = await batch(
        Array.from({ length: 5 }, (_, i) => ({
          id: String(i),
          method: 'GET',
          url: '/me/mailFolders/drafts',
        })),
      );
      const inner = own.responses.map((x) => x.status).sort();
      expect(inner.filter((s) => s === 429).length).toBeGreaterThanOrEqual(2);
      const throttled = own.responses.find((x) => x.status === 429)!;
      expect(throttled.headers['Retry-After']).toMatch(/^\d+$/);
    } finally {
      sb.control.setLimits({ requestsPerWindow: 10_000, requestWindowMs: 600_000 });
    }
  });
});

describe('JSON batching: where the time goes', () => {
  let timed: Sandbox | undefined;
  afterEach(async () => {
    await timed?.close();
    timed = undefined;
  });
  const twenty = Array.from({ length: 20 }, (_, i) => ({
    id: String(i),
    method: 'GET',
    url: '/me/mailFolders/inbox',
  }));
  const elapsed = async (sandbox: Sandbox): Promise<number> => {
    const t = await token(sandbox);
    const started = performance.now();
    const r = await call(sandbox, t, 'POST', '/v1.0/$batch', { body: { requests: twenty } });
    expect(r.status).toBe(200);
    return performance.now() - started;
  };

  it('pays the network round trip once for the whole batch, not once per item', async () => {
    timed = await withSandbox({ messagesPerUser: 0, latencyMs: 400 });
    // Paid per item, 4 at a time, 20 items would take five round trips (2,000 ms).
    const ms = await elapsed(timed);
    expect(ms).toBeGreaterThanOrEqual(395);
    expect(ms).toBeLessThan(1600);
  });

  it("pays Outlook's time for every item, 4 items at a time", async () => {
    timed = await withSandbox({ messagesPerUser: 0, serviceMs: 100 });
    // Five waves of four.
    expect(await elapsed(timed)).toBeGreaterThanOrEqual(495);
  });
});

describe('delta query', () => {
  let tok: string;
  const sb = useStack(
    () => withSandbox({ messagesPerUser: 30 }),
    async () => {
      tok = await token(sb);
    },
  );

  const drain = async (
    url: string,
    prefer = 'odata.maxpagesize=4',
  ): Promise<{ items: Array<Record<string, unknown>>; deltaLink: string; pages: number }> => {
    const items: Array<Record<string, unknown>> = [];
    let next: string | undefined = url;
    let pages = 0;
    for (;;) {
      const page = await call(sb, tok, 'GET', next, { headers: { Prefer: prefer } });
      expect(page.status).toBe(200);
      pages++;
      items.push(...value(page));
      expect(value(page).length).toBeLessThanOrEqual(4);
      if (page.json['@odata.deltaLink'])
        return { items, deltaLink: page.json['@odata.deltaLink'] as string, pages };
      next = page.json['@odata.nextLink'] as string;
      expect(next).toContain('%24skiptoken=');
    }
  };

  it('syncs a folder in rounds: all messages, then only changes with @removed', async () => {
    const inbox = sb.control
      .folders('adele@contoso.test')
      .find((f) => f.wellKnownName === 'inbox')!;
    const round1 = await drain('/v1.0/me/mailFolders/inbox/messages/delta?$select=subject,isRead');
    expect(round1.items).toHaveLength(inbox.totalItemCount);
    expect(round1.pages).toBeGreaterThan(1);
    expect(Object.keys(round1.items[0]!).sort()).toEqual([
      '@odata.etag',
      '@odata.type',
      'id',
      'isRead',
      'subject',
    ]);
    const empty = await drain(round1.deltaLink);
    expect(empty.items).toHaveLength(0);

    const [toRead, toDelete] = round1.items as Array<{ id: string }>;
    await call(sb, tok, 'PATCH', `/v1.0/me/messages/${toRead!.id}`, { body: { isRead: true } });
    await call(sb, tok, 'DELETE', `/v1.0/me/messages/${toDelete!.id}`);
    const added = sb.control.addMessage('adele@contoso.test', 'inbox', {
      subject: 'new in round 2',
    });
    const round2 = await drain(empty.deltaLink);
    expect(round2.items).toHaveLength(3);
    expect(round2.items.find((i) => i.id === toDelete!.id)).toMatchObject({
      '@removed': { reason: 'deleted' },
    });
    expect(round2.items.find((i) => i.id === toRead!.id)).toMatchObject({ isRead: true });
    expect(round2.items.find((i) => i.id === added.id)).toMatchObject({
      subject: 'new in round 2',
    });
  });

  it('accepts only the documented query options', async () => {
    expect(
      (await call(sb, tok, 'GET', '/v1.0/me/mailFolders/inbox/messages/delta?$search="x"')).status,
    ).toBe(400);
    expect(
      (
        await call(
          sb,
          tok,
          'GET',
          '/v1.0/me/mailFolders/inbox/messages/delta?$filter=isRead eq true',
        )
      ).status,
    ).toBe(400);
    expect(
      (await call(sb, tok, 'GET', '/v1.0/me/mailFolders/inbox/messages/delta?$orderby=subject'))
        .status,
    ).toBe(400);
    expect(
      (
        await call(
          sb,
          tok,
          'GET',
          '/v1.0/me/mailFolders/inbox/messages/delta?$filter=receivedDateTime ge 2020-01-01T00:00:00Z',
        )
      ).status,
    ).toBe(200);
    expect(
      (await call(sb, tok, 'GET', '/v1.0/me/mailFolders/inbox/messages/delta?$deltatoken=forged'))
        .status,
    ).toBe(400);
  });
});
