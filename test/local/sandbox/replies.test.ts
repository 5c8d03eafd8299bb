import { describe, expect, it, vi } from 'vitest';
import { call, token, withSandbox } from '../../support/sandbox';
import { useStack } from '../../support/use-stack';

const ADELE = 'adele@contoso.test';
const MEGAN = 'megan@contoso.test';

/** The bytes of a conversationIndex (the sandbox writes them URL-safe, Node reads either alphabet). */
const indexBytes = (index: unknown): Buffer => Buffer.from(String(index), 'base64');

describe('conversations: seeded threads, createReply and reply', () => {
  let tok: string;
  const sb = useStack(
    () => withSandbox({ messagesPerUser: 0 }),
    async () => {
      tok = await token(sb);
    },
  );

  const inbound = (extra: Record<string, unknown> = {}) =>
    sb.control.addMessage(ADELE, 'inbox', {
      subject: 'Login fails',
      from: { emailAddress: { name: 'Alice Fenwick', address: 'alice@fabrikam.test' } },
      toRecipients: [{ emailAddress: { address: ADELE } }],
      ccRecipients: [{ emailAddress: { address: 'carol@northwind.test' } }],
      body: { contentType: 'text', content: 'It says "denied".' },
      receivedDateTime: '2026-04-27T07:30:00Z',
      ...extra,
    });

  it('addMessage keeps a given conversationId and extends the thread index', () => {
    const first = inbound();
    const reply = sb.control.addMessage(ADELE, 'sentitems', {
      subject: 'RE: Login fails',
      toRecipients: [{ emailAddress: { address: 'alice@fabrikam.test' } }],
      receivedDateTime: '2026-04-27T08:30:00Z',
      conversationId: first.conversationId,
    });
    expect(reply.conversationId).toBe(first.conversationId);
    const parent = indexBytes(first.conversationIndex);
    const child = indexBytes(reply.conversationIndex);
    expect(child.length).toBe(parent.length + 5);
    expect(child.subarray(0, parent.length)).toEqual(parent);

    const explicit = sb.control.addMessage(ADELE, 'inbox', {
      conversationId: first.conversationId,
      conversationIndex: 'AQHTexplicit',
    });
    expect(explicit).toMatchObject({
      conversationId: first.conversationId,
      conversationIndex: 'AQHTexplicit',
    });
    // Without one, every message starts its own conversation.
    expect(inbound().conversationId).not.toBe(first.conversationId);
    expect(() => sb.control.addMessage(ADELE, 'inbox', { conversationId: 7 })).toThrow(
      /conversationId/,
    );
    expect(() => sb.control.addMessage(ADELE, 'inbox', { conversationIndex: 'AQHT' })).toThrow(
      /conversationId/,
    );
  });

  it('createReply drafts a reply in the same conversation; sending it keeps the conversation', async () => {
    const original = inbound();
    const created = await call(sb, tok, 'POST', `/v1.0/me/messages/${original.id}/createReply`, {
      body: { comment: 'Try again <b>now</b>' },
    });
    expect(created.status).toBe(201);
    expect(created.json).toMatchObject({
      isDraft: true,
      subject: 'RE: Login fails',
      conversationId: original.conversationId,
      toRecipients: [{ emailAddress: { address: 'alice@fabrikam.test' } }],
      ccRecipients: [],
    });
    const content = (created.json.body as { content: string }).content;
    // The comment is HTML, above the quote.
    expect(content).toContain('<div>Try again <b>now</b></div>');
    expect(content).toContain('It says "denied".');
    expect(content).toContain('<b>Subject:</b> Login fails');

    const id = created.json.id as string;
    expect((await call(sb, tok, 'POST', `/v1.0/me/messages/${id}/send`)).status).toBe(202);
    await vi.waitFor(() => {
      const sent = sb.control
        .sentItems(ADELE)
        .filter((m) => m.conversationId === original.conversationId);
      expect(sent).toEqual([
        expect.objectContaining({ subject: 'RE: Login fails', isDraft: false }),
      ]);
    });
  });

  it('replyAll sends at once to the sender and the other recipients, never to the mailbox itself', async () => {
    const original = inbound({
      subject: 'RE: Plan',
      toRecipients: [{ emailAddress: { address: ADELE } }, { emailAddress: { address: MEGAN } }],
    });
    const r = await call(sb, tok, 'POST', `/v1.0/me/messages/${original.id}/replyAll`, {
      body: { comment: 'Agreed.' },
    });
    expect(r.status).toBe(202);
    const sent = await vi.waitFor(() => {
      const copy = sb.control.sentItems(ADELE).find((m) => m.subject === 'RE: Plan');
      expect(copy).toBeDefined();
      return copy!;
    });
    expect(sent.conversationId).toBe(original.conversationId);
    const addresses = (list: unknown) =>
      (list as Array<{ emailAddress: { address: string } }>).map((x) => x.emailAddress.address);
    expect(addresses(sent.toRecipients)).toEqual(['alice@fabrikam.test', MEGAN]);
    expect(addresses(sent.ccRecipients)).toEqual(['carol@northwind.test']);
    // Megan's delivered copy is in the same conversation.
    expect(
      sb.control.messages(MEGAN, 'inbox').find((m) => m.subject === 'RE: Plan')?.conversationId,
    ).toBe(original.conversationId);
  });

  it('reply honours Reply-To and the message parameter; rejects a comment plus a body', async () => {
    const original = inbound({
      replyTo: [{ emailAddress: { address: 'helpdesk@fabrikam.test' } }],
    });
    const both = await call(sb, tok, 'POST', `/v1.0/me/messages/${original.id}/reply`, {
      body: { comment: 'x', message: { body: { contentType: 'Text', content: 'y' } } },
    });
    expect(both.status).toBe(400);
    const unknown = await call(sb, tok, 'POST', `/v1.0/me/messages/${original.id}/reply`, {
      body: { note: 'x' },
    });
    expect(unknown.json).toMatchObject({ error: { code: 'RequestBodyRead' } });

    const before = sb.control.sentItems(ADELE).length;
    const r = await call(sb, tok, 'POST', `/v1.0/me/messages/${original.id}/reply`, {
      body: { message: { categories: ['Answered'] } },
    });
    expect(r.status).toBe(202);
    await vi.waitFor(() => expect(sb.control.sentItems(ADELE)).toHaveLength(before + 1));
    const sent = sb.control.sentItems(ADELE);
    expect(sent[0]).toMatchObject({
      conversationId: original.conversationId,
      categories: ['Answered'],
      toRecipients: [{ emailAddress: { address: 'helpdesk@fabrikam.test' } }],
    });
  });

  it('reply needs Mail.Send; createReply needs Mail.ReadWrite', async () => {
    const original = inbound();
    const readWrite = await token(sb, ADELE, 'Mail.ReadWrite');
    const send = await token(sb, ADELE, 'Mail.Send');
    const path = `/v1.0/me/messages/${original.id}`;
    expect((await call(sb, readWrite, 'POST', `${path}/reply`, { body: {} })).status).toBe(403);
    expect((await call(sb, send, 'POST', `${path}/createReply`)).status).toBe(403);
    expect((await call(sb, readWrite, 'POST', `${path}/createReply`)).status).toBe(201);
    expect((await call(sb, tok, 'GET', `${path}/reply`)).status).toBe(405);
  });
});
