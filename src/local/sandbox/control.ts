import { badRequest, GraphError } from './errors';
import type { FaultRule } from './faults';
import { messageInput } from './graph/message-input';
import { applyInputFields, renderItemMime } from './graph/messages';
import type { TokenResponse } from './identity';
import type { SandboxLimits, ThrottleCounts } from './limits';
import type { HttpResult } from './state';
import type { LifecycleEvent, NotificationFaults, NotificationStats } from './notifications';
import type { RequestLogEntry, SandboxState } from './state';
import {
  childConversationIndex,
  folderPath,
  type Folder,
  type Mailbox,
  newMessage,
  type StoredMessage,
  type TenantSettings,
  type UserRecord,
} from './store';
import { isRecord, safeDecode } from './util';
import { messageView } from './views';

/** What the token endpoint answers (refresh_token only with offline_access, id_token only with openid). */
export type TokenSet = TokenResponse;

/** A folder as tests see it: Graph's fields plus the path (`Inbox/Projects/2026`, `/` in names as `\/`). */
export interface FolderInfo {
  id: string;
  displayName: string;
  parentFolderId: string;
  path: string;
  wellKnownName: string | null;
  isHidden: boolean;
  totalItemCount: number;
  unreadItemCount: number;
  childFolderCount: number;
}

/** A subscription as tests see it. */
export interface SubscriptionInfo {
  id: string;
  resource: string;
  mailbox: string;
  changeType: string;
  notificationUrl: string;
  lifecycleNotificationUrl: string | null;
  expirationDateTime: string;
  needsReauthorization: boolean;
}

/** A message as tests see it: Graph's default JSON (REST id) plus the immutable id. */
export type MessageInfo = Record<string, unknown> & { id: string; immutableId: string };

/**
 * Test and tooling control over a running sandbox. Every method is also reachable over HTTP under
 * `/_sandbox/...` (JSON), see `handleControlHttp`, so a sandbox in another process can be driven.
 */
export interface SandboxControl {
  /** Revokes every refresh token issued so far for the user (Entra "revoke sessions"): next use → invalid_grant AADSTS50173. */
  revokeRefreshTokens(upnOrId: string): void;
  /**
   * Uploads a certificate (PEM; only its public part is kept) to an app registration (default: the
   * sandbox's client), as "Certificates & secrets" does: client assertions signed with its key are
   * accepted from then on. Answers its thumbprints (`x5t#S256`, `x5t`).
   */
  registerClientCertificate(
    certificate: string,
    clientId?: string,
  ): { thumbprintSha256: string; thumbprint: string };
  /** Issues tokens exactly as the token endpoint would after consent (refresh token only with `offline_access`). */
  issueTokens(
    upn: string,
    options: { scopes: string[] | string; clientId?: string },
  ): Promise<TokenSet>;
  /** Adds a fault rule (see `FaultRule`); rules are checked in the order added. */
  injectFault(rule: FaultRule): void;
  clearFaults(): void;
  /** Requests seen so far (Graph, identity, upload URLs; not `/_sandbox`), oldest first. Never token values. */
  requestLog(): RequestLogEntry[];
  clearRequestLog(): void;
  /** 429s answered since the sandbox started, by limit (`mailboxConcurrency`: over 4 at once). */
  throttles(): ThrottleCounts;
  /** Changes limits at run time (tests shrink windows); returns the limits now in force. */
  setLimits(partial: Partial<SandboxLimits>): SandboxLimits;
  /** Lifetime in seconds of access tokens issued from now on. */
  setAccessTokenLifetime(seconds: number): void;
  /** Every folder of the mailbox (depth-first, hidden ones included). */
  folders(upn: string): FolderInfo[];
  /** Seeds a folder under a parent given by well-known name, id or path; answers its id. */
  addFolder(upn: string, parent: string, displayName: string): string;
  /** Messages in a folder given by well-known name, id or path (`Inbox/Projects/2026`), newest first. */
  messages(upn: string, folder: string): MessageInfo[];
  sentItems(upn: string): MessageInfo[];
  /** Messages waiting for the mailbox's send rate (Exchange's 30/min) to let them go. */
  outbox(upn: string): MessageInfo[];
  /**
   * Seeds one message from Graph-shaped JSON plus what only the server sets: `receivedDateTime`,
   * `sentDateTime`, `isDraft`, and `conversationId` (and optionally `conversationIndex`) to put it
   * in an existing conversation, e.g. one returned for an earlier seeded message.
   */
  addMessage(upn: string, folder: string, message: Record<string, unknown>): MessageInfo;
  /** Every live subscription (all apps and users): id, resource, expiry, URLs. */
  subscriptions(): SubscriptionInfo[];
  /** Sends a lifecycle notification; `subscriptionRemoved` removes the subscription first. */
  lifecycle(subscriptionId: string, event: LifecycleEvent): void;
  /** Drop / duplicate / delay knobs on change notification delivery (replaces earlier knobs). */
  setNotificationFaults(faults: NotificationFaults): void;
  /** Counts of change notifications sent, delivered, dropped, duplicated, retried, discarded. */
  notificationStats(): NotificationStats;
  /** Forgets every delta sync state of the mailbox: older delta and skip tokens answer 410. */
  resetDeltaTokens(upn: string): void;
  /** Exchange organization settings (Set-OrganizationConfig -SendFromAliasEnabled); returns them all. */
  setTenant(settings: Partial<TenantSettings>): TenantSettings;
  /** Gives `userUpn` rights on `targetUpn`'s mailbox (Exchange Full Access / Send As / Send on Behalf). */
  grantSharedAccess(
    userUpn: string,
    targetUpn: string,
    rights: { sendAs?: boolean; fullAccess?: boolean; sendOnBehalf?: boolean },
  ): void;
}

