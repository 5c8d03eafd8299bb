import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

import type { TestProject } from 'vitest/node' with { 'resolution-mode': 'import' };

import { startAzurite } from '../../src/local/azurite';

/**
 * One Azurite for the whole run instead of one per test file (starting one costs seconds), with a
 * pool of storage accounts: every test stack claims an account of its own (`testStorage()`), so
 * no test sees another's tables, queues or blobs.
 */

export interface SharedAzurite {
  ports: { blob: number; queue: number; table: number };
  accounts: string[];
  /** A folder where an account is claimed by creating a folder of its name (atomic across workers). */
  claims: string;
}

declare module 'vitest' {
  export interface ProvidedContext {
    azurite: SharedAzurite;
  }
}

/** More than the stacks one run starts (~60 today); past that a stack starts an Azurite of its own. */
const ACCOUNTS = 200;

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const accounts = Array.from({ length: ACCOUNTS }, (_, i) => `omftest${i}`);
  const [azurite, claims] = await Promise.all([
    startAzurite({ accounts, startTimeoutMs: 120_000 }), // a bound, for a machine under load
    mkdtemp(path.join(tmpdir(), 'omf-accounts-')),
  ]);
  project.provide('azurite', { ports: azurite.ports, accounts, claims });
  return async () => {
    await azurite.stop();
    await rm(claims, { recursive: true, force: true });
  };
}
