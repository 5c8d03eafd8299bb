import * as z from 'zod';

import { emailAddress } from '../core/validators';
import { type CredentialService } from '../credentials/service';
import { type HttpFunctionDefinition } from '../http/definitions';
import { parseQuery, routeId } from '../http/parse';

const querySchema = z.strictObject({
  loginHint: emailAddress('must be a mailbox address').optional(),
});

/** `GET credentials/{credentialId}/connect`: 302 to the Microsoft authorize URL (code + PKCE). */
export function credentialsConnectFunction(credentials: CredentialService): HttpFunctionDefinition {
  return {
    kind: 'http',
    name: 'credentialsConnect',
    methods: ['GET'],
    route: 'credentials/{credentialId}/connect',
    auth: 'caller',
    async handler({ request, caller, abortSignal }) {
      const credentialId = routeId(request, 'credentialId');
      const query = parseQuery(request, querySchema);
      const location = await credentials.connectUrl(
        { serviceId: caller.serviceId, credentialId },
        {
          ...(query.loginHint ? { loginHint: query.loginHint } : {}),
          abortSignal,
        },
      );
      return {
        status: 302,
        headers: { location, 'cache-control': 'no-store', 'referrer-policy': 'no-referrer' },
      };
    },
  };
}
