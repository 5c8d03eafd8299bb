import { TableClient, TableServiceClient } from '@azure/data-tables';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import { sentCopies, sentNow } from '../support/sent-items';
import { startTestStack, type TestStack } from '../support/stack';

/**
 * Sender identities and signatures end to end: the local host, the real Graph helper and the
 * Graph sandbox over HTTP (aliases in proxyAddresses, SendFromAliasEnabled), Azurite for the
 * signature table and its image blobs.
 */

let stack: TestStack;
let adele: string;
let megan: string;
const SHARED = 'support@contoso.test';
const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==',
  'base64',
);

const json = (method: string, body: unknown): RequestInit => ({
  method,
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify(body),
});

async function call(path: string, init?: RequestInit & { serviceId?: string }) {
  const response = await stack.api(path, init);
  const text = await response.text();
  return {
    status: response.status,
    type: response.headers.get('content-type'),
    body: (text ? JSON.parse(text) : {}) as Record<string, unknown>,
  };
}

const graphCalls = () =>
  stack.sandbox.control.requestLog().filter((e) => e.path.startsWith('/v1.0/'));
const sendCalls = () => graphCalls().filter((e) => /\/(sendmail|send)$/i.test(e.path));
/** The Sent Items copy with this subject, once it has appeared. */
const sent = async (subject: string) => (await sentCopies(stack.sandbox, adele, subject))[0];
/** The body text of the sent message with this subject. */
const sentBody = async (subject: string) =>
  ((await sent(subject))?.body as { content: string }).content;

beforeAll(async () => {
  stack = await startTestStack();
  adele = stack.sandbox.users[0]!.userPrincipalName;
  megan = stack.sandbox.users[1]!.userPrincipalName;
  await stack.connect('c1');
  await stack.connect('shared', {
    mailbox: SHARED,
    scopes: ['offline_access', 'User.Read', 'Mail.ReadWrite', 'Mail.Send', 'Mail.Send.Shared'],
  });
}, 60_000);

afterAll(async () => {
  await stack?.close();
});

beforeEach(() => {
  stack.sandbox.control.setTenant({ sendFromAliasEnabled: false });
  stack.sandbox.control.clearRequestLog();
});

describe('GET credentials/{id}/identities', () => {
  it('lists the primary address and the smtp: aliases, lower-cased, read with an explicit $select', async () => {
    const { status, body } = await call('/api/credentials/c1/identities?refresh=true');
    expect(status, JSON.stringify(body)).toBe(200);
    expect(body).toEqual({
      primary: { address: adele, name: 'Adele Vance' },
      aliases: [{ address: 'adele.vance@contoso.test' }, { address: 'sales@contoso.test' }],
      sendAs: [],
    });
    const me = graphCalls().filter((e) => e.path === '/v1.0/me');
    expect(me).toHaveLength(1);
    expect(decodeURIComponent(me[0]!.query)).toContain('proxyAddresses');
  });

  it('answers from its cache until ?refresh=true reads Graph again', async () => {
    await call('/api/credentials/c1/identities');
    stack.sandbox.control.clearRequestLog();
    expect((await call('/api/credentials/c1/identities')).status).toBe(200);
    expect(graphCalls()).toHaveLength(0);
    expect((await call('/api/credentials/c1/identities?refresh=true')).status).toBe(200);
    expect(graphCalls().filter((e) => e.path === '/v1.0/me')).toHaveLength(1);
  });

  it('adds the shared mailbox the credential was configured for', async () => {
    const { status, body } = await call('/api/credentials/shared/identities');
    expect(status, JSON.stringify(body)).toBe(200);
    expect(body.sendAs).toEqual([{ address: SHARED }]);
    expect(body.primary).toMatchObject({ address: adele });
  });

  it('is 404 for another service and 400 for a bad query', async () => {
    expect((await call('/api/credentials/c1/identities', { serviceId: 'other' })).status).toBe(404);
    const bad = await call('/api/credentials/c1/identities?refresh=yes');
    expect(bad.status).toBe(400);
    expect(bad.body.errors).toEqual([{ path: 'query.refresh', message: expect.any(String) }]);
  });
});

