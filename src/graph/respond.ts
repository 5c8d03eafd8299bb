import { type MailboxGraph, segment } from './client';
import {
  type GraphMessageRef,
  type GraphOutgoingMessage,
  type GraphRecipient,
  type MessageRef,
  toMessageRef,
} from './send';

/**
 * Answers to an existing message: `reply`, `replyAll` and `forward` (202, sent at once, saved to
 * Sent Items) and their `create…` twins (201, a draft in Drafts to fill and `/send`). Graph builds
 * the subject, recipients, conversation and quoted original from the message answered; `comment`
 * goes above the quote, `message` adds what the caller sets (Cc, Bcc, files, our send id).
 * Like `sendMail`, the sending actions are not idempotent: retried on 429 only.
 */

export type ResponseKind = 'reply' | 'replyAll' | 'forward';

export interface GraphResponse {
  comment: string;
  /** Never with a `body`: Graph refuses a comment and a body together (400). */
  message: GraphOutgoingMessage;
  /** forward only: who it goes to. */
  toRecipients?: GraphRecipient[];
}

const CREATE: Record<ResponseKind, string> = {
  reply: 'createReply',
  replyAll: 'createReplyAll',
  forward: 'createForward',
};

/** `POST {root}/messages/{id}/reply|replyAll|forward` → 202, no body. */
export async function sendResponse(
  graph: MailboxGraph,
  messageId: string,
  kind: ResponseKind,
  response: GraphResponse,
): Promise<void> {
  await graph.client.send('POST', `${graph.root}/messages/${segment(messageId)}/${kind}`, {
    body: response,
    retry: 'throttle-only',
  });
}

/** The draft a `create…` action answers, with the recipients Graph chose. */
export interface ResponseDraft extends MessageRef {
  ccRecipients: GraphRecipient[];
}

/** `POST {root}/messages/{id}/createReply|createReplyAll|createForward` → 201 with the draft. */
export async function createResponseDraft(
  graph: MailboxGraph,
  messageId: string,
  kind: ResponseKind,
  response: GraphResponse,
): Promise<ResponseDraft> {
  const result = await graph.client.json<GraphMessageRef & { ccRecipients?: GraphRecipient[] }>(
    'POST',
    `${graph.root}/messages/${segment(messageId)}/${CREATE[kind]}`,
    { body: response, retry: 'throttle-only' },
  );
  return { ...toMessageRef(result.body), ccRecipients: result.body.ccRecipients ?? [] };
}
