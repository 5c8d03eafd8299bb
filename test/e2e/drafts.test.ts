import { randomBytes } from 'node:crypto';

import { beforeEach, describe, expect, it } from 'vitest';

import { sentCopies } from '../support/sent-items';
import { SHARED_SCOPES, startTestStack } from '../support/stack';
import { useStack } from '../support/use-stack';

/** Drafts for a person in the loop, end to end against the Graph sandbox (Azurite for keys). */

const ADELE = 'adele@contoso.test';
const MEGAN = 'megan@contoso.test';
const SUPPORT = 'support@contoso.test';
const MiB = 1024 * 1024;

const stack = useStack(
  () => startTestStack({ sandbox: { limits: { uploadBytesPerWindow: 1024 * MiB } } }),
  (started) => started.connect('c1', { upn: ADELE, scopes: SHARED_SCOPES }),
);
type Json = Record<string, unknown>;

const graphCalls = () =>
  stack.sandbox.control.requestLog().filter((e) => e.path.startsWith('/v1.0/'));
const writes = () =>
  graphCalls()
    .filter((e) => e.method !== 'GET')
    .map((e) => `${e.method} ${e.path.replace(/^.*\/messages\/[^/]+/, '…')}`);
const drafts = (upn = ADELE) => stack.sandbox.control.messages(upn, 'drafts');
const sent = (subject: string, upn = ADELE) => sentCopies(stack.sandbox, upn, subject);

async function call(method: string, path: string, init: RequestInit = {}) {
  const response = await stack.api(`/api/credentials/c1/${path}`, { method, ...init });
  const text = await response.text();
  return { status: response.status, body: (text ? JSON.parse(text) : {}) as Json };
}
const json = (body: unknown, headers: Record<string, string> = {}): RequestInit => ({
  headers: { 'content-type': 'application/json', ...headers },
  body: JSON.stringify(body),
});
const paths = (body: Json) => (body.errors as Array<{ path: string }>).map((e) => e.path);
beforeEach(() => {
  stack.sandbox.control.clearFaults();
  stack.sandbox.control.clearRequestLog();
});

