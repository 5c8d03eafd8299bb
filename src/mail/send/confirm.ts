import { remainingMs, sleep } from '../../core/abort';
import { SendOutcomeUnknownError } from '../../core/errors';
import { getMessageRef } from '../../graph/drafts';
import { findBySendId, type MessageRef } from '../../graph/send';
import { type SendResult } from '../send-types';
import { type SendRecord } from './records';
import { type SendContext } from './context';
import { type Submission } from './submit';

/**
 * The confirm stage: what happened to a submitted message, found by looking it up (Sent Items by
 * its send id, or the draft's immutable id, as the docs advise), and its ids for the caller.
 */

type LookupContext = Pick<SendContext, 'abortSignal' | 'log' | 'timings'>;

/** Looks until `find` answers or the time is up; lookup errors just mean "not yet". */
export async function lookFor<T>(
  ctx: LookupContext,
  find: () => Promise<T | null>,
  budgetMs: number,
): Promise<T | null> {
  const until = Date.now() + Math.min(budgetMs, remainingMs(ctx.abortSignal) - 500);
  let delay = ctx.timings.firstDelayMs;
  for (;;) {
    try {
      const found = await find();
      if (found) return found;
    } catch (error) {
      ctx.log.warn('send lookup failed', { error });
    }
    if (Date.now() + delay > until) return null;
    await sleep(delay, ctx.abortSignal).catch(() => undefined);
    if (ctx.abortSignal?.aborted) return null;
    delay = Math.min(delay * 2, 4000);
  }
}

/** The caller's answer from what is known of a send. */
export function sendResult(record: SendRecord): SendResult {
  return {
    sendId: record.sendId,
    status: 'sent',
    messageId: record.messageId,
    internetMessageId: record.internetMessageId,
    sentAt: new Date(record.sentAt).toISOString(),
  };
}

/**
 * What is known of an answered send: a draft's ids are its own (its immutable id stays with the
 * Sent Items copy); a message sent in one request has none until its copy is found. A draft not
 * to be saved gets a copy all the same (Graph's `/send` always keeps one), to be deleted.
 */
function sentRecord(
  ctx: SendContext,
  submission: Submission,
  via: SendRecord['via'],
  draft: MessageRef | null,
): SendRecord {
  const saved = ctx.message.saveToSentItems;
  const known = saved ? draft : null;
  return {
    sendId: ctx.sendId,
    status: 'sent',
    sentAt: submission.at,
    via,
    ...(ctx.mailbox === undefined ? {} : { mailbox: ctx.mailbox }),
    ...(draft ? { draftId: draft.id } : {}),
    savedToSentItems: saved,
    messageId: known?.id ?? null,
    internetMessageId: known?.internetMessageId ?? null,
    resolved: !saved || (known?.internetMessageId ?? null) !== null,
    ...(via === 'draft' && !saved ? { copyDeletion: 'pending' as const } : {}),
  };
}

/**
 * Remembers the send (for `GET …/sends/{sendId}`) and queues the deletion of a copy not to be
 * kept (also when the outcome is unknown: a copy that appears later is deleted all the same); an
 * unknown outcome is thrown once that is done.
 */
async function settle(
  ctx: SendContext,
  record: SendRecord,
  submission: Submission,
): Promise<SendResult> {
  await ctx.remember(record);
  if (record.copyDeletion === 'pending') await ctx.deleteCopyLater(record);
  if (record.status === 'unknown') {
    const cause = submission.answered ? undefined : submission.error;
    throw new SendOutcomeUnknownError(record.sendId, { cause });
  }
  return sendResult(record);
}

/**
 * After `sendMail` (or a reply / forward): answered at once, ids unknown (the Sent Items copy may
 * take time to appear; the send's record finds it later by its send id). A lost answer is resolved
 * by looking for that copy for `lostAnswerMs`; without one (saveToSentItems=false) there is
 * nothing to look for, so the outcome is unknown.
 */
export async function confirmSendMail(
  ctx: SendContext,
  submission: Submission,
): Promise<SendResult> {
  const { sendId, lookup, log, timings } = ctx;
  const record = sentRecord(ctx, submission, 'sendMail', null);
  const saved = record.savedToSentItems;
  if (submission.answered) return settle(ctx, record, submission);
  log.warn('sendMail answer lost; looking for the message in Sent Items', {
    sendId,
    error: submission.error,
  });
  const find = () => findBySendId(lookup, 'sentitems', sendId);
  const found = saved ? await lookFor(ctx, find, timings.lostAnswerMs) : null;
  if (!found) return settle(ctx, { ...record, status: 'unknown' }, submission);
  return settle(
    ctx,
    { ...record, messageId: found.id, internetMessageId: found.internetMessageId, resolved: true },
    submission,
  );
}

/**
 * After a draft's `/send`: its ids are the draft's (an immutable id stays with the Sent Items
 * copy), known at once. A lost answer is resolved by looking the draft up by that id (the draft
 * stays when not found: it may still be on its way out of the Outbox). With saveToSentItems=false
 * no ids are given and the copy is deleted later, by a queued job (`sent-copy.ts`): the caller
 * does not wait for it to appear.
 */
export async function confirmDraftSend(
  ctx: SendContext,
  draft: MessageRef,
  submission: Submission,
): Promise<SendResult> {
  const { sendId, lookup, log, timings } = ctx;
  const record = sentRecord(ctx, submission, 'draft', draft);
  if (!submission.answered) {
    log.warn('send answer lost; looking the draft up by its immutable id', {
      sendId,
      error: submission.error,
    });
    const sentCopy = async () => {
      const ref = await getMessageRef(lookup, draft.id);
      return ref && !ref.isDraft ? ref : null;
    };
    if (!(await lookFor(ctx, sentCopy, timings.lostAnswerMs))) {
      return settle(ctx, { ...record, status: 'unknown', resolved: false }, submission);
    }
  }
  return settle(ctx, record, submission);
}
