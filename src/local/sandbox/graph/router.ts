import { GraphError, graphErrorBody, JSON_CONTENT_TYPE, type GraphResponse } from '../errors';
import type { GraphContext, GraphRequest, SandboxState } from '../state';
import type { Folder, StoredMessage, UserRecord } from '../store';
import { safeDecode, sleep } from '../util';
import { parseSelect } from '../views';
import {
  createFolder,
  deleteFolder,
  getFolder,
  listFolders,
  moveFolder,
  resolveFolder,
  updateFolder,
} from './folders';
import { methodNotAllowed, parsePrefer, requireScope } from './helpers';
import {
  countMessages,
  createDraft,
  deleteMessage,
  findMessage,
  getMessage,
  getMessageMime,
  listMessages,
  moveMessage,
  copyMessage,
  patchMessage,
  permanentDeleteMessage,
} from './messages';
import { mailRoutes } from './routes-extra';
import { subscriptionRoute } from './subscriptions';

const unauthorized = (message: string): GraphError =>
  new GraphError(401, 'InvalidAuthenticationToken', message, {
    'WWW-Authenticate':
      'Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", client_id="00000003-0000-0000-c000-000000000000"',
  });

/** Splits a path into segments, turning OData key syntax `mailFolders('id')` into `mailFolders/id`. */
function splitPath(path: string): string[] {
  const out: string[] = [];
  for (const raw of path.split('/').filter(Boolean)) {
    const seg = safeDecode(raw);
    if (seg === null) throw new GraphError(400, 'BadRequest', `Invalid URI segment '${raw}'.`);
    const key = /^([A-Za-z.$]+)\('(.*)'\)$/.exec(seg);
    if (key) out.push(key[1]!, key[2]!.replace(/''/g, "'"));
    else out.push(seg);
  }
  return out;
}

/** Graph accepts `microsoft.graph.sendMail` as well as `sendMail`, in any letter case. */
const kw = (seg: string | undefined): string =>
  (seg ?? '').toLowerCase().replace(/^microsoft\.graph\./, '');

/** The default user properties plus a few common ones a `$select` may ask for. */
const USER_PROPERTIES = [
  'id',
  'businessPhones',
  'displayName',
  'givenName',
  'jobTitle',
  'mail',
  'mobilePhone',
  'officeLocation',
  'preferredLanguage',
  'surname',
  'userPrincipalName',
  'accountEnabled',
  'otherMails',
  'proxyAddresses',
];

function userView(ctx: GraphContext, user: UserRecord): GraphResponse {
  const s = ctx.grant.scopes;
  const self = user.id === ctx.caller.id;
  const allowed = self
    ? ['User.Read', 'User.ReadBasic.All'].some((x) => s.has(x))
    : s.has('User.ReadBasic.All');
  if (!allowed)
    throw new GraphError(
      403,
      'Authorization_RequestDenied',
      'Insufficient privileges to complete the operation.',
    );
  const all: Record<string, unknown> = {
    businessPhones: [],
    displayName: user.displayName,
    givenName: user.givenName,
    jobTitle: user.jobTitle,
    mail: user.mail,
    mobilePhone: null,
    officeLocation: null,
    preferredLanguage: 'en-US',
    surname: user.surname,
    userPrincipalName: user.userPrincipalName,
    id: user.id,
  };
  const select = parseSelect(ctx.req.query.get('$select'), USER_PROPERTIES, 'microsoft.graph.user');
  // Not in the default set, but selectable.
  const extra: Record<string, unknown> = {
    accountEnabled: user.canSignIn,
    otherMails: [],
    proxyAddresses: [`SMTP:${user.mail}`, ...(user.aliases ?? []).map((a) => `smtp:${a}`)],
  };
  const picked = select
    ? Object.fromEntries(select.map((k) => [k, all[k] ?? extra[k] ?? null]))
    : all;
  const suffix = select ? `(${select.join(',')})` : '';
  return {
    status: 200,
    headers: {},
    body: {
      '@odata.context': `${ctx.state.origin()}/v1.0/$metadata#users${suffix}/$entity`,
      ...picked,
    },
  };
}