describe('drafts', () => {
  it('saves a draft with a 5 MB file, lets a person change it, then sends it once', async () => {
    const form = new FormData();
    form.append('message', JSON.stringify({ subject: 'Quote for review', body: 'Dear customer' }));
    form.append('quote', new Blob([new Uint8Array(randomBytes(5 * MiB))]), 'quote.pdf');
    const created = await call('POST', 'drafts', { body: form });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const id = created.body.id as string;
    expect(created.body).toMatchObject({
      subject: 'Quote for review',
      isDraft: true,
      toRecipients: [],
    });
    expect(drafts().map((d) => d.immutableId)).toEqual([id]);
    expect(writes()).toContain('POST …/attachments/createUploadSession');

    const changed = await call(
      'PATCH',
      `drafts/${id}`,
      json({ to: [MEGAN], subject: 'Your quote', body: '<p>Dear Megan</p>', contentType: 'html' }),
    );
    expect(changed.status, JSON.stringify(changed.body)).toBe(200);
    expect(changed.body).toMatchObject({
      subject: 'Your quote',
      toRecipients: [{ address: MEGAN }],
      body: { contentType: 'html', content: expect.stringContaining('Dear Megan') },
    });
    expect((await call('GET', `drafts/${id}`)).body).toMatchObject({ id, subject: 'Your quote' });

    const key = { 'idempotency-key': `send-draft-${id.slice(-12)}` };
    const first = await call('POST', `drafts/${id}/send`, { headers: key });
    expect(first.status, JSON.stringify(first.body)).toBe(202);
    const again = await call('POST', `drafts/${id}/send`, { headers: key });
    expect(again).toEqual(first);
    const [copy, ...more] = await sent('Your quote');
    expect(more).toEqual([]);
    // A draft keeps its immutable id in Sent Items: its ids come in the answer.
    expect(first.body).toMatchObject({
      messageId: copy!.immutableId,
      internetMessageId: copy!.internetMessageId,
    });
    // Without the key, a sent draft is refused, not sent again.
    const repeat = await call('POST', `drafts/${id}/send`);
    expect(repeat.status).toBe(409);
    expect(repeat.body.code).toBe('conflict');
    expect(await sent('Your quote')).toHaveLength(1);
    expect(
      stack.sandbox.control.messages(MEGAN, 'inbox').filter((m) => m.subject === 'Your quote'),
    ).toHaveLength(1);
  });

  it('starts a draft from a message to answer (replyTo) or to forward (forwardOf)', async () => {
    const m = stack.sandbox.control.addMessage(ADELE, 'inbox', {
      subject: 'Refund?',
      from: { emailAddress: { address: 'alice@fabrikam.test' } },
      toRecipients: [{ emailAddress: { address: ADELE } }],
      body: { contentType: 'text', content: 'Can I get a refund?' },
    });
    const reply = await call(
      'POST',
      'drafts',
      json({ replyTo: m.immutableId, body: 'Yes, you can.' }),
    );
    expect(reply.status, JSON.stringify(reply.body)).toBe(201);
    expect(reply.body).toMatchObject({
      subject: 'RE: Refund?',
      conversationId: m.conversationId,
      toRecipients: [{ address: 'alice@fabrikam.test' }],
    });
    expect((reply.body.body as { content: string }).content).toContain('Can I get a refund?');
    expect(writes()).toEqual(['POST …/createReply']);

    const forward = await call('POST', 'drafts', json({ forwardOf: m.immutableId, to: MEGAN }));
    expect(forward.status, JSON.stringify(forward.body)).toBe(201);
    expect(forward.body).toMatchObject({
      subject: 'FW: Refund?',
      toRecipients: [{ address: MEGAN }],
    });
    // A Reply-To address is still send's Reply-To list.
    const plain = await call(
      'POST',
      'drafts',
      json({ subject: 'Plain', replyTo: 'team@contoso.test' }),
    );
    expect(plain.status).toBe(201);
    expect(plain.body.subject).toBe('Plain');

    for (const id of [reply.body.id, forward.body.id, plain.body.id]) {
      expect((await call('DELETE', `drafts/${id as string}`)).status).toBe(204);
    }
    expect(drafts().filter((d) => /Refund|Plain/.test(String(d.subject)))).toEqual([]);
  });

  it('validates before any Graph call, naming the field', async () => {
    for (const [body, path] of [
      [{ subject: 'x', colour: 'red' }, 'colour'],
      [{ replyTo: 'AAkALg-x', to: MEGAN }, 'to'],
      [{ forwardOf: 'not an id!' }, 'forwardOf'],
      [{ forwardOf: 'AAkALg-x', to: MEGAN, subject: 'x' }, 'subject'],
      [{ forwardOf: 'AAkALg-x' }, 'to'],
    ] as const) {
      const r = await call('POST', 'drafts', json(body));
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(paths(r.body), JSON.stringify(body)).toContain(path);
    }
    for (const [body, path] of [
      [{}, '(body)'],
      [{ contentType: 'html' }, 'contentType'],
      [{ isRead: true }, 'isRead'],
    ] as const) {
      const r = await call('PATCH', 'drafts/AAkALg-x', json(body));
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(paths(r.body), JSON.stringify(body)).toContain(path);
    }
    expect(graphCalls()).toEqual([]);
    expect((await call('GET', 'drafts/AAkALgAAAAAAHYQDEapmEc2byACqAC-NOPE')).status).toBe(404);
  });

  it('refuses to edit or delete a message that is no draft', async () => {
    const m = stack.sandbox.control.addMessage(ADELE, 'inbox', { subject: 'Received' });
    const edit = await call('PATCH', `drafts/${m.immutableId}`, json({ subject: 'Mine now' }));
    expect(edit.status).toBe(409);
    expect((await call('DELETE', `drafts/${m.immutableId}`)).status).toBe(409);
    expect(writes()).toEqual([]);
  });

  it('keeps drafts of a shared mailbox there (mailbox=)', async () => {
    const created = await call(
      'POST',
      `drafts?mailbox=${SUPPORT}`,
      json({ to: MEGAN, subject: 'From the team' }),
    );
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(drafts(SUPPORT).map((d) => d.immutableId)).toContain(created.body.id);
    const send = await call('POST', `drafts/${created.body.id as string}/send?mailbox=${SUPPORT}`);
    expect(send.status, JSON.stringify(send.body)).toBe(202);
    expect(await sent('From the team', SUPPORT)).toHaveLength(1);
    expect(graphCalls().map((c) => c.mailbox)).toEqual(graphCalls().map(() => SUPPORT));
  });
});

