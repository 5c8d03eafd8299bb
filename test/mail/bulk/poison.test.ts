import { beforeAll, describe, expect, it } from 'vitest';

import { createDispatcher } from '../../../src/mail/bulk/dispatch';
import { giveUp } from '../../../src/mail/bulk/poison';
import { type StorageClients } from '../../../src/storage';
import {
  bulkHarness,
  bulkStorage,
  fakeSend,
  recipients,
  silentLog,
} from '../../support/bulk-harness';

/** Giving up on a poisoned queue message, over Azurite. */

let storage: StorageClients;
beforeAll(async () => {
  storage = await bulkStorage();
});

const template = { subject: 'Hi', body: 'Hello', contentType: 'text' as const };

async function setup(n: number) {
  const h = await bulkHarness(storage, fakeSend().service);
  const { jobId } = await h.jobs.create(
    h.key,
    { template, recipients: recipients(n) },
    { log: silentLog },
  );
  const dispatcher = createDispatcher(h.deps);
  const deps = { store: h.store, sweep: dispatcher.sweep.bind(dispatcher) };
  return { h, jobId, deps };
}

describe('bulk poison', () => {
  it("fails a poisoned send's recipient with its last error", async () => {
    const { h, jobId, deps } = await setup(2);
    await h.store.updateRecipient(await h.store.recipient(jobId, 1), { error: 'internal: boom' });
    await giveUp({ v: 1, k: 'send', s: 'svc', j: jobId, i: 1, at: 0 }, deps, silentLog);
    const view = await h.jobs.status(h.key, jobId, { top: 10 });
    expect(view.counts).toMatchObject({ queued: 1, failed: 1 });
    expect(view.results[1]).toMatchObject({
      status: 'failed',
      error: 'gave up after repeated worker failures; last error: internal: boom',
    });
  });

  it('fails a job whose dispatch was poisoned, and every recipient not yet sent', async () => {
    const { h, jobId, deps } = await setup(3);
    await giveUp({ v: 1, k: 'dispatch', s: 'svc', j: jobId }, deps, silentLog);
    expect(await h.store.header('svc', jobId)).toMatchObject({
      status: 'failed',
      reason: 'the job could not be dispatched (repeated worker failures)',
    });
    const view = await h.jobs.status(h.key, jobId, { top: 10 });
    expect(view.counts).toEqual({ queued: 0, sent: 0, failed: 3, skipped: 0 });
  });

  it('does nothing for a job that was removed', async () => {
    const { deps } = await setup(1);
    await expect(
      giveUp({ v: 1, k: 'dispatch', s: 'svc', j: 'gone' }, deps, silentLog),
    ).resolves.toBeUndefined();
  });
});
