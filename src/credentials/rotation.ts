import { type Logger } from '../core/logger';
import { type TokenResult } from './token-endpoint';
import { type CredentialRecord, grantedScopesOf, withOfflineAccess } from './types';

/**
 * Takes a token response's refresh token into the record. Without one (the endpoint sends one only
 * when `offline_access` was requested) the old token stays in use; that is logged once, when it
 * starts, and reported by health (`notRotatedSince`) until a new one arrives.
 */
export function applyRotation(
  record: CredentialRecord,
  result: TokenResult,
  now: number,
  log: Logger,
): void {
  if (result.refreshToken !== undefined) {
    record.refreshToken = result.refreshToken;
    record.rotatedAt = now;
    delete record.notRotatedSince;
    return;
  }
  if (record.notRotatedSince !== undefined) return;
  record.notRotatedSince = now;
  log.warn('the identity platform returned no new refresh token; the old one stays in use', {
    serviceId: record.serviceId,
    credentialId: record.credentialId,
    requestedScopes: withOfflineAccess(record.scopes).join(' '),
  });
}

/**
 * The record after a refresh: the new access token, the scopes granted (the old ones when the
 * response names none), the rotated refresh token, and when it was last used here.
 */
export function refreshedRecord(
  record: CredentialRecord,
  result: TokenResult,
  context: { now: number; lastUsedAt: number | undefined; log: Logger },
): CredentialRecord {
  const { now, lastUsedAt } = context;
  const next: CredentialRecord = {
    ...record,
    accessToken: result.accessToken,
    accessTokenExpiresAt: result.expiresAt,
    grantedScopes: result.grantedScopes.length > 0 ? result.grantedScopes : grantedScopesOf(record),
    lastRefreshedAt: now,
    ...(lastUsedAt === undefined ? {} : { lastUsedAt }),
  };
  applyRotation(next, result, now, context.log);
  return next;
}