describe('files added to an existing draft', () => {
  const newDraft = async (subject: string) =>
    (await call('POST', 'drafts', json({ subject, body: 'x' }))).body.id as string;
  const attachmentNames = async (id: string) =>
    (
      (await call('GET', `messages/${id}/attachments`)).body.attachments as Array<{ name: string }>
    ).map((a) => a.name);

  it('takes a small file as JSON and a 5 MB one streamed, declared, into an upload session', async () => {
    const id = await newDraft('Add files');
    const small = await call(
      'POST',
      `drafts/${id}/attachments`,
      json({
        attachments: [{ name: 'note.txt', contentType: 'text/plain', contentBase64: 'aGVsbG8=' }],
      }),
    );
    expect(small.status, JSON.stringify(small.body)).toBe(200);
    expect(small.body).toMatchObject({ id, isDraft: true });

    stack.sandbox.control.clearRequestLog();
    const form = new FormData();
    form.append('message', JSON.stringify({ fileSizes: { logs: 5 * MiB } }));
    form.append('logs', new Blob([new Uint8Array(randomBytes(5 * MiB))]), 'logs.zip');
    const large = await call('POST', `drafts/${id}/attachments`, { body: form });
    expect(large.status, JSON.stringify(large.body)).toBe(200);
    expect(writes()).toContain('POST …/attachments/createUploadSession');
    expect((await attachmentNames(id)).sort()).toEqual(['logs.zip', 'note.txt']);
  });

  it('leaves the draft as it was when a file fails, taking back the ones already added', async () => {
    const id = await newDraft('Half added');
    stack.sandbox.control.injectFault({
      method: 'POST',
      path: '*/createUploadSession',
      status: 503,
      count: 10,
    });
    const form = new FormData();
    form.append('message', JSON.stringify({ fileSizes: { a: 5, b: 5 * MiB } }));
    form.append('a', new Blob(['small']), 'first.txt');
    form.append('b', new Blob([new Uint8Array(randomBytes(5 * MiB))]), 'second.bin');
    const failed = await call('POST', `drafts/${id}/attachments`, { body: form });
    expect(failed.status).toBeGreaterThanOrEqual(400);
    // first.txt went in before second.bin failed; it was taken back.
    expect(writes()).toContain('POST …/attachments');
    stack.sandbox.control.clearFaults();
    expect(await attachmentNames(id)).toEqual([]);
  });

  it('refuses an empty request (400 naming attachments) and a sent draft (409), no Graph write', async () => {
    const id = await newDraft('Nothing to add');
    stack.sandbox.control.clearRequestLog();
    const empty = await call('POST', `drafts/${id}/attachments`, json({ attachments: [] }));
    expect(empty.status).toBe(400);
    expect(paths(empty.body)).toContain('attachments');
    const unknown = await call('POST', `drafts/${id}/attachments`, json({ subject: 'x' }));
    expect(unknown.status).toBe(400);
    expect(graphCalls()).toEqual([]);
    await call('PATCH', `drafts/${id}`, json({ to: [MEGAN] }));
    expect((await call('POST', `drafts/${id}/send`)).status).toBe(202);
    stack.sandbox.control.clearRequestLog();
    const late = await call(
      'POST',
      `drafts/${id}/attachments`,
      json({ attachments: [{ name: 'a.txt', contentType: 'text/plain', contentBase64: 'YQ==' }] }),
    );
    expect(late.status).toBe(409);
    expect(writes()).toEqual([]);
  });
});
