import { Readable } from 'node:stream';

import { budgetSignal, remainingMs } from '../../core/abort';
import { isErrorOf, PayloadTooLargeError } from '../../core/errors';
import { addFileAttachment } from '../../graph/drafts';
import { type GraphFileAttachment, type GraphOutgoingMessage } from '../../graph/send';
import {
  cancelUploadSession,
  createUploadSession,
  isBelowSessionMinimum,
  uploadToSession,
} from '../../graph/uploads';
import { type AttachmentInput } from '../send-types';
import { type SendContext } from './context';
import { attachmentShell, postable } from './plan';

/** The attach stage: files into a request body, onto a draft, and what to undo on failure. */

async function readAll(attachment: AttachmentInput): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of attachment.open()) chunks.push(Buffer.from(chunk));
  return Buffer.concat(chunks);
}

export async function toFileAttachment(attachment: AttachmentInput): Promise<GraphFileAttachment> {
  return {
    ...attachmentShell(attachment),
    contentBytes: (await readAll(attachment)).toString('base64'),
  };
}

/** The payload with `files` inside it (read now, base64). */
export async function withFiles(
  payload: GraphOutgoingMessage,
  files: AttachmentInput[],
): Promise<GraphOutgoingMessage> {
  if (files.length === 0) return payload;
  return { ...payload, attachments: await Promise.all(files.map(toFileAttachment)) };
}

/** Upload sessions opened for a draft and not yet complete: cancelled if the send fails. */
export type OpenUploads = Set<string>;

async function uploadBySession(
  ctx: SendContext,
  draftId: string,
  attachment: AttachmentInput,
  open: OpenUploads,
): Promise<void> {
  const session = await createUploadSession(ctx.work, draftId, {
    attachmentType: 'file',
    name: attachment.name,
    size: attachment.size,
    contentType: attachment.contentType,
    ...(attachment.isInline ? { isInline: true } : {}),
    ...(attachment.contentId === undefined ? {} : { contentId: attachment.contentId }),
  });
  open.add(session.uploadUrl);
  const uploaded = await uploadToSession(session, attachment, {
    abortSignal: ctx.workSignal,
    log: ctx.log,
    slot: ctx.slot,
  });
  open.delete(session.uploadUrl);
  ctx.onUpload?.({ name: attachment.name, size: attachment.size, chunks: uploaded.chunks });
}

/**
 * A file still arriving, once it begins: its final name and type, and when small enough to post,
 * its bytes read into memory (a live stream reads once; a refused post then goes by session).
 * A bigger one flows straight into its upload session.
 */
async function arrived(attachment: AttachmentInput): Promise<AttachmentInput> {
  const { arrival, ...file } = attachment;
  if (!arrival) return attachment;
  const described = { ...file, ...(await arrival()) };
  if (!postable(described)) return described;
  const bytes = await readAll(described);
  return { ...described, open: () => Readable.from([bytes]) };
}

/**
 * Adds one file to the draft: by POST `/attachments` when its request fits Graph's limit,
 * otherwise by upload session. When Graph refuses either for the file's size (a 413, or a
 * session refused as under its minimum: Graph's "3 MB" need not be ours), the other way is
 * tried; nothing has been sent yet, so that is safe.
 */
export async function attachFile(
  ctx: SendContext,
  draftId: string,
  arriving: AttachmentInput,
  open: OpenUploads,
): Promise<void> {
  const attachment = await arrived(arriving);
  const post = async () => addFileAttachment(ctx.work, draftId, await toFileAttachment(attachment));
  const bySession = () => uploadBySession(ctx, draftId, attachment, open);
  const [first, second, refusedForSize] = postable(attachment)
    ? [post, bySession, (e: unknown) => isErrorOf(e, PayloadTooLargeError)]
    : [bySession, post, isBelowSessionMinimum];
  try {
    await first();
  } catch (error) {
    if (!refusedForSize(error)) throw error;
    ctx.log.warn('Graph refused an attachment for its size; trying the other way', {
      name: attachment.name,
      size: attachment.size,
      error,
    });
    await second();
  }
}

/** Cancels upload sessions a failed send left open (best effort). */
export async function cancelUploads(ctx: SendContext, open: OpenUploads): Promise<void> {
  if (open.size === 0) return;
  // Its own budget: cleanup runs also after the caller's budget ran out.
  const abortSignal = budgetSignal(Math.max(1000, Math.min(15_000, remainingMs(ctx.abortSignal))));
  for (const url of open) {
    await cancelUploadSession(url, { abortSignal, slot: ctx.slot }).catch((error: unknown) =>
      ctx.log.warn('could not cancel an upload session', { error }),
    );
  }
}
