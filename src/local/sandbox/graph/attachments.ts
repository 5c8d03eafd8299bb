import { badRequest, GraphError, type GraphResponse } from '../errors';
import type { GraphContext } from '../state';
import { newAttachment, type StoredAttachment, type StoredMessage } from '../store';
import { type AttachmentItem } from '../uploads';
import { asText, isRecord } from '../util';
import { ATTACHMENT_PROPERTIES, attachmentView, contextUrl, parseSelect } from '../views';
import { jsonBody, noContent, ok } from './helpers';
import { attachmentInput } from './message-input';
import { renderItemMime } from './messages';

function findAttachment(m: StoredMessage, id: string): StoredAttachment {
  const a = m.attachments.find((x) => x.id === id);
  if (!a)
    throw new GraphError(
      404,
      'ErrorItemNotFound',
      'The specified object was not found in the store.',
    );
  return a;
}

function attachmentSelect(ctx: GraphContext) {
  return parseSelect(
    ctx.req.query.get('$select'),
    ATTACHMENT_PROPERTIES,
    'microsoft.graph.attachment',
  );
}

export function listAttachments(ctx: GraphContext, m: StoredMessage): GraphResponse {
  const select = attachmentSelect(ctx);
  return ok({
    '@odata.context': contextUrl(
      ctx.state.origin(),
      ctx.mailbox,
      `messages('${m.restId}')/attachments`,
    ),
    value: m.attachments.map((a) => attachmentView(a, select, true)),
  });
}

export function getAttachment(ctx: GraphContext, m: StoredMessage, id: string): GraphResponse {
  const select = attachmentSelect(ctx);
  return ok({
    '@odata.context': contextUrl(
      ctx.state.origin(),
      ctx.mailbox,
      `messages('${m.restId}')/attachments/$entity`,
    ),
    ...attachmentView(findAttachment(m, id), select, true),
  });
}

/** `$value`: file bytes as stored, an item attachment as message/rfc822 MIME. */
export function getAttachmentValue(m: StoredMessage, id: string): GraphResponse {
  const a = findAttachment(m, id);
  return {
    status: 200,
    headers: {
      'Content-Type':
        a.kind === 'item' ? 'message/rfc822' : (a.contentType ?? 'application/octet-stream'),
    },
    raw: a.bytes,
  };
}

export function deleteAttachment(ctx: GraphContext, m: StoredMessage, id: string): GraphResponse {
  const a = findAttachment(m, id);
  m.attachments = m.attachments.filter((x) => x !== a);
  ctx.state.store.touch(ctx.mailbox, m);
  return noContent();
}

/** POST attachments: one attachment under 3 MB in a request under 4 MB (the body limit answers 413 first). */
export function addAttachment(ctx: GraphContext, m: StoredMessage): GraphResponse {
  const input = attachmentInput(jsonBody(ctx), renderItemMime);
  if (input.bytes.length >= ctx.state.limits.limits.minUploadSessionBytes) {
    throw new GraphError(
      413,
      'ErrorAttachmentSizeLimitExceeded',
      'The attachment is too large for a single request; use an upload session for attachments of 3 MB or more.',
    );
  }
  const attachment = newAttachment(input, m.immutableId, m.attachments.length);
  m.attachments = [...m.attachments, attachment];
  ctx.state.store.touch(ctx.mailbox, m);
  const view = attachmentView(attachment, null, true);
  return ok(
    {
      '@odata.context': contextUrl(
        ctx.state.origin(),
        ctx.mailbox,
        `messages('${m.restId}')/attachments/$entity`,
      ),
      ...view,
    },
    201,
  );
}

export function parseAttachmentItem(ctx: GraphContext): AttachmentItem {
  const body = jsonBody(ctx);
  const item = body.AttachmentItem ?? body.attachmentItem;
  if (!isRecord(item))
    throw badRequest(
      "The parameter 'AttachmentItem' is missing or invalid.",
      'ErrorInvalidParameter',
    );
  if (item.attachmentType !== undefined && asText(item.attachmentType).toLowerCase() !== 'file') {
    throw badRequest(
      `Attachment type '${asText(item.attachmentType)}' is not supported for upload sessions on messages.`,
      'ErrorInvalidParameter',
    );
  }
  if (typeof item.name !== 'string' || item.name === '')
    throw badRequest("The attachment 'name' is required.", 'ErrorInvalidParameter');
  if (typeof item.size !== 'number' || !Number.isInteger(item.size) || item.size < 0) {
    throw badRequest(
      "The attachment 'size' is required and must be a non-negative integer.",
      'ErrorInvalidParameter',
    );
  }
  const limits = ctx.state.limits.limits;
  if (item.size < limits.minUploadSessionBytes) {
    throw badRequest(
      'Attachment size must be greater than the minimum size.',
      'ErrorAttachmentSizeShouldNotBeLessThanMinimumSize',
    );
  }
  if (item.size > limits.maxAttachmentBytes) {
    throw badRequest(
      `The attachment size ${item.size} exceeds the maximum allowed size of ${limits.maxAttachmentBytes} bytes.`,
      'ErrorAttachmentSizeLimitExceeded',
    );
  }
  return {
    name: item.name,
    size: item.size,
    contentType: typeof item.contentType === 'string' ? item.contentType : null,
    isInline: item.isInline === true,
    contentId: typeof item.contentId === 'string' ? item.contentId : null,
  };
}
