import { randomBytes } from 'node:crypto';

import { beforeEach, describe, expect, it } from 'vitest';

import { budgetSignal } from '../../../src/core/abort';
import { createLogger } from '../../../src/core/logger';
import { type CredentialKey } from '../../../src/credentials/types';
import { IDEMPOTENCY_TABLE } from '../../../src/mail/idempotency';
import { createSendService } from '../../../src/mail/send';
import { createSendRecordStore } from '../../../src/mail/send/records';
import { createSentCopyCleanup, type SentCopyMessage } from '../../../src/mail/send/sent-copy';
import { outgoingMessage, fileAttachment } from '../../support/send-fixtures';
import { sentCopies, sentNow } from '../../support/sent-items';
import { startTestStack } from '../../support/stack';
import { useStack } from '../../support/use-stack';

/**
 * The job that deletes the Sent Items copy of a draft sent with saveToSentItems=false, against
 * the sandbox (copies appear DELAY_MS after the send) and Azurite (send records). Its queue is
 * captured here, so each test runs the looks itself.
 */

const DELAY_MS = 4000;
const MAX_ATTEMPTS = 4;
const svc: CredentialKey = { serviceId: 'svc', credentialId: 'c1' };
let sender: string;
let recipient: string;
const stack = useStack(
  () => startTestStack({ sandbox: { limits: { sentItemsDelayMs: DELAY_MS } } }),
  async (started) => {
    sender = started.sandbox.users[0]!.userPrincipalName;
    recipient = started.sandbox.users[1]!.userPrincipalName;
    await started.connect('c1');
    // Another service with a credential of the same name on the same mailbox.
    await started.connect('c1', { serviceId: 'other' });
    await started.connect('gone');
  },
);

let queued: Array<{ message: SentCopyMessage; delayMs: number | undefined }> = [];
let lines: string[] = [];
const log = createLogger((level, line) => lines.push(`${level} ${line}`), {});

function parts() {
  const records = createSendRecordStore({
    table: () => stack.app.services.storage!.table(IDEMPOTENCY_TABLE),
  });
  const cleanup = createSentCopyCleanup({
    queue: {
      enqueue: (message, delayMs) => Promise.resolve(void queued.push({ message, delayMs })),
    },
    records,
    graph: stack.app.services.graph,
    settings: { firstDelayMs: 1000, maxAttempts: MAX_ATTEMPTS },
  });
  const send = createSendService({
    graph: stack.app.services.graph,
    records,
    sentCopies: cleanup,
    maxMessageSizeBytes: 35_000_000,
  });
  return { records, cleanup, send };
}

/** A draft-route send (a file over 3 MB) with saveToSentItems=false, and its queued job. */
async function sendUnsaved(subject: string, key: CredentialKey = svc) {
  const { send } = parts();
  const result = await send.send(
    key,
    outgoingMessage(recipient, subject, {
      saveToSentItems: false,
      attachments: [fileAttachment('big.bin', randomBytes(3_200_000))],
    }),
    { abortSignal: budgetSignal(30_000), log },
  );
  const job = queued.at(-1)!;
  expect(job.message).toEqual({
    v: 1,
    s: key.serviceId,
    c: key.credentialId,
    id: result.sendId,
    n: 0,
  });
  return { result, message: job.message };
}

const graphCalls = () =>
  stack.sandbox.control.requestLog().filter((e) => e.path.startsWith('/v1.0/'));
const copyState = async (key: CredentialKey, sendId: string) =>
  (await parts().records.get(key, sendId))?.copyDeletion;

beforeEach(() => {
  queued = [];
  lines = [];
  stack.sandbox.control.clearRequestLog();
});

