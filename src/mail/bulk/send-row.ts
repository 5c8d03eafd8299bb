import { budgetSignal } from '../../core/abort';
import { errorMessage, isErrorOf, NotFoundError } from '../../core/errors';
import { type Logger } from '../../core/logger';
import { classifySendFailure } from './failure';
import { type BulkDependencies } from './dependencies';
import { type BuiltMessage, uploadBytes } from './message';
import { type BulkMessage } from './queue';
import { sentRow } from './sent-ids';
import { type JobHeader, type RecipientRow } from './store';

type SendMessage = Extract<BulkMessage, { k: 'send' }>;

/** Attempts to record a pause against concurrent header changes before leaving it to resume. */
const PAUSE_ATTEMPTS = 5;
/** Budget kept back from the row's lease, so the send ends before another worker may claim it. */
const LEASE_MARGIN_MS = 5000;

/**
 * The send stage of the bulk worker: one recipient, when its job, its row, the mailbox's
 * concurrency and Graph's upload budget allow; the row is claimed under its ETag first. A failure
 * is classified (`failure.ts`): retried later (throttling also holds the whole mailbox), the job
 * paused (reconnect the credential), or recorded on the row.
 */
export function createRowSender(
  deps: Pick<BulkDependencies, 'store' | 'queue' | 'pacer' | 'settings' | 'send' | 'now'>,
  build: (header: JobHeader, row: RecipientRow) => Promise<BuiltMessage>,
): (message: SendMessage, log: Logger) => Promise<void> {
  const now = deps.now ?? Date.now;
  const { store, queue, pacer, settings } = deps;

  async function pause(header: JobHeader, reason: string, log: Logger): Promise<void> {
    for (let attempt = 0; attempt < PAUSE_ATTEMPTS; attempt++) {
      const current = attempt === 0 ? header : await store.header(header.serviceId, header.jobId);
      if (current.status !== 'running' && current.status !== 'queued') return;
      if (await store.updateHeader(current, { status: 'paused', reason })) {
        log.warn('bulk job paused: the credential must be connected again', {
          jobId: header.jobId,
        });
        return;
      }
    }
  }

  async function sendClaimed(
    header: JobHeader,
    row: RecipientRow,
    { message: outgoing, fingerprint }: BuiltMessage,
    message: SendMessage,
    log: Logger,
  ): Promise<void> {
    try {
      const abortSignal = budgetSignal(settings.sendLeaseMs - LEASE_MARGIN_MS);
      const result = await deps
        .send()
        .send({ serviceId: header.serviceId, credentialId: header.credentialId }, outgoing, {
          abortSignal,
          log,
          idempotency: { key: `bulk-${header.jobId}-${row.index}`, fingerprint },
        });
      // Recording the result fails like the send does (a store outage is retried the same way).
      await store.finish(row.jobId, [row], ['sending'], 'sent', { sent: sentRow(result) });
    } catch (error) {
      await settleFailure(header, row, message, error, log);
    }
  }

  async function settleFailure(
    header: JobHeader,
    row: RecipientRow,
    message: SendMessage,
    error: unknown,
    log: Logger,
  ): Promise<void> {
    const failure = classifySendFailure(error, row.attempts, settings.maxAttempts);
    switch (failure.kind) {
      case 'pause':
        await store.updateRecipient(row, { state: 'queued', leaseUntil: 0, error: failure.reason });
        return pause(header, failure.reason, log);
      case 'retry': {
        const until = now() + failure.waitMs;
        if (failure.throttled) await pacer.holdUntil(header.mailbox, until);
        await store.updateRecipient(row, { state: 'queued', leaseUntil: 0, error: failure.reason });
        log.warn('bulk send deferred', {
          jobId: header.jobId,
          index: row.index,
          code: failure.code,
          waitMs: failure.waitMs,
        });
        return queue.enqueue({ ...message, at: until }, until);
      }
      case 'fail':
        log.warn('bulk send failed', { jobId: header.jobId, index: row.index, code: failure.code });
        await store.finish(row.jobId, [row], ['sending'], 'failed', { error: failure.reason });
        return;
      case 'unexpected':
        // Release the claim so the host's redelivery can take over at once, then let the host
        // retry (and eventually poison) the message.
        await store
          .updateRecipient(row, {
            leaseUntil: 0,
            error: `internal: ${errorMessage(error).slice(0, 300)}`,
          })
          .catch(() => undefined);
        throw error;
    }
  }

  return async function send(message, log) {
    let header: JobHeader;
    let row: RecipientRow;
    try {
      header = await store.header(message.s, message.j);
      row = await store.recipient(message.j, message.i);
    } catch (error) {
      if (isErrorOf(error, NotFoundError)) return;
      throw error;
    }
    if (row.state === 'sent' || row.state === 'failed' || row.state === 'skipped') return;
    if (header.status === 'cancelled') {
      if (row.state === 'queued')
        await store.finish(row.jobId, [row], ['queued'], 'skipped', {
          error: 'cancelled before sending',
        });
      return;
    }
    // Paused: the row stays queued and resume dispatches it again.
    if (header.status === 'paused' || header.status === 'failed') return;
    if (row.state === 'sending' && row.leaseUntil > now()) {
      // Another worker owns it; look again when its claim would have expired.
      return queue.enqueue(message, row.leaseUntil + 1000);
    }
    if (message.at > now() + 50) return queue.enqueue(message, message.at);

    const lease = await pacer.acquire(header.mailbox, settings.sendLeaseMs);
    if ('retryAt' in lease) return queue.enqueue(message, lease.retryAt);
    try {
      const built = await build(header, row);
      // Graph's hold (Retry-After) and upload budget, checked when the bytes really leave.
      const upload = await pacer.admit(header.mailbox, uploadBytes(built.message));
      if ('retryAt' in upload) {
        return await queue.enqueue({ ...message, at: upload.retryAt }, upload.retryAt);
      }
      try {
        const claimed = await store.updateRecipient(row, {
          state: 'sending',
          attempts: row.attempts + 1,
          leaseUntil: now() + settings.sendLeaseMs,
        });
        if (!claimed) return await queue.enqueue(message, now() + 1000); // someone else moved it; re-check
        await sendClaimed(header, claimed, built, message, log);
      } finally {
        await upload.done();
      }
    } finally {
      await lease.release();
    }
  };
}
