import { createHash } from 'node:crypto';

import { budgetSignal } from '../../core/abort';
import {
  type AppError,
  errorMessage,
  isAppError,
  NotFoundError,
  ReauthRequiredError,
  SendOutcomeUnknownError,
  ThrottledError,
  UpstreamError,
} from '../../core/errors';
import { type Logger } from '../../core/logger';
import { UPLOAD_SESSION_MIN_BYTES } from '../../graph/uploads';
import { type OutgoingMessage } from '../send-types';
import { compileTemplate, renderTemplate } from '../template-render';
import { type BulkDependencies } from './jobs';
import { type BulkMessage, bulkMessageSchema } from './queue';
import { type JobHeader, type JobSnapshot, type RecipientRow } from './store';

/**
 * The queue side of bulk jobs. Every step is safe to run twice or concurrently: recipient rows
 * move `queued → sending → sent|failed|skipped` only under their ETag, a `sending` row is owned by
 * one worker until its lease runs out, and the send carries an idempotency key per job and
 * recipient, so a worker that dies after Graph accepted a message cannot send it twice.
 */

export interface BulkWorker {
  handle(message: unknown, options: { log: Logger }): Promise<void>;
  /** For messages the host gave up on (`bulk-send-poison`): the recipient fails with a reason. */
  handlePoison(message: unknown, options: { log: Logger }): Promise<void>;
}

const SWEEP_BATCH = 500;

interface BuiltMessage {
  message: OutgoingMessage;
  /** Identifies the rendered message for the idempotency key. */
  fingerprint: string;
}

/** Snapshots never change once a job exists; keep a few per instance. */
function snapshotCache(load: (serviceId: string, jobId: string) => Promise<JobSnapshot>) {
  const cache = new Map<string, Promise<JobSnapshot>>();
  return (serviceId: string, jobId: string) => {
    let hit = cache.get(jobId);
    if (!hit) {
      hit = load(serviceId, jobId);
      hit.catch(() => cache.delete(jobId));
      cache.set(jobId, hit);
      if (cache.size > 50) cache.delete(cache.keys().next().value!);
    }
    return hit;
  };
}

/** Failures worth another attempt later: throttling, Graph or storage unavailable. */
function retryDelayMs(error: unknown, attempts: number): number | undefined {
  if (error instanceof ThrottledError) return error.retryAfterMs;
  if (error instanceof UpstreamError && error.code !== 'graph_error') {
    return error.retryAfterMs ?? Math.min(60_000, 1000 * 2 ** attempts);
  }
  return undefined;
}

function reasonOf(error: AppError): string {
  return `${error.code}: ${error.detail}`;
}

/** Room for what Graph's JSON adds per request and per recipient beyond our own fields. */
const ENVELOPE_BYTES = 2048;
const PER_RECIPIENT_BYTES = 64;
const PER_ATTACHMENT_BYTES = 1024;

/**
 * What sending `message` uploads to Graph (the bodies of its POST/PUT requests), erring high: the
 * message JSON once (sendMail, or the draft), files under the upload-session size as base64 (in
 * that request or their own), larger files raw through upload sessions. The send path picks the
 * route; every route uploads at most this.
 */
export function uploadBytes(message: OutgoingMessage): number {
  const { attachments, ...fields } = message;
  const recipients = message.to.length + message.cc.length + message.bcc.length;
  return (
    ENVELOPE_BYTES +
    Buffer.byteLength(JSON.stringify(fields)) +
    recipients * PER_RECIPIENT_BYTES +
    attachments.reduce(
      (sum, a) =>
        sum +
        PER_ATTACHMENT_BYTES +
        Buffer.byteLength(a.name) +
        (a.size < UPLOAD_SESSION_MIN_BYTES ? 4 * Math.ceil(a.size / 3) : a.size),
      0,
    )
  );
}

