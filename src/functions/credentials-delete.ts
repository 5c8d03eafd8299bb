import { type CredentialService } from '../credentials/service';
import { type HttpFunctionDefinition } from '../http/definitions';
import { routeId } from '../http/parse';

/** `DELETE credentials/{credentialId}`: disconnect (Key Vault soft delete); 404 when absent. */
export function credentialsDeleteFunction(credentials: CredentialService): HttpFunctionDefinition {
  return {
    kind: 'http',
    name: 'credentialsDelete',
    methods: ['DELETE'],
    route: 'credentials/{credentialId}',
    auth: 'caller',
    async handler({ request, caller, abortSignal }) {
      const credentialId = routeId(request, 'credentialId');
      await credentials.delete(
        { serviceId: caller.serviceId, credentialId },
        { abortSignal: abortSignal },
      );
      return { status: 204 };
    },
  };
}
