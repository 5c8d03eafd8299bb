import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createLogger } from '../../src/core/logger';
import { SharedMailboxLimiter } from '../../src/graph/shared-limiter';
import {
  createBlobSlotTable,
  SLOT_CONTAINER,
  SLOT_LEASE_SECONDS,
  slotFolder,
  type SlotTable,
} from '../../src/graph/slot-table';
import { type AzuriteInstance } from '../../src/local/azurite';
import { type StorageClients } from '../../src/storage';
import { storageClientsFor, testStorage } from '../support/storage';

const MAILBOX = 'adele@contoso.test';
const log = createLogger(() => undefined);
let azurite: AzuriteInstance;

/** The storage clients of one app instance (each instance builds its own). */
function instanceStorage(): StorageClients {
  return storageClientsFor(azurite);
}
const table = (): SlotTable => createBlobSlotTable(instanceStorage(), { slots: 4, log });

beforeAll(async () => {
  azurite = await testStorage();
});
afterAll(() => azurite?.stop());

describe('slot table in Blob storage', () => {
  it('leases each slot of a mailbox to one instance at a time', async () => {
    const [a, b] = [table(), table()];
    const first = await a.lease(MAILBOX, 3, new Set());
    expect(first).toHaveLength(3);
    // b asks for 4 and gets the one left; then nothing until a lets go.
    const second = await b.lease(MAILBOX, 4, new Set());
    expect(second).toHaveLength(1);
    expect(new Set([...first, ...second].map((s) => s.index))).toEqual(new Set([0, 1, 2, 3]));
    expect(await b.lease(MAILBOX, 1, new Set())).toEqual([]);
    // Another mailbox has its own four.
    const other = await b.lease('megan@contoso.test', 4, new Set());
    expect(other).toHaveLength(4);
    await first[0]!.release();
    const again = await b.lease(MAILBOX, 1, new Set([second[0]!.index]));
    expect(again.map((s) => s.index)).toEqual([first[0]!.index]);
    await Promise.all([...first.slice(1), ...second, ...again, ...other].map((s) => s.release()));
  });

  it('names slot blobs by a hash of the mailbox, never by caller text', async () => {
    const slots = await table().lease('../Evil/..?x=1@contoso.test', 1, new Set());
    const container = await instanceStorage().container(SLOT_CONTAINER);
    const names: string[] = [];
    for await (const blob of container.listBlobsFlat()) names.push(blob.name);
    expect(names).toContain(`${slotFolder('../evil/..?x=1@contoso.test')}/${slots[0]!.index}`);
    expect(names.every((n) => /^[0-9a-f]{64}\/[0-3]$/.test(n))).toBe(true);
    await slots[0]!.release();
  });

  it(
    'gives the slots of an instance that died holding them to another once their leases expire',
    async () => {
      // A dead instance: it leased every slot, then neither renewed nor released them.
      const dead = await table().lease('dead@contoso.test', 4, new Set());
      expect(dead).toHaveLength(4);
      const limiter = new SharedMailboxLimiter({ table: table(), log, pollMs: 250, lingerMs: 10 });
      const started = Date.now();
      const release = await limiter.acquire('dead@contoso.test', {
        abortSignal: AbortSignal.timeout((SLOT_LEASE_SECONDS + 20) * 1000),
      });
      expect(Date.now() - started).toBeGreaterThan(SLOT_LEASE_SECONDS * 1000 - 2000);
      expect(limiter.held('dead@contoso.test')).toBe(1);
      // The dead instance's lease on that slot is gone for good: renewing it fails.
      const renewals = await Promise.allSettled(dead.map((slot) => slot.renew()));
      expect(renewals.filter((r) => r.status === 'rejected').length).toBeGreaterThanOrEqual(1);
      release();
      await limiter.close();
    },
    (SLOT_LEASE_SECONDS + 30) * 1000,
  );
});
