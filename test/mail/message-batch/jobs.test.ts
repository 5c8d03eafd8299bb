import { TableClient } from '@azure/data-tables';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import { NotFoundError } from '../../../src/core/errors';
import { type CredentialKey } from '../../../src/credentials/types';
import { type GraphFactory } from '../../../src/graph/client';
import { type AzuriteInstance } from '../../../src/local/azurite';
import { startSandbox } from '../../../src/local/sandbox';
import { createBatchJobs, type BatchJobs } from '../../../src/mail/message-batch/jobs';
import { createChunkPace } from '../../../src/mail/message-batch/pace';
import { type BatchJobMessage } from '../../../src/mail/message-batch/queue';
import { createBatchJobStore } from '../../../src/mail/message-batch/store';
import { log, sandboxGraph } from '../../support/graph-read';
import { testStorage } from '../../support/storage';
import { useStack } from '../../support/use-stack';

/**
 * The batch-job worker against Azurite and the Graph sandbox: one worker at a time, a copy never
 * repeated, out of time the rest goes on in a new run, and a poisoned job fails what is left.
 */
const ADELE = 'adele@contoso.test';
const key: CredentialKey = { serviceId: 'svc', credentialId: 'c1' };

const sandbox = useStack(() => startSandbox({ messagesPerUser: 0 }));
let azurite: AzuriteInstance;
let table: TableClient;
let enqueued: Array<{ message: BatchJobMessage; delayMs: number }>;
let clock: number;

function jobs(
  options: {
    workerBudgetMs?: number;
    graph?: Pick<GraphFactory<CredentialKey>, 'forCredential'>;
  } = {},
): BatchJobs {
  return createBatchJobs({
    store: createBatchJobStore(() => Promise.resolve(table)),
    queue: {
      enqueue(message, delayMs = 0) {
        enqueued.push({ message, delayMs });
        return Promise.resolve();
      },
    },
    // Credential c1 is Adele (sandboxGraph names credentials by UPN).
    graph: options.graph ?? {
      forCredential: (k, o) =>
        sandboxGraph(sandbox).forCredential({ ...k, credentialId: ADELE }, o),
    },
    pace: createChunkPace(),
    now: () => clock,
    ...(options.workerBudgetMs === undefined ? {} : { workerBudgetMs: options.workerBudgetMs }),
  });
}

const unread = (n: number, subject: string) =>
  Array.from(
    { length: n },
    (_, i) =>
      sandbox.control.addMessage(ADELE, 'inbox', {
        subject: `${subject} ${i}`,
        body: { contentType: 'text', content: 'x' },
        isRead: false,
      }).immutableId,
  );

const chunked = (ids: string[]) =>
  Array.from({ length: Math.ceil(ids.length / 20) }, (_, k) => ({
    ids: ids.slice(k * 20, k * 20 + 20),
  }));

type JobRequest = Parameters<BatchJobs['create']>[1];

/** A job as the batch request hands it over: its action, chunks and (for move/copy) destination. */
const createJob = (
  service: BatchJobs,
  action: JobRequest['action'],
  chunks: JobRequest['chunks'],
  destinationId?: string,
) =>
  service.create(
    key,
    { mailbox: undefined, action, destinationId, categories: undefined, chunks },
    { log },
  );

/** `ids` in chunks of 20, the first one already done by the request itself. */
const firstChunkDone = (ids: string[]): JobRequest['chunks'] => {
  const [first, ...rest] = chunked(ids);
  return [
    { ids: first!.ids, results: first!.ids.map((messageId) => ({ messageId, status: 'done' })) },
    ...rest,
  ];
};

beforeAll(async () => {
  azurite = await testStorage();
  table = TableClient.fromConnectionString(azurite.connectionString, 'batchjobtest', {
    allowInsecureConnection: true,
  });
  await table.createTable();
});
afterAll(() => azurite?.stop());

beforeEach(() => {
  enqueued = [];
  clock = Date.now();
  sandbox.control.clearRequestLog();
});

