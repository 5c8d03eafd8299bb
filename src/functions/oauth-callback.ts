import { isAppError, ValidationError } from '../core/errors';
import { type CredentialService } from '../credentials/service';
import { type HttpFunctionDefinition } from '../http/definitions';
import { statusForCode } from '../http/problem';

const escapeHtml = (value: string) => value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

const HTML_HEADERS = {
  'content-type': 'text/html; charset=utf-8',
  'cache-control': 'no-store',
  'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'",
  'x-content-type-options': 'nosniff',
  // The URL carried the code and state: never hand it to another site.
  'referrer-policy': 'no-referrer',
};

function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>body{font-family:system-ui,sans-serif;max-width:36rem;margin:4rem auto;padding:0 1rem;color:#222}h1{font-size:1.4rem}code{background:#f3f3f3;padding:0 .2rem}</style>
</head><body><h1>${escapeHtml(title)}</h1>${body}</body></html>
`;
}

const wantsHtml = (accept: string | null) =>
  !accept || accept.includes('text/html') || !accept.includes('json');

/**
 * `GET oauth/callback` (anonymous: the browser arrives from Microsoft): checks the state, redeems
 * the code, stores the record and shows which mailbox is connected. Browsers get HTML, API
 * clients (Accept: json) problem+json.
 */
export function oauthCallbackFunction(credentials: CredentialService): HttpFunctionDefinition {
  return {
    kind: 'http',
    name: 'oauthCallback',
    methods: ['GET'],
    route: 'oauth/callback',
    auth: 'anonymous',
    async handler({ request, abortSignal, requestId, log }) {
      const q = (name: string) => request.query.get(name) ?? undefined;
      try {
        const { view, address, created } = await credentials.completeConnect(
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
        if (!wantsHtml(request.headers.get('accept'))) {
          return {
            status: created ? 201 : 200,
            headers: { 'cache-control': 'no-store' },
            jsonBody: view,
          };
        }
        return {
          status: 200,
          headers: HTML_HEADERS,
          body: page(
            'Mailbox connected',
            `<p>The mailbox <strong>${escapeHtml(address)}</strong> (${escapeHtml(view.account.displayName)}) is now connected as credential <code>${escapeHtml(view.credentialId)}</code>.</p><p>You can close this window.</p>`,
          ),
        };
      } catch (error) {
        if (!isAppError(error) || !wantsHtml(request.headers.get('accept'))) throw error;
        const status = statusForCode(error.code);
        if (status >= 500) log.error('connect failed', { error });
        else log.warn('connect rejected', { errorCode: error.code });
        const reasons =
          error instanceof ValidationError
            ? `<ul>${error.errors.map((e) => `<li><code>${escapeHtml(e.path)}</code> ${escapeHtml(e.message)}</li>`).join('')}</ul>`
            : `<p>${escapeHtml(status >= 500 ? 'The service could not finish the connection; try again shortly.' : error.detail)}</p>`;
        return {
          status,
          headers: HTML_HEADERS,
          body: page(
            'The mailbox was not connected',
            `${reasons}<p>Nothing was stored. Start the connection again from the application. Request id <code>${escapeHtml(requestId)}</code>, error code <code>${escapeHtml(error.code)}</code>.</p>`,
          ),
        };
      }
    },
  };
}
