import { type Logger } from '../core/logger';
import { type StorageClients, storageErrorCode, storageStatus } from '../storage';

/**
 * Cross-instance mutual exclusion for token refreshes: a blob lease on `locks/<name>`. A refresh
 * done twice is harmless (Microsoft does not revoke the older refresh token), so any storage
 * failure degrades to "no lock" rather than failing the request.
 */
export interface Lock {
  release(): Promise<void>;
}

export interface LockProvider {
  /** Undefined when someone else holds it. */
  tryAcquire(name: string, options?: { abortSignal?: AbortSignal }): Promise<Lock | undefined>;
}

const LEASE_SECONDS = 30;
const RENEW_EVERY_MS = 10_000;

export function createBlobLockProvider(storage: StorageClients, log?: Logger): LockProvider {
  return {
    async tryAcquire(name, options = {}) {
      try {
        const container = await storage.container('locks');
        const blob = container.getBlockBlobClient(name);
        try {
          await blob.upload('', 0, {
            conditions: { ifNoneMatch: '*' },
            ...(options.abortSignal
              ? options.abortSignal
                ? { abortSignal: options.abortSignal }
                : {}
              : {}),
          });
        } catch (error) {
          // Exists already (409), or exists and is leased (412): both fine.
          if (storageStatus(error) !== 409 && storageStatus(error) !== 412) throw error;
        }
        const lease = blob.getBlobLeaseClient();
        try {
          await lease.acquireLease(
            LEASE_SECONDS,
            options.abortSignal ? { abortSignal: options.abortSignal } : {},
          );
        } catch (error) {
          if (storageStatus(error) === 409 || storageErrorCode(error) === 'LeaseAlreadyPresent')
            return undefined;
          throw error;
        }
        const renew = setInterval(() => {
          lease
            .renewLease()
            .catch((error: unknown) => log?.warn('lease renew failed', { name, error }));
        }, RENEW_EVERY_MS);
        renew.unref();
        return {
          async release() {
            clearInterval(renew);
            await lease
              .releaseLease()
              .catch((error: unknown) =>
                log?.warn('lease release failed; it expires by itself', { name, error }),
              );
          },
        };
      } catch (error) {
        if (options.abortSignal?.aborted) throw error;
        log?.warn('refresh lock unavailable; refreshing without it', { name, error });
        return { release: () => Promise.resolve() };
      }
    },
  };
}
