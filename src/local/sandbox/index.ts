/**
 * Graph sandbox: a local Microsoft Graph mail service and identity platform, faithful to
 * Microsoft's documented behaviour (limits and error shapes included). Used as the embedded
 * default of `npm start` and as the ground truth of integration tests. Binds 127.0.0.1 only.
 */
import type { AddressInfo } from 'node:net';
import { createControl, type SandboxControl } from './control';
import { FaultInjector } from './faults';
import { IdentityPlatform, type ClientRegistration, type SigningKeyPair } from './identity';
import { IdentityHttp } from './identity-http';
import { DEFAULT_LIMITS, LimitTracker, type SandboxLimits } from './limits';
import { NotificationHub } from './notifications';
import { seedStore } from './seed';
import { createSandboxServer } from './server';
import type { SandboxState } from './state';
import { MailStore, type SandboxUser, type TenantSettings } from './store';
import { UploadSessions } from './uploads';
import { createPrng, prngGuid } from './util';

export type {
  SandboxControl,
  FolderInfo,
  MessageInfo,
  SubscriptionInfo,
  TokenSet,
} from './control';
export type { FaultRule } from './faults';
export type { NotificationFaults, NotificationStats, LifecycleEvent } from './notifications';
export type { SandboxLimits } from './limits';
export type { RequestLogEntry } from './state';
export type { SandboxUser, TenantSettings } from './store';
export { DEFAULT_LIMITS } from './limits';
export { newSigningKey, type SigningKeyPair } from './identity';

export interface SandboxOptions {
  /** Default 0 (random); always binds 127.0.0.1. */
  port?: number;
  /** PRNG seed for the deterministic seed data, default 1. */
  seed?: number;
  /** Default 150; benchmarks ask for 50,000. */
  messagesPerUser?: number;
  /** Default 3599. */
  accessTokenLifetimeSeconds?: number;
  /**
   * The network's round trip, added once to every HTTP exchange with Graph (and upload PUT): a
   * `$batch` pays it once, not once per request inside it.
   */
  latencyMs?: number;
  /**
   * Outlook's own time per operation, spent holding the mailbox's concurrency slot: every request,
   * inside a `$batch` too, pays it. Default 0.
   */
  serviceMs?: number;
  /** Every limit is configurable; tests shrink windows. */
  limits?: Partial<SandboxLimits>;
  /** Default: one well-known dev client (`DEV_CLIENT`), any redirect URI. */
  clients?: ClientRegistration[];
  /** Authorize redirects straight back with a code; default false = consent page. */
  autoConsent?: boolean;
  /** Exchange organization settings; SendFromAliasEnabled is off by default, as in Exchange Online. */
  tenant?: Partial<TenantSettings>;
  /**
   * The RS256 key pair tokens are signed with (default: a new one). Making one costs more CPU
   * than the rest of a start, so a test run shares one; Entra signs every tenant's tokens with
   * the same keys too.
   */
  signingKey?: SigningKeyPair;
}

export interface Sandbox {
  /** e.g. http://127.0.0.1:53123, used as both GRAPH_BASE_URL and AUTHORITY_HOST. */
  url: string;
  tenantId: string;
  clientId: string;
  clientSecret: string;
  users: SandboxUser[];
  /** The settings that point the product at this sandbox, as `npm start` and the tests use them. */
  appSettings: Readonly<
    Record<
      'GRAPH_BASE_URL' | 'AUTHORITY_HOST' | 'TENANT_ID' | 'CLIENT_ID' | 'CLIENT_SECRET',
      string
    >
  >;
  control: SandboxControl;
  close(): Promise<void>;
}

/** The default dev client when `clients` is not given (a well-known, non-secret development value). */
export const DEV_CLIENT: ClientRegistration = {
  clientId: '5a1d0c3e-7b2f-4e6a-9c48-0d5e2f1b7a90',
  clientSecret: 'sandbox-dev-secret',
};

export async function startSandbox(options: SandboxOptions = {}): Promise<Sandbox> {
  const seed = options.seed ?? 1;
  const clients = options.clients ?? [DEV_CLIENT];
  const defaultClient = clients[0];
  if (!defaultClient) throw new Error('startSandbox: clients must not be empty');
  const limits: SandboxLimits = { ...DEFAULT_LIMITS, ...options.limits };
  const settings = {
    accessTokenLifetimeSeconds: options.accessTokenLifetimeSeconds ?? 3599,
    limits,
  };
  const tenantId = prngGuid(createPrng(seed ^ 0x7e4a47));
  const store = new MailStore();
  seedStore(store, { seed, messagesPerUser: options.messagesPerUser ?? 150, nowMs: Date.now() });
  let url = '';
  const origin = (): string => url;
  const idp = new IdentityPlatform(tenantId, clients, store, origin, settings);
  await idp.init(options.signingKey);
  const state: SandboxState = {
    store,
    idp,
    limits: new LimitTracker(limits),
    faults: new FaultInjector(seed),
    uploads: undefined as unknown as UploadSessions,
    notifications: new NotificationHub(store, limits, tenantId, seed),
    deltaResets: new Map(),
    log: [],
    origin,
    tenantId,
    tenant: { sendFromAliasEnabled: options.tenant?.sendFromAliasEnabled ?? false },
    latencyMs: options.latencyMs ?? 0,
    serviceMs: options.serviceMs ?? 0,
    timers: new Set(),
  };
  state.uploads = new UploadSessions(state);
  const control = createControl(state, settings, defaultClient.clientId);
  const users = store.users.map(({ id, userPrincipalName, mail, displayName }) => ({
    id,
    userPrincipalName,
    mail,
    displayName,
  }));
  const info = (): Record<string, unknown> => ({
    url,
    tenantId,
    clientId: defaultClient.clientId,
    clientSecret: defaultClient.clientSecret,
    users,
  });
  const server = createSandboxServer({
    state,
    identity: new IdentityHttp(idp, store, () => options.autoConsent ?? false),
    control,
    info,
  });
  // As the local host: a long idle keep-alive, so a client closes a pooled connection first.
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    tenantId,
    clientId: defaultClient.clientId,
    clientSecret: defaultClient.clientSecret,
    users,
    appSettings: {
      GRAPH_BASE_URL: url,
      AUTHORITY_HOST: url,
      TENANT_ID: tenantId,
      CLIENT_ID: defaultClient.clientId,
      CLIENT_SECRET: defaultClient.clientSecret,
    },
    control,
    close: async () => {
      state.notifications.close();
      for (const t of state.timers) clearTimeout(t);
      state.timers.clear();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
