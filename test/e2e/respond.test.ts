import { randomBytes } from 'node:crypto';

import { beforeEach, describe, expect, it } from 'vitest';

import { resolvedSend, sentCopies, sentNow } from '../support/sent-items';
import { SHARED_SCOPES, startTestStack } from '../support/stack';
import { useStack } from '../support/use-stack';

/**
 * Reply and forward end to end: the local host, the send service and the Graph sandbox over
 * HTTP, Azurite for Idempotency-Keys.
 */

const ADELE = 'adele@contoso.test';
const MEGAN = 'megan@contoso.test';
const SUPPORT = 'support@contoso.test';
const ALICE = 'alice@fabrikam.test';
const MiB = 1024 * 1024;

const stack = useStack(
  () => startTestStack({ sandbox: { limits: { uploadBytesPerWindow: 1024 * MiB } } }),
  (started) => started.connect('c1', { upn: ADELE, scopes: SHARED_SCOPES }),
);

type Json = Record<string, unknown>;
type Addresses = Array<{ emailAddress: { address: string } }>;

const graphCalls = () =>
  stack.sandbox.control
    .requestLog()
    .filter((e) => e.path.startsWith('/v1.0/') || /AttachmentSessions/i.test(e.path));
const actionCalls = () =>
  graphCalls()
    .filter((e) => e.method !== 'GET')
    .map((e) => `${e.method} ${e.path.replace(/^.*\/messages\/[^/]+/, '…')}`);
const addresses = (list: unknown) => (list as Addresses).map((r) => r.emailAddress.address);

function original(subject: string, upn = ADELE, extra: Json = {}) {
  return stack.sandbox.control.addMessage(upn, 'inbox', {
    subject,
    from: { emailAddress: { name: 'Alice Fenwick', address: ALICE } },
    toRecipients: [{ emailAddress: { address: upn } }, { emailAddress: { address: MEGAN } }],
    ccRecipients: [{ emailAddress: { address: 'carol@northwind.test' } }],
    body: { contentType: 'text', content: `About ${subject}: it says "denied".` },
    ...extra,
  });
}

async function post(path: string, init: RequestInit) {
  const response = await stack.api(`/api/credentials/c1/messages/${path}`, {
    method: 'POST',
    ...init,
  });
  return {
    status: response.status,
    type: response.headers.get('content-type') ?? '',
    body: (await response.json()) as Json,
  };
}

const json = (body: unknown, headers: Record<string, string> = {}): RequestInit => ({
  headers: { 'content-type': 'application/json', ...headers },
  body: JSON.stringify(body),
});

function multipart(message: unknown, files: Array<{ name: string; bytes: Buffer }>): RequestInit {
  const form = new FormData();
  form.append('message', JSON.stringify(message));
  for (const [i, file] of files.entries()) {
    form.append(`f${i}`, new Blob([new Uint8Array(file.bytes)]), file.name);
  }
  return { body: form };
}

const sent = (subject: string, upn = ADELE) => sentCopies(stack.sandbox, upn, subject);
const sentYet = (subject: string, upn = ADELE) => sentNow(stack.sandbox, upn, subject);

async function attachmentsOf(messageId: string, mailbox?: string) {
  const query = mailbox ? `?mailbox=${mailbox}` : '';
  const response = await stack.api(`/api/credentials/c1/messages/${messageId}/attachments${query}`);
  const body = (await response.json()) as { attachments: Array<{ name: string; size: number }> };
  return body.attachments.map((a) => [a.name, a.size]);
}

beforeEach(() => {
  stack.sandbox.control.clearFaults();
  stack.sandbox.control.clearRequestLog();
});

