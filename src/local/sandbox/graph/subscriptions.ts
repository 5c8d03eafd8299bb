import { randomUUID } from 'node:crypto';
import { badRequest, GraphError, type GraphResponse } from '../errors';
import type { ChangeType, SandboxSubscription } from '../notifications';
import type { GraphContext } from '../state';
import { safeDecode } from '../util';
import { resolveFolder } from './folders';
import { jsonBody, methodNotAllowed, noContent, ok, requireScope } from './helpers';

/**
 * `/subscriptions` for Outlook messages (Create, List, Get, Update, Delete, Reauthorize), as
 * documented: the notification and lifecycle URLs are validated by a POST with `?validationToken=`
 * that must be answered 200 `text/plain` with the decoded token within 10 s; message subscriptions
 * last at most 10,080 minutes; `clientState` at most 128 characters; 1,000 per mailbox.
 */

const WRITABLE = new Set([
  'changetype',
  'notificationurl',
  'lifecyclenotificationurl',
  'resource',
  'expirationdatetime',
  'clientstate',
  'latestsupportedtlsversion',
  'includeresourcedata',
  '@odata.type',
]);
const CHANGE_TYPES: readonly ChangeType[] = ['created', 'updated', 'deleted'];
const MAX_CLIENT_STATE = 128;

const invalid = (message: string): GraphError => badRequest(message, 'InvalidRequest');
const notFound = (): GraphError =>
  new GraphError(404, 'ResourceNotFound', 'The object was not found.');

function view(sub: SandboxSubscription): Record<string, unknown> {
  return {
    id: sub.id,
    resource: sub.resource,
    applicationId: sub.clientId,
    changeType: sub.changeTypes.join(','),
    clientState: sub.clientState,
    notificationUrl: sub.notificationUrl,
    notificationQueryOptions: null,
    lifecycleNotificationUrl: sub.lifecycleNotificationUrl,
    expirationDateTime: new Date(sub.expiresMs).toISOString(),
    creatorId: sub.creatorId,
    includeResourceData: false,
    latestSupportedTlsVersion: 'v1_2',
    encryptionCertificate: null,
    encryptionCertificateId: null,
    notificationUrlAppId: null,
  };
}

/** https only; plain http is accepted for loopback hosts because the sandbox itself is local. */
function endpoint(value: unknown, name: string): string {
  if (typeof value !== 'string' || value === '') throw invalid(`${name} is required.`);
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw invalid(`Invalid ${name} '${value}'.`);
  }
  const loopback = ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname);
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && loopback))
    throw invalid(`The ${name} must be an https URL.`);
  return value;
}

/** The documented handshake: the endpoint echoes the decoded token as text/plain with 200 in time. */
async function validateEndpoint(ctx: GraphContext, url: string): Promise<void> {
  const token = `Validation: Testing client application reachability for subscription Request-Id: ${randomUUID()}`;
  const target = new URL(url);
  target.searchParams.set('validationToken', token);
  let passed = false;
  try {
    const res = await fetch(target, {
      method: 'POST',
      headers: { 'Content-Type': 'text/plain; charset=utf-8' },
      signal: AbortSignal.timeout(ctx.state.limits.limits.validationTimeoutMs),
    });
    const text = await res.text();
    passed =
      res.status === 200 &&
      (res.headers.get('content-type') ?? '').toLowerCase().startsWith('text/plain') &&
      text === token;
  } catch {
    passed = false;
  }
  if (!passed)
    throw invalid(
      'Subscription validation request failed. Notification endpoint must respond with 200 OK to validation request.',
    );
}

function expiry(ctx: GraphContext, value: unknown): number {
  const ms = typeof value === 'string' ? Date.parse(value) : NaN;
  if (Number.isNaN(ms)) throw invalid('expirationDateTime is required and must be a date.');
  if (ms <= Date.now()) throw invalid('Subscription expiration must be in the future.');
  const max = ctx.state.limits.limits.subscriptionMaxMinutes;
  if (ms > Date.now() + max * 60_000)
    throw invalid(`Subscription expiration can only be ${max} minutes in the future.`);
  return ms;
}

