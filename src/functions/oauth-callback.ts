import { type CredentialService } from '../credentials/service';
import { ForbiddenError } from '../core/errors';
import { confirmPage, connectFailure, mismatchPage, wantsHtml } from '../http/connect-pages';
import { oauthCookie } from '../http/cookies';
import { type HttpFunctionDefinition } from '../http/definitions';
import { PAGE_HEADERS } from '../http/pages';

/**
 * `GET oauth/callback` (anonymous: the browser arrives from Microsoft): checks the state, redeems
 * the code and shows the owner which service asks for which mailbox. Nothing is stored here: the
 * page's form posts to `oauth/confirm` with a one-time token and a SameSite cookie.
 */
export function oauthCallbackFunction(
  credentials: CredentialService,
  options: { secureCookies: boolean },
): HttpFunctionDefinition {
  return {
    kind: 'http',
    name: 'oauthCallback',
    methods: ['GET'],
    route: 'oauth/callback',
    auth: 'anonymous',
    async handler(invocation) {
      const { request, abortSignal } = invocation;
      const q = (name: string) => request.query.get(name) ?? undefined;
      try {
        const outcome = await credentials.beginConnect(
          {
            ...(q('state') === undefined ? {} : { state: q('state')! }),
            ...(q('code') === undefined ? {} : { code: q('code')! }),
            ...(q('error') === undefined ? {} : { error: q('error')! }),
            ...(q('error_description') === undefined
              ? {}
              : { errorDescription: q('error_description')! }),
          },
          { abortSignal: abortSignal },
        );
        const html = wantsHtml(request.headers.get('accept'));
        if (outcome.kind === 'mismatch') {
          if (!html) {
            throw new ForbiddenError(
              `The link was made for ${outcome.expected}, but ${outcome.actual} signed in. Nothing was stored.`,
            );
          }
          return { status: 403, headers: PAGE_HEADERS, body: mismatchPage(outcome) };
        }
        const { ticket, key } = outcome;
        const cookie = oauthCookie(ticket.cookieName, ticket.browserNonce, {
          maxAgeSeconds: Math.ceil((ticket.expiresAt - Date.now()) / 1000),
          secure: options.secureCookies,
        });
        if (!html) {
          return {
            status: 200,
            headers: { 'cache-control': 'no-store', 'set-cookie': cookie },
            jsonBody: {
              status: 'confirmation_required',
              serviceId: key.serviceId,
              credentialId: key.credentialId,
              service: outcome.serviceName,
              account: outcome.account,
              confirmation: ticket.confirmation,
              expiresAt: new Date(ticket.expiresAt).toISOString(),
            },
          };
        }
        return {
          status: 200,
          headers: { ...PAGE_HEADERS, 'set-cookie': cookie },
          body: confirmPage({
            serviceName: outcome.serviceName,
            serviceId: key.serviceId,
            credentialId: key.credentialId,
            account: outcome.account,
            confirmation: ticket.confirmation,
            expiresAt: ticket.expiresAt,
          }),
        };
      } catch (error) {
        return connectFailure(error, invocation);
      }
    },
  };
}