/** Maps the path below the user segment to a handler; throws Graph's 400/405 for unknown targets. */
function route(
  method: string,
  segs: string[],
): (ctx: GraphContext) => GraphResponse | Promise<GraphResponse> {
  const [first, ...rest] = segs;
  const m = method.toUpperCase();
  if (first === undefined) {
    if (m !== 'GET') throw methodNotAllowed();
    return (ctx) => userView(ctx, ctx.mailbox.user);
  }
  const extra = mailRoutes(m, segs);
  if (extra) return extra;
  if (kw(first) === 'mailfolders') {
    // mailFolders[/{id}[/childFolders/{id}...]][/childFolders | /messages[/...]]
    let i = 0;
    const folderIds: string[] = [];
    while (i < rest.length && (i === 0 || kw(rest[i - 1]) === 'childfolders')) {
      folderIds.push(rest[i]!);
      i++;
      if (kw(rest[i]) === 'childfolders' && rest[i + 1] !== undefined) i++;
      else break;
    }
    const tail = rest.slice(i);
    const folderOf = (ctx: GraphContext): Folder | null => {
      const id = folderIds[folderIds.length - 1];
      return id === undefined ? null : resolveFolder(ctx, id);
    };
    if (folderIds.length === 0) {
      if (m === 'GET') return (ctx) => listFolders(ctx, ctx.mailbox.msgFolderRoot, 'mailFolders');
      if (m === 'POST') return (ctx) => createFolder(ctx, ctx.mailbox.msgFolderRoot);
      throw methodNotAllowed();
    }
    if (tail.length === 0) {
      if (m === 'GET') return (ctx) => getFolder(ctx, folderOf(ctx)!);
      if (m === 'PATCH') return (ctx) => updateFolder(ctx, folderOf(ctx)!);
      if (m === 'DELETE') return (ctx) => deleteFolder(ctx, folderOf(ctx)!);
      throw methodNotAllowed();
    }
    if (kw(tail[0]) === 'move' && tail.length === 1) {
      if (m === 'POST') return (ctx) => moveFolder(ctx, folderOf(ctx)!);
      throw methodNotAllowed();
    }
    if (kw(tail[0]) === 'childfolders' && tail.length === 1) {
      if (m === 'GET')
        return (ctx) =>
          listFolders(ctx, folderOf(ctx)!, `mailFolders('${folderOf(ctx)!.id}')/childFolders`);
      if (m === 'POST') return (ctx) => createFolder(ctx, folderOf(ctx)!);
      throw methodNotAllowed();
    }
    if (kw(tail[0]) === 'messages') {
      if (tail.length === 1) {
        if (m === 'GET') return (ctx) => listMessages(ctx, folderOf(ctx));
        if (m === 'POST') return (ctx) => createDraft(ctx, folderOf(ctx));
        throw methodNotAllowed();
      }
      return messageRoute(m, tail.slice(1), folderOf);
    }
    throw new GraphError(400, 'BadRequest', `Resource not found for the segment '${tail[0]}'.`);
  }
  if (kw(first) === 'messages') {
    if (rest.length === 0) {
      if (m === 'GET') return (ctx) => listMessages(ctx, null);
      if (m === 'POST') return (ctx) => createDraft(ctx, null);
      throw methodNotAllowed();
    }
    return messageRoute(m, rest, () => null);
  }
  throw new GraphError(400, 'BadRequest', `Resource not found for the segment '${first}'.`);
}

/** Message actions that answer from the message alone (a Map: the segment is caller text). */
const MESSAGE_ACTIONS = new Map<
  string,
  (ctx: GraphContext, message: StoredMessage) => GraphResponse
>([
  ['move', moveMessage],
  ['copy', copyMessage],
  ['permanentdelete', permanentDeleteMessage],
]);

