import { PayloadTooLargeError, ValidationError, type FieldError } from '../core/errors';
import {
  attachmentEncodedBytes,
  describeOverLimit,
  MAX_ATTACHMENT_BYTES,
  messageSize,
} from './message-size';
import { type OutgoingMessage } from './send-types';

/**
 * Exchange Online's per-message limits, checked before anything reaches Graph so a message
 * that would be refused fails fast, naming the field (FACTS §2–§4).
 */

/** To + Cc + Bcc per message. */
export const MAX_RECIPIENTS = 500;
/** Custom internet headers per message, all the caller's; names must start with `x-`. */
export const MAX_CUSTOM_HEADERS = 5;
const HEADER_NAME = /^x-[!#$%&'*+.^_`|~0-9A-Za-z-]+$/i;

/** Size is the encoded size Exchange counts (see message-size.ts) against MAX_MESSAGE_SIZE_MB. */
export function checkMessageLimits(
  message: OutgoingMessage,
  maxMessageSizeBytes: number,
  options: { draft?: boolean } = {},
): void {
  const errors: FieldError[] = [];
  const recipientCount = message.to.length + message.cc.length + message.bcc.length;
  // A reply's recipients come from the message it answers; a draft may get them later.
  const replying = message.inResponseTo !== undefined && message.inResponseTo.kind !== 'forward';
  if (recipientCount === 0 && !replying && !options.draft) {
    errors.push({ path: 'to', message: 'at least one recipient is required in to, cc or bcc' });
  } else if (recipientCount > MAX_RECIPIENTS) {
    errors.push({
      path: 'to',
      message: `to, cc and bcc together name ${recipientCount} recipients; Exchange accepts at most ${MAX_RECIPIENTS} per message`,
    });
  }
  const headerNames = Object.keys(message.headers);
  if (headerNames.length > MAX_CUSTOM_HEADERS) {
    errors.push({
      path: 'headers',
      message: `has ${headerNames.length} headers; Graph accepts at most ${MAX_CUSTOM_HEADERS}`,
    });
  }
  // Header names are case-insensitive: `X-A` and `x-a` are one header.
  const seen = new Set<string>();
  for (const name of headerNames) {
    const lower = name.toLowerCase();
    if (seen.has(lower)) {
      errors.push({
        path: `headers.${name}`,
        message: 'repeats another header name (header names are case-insensitive)',
      });
    } else if (!HEADER_NAME.test(name)) {
      errors.push({
        path: `headers.${name}`,
        message: 'custom header names must start with x- (Graph accepts no other headers)',
      });
    } else if (/[\r\n]/.test(message.headers[name]!)) {
      errors.push({ path: `headers.${name}`, message: 'must not contain line breaks' });
    }
    seen.add(lower);
  }
  message.attachments.forEach((attachment, index) => {
    const path = attachment.path ?? `attachments[${index}]`;
    if (attachment.isInline && !attachment.contentId) {
      errors.push({ path: `${path}.contentId`, message: 'is required for an inline attachment' });
    }
  });
  if (errors.length > 0) throw new ValidationError(errors);

  // Exchange checks the encoded message against the limit, so that is what is estimated here.
  const bodyOnly = messageSize({
    subject: message.subject,
    body: message.body,
    recipients: recipientCount,
    attachments: [],
  });
  if (bodyOnly.encodedBytes > maxMessageSizeBytes) {
    throw new PayloadTooLargeError(
      describeOverLimit(bodyOnly, maxMessageSizeBytes),
      maxMessageSizeBytes,
      'body',
      bodyOnly,
    );
  }
  const size = { ...bodyOnly };
  message.attachments.forEach((attachment, index) => {
    const path = attachment.path ?? `attachments[${index}]`;
    if (attachment.size > MAX_ATTACHMENT_BYTES) {
      throw new PayloadTooLargeError(
        `Attachment ${path} (${attachment.name}) has ${attachment.size} bytes; the largest attachment is ${MAX_ATTACHMENT_BYTES} bytes (150 MB).`,
        MAX_ATTACHMENT_BYTES,
        path,
      );
    }
    size.rawBytes += attachment.size;
    size.encodedBytes += attachmentEncodedBytes(attachment.size);
    if (size.encodedBytes > maxMessageSizeBytes) {
      throw new PayloadTooLargeError(
        `With attachment ${path} (${attachment.name}): ${describeOverLimit(size, maxMessageSizeBytes)}`,
        maxMessageSizeBytes,
        path,
        size,
      );
    }
  });
}
