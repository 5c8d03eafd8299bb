import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

import type { TestProject } from 'vitest/node' with { 'resolution-mode': 'import' };

import { type AzuriteInstance, startAzurite } from '../../src/local/azurite';

/**
 * One Azurite per test worker for the whole run instead of one per test stack (starting one costs
 * seconds), each with a pool of storage accounts: every stack claims an account of its own
 * (`testStorage()`), so no test sees another's tables, queues or blobs. One per worker, not one
 * for all: Azurite is a single process, and two workers' storage calls would queue behind it.
 */

export interface SharedAzurite {
  /** Ports of each worker's Azurite (a worker picks by its VITEST_POOL_ID). */
  instances: Array<{ blob: number; queue: number; table: number }>;
  accounts: string[];
  /** A folder where an account is claimed by creating a folder of its name (atomic across workers). */
  claims: string;
}

declare module 'vitest' {
  export interface ProvidedContext {
    azurite: SharedAzurite;
  }
}

/** More than the stacks one run starts (~70 today); past that a stack starts an Azurite of its own. */
const ACCOUNTS = 200;

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const accounts = Array.from({ length: ACCOUNTS }, (_, i) => `omftest${i}`);
  const workers = Math.max(1, project.config.maxWorkers);
  const claims = await mkdtemp(path.join(tmpdir(), 'omf-accounts-'));
  const instances: AzuriteInstance[] = [];
  const stop = async () => {
    await Promise.all(instances.map((a) => a.stop()));
    await rm(claims, { recursive: true, force: true });
  };
  try {
    // One after another: each picks free ports, and two picking at once could pick the same.
    // A generous bound: the run waits for these once, on a machine that may be busy.
    for (let i = 0; i < workers; i++)
      instances.push(await startAzurite({ accounts, startTimeoutMs: 120_000 }));
  } catch (error) {
    await stop(); // never leave an Azurite running when the run cannot start
    throw error;
  }
  project.provide('azurite', { instances: instances.map((a) => a.ports), accounts, claims });
  return stop;
}
