import { ConnectStateError } from '../credentials/connect';
import { type AppError, isAppError, isErrorOf, ValidationError } from '../core/errors';
import { type HttpInvocation } from './definitions';
import { escapeHtml as e, page, PAGE_HEADERS } from './pages';
import { statusForCode } from './problem';

/** The pages of the connect flow; each says what happened and that nothing was stored when so. */

export function confirmPage(input: {
  serviceName: string;
  serviceId: string;
  credentialId: string;
  account: { address: string; displayName: string };
  confirmation: string;
  expiresAt: number;
}): string {
  const until = new Date(input.expiresAt).toISOString().slice(11, 16);
  const service =
    input.serviceName === input.serviceId
      ? `<code>${e(input.serviceId)}</code>`
      : `${e(input.serviceName)} (<code>${e(input.serviceId)}</code>)`;
  return page(
    'Connect your mailbox?',
    `<p><strong>${e(input.serviceName)}</strong> asks to read, send and manage mail in this mailbox on your behalf.</p>
<dl>
<dt>Mailbox</dt><dd id="mailbox">${e(input.account.address)}</dd>
<dt>Signed in as</dt><dd>${e(input.account.displayName)}</dd>
<dt>Requested by</dt><dd id="service">${service}</dd>
<dt>Connection name</dt><dd><code>${e(input.credentialId)}</code></dd>
</dl>
<p>Only connect if you started this from ${e(input.serviceName)}. Nothing is stored until you choose <strong>Connect mailbox</strong>.</p>
<form method="post" action="confirm">
<input type="hidden" name="confirmation" value="${e(input.confirmation)}">
<button type="submit" name="decision" value="connect" class="primary" id="connect">Connect mailbox</button>
<button type="submit" name="decision" value="cancel" id="cancel">Cancel</button>
</form>
<p class="muted">This request expires at ${until} UTC.</p>`,
  );
}

export function mismatchPage(input: {
  serviceName: string;
  expected: string;
  actual: string;
}): string {
  return page(
    'This link is for another mailbox',
    `<p>You signed in as <strong id="actual">${e(input.actual)}</strong>, but ${e(input.serviceName)} asked to connect <strong id="expected">${e(input.expected)}</strong>.</p>
<p><strong>Nothing was stored.</strong> Sign in with the right account when you open a new link from ${e(input.serviceName)}, or ask them for a link made for your mailbox.</p>`,
    'stop',
  );
}

export function connectedPage(input: {
  serviceName: string;
  credentialId: string;
  address: string;
  displayName: string;
}): string {
  return page(
    'Mailbox connected',
    `<p>The mailbox <strong id="mailbox">${e(input.address)}</strong> (${e(input.displayName)}) is now connected to ${e(input.serviceName)} as <code>${e(input.credentialId)}</code>.</p>
<p>You can close this window.</p>`,
    'ok',
  );
}

export function cancelledPage(serviceName: string): string {
  return page(
    'Nothing was connected',
    `<p>You cancelled. <strong>Nothing was stored</strong>, and ${e(serviceName)} has no access to your mailbox.</p>
<p>You can close this window.</p>`,
    'stop',
  );
}

/** Expired and used links get their own heading; anything else lists the reasons. */
export function failurePage(error: AppError, requestId: string, status: number): string {
  const footer = `<p class="muted">Request id <code>${e(requestId)}</code>, error code <code>${e(error.code)}</code>.</p>`;
  const problem = isErrorOf(error, ConnectStateError)
    ? error.problem
    : isErrorOf(error, ValidationError) &&
        error.errors.some((x) => x.path === 'confirmation' && /expired/.test(x.message))
      ? 'expired'
      : undefined;
  if (problem === 'expired' || problem === 'used') {
    return page(
      problem === 'expired'
        ? 'This connect link has expired'
        : 'This connect link was already used',
      `<p>A connect link works once, within 10 minutes. <strong>Nothing was stored.</strong></p>
<p>Ask the application that sent you here for a new link.</p>${footer}`,
      'stop',
    );
  }
  const reasons = isErrorOf(error, ValidationError)
    ? `<ul>${error.errors.map((x) => `<li><code>${e(x.path)}</code> ${e(x.message)}</li>`).join('')}</ul>`
    : `<p>${e(status >= 500 ? 'The service could not finish the connection; try again shortly.' : error.detail)}</p>`;
  return page(
    'The mailbox was not connected',
    `${reasons}<p><strong>Nothing was stored.</strong> Start the connection again from the application.</p>${footer}`,
    'stop',
  );
}

export const wantsHtml = (accept: string | null) =>
  !accept || accept.includes('text/html') || !accept.includes('json');

/** A browser sees a page for an AppError; an API client gets the problem+json of the edge. */
export function connectFailure(error: unknown, { request, requestId, log }: HttpInvocation) {
  if (!isAppError(error) || !wantsHtml(request.headers.get('accept'))) throw error;
  const status = statusForCode(error.code);
  if (status >= 500) log.error('connect failed', { error });
  else log.warn('connect rejected', { errorCode: error.code });
  return { status, headers: PAGE_HEADERS, body: failurePage(error, requestId, status) };
}