/** `me/mailFolders('inbox')/messages`, `users/{id}/mailfolders/{id}/messages`, `me/messages`. */
function target(
  ctx: GraphContext,
  resource: string,
): Pick<SandboxSubscription, 'mailbox' | 'folder'> {
  const unsupported = (): GraphError =>
    invalid(`The resource '${resource}' is not supported for subscriptions.`);
  const segs: string[] = [];
  for (const raw of resource.replace(/^\/+/, '').split('/')) {
    const seg = safeDecode(raw);
    if (seg === null || seg === '') throw unsupported();
    const key = /^([A-Za-z]+)\('(.*)'\)$/.exec(seg);
    if (key) segs.push(key[1]!, key[2]!.replace(/''/g, "'"));
    else segs.push(seg);
  }
  let rest = segs;
  let user = ctx.caller;
  if (segs[0]?.toLowerCase() === 'users' && segs[1]) {
    const found = ctx.state.store.findUser(segs[1]);
    if (!found)
      throw new GraphError(404, 'ErrorInvalidUser', `The requested user '${segs[1]}' is invalid.`);
    user = found;
    rest = segs.slice(2);
  } else if (segs[0]?.toLowerCase() === 'me') rest = segs.slice(1);
  else throw unsupported();
  const mailbox = ctx.state.store.mailbox(user.id);
  const sub = { ...ctx, mailbox, isSelf: user.id === ctx.caller.id };
  // Creating a subscription needs read access to the resource (Mail.Read / Mail.ReadBasic).
  requireScope(sub, 'read');
  const words = rest.map((s) => s.toLowerCase());
  if (words.length === 1 && words[0] === 'messages') return { mailbox, folder: null };
  if (words.length === 3 && words[0] === 'mailfolders' && words[2] === 'messages')
    return { mailbox, folder: resolveFolder(sub, rest[1]!) };
  throw unsupported();
}

function changeTypes(value: unknown): ChangeType[] {
  const parts = typeof value === 'string' ? value.split(',').map((p) => p.trim()) : [];
  if (parts.length === 0 || parts.some((p) => !CHANGE_TYPES.includes(p as ChangeType)))
    throw invalid(
      "changeType is required and must be a comma-separated list of 'created', 'updated', 'deleted'.",
    );
  return [...new Set(parts as ChangeType[])];
}

function checkProperties(body: Record<string, unknown>, allowed: Set<string>): void {
  for (const key of Object.keys(body))
    if (!allowed.has(key.toLowerCase()))
      throw badRequest(
        `The property '${key}' does not exist on type 'microsoft.graph.subscription'. Make sure to only use property names that are defined by the type.`,
      );
}

function owned(ctx: GraphContext, id: string): SandboxSubscription {
  const sub = ctx.state.notifications.subscriptions.get(id);
  if (!sub || sub.clientId !== ctx.grant.clientId || sub.creatorId !== ctx.caller.id)
    throw notFound();
  return sub;
}

