import { AppError, NotFoundError, ReauthRequiredError } from '../core/errors';
import { type Logger } from '../core/logger';
import { RecordUnreadableError } from './envelope';
import { type LockProvider } from './lease';
import { type RecordRepository, secretNameFor } from './record';
import { lockOrWinner } from './refresh-lock';
import { isGrantRejected, type TokenEndpoint, type TokenResult } from './token-endpoint';
import {
  type AccessGrant,
  type CredentialKey,
  type CredentialRecord,
  grantedScopesOf,
  keyString,
  type TokenProvider,
  withOfflineAccess,
} from './types';

export interface TokenManagerOptions {
  repo: RecordRepository;
  endpoint: TokenEndpoint;
  /** Cross-instance refresh lock; absent = in-process single flight only. */
  locks?: LockProvider | undefined;
  log: Logger;
  /** Refresh this long before expiry (default 5 min). */
  skewMs?: number;
  /** A forced refresh within this long after another refresh reuses it (default 5 s). */
  recentRefreshMs?: number;
  /** How long a loser of the lease waits for the winner's record (default 15 s). */
  lockWaitMs?: number;
  lockPollMs?: number;
  /** First delay of background re-persist attempts (default 1 s, doubling, at most 60 s). */
  persistRetryBaseMs?: number;
  /** A credential known to need reconnecting is re-read from the store at most this often (default 30 s). */
  reauthRecheckMs?: number;
  /**
   * A cached access token is served this long before the store is asked again whether the record
   * is still the one it came from (default 60 s): a DELETE or a new record written by another
   * instance takes effect here within this period, at one store read per period per credential.
   */
  revalidateMs?: number;
}

export interface UnreadableRecord {
  serviceId: string;
  credentialId: string;
  reason: string;
  at: number;
}

export interface TokenManager extends TokenProvider {
  /** Drops what is cached for a credential (after import, connect or delete). */
  forget(key: CredentialKey): void;
  /** Records that could not be decrypted in this process (reported by health, never overwritten). */
  unreadable(): UnreadableRecord[];
  /** Credentials whose rotated refresh token is held in memory only, waiting for the store. */
  unpersisted(): CredentialKey[];
  /** Stops background re-persist timers (tests, shutdown). */
  close(): void;
}

interface Entry {
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

function grantOf(record: CredentialRecord): AccessGrant | undefined {
  if (!record.accessToken || record.accessTokenExpiresAt === undefined) return undefined;
  return {
    accessToken: record.accessToken,
    expiresAt: record.accessTokenExpiresAt,
    scopes: grantedScopesOf(record),
    account: { ...record.account },
    ...(record.mailbox ? { mailbox: record.mailbox } : {}),
  };
}

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

function waitFor<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise;
  if (signal.aborted) return Promise.reject(signal.reason as Error);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (v) => (signal.removeEventListener('abort', onAbort), resolve(v)),
      (e: unknown) => (signal.removeEventListener('abort', onAbort), reject(e as Error)),
    );
  });
}

/**
 * Serves cached access tokens and refreshes each credential at most once at a time: in process by
 * a shared promise, across instances by a blob lease (the loser waits and re-reads the record).
 * A rotated refresh token is written to the store before its access token is handed out; if the
 * write fails the new record stays in memory and is re-persisted in the background (the old
 * refresh token stays valid at Microsoft, so even a crash before the write loses nothing).
 */