describe('POST messages/{messageId}/reply', () => {
  it('replies in one Graph reply: to the author, in the conversation, the quoted original kept', async () => {
    const m = original('Login fails');
    const { status, body } = await post(
      `${m.immutableId}/reply`,
      json({ body: 'Try again <now>.\nThen call us.' }),
    );
    expect(status, JSON.stringify(body)).toBe(202);
    expect(actionCalls()).toEqual(['POST …/reply']);
    // A reply in one request has no id until its Sent Items copy appears: asked for later.
    expect(body).toMatchObject({ status: 'sent', messageId: null, internetMessageId: null });
    const [copy] = await sent('RE: Login fails');
    expect(await resolvedSend(stack, 'c1', body.sendId)).toMatchObject({
      status: 'sent',
      messageId: copy!.immutableId,
      internetMessageId: copy!.internetMessageId,
    });
    expect(copy!.conversationId).toBe(m.conversationId);
    expect(addresses(copy!.toRecipients)).toEqual([ALICE]);
    expect(addresses(copy!.ccRecipients)).toEqual([]);
    const content = (copy!.body as { content: string }).content;
    // Text is escaped and keeps its line breaks, above the original.
    expect(content).toContain('Try again &lt;now&gt;.<br>');
    expect(content).toContain('About Login fails: it says');
    expect(content.indexOf('Then call us.')).toBeLessThan(content.indexOf('About Login fails'));
  });

  it('replies to all, adding Cc and Bcc to the ones Graph chose, through createReplyAll', async () => {
    const m = original('Plan');
    const { status, body } = await post(
      `${m.immutableId}/reply`,
      json({
        body: '<p>Agreed, <b>ship it</b>.</p>',
        contentType: 'html',
        replyAll: true,
        cc: ['carol@northwind.test', { address: 'dan@northwind.test', name: 'Dan' }],
        bcc: 'audit@contoso.test',
      }),
    );
    expect(status, JSON.stringify(body)).toBe(202);
    expect(actionCalls()).toEqual(['POST …/createReplyAll', 'PATCH …', 'POST …/send']);
    const [copy] = await sent('RE: Plan');
    expect(addresses(copy!.toRecipients)).toEqual([ALICE, MEGAN]);
    expect(addresses(copy!.ccRecipients)).toEqual(['carol@northwind.test', 'dan@northwind.test']);
    expect(addresses(copy!.bccRecipients)).toEqual(['audit@contoso.test']);
    expect((copy!.body as { content: string }).content).toContain('<p>Agreed, <b>ship it</b>.</p>');
    expect(copy!.conversationId).toBe(m.conversationId);
    expect(body.messageId).toBe(copy!.immutableId);
    // Megan got it, in the same conversation.
    const delivered = stack.sandbox.control
      .messages(MEGAN, 'inbox')
      .find((x) => x.subject === 'RE: Plan');
    expect(delivered?.conversationId).toBe(m.conversationId);
    expect(stack.sandbox.control.messages(ADELE, 'drafts')).toEqual([]);
  });

  it('streams a 5 MB file: createReply, an upload session, then send', async () => {
    const m = original('Logs please');
    const big = randomBytes(5 * MiB);
    const { status, body } = await post(
      `${m.immutableId}/reply`,
      multipart({ body: 'Here are the logs.' }, [
        { name: 'small.txt', bytes: Buffer.from('hello') },
        { name: 'logs.zip', bytes: big },
      ]),
    );
    expect(status, JSON.stringify(body)).toBe(202);
    const calls = actionCalls();
    expect(calls[0]).toBe('POST …/createReply');
    expect(calls).toContain('POST …/attachments/createUploadSession');
    expect(calls.at(-1)).toBe('POST …/send');
    const [copy] = await sent('RE: Logs please');
    expect(copy!.conversationId).toBe(m.conversationId);
    expect(await attachmentsOf(copy!.immutableId)).toEqual([
      ['small.txt', 5],
      ['logs.zip', 5 * MiB],
    ]);
    expect(stack.sandbox.control.messages(ADELE, 'drafts')).toEqual([]);
  });

  it('answers 400 naming the field, or 404, without any Graph call', async () => {
    const m = original('Invalid');
    for (const [request, path] of [
      [{}, 'body'],
      [{ body: 'x', subject: 'no' }, 'subject'],
      [{ body: 'x', to: ALICE }, 'to'],
      [{ body: 'x', cc: ['not an address'] }, 'cc[0]'],
      [{ body: 'x', replyAll: 'yes' }, 'replyAll'],
      [{ body: 'x', contentType: 'rtf' }, 'contentType'],
      [
        { body: 'x', attachments: [{ name: 'a', contentBase64: '%%' }] },
        'attachments[0].contentBase64',
      ],
    ] as const) {
      const r = await post(`${m.immutableId}/reply`, json(request));
      expect(r.status, JSON.stringify(request)).toBe(400);
      expect(r.type).toContain('application/problem+json');
      expect((r.body.errors as Array<{ path: string }>).map((e) => e.path)).toContain(path);
    }
    const badId = await post('not%20an%20id/reply', json({ body: 'x' }));
    expect(badId.status).toBe(400);
    const badMailbox = await post(`${m.immutableId}/reply?mailbox=nobody`, json({ body: 'x' }));
    expect((badMailbox.body.errors as Array<{ path: string }>)[0]!.path).toBe('query.mailbox');
    expect(graphCalls()).toEqual([]);

    const missing = await post('AAkALgAAAAAAHYQDEapmEc2byACqAC-NOPE/reply', json({ body: 'x' }));
    expect(missing.status).toBe(404);
    expect(missing.body.code).toBe('not_found');
  });

  it('honours Idempotency-Key: a repeat answers the first result and replies once', async () => {
    const m = original('Once only');
    const init = json({ body: 'Done.' }, { 'idempotency-key': 'reply-once-1' });
    const first = await post(`${m.immutableId}/reply`, init);
    const second = await post(`${m.immutableId}/reply`, init);
    expect(first.status).toBe(202);
    expect(second).toEqual(first);
    expect(await sent('RE: Once only')).toHaveLength(1);
    // The same key answering another message is a conflict, not a second reply.
    const other = original('Other');
    const conflict = await post(`${other.immutableId}/reply`, init);
    expect(conflict.status).toBe(409);
    expect(conflict.body.code).toBe('idempotency_conflict');
    expect(sentYet('RE: Other')).toEqual([]);
  });

  it('finds a reply whose answer was lost after Graph accepted it, and replies once', async () => {
    stack.sandbox.control.injectFault({
      method: 'POST',
      path: '*/reply',
      afterAccept: true,
      count: 1,
    });
    const m = original('Lost reply');
    const { status, body } = await post(`${m.immutableId}/reply`, json({ body: 'On it.' }));
    expect(status, JSON.stringify(body)).toBe(202);
    expect(actionCalls()).toEqual(['POST …/reply']);
    const copies = await sent('RE: Lost reply');
    expect(copies).toHaveLength(1);
    expect(body.messageId).toBe(copies[0]!.immutableId);
  });

  it('replies from a shared mailbox with mailbox=, and refuses files it cannot take there', async () => {
    const m = original('Shared question', SUPPORT);
    const { status, body } = await post(
      `${m.immutableId}/reply?mailbox=${SUPPORT}`,
      json({ body: 'The team answers.' }),
    );
    expect(status, JSON.stringify(body)).toBe(202);
    expect(graphCalls().map((c) => c.mailbox)).toEqual(graphCalls().map(() => SUPPORT));
    expect(await sent('RE: Shared question', SUPPORT)).toHaveLength(1);

    stack.sandbox.control.clearRequestLog();
    const large = await post(
      `${m.immutableId}/reply?mailbox=${SUPPORT}`,
      multipart({ body: 'Big file' }, [{ name: 'big.bin', bytes: randomBytes(4 * MiB) }]),
    );
    expect(large.status).toBe(400);
    expect((large.body.errors as Array<{ path: string }>)[0]!.path).toBe('files[0]');
    expect(actionCalls()).toEqual([]);
  });
});

