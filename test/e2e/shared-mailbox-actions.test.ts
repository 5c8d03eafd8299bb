import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import { DEFAULT_SCOPES } from '../../src/config';
import { SHARED_SCOPES, startTestStack, type TestStack } from '../support/stack';

const SUPPORT = 'support@contoso.test';

/**
 * Every action on a shared mailbox (`?mailbox=`), route family by route family: with
 * Mail.ReadWrite.Shared it acts in that mailbox (each Graph call goes to it); a credential that
 * may only read the shared mailbox (Mail.Read.Shared) is refused with 403 naming the permission,
 * before any Graph call.
 */
describe('actions on a shared mailbox', () => {
  let stack: TestStack;
  const graphCalls = () =>
    stack.sandbox.control.requestLog().filter((e) => e.path.startsWith('/v1.0/'));
  const add = (subject: string) =>
    stack.sandbox.control.addMessage(SUPPORT, 'inbox', {
      subject,
      body: { contentType: 'text', content: subject },
      from: { emailAddress: { address: 'ian.obrien@adatum.example' } },
      toRecipients: [{ emailAddress: { address: SUPPORT } }],
    }).immutableId;
  const call = (credential: string, method: string, path: string, body?: unknown) =>
    stack.api(
      `/api/credentials/${credential}/${path}${path.includes('?') ? '&' : '?'}mailbox=${SUPPORT}`,
      {
        method,
        ...(body === undefined
          ? {}
          : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
      },
    );

  /** One request per route family; `id` is a fresh message of the shared mailbox. */
  const families: Array<[string, (credential: string, id: string) => Promise<Response>]> = [
    ['PATCH messages/{id}', (c, id) => call(c, 'PATCH', `messages/${id}`, { isRead: true })],
    [
      'POST messages/{id}/move',
      (c, id) => call(c, 'POST', `messages/${id}/move`, { destination: 'archive' }),
    ],
    [
      'POST messages/{id}/copy',
      (c, id) => call(c, 'POST', `messages/${id}/copy`, { destination: 'archive' }),
    ],
    ['DELETE messages/{id}', (c, id) => call(c, 'DELETE', `messages/${id}`)],
    [
      'DELETE messages/{id}?permanent=true',
      (c, id) => call(c, 'DELETE', `messages/${id}?permanent=true`),
    ],
    [
      'POST messages/batch',
      (c, id) => call(c, 'POST', 'messages/batch', { action: 'flag', messageIds: [id] }),
    ],
    [
      'POST folders',
      (c) =>
        call(c, 'POST', 'folders', { displayName: `F${Math.random().toString(36).slice(2, 8)}` }),
    ],
    [
      'POST drafts',
      (c) => call(c, 'POST', 'drafts', { to: ['a@fabrikam.test'], subject: 'Draft', body: 'x' }),
    ],
    ['POST drafts (replyTo)', (c, id) => call(c, 'POST', 'drafts', { replyTo: id, body: 'x' })],
  ];

  beforeAll(async () => {
    stack = await startTestStack({ storage: false });
    await stack.connect('rw', { scopes: SHARED_SCOPES });
    await stack.connect('ro', { scopes: [...DEFAULT_SCOPES, 'Mail.Read.Shared'] });
  });
  afterAll(() => stack?.close());
  beforeEach(() => stack.sandbox.control.clearRequestLog());

  for (const [family, request] of families) {
    it(`${family}: acts in the shared mailbox with Mail.ReadWrite.Shared`, async () => {
      const response = await request('rw', add(family));
      expect(response.status, await response.clone().text()).toBeLessThan(300);
      const calls = graphCalls().filter((c) => c.mailbox !== null);
      expect(calls.length).toBeGreaterThan(0);
      expect(calls.every((c) => c.mailbox === SUPPORT)).toBe(true);
    });

    it(`${family}: 403 naming Mail.ReadWrite.Shared without it, before any Graph call`, async () => {
      const id = add(family);
      const response = await request('ro', id);
      expect(response.status).toBe(403);
      expect(response.headers.get('content-type')).toContain('application/problem+json');
      expect(((await response.json()) as { detail: string }).detail).toContain(
        'Mail.ReadWrite.Shared',
      );
      expect(graphCalls()).toEqual([]);
    });
  }

  it('folder and draft changes by id: PATCH and DELETE need Mail.ReadWrite.Shared too', async () => {
    const folder = (await (
      await call('rw', 'POST', 'folders', { displayName: 'Team' })
    ).json()) as {
      id: string;
    };
    const draft = (await (
      await call('rw', 'POST', 'drafts', { to: ['a@fabrikam.test'], subject: 'D', body: 'x' })
    ).json()) as { id: string };
    stack.sandbox.control.clearRequestLog();
    for (const [method, path, body] of [
      ['PATCH', `folders/${folder.id}`, { displayName: 'Team 2' }],
      ['DELETE', `folders/${folder.id}`, undefined],
      ['PATCH', `drafts/${draft.id}`, { subject: 'D2' }],
      ['DELETE', `drafts/${draft.id}`, undefined],
    ] as const) {
      expect((await call('ro', method, path, body)).status, `${method} ${path}`).toBe(403);
    }
    expect(graphCalls()).toEqual([]);
    // Reading the draft only needs Mail.Read.Shared.
    expect((await call('ro', 'GET', `drafts/${draft.id}`)).status).toBe(200);
    for (const [method, path, body] of [
      ['PATCH', `folders/${folder.id}`, { displayName: 'Team 2' }],
      ['PATCH', `drafts/${draft.id}`, { subject: 'D2' }],
      ['DELETE', `drafts/${draft.id}`, undefined],
      ['DELETE', `folders/${folder.id}`, undefined],
    ] as const) {
      expect((await call('rw', method, path, body)).status, `${method} ${path}`).toBeLessThan(300);
    }
  });
});