const optionalText = (value: unknown, name: string): string | undefined => {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value === '')
    throw badRequest(`'${name}' must be a non-empty string.`);
  return value;
};

/**
 * A seeded message joins the conversation it names. Without an explicit index it answers the newest
 * message of that conversation in the mailbox (its index extends that one), or starts the thread.
 */
function threadFields(
  box: Mailbox,
  conversationIdRaw: unknown,
  conversationIndexRaw: unknown,
): Partial<Pick<StoredMessage, 'conversationId' | 'conversationIndex'>> {
  const conversationId = optionalText(conversationIdRaw, 'conversationId');
  const conversationIndex = optionalText(conversationIndexRaw, 'conversationIndex');
  if (conversationId === undefined) {
    if (conversationIndex !== undefined)
      throw badRequest("'conversationIndex' needs 'conversationId'.");
    return {};
  }
  const parent = box.all.find((m) => m.conversationId === conversationId);
  const index =
    conversationIndex ??
    (parent ? childConversationIndex(parent.conversationIndex, box.nextKey) : undefined);
  return index === undefined ? { conversationId } : { conversationId, conversationIndex: index };
}

export function createControl(
  state: SandboxState,
  settings: { accessTokenLifetimeSeconds: number },
  defaultClientId: string,
): SandboxControl {
  const user = (upnOrId: string): UserRecord => {
    const u = state.store.findUser(upnOrId);
    if (!u)
      throw new GraphError(404, 'ErrorInvalidUser', `The requested user '${upnOrId}' is invalid.`);
    return u;
  };
  const mailbox = (upn: string): Mailbox => state.store.mailbox(user(upn).id);
  const folder = (box: Mailbox, name: string): Folder => {
    const f = state.store.folderByPath(box, name);
    if (!f) throw new GraphError(404, 'ErrorItemNotFound', `No folder '${name}'.`);
    return f;
  };
  const info = (m: StoredMessage): MessageInfo => ({
    ...messageView(m, { select: null, bodyType: null, immutableIds: false }),
    id: m.restId,
    immutableId: m.immutableId,
    internetMessageHeaders: m.internetMessageHeaders,
  });
  const listIn = (upn: string, name: string): MessageInfo[] =>
    folder(mailbox(upn), name).messages.map(info);
  return {
    revokeRefreshTokens: (upnOrId) => state.idp.revoke(user(upnOrId).id),
    registerClientCertificate: (certificate, clientId = defaultClientId) => {
      if (!state.idp.client(clientId)) throw badRequest(`Unknown client '${clientId}'.`);
      try {
        return state.idp.certificates.register(clientId, certificate);
      } catch {
        throw badRequest("'certificate' must be a PEM X.509 certificate.");
      }
    },
    issueTokens: async (upn, options) => {
      const u = user(upn);
      const scopes = state.idp.parseScopes(
        Array.isArray(options.scopes) ? options.scopes.join(' ') : options.scopes,
      );
      const clientId = options.clientId ?? defaultClientId;
      if (!state.idp.client(clientId)) throw badRequest(`Unknown client '${clientId}'.`);
      return state.idp.issue(u.id, clientId, scopes);
    },
    injectFault: (rule) => state.faults.add(rule),
    clearFaults: () => state.faults.clear(),
    requestLog: () => state.log.map((e) => ({ ...e, headersPresent: [...e.headersPresent] })),
    clearRequestLog: () => {
      state.log.length = 0;
    },
    throttles: () => ({ ...state.limits.throttled }),
    setLimits: (partial) => Object.assign(state.limits.limits, partial),
    setAccessTokenLifetime: (seconds) => {
      settings.accessTokenLifetimeSeconds = seconds;
    },
    folders: (upn) => {
      const box = mailbox(upn);
      const out: FolderInfo[] = [];
      const walk = (f: Folder): void => {
        for (const c of [...f.children].sort((a, b) =>
          a.displayName.localeCompare(b.displayName),
        )) {
          out.push({
            id: c.id,
            displayName: c.displayName,
            parentFolderId: c.parentId,
            path: folderPath(box, c),
            wellKnownName: c.wellKnownName,
            isHidden: c.isHidden,
            totalItemCount: c.messages.length,
            unreadItemCount: c.messages.filter((m) => !m.isRead).length,
            childFolderCount: c.children.length,
          });
          walk(c);
        }
      };
      walk(box.msgFolderRoot);
      return out;
    },
    addFolder: (upn, parent, displayName) => {
      const box = mailbox(upn);
      return state.store.addFolder(box, folder(box, parent), displayName).id;
    },
    messages: listIn,
    sentItems: (upn) => listIn(upn, 'sentitems'),
    outbox: (upn) => listIn(upn, 'outbox'),
    addMessage: (upn, folderName, message) => {
      const box = mailbox(upn);
      const target = folder(box, folderName);
      const {
        receivedDateTime,
        sentDateTime,
        isDraft,
        conversationId,
        conversationIndex,
        ...rest
      } = message;
      const parseDate = (v: unknown): number | null =>
        typeof v === 'string' && !Number.isNaN(Date.parse(v)) ? Date.parse(v) : null;
      const receivedMs = parseDate(receivedDateTime) ?? Date.now();
      const input = messageInput(rest, renderItemMime);
      const m = newMessage(state.store, box, target, {
        ...threadFields(box, conversationId, conversationIndex),
        receivedMs,
        createdMs: receivedMs,
        sentMs: parseDate(sentDateTime) ?? receivedMs,
        isDraft: isDraft === true,
        from: input.from ?? null,
        sender: input.sender ?? input.from ?? null,
      });
      applyInputFields(state, box, m, input);
      return info(m);
    },
    subscriptions: () =>
      [...state.notifications.subscriptions.values()].map((s) => ({
        id: s.id,
        resource: s.resource,
        mailbox: s.mailbox.user.userPrincipalName,
        changeType: s.changeTypes.join(','),
        notificationUrl: s.notificationUrl,
        lifecycleNotificationUrl: s.lifecycleNotificationUrl,
        expirationDateTime: new Date(s.expiresMs).toISOString(),
        needsReauthorization: s.needsReauthorization,
      })),
    lifecycle: (subscriptionId, event) => {
      const sub = state.notifications.subscriptions.get(subscriptionId);
      if (!sub)
        throw new GraphError(404, 'ResourceNotFound', `No subscription '${subscriptionId}'.`);
      if (!['reauthorizationRequired', 'subscriptionRemoved', 'missed'].includes(event))
        throw badRequest(`Unknown lifecycle event '${String(event)}'.`);
      state.notifications.lifecycle(sub, event);
    },
    setNotificationFaults: (faults) => state.notifications.setFaults(faults),
    notificationStats: () => ({ ...state.notifications.stats }),
    resetDeltaTokens: (upn) => {
      state.deltaResets.set(user(upn).id, Date.now() + 1);
    },
    setTenant: (settings) => {
      if (settings.sendFromAliasEnabled !== undefined) {
        if (typeof settings.sendFromAliasEnabled !== 'boolean')
          throw badRequest("'sendFromAliasEnabled' must be a boolean.");
        state.tenant.sendFromAliasEnabled = settings.sendFromAliasEnabled;
      }
      return { ...state.tenant };
    },
    grantSharedAccess: (userUpn, targetUpn, rights) => {
      state.store.setGrant(user(userUpn).id, user(targetUpn).id, {
        fullAccess: rights.fullAccess ?? false,
        sendAs: rights.sendAs ?? false,
        sendOnBehalf: rights.sendOnBehalf ?? false,
      });
    },
  };
}

