import { sleep } from '../core/abort';
import { type Logger } from '../core/logger';
import { type Lock, type LockProvider } from './lease';
import { type StoredRecord } from './record';

export interface RefreshLockOptions {
  locks: LockProvider;
  /** The lock's name (the credential's secret name). */
  name: string;
  /** Reads the stored record, to see whether the holder refreshed it meanwhile. */
  read: () => Promise<StoredRecord>;
  /** `lastRefreshedAt` of the record as it was before waiting. */
  seenRefreshAt: number | undefined;
  /** How long to wait for the holder before refreshing without the lock. */
  waitMs: number;
  pollMs: number;
  abortSignal?: AbortSignal | undefined;
  log: Logger;
}

/** The lock, or the record the holder refreshed meanwhile; neither when the wait gave up. */
export interface LockOrWinner {
  lock?: Lock;
  winner?: StoredRecord;
}

/**
 * The cross-instance side of a refresh: takes the credential's lock, or waits for whoever holds
 * it and returns the record they refreshed (or marked for reauth), so only one instance spends
 * the refresh token. A holder that takes longer than `waitMs` is given up on: refreshing without
 * the lock is safe, the old refresh token stays valid until the new one is stored.
 */
export async function lockOrWinner(options: RefreshLockOptions): Promise<LockOrWinner> {
  const { locks, name, abortSignal } = options;
  const giveUpAt = Date.now() + options.waitMs;
  for (;;) {
    const lock = await locks.tryAcquire(name, abortSignal ? { abortSignal } : {});
    if (lock) return { lock };
    await sleep(options.pollMs, abortSignal);
    const stored = await options.read();
    if (
      (stored.record.lastRefreshedAt ?? 0) > (options.seenRefreshAt ?? 0) ||
      stored.record.status !== 'active'
    ) {
      return { winner: stored };
    }
    if (Date.now() > giveUpAt) {
      options.log.warn('refresh lock still held; refreshing without it');
      return {};
    }
  }
}