function messageRoute(
  m: string,
  segs: string[],
  folderOf: (ctx: GraphContext) => Folder | null,
): (ctx: GraphContext) => GraphResponse | Promise<GraphResponse> {
  const [id, action, ...rest] = segs;
  if (id === '$count' && action === undefined) {
    if (m === 'GET') return (ctx) => countMessages(ctx, folderOf(ctx));
    throw methodNotAllowed();
  }
  const msg = (ctx: GraphContext) => findMessage(ctx, id!, folderOf(ctx) ?? undefined);
  if (action === undefined) {
    if (m === 'GET') return (ctx) => getMessage(ctx, msg(ctx));
    if (m === 'PATCH') return (ctx) => patchMessage(ctx, msg(ctx));
    if (m === 'DELETE') return (ctx) => deleteMessage(ctx, msg(ctx));
    throw methodNotAllowed();
  }
  if (action === '$value' && rest.length === 0) {
    if (m === 'GET') return (ctx) => getMessageMime(msg(ctx));
    throw methodNotAllowed();
  }
  const act = MESSAGE_ACTIONS.get(kw(action));
  if (act && rest.length === 0) {
    if (m === 'POST') return (ctx) => act(ctx, msg(ctx));
    throw methodNotAllowed();
  }
  const extra = mailRoutes(m, ['messages', id!, action, ...rest]);
  if (extra) return extra;
  throw new GraphError(400, 'BadRequest', `Resource not found for the segment '${action}'.`);
}

const SYSTEM_QUERY_OPTIONS = new Set([
  '$top',
  '$skip',
  '$select',
  '$filter',
  '$orderby',
  '$count',
  '$search',
  '$expand',
  '$skiptoken',
  '$deltatoken',
]);

function permissionFor(method: string, segs: string[]): 'read' | 'write' | 'send' {
  const last = kw(segs[segs.length - 1]);
  if (
    last === 'sendmail' ||
    (['send', 'reply', 'replyall', 'forward'].includes(last) && kw(segs[0]) === 'messages')
  )
    return 'send';
  return method.toUpperCase() === 'GET' ? 'read' : 'write';
}

