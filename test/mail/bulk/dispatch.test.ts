import { beforeAll, describe, expect, it } from 'vitest';

import { createDispatcher } from '../../../src/mail/bulk/dispatch';
import { type StorageClients } from '../../../src/storage';
import {
  bulkHarness,
  bulkStorage,
  fakeSend,
  recipients,
  silentLog,
  visibleMessages,
} from '../../support/bulk-harness';

/** The dispatch stage alone, over Azurite: what it reserves, enqueues and sweeps. */

let storage: StorageClients;
beforeAll(async () => {
  storage = await bulkStorage();
});

const template = { subject: 'Hi {{name}}', body: 'Dear {{name}}', contentType: 'text' as const };

async function setup(n: number, extra: { scheduledAt?: string } = {}) {
  const h = await bulkHarness(storage, fakeSend().service, { dispatchBatch: 4 });
  const { jobId } = await h.jobs.create(
    h.key,
    { template, recipients: recipients(n), ...extra },
    { log: silentLog },
  );
  await h.queue.clearMessages(); // the dispatch message create enqueued: driven by hand here
  const message = { v: 1 as const, k: 'dispatch' as const, s: 'svc', j: jobId };
  return { h, jobId, message, dispatcher: createDispatcher(h.deps) };
}

describe('bulk dispatch', () => {
  it('enqueues a send per recipient of the batch, moves the cursor and wakes up for the rest', async () => {
    const { h, jobId, message, dispatcher } = await setup(6);
    await dispatcher.dispatch(message, silentLog);
    const header = await h.store.header('svc', jobId);
    expect(header).toMatchObject({ status: 'running', dispatched: 4 });
    expect(header.startedAt).toBeDefined();
    const { approximateMessagesCount } = await h.queue.getProperties();
    expect(approximateMessagesCount).toBe(5); // four sends and the next dispatch
    const visible = await visibleMessages(h);
    expect(visible.filter((m) => (m as { k: string }).k === 'send').length).toBeGreaterThan(0);
    await h.queue.clearMessages();
    await dispatcher.dispatch(message, silentLog);
    expect((await h.store.header('svc', jobId)).dispatched).toBe(6);
    expect((await h.queue.getProperties()).approximateMessagesCount).toBe(2); // no dispatch left
  });

  it('waits for a job scheduled later: nothing reserved, itself enqueued for then', async () => {
    const later = new Date(Date.now() + 3_600_000).toISOString();
    const { h, jobId, message, dispatcher } = await setup(2, { scheduledAt: later });
    await dispatcher.dispatch(message, silentLog);
    expect((await h.store.header('svc', jobId)).dispatched).toBe(0);
    expect((await h.queue.getProperties()).approximateMessagesCount).toBe(1);
    expect(await visibleMessages(h)).toEqual([]);
  });

  it('sweeps a cancelled job: every queued recipient ends skipped, with the reason', async () => {
    const { h, jobId, message, dispatcher } = await setup(3);
    await h.jobs.cancel(h.key, jobId);
    await h.queue.clearMessages();
    await dispatcher.dispatch(message, silentLog);
    const view = await h.jobs.status(h.key, jobId, { top: 10 });
    expect(view.counts).toEqual({ queued: 0, sent: 0, failed: 0, skipped: 3 });
    expect(view.results[0]).toMatchObject({ status: 'skipped', error: 'cancelled before sending' });
    expect((await h.queue.getProperties()).approximateMessagesCount).toBe(0);
  });

  it('sweeps a failed job with its reason', async () => {
    const { h, jobId, message, dispatcher } = await setup(2);
    const header = await h.store.header('svc', jobId);
    await h.store.updateHeader(header, { status: 'failed', reason: 'no dispatch' });
    await dispatcher.dispatch(message, silentLog);
    const view = await h.jobs.status(h.key, jobId, { top: 10 });
    expect(view.counts).toEqual({ queued: 0, sent: 0, failed: 2, skipped: 0 });
    expect(view.results[1]).toMatchObject({ error: 'job failed: no dispatch' });
  });

  it('leaves a paused job alone: its recipients wait queued for resume', async () => {
    const { h, jobId, message, dispatcher } = await setup(2);
    const header = await h.store.header('svc', jobId);
    await h.store.updateHeader(header, { status: 'paused', reason: 'reauth_required: x' });
    await dispatcher.dispatch(message, silentLog);
    expect((await h.store.header('svc', jobId)).dispatched).toBe(0);
    expect((await h.jobs.status(h.key, jobId, { top: 1 })).counts.queued).toBe(2);
    expect((await h.queue.getProperties()).approximateMessagesCount).toBe(0);
  });

  it('does nothing for a job that was removed', async () => {
    const { h, message, dispatcher } = await setup(1);
    await expect(
      dispatcher.dispatch({ ...message, j: 'no-such-job' }, silentLog),
    ).resolves.toBeUndefined();
    expect((await h.queue.getProperties()).approximateMessagesCount).toBe(0);
  });
});