const json = (status: number, value: unknown): HttpResult => ({
  status,
  headers: { 'Content-Type': 'application/json; charset=utf-8' },
  ...(value === undefined ? {} : { body: JSON.stringify(value) }),
});

/**
 * HTTP face of the control API (JSON, no auth: the sandbox only listens on 127.0.0.1):
 * GET /_sandbox/info · POST /_sandbox/tokens {upn, scopes, clientId?} · POST /_sandbox/revoke {user} ·
 * POST|DELETE /_sandbox/faults · GET|DELETE /_sandbox/requests · GET|PATCH /_sandbox/limits ·
 * GET /_sandbox/throttles ·
 * PUT /_sandbox/access-token-lifetime {seconds} · POST /_sandbox/grants {user, target, sendAs?, fullAccess?, sendOnBehalf?} ·
 * GET|PATCH /_sandbox/tenant {sendFromAliasEnabled} ·
 * GET|POST /_sandbox/mailboxes/{upn}/folders · GET|POST /_sandbox/mailboxes/{upn}/messages?folder=… ·
 * POST /_sandbox/mailboxes/{upn}/delta-reset · GET /_sandbox/subscriptions ·
 * POST /_sandbox/subscriptions/{id}/lifecycle {event} · PUT /_sandbox/notifications/faults ·
 * GET /_sandbox/notifications/stats
 */
