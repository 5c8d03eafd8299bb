import { randomUUID } from 'node:crypto';

import { budgetSignal, remainingMs } from '../../core/abort';
import { ForbiddenError, isErrorOf, NotFoundError, ReauthRequiredError } from '../../core/errors';
import { type Logger } from '../../core/logger';
import { type CredentialKey } from '../../credentials/types';
import { type GraphFactory } from '../../graph/client';
import { type ChunkPace } from './pace';
import { itemError, messageAction, runChunk } from './chunks';
import { type BatchJobMessage, batchMessageSchema, type BatchJobQueue } from './queue';
import { type BatchJobStore, type ChunkRow, type JobHeader } from './store';
import {
  type BatchActionName,
  type BatchItemResult,
  type BatchJobView,
  ID_TYPE,
  type ItemError,
} from './types';

/**
 * Batches handed to a queued job: the request that ran out of time stores what it did and the
 * chunks left, and one worker at a time (a lease on the job) runs them in order, storing each
 * chunk's results as it finishes. A chunk is never run twice: a copy chunk found `started` (its
 * worker died mid-way) is failed rather than repeated; every other action is safe to repeat.
 */

/** A worker's own budget: well inside the host's 10-minute function timeout. */
export const WORKER_BUDGET_MS = 4 * 60_000;
/** A worker owns its job a little longer than it may run. */
const LEASE_MS = WORKER_BUDGET_MS + 60_000;
/** Time kept back, in a request or a worker, to store a chunk and hand the rest on. */
export const RESERVE_MS = 2_000;

export interface NewBatchJob {
  mailbox: string | undefined;
  action: BatchActionName;
  destinationId: string | undefined;
  categories: string[] | undefined;
  /** Every id, in the order given, chunked by 20; chunks already run carry their results. */
  chunks: Array<{ ids: string[]; results?: BatchItemResult[] }>;
}

export interface BatchJobs {
  create(key: CredentialKey, job: NewBatchJob, options: { log: Logger }): Promise<BatchJobView>;
  status(key: CredentialKey, jobId: string): Promise<BatchJobView>;
  /** The queue trigger: runs the job's chunks left within the worker's budget. */
  handle(message: unknown, options: { log: Logger }): Promise<void>;
  /** After repeated failures: the job fails, and every message not yet done with it. */
  handlePoison(message: unknown, options: { log: Logger }): Promise<void>;
}

export interface BatchJobDependencies {
  store: BatchJobStore;
  queue: BatchJobQueue;
  graph: Pick<GraphFactory<CredentialKey>, 'forCredential'>;
  pace: ChunkPace;
  workerBudgetMs?: number;
  now?: () => number;
}

/** The pace key: a credential's own mailbox or the shared one it acts on. */
export function paceKey(key: CredentialKey, mailbox: string | undefined): string {
  return `${key.serviceId}/${key.credentialId}/${mailbox?.toLowerCase() ?? ''}`;
}

function view(header: JobHeader, chunks: ChunkRow[]): BatchJobView {
  const results = chunks.flatMap(
    (c): BatchJobView['results'] =>
      c.results ?? c.ids.map((messageId) => ({ messageId, status: 'pending' })),
  );
  const done = results.filter((r) => r.status === 'done').length;
  const failed = results.filter((r) => r.status === 'failed').length;
  return {
    jobId: header.jobId,
    action: header.action,
    status: header.status,
    reason: header.reason ?? null,
    total: header.total,
    done,
    failed,
    pending: header.total - done - failed,
    results,
    createdAt: header.createdAt,
    updatedAt: header.updatedAt,
    idType: ID_TYPE,
  };
}

const failedAll = (ids: string[], error: ItemError): BatchItemResult[] =>
  ids.map((messageId) => ({ messageId, status: 'failed', error }));