describe('send as an alias', () => {
  it('refuses an address the credential may not send as with 400 naming from, before any send', async () => {
    const { status, body, type } = await call(
      '/api/credentials/c1/send',
      json('POST', { to: megan, subject: 'Spoof', body: 'x', from: 'ceo@contoso.test' }),
    );
    expect(status).toBe(400);
    expect(type).toContain('application/problem+json');
    expect(body.errors).toEqual([
      { path: 'from', message: expect.stringContaining('ceo@contoso.test') },
    ]);
    expect(sendCalls()).toHaveLength(0);
  });

  it('refuses a from name with a line break (header injection) naming from.name', async () => {
    const { status, body } = await call(
      '/api/credentials/c1/send',
      json('POST', {
        to: megan,
        subject: 'x',
        body: 'x',
        from: { address: adele, name: 'A\r\nBcc: x@y.z' },
      }),
    );
    expect(status).toBe(400);
    expect(body.errors).toEqual([{ path: 'from.name', message: expect.any(String) }]);
    expect(sendCalls()).toHaveLength(0);
  });

  it('answers 403 send_as_denied saying what to enable where the tenant keeps SendFromAliasEnabled off', async () => {
    const { status, body } = await call(
      '/api/credentials/c1/send',
      json('POST', {
        to: megan,
        subject: 'From sales, denied',
        body: 'x',
        from: 'Sales@contoso.test',
      }),
    );
    expect(status, JSON.stringify(body)).toBe(403);
    expect(body.code).toBe('send_as_denied');
    expect(body.detail).toContain('SendFromAliasEnabled');
    expect(body.from).toBe('Sales@contoso.test');
    expect(sentNow(stack.sandbox, adele, 'From sales, denied')).toEqual([]);
  });

  it('sends from the alias once the tenant enabled SendFromAliasEnabled', async () => {
    stack.sandbox.control.setTenant({ sendFromAliasEnabled: true });
    const { status, body } = await call(
      '/api/credentials/c1/send',
      json('POST', {
        to: megan,
        subject: 'From sales',
        body: 'x',
        from: { address: 'sales@contoso.test', name: 'Sales' },
      }),
    );
    expect(status, JSON.stringify(body)).toBe(202);
    expect(await sent('From sales')).toMatchObject({
      from: { emailAddress: { address: 'sales@contoso.test' } },
    });
    const delivered = stack.sandbox.control
      .messages(megan, 'inbox')
      .find((m) => m.subject === 'From sales');
    expect(delivered).toMatchObject({ from: { emailAddress: { address: 'sales@contoso.test' } } });
  });

  it('answers 403 send_as_denied naming Send As rights for a shared mailbox without them', async () => {
    await stack.connect('megan-shared', {
      upn: megan,
      mailbox: SHARED,
      scopes: ['offline_access', 'User.Read', 'Mail.ReadWrite', 'Mail.Send', 'Mail.Send.Shared'],
    });
    // Full Access lets Megan open the queue's mailbox; without Send As she may not send as it.
    stack.sandbox.control.grantSharedAccess(megan, SHARED, { fullAccess: true });
    const { status, body } = await call(
      '/api/credentials/megan-shared/send',
      json('POST', { to: adele, subject: 'Megan as support', body: 'x', from: SHARED }),
    );
    expect(status, JSON.stringify(body)).toBe(403);
    expect(body).toMatchObject({ code: 'send_as_denied', from: SHARED });
    expect(body.detail).toContain('Send As');
  });

  it('sends as the configured shared mailbox with Send As rights', async () => {
    const { status, body } = await call(
      '/api/credentials/shared/send',
      json('POST', { to: megan, subject: 'As support', body: 'x', from: SHARED }),
    );
    expect(status, JSON.stringify(body)).toBe(202);
  });
});

