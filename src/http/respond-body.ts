import { createHash } from 'node:crypto';

import type { HttpRequest } from '@azure/functions';
import * as z from 'zod';

import { fromField, recipients } from '../mail/recipients';
import { type AttachmentInput, type OutgoingMessage } from '../mail/send-types';
import { readMessageRequest } from './send-body';
import {
  attachmentSchema,
  fileSizes,
  type MessageRequestShape,
  type ParsedSendRequest,
  type ReadSendRequestOptions,
} from './send-request';

/**
 * The bodies of `POST …/messages/{messageId}/reply` and `…/forward`: send's fields that make sense
 * for an answer (Graph sets the subject, the quoted original and, for a reply, the recipients),
 * JSON or multipart exactly like send, read into the send service's command.
 */

const contentType = z.enum(['text', 'html'], { error: 'must be text or html' }).default('text');
const files = z.array(attachmentSchema).max(250, 'has too many entries').default([]);
/** Who the answer goes out as and whether it is signed, as on send. */
const sender = {
  from: fromField.optional(),
  signature: z.boolean({ error: 'must be true or false' }).optional(),
};

export const replySchema = z.strictObject({
  body: z.string({ error: 'is required: the text of the reply (may be empty)' }),
  contentType,
  replyAll: z.boolean({ error: 'must be true or false' }).default(false),
  cc: recipients,
  bcc: recipients,
  attachments: files,
  ...sender,
  fileSizes: fileSizes.optional(),
});

export const forwardSchema = z.strictObject({
  to: recipients.refine((list) => list.length > 0, 'is required: who the message is forwarded to'),
  cc: recipients,
  bcc: recipients,
  body: z.string().default(''),
  contentType,
  attachments: files,
  ...sender,
  fileSizes: fileSizes.optional(),
});

type ReplyRequest = z.output<typeof replySchema>;
type ForwardRequest = z.output<typeof forwardSchema>;

/** The message being answered, and the shared mailbox it is in. */
export interface ResponseTarget {
  messageId: string;
  mailbox: string | undefined;
}

export function answer(
  target: ResponseTarget,
  kind: NonNullable<OutgoingMessage['inResponseTo']>['kind'],
  {
    from,
    signature,
    ...fields
  }: Pick<OutgoingMessage, 'to' | 'cc' | 'bcc' | 'body' | 'contentType'> &
    Pick<z.output<typeof replySchema>, 'from' | 'signature'>,
  attachments: AttachmentInput[],
): OutgoingMessage {
  return {
    ...fields,
    ...(from === undefined ? {} : { from }),
    ...(signature === undefined ? {} : { signature }),
    replyTo: [],
    subject: '',
    importance: 'normal',
    // Graph keeps every reply and forward in Sent Items.
    saveToSentItems: true,
    headers: {},
    attachments,
    inResponseTo: { kind, messageId: target.messageId },
    ...(target.mailbox === undefined ? {} : { mailbox: target.mailbox }),
  };
}

function replyShape(target: ResponseTarget): MessageRequestShape<ReplyRequest> {
  return {
    schema: replySchema,
    toMessage: (r, attachments) =>
      answer(target, r.replyAll ? 'replyAll' : 'reply', { ...r, to: [] }, attachments),
  };
}

function forwardShape(target: ResponseTarget): MessageRequestShape<ForwardRequest> {
  return {
    schema: forwardSchema,
    toMessage: (r, attachments) => answer(target, 'forward', r, attachments),
  };
}

/**
 * Reads a reply (`forward: false`) or forward request. Its fingerprint covers the message
 * answered and the mailbox too: one Idempotency-Key never answers two messages.
 */
export async function readResponseRequest(
  request: HttpRequest,
  action: 'reply' | 'forward',
  target: ResponseTarget,
  options: ReadSendRequestOptions,
): Promise<ParsedSendRequest> {
  const parsed =
    action === 'reply'
      ? await readMessageRequest(request, replyShape(target), options)
      : await readMessageRequest(request, forwardShape(target), options);
  const fingerprint = createHash('sha256')
    .update(`${action}\n${target.messageId}\n${target.mailbox ?? ''}\n${parsed.fingerprint}`)
    .digest('hex');
  return { ...parsed, fingerprint };
}
