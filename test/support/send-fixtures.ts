import { Readable } from 'node:stream';

import { type AttachmentInput, type OutgoingMessage } from '../../src/mail/send-types';

/** A plain text message to `to`, with every field the send service needs. */
export function outgoingMessage(
  to: string,
  subject: string,
  extra: Partial<OutgoingMessage> = {},
): OutgoingMessage {
  return {
    to: [{ address: to }],
    cc: [],
    bcc: [],
    replyTo: [],
    subject,
    body: 'body',
    contentType: 'text',
    importance: 'normal',
    saveToSentItems: true,
    headers: {},
    attachments: [],
    ...extra,
  };
}

export function fileAttachment(name: string, bytes: Buffer): AttachmentInput {
  return {
    name,
    contentType: 'application/octet-stream',
    size: bytes.length,
    open: () => Readable.from([bytes]),
  };
}