export function createTokenManager(options: TokenManagerOptions): TokenManager {
  const { repo, endpoint, log } = options;
  const skewMs = options.skewMs ?? 5 * 60_000;
  const recentMs = options.recentRefreshMs ?? 5_000;
  const lockWaitMs = options.lockWaitMs ?? 15_000;
  const lockPollMs = options.lockPollMs ?? 250;
  const persistBaseMs = options.persistRetryBaseMs ?? 1_000;
  const reauthRecheckMs = options.reauthRecheckMs ?? 30_000;
  const revalidateMs = options.revalidateMs ?? 60_000;
  const entries = new Map<string, Entry>();
  const unreadable = new Map<string, UnreadableRecord>();
  let closed = false;
  // A refresh is shared by every caller waiting for it, so no one caller's signal may stop it;
  // closing the manager does (each caller's own wait honours its signal, see `waitFor`).
  const closing = new AbortController();

  const entryFor = (key: CredentialKey): Entry => {
    const id = keyString(key);
    let e = entries.get(id);
    if (!e) entries.set(id, (e = { key: { ...key }, retryAttempt: 0 }));
    return e;
  };
  const fresh = (g: AccessGrant | undefined, now = Date.now()): g is AccessGrant =>
    g !== undefined && g.expiresAt - skewMs > now;
  const recentlyRefreshed = (e: Entry, now = Date.now()) =>
    e.lastRefreshAt !== undefined && now - e.lastRefreshAt < recentMs;

  function adopt(e: Entry, record: CredentialRecord, version: string): void {
    e.version = version;
    e.checkedAt = Date.now();
    e.grant = record.status === 'active' ? grantOf(record) : undefined;
    if (record.lastRefreshedAt !== undefined) {
      e.lastRefreshAt = Math.max(e.lastRefreshAt ?? 0, record.lastRefreshedAt);
    }
  }

  async function read(e: Entry): Promise<{ record: CredentialRecord; version: string }> {
    let stored;
    try {
      stored = await repo.read(e.key);
    } catch (error) {
      if (error instanceof RecordUnreadableError) {
        const id = keyString(e.key);
        unreadable.set(id, { ...e.key, reason: error.message, at: Date.now() });
        log.error('credential record cannot be decrypted; it is left untouched', {
          serviceId: e.key.serviceId,
          credentialId: e.key.credentialId,
          reason: error.message,
          keyId: error.keyId,
        });
        throw new AppError(
          'internal',
          `The record of credential ${e.key.credentialId} cannot be decrypted.`,
          { cause: error },
        );
      }
      throw error;
    }
    if (!stored) throw gone(e);
    unreadable.delete(keyString(e.key));
    return stored;
  }

  /** The record was deleted (here or on another instance): nothing of it may be used or written. */
  function gone(e: Entry): NotFoundError {
    e.grant = undefined;
    e.version = undefined;
    e.pending = undefined;
    if (e.retryTimer) clearTimeout(e.retryTimer);
    e.retryTimer = undefined;
    return new NotFoundError(`Credential ${e.key.credentialId}`);
  }

  /**
   * One store read: is the cached token still backed by the current record? A new version (a
   * rotation or a re-created credential elsewhere) is adopted; a deleted record ends the cache.
   */
  async function revalidate(e: Entry): Promise<AccessGrant> {
    const stored = await read(e);
    if (stored.version === e.version && fresh(e.grant)) {
      e.checkedAt = Date.now();
      return e.grant;
    }
    return refresh(e, false, stored);
  }

  async function persist(e: Entry): Promise<AccessGrant> {
    const record = e.pending!;
    const live = await repo.currentVersion(e.key);
    if (live === undefined) {
      log.warn('credential was deleted meanwhile; its refreshed token is dropped', { ...e.key });
      throw gone(e);
    }
    if (e.pendingBase !== undefined && live !== e.pendingBase) {
      // Written elsewhere since (a re-created credential): that record wins; ours was refreshed
      // from an older one, whose refresh token Microsoft still honours, so nothing is lost.
      log.warn('credential changed meanwhile; its refreshed token is dropped', { ...e.key });
      e.pending = undefined;
      return refresh(e, false);
    }
    let version: string;
    try {
      // Only ever a new version of a live record: a deleted credential is never written back.
      version = await repo.write(record, { mustExist: true });
    } catch (error) {
      if (error instanceof NotFoundError) {
        log.warn('credential was deleted meanwhile; its refreshed token is dropped', { ...e.key });
        throw gone(e);
      }
      log.error('could not store a rotated refresh token; keeping it in memory and retrying', {
        serviceId: e.key.serviceId,
        credentialId: e.key.credentialId,
        error,
      });
      scheduleRetry(e);
      throw error;
    }
    if (e.pending === record) e.pending = undefined;
    e.retryAttempt = 0;
    const previous = e.version;
    adopt(e, record, version);
    if (previous && previous !== version) {
      // Old versions hold old refresh tokens: make them unreadable (best effort).
      await repo
        .disableVersion(e.key, previous)
        .catch((error: unknown) => log.warn('could not disable an old record version', { error }));
    }
    return e.grant!;
  }

  function scheduleRetry(e: Entry): void {
    if (e.retryTimer || closed) return;
    const delay = Math.min(60_000, persistBaseMs * 2 ** e.retryAttempt++);
    e.retryTimer = setTimeout(() => {
      e.retryTimer = undefined;
      if (!e.pending) return;
      if (e.flight) return scheduleRetry(e);
      e.flight = persist(e).finally(() => (e.flight = undefined));
      e.flight.then(
        () => log.info('stored a rotated refresh token after retrying', { ...e.key }),
        () => undefined, // persist() rescheduled itself
      );
    }, delay);
    e.retryTimer.unref();
  }

  async function markReauth(e: Entry, record: CredentialRecord, reason: string): Promise<never> {
    const updated: CredentialRecord = {
      ...record,
      status: 'reauth_required',
      reauthReason: reason,
    };
    delete updated.accessToken;
    delete updated.accessTokenExpiresAt;
    e.grant = undefined;
    e.reauthUntil = Date.now() + reauthRecheckMs;
    log.warn('credential needs to be connected again', {
      serviceId: e.key.serviceId,
      credentialId: e.key.credentialId,
      reason,
    });
    try {
      e.version = await repo.write(updated, { mustExist: true });
    } catch (error) {
      if (error instanceof NotFoundError) throw gone(e);
      log.error('could not store reauth_required status', { ...e.key, error });
    }
    throw new ReauthRequiredError(e.key.credentialId);
  }

  async function refresh(
    e: Entry,
    force: boolean,
    justRead?: { record: CredentialRecord; version: string },
  ): Promise<AccessGrant> {
    if (e.pending) {
      const grant = await persist(e);
      if (!force || recentlyRefreshed(e)) return grant;
    }
    let stored = justRead ?? (await read(e));
    const usable = (s: { record: CredentialRecord }) => {
      if (s.record.status !== 'active') return false;
      const g = grantOf(s.record);
      if (!fresh(g)) return false;
      // A forced refresh accepts only a token that someone else refreshed just now.
      return !force || Date.now() - (s.record.lastRefreshedAt ?? 0) < recentMs;
    };
    if (stored.record.status === 'reauth_required') {
      adopt(e, stored.record, stored.version);
      e.reauthUntil = Date.now() + reauthRecheckMs;
      throw new ReauthRequiredError(e.key.credentialId);
    }
    if (usable(stored)) {
      adopt(e, stored.record, stored.version);
      return e.grant!;
    }
    const { lock, winner } = options.locks
      ? await lockOrWinner({
          locks: options.locks,
          name: secretNameFor(e.key),
          read: () => read(e),
          seenRefreshAt: stored.record.lastRefreshedAt,
          waitMs: lockWaitMs,
          pollMs: lockPollMs,
          abortSignal: closing.signal,
          log: log.child({ ...e.key }),
        })
      : {};
    try {
      if (winner) {
        adopt(e, winner.record, winner.version);
        if (winner.record.status !== 'active') throw new ReauthRequiredError(e.key.credentialId);
        if (fresh(e.grant)) return e.grant;
        stored = winner;
      } else if (lock) {
        // The previous holder may have finished just before we got the lease.
        const again = await read(e);
        if ((again.record.lastRefreshedAt ?? 0) > (stored.record.lastRefreshedAt ?? 0)) {
          adopt(e, again.record, again.version);
          if (again.record.status !== 'active') throw new ReauthRequiredError(e.key.credentialId);
          if (usable(again) || (force && fresh(e.grant))) return e.grant!;
        }
        stored = again;
      }
      const record = stored.record;
      let result;
      try {
        result = await endpoint.refresh(record.refreshToken, withOfflineAccess(record.scopes));
      } catch (error) {
        if (isGrantRejected(error)) return await markReauth(e, record, error.reason);
        throw error;
      }
      const now = Date.now();
      const pending: CredentialRecord = {
        ...record,
        accessToken: result.accessToken,
        accessTokenExpiresAt: result.expiresAt,
        grantedScopes:
          result.grantedScopes.length > 0 ? result.grantedScopes : grantedScopesOf(record),
        lastRefreshedAt: now,
        ...(e.lastUsedAt === undefined ? {} : { lastUsedAt: e.lastUsedAt }),
      };
      applyRotation(pending, result, now, log);
      e.pending = pending;
      e.pendingBase = stored.version;
      e.lastRefreshAt = now;
      log.info('refreshed an access token', { ...e.key, rotated: Boolean(result.refreshToken) });
      return await persist(e);
    } finally {
      await lock?.release();
    }
  }

  async function getAccessToken(
    key: CredentialKey,
    opts: { forceRefresh?: boolean; abortSignal?: AbortSignal } = {},
  ): Promise<AccessGrant> {
    const e = entryFor(key);
    const force = opts.forceRefresh === true;
    for (;;) {
      const now = Date.now();
      if (e.reauthUntil !== undefined && e.reauthUntil > now && !e.pending) {
        throw new ReauthRequiredError(key.credentialId);
      }
      const checked = e.checkedAt !== undefined && now - e.checkedAt < revalidateMs;
      if (!e.pending && fresh(e.grant, now) && checked && (!force || recentlyRefreshed(e, now))) {
        e.lastUsedAt = now;
        return e.grant;
      }
      if (e.flight) {
        const joined = e.flight;
        const grant = await waitFor(joined, opts.abortSignal);
        if (!force || recentlyRefreshed(e)) return grant;
        continue; // that flight served a stored token; a forced caller needs a refresh
      }
      const stale = !e.pending && !force && fresh(e.grant, now);
      const flight = (stale ? revalidate(e) : refresh(e, force)).finally(() => {
        if (e.flight === flight) e.flight = undefined;
      });
      e.flight = flight;
      const grant = await waitFor(flight, opts.abortSignal);
      e.lastUsedAt = Date.now();
      return grant;
    }
  }

  return {
    getAccessToken,
    forget(key) {
      const e = entries.get(keyString(key));
      if (!e) return;
      if (e.retryTimer) clearTimeout(e.retryTimer);
      entries.delete(keyString(key));
      unreadable.delete(keyString(key));
    },
    unreadable: () => [...unreadable.values()],
    unpersisted: () => [...entries.values()].filter((e) => e.pending).map((e) => ({ ...e.key })),
    close() {
      closed = true;
      closing.abort(new Error('The token manager was closed.'));
      for (const e of entries.values()) if (e.retryTimer) clearTimeout(e.retryTimer);
    },
  };
}
