import { type CredentialService, importBodySchema } from '../credentials/service';
import { type HttpFunctionDefinition } from '../http/definitions';
import { readJson, routeId } from '../http/parse';

/** `PUT credentials/{credentialId}`: import a refresh token, validated by one refresh + `GET /me`. */
export function credentialsPutFunction(credentials: CredentialService): HttpFunctionDefinition {
  return {
    kind: 'http',
    name: 'credentialsPut',
    methods: ['PUT'],
    route: 'credentials/{credentialId}',
    auth: 'caller',
    maxBodyBytes: 64 * 1024,
    async handler({ request, caller, abortSignal }) {
      const credentialId = routeId(request, 'credentialId');
      const { value } = await readJson(request, importBodySchema, { maxBytes: 64 * 1024 });
      const { view, created } = await credentials.importRecord(
        { serviceId: caller.serviceId, credentialId },
        value,
        { abortSignal: abortSignal },
      );
      return {
        status: created ? 201 : 200,
        headers: {
          'cache-control': 'no-store',
          ...(created ? { location: `/api/credentials/${credentialId}` } : {}),
        },
        jsonBody: view,
      };
    },
  };
}
