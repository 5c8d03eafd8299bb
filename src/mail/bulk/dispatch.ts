import { isErrorOf, NotFoundError } from '../../core/errors';
import { type Logger } from '../../core/logger';
import { type BulkDependencies } from './dependencies';
import { type BulkMessage } from './queue';
import { type JobHeader } from './store';

type DispatchMessage = Extract<BulkMessage, { k: 'dispatch' }>;

export interface Dispatcher {
  /** Reserves send slots for a job's next recipients and enqueues one send per recipient. */
  dispatch(message: DispatchMessage, log: Logger): Promise<void>;
  /** Marks every recipient still queued: skipped after a cancel, failed when the job failed. */
  sweep(header: JobHeader, log: Logger): Promise<void>;
}

const SWEEP_BATCH = 500;

/** The dispatch stage of the bulk worker, and the sweep that ends a cancelled or failed job. */
export function createDispatcher(
  deps: Pick<BulkDependencies, 'store' | 'queue' | 'pacer' | 'settings' | 'now'>,
): Dispatcher {
  const now = deps.now ?? Date.now;
  const { store, queue, pacer, settings } = deps;

  async function sweep(header: JobHeader, log: Logger): Promise<void> {
    const to = header.status === 'cancelled' ? 'skipped' : 'failed';
    const rows = await store.page(header.jobId, 0, SWEEP_BATCH, 'queued');
    if (rows.length === 0) return;
    const moved = await store.finish(header.jobId, rows, ['queued'], to, {
      error:
        to === 'skipped' ? 'cancelled before sending' : `job failed: ${header.reason ?? 'unknown'}`,
    });
    log.info('bulk job swept', { jobId: header.jobId, to, moved });
    // More left: the next batch in a message of its own, not a loop in this one.
    if (rows.length === SWEEP_BATCH)
      await queue.enqueue({ v: 1, k: 'dispatch', s: header.serviceId, j: header.jobId });
  }

  async function dispatch(message: DispatchMessage, log: Logger): Promise<void> {
    let header: JobHeader;
    try {
      header = await store.header(message.s, message.j);
    } catch (error) {
      if (isErrorOf(error, NotFoundError)) return; // job removed: nothing to do
      throw error;
    }
    if (header.status === 'cancelled' || header.status === 'failed') return sweep(header, log);
    if (header.status === 'paused') return;
    if (header.scheduledAt > now()) return queue.enqueue(message, header.scheduledAt);
    if (header.dispatched >= header.total) return;

    const rows = await store.page(
      header.jobId,
      header.dispatched,
      settings.dispatchBatch,
      'queued',
    );
    if (rows.length === 0) {
      await store.updateHeader(header, { dispatched: header.total, status: 'running' });
      return;
    }
    const { slots, retryAt } = await pacer.reserve(
      header.mailbox,
      rows.map((r) => r.recipientCount),
      settings.horizonMs,
    );
    const sending = rows.slice(0, slots.length);
    // Send messages first, cursor second: a crash in between re-dispatches the same recipients,
    // whose duplicates the row state machine absorbs; the other order could lose recipients.
    await Promise.all(
      sending.map((row, k) =>
        queue.enqueue(
          { v: 1, k: 'send', s: header.serviceId, j: header.jobId, i: row.index, at: slots[k]! },
          slots[k],
        ),
      ),
    );
    const last = sending[sending.length - 1];
    const dispatched = last ? last.index + 1 : header.dispatched;
    const advanced = await store.updateHeader(header, {
      dispatched,
      status: 'running',
      ...(header.startedAt ? {} : { startedAt: new Date(now()).toISOString() }),
    });
    if (!advanced) {
      // The job changed meanwhile (cancel, pause, another dispatcher): look again from scratch.
      await queue.enqueue(message);
      return;
    }
    if (dispatched < header.total) {
      // Wake up while half the horizon is still reserved, so slots never run dry.
      await queue.enqueue(message, Math.max(now(), retryAt - settings.horizonMs / 2));
    }
    log.info('bulk slots reserved', { jobId: header.jobId, messages: sending.length, dispatched });
  }

  return { dispatch, sweep };
}
