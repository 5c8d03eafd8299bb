import { ReauthRequiredError } from '../core/errors';
import { type Logger } from '../core/logger';
import { type LockProvider } from './lease';
import { markReauthRequired } from './reauth';
import { type StoredRecord, type RecordRepository, secretNameFor } from './record';
import { type RecordReader } from './record-reader';
import { lockOrWinner } from './refresh-lock';
import { refreshedRecord } from './rotation';
import { createRotationWriter, type RotationWriter } from './rotation-writer';
import { adopt, grantOf, isFresh, type TokenEntry } from './token-entry';
import { isGrantRejected, type TokenEndpoint } from './token-endpoint';
import { type AccessGrant, withOfflineAccess } from './types';

export interface RefresherOptions {
  repo: RecordRepository;
  endpoint: TokenEndpoint;
  reader: RecordReader;
  locks?: LockProvider | undefined;
  log: Logger;
  skewMs: number;
  recentRefreshMs: number;
  lockWaitMs: number;
  lockPollMs: number;
  persistRetryBaseMs: number;
  reauthRecheckMs: number;
  /** Closing the manager: stops a wait for another instance's lock. */
  abortSignal: AbortSignal;
}

export interface Refresher {
  /**
   * A usable token for the entry: one stored by whoever refreshed last, or a new one from the
   * token endpoint (under the credential's lock, written back before it is served). `force` takes
   * a stored token only when it was refreshed within `recentRefreshMs`.
   */
  refresh(e: TokenEntry, force: boolean, justRead?: StoredRecord): Promise<AccessGrant>;
  /**
   * One store read: is the cached token still backed by the current record? A new version (a
   * rotation or a re-created credential elsewhere) is adopted; a deleted record ends the cache.
   */
  revalidate(e: TokenEntry): Promise<AccessGrant>;
  writer: RotationWriter;
}

/** The refresh itself: decide whether a stored token will do, otherwise spend the refresh token. */
export function createRefresher(options: RefresherOptions): Refresher {
  const { endpoint, reader, log, skewMs, recentRefreshMs } = options;
  const writer = createRotationWriter({
    repo: options.repo,
    log,
    retryBaseMs: options.persistRetryBaseMs,
    refreshAgain: (e) => refresh(e, false),
  });
  const reauth = { repo: options.repo, log, recheckMs: options.reauthRecheckMs };
  const recently = (at: number | undefined) => Date.now() - (at ?? 0) < recentRefreshMs;

  /** A stored record whose token will do (for a forced refresh: only one refreshed just now). */
  const usable = ({ record }: StoredRecord, force: boolean) =>
    record.status === 'active' &&
    isFresh(grantOf(record), skewMs) &&
    (!force || recently(record.lastRefreshedAt));

  /** Adopts a record someone else wrote; a status other than active is an answer too. */
  function adoptOther(e: TokenEntry, stored: StoredRecord): void {
    adopt(e, stored);
    if (stored.record.status !== 'active') throw new ReauthRequiredError(e.key.credentialId);
  }

  async function refresh(
    e: TokenEntry,
    force: boolean,
    justRead?: StoredRecord,
  ): Promise<AccessGrant> {
    if (e.pending) {
      const grant = await writer.persist(e);
      if (!force || recently(e.lastRefreshAt)) return grant;
    }
    let stored = justRead ?? (await reader.read(e));
    if (stored.record.status === 'reauth_required') {
      adopt(e, stored);
      e.reauthUntil = Date.now() + options.reauthRecheckMs;
      throw new ReauthRequiredError(e.key.credentialId);
    }
    if (usable(stored, force)) {
      adopt(e, stored);
      return e.grant!;
    }
    const { lock, winner } = options.locks
      ? await lockOrWinner({
          locks: options.locks,
          name: secretNameFor(e.key),
          read: () => reader.read(e),
          seenRefreshAt: stored.record.lastRefreshedAt,
          waitMs: options.lockWaitMs,
          pollMs: options.lockPollMs,
          abortSignal: options.abortSignal,
          log: log.child({ ...e.key }),
        })
      : {};
    try {
      if (winner) {
        adoptOther(e, winner);
        if (isFresh(e.grant, skewMs)) return e.grant;
        stored = winner;
      } else if (lock) {
        // The previous holder may have finished just before we got the lease.
        const again = await reader.read(e);
        if ((again.record.lastRefreshedAt ?? 0) > (stored.record.lastRefreshedAt ?? 0)) {
          adoptOther(e, again);
          if (usable(again, force) || (force && isFresh(e.grant, skewMs))) return e.grant!;
        }
        stored = again;
      }
      return await spend(e, stored);
    } finally {
      await lock?.release();
    }
  }

  /** Spends the refresh token, then writes the rotated record back before serving its token. */
  async function spend(e: TokenEntry, stored: StoredRecord): Promise<AccessGrant> {
    const { record } = stored;
    let result;
    try {
      result = await endpoint.refresh(record.refreshToken, withOfflineAccess(record.scopes));
    } catch (error) {
      if (isGrantRejected(error)) return markReauthRequired(e, record, error.reason, reauth);
      throw error;
    }
    const now = Date.now();
    e.pending = refreshedRecord(record, result, { now, lastUsedAt: e.lastUsedAt, log });
    e.pendingBase = stored.version;
    e.lastRefreshAt = now;
    log.info('refreshed an access token', { ...e.key, rotated: Boolean(result.refreshToken) });
    return writer.persist(e);
  }

  async function revalidate(e: TokenEntry): Promise<AccessGrant> {
    const stored = await reader.read(e);
    if (stored.version === e.version && isFresh(e.grant, skewMs)) {
      e.checkedAt = Date.now();
      return e.grant;
    }
    return refresh(e, false, stored);
  }

  return { refresh, revalidate, writer };
}
