import { createHash } from 'node:crypto';

import * as z from 'zod';

import { MESSAGE_FIELDS, type MessageReader } from '../graph/messages';
import { parseQuery, queryBoolean } from '../http/parse';
import {
  bodyFormatParam,
  credentialKey,
  cursorParam,
  mailboxParam,
  routeGraphId,
  topParam,
} from '../http/params';
import { type HttpFunctionDefinition } from '../http/definitions';

const conversationQuery = z
  .strictObject({
    top: topParam.optional(),
    cursor: cursorParam.optional(),
    includeBody: queryBoolean.optional(),
    bodyFormat: bodyFormatParam.optional(),
    mailbox: mailboxParam.optional(),
  })
  .refine((q) => !(q.includeBody === false && q.bodyFormat !== undefined), {
    path: ['includeBody'],
    message: 'is false, but bodyFormat asks for the body',
  });

/**
 * `GET credentials/{credentialId}/conversations/{conversationId}/messages`: a thread across every
 * folder, oldest first, with the same signed cursor as message listings (a cursor is bound to its
 * conversation).
 */
export function conversationMessagesFunction(deps: {
  messages: MessageReader;
}): HttpFunctionDefinition {
  return {
    kind: 'http',
    name: 'conversationMessages',
    methods: ['GET'],
    route: 'credentials/{credentialId}/conversations/{conversationId}/messages',
    auth: 'caller',
    async handler(invocation) {
      const key = credentialKey(invocation);
      const conversationId = routeGraphId(invocation.request, 'conversationId');
      const q = parseQuery(invocation.request, conversationQuery);
      const options = {
        mailbox: q.mailbox,
        abortSignal: invocation.abortSignal,
        log: invocation.log,
        // Binds cursors to this conversation: one from another listing is refused.
        queryFingerprint: createHash('sha256')
          .update(`conversation:${conversationId}`)
          .digest('base64url')
          .slice(0, 32),
      };
      const wantsBody = q.includeBody === true || q.bodyFormat !== undefined;
      const page =
        q.cursor !== undefined
          ? await deps.messages.resume(key, q.cursor, options)
          : await deps.messages.list(
              key,
              {
                top: q.top ?? 25,
                fields: MESSAGE_FIELDS,
                body: wantsBody ? (q.bodyFormat ?? 'html') : undefined,
                oldestFirst: true,
                filters: { conversationId },
              },
              options,
            );
      return { status: 200, headers: { 'cache-control': 'no-store' }, jsonBody: page };
    },
  };
}
