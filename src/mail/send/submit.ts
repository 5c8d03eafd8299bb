import {
  type GraphOutgoingMessage,
  isUncertainSendFailure,
  sendDraft,
  sendMail,
} from '../../graph/send';
import { sendResponse } from '../../graph/respond';
import { type SendContext } from './context';
import { type PlannedResponse } from './plan';

/**
 * The submit stage: the one irreversible request, once the caller's request has arrived whole and
 * right after `commit` records that sending has begun. It is retried on 429 only (by the Graph
 * client). A definite refusal throws; an answer that was lost (timeout, network error, 5xx) is
 * returned for the confirm stage to resolve, never retried.
 */
export type Submission = { at: number } & (
  { answered: true } | { answered: false; error: unknown }
);

async function submit(ctx: SendContext, request: () => Promise<void>): Promise<Submission> {
  // Files that flowed in while the draft was prepared: the request must have arrived whole.
  await ctx.message.received?.();
  await ctx.commit(ctx.sendId);
  const at = Date.now();
  try {
    await request();
    return { at, answered: true };
  } catch (error) {
    if (!isUncertainSendFailure(error)) throw error;
    return { at, answered: false, error };
  }
}

/** `sendMail` with the whole message (files included), or the reply / forward action. */
export function submitMessage(
  ctx: SendContext,
  payload: GraphOutgoingMessage,
  response?: PlannedResponse,
): Promise<Submission> {
  if (!response) return submit(ctx, () => sendMail(ctx.work, payload, ctx.message.saveToSentItems));
  const { kind, messageId, comment } = response;
  return submit(ctx, () => sendResponse(ctx.work, messageId, kind, { comment, message: payload }));
}

/** `/send` of a prepared draft. */
export function submitDraft(ctx: SendContext, draftId: string): Promise<Submission> {
  return submit(ctx, () => sendDraft(ctx.work, draftId));
}
