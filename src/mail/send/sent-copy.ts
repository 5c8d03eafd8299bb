import * as z from 'zod';

import { budgetSignal } from '../../core/abort';
import { ForbiddenError, isErrorOf, NotFoundError, ReauthRequiredError } from '../../core/errors';
import { type Logger } from '../../core/logger';
import { idSchema } from '../../core/validators';
import { type CredentialKey } from '../../credentials/types';
import { type GraphFactory } from '../../graph/client';
import { deleteMessage } from '../../graph/drafts';
import { type JsonQueue } from '../../storage';
import { type SendRecord, type SendRecordChange, type SendRecordStore } from './records';
import { findSentCopy, LOOKUP_AFTER_MS } from './status';

/**
 * Graph's draft `/send` always keeps a copy in Sent Items (only `sendMail` takes
 * saveToSentItems), and the copy "may take time" to appear. So a draft sent with
 * saveToSentItems=false is answered at once and a queued job deletes its copy later: it looks in
 * Sent Items for the message carrying the send's marker, sent within the send's window, with the
 * draft's immutable id, and deletes that one non-draft copy; not there yet, it looks again later
 * (backing off, a bounded number of times, no later than an hour after the send), then gives up
 * with a warning. A message still in the Outbox is never touched (deleting it could stop it).
 *
 * The queue message names the send only (service, credential, send id): what to delete comes from
 * the send's record in that credential's partition, so a message naming another service's
 * credential finds no record there and does nothing.
 */

export const SENT_COPY_QUEUE = 'sent-copy-delete';
export const SENT_COPY_POISON_QUEUE = `${SENT_COPY_QUEUE}-poison`;

export const sentCopyMessageSchema = z.strictObject({
  v: z.literal(1),
  s: idSchema,
  c: idSchema,
  /** The send id. */
  id: idSchema,
  /** Looks made so far. */
  n: z.number().int().nonnegative().max(1000),
});

export type SentCopyMessage = z.output<typeof sentCopyMessageSchema>;

export interface SentCopySettings {
  /** Wait before the first look; each later wait doubles, up to `maxDelayMs`. */
  firstDelayMs: number;
  maxDelayMs: number;
  /** Looks before the copy is left where it is. */
  maxAttempts: number;
  /** Time one look may take (Graph's throttling waits included). */
  budgetMs: number;
}

/** About 25 minutes of looking in all, well inside the hour the send's status looks for ids. */
export const DEFAULT_SENT_COPY_SETTINGS: SentCopySettings = {
  firstDelayMs: 5_000,
  maxDelayMs: 5 * 60_000,
  maxAttempts: 10,
  budgetMs: 60_000,
};

export interface SentCopyCleanup {
  /** Queues the deletion of the copy of `record`'s draft (stored first); throws if it cannot. */
  schedule(credential: CredentialKey, record: SendRecord): Promise<void>;
  /** The queue trigger: one look, then delete, look again later, or give up. */
  handle(message: unknown, options: { log: Logger }): Promise<void>;
  /** After repeated failures: the copy is left, and the send's record says so. */
  handlePoison(message: unknown, options: { log: Logger }): Promise<void>;
}

export interface SentCopyDependencies {
  queue: JsonQueue<SentCopyMessage>;
  records: SendRecordStore;
  graph: Pick<GraphFactory<CredentialKey>, 'forCredential'>;
  settings?: Partial<SentCopySettings>;
  now?: () => number;
}

/** A record whose draft's copy is still to be deleted: anything else is not ours to touch. */
function awaitsDeletion(
  record: SendRecord | undefined,
): record is SendRecord & { draftId: string } {
  return (
    record !== undefined &&
    record.via === 'draft' &&
    !record.savedToSentItems &&
    record.draftId !== undefined &&
    record.copyDeletion === 'pending'
  );
}

/**
 * The copy's fate, written over the record as stored: only a deletion still pending moves (to
 * `deleted` or `left`, both final), whatever else was written meanwhile stays. A copy found and
 * deleted proves the message went, so a lost answer's `unknown` becomes `sent` (with no ids: not
 * saved), which the status route could no longer find out once the copy is gone.
 */
