import {
  attachmentIds,
  createDraft,
  deleteAttachment,
  deleteMessage,
  updateDraft,
} from '../../graph/drafts';
import { createResponseDraft } from '../../graph/respond';
import {
  findBySendId,
  type GraphOutgoingMessage,
  isUncertainSendFailure,
  type MessageRef,
} from '../../graph/send';
import { type AttachmentInput } from '../send-types';
import { attachFile, cancelUploads, type OpenUploads } from './attach';
import { lookFor } from './confirm';
import { type SendContext } from './context';
import { type PlannedResponse } from './plan';

/**
 * Drafts for the draft → attach → `/send` route. How the draft comes to be is a parameter
 * (`DraftCreator`): a new message here; a reply or forward is the same route with another creator.
 */

/** Makes the draft in `ctx.work`; on failure it leaves nothing behind. */
export type DraftCreator = (ctx: SendContext) => Promise<MessageRef>;

/** Deletes the draft of a failed send and cancels its open upload sessions (best effort). */
export async function discardDraft(
  ctx: SendContext,
  draftId: string | undefined,
  open: OpenUploads = new Set(),
): Promise<void> {
  await cancelUploads(ctx, open);
  if (draftId === undefined) return;
  await deleteMessage(ctx.lookup, draftId).catch((error: unknown) =>
    ctx.log.error('could not delete the draft of a failed send', { error }),
  );
}

/**
 * A draft made by `create`. When the create answer is lost the draft may exist all the same: it
 * is looked up in Drafts by its send id and deleted, so nothing is left behind.
 */
function orphanSafe(create: (ctx: SendContext) => Promise<MessageRef>): DraftCreator {
  return async (ctx) => {
    try {
      return await create(ctx);
    } catch (error) {
      if (isUncertainSendFailure(error)) {
        const find = () => findBySendId(ctx.lookup, 'drafts', ctx.sendId);
        const orphan = await lookFor(ctx, find, ctx.timings.afterSendMs);
        if (orphan) await discardDraft(ctx, orphan.id);
      }
      throw error;
    }
  };
}

/** A new draft from `payload`. */
export function newDraft(payload: GraphOutgoingMessage): DraftCreator {
  return orphanSafe((ctx) => createDraft(ctx.work, payload));
}

/**
 * The draft of a reply or forward (`createReply`, `createReplyAll`, `createForward`), which Graph
 * fills with the subject, recipients and quoted original. A replyAll's added Cc joins the Cc
 * Graph chose, so nobody it would have copied is dropped.
 */
export function responseDraft(
  response: PlannedResponse,
  payload: GraphOutgoingMessage,
): DraftCreator {
  return orphanSafe(async (ctx) => {
    const { kind, messageId, comment, addCc } = response;
    const draft = await createResponseDraft(ctx.work, messageId, kind, {
      comment,
      message: payload,
    });
    if (addCc.length === 0) return draft;
    const seen = new Set(draft.ccRecipients.map((r) => r.emailAddress.address.toLowerCase()));
    const added = addCc.filter((r) => !seen.has(r.emailAddress.address.toLowerCase()));
    try {
      await updateDraft(ctx.work, draft.id, { ccRecipients: [...draft.ccRecipients, ...added] });
    } catch (error) {
      await discardDraft(ctx, draft.id);
      throw error;
    }
    return draft;
  });
}

/**
 * Creates the draft and adds the files that did not ride along in its create request, one by
 * one. Any failure deletes the draft and cancels open upload sessions before it is thrown.
 */
export async function prepareDraft(
  ctx: SendContext,
  create: DraftCreator,
  files: AttachmentInput[],
): Promise<MessageRef> {
  let draft: MessageRef | undefined;
  const open: OpenUploads = new Set();
  try {
    draft = await create(ctx);
    for (const file of files) await attachFile(ctx, draft.id, file, open);
    return draft;
  } catch (error) {
    await discardDraft(ctx, draft?.id, open);
    throw error;
  }
}

/**
 * Adds files to a draft that exists already, one by one as when it was made. Any failure takes
 * back what this call added (its attachments are those the draft did not have before; open upload
 * sessions are cancelled), so the draft is left as it was, then the failure is thrown.
 */
export async function addFiles(
  ctx: SendContext,
  draftId: string,
  files: AttachmentInput[],
): Promise<void> {
  const before = new Set(await attachmentIds(ctx.work, draftId));
  const open: OpenUploads = new Set();
  try {
    for (const file of files) await attachFile(ctx, draftId, file, open);
  } catch (error) {
    await cancelUploads(ctx, open);
    try {
      for (const id of await attachmentIds(ctx.lookup, draftId)) {
        if (!before.has(id)) await deleteAttachment(ctx.lookup, draftId, id);
      }
    } catch (cleanup) {
      ctx.log.error('could not take back the files added to a draft', { error: cleanup });
    }
    throw error;
  }
}
