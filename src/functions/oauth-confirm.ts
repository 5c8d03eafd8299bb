import * as z from 'zod';

import { type CredentialService } from '../credentials/service';
import { ForbiddenError, UnsupportedMediaTypeError } from '../core/errors';
import { cancelledPage, connectedPage, connectFailure, wantsHtml } from '../http/connect-pages';
import { oauthCookie, parseCookies } from '../http/cookies';
import { PENDING_COOKIE_PREFIX } from '../credentials/pending-connect';
import { PAGE_HEADERS } from '../http/pages';
import { mediaType, parseWith, readBodyBytes } from '../http/parse';
import { type HttpFunctionDefinition } from '../http/definitions';

const MAX_FORM_BYTES = 4 * 1024;

const formSchema = z.strictObject({
  confirmation: z.string().min(1, 'is required').max(200),
  decision: z.enum(['connect', 'cancel'], { message: 'must be connect or cancel' }),
});

/**
 * `POST oauth/confirm` (anonymous: the confirmation page's form): the mailbox owner's decision.
 * The one-time token comes in the form, the browser's nonce in a SameSite=Strict cookie, so
 * another site can neither forge the post nor replay it.
 */
export function oauthConfirmFunction(
  credentials: CredentialService,
  options: { secureCookies: boolean },
): HttpFunctionDefinition {
  return {
    kind: 'http',
    name: 'oauthConfirm',
    methods: ['POST'],
    route: 'oauth/confirm',
    auth: 'anonymous',
    maxBodyBytes: MAX_FORM_BYTES,
    async handler(invocation) {
      const { request, abortSignal } = invocation;
      try {
        if (request.headers.get('sec-fetch-site') === 'cross-site') {
          throw new ForbiddenError('A connection is confirmed only from its own page.');
        }
        if (mediaType(request) !== 'application/x-www-form-urlencoded') {
          throw new UnsupportedMediaTypeError(
            'Send the confirmation as application/x-www-form-urlencoded.',
          );
        }
        const form = new URLSearchParams(
          (await readBodyBytes(request, MAX_FORM_BYTES)).toString('utf8'),
        );
        const fields = new Map<string, string>();
        for (const [k, v] of form) fields.set(k, v);
        const input = parseWith(formSchema, Object.fromEntries(fields));
        const outcome = await credentials.confirmConnect(
          {
            confirmation: input.confirmation,
            cookies: parseCookies(request.headers.get('cookie')),
            accept: input.decision === 'connect',
          },
          { abortSignal },
        );
        const html = wantsHtml(request.headers.get('accept'));
        // The cookie has done its job (the entry is gone either way).
        const clear = {
          'set-cookie': oauthCookie(
            `${PENDING_COOKIE_PREFIX}${input.confirmation.split('.')[0]}`,
            '',
            {
              maxAgeSeconds: 0,
              secure: options.secureCookies,
            },
          ),
        };
        if ('cancelled' in outcome) {
          const serviceName = credentials.serviceName(outcome.cancelled.serviceId);
          return html
            ? {
                status: 200,
                headers: { ...PAGE_HEADERS, ...clear },
                body: cancelledPage(serviceName),
              }
            : {
                status: 200,
                headers: { 'cache-control': 'no-store', ...clear },
                jsonBody: { status: 'cancelled' },
              };
        }
        if (!html) {
          return {
            status: outcome.created ? 201 : 200,
            headers: { 'cache-control': 'no-store', ...clear },
            jsonBody: outcome.view,
          };
        }
        return {
          status: outcome.created ? 201 : 200,
          headers: { ...PAGE_HEADERS, ...clear },
          body: connectedPage({
            serviceName: credentials.serviceName(outcome.view.serviceId),
            credentialId: outcome.view.credentialId,
            address: outcome.address,
            displayName: outcome.view.account.displayName,
          }),
        };
      } catch (error) {
        return connectFailure(error, invocation);
      }
    },
  };
}