export function createBatchJobs(deps: BatchJobDependencies): BatchJobs {
  const now = deps.now ?? Date.now;
  const { store } = deps;

  async function finish(header: JobHeader, status: 'completed' | 'failed', reason?: string) {
    await store.updateHeader(header, {
      status,
      leaseUntil: 0,
      ...(reason === undefined ? {} : { reason }),
    });
  }

  /** Fails every chunk not yet done (the job cannot go on) with `error`. */
  async function failRest(header: JobHeader, error: ItemError): Promise<void> {
    for (const chunk of await store.chunks(header.key, header.jobId)) {
      if (chunk.state === 'done') continue;
      await store.updateChunk(header.key, header.jobId, chunk, {
        state: 'done',
        results: failedAll(chunk.ids, error),
      });
    }
  }

  async function claim(header: JobHeader): Promise<JobHeader | undefined> {
    if (header.leaseUntil > now()) return undefined;
    return store.updateHeader(header, { status: 'running', leaseUntil: now() + LEASE_MS });
  }

  async function run(message: BatchJobMessage, log: Logger): Promise<void> {
    const key: CredentialKey = { serviceId: message.s, credentialId: message.c };
    let header: JobHeader;
    try {
      header = await store.header(key, message.j);
    } catch (error) {
      if (isErrorOf(error, NotFoundError)) {
        log.warn('batch job not found; message dropped', { jobId: message.j });
        return;
      }
      throw error;
    }
    if (header.status === 'completed' || header.status === 'failed') return;
    const claimed = await claim(header);
    if (!claimed) {
      // Another worker owns it: look again when its lease ends.
      await deps.queue.enqueue(message, Math.max(1_000, header.leaseUntil - now()));
      return;
    }
    try {
      await runClaimed(claimed, key, message, log);
    } catch (error) {
      // Give the job back so the host's redelivery can run it at once.
      const current = await store.header(key, message.j).catch(() => undefined);
      if (current) await store.updateHeader(current, { leaseUntil: 0 }).catch(() => undefined);
      throw error;
    }
  }

  async function runClaimed(
    claimed: JobHeader,
    key: CredentialKey,
    message: BatchJobMessage,
    log: Logger,
  ): Promise<void> {
    const header = claimed;
    const signal = budgetSignal(deps.workerBudgetMs ?? WORKER_BUDGET_MS);
    const options = { abortSignal: signal, log };
    let graph;
    try {
      graph = await deps.graph.forCredential(key, {
        ...options,
        mailbox: header.mailbox,
        writes: true,
      });
    } catch (error) {
      // A credential that is gone or must be connected again cannot be waited for here.
      if (
        isErrorOf(error, NotFoundError) ||
        isErrorOf(error, ReauthRequiredError) ||
        isErrorOf(error, ForbiddenError)
      ) {
        const reason = itemError(error);
        await failRest(header, reason);
        await finish(header, 'failed', reason.message);
        return;
      }
      throw error;
    }
    const action = messageAction(header.action, header.categories, header.destinationId);
    const pace = paceKey(key, header.mailbox);
    for (let chunk of await store.chunks(key, header.jobId)) {
      if (chunk.state === 'done') continue;
      if (chunk.state === 'started' && header.action === 'copy') {
        await store.updateChunk(key, header.jobId, chunk, {
          state: 'done',
          results: failedAll(chunk.ids, {
            code: 'conflict',
            message:
              'The worker copying this message stopped; the copy is not repeated, so no message is copied twice. Check the destination folder.',
          }),
        });
        continue;
      }
      if (deps.pace.estimateMs(pace) + RESERVE_MS > remainingMs(signal)) {
        // Out of time: release the job and let the next run go on from here.
        await store.updateHeader(header, { leaseUntil: 0 });
        await deps.queue.enqueue(message);
        return;
      }
      if (header.action === 'copy') {
        chunk = await store.updateChunk(key, header.jobId, chunk, { state: 'started' });
      }
      const startedAt = now();
      const results = await runChunk(graph, action, chunk.ids, options);
      deps.pace.record(pace, now() - startedAt);
      await store.updateChunk(key, header.jobId, chunk, { state: 'done', results });
    }
    await finish(header, 'completed');
    log.info('batch job completed', { jobId: header.jobId, total: header.total });
  }

  function parse(message: unknown): BatchJobMessage | undefined {
    const parsed = batchMessageSchema.safeParse(message);
    return parsed.success ? parsed.data : undefined;
  }

  return {
    async create(key, job, options) {
      const jobId = randomUUID();
      const createdAt = new Date(now()).toISOString();
      const total = job.chunks.reduce((n, c) => n + c.ids.length, 0);
      await store.create(
        {
          key,
          jobId,
          mailbox: job.mailbox,
          action: job.action,
          destinationId: job.destinationId,
          categories: job.categories,
          total,
          chunks: job.chunks.length,
          createdAt,
        },
        job.chunks,
      );
      await deps.queue.enqueue({ v: 1, s: key.serviceId, c: key.credentialId, j: jobId });
      options.log.info('batch handed to a queued job', {
        jobId,
        total,
        left: job.chunks.filter((c) => !c.results).length,
      });
      return this.status(key, jobId);
    },

    async status(key, jobId) {
      const header = await store.header(key, jobId);
      return view(header, await store.chunks(key, jobId));
    },

    async handle(raw, { log }) {
      const message = parse(raw);
      if (!message) throw new Error('not a message-batch message');
      await run(message, log.child({ jobId: message.j }));
    },

    async handlePoison(raw, { log }) {
      const message = parse(raw);
      if (!message) {
        log.error('unreadable poison message dropped');
        return;
      }
      const key: CredentialKey = { serviceId: message.s, credentialId: message.c };
      let header: JobHeader;
      try {
        header = await store.header(key, message.j);
      } catch (error) {
        if (isErrorOf(error, NotFoundError)) return;
        throw error;
      }
      if (header.status === 'completed' || header.status === 'failed') return;
      const reason = 'the job could not be run (repeated worker failures)';
      await failRest(header, { code: 'internal', message: reason });
      await finish(header, 'failed', reason);
      log.error('batch job failed after poison', { jobId: message.j });
    },
  };
}
