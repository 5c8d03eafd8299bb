import * as z from 'zod';

import { type MessageReader } from '../graph/messages';
import { type HttpFunctionDefinition } from '../http/definitions';
import { bodyFormatParam, credentialKey, mailboxParam, routeGraphId } from '../http/params';
import { parseQuery } from '../http/parse';

const messageQuery = z.strictObject({
  bodyFormat: bodyFormatParam.optional(),
  mailbox: mailboxParam.optional(),
});

/** `GET credentials/{credentialId}/messages/{messageId}`: one message with its body. */
export function getMessageFunction(deps: { messages: MessageReader }): HttpFunctionDefinition {
  return {
    kind: 'http',
    name: 'getMessage',
    methods: ['GET'],
    route: 'credentials/{credentialId}/messages/{messageId}',
    auth: 'caller',
    async handler(invocation) {
      const key = credentialKey(invocation);
      const messageId = routeGraphId(invocation.request, 'messageId');
      const q = parseQuery(invocation.request, messageQuery);
      const message = await deps.messages.get(key, messageId, {
        body: q.bodyFormat ?? 'html',
        mailbox: q.mailbox,
        abortSignal: invocation.abortSignal,
        log: invocation.log,
      });
      return { status: 200, headers: { 'cache-control': 'no-store' }, jsonBody: message };
    },
  };
}
