import { mkdir } from 'node:fs/promises';
import path from 'node:path';

import { inject } from 'vitest';

import {
  type AzuriteInstance,
  azuriteConnectionString,
  startAzurite,
} from '../../src/local/azurite';

/**
 * Storage for one test stack: an unused account of the run's shared Azurite
 * (`test/support/global-setup.ts`), or an Azurite of its own when the pool is used up. `stop()`
 * releases nothing: an account is used once, so the next stack starts from empty storage.
 */
export async function testStorage(): Promise<AzuriteInstance> {
  const shared = inject('azurite');
  for (const account of shared.accounts) {
    try {
      await mkdir(path.join(shared.claims, account));
    } catch {
      continue; // claimed by another stack
    }
    return {
      connectionString: azuriteConnectionString(shared.ports, account),
      ports: shared.ports,
      stop: () => Promise.resolve(),
    };
  }
  return startAzurite();
}
