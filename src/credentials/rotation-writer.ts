import { isErrorOf, NotFoundError } from '../core/errors';
import { type Logger } from '../core/logger';
import { type RecordRepository } from './record';
import { adopt, dropDeleted, type TokenEntry } from './token-entry';
import { type AccessGrant } from './types';

export interface RotationWriterOptions {
  repo: Pick<RecordRepository, 'currentVersion' | 'write' | 'disableVersion'>;
  log: Logger;
  /** First delay of background re-persist attempts (doubling, at most 60 s). */
  retryBaseMs: number;
  /**
   * Called when the record changed elsewhere since the pending one was refreshed from it: the
   * stored record wins and the caller gets a token from it instead.
   */
  refreshAgain: (e: TokenEntry) => Promise<AccessGrant>;
}

export interface RotationWriter {
  /** Writes the entry's pending record over the version it came from, then serves its token. */
  persist(e: TokenEntry): Promise<AccessGrant>;
  /** Stops scheduling background attempts (timers already set are cleared by their owner). */
  close(): void;
}

const MAX_RETRY_DELAY_MS = 60_000;

/**
 * The write-back of a rotated refresh token. It is written before its access token is handed out;
 * if the write fails the record stays in memory (`pending`) and is written again in the
 * background, doubling the delay (the old refresh token stays valid at Microsoft, so even a crash
 * before the write loses nothing). A deleted credential is never written back.
 */
export function createRotationWriter(options: RotationWriterOptions): RotationWriter {
  const { repo, log } = options;
  let closed = false;

  async function persist(e: TokenEntry): Promise<AccessGrant> {
    const record = e.pending!;
    const live = await repo.currentVersion(e.key);
    if (live === undefined) {
      log.warn('credential was deleted meanwhile; its refreshed token is dropped', { ...e.key });
      throw dropDeleted(e);
    }
    if (e.pendingBase !== undefined && live !== e.pendingBase) {
      // Written elsewhere since (a re-created credential): that record wins; ours was refreshed
      // from an older one, whose refresh token Microsoft still honours, so nothing is lost.
      log.warn('credential changed meanwhile; its refreshed token is dropped', { ...e.key });
      e.pending = undefined;
      return options.refreshAgain(e);
    }
    let version: string;
    try {
      version = await repo.write(record, { mustExist: true });
    } catch (error) {
      if (isErrorOf(error, NotFoundError)) {
        log.warn('credential was deleted meanwhile; its refreshed token is dropped', { ...e.key });
        throw dropDeleted(e);
      }
      log.error('could not store a rotated refresh token; keeping it in memory and retrying', {
        ...e.key,
        error,
      });
      scheduleRetry(e);
      throw error;
    }
    if (e.pending === record) e.pending = undefined;
    e.retryAttempt = 0;
    const previous = e.version;
    adopt(e, { record, version });
    if (previous && previous !== version) {
      // Old versions hold old refresh tokens: make them unreadable (best effort).
      await repo
        .disableVersion(e.key, previous)
        .catch((error: unknown) => log.warn('could not disable an old record version', { error }));
    }
    return e.grant!;
  }

  function scheduleRetry(e: TokenEntry): void {
    if (e.retryTimer || closed) return;
    const delay = Math.min(MAX_RETRY_DELAY_MS, options.retryBaseMs * 2 ** e.retryAttempt++);
    e.retryTimer = setTimeout(() => {
      e.retryTimer = undefined;
      if (!e.pending) return;
      // A caller's flight is writing (or refreshing) already; look again after it.
      if (e.flight) return scheduleRetry(e);
      e.flight = persist(e).finally(() => (e.flight = undefined));
      e.flight.then(
        () => log.info('stored a rotated refresh token after retrying', { ...e.key }),
        () => undefined, // persist() rescheduled itself
      );
    }, delay);
    e.retryTimer.unref();
  }

  return {
    persist,
    close: () => void (closed = true),
  };
}