export function createBulkWorker(deps: BulkDependencies): BulkWorker {
  const now = deps.now ?? Date.now;
  const { store, queue, pacer, settings } = deps;
  const snapshot = snapshotCache((s, j) => store.snapshot(s, j));

  async function fail(row: RecipientRow, from: RecipientRow['state'][], error: string) {
    await store.finish(row.jobId, [row], from, 'failed', { error });
  }

  /** Marks every recipient still queued (skipped after a cancel, failed when the job failed). */
  async function sweep(header: JobHeader, log: Logger): Promise<void> {
    const to = header.status === 'cancelled' ? 'skipped' : 'failed';
    const rows = await store.page(header.jobId, 0, SWEEP_BATCH, 'queued');
    if (rows.length === 0) return;
    const moved = await store.finish(header.jobId, rows, ['queued'], to, {
      error:
        to === 'skipped' ? 'cancelled before sending' : `job failed: ${header.reason ?? 'unknown'}`,
    });
    log.info('bulk job swept', { jobId: header.jobId, to, moved });
    if (rows.length === SWEEP_BATCH)
      await queue.enqueue({ v: 1, k: 'dispatch', s: header.serviceId, j: header.jobId });
  }

  async function dispatch(message: Extract<BulkMessage, { k: 'dispatch' }>, log: Logger) {
    let header: JobHeader;
    try {
      header = await store.header(message.s, message.j);
    } catch (error) {
      if (error instanceof NotFoundError) return; // job removed: nothing to do
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

  async function buildMessage(header: JobHeader, row: RecipientRow): Promise<BuiltMessage> {
    const snap = await snapshot(header.serviceId, header.jobId);
    // Compiled per message, not cached with the snapshot: parsed templates are many times their text.
    const rendered = renderTemplate(compileTemplate(snap), row, {
      maxBytes: settings.maxMessageBytes,
    });
    const message: OutgoingMessage = {
      to: [{ address: row.to }],
      cc: row.cc.map((address) => ({ address })),
      bcc: [],
      replyTo: snap.sender?.replyTo ?? [],
      subject: rendered.subject,
      body: rendered.body,
      contentType: rendered.contentType,
      importance: 'normal',
      saveToSentItems: true,
      headers: {},
      attachments: snap.attachments.map((ref) => deps.attachments.open(header.serviceId, ref)),
      // The send stage checks `from` again and puts the signature in (at {{signature}} or after).
      ...(snap.sender?.from ? { from: snap.sender.from } : {}),
      ...(snap.sender?.signature === undefined ? {} : { signature: snap.sender.signature }),
    };
    const fingerprint = createHash('sha256')
      .update(JSON.stringify([row.to, row.cc, rendered, snap.attachments.map((a) => a.sha256)]))
      .digest('hex');
    return { message, fingerprint };
  }

  async function pause(header: JobHeader, error: ReauthRequiredError, log: Logger) {
    for (let attempt = 0; attempt < 5; attempt++) {
      const current = attempt === 0 ? header : await store.header(header.serviceId, header.jobId);
      if (current.status !== 'running' && current.status !== 'queued') return;
      if (await store.updateHeader(current, { status: 'paused', reason: reasonOf(error) })) {
        log.warn('bulk job paused: the credential must be connected again', {
          jobId: header.jobId,
        });
        return;
      }
    }
  }

  async function send(message: Extract<BulkMessage, { k: 'send' }>, log: Logger) {
    let header: JobHeader;
    let row: RecipientRow;
    try {
      header = await store.header(message.s, message.j);
      row = await store.recipient(message.j, message.i);
    } catch (error) {
      if (error instanceof NotFoundError) return;
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
      const built = await buildMessage(header, row);
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
  }

  async function sendClaimed(
    header: JobHeader,
    row: RecipientRow,
    { message: outgoing, fingerprint }: BuiltMessage,
    message: Extract<BulkMessage, { k: 'send' }>,
    log: Logger,
  ) {
    try {
      const abortSignal = budgetSignal(settings.sendLeaseMs - 5000);
      const result = await deps
        .send()
        .send({ serviceId: header.serviceId, credentialId: header.credentialId }, outgoing, {
          abortSignal,
          log,
          idempotency: { key: `bulk-${header.jobId}-${row.index}`, fingerprint },
        });
      await store.finish(
        row.jobId,
        [row],
        ['sending'],
        'sent',
        result.messageId ? { messageId: result.messageId } : {},
      );
    } catch (error) {
      if (error instanceof ReauthRequiredError) {
        await store.updateRecipient(row, {
          state: 'queued',
          leaseUntil: 0,
          error: reasonOf(error),
        });
        return pause(header, error, log);
      }
      const wait = retryDelayMs(error, row.attempts);
      if (wait !== undefined && row.attempts < settings.maxAttempts) {
        const until = now() + wait;
        if (error instanceof ThrottledError) await pacer.holdUntil(header.mailbox, until);
        await store.updateRecipient(row, {
          state: 'queued',
          leaseUntil: 0,
          error: reasonOf(error as AppError),
        });
        log.warn('bulk send deferred', {
          jobId: header.jobId,
          index: row.index,
          code: (error as AppError).code,
          waitMs: wait,
        });
        return queue.enqueue({ ...message, at: until }, until);
      }
      if (isAppError(error)) {
        // Permanent (4xx, unknown outcome, attempts used up): recorded on the row, not retried.
        const reason =
          error instanceof SendOutcomeUnknownError
            ? `${reasonOf(error)} (it may have been delivered)`
            : reasonOf(error);
        log.warn('bulk send failed', { jobId: header.jobId, index: row.index, code: error.code });
        return fail(row, ['sending'], reason);
      }
      // Unexpected: release the claim so the host's redelivery can take over at once, then let
      // the host retry (and eventually poison) the message.
      await store
        .updateRecipient(row, {
          leaseUntil: 0,
          error: `internal: ${errorMessage(error).slice(0, 300)}`,
        })
        .catch(() => undefined);
      throw error;
    }
  }

  function parse(message: unknown): BulkMessage {
    const result = bulkMessageSchema.safeParse(message);
    if (!result.success)
      throw new Error(`not a bulk-send message: ${result.error.issues[0]?.message ?? 'invalid'}`);
    return result.data;
  }

  return {
    async handle(raw, { log }) {
      const message = parse(raw);
      const scoped = log.child({
        jobId: message.j,
        ...(message.k === 'send' ? { index: message.i } : {}),
      });
      if (message.k === 'dispatch') return dispatch(message, scoped);
      return send(message, scoped);
    },

    async handlePoison(raw, { log }) {
      const result = bulkMessageSchema.safeParse(raw);
      if (!result.success) {
        log.error('unreadable poison message dropped', { issue: result.error.issues[0]?.message });
        return;
      }
      const message = result.data;
      let header: JobHeader;
      try {
        header = await store.header(message.s, message.j);
      } catch (error) {
        if (error instanceof NotFoundError) return;
        throw error;
      }
      if (message.k === 'dispatch') {
        // The job cannot be advanced: fail it as a whole and every recipient not yet sent.
        if (header.status !== 'cancelled' && header.status !== 'failed') {
          await store.updateHeader(header, {
            status: 'failed',
            reason: 'the job could not be dispatched (repeated worker failures)',
          });
        }
        const failed = await store.header(message.s, message.j);
        if (failed.status === 'failed' || failed.status === 'cancelled') await sweep(failed, log);
        return;
      }
      const row = await store.recipient(message.j, message.i);
      const last = row.error ? `; last error: ${row.error}` : '';
      await fail(row, ['queued', 'sending'], `gave up after repeated worker failures${last}`);
      log.error('bulk recipient failed after poison', { jobId: message.j, index: message.i });
    },
  };
}