async function create(ctx: GraphContext): Promise<GraphResponse> {
  const body = jsonBody(ctx);
  checkProperties(body, WRITABLE);
  const types = changeTypes(body.changeType);
  const notificationUrl = endpoint(body.notificationUrl, 'notificationUrl');
  const lifecycleNotificationUrl =
    body.lifecycleNotificationUrl === undefined || body.lifecycleNotificationUrl === null
      ? null
      : endpoint(body.lifecycleNotificationUrl, 'lifecycleNotificationUrl');
  if (typeof body.resource !== 'string') throw invalid('resource is required.');
  const { mailbox, folder } = target(ctx, body.resource);
  const expiresMs = expiry(ctx, body.expirationDateTime);
  if (body.includeResourceData === true)
    throw invalid('An encryptionCertificate is required when includeResourceData is true.');
  const clientState = body.clientState ?? null;
  if (
    clientState !== null &&
    (typeof clientState !== 'string' || clientState.length > MAX_CLIENT_STATE)
  )
    throw invalid(`clientState must be a string of at most ${MAX_CLIENT_STATE} characters.`);
  const hub = ctx.state.notifications;
  if (hub.countFor(mailbox) >= ctx.state.limits.limits.subscriptionsPerMailbox)
    throw new GraphError(
      403,
      'ExtensionError',
      'Operation: Create; Exception: [Status Code: Forbidden; Reason: The number of subscriptions for this mailbox has reached its limit.]',
    );
  await validateEndpoint(ctx, notificationUrl);
  if (lifecycleNotificationUrl) await validateEndpoint(ctx, lifecycleNotificationUrl);
  const sub: SandboxSubscription = {
    id: randomUUID(),
    clientId: ctx.grant.clientId,
    creatorId: ctx.caller.id,
    mailbox,
    folder,
    resource: body.resource,
    changeTypes: types,
    notificationUrl,
    lifecycleNotificationUrl,
    clientState,
    expiresMs,
    immutableIds: ctx.immutableIds,
    watermark: mailbox.seq,
    needsReauthorization: false,
    timer: null,
  };
  hub.add(sub);
  return ok(
    {
      '@odata.context': `${ctx.state.origin()}/v1.0/$metadata#subscriptions/$entity`,
      ...view(sub),
    },
    201,
  );
}

async function update(ctx: GraphContext, sub: SandboxSubscription): Promise<GraphResponse> {
  const body = jsonBody(ctx);
  checkProperties(body, new Set(['expirationdatetime', 'notificationurl', '@odata.type']));
  const expiresMs =
    body.expirationDateTime === undefined ? sub.expiresMs : expiry(ctx, body.expirationDateTime);
  if (body.notificationUrl !== undefined) {
    const url = endpoint(body.notificationUrl, 'notificationUrl');
    await validateEndpoint(ctx, url);
    sub.notificationUrl = url;
  }
  sub.expiresMs = expiresMs;
  // "Renewing your subscription also reauthorizes your endpoint."
  sub.needsReauthorization = false;
  ctx.state.notifications.armExpiry(sub);
  return ok({
    '@odata.context': `${ctx.state.origin()}/v1.0/$metadata#subscriptions/$entity`,
    ...view(sub),
  });
}

/** Routes `subscriptions[/{id}[/reauthorize]]`. */
export function subscriptionRoute(
  method: string,
  segs: string[],
): (ctx: GraphContext) => GraphResponse | Promise<GraphResponse> {
  const [, id, action, ...more] = segs;
  if (id === undefined) {
    if (method === 'POST') return create;
    if (method === 'GET')
      return (ctx) =>
        ok({
          '@odata.context': `${ctx.state.origin()}/v1.0/$metadata#subscriptions`,
          value: [...ctx.state.notifications.subscriptions.values()]
            .filter((s) => s.clientId === ctx.grant.clientId && s.creatorId === ctx.caller.id)
            .map((s) => view(s)),
        });
    throw methodNotAllowed();
  }
  if (action === undefined) {
    if (method === 'GET')
      return (ctx) =>
        ok({
          '@odata.context': `${ctx.state.origin()}/v1.0/$metadata#subscriptions/$entity`,
          ...view(owned(ctx, id)),
        });
    if (method === 'PATCH') return (ctx) => update(ctx, owned(ctx, id));
    if (method === 'DELETE')
      return (ctx) => {
        ctx.state.notifications.remove(owned(ctx, id));
        return noContent();
      };
    throw methodNotAllowed();
  }
  if (action.toLowerCase().replace(/^microsoft\.graph\./, '') === 'reauthorize' && !more.length) {
    if (method !== 'POST') throw methodNotAllowed();
    return (ctx) => {
      owned(ctx, id).needsReauthorization = false;
      return noContent();
    };
  }
  throw badRequest(`Resource not found for the segment '${action}'.`);
}