describe('signatures', () => {
  const html =
    '<p style="color:#1f3864;position:fixed">Adele Vance<br>Retail Manager</p>' +
    '<img src="cid:logo" alt="Contoso"><script>alert(1)</script><a href="javascript:alert(1)">contoso.test</a>';
  const images = [
    {
      contentId: 'logo',
      name: 'logo.png',
      contentType: 'image/png',
      contentBase64: PNG.toString('base64'),
    },
  ];

  it('stores a sanitised signature and gives it back', async () => {
    const put = await call(
      '/api/credentials/c1/signature',
      json('PUT', { html, images, default: true }),
    );
    expect(put.status, JSON.stringify(put.body)).toBe(200);
    expect(put.body.html).not.toMatch(/script|javascript|position/);
    expect(put.body.html).toContain('<img src="cid:logo" alt="Contoso" />');
    expect(put.body.text).toBe('Adele Vance\nRetail Manager\ncontoso.test');
    expect(put.body.images).toEqual([
      { contentId: 'logo', name: 'logo.png', contentType: 'image/png', size: PNG.length },
    ]);
    const got = await call('/api/credentials/c1/signature');
    expect(got.body).toEqual(put.body);
    expect((await call('/api/credentials/c1/signature', { serviceId: 'other' })).status).toBe(404);
  });

  it('names every problem of a signature at once and stores nothing', async () => {
    const { status, body } = await call(
      '/api/credentials/c1/signature',
      json('PUT', {
        html: '<p>x <img src="cid:missing"></p>',
        images: [{ ...images[0], contentId: 'unused' }],
      }),
    );
    expect(status).toBe(400);
    expect((body.errors as Array<{ path: string }>).map((e) => e.path).sort()).toEqual([
      'html',
      'images[0].contentId',
    ]);
    expect((await call('/api/credentials/c1/signature')).body.html).toContain('Adele Vance');
  });

  it('appends the signature to an HTML send as a block with its image inline', async () => {
    const { status, body } = await call(
      '/api/credentials/c1/send',
      json('POST', {
        to: megan,
        subject: 'Signed html',
        body: '<p>Hello Megan</p>',
        contentType: 'html',
      }),
    );
    expect(status, JSON.stringify(body)).toBe(202);
    const message = (await sent('Signed html'))!;
    const content = await sentBody('Signed html');
    expect(content.indexOf('Hello Megan')).toBeLessThan(content.indexOf('id="Signature"'));
    expect(content).toContain('cid:logo');
    const attachments = await call(
      `/api/credentials/c1/messages/${message.immutableId}/attachments`,
    );
    expect(attachments.body.attachments).toEqual([
      expect.objectContaining({ name: 'logo.png', isInline: true, size: PNG.length }),
    ]);
  });

  it('signs a reply above the quoted original, its image inline, and refuses an unknown from', async () => {
    const original = stack.sandbox.control.addMessage(adele, 'inbox', {
      subject: 'Quote please',
      from: { emailAddress: { name: 'Alice Fenwick', address: 'alice@fabrikam.test' } },
      toRecipients: [{ emailAddress: { address: adele } }],
      body: { contentType: 'text', content: 'What does it cost?' },
    });
    const { status, body } = await call(
      `/api/credentials/c1/messages/${original.immutableId}/reply`,
      json('POST', { body: '<p>It costs 10.</p>', contentType: 'html' }),
    );
    expect(status, JSON.stringify(body)).toBe(202);
    const content = await sentBody('RE: Quote please');
    const at = (text: string) => content.indexOf(text);
    expect(at('It costs 10.')).toBeGreaterThanOrEqual(0);
    expect(at('It costs 10.')).toBeLessThan(at('id="Signature"'));
    expect(at('id="Signature"')).toBeLessThan(at('What does it cost?'));
    const reply = (await sent('RE: Quote please'))!;
    const attachments = await call(`/api/credentials/c1/messages/${reply.immutableId}/attachments`);
    expect(attachments.body.attachments).toEqual([
      expect.objectContaining({ name: 'logo.png', isInline: true }),
    ]);
    const refused = await call(
      `/api/credentials/c1/messages/${original.immutableId}/reply`,
      json('POST', { body: 'x', from: 'ceo@contoso.test' }),
    );
    expect(refused.status).toBe(400);
    expect(refused.body.errors).toEqual([{ path: 'from', message: expect.any(String) }]);
  });

  it('appends the text signature after the "-- " delimiter, and none with signature:false', async () => {
    await call(
      '/api/credentials/c1/send',
      json('POST', { to: megan, subject: 'Signed text', body: 'Hi' }),
    );
    expect(await sentBody('Signed text')).toBe(
      'Hi\n\n-- \nAdele Vance\nRetail Manager\ncontoso.test',
    );
    await call(
      '/api/credentials/c1/send',
      json('POST', { to: megan, subject: 'Unsigned', body: 'Hi', signature: false }),
    );
    expect(await sentBody('Unsigned')).toBe('Hi');
  });

  it('uses an alias its own signature, and refuses an alias the credential does not have', async () => {
    stack.sandbox.control.setTenant({ sendFromAliasEnabled: true });
    const put = await call(
      '/api/credentials/c1/signature?from=sales@contoso.test',
      json('PUT', { html: '<p>Contoso Sales</p>', default: true }),
    );
    expect(put.status, JSON.stringify(put.body)).toBe(200);
    expect(put.body.from).toBe('sales@contoso.test');
    await call(
      '/api/credentials/c1/send',
      json('POST', { to: megan, subject: 'Sales signed', body: 'Hi', from: 'sales@contoso.test' }),
    );
    expect(await sentBody('Sales signed')).toBe('Hi\n\n-- \nContoso Sales');
    const bad = await call(
      '/api/credentials/c1/signature?from=ceo@contoso.test',
      json('PUT', { html: '<p>x</p>' }),
    );
    expect(bad.status).toBe(400);
    expect(bad.body.errors).toEqual([{ path: 'query.from', message: expect.any(String) }]);
    expect(
      (await call('/api/credentials/c1/signature?from=sales@contoso.test', { method: 'DELETE' }))
        .status,
    ).toBe(204);
    expect((await call('/api/credentials/c1/signature?from=sales@contoso.test')).status).toBe(404);
  });

  it('appends a signature whose default is false only when a send asks for it', async () => {
    await call(
      '/api/credentials/c1/signature',
      json('PUT', { html: '<p>Optional</p>', default: false }),
    );
    await call(
      '/api/credentials/c1/send',
      json('POST', { to: megan, subject: 'No default', body: 'Hi' }),
    );
    expect(await sentBody('No default')).toBe('Hi');
    await call(
      '/api/credentials/c1/send',
      json('POST', { to: megan, subject: 'Asked', body: 'Hi', signature: true }),
    );
    expect(await sentBody('Asked')).toBe('Hi\n\n-- \nOptional');
    expect((await call('/api/credentials/c1/signature', { method: 'DELETE' })).status).toBe(204);
    expect((await call('/api/credentials/c1/signature')).status).toBe(404);
  });
});

