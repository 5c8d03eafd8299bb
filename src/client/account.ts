import { withRetries } from './retry';
import {
  type CallOptions,
  type Friendly,
  type JsonBody,
  type Query,
  type Transport,
  urlQuery,
} from './transport';

/** A credential itself: its view, import and disconnect, the connect link, identities, signature. */
export function accountCalls({ api, call, policy }: Transport, credentialId: string) {
  const path = { credentialId };
  return {
    credentialId,
    /** The credential's public view (status, account, scopes). */
    get: (o?: CallOptions) =>
      call((signal) => api.GET('/credentials/{credentialId}', { params: { path }, signal }), o),
    /** Imports a refresh token (validated by one refresh; nothing stored when it fails). */
    import: (record: JsonBody<'importCredential'>, o?: CallOptions) =>
      call(
        (signal) =>
          api.PUT('/credentials/{credentialId}', { params: { path }, body: record, signal }),
        o,
      ),
    disconnect: (o?: CallOptions) =>
      call((signal) => api.DELETE('/credentials/{credentialId}', { params: { path }, signal }), o),
    /** The Microsoft sign-in link for the mailbox owner (the route's 302, not followed). */
    connectUrl: async (query: Query<'connectCredential'> = {}, o?: CallOptions) => {
      const response = await withRetries(
        async () => {
          const { response, error } = await api.GET('/credentials/{credentialId}/connect', {
            params: { path, query },
            redirect: 'manual',
            signal: o?.abortSignal ?? null,
          });
          // A redirect is this route's success: hand it on as one.
          return response.status === 302
            ? { data: response.headers.get('location'), response: new Response(null) }
            : { error, response };
        },
        { policy, abortSignal: o?.abortSignal },
      );
      return response.data!;
    },

    /** The addresses the credential may send as: primary, aliases, shared mailboxes. */
    identities: (query: Friendly<Query<'listIdentities'>> = {}, o?: CallOptions) =>
      call(
        (signal) =>
          api.GET('/credentials/{credentialId}/identities', {
            params: { path, query: urlQuery(query) },
            signal,
          }),
        o,
      ),
    /** The credential's signature, or with `from` an alias's own. */
    getSignature: (query: Query<'getSignature'> = {}, o?: CallOptions) =>
      call(
        (signal) =>
          api.GET('/credentials/{credentialId}/signature', { params: { path, query }, signal }),
        o,
      ),
    putSignature: (
      signature: JsonBody<'putSignature'>,
      query: Query<'putSignature'> = {},
      o?: CallOptions,
    ) =>
      call(
        (signal) =>
          api.PUT('/credentials/{credentialId}/signature', {
            params: { path, query },
            body: signature,
            signal,
          }),
        o,
      ),
    deleteSignature: (query: Query<'deleteSignature'> = {}, o?: CallOptions) =>
      call(
        (signal) =>
          api.DELETE('/credentials/{credentialId}/signature', {
            params: { path, query },
            signal,
          }),
        o,
      ),
  };
}
