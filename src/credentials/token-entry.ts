import { NotFoundError } from '../core/errors';
import { type StoredRecord } from './record';
import {
  type AccessGrant,
  type CredentialKey,
  type CredentialRecord,
  grantedScopesOf,
} from './types';

/** What the token manager holds for one credential in this process. */
export interface TokenEntry {
  key: CredentialKey;
  grant?: AccessGrant | undefined;
  version?: string | undefined;
  /** Refreshed but not yet written: holds the newest refresh token. Never dropped. */
  pending?: CredentialRecord | undefined;
  /** The record version `pending` was refreshed from: it is written only over that version. */
  pendingBase?: string | undefined;
  flight?: Promise<AccessGrant> | undefined;
  lastRefreshAt?: number | undefined;
  lastUsedAt?: number | undefined;
  /** When the store last confirmed that `version` is the current record. */
  checkedAt?: number | undefined;
  reauthUntil?: number | undefined;
  retryTimer?: NodeJS.Timeout | undefined;
  retryAttempt: number;
}

export function newEntry(key: CredentialKey): TokenEntry {
  return { key: { ...key }, retryAttempt: 0 };
}

/** The access token a record holds, when it holds one. */
export function grantOf(record: CredentialRecord): AccessGrant | undefined {
  if (!record.accessToken || record.accessTokenExpiresAt === undefined) return undefined;
  return {
    accessToken: record.accessToken,
    expiresAt: record.accessTokenExpiresAt,
    scopes: grantedScopesOf(record),
    account: { ...record.account },
    ...(record.mailbox ? { mailbox: record.mailbox } : {}),
  };
}

/** Usable for longer than `skewMs` from `now`. */
export function isFresh(
  grant: AccessGrant | undefined,
  skewMs: number,
  now = Date.now(),
): grant is AccessGrant {
  return grant !== undefined && grant.expiresAt - skewMs > now;
}

/** Takes a stored record as the entry's current one (its token only while it is active). */
export function adopt(e: TokenEntry, { record, version }: StoredRecord): void {
  e.version = version;
  e.checkedAt = Date.now();
  e.grant = record.status === 'active' ? grantOf(record) : undefined;
  if (record.lastRefreshedAt !== undefined) {
    e.lastRefreshAt = Math.max(e.lastRefreshAt ?? 0, record.lastRefreshedAt);
  }
}

/**
 * The record was deleted (here or on another instance): nothing of it may be used or written.
 * Returns the error to throw.
 */
export function dropDeleted(e: TokenEntry): NotFoundError {
  e.grant = undefined;
  e.version = undefined;
  e.pending = undefined;
  if (e.retryTimer) clearTimeout(e.retryTimer);
  e.retryTimer = undefined;
  return new NotFoundError(`Credential ${e.key.credentialId}`);
}