describe('deleting the Sent Items copy of a draft sent with saveToSentItems=false', () => {
  it('looks again later while the copy has not appeared (backing off), then deletes that copy only', async () => {
    const { cleanup } = parts();
    const before = stack.sandbox.control.sentItems(sender).map((m) => m.id);
    const { result, message } = await sendUnsaved('Copy later');
    expect(queued[0]!.delayMs).toBe(1000);

    await cleanup.handle(message, { log });
    expect(queued.map((q) => q.message.n)).toEqual([0, 1]);
    expect(queued[1]!.delayMs).toBe(2000);
    expect(graphCalls().filter((c) => c.method === 'DELETE')).toEqual([]);
    expect(await copyState(svc, result.sendId)).toBe('pending');

    const [copy] = await sentCopies(stack.sandbox, sender, 'Copy later');
    stack.sandbox.control.clearRequestLog();
    await cleanup.handle(queued[1]!.message, { log });
    const deletes = graphCalls().filter((c) => c.method === 'DELETE');
    expect(deletes).toHaveLength(1);
    expect(decodeURIComponent(deletes[0]!.path)).toContain(copy!.immutableId);
    expect(sentNow(stack.sandbox, sender, 'Copy later')).toEqual([]);
    expect(stack.sandbox.control.sentItems(sender).map((m) => m.id)).toEqual(
      expect.arrayContaining(before),
    );
    expect(await copyState(svc, result.sendId)).toBe('deleted');
    expect(queued).toHaveLength(2);
    // Delivered anyway, once.
    const delivered = stack.sandbox.control
      .messages(recipient, 'inbox')
      .filter((m) => m.subject === 'Copy later');
    expect(delivered).toHaveLength(1);

    // A second delivery of the same message (the host may redeliver) changes nothing.
    stack.sandbox.control.clearRequestLog();
    await cleanup.handle(queued[1]!.message, { log });
    expect(graphCalls()).toEqual([]);
  }, 30_000);

  it('gives up after its last look, leaving the copy with a warning and saying so in the record', async () => {
    const { cleanup } = parts();
    const { result, message } = await sendUnsaved('Copy given up');
    await cleanup.handle({ ...message, n: MAX_ATTEMPTS - 1 }, { log });
    expect(queued).toHaveLength(1);
    expect(lines.some((l) => l.startsWith('warn') && l.includes('stays'))).toBe(true);
    expect(await copyState(svc, result.sendId)).toBe('left');
    expect(await sentCopies(stack.sandbox, sender, 'Copy given up')).toHaveLength(1);
    // Left is final: a late look does nothing.
    stack.sandbox.control.clearRequestLog();
    await cleanup.handle(message, { log });
    expect(graphCalls()).toEqual([]);
  }, 30_000);

  it('drops the job of a credential that was deleted', async () => {
    const { cleanup } = parts();
    const gone: CredentialKey = { serviceId: 'svc', credentialId: 'gone' };
    const { message } = await sendUnsaved('Copy of gone', gone);
    await stack.app.services.credentials.delete(gone);
    await expect(cleanup.handle(message, { log })).resolves.toBeUndefined();
    expect(lines.some((l) => l.startsWith('warn') && l.includes('credential is gone'))).toBe(true);
    expect(queued).toHaveLength(1);
    expect(graphCalls().filter((c) => c.method === 'DELETE')).toEqual([]);
  });

  it('poison: the copy is left, the record says so, nothing is deleted; an unreadable message is dropped', async () => {
    const { cleanup } = parts();
    const { result, message } = await sendUnsaved('Copy poisoned');
    stack.sandbox.control.clearRequestLog();
    await cleanup.handlePoison(message, { log });
    expect(await copyState(svc, result.sendId)).toBe('left');
    expect(lines.some((l) => l.startsWith('error') && l.includes('gave up'))).toBe(true);
    await cleanup.handlePoison({ v: 1, s: 'svc' }, { log });
    expect(lines.some((l) => l.includes('unreadable'))).toBe(true);
    expect(graphCalls()).toEqual([]);
  });
});

describe('queue messages name a send, never what to delete', () => {
  it("a message naming another service's credential (same name, same mailbox) does nothing", async () => {
    const { cleanup } = parts();
    const { result, message } = await sendUnsaved('Copy of svc');
    const [copy] = await sentCopies(stack.sandbox, sender, 'Copy of svc');
    stack.sandbox.control.clearRequestLog();
    await cleanup.handle({ ...message, s: 'other' }, { log });
    expect(graphCalls()).toEqual([]);
    expect(queued).toHaveLength(1);
    expect(sentNow(stack.sandbox, sender, 'Copy of svc').map((m) => m.id)).toEqual([copy!.id]);
    expect(await copyState(svc, result.sendId)).toBe('pending');
    // The genuine message deletes it: the forged one found something to delete and left it.
    await cleanup.handle(message, { log });
    expect(sentNow(stack.sandbox, sender, 'Copy of svc')).toEqual([]);
  }, 30_000);

  it('a message for a send that kept its copy, or carrying a message id, deletes nothing', async () => {
    const { cleanup, send } = parts();
    const saved = await send.send(svc, outgoingMessage(recipient, 'Copy kept'), {
      abortSignal: budgetSignal(30_000),
      log,
    });
    await sentCopies(stack.sandbox, sender, 'Copy kept');
    stack.sandbox.control.clearRequestLog();
    await cleanup.handle({ v: 1, s: 'svc', c: 'c1', id: saved.sendId, n: 0 }, { log });
    const [copy] = sentNow(stack.sandbox, sender, 'Copy kept');
    await expect(
      cleanup.handle({ v: 1, s: 'svc', c: 'c1', id: saved.sendId, n: 0, m: copy!.id }, { log }),
    ).rejects.toThrow('not a sent-copy message');
    expect(graphCalls()).toEqual([]);
    expect(sentNow(stack.sandbox, sender, 'Copy kept')).toHaveLength(1);
  }, 30_000);
});
