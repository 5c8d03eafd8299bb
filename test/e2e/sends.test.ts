import { randomBytes, randomUUID } from 'node:crypto';

import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';

import { resolvedSend, sentCopies, sentNow } from '../support/sent-items';
import { startTestStack, type TestStack } from '../support/stack';

/**
 * `GET credentials/{id}/sends/{sendId}` against a sandbox whose Sent Items copies appear seconds
 * after the 202, as Microsoft documents they may: the send answers at once, the ids come later,
 * each lookup is one Graph request bounded by a sentDateTime window, and a found copy is
 * remembered (the next GET makes no Graph request).
 */

let stack: TestStack;
let sender: string;
let recipient: string;
const MiB = 1024 * 1024;
const DELAY_MS = 3000;

const graphCalls = () =>
  stack.sandbox.control.requestLog().filter((e) => e.path.startsWith('/v1.0/'));

async function send(body: BodyInit, contentType?: string) {
  const response = await stack.api('/api/credentials/c1/send', {
    method: 'POST',
    body,
    ...(contentType ? { headers: { 'content-type': contentType } } : {}),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}
const sendJson = (message: unknown) => send(JSON.stringify(message), 'application/json');

async function getSend(sendId: unknown, credentialId = 'c1', query = '') {
  const response = await stack.api(
    `/api/credentials/${credentialId}/sends/${String(sendId)}${query}`,
  );
  return {
    status: response.status,
    contentType: response.headers.get('content-type'),
    body: (await response.json()) as Record<string, unknown>,
  };
}

beforeAll(async () => {
  stack = await startTestStack({
    sandbox: { messagesPerUser: 5, limits: { sentItemsDelayMs: DELAY_MS } },
    // The lost-answer lookup is a setting: shorter than the copy's delay here.
    env: { SEND_LOST_ANSWER_SECONDS: '1' },
    // The job deleting unsaved copies looks after 1 s, then 2 s, 4 s…
    app: { sentCopies: { firstDelayMs: 1000 } },
  });
  sender = stack.sandbox.users[0]!.userPrincipalName;
  recipient = stack.sandbox.users[1]!.userPrincipalName;
  await stack.connect('c1');
});
afterAll(() => stack?.close());
beforeEach(() => {
  stack.sandbox.control.clearFaults();
  stack.sandbox.control.clearRequestLog();
});

describe('send answers at once; GET sends/{sendId} gives the ids later', () => {
  it('sendMail: 202 without waiting for the copy, then one bounded lookup per GET until found', async () => {
    const { status, body } = await sendJson({ to: recipient, subject: 'Later ids', body: 'x' });
    expect(status, JSON.stringify(body)).toBe(202);
    expect(body).toMatchObject({ status: 'sent', messageId: null, internetMessageId: null });
    // Nothing but the send: the answer did not look for (or wait for) the copy.
    expect(graphCalls().map((c) => `${c.method} ${c.path}`)).toEqual(['POST /v1.0/me/sendMail']);
    expect(stack.sandbox.control.sentItems(sender).map((m) => m.subject)).not.toContain(
      'Later ids',
    );

    stack.sandbox.control.clearRequestLog();
    const early = await getSend(body.sendId);
    expect(early.status).toBe(200);
    expect(early.body).toEqual({
      sendId: body.sendId,
      status: 'sent',
      messageId: null,
      internetMessageId: null,
      sentAt: body.sentAt,
      savedToSentItems: true,
      resolved: false,
      sentItemsCopy: 'kept',
    });
    const [lookup, ...more] = graphCalls();
    expect(more).toEqual([]);
    expect(lookup!.path).toBe('/v1.0/me/mailFolders/sentitems/messages');
    const filter = new URLSearchParams(lookup!.query).get('$filter') ?? '';
    const sentAt = Date.parse(String(body.sentAt));
    const bound = (op: 'ge' | 'le') =>
      Date.parse(new RegExp(`sentDateTime ${op} (\\S+)`).exec(filter)?.[1] ?? '');
    const [from, to] = [bound('ge'), bound('le')];
    expect(from).toBeLessThanOrEqual(sentAt);
    expect(to).toBeGreaterThan(sentAt);
    expect(to - from).toBeLessThanOrEqual(2 * 3600_000);
    expect(filter).toContain(`ep/value eq '${String(body.sendId)}'`);

    const [copy] = await sentCopies(stack.sandbox, sender, 'Later ids');
    const found = await resolvedSend(stack, 'c1', body.sendId);
    expect(found).toMatchObject({
      status: 'sent',
      messageId: copy!.immutableId,
      internetMessageId: copy!.internetMessageId,
      resolved: true,
    });
    // Remembered: asking again costs no Graph request.
    stack.sandbox.control.clearRequestLog();
    expect((await getSend(body.sendId)).body).toEqual(found);
    expect(graphCalls()).toEqual([]);
  });

  it('a draft send gives its ids in the answer, and GET needs no Graph request', async () => {
    const form = new FormData();
    form.append('message', JSON.stringify({ to: recipient, subject: 'Draft ids' }));
    form.append('f', new Blob([new Uint8Array(randomBytes(4 * MiB))]), 'f.bin');
    const { status, body } = await send(form);
    expect(status, JSON.stringify(body)).toBe(202);
    expect(graphCalls().some((c) => /sentitems/i.test(c.path))).toBe(false);
    const [copy] = await sentCopies(stack.sandbox, sender, 'Draft ids');
    expect(body).toMatchObject({
      messageId: copy!.immutableId,
      internetMessageId: copy!.internetMessageId,
    });
    stack.sandbox.control.clearRequestLog();
    expect((await getSend(body.sendId)).body).toMatchObject({
      messageId: copy!.immutableId,
      resolved: true,
    });
    expect(graphCalls()).toEqual([]);
  });

  it('saveToSentItems=false: resolved at once with no ids, no Graph request', async () => {
    const { body } = await sendJson({
      to: recipient,
      subject: 'Unsaved ids',
      saveToSentItems: false,
    });
    stack.sandbox.control.clearRequestLog();
    expect((await getSend(body.sendId)).body).toMatchObject({
      status: 'sent',
      messageId: null,
      savedToSentItems: false,
      resolved: true,
      sentItemsCopy: 'none',
    });
    expect(graphCalls()).toEqual([]);
  });

  it('a draft sent with saveToSentItems=false answers before its copy exists; a queued job deletes that copy once it appears', async () => {
    const before = stack.sandbox.control.sentItems(sender).map((m) => m.id);
    const form = new FormData();
    form.append(
      'message',
      JSON.stringify({ to: recipient, subject: 'Unsaved draft', saveToSentItems: false }),
    );
    form.append('f', new Blob([new Uint8Array(randomBytes(4 * MiB))]), 'f.bin');
    const { status, body } = await send(form);
    expect(status, JSON.stringify(body)).toBe(202);
    expect(body).toMatchObject({ status: 'sent', messageId: null, internetMessageId: null });
    // The answer came first: the message has gone, its copy (DELAY_MS later) is not there yet,
    // and nothing was looked for or deleted on the caller's time.
    const [sent] = graphCalls().filter((c) => /\/messages\/[^/]+\/send$/.test(c.path));
    const draftPath = sent!.path.replace(/\/send$/, '');
    expect(graphCalls().filter((c) => c.method === 'DELETE' || /sentitems/i.test(c.path))).toEqual(
      [],
    );
    expect(sentNow(stack.sandbox, sender, 'Unsaved draft')).toEqual([]);
    expect((await getSend(body.sendId)).body).toMatchObject({
      savedToSentItems: false,
      sentItemsCopy: 'deleting',
    });

    await vi.waitFor(
      async () => expect((await getSend(body.sendId)).body.sentItemsCopy).toBe('deleted'),
      { timeout: 20_000, interval: 200 },
    );
    // The copy did appear (Graph's /send keeps one) and the job deleted that one message only.
    const deletes = graphCalls().filter((c) => c.method === 'DELETE');
    expect(deletes.map((c) => c.path)).toEqual([draftPath]);
    expect(sentNow(stack.sandbox, sender, 'Unsaved draft')).toEqual([]);
    expect(stack.sandbox.control.sentItems(sender).map((m) => m.id)).toEqual(
      expect.arrayContaining(before),
    );
    expect(stack.sandbox.control.outbox(sender)).toEqual([]);
    const delivered = stack.sandbox.control
      .messages(recipient, 'inbox')
      .filter((m) => m.subject === 'Unsaved draft');
    expect(delivered).toHaveLength(1);
  }, 30_000);

  it('a lost answer not found within SEND_LOST_ANSWER_SECONDS is unknown, and GET finds it later', async () => {
    stack.sandbox.control.injectFault({
      method: 'POST',
      path: '*/sendMail',
      afterAccept: true,
      count: 1,
    });
    const { status, body } = await sendJson({ to: recipient, subject: 'Lost, found later' });
    expect(status).toBe(502);
    expect(body).toMatchObject({ code: 'send_outcome_unknown', sendId: expect.any(String) });
    expect((await getSend(body.sendId)).body).toMatchObject({
      status: 'unknown',
      resolved: false,
    });
    const [copy] = await sentCopies(stack.sandbox, sender, 'Lost, found later');
    expect(await resolvedSend(stack, 'c1', body.sendId)).toMatchObject({
      status: 'sent',
      messageId: copy!.immutableId,
    });
    // Sent once: the lookup never sent again.
    expect(graphCalls().filter((c) => c.path.endsWith('/sendMail'))).toHaveLength(1);
  });
});

describe('GET sends/{sendId}: refusals', () => {
  it('answers 404 problem+json for a send id nobody sent, without a Graph request', async () => {
    const unknown = await getSend(randomUUID());
    expect(unknown.status).toBe(404);
    expect(unknown.contentType).toContain('application/problem+json');
    expect(graphCalls()).toEqual([]);
  });

  it('answers 400 naming sendId for a malformed one, and the parameter for an unknown query', async () => {
    const bad = await getSend('not%20an%20id');
    expect(bad.status).toBe(400);
    expect(bad.body.errors).toEqual([expect.objectContaining({ path: 'sendId' })]);
    const query = await getSend(randomUUID(), 'c1', '?top=1');
    expect(query.status).toBe(400);
    expect(JSON.stringify(query.body.errors)).toContain('top');
    expect(graphCalls()).toEqual([]);
  });
});
