import { beforeAll, describe, expect, it } from 'vitest';

import { ReauthRequiredError, ThrottledError, UpstreamError } from '../../../src/core/errors';
import { createMessageBuilder } from '../../../src/mail/bulk/message';
import { createRowSender } from '../../../src/mail/bulk/send-row';
import { type OutgoingMessage } from '../../../src/mail/send-types';
import { type StorageClients } from '../../../src/storage';
import {
  bulkHarness,
  bulkStorage,
  fakeSend,
  recipients,
  silentLog,
} from '../../support/bulk-harness';

/** The send stage alone, over Azurite: one recipient's row through each outcome of a send. */

let storage: StorageClients;
beforeAll(async () => {
  storage = await bulkStorage();
});

const template = { subject: 'Hi {{name}}', body: 'Dear {{name}}', contentType: 'text' as const };

async function setup(behave?: (message: OutgoingMessage) => 'ok' | Error) {
  const send = fakeSend(behave && ((m) => behave(m)));
  const h = await bulkHarness(storage, send.service);
  const { jobId } = await h.jobs.create(
    h.key,
    { template, recipients: recipients(1) },
    { log: silentLog },
  );
  await h.queue.clearMessages();
  const sender = createRowSender(
    h.deps,
    createMessageBuilder({ ...h.deps, maxMessageBytes: h.deps.settings.maxMessageBytes }),
  );
  const message = { v: 1 as const, k: 'send' as const, s: 'svc', j: jobId, i: 0, at: 0 };
  const row = () => h.store.recipient(jobId, 0);
  const queued = async () => (await h.queue.getProperties()).approximateMessagesCount;
  return { h, jobId, send, sender, message, row, queued };
}

describe('bulk send of one row', () => {
  it('sends once and records the send and what its answer knew; a second delivery sends nothing', async () => {
    const { send, sender, message, row } = await setup();
    const before = Date.now();
    await sender(message, silentLog);
    await sender(message, silentLog);
    expect(send.calls()).toBe(1);
    expect(send.sent[0]).toMatchObject({ to: 'user0@example.test', subject: 'Hi User 0' });
    const recorded = await row();
    expect(recorded).toMatchObject({
      state: 'sent',
      attempts: 1,
      sendId: 's1',
      messageId: expect.any(String),
      internetMessageId: undefined,
      // The internet message id is still to come from the Sent Items copy.
      idsResolved: false,
    });
    expect(recorded.sentAt).toBeGreaterThanOrEqual(before - 1000);
  });

  it('throttled: the row waits queued with the reason, the mailbox is held, the send comes back', async () => {
    const { h, sender, message, row, queued } = await setup(
      () => new ThrottledError('slow down', 60_000),
    );
    await sender(message, silentLog);
    expect(await row()).toMatchObject({
      state: 'queued',
      attempts: 1,
      leaseUntil: 0,
      error: 'graph_throttled: slow down',
    });
    expect(await queued()).toBe(1);
    const admitted = await h.deps.pacer.admit('sender@contoso.test', 1);
    expect(admitted).toEqual({ retryAt: expect.any(Number) });
    expect((admitted as { retryAt: number }).retryAt).toBeGreaterThan(Date.now() + 50_000);
  });

  it('reauth_required: the job pauses and the row waits queued for resume', async () => {
    const { h, jobId, sender, message, row, queued } = await setup(
      () => new ReauthRequiredError('c1'),
    );
    await sender(message, silentLog);
    expect(await row()).toMatchObject({ state: 'queued', leaseUntil: 0 });
    expect(await h.store.header('svc', jobId)).toMatchObject({
      status: 'paused',
      reason: expect.stringMatching(/^reauth_required: /),
    });
    expect(await queued()).toBe(0);
  });

  it('a refusal fails the row with its reason, not retried', async () => {
    const { sender, message, row, queued } = await setup(
      () => new UpstreamError('graph_error', 'Graph answered 400', { upstreamStatus: 400 }),
    );
    await sender(message, silentLog);
    expect(await row()).toMatchObject({
      state: 'failed',
      error: 'graph_error: Graph answered 400',
    });
    expect(await queued()).toBe(0);
  });

  it('an unexpected error releases the claim for the redelivery and reaches the host', async () => {
    const { sender, message, row } = await setup(() => new Error('disk on fire'));
    await expect(sender(message, silentLog)).rejects.toThrow('disk on fire');
    expect(await row()).toMatchObject({
      state: 'sending',
      leaseUntil: 0,
      error: 'internal: disk on fire',
    });
  });

  it('skips a queued row of a cancelled job without sending', async () => {
    const { h, jobId, send, sender, message, row } = await setup();
    await h.jobs.cancel(h.key, jobId);
    await sender(message, silentLog);
    expect(send.calls()).toBe(0);
    expect(await row()).toMatchObject({ state: 'skipped', error: 'cancelled before sending' });
  });

  it('leaves a row another worker is sending to that worker, looking again after its lease', async () => {
    const { h, send, sender, message, row, queued } = await setup();
    await h.store.updateRecipient(await row(), {
      state: 'sending',
      leaseUntil: Date.now() + 60_000,
    });
    await sender(message, silentLog);
    expect(send.calls()).toBe(0);
    expect(await queued()).toBe(1);
  });
});