describe('deleting a credential', () => {
  /** Every entity of every table in this stack's storage that mentions the credential. */
  async function storedFor(credentialId: string): Promise<string[]> {
    const { connectionString } = stack.azurite!;
    const options = { allowInsecureConnection: true };
    const service = TableServiceClient.fromConnectionString(connectionString, options);
    const found: string[] = [];
    for await (const table of service.listTables()) {
      const client = TableClient.fromConnectionString(connectionString, table.name!, options);
      for await (const entity of client.listEntities<Record<string, unknown>>()) {
        const keys = `${entity.partitionKey}|${entity.rowKey}|${String(entity.credentialId)}`;
        if (keys.split(/[|:~]/).includes(credentialId)) {
          found.push(`${table.name}/${entity.partitionKey}/${entity.rowKey}`);
        }
      }
    }
    return found;
  }

  it('removes its signatures (its aliases too) and its cached identities', async () => {
    await stack.connect('leaving');
    const put = (query: string, html: string) =>
      call(`/api/credentials/leaving/signature${query}`, json('PUT', { html }));
    expect((await put('', '<p>Leaving Adele</p>')).status).toBe(200);
    expect((await put('?from=sales@contoso.test', '<p>Leaving Sales</p>')).status).toBe(200);
    // Another credential's signature of the same service stays.
    expect(
      (await call('/api/credentials/c1/signature', json('PUT', { html: '<p>Stays</p>' }))).status,
    ).toBe(200);
    expect((await call('/api/credentials/leaving/identities')).body.primary).toMatchObject({
      address: adele,
    });
    expect((await storedFor('leaving')).filter((e) => e.startsWith('signatures/'))).toHaveLength(2);

    expect((await call('/api/credentials/leaving', { method: 'DELETE' })).status).toBe(204);
    expect(await storedFor('leaving')).toEqual([]);
    expect((await call('/api/credentials/c1/signature')).body.html).toBe('<p>Stays</p>');

    // The same id connected to another mailbox answers for that mailbox, not from the cache.
    await stack.connect('leaving', { upn: megan });
    const again = await call('/api/credentials/leaving/identities');
    expect(again.body.primary).toMatchObject({ address: megan });
    expect((await call('/api/credentials/leaving/signature')).status).toBe(404);
    await call('/api/credentials/c1/signature', { method: 'DELETE' });
  });
});

