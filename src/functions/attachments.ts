import * as z from 'zod';

import { type AttachmentReader, contentDisposition } from '../graph/attachments';
import { type CallerInvocation, type HttpFunctionDefinition } from '../http/definitions';
import { credentialKey, mailboxParam, routeGraphId } from '../http/params';
import { parseQuery } from '../http/parse';

const attachmentQuery = z.strictObject({ mailbox: mailboxParam.optional() });

function target(invocation: CallerInvocation) {
  const key = credentialKey(invocation);
  const messageId = routeGraphId(invocation.request, 'messageId');
  const q = parseQuery(invocation.request, attachmentQuery);
  return {
    key,
    messageId,
    options: { mailbox: q.mailbox, abortSignal: invocation.abortSignal, log: invocation.log },
  };
}

/** `GET …/messages/{messageId}/attachments`: every attachment's metadata, no content. */
export function listAttachmentsFunction(deps: {
  attachments: AttachmentReader;
}): HttpFunctionDefinition {
  return {
    kind: 'http',
    name: 'listAttachments',
    methods: ['GET'],
    route: 'credentials/{credentialId}/messages/{messageId}/attachments',
    auth: 'caller',
    async handler(invocation) {
      const { key, messageId, options } = target(invocation);
      const attachments = await deps.attachments.list(key, messageId, options);
      return { status: 200, headers: { 'cache-control': 'no-store' }, jsonBody: { attachments } };
    },
  };
}

/** `GET …/attachments/{attachmentId}/content`: the bytes, streamed through as Graph sends them. */
export function attachmentContentFunction(deps: {
  attachments: AttachmentReader;
}): HttpFunctionDefinition {
  return {
    kind: 'http',
    name: 'attachmentContent',
    methods: ['GET'],
    route: 'credentials/{credentialId}/messages/{messageId}/attachments/{attachmentId}/content',
    auth: 'caller',
    async handler(invocation) {
      const { key, messageId, options } = target(invocation);
      const attachmentId = routeGraphId(invocation.request, 'attachmentId');
      const content = await deps.attachments.open(key, messageId, attachmentId, options);
      const headers: Record<string, string> = {
        'content-type': content.contentType,
        'content-disposition': contentDisposition(content.fileName),
        // The bytes are the sender's: never let a browser sniff them into something active.
        'x-content-type-options': 'nosniff',
        'cache-control': 'private, no-store',
      };
      if (content.contentLength !== undefined) {
        headers['content-length'] = String(content.contentLength);
      }
      return { status: 200, headers, body: content.body };
    },
  };
}
