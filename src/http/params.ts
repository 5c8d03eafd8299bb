import type { HttpRequest } from '@azure/functions';
import * as z from 'zod';

import { ValidationError } from '../core/errors';
import { emailAddress } from '../core/validators';
import { type CredentialKey } from '../credentials/types';
import { GRAPH_ID } from '../graph/messages';
import { type CallerInvocation } from './definitions';
import { parseQuery, routeId } from './parse';

/** Route and query parameters the mail read routes (messages, message, folders, attachments) share. */

/** An id or well-known name Graph gave us; loosely checked, always URL-encoded later. */
export const graphIdParam = z
  .string()
  .regex(GRAPH_ID, 'must be a Graph id: at most 512 of A-Z a-z 0-9 _ = + / -');

/** A shared mailbox to read instead of the credential's own (needs the `.Shared` scopes). */
export const mailboxParam = emailAddress('must be a mailbox address (UPN)');

/** Page size: 1–1000, Graph's `$top` range for messages. */
export const topParam = z
  .string()
  .regex(/^\d+$/, 'must be a whole number from 1 to 1000')
  .transform(Number)
  .pipe(z.number().min(1, 'must be at least 1').max(1000, 'must be at most 1000'));

/** A page cursor this service issued (checked against its credential when read). */
export const cursorParam = z.string().min(1).max(8192);

export const bodyFormatParam = z.enum(['text', 'html'], { error: 'must be text or html' });

/** The credential of the caller's service named in the route. */
export function credentialKey(invocation: CallerInvocation): CredentialKey {
  return {
    serviceId: invocation.caller.serviceId,
    credentialId: routeId(invocation.request, 'credentialId'),
  };
}

/** A route parameter holding a Graph id (message, attachment). */
export function routeGraphId(request: HttpRequest, name: string): string {
  const result = graphIdParam.safeParse(request.params[name] ?? '');
  if (!result.success)
    throw new ValidationError({ path: name, message: result.error.issues[0]!.message });
  return result.data;
}

const mailboxOnly = z.strictObject({ mailbox: mailboxParam.optional() });

/** What every mail action takes: `?mailbox=` (the only query parameter) and the invocation's budget. */
export function actionOptions(invocation: CallerInvocation): {
  mailbox: string | undefined;
  abortSignal: AbortSignal;
  log: CallerInvocation['log'];
} {
  const q = parseQuery(invocation.request, mailboxOnly);
  return { mailbox: q.mailbox, abortSignal: invocation.abortSignal, log: invocation.log };
}
