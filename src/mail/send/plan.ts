import { GRAPH_REQUEST_LIMIT_BYTES } from '../../graph/errors';
import {
  type GraphFileAttachment,
  type GraphOutgoingMessage,
  type GraphRecipient,
  sendIdProperty,
} from '../../graph/send';
import { type AttachmentInput, type OutgoingMessage, type Recipient } from '../send-types';

/** The first stage: how a message goes, decided before any request and without reading files. */

function toGraphRecipient(recipient: Recipient): GraphRecipient {
  return {
    emailAddress:
      recipient.name === undefined
        ? { address: recipient.address }
        : { address: recipient.address, name: recipient.name },
  };
}

/** The message as Graph takes it, marked with its send id (attachments are added separately). */
export function toGraphMessage(message: OutgoingMessage, sendId: string): GraphOutgoingMessage {
  const headers = Object.entries(message.headers).map(([name, value]) => ({ name, value }));
  return {
    subject: message.subject,
    body: { contentType: message.contentType === 'html' ? 'HTML' : 'Text', content: message.body },
    toRecipients: message.to.map(toGraphRecipient),
    ccRecipients: message.cc.map(toGraphRecipient),
    bccRecipients: message.bcc.map(toGraphRecipient),
    replyTo: message.replyTo.map(toGraphRecipient),
    importance: message.importance,
    ...(message.from ? { from: toGraphRecipient(message.from) } : {}),
    ...(headers.length > 0 ? { internetMessageHeaders: headers } : {}),
    singleValueExtendedProperties: [sendIdProperty(sendId)],
  };
}

/** A file attachment with its bytes left out. */
export function attachmentShell(attachment: AttachmentInput): GraphFileAttachment {
  return {
    '@odata.type': '#microsoft.graph.fileAttachment',
    name: attachment.name,
    contentType: attachment.contentType,
    contentBytes: '',
    ...(attachment.isInline ? { isInline: true } : {}),
    ...(attachment.contentId === undefined ? {} : { contentId: attachment.contentId }),
  };
}

/**
 * Whether the JSON request `build` makes around `attachments` stays within Graph's 4,000,000
 * bytes, counted exactly without reading any file: base64 needs no escaping, so the request is
 * its JSON with empty contentBytes plus each file's base64 length.
 */
export function fitsOneRequest(
  attachments: AttachmentInput[],
  build: (shells: GraphFileAttachment[]) => unknown,
): boolean {
  const json = Buffer.byteLength(JSON.stringify(build(attachments.map(attachmentShell))));
  const base64 = attachments.reduce((sum, a) => sum + 4 * Math.ceil(a.size / 3), 0);
  return json + base64 <= GRAPH_REQUEST_LIMIT_BYTES;
}

/** Whether POST `/attachments` can carry the file within Graph's request limit. */
export const postable = (attachment: AttachmentInput) =>
  fitsOneRequest([attachment], ([one]) => one);

/** The mailbox the send was opened in. */
export interface OpenedMailbox {
  /** `/me`, or `/users/{upn}` for a shared mailbox. */
  root: string;
  mailboxAddress: string;
  /** The signed-in user's own address. */
  signedInAddress: string;
}

export interface SendPlan {
  /** `sendMail` when the whole request fits Graph's limit, else draft → attach → `/send`. */
  route: 'sendMail' | 'draft';
  /** The message without its files. */
  payload: GraphOutgoingMessage;
  /** Who the message goes out as (for a clear Send As refusal). */
  sendingAs: string;
  /**
   * Draft in this mailbox (the signed-in user's) instead, `from` set to the shared mailbox:
   * delegated upload sessions work only there (Graph known issue).
   */
  draftMailbox?: string;
  /** Files carried by the first request (sendMail, or the draft's create). */
  packed: AttachmentInput[];
  /** Files added to the draft one by one (POST `/attachments` or an upload session). */
  separate: AttachmentInput[];
}

export function planSend(
  message: OutgoingMessage,
  sendId: string,
  opened: OpenedMailbox,
): SendPlan {
  const sendingAs = message.from?.address ?? opened.mailboxAddress;
  let payload = toGraphMessage(message, sendId);
  const single = fitsOneRequest(message.attachments, (shells) => ({
    message: { ...payload, attachments: shells },
    saveToSentItems: message.saveToSentItems,
  }));
  if (single) {
    return { route: 'sendMail', payload, sendingAs, packed: message.attachments, separate: [] };
  }
  let draftMailbox: string | undefined;
  if (opened.root !== '/me' && !message.attachments.every(postable)) {
    draftMailbox = opened.signedInAddress;
    payload = toGraphMessage({ ...message, from: message.from ?? { address: sendingAs } }, sendId);
  }
  // Files ride along in the create request while it stays within Graph's request limit.
  const packed: AttachmentInput[] = [];
  const separate: AttachmentInput[] = [];
  for (const attachment of message.attachments) {
    const fits =
      postable(attachment) &&
      fitsOneRequest([...packed, attachment], (shells) => ({ ...payload, attachments: shells }));
    (fits ? packed : separate).push(attachment);
  }
  return {
    route: 'draft',
    payload,
    sendingAs,
    ...(draftMailbox === undefined ? {} : { draftMailbox }),
    packed,
    separate,
  };
}
