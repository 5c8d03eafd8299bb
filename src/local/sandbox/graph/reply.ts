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
  /** replyAll / createReplyAll: every other recipient of the original too. */
  all: boolean;
  /** reply / replyAll send at once (202); createReply / createReplyAll save a draft (201). */
  send: boolean;
}

/** `{comment?, message?}`; both optional, and the body may be empty. */
function replyParameters(
  ctx: GraphContext,
  action: string,
): { comment: string | null; message: MessageInput } {
  if (ctx.req.body.toString('utf8').trim() === '') return { comment: null, message: {} };
  const body = actionParameters(ctx, action, ['comment', 'message']);
  const comment = body.comment ?? body.Comment;
  const message = body.message ?? body.Message;
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
  return { comment: typeof comment === 'string' ? comment : null, message: input };
}

/** Exchange's normalized subject: one prefix of up to three characters and ": " goes (RE:, FW:, AW:). */
const normalizedSubject = (subject: string): string => subject.replace(/^[^\s\d:]{1,3}: /, '');

const display = (r: Recipient): string =>
  escapeHtml(
    r.emailAddress.name
      ? `${r.emailAddress.name} <${r.emailAddress.address}>`
      : r.emailAddress.address,
  );

/** The reply body Exchange writes: the comment, a header block of the original, then its text. */
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
    `<div>${escapeHtml(comment)}</div>\r\n<hr style="display:inline-block;width:98%">\r\n<div id="divRplyFwdMsg">${header.join('<br>\r\n')}</div>\r\n<div>${escapeHtml(text).replace(/\r?\n/g, '<br>\r\n')}</div>`,
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
 * POST /messages/{id}/createReply|createReplyAll (201, a draft in Drafts) and reply|replyAll (202,
 * sent through the Outbox). The reply stays in the original's conversation: same conversationId,
 * conversationIndex extended by one child block.
 */
export function replyToMessage(
  ctx: GraphContext,
  original: StoredMessage,
  action: ReplyAction,
): GraphResponse {
  const name = `${action.send ? 'reply' : 'createReply'}${action.all ? 'All' : ''}`;
  const { comment, message } = replyParameters(ctx, name);
  const input: MessageInput = {
    subject: `RE: ${normalizedSubject(original.subject)}`,
    body: { contentType: 'html', content: quotedBody(original, comment ?? '') },
    ...replyRecipients(ctx, original, action.all),
    ...message,
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
