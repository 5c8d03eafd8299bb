import { type AppError, isAppError, UpstreamError } from '../errors';
import { type MailboxGraph, segment } from './client';

/**
 * Graph operations that send mail. Neither `sendMail` nor `/send` is idempotent and a 5xx or a
 * lost answer can hide a send that happened, so both go out with retries on 429 only (Graph
 * answers 429 before doing anything) and every message carries a send id to look it up by.
 */

/** Asks Graph for ids that survive moves (the draft's id is still valid in Sent Items). */
export const IMMUTABLE_ID_HEADERS = { prefer: 'IdType="ImmutableId"' } as const;

/**
 * The internet header that marks our messages with their send id. A header rather than an
 * extended property: it needs nothing beyond `internetMessageHeaders` (which every Graph mail
 * client uses) to write and read back, and it travels with the message, so recipients' systems
 * can de-duplicate on it too.
 */
export const SEND_ID_HEADER = 'x-omf-send-id';
/** How many of a folder's newest messages a lookup by send id reads. */
const LOOKUP_WINDOW = 50;

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

export interface GraphOutgoingMessage {
  subject: string;
  body: { contentType: 'Text' | 'HTML'; content: string };
  toRecipients: GraphRecipient[];
  ccRecipients: GraphRecipient[];
  bccRecipients: GraphRecipient[];
  replyTo: GraphRecipient[];
  importance: 'low' | 'normal' | 'high';
  from?: GraphRecipient;
  /** Left out when empty: Graph rejects an empty collection. */
  internetMessageHeaders?: Array<{ name: string; value: string }>;
  attachments?: GraphFileAttachment[];
}

/** What we read back about a message to report it and to tell sent from unsent. */
export interface MessageRef {
  id: string;
  internetMessageId: string | null;
  isDraft: boolean;
  /** Tells Sent Items from the Outbox, where a sent draft waits before it leaves. */
  parentFolderId: string | null;
}

export interface GraphMessageRef {
  id: string;
  internetMessageId?: string | null;
  isDraft?: boolean;
  parentFolderId?: string | null;
}

export const MESSAGE_REF_SELECT = 'id,internetMessageId,isDraft,parentFolderId';

export function toMessageRef(message: GraphMessageRef): MessageRef {
  return {
    id: message.id,
    internetMessageId: message.internetMessageId ?? null,
    isDraft: message.isDraft ?? false,
    parentFolderId: message.parentFolderId ?? null,
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

/**
 * The message in `folder` marked with `sendId`, if it is there (yet). Graph cannot filter on
 * internet headers, so the folder's newest messages are read with their headers and matched.
 */
export async function findBySendId(
  graph: MailboxGraph,
  folder: MarkedFolder,
  sendId: string,
): Promise<MessageRef | null> {
  const result = await graph.client.get<{
    value?: Array<
      GraphMessageRef & { internetMessageHeaders?: Array<{ name: string; value: string }> }
    >;
  }>(`${graph.root}/mailFolders/${folder}/messages`, {
    query: {
      $select: `${MESSAGE_REF_SELECT},internetMessageHeaders`,
      $top: LOOKUP_WINDOW,
    },
    headers: IMMUTABLE_ID_HEADERS,
  });
  const found = result.body?.value?.find((m) =>
    m.internetMessageHeaders?.some(
      (h) => h.name.toLowerCase() === SEND_ID_HEADER && h.value.trim() === sendId,
    ),
  );
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
  if (known instanceof UpstreamError) return known.code === 'graph_unavailable';
  return known.code === 'internal';
}