describe('drafts', () => {
  const signatureCount = (html: string) => html.split('id="Signature"').length - 1;
  const writes = () => graphCalls().filter((e) => e.method !== 'GET');
  const draftAttachments = async (id: string) =>
    (await call(`/api/credentials/c1/messages/${id}/attachments`)).body.attachments as Array<
      Record<string, unknown>
    >;

  beforeAll(async () => {
    const put = await call(
      '/api/credentials/c1/signature',
      json('PUT', {
        html: '<p>Adele Vance</p><img src="cid:logo" alt="Contoso">',
        images: [
          {
            contentId: 'logo',
            name: 'logo.png',
            contentType: 'image/png',
            contentBase64: PNG.toString('base64'),
          },
        ],
      }),
    );
    expect(put.status, JSON.stringify(put.body)).toBe(200);
  });
  afterAll(async () => {
    await call('/api/credentials/c1/signature', { method: 'DELETE' });
  });

  it('checks from before anything is written, signs a new draft once and never again on send', async () => {
    const refused = await call(
      '/api/credentials/c1/drafts',
      json('POST', { to: megan, subject: 'x', from: 'ceo@contoso.test' }),
    );
    expect(refused.status).toBe(400);
    expect(refused.body.errors).toEqual([{ path: 'from', message: expect.any(String) }]);
    expect(writes()).toEqual([]);

    const created = await call(
      '/api/credentials/c1/drafts',
      json('POST', {
        to: megan,
        subject: 'Draft signed',
        body: '<p>Hello Megan</p>',
        contentType: 'html',
      }),
    );
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const id = created.body.id as string;
    const content = (created.body.body as { content: string }).content;
    expect(signatureCount(content)).toBe(1);
    expect(content.indexOf('Hello Megan')).toBeLessThan(content.indexOf('id="Signature"'));
    expect(await draftAttachments(id)).toEqual([
      expect.objectContaining({ name: 'logo.png', isInline: true }),
    ]);

    // A person edits the body they were shown (signature included) and picks an alias.
    stack.sandbox.control.clearRequestLog();
    const badFrom = await call(
      `/api/credentials/c1/drafts/${id}`,
      json('PATCH', { from: 'ceo@contoso.test' }),
    );
    expect(badFrom.status).toBe(400);
    expect(badFrom.body.errors).toEqual([{ path: 'from', message: expect.any(String) }]);
    expect(graphCalls().filter((e) => e.path.includes('/messages'))).toEqual([]);
    const edited = content.replace('Hello Megan', 'Hello again Megan');
    const patched = await call(
      `/api/credentials/c1/drafts/${id}`,
      json('PATCH', {
        body: edited,
        contentType: 'html',
        from: { address: 'sales@contoso.test', name: 'Contoso Sales' },
        replyTo: { address: 'team@contoso.test', name: 'Team' },
      }),
    );
    expect(patched.status, JSON.stringify(patched.body)).toBe(200);
    expect(patched.body.from).toMatchObject({ address: 'sales@contoso.test' });
    expect(signatureCount((patched.body.body as { content: string }).content)).toBe(1);

    // Exchange refuses the alias until the tenant allows it: the draft's send says what to enable.
    const denied = await call(`/api/credentials/c1/drafts/${id}/send`, { method: 'POST' });
    expect(denied.status, JSON.stringify(denied.body)).toBe(403);
    expect(denied.body).toMatchObject({ code: 'send_as_denied', from: 'sales@contoso.test' });
    expect(denied.body.detail).toContain('SendFromAliasEnabled');

    stack.sandbox.control.setTenant({ sendFromAliasEnabled: true });
    const sentDraft = await call(`/api/credentials/c1/drafts/${id}/send`, { method: 'POST' });
    expect(sentDraft.status, JSON.stringify(sentDraft.body)).toBe(202);
    const message = (await sent('Draft signed'))!;
    expect(message).toMatchObject({
      from: { emailAddress: { address: 'sales@contoso.test' } },
      replyTo: [{ emailAddress: { address: 'team@contoso.test', name: 'Team' } }],
    });
    const body = await sentBody('Draft signed');
    expect(signatureCount(body)).toBe(1);
    expect(body).toContain('Hello again Megan');
    expect(await draftAttachments(message.immutableId)).toHaveLength(1);
  });

  it('signs a reply draft above the quoted original, and a forward draft only when asked', async () => {
    const original = stack.sandbox.control.addMessage(adele, 'inbox', {
      subject: 'Draft me a reply',
      from: { emailAddress: { name: 'Alice Fenwick', address: 'alice@fabrikam.test' } },
      toRecipients: [{ emailAddress: { address: adele } }],
      body: { contentType: 'text', content: 'Original question' },
    });
    const spoof = await call(
      '/api/credentials/c1/drafts',
      json('POST', { replyTo: original.immutableId, body: 'x', from: 'ceo@contoso.test' }),
    );
    expect(spoof.status).toBe(400);
    expect(spoof.body.errors).toEqual([{ path: 'from', message: expect.any(String) }]);
    expect(graphCalls().filter((e) => e.method !== 'GET')).toEqual([]);
    const reply = await call(
      '/api/credentials/c1/drafts',
      json('POST', {
        replyTo: original.immutableId,
        body: '<p>Our answer</p>',
        contentType: 'html',
      }),
    );
    expect(reply.status, JSON.stringify(reply.body)).toBe(201);
    const content = (reply.body.body as { content: string }).content;
    const at = (text: string) => content.indexOf(text);
    expect(at('Our answer')).toBeGreaterThanOrEqual(0);
    expect(at('Our answer')).toBeLessThan(at('id="Signature"'));
    expect(at('id="Signature"')).toBeLessThan(at('Original question'));
    const replyId = reply.body.id as string;
    expect(
      (await call(`/api/credentials/c1/drafts/${replyId}/send`, { method: 'POST' })).status,
    ).toBe(202);
    expect(signatureCount(await sentBody('RE: Draft me a reply'))).toBe(1);

    const forward = await call(
      '/api/credentials/c1/drafts',
      json('POST', {
        forwardOf: original.immutableId,
        to: megan,
        body: '<p>FYI</p>',
        contentType: 'html',
        signature: false,
      }),
    );
    expect(forward.status, JSON.stringify(forward.body)).toBe(201);
    expect(signatureCount((forward.body.body as { content: string }).content)).toBe(0);
    expect(await draftAttachments(forward.body.id as string)).toEqual([]);
    await call(`/api/credentials/c1/drafts/${forward.body.id as string}`, { method: 'DELETE' });
  });

  it('does not send a draft whose from was changed elsewhere to an address it may not use', async () => {
    const seeded = stack.sandbox.control.addMessage(adele, 'drafts', {
      subject: 'Changed in Outlook',
      isDraft: true,
      from: { emailAddress: { address: 'ceo@contoso.test' } },
      toRecipients: [{ emailAddress: { address: megan } }],
      body: { contentType: 'text', content: 'x' },
    });
    const r = await call(`/api/credentials/c1/drafts/${seeded.immutableId}/send`, {
      method: 'POST',
    });
    expect(r.status, JSON.stringify(r.body)).toBe(400);
    expect(r.body.errors).toEqual([{ path: 'from', message: expect.any(String) }]);
    expect(sendCalls()).toHaveLength(0);
    expect(sentNow(stack.sandbox, adele, 'Changed in Outlook')).toEqual([]);
  });
});
