import { isErrorOf, NotFoundError, ReauthRequiredError } from '../core/errors';
import { type Logger } from '../core/logger';
import { type RecordRepository } from './record';
import { dropDeleted, type TokenEntry } from './token-entry';
import { type CredentialRecord } from './types';

export interface ReauthOptions {
  repo: Pick<RecordRepository, 'write'>;
  log: Logger;
  /** Until when the entry answers ReauthRequiredError without reading the store again. */
  recheckMs: number;
}

/**
 * The identity platform refused the refresh token for good (revoked, expired, consent withdrawn):
 * the record is stored as `reauth_required` without its access token, so every instance stops
 * spending the token, and the caller is told to connect the credential again. Storing the status
 * is best effort; the error is the answer either way (NotFoundError when the record is gone).
 */
export async function markReauthRequired(
  e: TokenEntry,
  record: CredentialRecord,
  reason: string,
  options: ReauthOptions,
): Promise<never> {
  const { repo, log } = options;
  const updated: CredentialRecord = { ...record, status: 'reauth_required', reauthReason: reason };
  delete updated.accessToken;
  delete updated.accessTokenExpiresAt;
  e.grant = undefined;
  e.reauthUntil = Date.now() + options.recheckMs;
  log.warn('credential needs to be connected again', { ...e.key, reason });
  try {
    e.version = await repo.write(updated, { mustExist: true });
  } catch (error) {
    if (isErrorOf(error, NotFoundError)) throw dropDeleted(e);
    log.error('could not store reauth_required status', { ...e.key, error });
  }
  throw new ReauthRequiredError(e.key.credentialId);
}
