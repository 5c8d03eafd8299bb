import { ValidationError } from '../../core/errors';
import { GRAPH_REQUEST_LIMIT_BYTES } from '../../graph/errors';
import { type ResponseKind } from '../../graph/respond';
import {
  type GraphFileAttachment,
  type GraphOutgoingMessage,
  type GraphRecipient,
  sendIdProperty,
} from '../../graph/send';
import { type AttachmentInput, type OutgoingMessage, type Recipient } from '../send-types';

/** The first stage: how a message goes, decided before any request and without reading files. */

export function toGraphRecipient(recipient: Recipient): GraphRecipient {
  return {
    emailAddress:
      recipient.name === undefined
        ? { address: recipient.address }
        : { address: recipient.address, name: recipient.name },
  };
}

const HTML_ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
};

/**
 * The `comment` of a reply or forward. Graph writes the answer as HTML, the comment above the
 * quoted original, so a text body is escaped and keeps its line breaks.
 */
export function responseComment(message: Pick<OutgoingMessage, 'body' | 'contentType'>): string {
  if (message.contentType === 'html') return message.body;
  return message.body.replace(/[&<>"]/g, (c) => HTML_ESCAPES[c]!).replace(/\r?\n/g, '<br>\r\n');
}

/**
 * The `message` of a reply or forward: only what the caller adds to what Graph builds from the
 * original (its subject, quote and, for replies, recipients), marked with the send id.
 */
function toGraphResponseMessage(
  message: OutgoingMessage,
  kind: ResponseKind,
  sendId: string,
): GraphOutgoingMessage {
  const headers = Object.entries(message.headers).map(([name, value]) => ({ name, value }));
  const list = (recipients: Recipient[]) => recipients.map(toGraphRecipient);
  return {
    ...(kind === 'forward' ? { toRecipients: list(message.to) } : {}),
    // replyAll's own Cc is Graph's; the caller's is added to the draft (planResponse).
    ...(message.cc.length > 0 && kind !== 'replyAll' ? { ccRecipients: list(message.cc) } : {}),
    ...(message.bcc.length > 0 ? { bccRecipients: list(message.bcc) } : {}),
    ...(message.importance === 'normal' ? {} : { importance: message.importance }),
    ...(message.from ? { from: toGraphRecipient(message.from) } : {}),
    ...(headers.length > 0 ? { internetMessageHeaders: headers } : {}),
    singleValueExtendedProperties: [sendIdProperty(sendId)],
  };
}

/** The message as Graph takes it, marked with its send id (attachments are added separately). */
export function toGraphMessage(message: OutgoingMessage, sendId: string): GraphOutgoingMessage {
  if (message.inResponseTo)
    return toGraphResponseMessage(message, message.inResponseTo.kind, sendId);
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

/** A reply or forward: the action on the original, with the caller's body as its comment. */
export interface PlannedResponse {
  kind: ResponseKind;
  messageId: string;
  comment: string;
  /** replyAll: the caller's Cc, added to the Cc Graph chose once the draft exists. */
  addCc: GraphRecipient[];
}

export interface SendPlan {
  /**
   * `sendMail` (for an answer: `reply`, `replyAll` or `forward`) when the whole request fits
   * Graph's limit, else draft (`POST messages` or `create…`) → attach → `/send`.
   */
  route: 'sendMail' | 'draft';
  response?: PlannedResponse;
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
  /**
   * Files added to the draft one by one (POST `/attachments` or an upload session), among them
   * every file still arriving: its upload starts as its bytes come in.
   */
  separate: AttachmentInput[];
}

/** Files still arriving go on a draft made at once, each added when it comes (never packed). */
const arriving = (attachment: AttachmentInput) => attachment.arrival !== undefined;

/**
 * A draft that must stay in a shared mailbox (an answer, beside its original; a saved draft, where
 * people look for it) cannot take files over POST `/attachments`' limit: Graph takes upload
 * sessions with delegated permissions only in the signed-in user's own mailbox. Refused before
 * any request, naming the file.
 */
export function refuseSessionFiles(
  message: Pick<OutgoingMessage, 'attachments'>,
  opened: Pick<OpenedMailbox, 'root'>,
  what: string,
): void {
  if (opened.root === '/me') return;
  const index = message.attachments.findIndex((a) => !postable(a));
  const large = message.attachments[index];
  if (!large) return;
  throw new ValidationError({
    path: large.path ?? `attachments[${index}]`,
    message: `(${large.size} bytes) is too large for a ${what}: Graph takes files over 3 MB only through upload sessions, which delegated access allows in the signed-in user's own mailbox alone`,
  });
}

/**
 * A reply or forward goes in one request while it fits; a replyAll with added Cc, one too large,
 * or one kept as a draft, by its draft (made beside the message it answers).
 */
function planResponse(
  message: OutgoingMessage & { inResponseTo: NonNullable<OutgoingMessage['inResponseTo']> },
  sendId: string,
  opened: OpenedMailbox,
  sendingAs: string,
  keep: boolean,
): SendPlan {
  const { kind, messageId } = message.inResponseTo;
  const payload = toGraphMessage(message, sendId);
  const comment = responseComment(message);
  const addCc = kind === 'replyAll' ? message.cc.map(toGraphRecipient) : [];
  const response: PlannedResponse = { kind, messageId, comment, addCc };
  const single =
    !keep &&
    addCc.length === 0 &&
    !message.attachments.some(arriving) &&
    fitsOneRequest(message.attachments, (shells) => ({
      comment,
      message: { ...payload, attachments: shells },
    }));
  if (single) {
    return {
      route: 'sendMail',
      response,
      payload,
      sendingAs,
      packed: message.attachments,
      separate: [],
    };
  }
  refuseSessionFiles(message, opened, `${kind} from a shared mailbox`);
  return {
    route: 'draft',
    response,
    payload,
    sendingAs,
    packed: [],
    separate: message.attachments,
  };
}

/** `keep`: the message is saved as a draft, not sent (always the draft route, in its mailbox). */
export function planSend(
  message: OutgoingMessage,
  sendId: string,
  opened: OpenedMailbox,
  { keep = false }: { keep?: boolean } = {},
): SendPlan {
  const sendingAs = message.from?.address ?? opened.mailboxAddress;
  if (message.inResponseTo) {
    return planResponse(
      { ...message, inResponseTo: message.inResponseTo },
      sendId,
      opened,
      sendingAs,
      keep,
    );
  }
  if (keep) refuseSessionFiles(message, opened, 'draft in a shared mailbox');
  let payload = toGraphMessage(message, sendId);
  const single =
    !message.attachments.some(arriving) &&
    fitsOneRequest(message.attachments, (shells) => ({
      message: { ...payload, attachments: shells },
      saveToSentItems: message.saveToSentItems,
    }));
  if (single && !keep) {
    return { route: 'sendMail', payload, sendingAs, packed: message.attachments, separate: [] };
  }
  let draftMailbox: string | undefined;
  if (opened.root !== '/me' && !keep && !message.attachments.every(postable)) {
    draftMailbox = opened.signedInAddress;
    payload = toGraphMessage({ ...message, from: message.from ?? { address: sendingAs } }, sendId);
  }
  // Files ride along in the create request while it stays within Graph's request limit.
  const packed: AttachmentInput[] = [];
  const separate: AttachmentInput[] = [];
  for (const attachment of message.attachments) {
    const fits =
      !arriving(attachment) &&
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
