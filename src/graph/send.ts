import { type AppError, isAppError, isErrorOf, UpstreamError } from '../core/errors';
import { type MailboxGraph, segment } from './client';
import { stringLiteral } from './odata';

/**
 * Graph operations that send mail. Neither `sendMail` nor `/send` is idempotent and a 5xx or a
 * lost answer can hide a send that happened, so both go out with retries on 429 only (Graph
 * answers 429 before doing anything) and every message carries a send id to look it up by.
 */

/**
 * The single-value extended property that marks our messages with their send id: a named
 * property in this product's own property set (a fixed GUID). Unlike internet headers, which do
 * not exist on the Sent Items copy (microsoft-graph-docs issues #2716, #3066), an extended
 * property stays on it and Graph can filter on it; it uses none of the caller's 5 header slots.
 */
export const SEND_ID_PROPERTY_ID = 'String {a009ebaa-db32-4f33-ba32-3aae4842ba95} Name omfSendId';

export interface GraphExtendedProperty {
  id: string;
  value: string;
}

export function sendIdProperty(sendId: string): GraphExtendedProperty {
  return { id: SEND_ID_PROPERTY_ID, value: sendId };
}

export interface GraphRecipient {
  emailAddress: { address: string; name?: string };
}

export interface GraphFileAttachment {
  '@odata.type': '#microsoft.graph.fileAttachment';
  name: string;
  contentType: string;
  contentBytes: string;
  isInline?: boolean;
  contentId?: string;
}

/**
 * A message as Graph takes it. A new message has every field; the `message` of a reply or
 * forward only the fields that change what Graph builds from the original (the rest are left out).
 */
export interface GraphOutgoingMessage {
  subject?: string;
  body?: { contentType: 'Text' | 'HTML'; content: string };
  toRecipients?: GraphRecipient[];
  ccRecipients?: GraphRecipient[];
  bccRecipients?: GraphRecipient[];
  replyTo?: GraphRecipient[];
  importance?: 'low' | 'normal' | 'high';
  from?: GraphRecipient;
  /** Left out when empty: Graph rejects an empty collection. */
  internetMessageHeaders?: Array<{ name: string; value: string }>;
  singleValueExtendedProperties: GraphExtendedProperty[];
  attachments?: GraphFileAttachment[];
}

/** What we read back about a message to report it and to tell sent from unsent. */
export interface MessageRef {
  id: string;
  internetMessageId: string | null;
  isDraft: boolean;
  /** Tells Sent Items from the Outbox, where a sent draft waits before it leaves. */
  parentFolderId: string | null;
  /** The address a draft goes out as, when it was read (`getMessageRef` with `from`) and is set. */
  from?: string;
}

export interface GraphMessageRef {
  id: string;
  internetMessageId?: string | null;
  isDraft?: boolean;
  parentFolderId?: string | null;
  from?: { emailAddress?: { address?: string } } | null;
}

export const MESSAGE_REF_SELECT = 'id,internetMessageId,isDraft,parentFolderId';

export function toMessageRef(message: GraphMessageRef): MessageRef {
  return {
    id: message.id,
    internetMessageId: message.internetMessageId ?? null,
    isDraft: message.isDraft ?? false,
    parentFolderId: message.parentFolderId ?? null,
    ...(message.from?.emailAddress?.address ? { from: message.from.emailAddress.address } : {}),
  };
}

/** `POST {root}/sendMail`: one request, 202 with no body and no id. */
export async function sendMail(
  graph: MailboxGraph,
  message: GraphOutgoingMessage,
  saveToSentItems: boolean,
): Promise<void> {
  await graph.client.send('POST', `${graph.root}/sendMail`, {
    body: { message, saveToSentItems },
    retry: 'throttle-only',
  });
}

/** `POST {root}/messages/{id}/send`: sends a draft (and saves it to Sent Items). */
export async function sendDraft(graph: MailboxGraph, messageId: string): Promise<void> {
  await graph.client.send('POST', `${graph.root}/messages/${segment(messageId)}/send`, {
    retry: 'throttle-only',
  });
}

/** Where our messages are looked for: Drafts (a draft whose create answer was lost), Sent Items. */
export type MarkedFolder = 'drafts' | 'sentitems';

/** A span of `sentDateTime`: where a lookup in Sent Items may look. */
export interface SentWindow {
  from: Date;
  to: Date;
}

/** An OData DateTimeOffset literal, in whole seconds as Graph writes them. */
const dateLiteral = (at: Date) => at.toISOString().replace(/\.\d{3}Z$/, 'Z');

/**
 * The message in `folder` marked with `sendId`, if it is there (yet), found by Graph's documented
 * extended-property filter (no listing of the folder, so no reliance on its order). `sentWithin`
 * narrows it to messages sent in that span, so Exchange never scans all of a large Sent Items.
 */
export async function findBySendId(
  graph: MailboxGraph,
  folder: MarkedFolder,
  sendId: string,
  sentWithin?: SentWindow,
): Promise<MessageRef | null> {
  const marked =
    `singleValueExtendedProperties/Any(ep: ep/id eq ${stringLiteral(SEND_ID_PROPERTY_ID)}` +
    ` and ep/value eq ${stringLiteral(sendId)})`;
  const filter = sentWithin
    ? `sentDateTime ge ${dateLiteral(sentWithin.from)} and sentDateTime le ${dateLiteral(sentWithin.to)} and ${marked}`
    : marked;
  const result = await graph.client.get<{ value?: GraphMessageRef[] }>(
    `${graph.root}/mailFolders/${folder}/messages`,
    { query: { $filter: filter, $select: MESSAGE_REF_SELECT } },
  );
  const found = result.body?.value?.[0];
  return found ? toMessageRef(found) : null;
}

/** The id of the Sent Items folder (folder ids never change). */
export async function sentItemsFolderId(graph: MailboxGraph): Promise<string> {
  const result = await graph.client.get<{ id: string }>(`${graph.root}/mailFolders/sentitems`, {
    query: { $select: 'id' },
  });
  return result.body.id;
}

/**
 * Whether a failed send may still have gone out: timeouts, lost connections and 5xx answers.
 * Throttling (429), permission and validation answers mean Graph did not send.
 */
export function isUncertainSendFailure(error: unknown): boolean {
  if (!isAppError(error)) return true;
  const known: AppError = error;
  if (isErrorOf(known, UpstreamError)) return known.code === 'graph_unavailable';
  return known.code === 'internal';
}