/** Graph pipeline for one request: auth → routing → permissions → limits → faults → handler. */
export async function handleGraph(
  state: SandboxState,
  req: GraphRequest,
): Promise<GraphResponse & { drop?: boolean; mailbox?: string | null }> {
  const requestId = crypto.randomUUID();
  const clientRequestId = req.headers['client-request-id'] ?? requestId;
  const baseHeaders = {
    'request-id': requestId,
    'client-request-id': clientRequestId,
    'x-ms-ags-diagnostic': JSON.stringify({
      ServerInfo: {
        DataCenter: 'Sandbox',
        Slice: 'E',
        Ring: '0',
        ScaleUnit: '000',
        RoleInstance: 'sandbox',
      },
    }),
  };
  let mailboxUpn: string | null = null;
  let release: (() => void) | null = null;
  // Spent inside the request (holding its concurrency slot), once: Outlook's time for every
  // request, the network's only for a request of its own (a $batch paid it for all its items).
  let slept = false;
  const latency = async (): Promise<void> => {
    const ms = state.serviceMs + (req.inBatch ? 0 : state.latencyMs);
    if (slept || ms <= 0) return;
    slept = true;
    await sleep(ms);
  };
  try {
    // Authentication comes first, whatever the path.
    const auth = req.headers.authorization ?? '';
    const bearer = /^Bearer\s+(.+)$/i.exec(auth)?.[1]?.trim();
    if (!bearer) throw unauthorized('Access token is empty.');
    const grant = await state.idp.validate(bearer);
    if (typeof grant === 'string') throw unauthorized(grant);
    const caller = state.store.users.find((u) => u.id === grant.userId);
    if (!caller) throw unauthorized('Access token validation failure.');
    for (const key of req.query.keys()) {
      if (key.startsWith('$') && !SYSTEM_QUERY_OPTIONS.has(key.toLowerCase())) {
        throw new GraphError(400, 'BadRequest', `Query option '${key}' is not supported.`);
      }
    }
    const segs = splitPath(req.path);
    let userSegment = 'me';
    let rest = segs;
    let targetIdOrUpn: string | null = null;
    if (kw(segs[0]) === 'users' && segs[1] !== undefined) {
      userSegment = `users/${encodeURIComponent(segs[1])}`;
      targetIdOrUpn = segs[1];
      rest = segs.slice(2);
    } else if (kw(segs[0]) === 'me') {
      rest = segs.slice(1);
    } else if (kw(segs[0]) === 'subscriptions') {
      // Not below a user: the subscription names its mailbox in `resource` and checks access there.
      rest = segs;
    } else {
      throw new GraphError(
        400,
        'BadRequest',
        `Resource not found for the segment '${segs[0] ?? ''}'.`,
      );
    }
    const target = targetIdOrUpn === null ? caller : state.store.findUser(targetIdOrUpn);
    if (!target) {
      throw new GraphError(
        404,
        'ErrorInvalidUser',
        `The requested user '${targetIdOrUpn ?? ''}' is invalid.`,
      );
    }
    const mailbox = state.store.mailbox(target.id);
    mailboxUpn = target.userPrincipalName;
    const isSubscription = kw(rest[0]) === 'subscriptions' && rest === segs;
    const handler = isSubscription
      ? subscriptionRoute(req.method.toUpperCase(), rest)
      : route(req.method, rest);
    const prefer = parsePrefer(req.headers.prefer);
    const preferApplied: string[] = [];
    const bodyPref = prefer.get('outlook.body-content-type')?.toLowerCase();
    const bodyType = bodyPref === 'text' || bodyPref === 'html' ? bodyPref : null;
    if (bodyType) preferApplied.push(`outlook.body-content-type="${bodyType}"`);
    const immutableIds = prefer.get('idtype')?.toLowerCase() === 'immutableid';
    if (immutableIds) preferApplied.push('IdType="ImmutableId"');
    const ctx: GraphContext = {
      state,
      req,
      grant,
      caller,
      mailbox,
      isSelf: target.id === caller.id,
      segments: rest,
      userSegment,
      prefer,
      preferApplied,
      immutableIds,
      bodyType,
    };
    // /me and /users/{id} themselves are directory calls, not Outlook calls: no mailbox limits.
    if (rest.length > 0 && !isSubscription) {
      // Permissions come before any lookup: a caller learns nothing about a mailbox it may not use.
      requireScope(ctx, permissionFor(req.method, rest));
      release = state.limits.admit(grant.clientId, mailbox.user.id);
      if (['POST', 'PATCH', 'PUT'].includes(req.method.toUpperCase())) {
        state.limits.countUpload(grant.clientId, mailbox.user.id, req.body.length);
      }
    }
    await latency();
    const fault = state.faults.decide(req.method, `/v1.0${req.path}`);
    if (fault) {
      if (fault.latencyMs > 0) await sleep(fault.latencyMs);
      if (fault.drop) return { status: 0, headers: {}, drop: true, mailbox: mailboxUpn };
      if (fault.status !== null && !fault.afterAccept)
        throw faultError(fault.status, fault.retryAfterSeconds);
    }
    const response = await handler(ctx);
    if (fault?.afterAccept) throw faultError(fault.status ?? 504, fault.retryAfterSeconds);
    if (preferApplied.length > 0) response.headers['Preference-Applied'] = preferApplied.join(', ');
    return finish(response, baseHeaders, mailboxUpn);
  } catch (err) {
    if (!(err instanceof GraphError)) throw err;
    await latency();
    return finish(
      {
        status: err.status,
        headers: { ...err.headers },
        body: graphErrorBody(err.code, err.message, requestId, clientRequestId),
      },
      baseHeaders,
      mailboxUpn,
    );
  } finally {
    release?.();
  }
}

export function faultError(status: number, retryAfterSeconds: number | null): GraphError {
  const headers: Record<string, string> =
    retryAfterSeconds !== null ? { 'Retry-After': String(retryAfterSeconds) } : {};
  if (status === 429)
    return new GraphError(429, 'TooManyRequests', 'Please retry again later.', headers);
  if (status === 503)
    return new GraphError(
      503,
      'ServiceUnavailable',
      'The service is temporarily unavailable. Please retry later.',
      headers,
    );
  return new GraphError(
    status,
    'GatewayTimeout',
    'The server did not receive a timely response from an upstream server.',
    headers,
  );
}

function finish(
  response: GraphResponse,
  baseHeaders: Record<string, string>,
  mailbox: string | null,
): GraphResponse & { mailbox: string | null } {
  const headers: Record<string, string> = { ...baseHeaders, ...response.headers };
  if (
    response.body !== undefined &&
    !Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')
  ) {
    headers['Content-Type'] = JSON_CONTENT_TYPE;
  }
  if (response.body !== undefined) headers['OData-Version'] = '4.0';
  return { ...response, headers, mailbox };
}
