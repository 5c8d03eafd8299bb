import { type CredentialService } from '../credentials/service';
import { type HttpFunctionDefinition } from '../http/definitions';

/** `GET credentials`: the caller's service's credentials, public view only (read from tags). */
export function credentialsListFunction(credentials: CredentialService): HttpFunctionDefinition {
  return {
    kind: 'http',
    name: 'credentialsList',
    methods: ['GET'],
    route: 'credentials',
    auth: 'caller',
    async handler({ caller, abortSignal }) {
      const list = await credentials.list(caller.serviceId, { abortSignal: abortSignal });
      return {
        status: 200,
        headers: { 'cache-control': 'no-store' },
        jsonBody: { credentials: list },
      };
    },
  };
}
