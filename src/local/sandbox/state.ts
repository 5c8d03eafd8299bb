import type { FaultInjector } from './faults';
import type { AccessGrant, IdentityPlatform } from './identity';
import type { LimitTracker } from './limits';
import type { NotificationHub } from './notifications';
import type { Mailbox, MailStore, TenantSettings, UserRecord } from './store';
import type { UploadSessions } from './uploads';

/** An HTTP answer of the sandbox (identity, uploads, control), written by the server. */
export interface HttpResult {
  status: number;
  headers: Record<string, string>;
  body?: Buffer | string;
}

/** One entry of the request log: what was asked and answered, never token values. */
export interface RequestLogEntry {
  method: string;
  path: string;
  query: string;
  /** Names (lower case) of the request headers that were present, e.g. `authorization`. */
  headersPresent: string[];
  bodyBytes: number;
  status: number;
  /** Target mailbox UPN for Graph mail requests, null otherwise. */
  mailbox: string | null;
  at: string;
  /** True for requests executed as part of a `$batch`. */
  inBatch: boolean;
}

/** Shared state the HTTP front, the Graph handlers and the control API work on. */
export interface SandboxState {
  store: MailStore;
  idp: IdentityPlatform;
  limits: LimitTracker;
  faults: FaultInjector;
  uploads: UploadSessions;
  /** Subscriptions and change notifications. */
  notifications: NotificationHub;
  /** Per mailbox (user id): delta tokens issued before this time answer 410 (sync state lost). */
  deltaResets: Map<string, number>;
  log: RequestLogEntry[];
  origin: () => string;
  tenantId: string;
  /** Exchange organization settings (SendFromAliasEnabled). */
  tenant: TenantSettings;
  /** Per HTTP exchange (a `$batch` once). */
  latencyMs: number;
  /** Per Outlook operation, inside a `$batch` too, holding the concurrency slot. */
  serviceMs: number;
  /** Pending Outbox timers, cleared on close. */
  timers: Set<NodeJS.Timeout>;
}

/** A Graph request, from a socket or from inside a `$batch`. */
export interface GraphRequest {
  method: string;
  /** Path below `/v1.0`, e.g. `/me/messages`. */
  path: string;
  query: URLSearchParams;
  /** Lower-case header names. */
  headers: Record<string, string>;
  body: Buffer;
  inBatch: boolean;
}

/** Everything a handler needs about the caller and the target mailbox. */
export interface GraphContext {
  state: SandboxState;
  req: GraphRequest;
  grant: AccessGrant;
  caller: UserRecord;
  mailbox: Mailbox;
  isSelf: boolean;
  /** Path segments after the user segment (`me` or `users/{id}`), keys normalised from `x('id')`. */
  segments: string[];
  /** Text like `me` or `users/{id}` used to build absolute links back to the same resource. */
  userSegment: string;
  prefer: Map<string, string>;
  preferApplied: string[];
  immutableIds: boolean;
  bodyType: 'text' | 'html' | null;
}
