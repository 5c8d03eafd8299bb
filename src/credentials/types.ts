/** Identifies one credential: ids are scoped per service (two services may each have `c1`). */
export interface CredentialKey {
  serviceId: string;
  credentialId: string;
}

/** What the Graph helper needs per request. */
export interface AccessGrant {
  accessToken: string;
  /** Epoch ms. */
  expiresAt: number;
  /** Granted scopes (the Graph helper checks `.Shared` for other mailboxes). */
  scopes: string[];
  account: { id: string; address: string; displayName: string };
  /** The credential's default shared mailbox UPN, if set on import. */
  mailbox?: string;
}

export interface TokenProvider {
  /**
   * Cached until shortly before expiry; refreshes once (single flight) otherwise. Throws
   * ReauthRequiredError / NotFoundError.
   */
  getAccessToken(
    key: CredentialKey,
    options?: { forceRefresh?: boolean; abortSignal?: AbortSignal },
  ): Promise<AccessGrant>;
}

export interface AppKeys {
  /** HMAC keys for cursors / OAuth state, derived (HKDF) from the data key per purpose. */
  hmacKey(purpose: string): Promise<Buffer>;
  /**
   * An AES-256 key per purpose derived (HKDF) from data key `keyId` (the current one when absent),
   * carrying that data key's id, so values sealed with it still open after a key rotation.
   */
  sealingKey(purpose: string, keyId?: string): Promise<{ id: string; key: Buffer } | undefined>;
}

export type CredentialStatus = 'active' | 'reauth_required';

/** The decrypted credential record. Only ever held in memory; stored encrypted. */
export interface CredentialRecord {
  serviceId: string;
  credentialId: string;
  clientId: string;
  tenantId: string;
  /**
   * The scopes requested: the configured ones or those given at import. Every refresh sends them
   * with `offline_access` (without it the identity platform returns no new refresh token).
   */
  scopes: string[];
  /**
   * The token response's `scope` (resource scopes only, never `offline_access`): reported and
   * checked for `.Shared`, never requested. Absent on records stored before it was kept apart,
   * whose `scopes` then hold what was granted.
   */
  grantedScopes?: string[];
  account: { id: string; address: string; displayName: string };
  mailbox?: string;
  refreshToken: string;
  /** Since when refreshes return no new refresh token (the old one stays in use). */
  notRotatedSince?: number;
  accessToken?: string;
  /** Epoch ms of the cached access token's expiry. */
  accessTokenExpiresAt?: number;
  status: CredentialStatus;
  /** Why the credential needs reconnecting (identity platform error and AADSTS code; no token). */
  reauthReason?: string;
  createdAt: number;
  /** When the refresh token was last replaced. */
  rotatedAt: number;
  lastRefreshedAt?: number;
  /** Last time a token was handed out; persisted with the next write. */
  lastUsedAt?: number;
}

/** What callers may see: never a token. */
export interface CredentialView {
  credentialId: string;
  serviceId: string;
  status: CredentialStatus;
  account: { address: string; displayName: string };
  /** Granted scopes. */
  scopes: string[];
  tokenExpiry: string | null;
  lastRefreshedAt: string | null;
}

/** Record metadata held in secret tags, readable without decrypting anything. */
export interface CredentialMeta {
  serviceId: string;
  credentialId: string;
  status: CredentialStatus;
  /** Absent when a value did not fit a tag; the record must then be decrypted for the view. */
  address?: string;
  displayName?: string;
  /** Granted scopes. */
  scopes?: string[];
  tokenExpiry?: number;
  notRotatedSince?: number;
  lastRefreshedAt?: number;
  rotatedAt?: number;
  createdAt?: number;
  keyId?: string;
}

export function keyString(key: CredentialKey): string {
  return `${key.serviceId}/${key.credentialId}`;
}

/** The scopes to request: `offline_access` is added when missing, so refresh tokens keep coming. */
export function withOfflineAccess(scopes: readonly string[]): string[] {
  return scopes.some((s) => s.toLowerCase() === 'offline_access')
    ? [...scopes]
    : [...scopes, 'offline_access'];
}

export function grantedScopesOf(record: CredentialRecord): string[] {
  return [...(record.grantedScopes ?? record.scopes)];
}
