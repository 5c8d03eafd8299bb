import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { type AzuriteInstance, startAzurite } from '../../../src/local/azurite';
import { createPacer, dailyFit, type PacingLimits } from '../../../src/mail/bulk/pacing';
import { createStorageClients, type StorageClients } from '../../../src/storage';

let azurite: AzuriteInstance;
let storage: StorageClients;
let n = 0;

beforeAll(async () => {
  azurite = await startAzurite();
  storage = createStorageClients(
    { kind: 'connectionString', connectionString: azurite.connectionString },
    () => {
      throw new Error('unused');
    },
  );
});
afterAll(async () => {
  await azurite?.stop();
});

const limits = (over: Partial<PacingLimits> = {}): PacingLimits => ({
  ratePerMinute: 600,
  dailyRecipientLimit: 10_000,
  dailyWindowMs: 86_400_000,
  maxConcurrent: 4,
  ...over,
});

function tableName() {
  return `pace${Date.now().toString(36)}${n++}`;
}

describe('dailyFit', () => {
  it('fits while under the limit, else waits for the oldest buckets to leave the window', () => {
    const windowMs = 96_000; // 1 s buckets
    expect(dailyFit([[0, 3]], 10_000, 2, 5, windowMs)).toBe(10_000);
    expect(
      dailyFit(
        [
          [0, 3],
          [5000, 2],
        ],
        10_000,
        1,
        5,
        windowMs,
      ),
    ).toBe(1000 + windowMs);
    expect(
      dailyFit(
        [
          [0, 3],
          [5000, 2],
        ],
        10_000,
        4,
        5,
        windowMs,
      ),
    ).toBe(6000 + windowMs);
    // Too heavy for an empty window is refused until a whole window has passed.
    expect(dailyFit([], 0, 6, 5, windowMs)).toBe(windowMs);
  });
});

describe('pacer on Azurite', () => {
  it('hands out distinct, evenly spaced slots to concurrent instances', async () => {
    const name = tableName();
    const a = createPacer(() => storage.table(name), limits());
    const b = createPacer(() => storage.table(name), limits());
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        (i % 2 ? a : b).reserve('Sender@x.test', [1, 1, 1, 1, 1], 60_000),
      ),
    );
    const slots = results.flatMap((r) => r.slots).sort((x, y) => x - y);
    expect(slots).toHaveLength(50);
    for (let i = 1; i < slots.length; i++) expect(slots[i]! - slots[i - 1]!).toBeCloseTo(100, 5);
    // The mailbox key is case-insensitive, and the horizon caps how far ahead slots go.
    const next = await a.reserve('sender@x.test', [1, 1, 1], 100);
    expect(next.slots).toEqual([]);
    expect(next.retryAt).toBeCloseTo(slots[49]! + 100, 5);
  });

  it('keeps a rolling daily recipient budget counting cc recipients', async () => {
    const name = tableName();
    const pacer = createPacer(
      () => storage.table(name),
      limits({ ratePerMinute: 60_000, dailyRecipientLimit: 5, dailyWindowMs: 2000 }),
    );
    const first = await pacer.reserve('m@x.test', [1, 1, 2, 1, 1], 10_000);
    expect(first.slots).toHaveLength(4);
    expect(first.retryAt).toBeGreaterThanOrEqual(first.slots[0]! + 2000 - 1);
    const blocked = await pacer.reserve('m@x.test', [1], 10_000);
    expect(blocked.slots).toEqual([]);
    await new Promise((r) => setTimeout(r, Math.max(0, blocked.retryAt - Date.now()) + 50));
    const later = await pacer.reserve('m@x.test', [1, 1], 10_000);
    expect(later.slots.length).toBeGreaterThanOrEqual(1);
  });

  it('holdUntil pushes every later slot back (Graph said Retry-After)', async () => {
    const name = tableName();
    const pacer = createPacer(() => storage.table(name), limits());
    const until = Date.now() + 5000;
    await pacer.holdUntil('h@x.test', until);
    const r = await pacer.reserve('h@x.test', [1], 60_000);
    expect(r.slots[0]).toBeGreaterThanOrEqual(until);
    expect(await pacer.nextSlot('h@x.test')).toBeGreaterThan(until);
  });

  it('allows at most 4 concurrent sends per mailbox across instances; leases expire', async () => {
    const name = tableName();
    const a = createPacer(() => storage.table(name), limits());
    const b = createPacer(() => storage.table(name), limits());
    const leases = await Promise.all([a, b, a, b, a, b].map((p) => p.acquire('c@x.test', 800)));
    const held = leases.filter((l) => 'release' in l);
    expect(held).toHaveLength(4);
    const refused = leases.filter((l) => 'retryAt' in l);
    expect(refused).toHaveLength(2);
    await (held[0] as { release(): Promise<void> }).release();
    expect('release' in (await b.acquire('c@x.test', 800))).toBe(true);
    expect('retryAt' in (await b.acquire('c@x.test', 800))).toBe(true);
    await new Promise((r) => setTimeout(r, 900));
    expect('release' in (await a.acquire('c@x.test', 800))).toBe(true);
    // Another mailbox is not affected.
    expect('release' in (await a.acquire('d@x.test', 800))).toBe(true);
  });
});