export async function handleControlHttp(
  control: SandboxControl,
  info: () => unknown,
  state: SandboxState,
  method: string,
  url: URL,
  body: Buffer,
): Promise<HttpResult> {
  let payload: Record<string, unknown> = {};
  if (body.length > 0) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(body.toString('utf8'));
    } catch {
      return json(400, { error: 'invalid JSON' });
    }
    if (!isRecord(parsed)) return json(400, { error: 'JSON object expected' });
    payload = parsed;
  }
  const path = url.pathname.replace(/^\/_sandbox/, '');
  const str = (k: string): string => {
    const v = payload[k];
    if (typeof v !== 'string') throw badRequest(`'${k}' is required`);
    return v;
  };
  try {
    const mbox = /^\/mailboxes\/([^/]+)\/(folders|messages|delta-reset)$/.exec(path);
    const sub = /^\/subscriptions\/([^/]+)\/lifecycle$/.exec(path);
    switch (
      `${method} ${mbox ? `/mailboxes/${mbox[2]}` : sub ? '/subscriptions/lifecycle' : path}`
    ) {
      case 'GET /info':
        return json(200, info());
      case 'POST /tokens':
        return json(
          200,
          await control.issueTokens(str('upn'), {
            scopes: payload.scopes as string[] | string,
            ...(typeof payload.clientId === 'string' ? { clientId: payload.clientId } : {}),
          }),
        );
      case 'POST /clients/certificates':
        return json(
          201,
          control.registerClientCertificate(
            str('certificate'),
            typeof payload.clientId === 'string' ? payload.clientId : undefined,
          ),
        );
      case 'POST /revoke':
        control.revokeRefreshTokens(str('user'));
        return json(204, undefined);
      case 'POST /faults':
        control.injectFault(payload as unknown as FaultRule);
        return json(204, undefined);
      case 'DELETE /faults':
        control.clearFaults();
        return json(204, undefined);
      case 'GET /requests':
        return json(200, control.requestLog());
      case 'DELETE /requests':
        control.clearRequestLog();
        return json(204, undefined);
      case 'GET /throttles':
        return json(200, control.throttles());
      case 'GET /limits':
        return json(200, state.limits.limits);
      case 'PATCH /limits':
        return json(200, control.setLimits(payload));
      case 'PUT /access-token-lifetime':
        control.setAccessTokenLifetime(Number(payload.seconds));
        return json(204, undefined);
      case 'GET /tenant':
        return json(200, control.setTenant({}));
      case 'PATCH /tenant':
        return json(200, control.setTenant(payload));
      case 'POST /grants':
        control.grantSharedAccess(str('user'), str('target'), {
          sendAs: payload.sendAs === true,
          fullAccess: payload.fullAccess === true,
          sendOnBehalf: payload.sendOnBehalf === true,
        });
        return json(204, undefined);
      case 'GET /mailboxes/folders':
        return json(200, control.folders(safeDecode(mbox![1]!) ?? ''));
      case 'POST /mailboxes/folders':
        return json(201, {
          id: control.addFolder(safeDecode(mbox![1]!) ?? '', str('parent'), str('displayName')),
        });
      case 'GET /mailboxes/messages':
        return json(
          200,
          control.messages(safeDecode(mbox![1]!) ?? '', url.searchParams.get('folder') ?? 'inbox'),
        );
      case 'POST /mailboxes/messages':
        return json(
          201,
          control.addMessage(
            safeDecode(mbox![1]!) ?? '',
            url.searchParams.get('folder') ?? 'inbox',
            payload,
          ),
        );
      case 'POST /mailboxes/delta-reset':
        control.resetDeltaTokens(safeDecode(mbox![1]!) ?? '');
        return json(204, undefined);
      case 'GET /subscriptions':
        return json(200, control.subscriptions());
      case 'POST /subscriptions/lifecycle':
        control.lifecycle(safeDecode(sub![1]!) ?? '', str('event') as LifecycleEvent);
        return json(202, undefined);
      case 'PUT /notifications/faults':
        control.setNotificationFaults(payload);
        return json(204, undefined);
      case 'GET /notifications/stats':
        return json(200, control.notificationStats());
      default:
        return json(404, { error: `unknown control endpoint ${method} ${url.pathname}` });
    }
  } catch (err) {
    if (err instanceof GraphError)
      return json(err.status, { error: err.code, message: err.message });
    throw err;
  }
}
