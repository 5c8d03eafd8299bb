import { createHash } from 'node:crypto';

import type { HttpRequest } from '@azure/functions';

import { type FieldError, UnsupportedMediaTypeError, ValidationError } from '../core/errors';
import { type AttachmentInput } from '../mail/send-types';
import { mediaType, readJson } from './parse';
import { readMultipartMessage } from './send-multipart';
import {
  base64Attachment,
  maxJsonBodyBytes,
  type MessageRequest,
  type MessageRequestShape,
  type ParsedSendRequest,
  type ReadSendRequestOptions,
  type SendRequest,
  sendMessage,
  sendRequestSchema,
} from './send-request';

/**
 * Requests carrying a message (send, reply, forward): JSON with base64 attachments, or
 * multipart/form-data with a `message` JSON part and streamed file parts (`send-multipart.ts`).
 */

function jsonAttachments(request: MessageRequest): AttachmentInput[] {
  const multipartOnly = 'which only a multipart/form-data request has';
  const errors = request.attachments.flatMap((entry, index): FieldError[] =>
    entry.file === undefined
      ? []
      : [
          {
            path: `attachments[${index}].file`,
            message: `refers to a file part, ${multipartOnly}`,
          },
        ],
  );
  if (request.fileSizes !== undefined) {
    errors.push({
      path: 'fileSizes',
      message: `declares the sizes of file parts, ${multipartOnly}`,
    });
  }
  if (errors.length > 0) throw new ValidationError(errors);
  return request.attachments.map(base64Attachment);
}

const SEND_SHAPE: MessageRequestShape<SendRequest> = {
  schema: sendRequestSchema,
  toMessage: sendMessage,
};

/**
 * Reads and checks a request carrying a message (send, reply, forward) in either encoding: JSON
 * with base64 files, or multipart with a `message` part and streamed files; 415 for anything else.
 */
export async function readMessageRequest<T extends MessageRequest>(
  request: HttpRequest,
  shape: MessageRequestShape<T>,
  options: ReadSendRequestOptions,
): Promise<ParsedSendRequest> {
  const type = mediaType(request);
  if (type === 'multipart/form-data') return readMultipartMessage(request, shape, options);
  if (type !== 'application/json' && !type.endsWith('+json')) {
    throw new UnsupportedMediaTypeError(
      'Send the message as application/json, or as multipart/form-data with a message part and file parts.',
    );
  }
  const { value, bytes } = await readJson(request, shape.schema, {
    maxBytes: maxJsonBodyBytes(options.maxMessageSizeBytes),
  });
  return {
    message: shape.toMessage(value, jsonAttachments(value)),
    fingerprint: createHash('sha256').update(bytes).digest('hex'),
    dispose: async () => {},
  };
}

/** Reads and checks a send request in either encoding. */
export function readSendRequest(
  request: HttpRequest,
  options: ReadSendRequestOptions,
): Promise<ParsedSendRequest> {
  return readMessageRequest(request, SEND_SHAPE, options);
}
