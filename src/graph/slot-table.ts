import { createHash } from 'node:crypto';

import { type ContainerClient } from '@azure/storage-blob';

import { type Logger } from '../core/logger';
import { type StorageClients, storageStatus } from '../storage';

/**
 * One mailbox slot this instance holds until `release` (which never rejects: a lease not
 * released expires); `renew` keeps it past the lease and rejects when the lease was lost.
 */
export interface SlotLease {
  readonly index: number;
  renew(): Promise<void>;
  release(): Promise<void>;
}

/** The slots of every mailbox, shared by every instance of the app. */
export interface SlotTable {
  /**
   * Leases up to `count` free slots of `mailbox` other than the `held` ones. Resolves with those
   * it got, none when others hold them all; throws when the table cannot be reached.
   */
  lease(mailbox: string, count: number, held: ReadonlySet<number>): Promise<SlotLease[]>;
}

export const SLOT_CONTAINER = 'mailbox-slots';
/** Shortest lease Blob storage grants: an instance that dies frees its slots within it. */
export const SLOT_LEASE_SECONDS = 15;

/** The blob folder of a mailbox's slots: a hash, so caller text never becomes a blob path. */
export function slotFolder(mailbox: string): string {
  return createHash('sha256').update(mailbox.toLowerCase()).digest('hex');
}

/** Leases one slot's blob; undefined when another instance holds it. */
async function leaseSlot(
  container: ContainerClient,
  folder: string,
  index: number,
  log: Logger,
): Promise<SlotLease | undefined> {
  const blob = container.getBlockBlobClient(`${folder}/${index}`);
  const lease = blob.getBlobLeaseClient();
  const acquire = async (): Promise<boolean> => {
    try {
      await lease.acquireLease(SLOT_LEASE_SECONDS);
      return true;
    } catch (error) {
      if (storageStatus(error) === 409) return false; // another instance holds it
      throw error;
    }
  };
  let leased: boolean;
  try {
    leased = await acquire();
  } catch (error) {
    if (storageStatus(error) !== 404) throw error;
    // The slot's first use: make its blob (racing instances may both try), then lease it.
    await blob.upload('', 0, { conditions: { ifNoneMatch: '*' } }).catch((e: unknown) => {
      if (storageStatus(e) !== 409 && storageStatus(e) !== 412) throw e;
    });
    leased = await acquire();
  }
  if (!leased) return undefined;
  return {
    index,
    renew: async () => {
      await lease.renewLease();
    },
    release: () =>
      lease.releaseLease().then(
        () => undefined,
        // A lease that cannot be released expires by itself.
        (error: unknown) => log.warn('mailbox slot release failed', { error }),
      ),
  };
}

/**
 * The slot table in Blob storage: slot i of a mailbox is the blob `<sha256(mailbox)>/<i>` and
 * holding it means holding the blob's lease. Storage keeps the leases' clocks, so instances
 * need not agree on the time, and a lease nobody renews expires on its own.
 */
export function createBlobSlotTable(
  storage: StorageClients,
  options: { slots: number; log: Logger },
): SlotTable {
  return {
    async lease(mailbox, count, held) {
      const container = await storage.container(SLOT_CONTAINER);
      const folder = slotFolder(mailbox);
      const free = Array.from({ length: options.slots }, (_, i) => i).filter((i) => !held.has(i));
      // Start at a random slot so instances asking together do not all race for slot 0.
      const start = Math.floor(Math.random() * free.length);
      const got: SlotLease[] = [];
      try {
        for (const index of [...free.slice(start), ...free.slice(0, start)]) {
          if (got.length >= count) break;
          const slot = await leaseSlot(container, folder, index, options.log);
          if (slot) got.push(slot);
        }
      } catch (error) {
        await Promise.all(got.map((slot) => slot.release()));
        throw error;
      }
      return got;
    },
  };
}
