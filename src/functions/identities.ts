import * as z from 'zod';

import { type HttpFunctionDefinition } from '../http/definitions';
import { credentialKey } from '../http/params';
import { parseQuery, queryBoolean } from '../http/parse';
import { type Identity } from '../mail/identity';

const identitiesQuery = z.strictObject({ refresh: queryBoolean.default(false) });

/**
 * `GET credentials/{credentialId}/identities`: the addresses the credential may send as — primary,
 * aliases (Graph's proxyAddresses), configured shared mailboxes. Cached per credential for a few
 * minutes; `?refresh=true` reads Graph again.
 */
export function identitiesFunction(identity: Identity): HttpFunctionDefinition {
  return {
    kind: 'http',
    name: 'identities',
    methods: ['GET'],
    route: 'credentials/{credentialId}/identities',
    auth: 'caller',
    async handler(invocation) {
      const key = credentialKey(invocation);
      const { refresh } = parseQuery(invocation.request, identitiesQuery);
      const identities = await identity.identities.get(key, {
        refresh,
        abortSignal: invocation.abortSignal,
        log: invocation.log,
      });
      return { status: 200, headers: { 'cache-control': 'no-store' }, jsonBody: identities };
    },
  };
}
