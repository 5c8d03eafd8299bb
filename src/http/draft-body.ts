import { createHash } from 'node:crypto';

import type { HttpRequest } from '@azure/functions';
import * as z from 'zod';

import { type DraftChange } from '../mail/drafts';
import { ValidationError } from '../core/errors';
import { fromField, recipients, replyToList } from '../mail/recipients';
import { toGraphRecipient } from '../mail/send/plan';
import { type AttachmentInput, type OutgoingMessage } from '../mail/send-types';
import { graphIdParam } from './params';
import { readJson } from './parse';
import { answer, forwardSchema, replySchema, type ResponseTarget } from './respond-body';
import { readMessageRequest } from './send-body';
import {
  type MessageRequestShape,
  type ParsedSendRequest,
  type ReadSendRequestOptions,
  sendMessage,
  sendRequestSchema,
} from './send-request';

/**
 * Draft bodies. `POST drafts` takes send's body (recipients may come later), or a reply's with
 * `replyTo: messageId`, or a forward's with `forwardOf: messageId`; JSON or multipart like send.
 * `replyTo` is send's Reply-To list unless it is one Graph id (ids never contain `@`).
 */

const replyDraft = replySchema.extend({ replyTo: graphIdParam, body: z.string().default('') });
// Graph's createForward, like forward, needs its recipients (400 without).
const forwardDraft = forwardSchema.extend({ forwardOf: graphIdParam });

type NewDraft = z.output<typeof sendRequestSchema>;
type ReplyDraft = z.output<typeof replyDraft>;
type ForwardDraft = z.output<typeof forwardDraft>;
type DraftRequest =
  | ({ kind: 'new' } & NewDraft)
  | ({ kind: 'reply' } & ReplyDraft)
  | ({ kind: 'forward' } & ForwardDraft);

const isMessageId = (value: unknown) =>
  typeof value === 'string' && graphIdParam.safeParse(value).success;

/** Parses `value` with `schema` inside a transform, its issues kept with their paths. */
function parseInto<S extends z.ZodType>(
  schema: S,
  value: unknown,
  ctx: z.RefinementCtx,
): z.output<S> | typeof z.NEVER {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  for (const issue of result.error.issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) {
        ctx.addIssue({
          code: 'custom',
          path: [...issue.path, key],
          message: 'is not a known field',
        });
      }
    } else {
      ctx.addIssue({ code: 'custom', path: issue.path, message: issue.message });
    }
  }
  return z.NEVER;
}

const draftSchema = z.unknown().transform((value, ctx): DraftRequest => {
  const fields =
    typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {};
  if ('forwardOf' in fields) return { kind: 'forward', ...parseInto(forwardDraft, value, ctx) };
  if (isMessageId(fields.replyTo)) return { kind: 'reply', ...parseInto(replyDraft, value, ctx) };
  return { kind: 'new', ...parseInto(sendRequestSchema, value, ctx) };
});

function draftMessage(
  request: DraftRequest,
  attachments: AttachmentInput[],
  mailbox: string | undefined,
): OutgoingMessage {
  // from and signature too: an answer's draft goes through the send stage's sender step.
  const { cc, bcc, body, contentType, from, signature } = request;
  const fields = { cc, bcc, body, contentType, from, signature };
  if (request.kind === 'reply') {
    return answer(
      { messageId: request.replyTo, mailbox },
      request.replyAll ? 'replyAll' : 'reply',
      { to: [], ...fields },
      attachments,
    );
  }
  if (request.kind === 'forward') {
    const target: ResponseTarget = { messageId: request.forwardOf, mailbox };
    return answer(target, 'forward', { to: request.to, ...fields }, attachments);
  }
  const { kind: _kind, ...send } = request;
  const message = sendMessage(send, attachments);
  return mailbox === undefined || message.mailbox !== undefined ? message : { ...message, mailbox };
}

/** Reads `POST drafts`; `?mailbox=` (or send's `mailbox` field) names a shared mailbox. */
export function readDraftRequest(
  request: HttpRequest,
  mailbox: string | undefined,
  options: ReadSendRequestOptions,
): Promise<ParsedSendRequest> {
  const shape: MessageRequestShape<DraftRequest> = {
    schema: draftSchema,
    toMessage: (parsed, files) => draftMessage(parsed, files, mailbox),
  };
  return readMessageRequest(request, shape, options);
}

const changeSchema = z
  .strictObject({
    to: recipients.optional(),
    cc: recipients.optional(),
    bcc: recipients.optional(),
    replyTo: replyToList.optional(),
    subject: z
      .string()
      .max(16 * 1024)
      .optional(),
    body: z.string().optional(),
    contentType: z.enum(['text', 'html'], { error: 'must be text or html' }).optional(),
    importance: z
      .enum(['low', 'normal', 'high'], { error: 'must be low, normal or high' })
      .optional(),
    from: fromField.optional(),
  })
  .refine((b) => Object.keys(b).length > 0, {
    message: 'must change at least one of to, cc, bcc, replyTo, subject, body, importance, from',
  })
  .refine((b) => b.contentType === undefined || b.body !== undefined, {
    message: 'contentType needs the body it describes',
    path: ['contentType'],
  });

/** Reads a draft's PATCH into the fields Graph changes (lists replace the draft's). */
export async function readDraftChange(request: HttpRequest): Promise<DraftChange> {
  const { value } = await readJson(request, changeSchema);
  const list = (r: typeof value.to) => r?.map(toGraphRecipient);
  const change: DraftChange = {};
  if (value.to) change.toRecipients = list(value.to)!;
  if (value.cc) change.ccRecipients = list(value.cc)!;
  if (value.bcc) change.bccRecipients = list(value.bcc)!;
  if (value.replyTo) change.replyTo = list(value.replyTo)!;
  if (value.subject !== undefined) change.subject = value.subject;
  if (value.importance) change.importance = value.importance;
  if (value.from) change.from = toGraphRecipient(value.from);
  if (value.body !== undefined) {
    change.body = {
      contentType: value.contentType === 'html' ? 'HTML' : 'Text',
      content: value.body,
    };
  }
  return change;
}

/** `POST drafts/{id}/attachments`: send's `attachments` and `fileSizes`, nothing else. */
const filesSchema = z.strictObject({
  attachments: sendRequestSchema.shape.attachments,
  fileSizes: sendRequestSchema.shape.fileSizes,
});

/** Reads the files to add to a draft: JSON (base64, small) or multipart (any size, streamed). */
export async function readDraftFiles(
  request: HttpRequest,
  options: ReadSendRequestOptions,
): Promise<{ files: AttachmentInput[]; dispose(): Promise<void> }> {
  const shape: MessageRequestShape<z.output<typeof filesSchema>> = {
    schema: filesSchema,
    // The reader makes a message of what it read; only its files are used.
    toMessage: (_parsed, files) => sendMessage(sendRequestSchema.parse({}), files),
  };
  const parsed = await readMessageRequest(request, shape, options);
  if (parsed.message.attachments.length === 0) {
    await parsed.dispose();
    throw new ValidationError({ path: 'attachments', message: 'must name at least one file' });
  }
  return { files: parsed.message.attachments, dispose: () => parsed.dispose() };
}

/** One key sends one draft: the fingerprint is the draft and its mailbox. */
export function draftSendFingerprint(draftId: string, mailbox: string | undefined): string {
  return createHash('sha256')
    .update(`draft-send\n${draftId}\n${mailbox ?? ''}`)
    .digest('hex');
}
