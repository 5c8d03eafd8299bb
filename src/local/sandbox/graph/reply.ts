import { badRequest, type GraphResponse } from '../errors';
import type { GraphContext } from '../state';
import { childConversationIndex, type Recipient, type StoredMessage } from '../store';
import { isRecord } from '../util';
import { escapeHtml, htmlToText, wrapHtml } from '../views';
import { actionParameters } from './helpers';
import type { MessageInput } from './message-input';
import { applyInput, entityResponse, newDraft, readMessagePayload } from './messages';
import { sendNew } from './send';

export interface ReplyAction {
  /** reply: the author; replyAll: every other recipient too; forward: recipients the caller names. */
  kind: 'reply' | 'replyAll' | 'forward';
  /** reply / replyAll / forward send at once (202); the create* actions save a draft (201). */
  send: boolean;
}

/** `{comment?, message?}` (forward also `toRecipients?`); the body may be empty. */
function actionInput(
  ctx: GraphContext,
  action: string,
  forward: boolean,
): { comment: string | null; message: MessageInput; toRecipients: Recipient[] | null } {
  if (ctx.req.body.toString('utf8').trim() === '')
    return { comment: null, message: {}, toRecipients: null };
  const names = forward ? ['comment', 'toRecipients', 'message'] : ['comment', 'message'];
  const body = actionParameters(ctx, action, names);
  const pick = (name: string): unknown =>
    Object.entries(body).find(([k]) => k.toLowerCase() === name.toLowerCase())?.[1];
  const comment = pick('comment');
  const message = pick('message');
  if (comment !== undefined && comment !== null && typeof comment !== 'string')
    throw badRequest("Invalid value for parameter 'Comment'.", 'RequestBodyRead');
  if (message !== undefined && message !== null && !isRecord(message))
    throw badRequest("Invalid value for parameter 'Message'.", 'RequestBodyRead');
  const input = isRecord(message) ? readMessagePayload(message) : {};
  // The docs: "You can specify either a comment or the body property of the message parameter.
  // Specifying both will return an HTTP 400 Bad Request error."
  if (typeof comment === 'string' && input.body)
    throw badRequest(
      "Only one of 'Comment' and the message body can be specified.",
      'ErrorInvalidRequest',
    );
  let toRecipients: Recipient[] | null = null;
  if (forward) {
    const raw = pick('toRecipients');
    toRecipients = raw === undefined || raw === null ? null : recipientList(raw);
    // The forward docs: toRecipients as a parameter or in the message, never both, never neither.
    const inMessage = (input.toRecipients?.length ?? 0) > 0;
    if ((toRecipients !== null && toRecipients.length > 0) === inMessage)
      throw badRequest(
        "Specify the recipients either in 'ToRecipients' or in the message's toRecipients.",
        'ErrorInvalidRecipients',
      );
  }
  return { comment: typeof comment === 'string' ? comment : null, message: input, toRecipients };
}

function recipientList(raw: unknown): Recipient[] {
  const parsed = readMessagePayload({ toRecipients: raw }).toRecipients;
  return parsed ?? [];
}

/** Exchange's normalized subject: one prefix of up to three characters and ": " goes (RE:, FW:, AW:). */
const normalizedSubject = (subject: string): string => subject.replace(/^[^\s\d:]{1,3}: /, '');

const display = (r: Recipient): string =>
  escapeHtml(
    r.emailAddress.name
      ? `${r.emailAddress.name} <${r.emailAddress.address}>`
      : r.emailAddress.address,
  );

/**
 * The reply body Exchange writes: the comment, a header block of the original, then its text.
 * The comment goes in as HTML (Exchange renders `<br>`, `<b>` in it; plain line breaks collapse).
 */
function quotedBody(original: StoredMessage, comment: string): string {
  const from = original.from ?? original.sender;
  const text =
    original.body.contentType === 'html'
      ? htmlToText(original.body.content)
      : original.body.content;
  const header = [
    from ? `<b>From:</b> ${display(from)}` : null,
    original.sentMs === null ? null : `<b>Sent:</b> ${new Date(original.sentMs).toUTCString()}`,
    `<b>To:</b> ${original.toRecipients.map(display).join('; ')}`,
    original.ccRecipients.length > 0
      ? `<b>Cc:</b> ${original.ccRecipients.map(display).join('; ')}`
      : null,
    `<b>Subject:</b> ${escapeHtml(original.subject)}`,
  ].filter((line) => line !== null);
  return wrapHtml(
    `<div>${comment}</div>\r\n<hr style="display:inline-block;width:98%">\r\n<div id="divRplyFwdMsg">${header.join('<br>\r\n')}</div>\r\n<div>${escapeHtml(text).replace(/\r?\n/g, '<br>\r\n')}</div>`,
  );
}

/** Who a reply goes to: Reply-To or the sender; reply-all adds the other To and Cc recipients. */
function replyRecipients(
  ctx: GraphContext,
  original: StoredMessage,
  all: boolean,
): Pick<MessageInput, 'toRecipients' | 'ccRecipients'> {
  const author =
    original.replyTo.length > 0
      ? [...original.replyTo]
      : [original.from ?? original.sender].filter((r) => r !== null);
  if (!all) return { toRecipients: author };
  const seen = new Set([ctx.mailbox.user.mail.toLowerCase()]);
  const fresh = (list: readonly Recipient[]): Recipient[] =>
    list.filter((r) => {
      const address = r.emailAddress.address.toLowerCase();
      if (seen.has(address)) return false;
      seen.add(address);
      return true;
    });
  return {
    toRecipients: fresh([...author, ...original.toRecipients]),
    ccRecipients: fresh(original.ccRecipients),
  };
}

/**
 * POST /messages/{id}/createReply|createReplyAll|createForward (201, a draft in Drafts) and
 * reply|replyAll|forward (202, sent through the Outbox). The answer stays in the original's
 * conversation: same conversationId, conversationIndex extended by one child block. A forward
 * carries the original's attachments, as Graph's forward does.
 */
export function replyToMessage(
  ctx: GraphContext,
  original: StoredMessage,
  action: ReplyAction,
): GraphResponse {
  const forward = action.kind === 'forward';
  const base = forward ? 'forward' : action.kind === 'replyAll' ? 'replyAll' : 'reply';
  const name = action.send ? base : `create${base[0]!.toUpperCase()}${base.slice(1)}`;
  const { comment, message, toRecipients } = actionInput(ctx, name, forward);
  const carried = forward
    ? original.attachments.map(({ id: _id, lastModifiedMs: _at, ...a }) => a)
    : [];
  const input: MessageInput = {
    subject: `${forward ? 'FW' : 'RE'}: ${normalizedSubject(original.subject)}`,
    body: { contentType: 'html', content: quotedBody(original, comment ?? '') },
    ...(forward
      ? { toRecipients: toRecipients ?? [] }
      : replyRecipients(ctx, original, action.kind === 'replyAll')),
    ...message,
    attachments: [...carried, ...(message.attachments ?? [])],
  };
  const thread = {
    conversationId: original.conversationId,
    conversationIndex: childConversationIndex(original.conversationIndex, ctx.mailbox.nextKey),
  };
  if (action.send) return sendNew(ctx, input, true, thread);
  const draft = newDraft(ctx, ctx.mailbox.wellKnown.get('drafts')!, thread);
  applyInput(ctx, draft, input);
  return entityResponse(ctx, draft, 201);
}