describe('POST messages/{messageId}/forward', () => {
  it("forwards with a comment; the original's attachments travel", async () => {
    const m = original('Invoice 42', ADELE, {
      attachments: [
        {
          '@odata.type': '#microsoft.graph.fileAttachment',
          name: 'invoice.pdf',
          contentType: 'application/pdf',
          contentBytes: Buffer.from('%PDF-1.7 invoice').toString('base64'),
        },
      ],
    });
    const { status, body } = await post(
      `${m.immutableId}/forward`,
      json({ to: [MEGAN], cc: 'carol@northwind.test', body: 'Please pay this.' }),
    );
    expect(status, JSON.stringify(body)).toBe(202);
    expect(actionCalls()).toEqual(['POST …/forward']);
    const [copy] = await sent('FW: Invoice 42');
    expect(addresses(copy!.toRecipients)).toEqual([MEGAN]);
    expect(addresses(copy!.ccRecipients)).toEqual(['carol@northwind.test']);
    expect(copy!.conversationId).toBe(m.conversationId);
    expect((copy!.body as { content: string }).content).toContain('Please pay this.');
    expect(await attachmentsOf(copy!.immutableId)).toEqual([['invoice.pdf', 16]]);
    expect(
      stack.sandbox.control.messages(MEGAN, 'inbox').filter((x) => x.subject === 'FW: Invoice 42'),
    ).toHaveLength(1);
  });

  it('adds a large file through createForward and an upload session', async () => {
    const m = original('Contract');
    const { status, body } = await post(
      `${m.immutableId}/forward`,
      multipart({ to: MEGAN }, [{ name: 'contract.pdf', bytes: randomBytes(4 * MiB) }]),
    );
    expect(status, JSON.stringify(body)).toBe(202);
    expect(actionCalls()[0]).toBe('POST …/createForward');
    expect(actionCalls()).toContain('POST …/attachments/createUploadSession');
    const [copy] = await sent('FW: Contract');
    expect(await attachmentsOf(copy!.immutableId)).toEqual([['contract.pdf', 4 * MiB]]);
  });

  it('needs someone to forward to, and refuses what a forward cannot take, before any Graph call', async () => {
    const m = original('No one');
    for (const [request, path] of [
      [{ body: 'x' }, 'to'],
      [{ to: [] }, 'to'],
      [{ to: MEGAN, replyAll: true }, 'replyAll'],
      [{ to: MEGAN, subject: 'x' }, 'subject'],
    ] as const) {
      const r = await post(`${m.immutableId}/forward`, json(request));
      expect(r.status, JSON.stringify(request)).toBe(400);
      expect((r.body.errors as Array<{ path: string }>).map((e) => e.path)).toContain(path);
    }
    expect(graphCalls()).toEqual([]);
  });
});
