import { abortable } from '../core/abort';
import { ReauthRequiredError } from '../core/errors';
import { type Logger } from '../core/logger';
import { type LockProvider } from './lease';
import { type RecordRepository } from './record';
import { createRecordReader, type UnreadableRecord } from './record-reader';
import { newEntry, isFresh, type TokenEntry } from './token-entry';
import { type TokenEndpoint } from './token-endpoint';
import { createRefresher } from './token-refresh';
import { type AccessGrant, type CredentialKey, keyString, type TokenProvider } from './types';

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

/**
 * Serves cached access tokens and refreshes each credential at most once at a time: in process by
 * a shared promise (the single flight below), across instances by a blob lease (the loser waits
 * and re-reads the record; `refresh-lock.ts`). The refresh itself is `token-refresh.ts`, the
 * write-back of a rotated refresh token `rotation-writer.ts`, a refused grant `reauth.ts`.
 */
export function createTokenManager(options: TokenManagerOptions): TokenManager {
  const skewMs = options.skewMs ?? 5 * 60_000;
  const recentRefreshMs = options.recentRefreshMs ?? 5_000;
  const revalidateMs = options.revalidateMs ?? 60_000;
  const entries = new Map<string, TokenEntry>();
  const reader = createRecordReader(options.repo, options.log);
  // A refresh is shared by every caller waiting for it, so no one caller's signal may stop it;
  // closing the manager does (each caller's own wait honours its signal, see `abortable`).
  const closing = new AbortController();
  const refresher = createRefresher({
    repo: options.repo,
    endpoint: options.endpoint,
    reader,
    locks: options.locks,
    log: options.log,
    skewMs,
    recentRefreshMs,
    lockWaitMs: options.lockWaitMs ?? 15_000,
    lockPollMs: options.lockPollMs ?? 250,
    persistRetryBaseMs: options.persistRetryBaseMs ?? 1_000,
    reauthRecheckMs: options.reauthRecheckMs ?? 30_000,
    abortSignal: closing.signal,
  });

  const entryFor = (key: CredentialKey): TokenEntry => {
    const id = keyString(key);
    let e = entries.get(id);
    if (!e) entries.set(id, (e = newEntry(key)));
    return e;
  };
  const recentlyRefreshed = (e: TokenEntry, now = Date.now()) =>
    e.lastRefreshAt !== undefined && now - e.lastRefreshAt < recentRefreshMs;

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
      const cached = !e.pending && isFresh(e.grant, skewMs, now);
      if (cached && checked && (!force || recentlyRefreshed(e, now))) {
        e.lastUsedAt = now;
        return e.grant!;
      }
      if (e.flight) {
        const grant = await abortable(e.flight, opts.abortSignal);
        if (!force || recentlyRefreshed(e)) return grant;
        continue; // that flight served a stored token; a forced caller needs a refresh
      }
      const flight = (
        cached && !force ? refresher.revalidate(e) : refresher.refresh(e, force)
      ).finally(() => {
        if (e.flight === flight) e.flight = undefined;
      });
      e.flight = flight;
      const grant = await abortable(flight, opts.abortSignal);
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
      reader.forget(key);
    },
    unreadable: () => reader.unreadable(),
    unpersisted: () => [...entries.values()].filter((e) => e.pending).map((e) => ({ ...e.key })),
    close() {
      refresher.writer.close();
      closing.abort(new Error('The token manager was closed.'));
      for (const e of entries.values()) if (e.retryTimer) clearTimeout(e.retryTimer);
    },
  };
}