export function copyOutcome(outcome: 'deleted' | 'left'): SendRecordChange {
  return (current) =>
    current.copyDeletion !== 'pending'
      ? undefined
      : {
          ...current,
          copyDeletion: outcome,
          ...(outcome === 'deleted' ? { status: 'sent' as const, resolved: true } : {}),
        };
}

export function createSentCopyCleanup(deps: SentCopyDependencies): SentCopyCleanup {
  const settings: SentCopySettings = { ...DEFAULT_SENT_COPY_SETTINGS, ...deps.settings };
  const now = deps.now ?? Date.now;
  const delayBefore = (attempt: number) =>
    Math.min(settings.maxDelayMs, settings.firstDelayMs * 2 ** Math.min(attempt, 30));

  async function mark(
    key: CredentialKey,
    record: SendRecord,
    outcome: 'deleted' | 'left',
  ): Promise<void> {
    await deps.records.update(key, record.sendId, copyOutcome(outcome));
  }

  async function leave(
    key: CredentialKey,
    record: SendRecord,
    log: Logger,
    why: string,
    error?: unknown,
  ): Promise<void> {
    log.warn(`the Sent Items copy of a message sent with saveToSentItems=false stays: ${why}`, {
      messageId: record.draftId,
      ...(error === undefined ? {} : { error }),
    });
    await mark(key, record, 'left');
  }

  async function look(message: SentCopyMessage, log: Logger): Promise<void> {
    const key: CredentialKey = { serviceId: message.s, credentialId: message.c };
    const record = await deps.records.get(key, message.id);
    if (!awaitsDeletion(record)) {
      log.warn('no Sent Items copy awaits deletion for this send; message dropped');
      return;
    }
    let graph;
    try {
      graph = await deps.graph.forCredential(key, {
        abortSignal: budgetSignal(settings.budgetMs),
        log,
        writes: true,
        ...(record.mailbox === undefined ? {} : { mailbox: record.mailbox }),
      });
    } catch (error) {
      if (isErrorOf(error, NotFoundError)) {
        log.warn('the credential is gone; the Sent Items copy is not looked for');
        return;
      }
      if (isErrorOf(error, ReauthRequiredError) || isErrorOf(error, ForbiddenError)) {
        await leave(key, record, log, 'the credential cannot be used', error);
        return;
      }
      throw error;
    }
    const copy = await findSentCopy(graph, record);
    if (copy && !copy.isDraft && copy.id === record.draftId) {
      await deleteMessage(graph, copy.id);
      await mark(key, record, 'deleted');
      log.info('deleted the Sent Items copy of a message sent with saveToSentItems=false', {
        messageId: copy.id,
      });
      return;
    }
    const next = message.n + 1;
    const delayMs = delayBefore(next);
    if (next >= settings.maxAttempts || now() + delayMs > record.sentAt + LOOKUP_AFTER_MS) {
      await leave(key, record, log, `not in Sent Items after ${next} looks`);
      return;
    }
    await deps.queue.enqueue({ ...message, n: next }, delayMs);
  }

  const parse = (raw: unknown) => {
    const parsed = sentCopyMessageSchema.safeParse(raw);
    return parsed.success ? parsed.data : undefined;
  };

  return {
    async schedule(credential, record) {
      await deps.queue.enqueue(
        { v: 1, s: credential.serviceId, c: credential.credentialId, id: record.sendId, n: 0 },
        delayBefore(0),
      );
    },

    async handle(raw, { log }) {
      const message = parse(raw);
      if (!message) throw new Error('not a sent-copy message');
      await look(message, log.child({ sendId: message.id, attempt: message.n }));
    },

    async handlePoison(raw, { log }) {
      const message = parse(raw);
      if (!message) {
        log.error('unreadable sent-copy poison message dropped');
        return;
      }
      const key: CredentialKey = { serviceId: message.s, credentialId: message.c };
      const record = await deps.records.get(key, message.id);
      if (!awaitsDeletion(record)) return;
      await mark(key, record, 'left');
      log.error(
        'gave up deleting the Sent Items copy of a message sent with saveToSentItems=false after repeated failures; it stays',
        { sendId: message.id, messageId: record.draftId },
      );
    },
  };
}
