import { describe, expect, it } from 'vitest';

import { createLogger } from '../../src/core/logger';
import { type Lock, type LockProvider } from '../../src/credentials/lease';
import { type StoredRecord } from '../../src/credentials/record';
import { lockOrWinner, type RefreshLockOptions } from '../../src/credentials/refresh-lock';
import { type CredentialRecord } from '../../src/credentials/types';

/** The cross-instance lock wait of a refresh, alone: a fake lock and record stand in for storage. */

const record = (fields: Partial<CredentialRecord>): StoredRecord => ({
  version: 'v',
  record: { status: 'active', lastRefreshedAt: 1000, ...fields } as CredentialRecord,
});

function setup(options: { freeAfter?: number; records?: StoredRecord[] } = {}) {
  const warnings: string[] = [];
  let asks = 0;
  let reads = 0;
  const lock: Lock = { release: () => Promise.resolve() };
  const locks: LockProvider = {
    tryAcquire: () => {
      asks++;
      return Promise.resolve(asks > (options.freeAfter ?? 0) ? lock : undefined);
    },
  };
  const records = options.records ?? [];
  const base: RefreshLockOptions = {
    locks,
    name: 'svc--c1',
    read: () => Promise.resolve(records[Math.min(reads++, records.length - 1)]!),
    seenRefreshAt: 1000,
    waitMs: 60_000,
    pollMs: 5,
    log: createLogger((level, line) => {
      if (level === 'warn') warnings.push(line);
    }),
  };
  return { base, lock, warnings, asks: () => asks, reads: () => reads };
}

describe('refresh lock', () => {
  it('takes a free lock at once, reading nothing', async () => {
    const { base, lock, reads } = setup();
    await expect(lockOrWinner(base)).resolves.toEqual({ lock });
    expect(reads()).toBe(0);
  });

  it('waits for the holder and takes the lock once it is free', async () => {
    const { base, lock, asks } = setup({ freeAfter: 2, records: [record({})] });
    await expect(lockOrWinner(base)).resolves.toEqual({ lock });
    expect(asks()).toBe(3);
  });

  it("returns the holder's refreshed record instead of refreshing again", async () => {
    const refreshed = record({ lastRefreshedAt: 2000 });
    const { base, asks } = setup({ freeAfter: 99, records: [record({}), refreshed] });
    await expect(lockOrWinner(base)).resolves.toEqual({ winner: refreshed });
    expect(asks()).toBe(2);
  });

  it('returns a record the holder marked for reconnecting', async () => {
    const reauth = record({ status: 'reauth_required' });
    const { base } = setup({ freeAfter: 99, records: [reauth] });
    await expect(lockOrWinner(base)).resolves.toEqual({ winner: reauth });
  });

  it('gives up on a holder that takes too long, with a warning', async () => {
    const { base, warnings } = setup({ freeAfter: 1_000_000, records: [record({})] });
    await expect(lockOrWinner({ ...base, waitMs: 30 })).resolves.toEqual({});
    expect(warnings.some((line) => line.includes('refresh lock still held'))).toBe(true);
  });

  it('stops waiting when its signal aborts', async () => {
    const { base } = setup({ freeAfter: 1_000_000, records: [record({})] });
    const controller = new AbortController();
    const waiting = lockOrWinner({ ...base, pollMs: 60_000, abortSignal: controller.signal });
    controller.abort(new Error('closing'));
    await expect(waiting).rejects.toThrow('closing');
  });
});