describe('batch jobs', () => {
  it('runs every chunk left in order, keeps the results the request stored, and completes', async () => {
    const ids = unread(45, 'Run');
    const service = jobs();
    const view = await createJob(service, 'markRead', firstChunkDone(ids));
    expect(view).toMatchObject({ status: 'queued', total: 45, done: 20, pending: 25 });
    expect(enqueued).toHaveLength(1);
    await service.handle(enqueued[0]!.message, { log });
    const after = await service.status(key, view.jobId);
    expect(after).toMatchObject({ status: 'completed', done: 45, pending: 0 });
    // The request's chunk is not run again: two $batch requests for the 25 left.
    expect(sandbox.control.requestLog().filter((e) => e.path === '/v1.0/$batch')).toHaveLength(2);
    const read = sandbox.control
      .messages(ADELE, 'inbox')
      .filter((m) => ids.includes(m.immutableId));
    expect(read.filter((m) => m.isRead === true)).toHaveLength(25);
  });

  it('never repeats a copy chunk a dead worker had started: it fails, naming why', async () => {
    const ids = unread(3, 'Copy');
    const service = jobs();
    const store = createBatchJobStore(() => Promise.resolve(table));
    const inbox = sandbox.control.folders(ADELE).find((f) => f.displayName === 'Inbox')!;
    const view = await createJob(service, 'copy', chunked(ids), inbox.id);
    // A worker marked the chunk started and died.
    const [chunk] = await store.chunks(key, view.jobId);
    await store.updateChunk(key, view.jobId, chunk!, { state: 'started' });
    await service.handle(enqueued[0]!.message, { log });
    const after = await service.status(key, view.jobId);
    expect(after).toMatchObject({ status: 'completed', done: 0, failed: 3 });
    expect(after.results[0]!.error).toMatchObject({ code: 'conflict' });
    expect(sandbox.control.requestLog().filter((e) => e.path === '/v1.0/$batch')).toHaveLength(0);
  });

  it('lets one worker at a time run a job: a second one looks again when the lease ends', async () => {
    const ids = unread(2, 'Lease');
    const service = jobs();
    const store = createBatchJobStore(() => Promise.resolve(table));
    const view = await createJob(service, 'flag', chunked(ids));
    const header = await store.header(key, view.jobId);
    await store.updateHeader(header, { status: 'running', leaseUntil: clock + 60_000 });
    await service.handle(enqueued[0]!.message, { log });
    expect(sandbox.control.requestLog()).toHaveLength(0);
    expect(enqueued).toHaveLength(2);
    expect(enqueued[1]!.delayMs).toBe(60_000);
    expect((await service.status(key, view.jobId)).pending).toBe(2);
  });

  it('out of its budget, a worker hands the rest to a new run instead of starting a chunk', async () => {
    const ids = unread(30, 'Budget');
    // A budget smaller than the time it keeps back: not even the first chunk starts.
    const service = jobs({ workerBudgetMs: 1_000 });
    const view = await createJob(service, 'markRead', chunked(ids));
    await service.handle(enqueued[0]!.message, { log });
    expect(enqueued).toHaveLength(2);
    expect(enqueued[1]!.message).toEqual(enqueued[0]!.message);
    const after = await service.status(key, view.jobId);
    expect(after).toMatchObject({ status: 'running', pending: 30 });
    // The next run may start at once: the lease was given back.
    await jobs().handle(enqueued[1]!.message, { log });
    expect(await service.status(key, view.jobId)).toMatchObject({ status: 'completed', done: 30 });
  });

  it('fails the job and every message not yet done when its message is poisoned', async () => {
    const ids = unread(25, 'Poison');
    const service = jobs();
    const view = await createJob(service, 'markRead', firstChunkDone(ids));
    await service.handlePoison(enqueued[0]!.message, { log });
    const after = await service.status(key, view.jobId);
    expect(after).toMatchObject({ status: 'failed', done: 20, failed: 5, pending: 0 });
    expect(after.reason).toContain('repeated worker failures');
    expect(after.results[24]!.error).toMatchObject({ code: 'internal' });
    // A late redelivery of the poisoned message does nothing.
    await service.handle(enqueued[0]!.message, { log });
    expect(sandbox.control.requestLog()).toHaveLength(0);
  });

  it('fails the job with the reason when the credential is gone', async () => {
    const service = jobs({
      graph: { forCredential: () => Promise.reject(new NotFoundError('The credential')) },
    });
    const view = await createJob(service, 'markRead', [
      { ids: ['AAkALgAAAAAAHYQDEapmEc2byACqAC-GONE'] },
    ]);
    await service.handle(enqueued[0]!.message, { log });
    const after = await service.status(key, view.jobId);
    expect(after).toMatchObject({
      status: 'failed',
      failed: 1,
      reason: 'The credential was not found.',
    });
  });

  it('gives the job back on an unexpected failure, so the redelivery runs it at once', async () => {
    const ids = unread(2, 'Retry');
    const failing = jobs({
      graph: { forCredential: () => Promise.reject(new Error('storage hiccup')) },
    });
    const view = await createJob(failing, 'markRead', chunked(ids));
    await expect(failing.handle(enqueued[0]!.message, { log })).rejects.toThrow('storage hiccup');
    await jobs().handle(enqueued[0]!.message, { log });
    expect(await failing.status(key, view.jobId)).toMatchObject({ status: 'completed', done: 2 });
  });
});
