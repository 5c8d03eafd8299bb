import { beforeEach, describe, expect, it } from 'vitest';

import { type MessageInfo } from '../../src/local/sandbox';
import { startTestStack } from '../support/stack';
import { useStack } from '../support/use-stack';

const ADELE = 'adele@contoso.test';

async function expectProblem(response: Response, status: number, code: string, path?: string) {
  expect(response.status).toBe(status);
  expect(response.headers.get('content-type')).toContain('application/problem+json');
  const body = (await response.json()) as { code: string; errors?: Array<{ path: string }> };
  expect(body.code).toBe(code);
  if (path) expect(body.errors?.map((e) => e.path)).toContain(path);
  return body;
}

describe('GET credentials/{id}/messages end to end', () => {
  let inbox: MessageInfo[];
  const graphCalls = () =>
    stack.sandbox.control.requestLog().filter((e) => e.path.startsWith('/v1.0/'));

  const stack = useStack(
    () => startTestStack({ storage: false }),
    async () => {
      await stack.connect('c1');
      await stack.connect('c1', { serviceId: 'other', upn: 'megan@contoso.test' });
      inbox = stack.sandbox.control.messages(ADELE, 'inbox');
    },
  );
  beforeEach(() => {
    stack.sandbox.control.clearRequestLog();
    stack.sandbox.control.clearFaults();
  });

  it('pages through a folder to the last page with nextCursor', async () => {
    const seen: string[] = [];
    let url = '/api/credentials/c1/messages?folder=inbox&top=30&select=subject,isRead';
    for (let i = 0; i < 20; i++) {
      const response = await stack.api(url);
      expect(response.status).toBe(200);
      const body = (await response.json()) as {
        messages: Array<{ id: string; subject: string }>;
        nextCursor: string | null;
      };
      seen.push(...body.messages.map((m) => m.id));
      if (!body.nextCursor) break;
      url = `/api/credentials/c1/messages?cursor=${encodeURIComponent(body.nextCursor)}`;
    }
    expect(seen).toEqual(inbox.map((m) => m.immutableId));
  });

  it('accepts a cursor with the query it was issued for, and refuses it with another', async () => {
    const query = 'folder=inbox&top=5&unread=true';
    const first = (await (await stack.api(`/api/credentials/c1/messages?${query}`)).json()) as {
      nextCursor: string;
    };
    const cursor = encodeURIComponent(first.nextCursor);
    const same = await stack.api(
      `/api/credentials/c1/messages?top=5&unread=true&folder=inbox&cursor=${cursor}`,
    );
    expect(same.status).toBe(200);
    const alone = await stack.api(`/api/credentials/c1/messages?cursor=${cursor}`);
    expect(alone.status).toBe(200);
    stack.sandbox.control.clearRequestLog();
    const other = await stack.api(
      `/api/credentials/c1/messages?folder=inbox&top=6&unread=true&cursor=${cursor}`,
    );
    expect(other.status).toBe(400);
    expect(await other.json()).toMatchObject({ errors: [{ path: 'query.cursor' }] });
    expect(
      stack.sandbox.control.requestLog().filter((e) => e.path.includes('/messages')),
    ).toHaveLength(0);
  });

  it('applies filters and returns the documented fields', async () => {
    const response = await stack.api(
      `/api/credentials/c1/messages?folder=inbox&unread=true&top=1000&receivedAfter=2000-01-01`,
    );
    expect(response.status).toBe(200);
    const body = (await response.json()) as { messages: Array<Record<string, unknown>> };
    expect(body.messages.map((m) => m.id)).toEqual(
      inbox.filter((m) => !m.isRead).map((m) => m.immutableId),
    );
    expect(Object.keys(body.messages[0]!).sort()).toEqual(
      [
        'id',
        'internetMessageId',
        'conversationId',
        'subject',
        'from',
        'toRecipients',
        'ccRecipients',
        'receivedDateTime',
        'sentDateTime',
        'isRead',
        'hasAttachments',
        'importance',
        'bodyPreview',
        'parentFolderId',
      ].sort(),
    );
    const filter = new URLSearchParams(graphCalls()[0]!.query).get('$filter');
    expect(filter).toBe('receivedDateTime ge 2000-01-01T00:00:00Z and isRead eq false');
  });

  it('includes bodies as text when asked', async () => {
    const response = await stack.api(
      '/api/credentials/c1/messages?folder=inbox&top=3&includeBody=true&bodyFormat=text',
    );
    const body = (await response.json()) as {
      messages: Array<{ body: { contentType: string; content: string } }>;
    };
    for (const m of body.messages) expect(m.body.contentType).toBe('text');
  });

  const BAD: Array<[string, string]> = [
    ['top=0', 'query.top'],
    ['top=1001', 'query.top'],
    ['top=ten', 'query.top'],
    ['top=5&top=6', 'query.top'],
    ['receivedAfter=2026-13-01', 'query.receivedAfter'],
    ['receivedAfter=2026-02-30', 'query.receivedAfter'],
    ['receivedBefore=yesterday', 'query.receivedBefore'],
    ['receivedAfter=2026-01-01T10:00:00', 'query.receivedAfter'],
    ['receivedAfter=2026-02-01&receivedBefore=2026-01-01', 'query.receivedBefore'],
    ['unread=yes', 'query.unread'],
    ['hasAttachments=1', 'query.hasAttachments'],
    ['from=not%20an%20address', 'query.from'],
    ['subject=', 'query.subject'],
    ['search=budget&unread=true', 'query.unread'],
    ['search=budget&subject=x', 'query.subject'],
    ['search=%22%20%22', 'query.search'],
    ['select=subject,secret', 'query.select'],
    ['bodyFormat=rtf', 'query.bodyFormat'],
    ['includeBody=false&bodyFormat=text', 'query.includeBody'],
    ['folder=inbox%3F%24top%3D1', 'query.folder'],
    ['folder=in%20box', 'query.folder'],
    ['mailbox=nobody', 'query.mailbox'],
    ['$filter=isRead%20eq%20true', 'query.$filter'],
    ['orderby=subject', 'query.orderby'],
    // Found by the hostile-input sweep: a prototype key was dropped, not refused.
    ['__proto__=1001', 'query.__proto__'],
  ];
  it.each(BAD)(
    'answers 400 naming the parameter for ?%s, without calling Graph',
    async (query, path) => {
      const response = await stack.api(`/api/credentials/c1/messages?${query}`);
      await expectProblem(response, 400, 'validation_failed', path);
      expect(graphCalls()).toEqual([]);
    },
  );

  it('answers 400 for a malformed credential id', async () => {
    await expectProblem(
      await stack.api('/api/credentials/c1.x/messages'),
      400,
      'validation_failed',
      'credentialId',
    );
  });

  it('needs a caller and isolates services', async () => {
    const anonymous = await fetch(`${stack.host.url}/api/credentials/c1/messages`);
    await expectProblem(anonymous, 401, 'unauthenticated');
    await expectProblem(await stack.api('/api/credentials/nope/messages'), 404, 'not_found');
    // `other` has its own c1 (Megan's mailbox): same id, different data.
    const theirs = await stack.api('/api/credentials/c1/messages?folder=inbox&top=1', {
      serviceId: 'other',
    });
    const body = (await theirs.json()) as { messages: Array<{ id: string }> };
    expect(inbox.map((m) => m.immutableId)).not.toContain(body.messages[0]!.id);
  });

  it('refuses tampered, foreign and garbage cursors with invalid_cursor and no Graph call', async () => {
    const first = await stack.api('/api/credentials/c1/messages?folder=inbox&top=5');
    const { nextCursor } = (await first.json()) as { nextCursor: string };
    stack.sandbox.control.clearRequestLog();
    const [v, payload, sig] = nextCursor.split('.') as [string, string, string];
    const flipped = `${v}.${payload.slice(0, -2)}${payload.endsWith('A') ? 'B' : 'A'}${payload.slice(-1)}.${sig}`;
    const forgedLink = Buffer.from(
      JSON.stringify({
        exp: 9e9,
        state: { link: 'https://evil.example/v1.0/me/messages', fields: ['id'] },
      }),
    ).toString('base64url');
    for (const cursor of [flipped, `${v}.${forgedLink}.${sig}`, 'garbage', `${nextCursor}x`]) {
      await expectProblem(
        await stack.api(`/api/credentials/c1/messages?cursor=${encodeURIComponent(cursor)}`),
        400,
        'invalid_cursor',
      );
    }
    // The same credential id under another service, and the same credential for a shared mailbox.
    await expectProblem(
      await stack.api(`/api/credentials/c1/messages?cursor=${encodeURIComponent(nextCursor)}`, {
        serviceId: 'other',
      }),
      400,
      'invalid_cursor',
    );
    await expectProblem(
      await stack.api(
        `/api/credentials/c1/messages?mailbox=support@contoso.test&cursor=${encodeURIComponent(nextCursor)}`,
      ),
      400,
      'invalid_cursor',
    );
    expect(graphCalls()).toEqual([]);
  });

  it('searches, and returns Graph search results as a page', async () => {
    const subject = inbox[0]!.subject as string;
    const response = await stack.api(
      `/api/credentials/c1/messages?search=${encodeURIComponent(subject)}&top=5`,
    );
    expect(response.status).toBe(200);
    const body = (await response.json()) as { messages: Array<{ subject: string }> };
    expect(body.messages.length).toBeGreaterThan(0);
    for (const m of body.messages) expect(m.subject.toLowerCase()).toContain(subject.toLowerCase());
  });
});
