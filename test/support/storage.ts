import { mkdir } from 'node:fs/promises';
import path from 'node:path';

import { inject } from 'vitest';

import {
  type AzuriteInstance,
  azuriteConnectionString,
  startAzurite,
} from '../../src/local/azurite';
import { createStorageClients } from '../../src/storage';

/**
 * Storage for one test stack: an unused account of this worker's Azurite
 * (`test/support/global-setup.ts`), or an Azurite of its own when the pool is used up. `stop()`
 * releases nothing: an account is used once, so the next stack starts from empty storage.
 */
export async function testStorage(): Promise<AzuriteInstance> {
  const shared = inject('azurite');
  const ports =
    shared.instances[(Number(process.env.VITEST_POOL_ID ?? 1) - 1) % shared.instances.length]!;
  for (const account of shared.accounts) {
    try {
      await mkdir(path.join(shared.claims, account));
    } catch {
      continue; // claimed by another stack
    }
    return {
      connectionString: azuriteConnectionString(ports, account),
      ports,
      stop: () => Promise.resolve(),
    };
  }
  return startAzurite();
}

/** The product's storage clients over a test Azurite's connection string (no Azure credential). */
export function storageClientsFor(azurite: Pick<AzuriteInstance, 'connectionString'>) {
  return createStorageClients(
    { kind: 'connectionString', connectionString: azurite.connectionString },
    () => {
      throw new Error('no Azure credential in tests');
    },
  );
}
