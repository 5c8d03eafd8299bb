import { type CredentialService } from '../credentials/service';
import { type HttpFunctionDefinition } from '../http/definitions';
import { routeId } from '../http/parse';

/** `GET credentials/{credentialId}`: one public view; another service's credential is a 404. */
export function credentialsGetFunction(credentials: CredentialService): HttpFunctionDefinition {
  return {
    kind: 'http',
    name: 'credentialsGet',
    methods: ['GET'],
    route: 'credentials/{credentialId}',
    auth: 'caller',
    async handler({ request, caller, abortSignal }) {
      const credentialId = routeId(request, 'credentialId');
      const view = await credentials.get(
        { serviceId: caller.serviceId, credentialId },
        { abortSignal: abortSignal },
      );
      return { status: 200, headers: { 'cache-control': 'no-store' }, jsonBody: view };
    },
  };
}
