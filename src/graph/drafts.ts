import { isErrorOf, NotFoundError } from '../core/errors';
import { type MailboxGraph, segment } from './client';
import {
  MESSAGE_FIELDS,
  type MessageView,
  type Recipient,
  recipients,
  toMessageView,
} from './messages';
import { type BodyFormat, readPreferHeaders } from './prefer';
import {
  type GraphFileAttachment,
  type GraphMessageRef,
  type GraphOutgoingMessage,
  MESSAGE_REF_SELECT,
  type MessageRef,
  toMessageRef,
} from './send';

/** Draft operations for the draft → attach → send flow (large attachments). */

/**
 * `POST {root}/messages` → 201 with the draft; its immutable id (the client asks for immutable ids
 * on every request) survives the move to Sent Items.
 */
export async function createDraft(
  graph: MailboxGraph,
  message: GraphOutgoingMessage,
): Promise<MessageRef> {
  const result = await graph.client.json<GraphMessageRef>('POST', `${graph.root}/messages`, {
    body: message,
    retry: 'throttle-only',
  });
  return toMessageRef(result.body);
}

/** `POST …/messages/{id}/attachments`: one file under 3 MB, in a request within Graph's 4 MB. */
export async function addFileAttachment(
  graph: MailboxGraph,
  messageId: string,
  attachment: GraphFileAttachment,
): Promise<void> {
  await graph.client.send('POST', `${graph.root}/messages/${segment(messageId)}/attachments`, {
    body: attachment,
    retry: 'throttle-only',
  });
}

/** `PATCH {root}/messages/{id}`: changes fields of a draft (the same PATCH is safe to repeat). */
export async function updateDraft(
  graph: MailboxGraph,
  messageId: string,
  fields: Partial<GraphOutgoingMessage>,
): Promise<void> {
  await graph.client.send('PATCH', `${graph.root}/messages/${segment(messageId)}`, {
    body: fields,
    retry: 'idempotent',
  });
}

/**
 * The message's state by (immutable) id, or null when it does not exist (any more); `from` reads
 * the address a draft goes out as too.
 */
export async function getMessageRef(
  graph: MailboxGraph,
  messageId: string,
  options: { from?: boolean } = {},
): Promise<MessageRef | null> {
  try {
    const result = await graph.client.get<GraphMessageRef>(
      `${graph.root}/messages/${segment(messageId)}`,
      {
        query: { $select: options.from ? `${MESSAGE_REF_SELECT},from` : MESSAGE_REF_SELECT },
      },
    );
    return toMessageRef(result.body);
  } catch (error) {
    if (isErrorOf(error, NotFoundError)) return null;
    throw error;
  }
}

/** The ids of a message's attachments (`GET …/attachments?$select=id`, every page). */
export async function attachmentIds(graph: MailboxGraph, messageId: string): Promise<string[]> {
  const ids: string[] = [];
  let url: string | undefined = `${graph.root}/messages/${segment(messageId)}/attachments`;
  let query: Record<string, string> | undefined = { $select: 'id' };
  // A message holds at most a few hundred attachments; the page count is bounded with it.
  for (let page = 0; url !== undefined && page < 50; page++) {
    const result: { body: { value?: Array<{ id?: unknown }>; '@odata.nextLink'?: string } } =
      await graph.client.get(url, query ? { query } : {});
    for (const a of result.body.value ?? []) if (typeof a.id === 'string') ids.push(a.id);
    const next = result.body['@odata.nextLink'];
    url = typeof next === 'string' ? graph.client.nextLinkPath(next) : undefined;
    query = undefined;
  }
  return ids;
}

/** `DELETE {root}/messages/{id}/attachments/{attachmentId}`; one already gone is fine. */
export async function deleteAttachment(
  graph: MailboxGraph,
  messageId: string,
  attachmentId: string,
): Promise<void> {
  try {
    await graph.client.send(
      'DELETE',
      `${graph.root}/messages/${segment(messageId)}/attachments/${segment(attachmentId)}`,
      { retry: 'idempotent' },
    );
  } catch (error) {
    if (!isErrorOf(error, NotFoundError)) throw error;
  }
}

/** `DELETE {root}/messages/{id}`; a message that is already gone is fine. */
export async function deleteMessage(graph: MailboxGraph, messageId: string): Promise<void> {
  try {
    await graph.client.send('DELETE', `${graph.root}/messages/${segment(messageId)}`, {
      retry: 'idempotent',
    });
  } catch (error) {
    if (!isErrorOf(error, NotFoundError)) throw error;
  }
}

/** A draft as callers see it: the message view plus what only a draft has to review (Bcc). */
export type DraftView = MessageView & {
  bccRecipients: Recipient[];
  isDraft: boolean;
};

/** `GET {root}/messages/{id}` with the draft's fields and body, or null when it does not exist. */
export async function readDraft(
  graph: MailboxGraph,
  messageId: string,
  body: BodyFormat,
): Promise<DraftView | null> {
  try {
    const result = await graph.client.get<Record<string, unknown>>(
      `${graph.root}/messages/${segment(messageId)}`,
      {
        query: { $select: [...MESSAGE_FIELDS, 'body', 'bccRecipients', 'isDraft'].join(',') },
        headers: readPreferHeaders(body),
      },
    );
    const raw = result.body;
    return {
      ...toMessageView(raw, MESSAGE_FIELDS, true),
      bccRecipients: recipients(raw.bccRecipients),
      isDraft: raw.isDraft === true,
    };
  } catch (error) {
    if (isErrorOf(error, NotFoundError)) return null;
    throw error;
  }
}
