import * as z from 'zod';

import { type CredentialService } from '../credentials/service';
import { type HttpFunctionDefinition } from '../http/definitions';
import { credentialKey, mailboxParam } from '../http/params';
import { parseQuery, readJson } from '../http/parse';
import { type Identity, signatureInputSchema, signatureView } from '../mail/identity';
import { SIGNATURE_BODY_BYTES } from '../mail/identity/signatures';

const signatureQuery = z.strictObject({ from: mailboxParam.optional() });

/**
 * `PUT/GET/DELETE credentials/{credentialId}/signature[?from=alias]`: the credential's signature,
 * or an alias's or shared mailbox's own. HTML is sanitised to a mail-safe subset; inline images
 * (`images` or data: URIs) are stored once as attachments with a contentId.
 */
export function signatureFunction(
  identity: Identity,
  credentials: CredentialService,
): HttpFunctionDefinition {
  return {
    kind: 'http',
    name: 'signature',
    methods: ['GET', 'PUT', 'DELETE'],
    route: 'credentials/{credentialId}/signature',
    auth: 'caller',
    maxBodyBytes: SIGNATURE_BODY_BYTES,
    async handler(invocation) {
      const { request, abortSignal, log } = invocation;
      const key = credentialKey(invocation);
      const query = parseQuery(request, signatureQuery);
      const input =
        request.method === 'PUT'
          ? (await readJson(request, signatureInputSchema, { maxBytes: SIGNATURE_BODY_BYTES }))
              .value
          : undefined;
      // Another service's credential, or none, is a 404 before anything is read or stored.
      await credentials.get(key, { abortSignal });
      const from = await identity.signatureOwner(key, query.from, {
        abortSignal,
        log,
        fieldPath: 'query.from',
      });
      const signatures = identity.signatures();
      const noStore = { 'cache-control': 'no-store' };
      if (request.method === 'DELETE') {
        await signatures.remove(key, from);
        return { status: 204 };
      }
      if (input === undefined) {
        return {
          status: 200,
          headers: noStore,
          jsonBody: signatureView(await signatures.get(key, from)),
        };
      }
      const stored = await signatures.put(key, from, input);
      return { status: 200, headers: noStore, jsonBody: signatureView(stored) };
    },
  };
}
