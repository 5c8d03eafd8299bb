import * as z from 'zod';

import { type HttpFunctionDefinition } from '../http/definitions';
import { credentialKey } from '../http/params';
import { parseQuery, routeId } from '../http/parse';
import { type SendStatusService } from '../mail/send/status';

const noQuery = z.strictObject({});

/**
 * `GET credentials/{credentialId}/sends/{sendId}`: what became of a send, its message ids once the
 * Sent Items copy has appeared (`resolved: false` until then). 404 for a send id this credential
 * did not send.
 */
export function getSendFunction(status: SendStatusService): HttpFunctionDefinition {
  return {
    kind: 'http',
    name: 'getSend',
    methods: ['GET'],
    route: 'credentials/{credentialId}/sends/{sendId}',
    auth: 'caller',
    async handler(invocation) {
      const key = credentialKey(invocation);
      const sendId = routeId(invocation.request, 'sendId');
      parseQuery(invocation.request, noQuery);
      const send = await status.get(key, sendId, {
        abortSignal: invocation.abortSignal,
        log: invocation.log,
      });
      return { status: 200, headers: { 'cache-control': 'no-store' }, jsonBody: send };
    },
  };
}
