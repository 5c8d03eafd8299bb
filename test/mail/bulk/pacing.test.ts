import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { type AzuriteInstance } from '../../../src/local/azurite';
import { testStorage } from '../../support/storage';
import { createPacer, windowFit, type PacingLimits } from '../../../src/mail/bulk/pacing';
import { createStorageClients, type StorageClients } from '../../../src/storage';

let azurite: AzuriteInstance;
let storage: StorageClients;
let n = 0;

beforeAll(async () => {
  azurite = await testStorage();
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
  uploadBytesPerWindow: 150_000_000,
  uploadWindowMs: 300_000,
  ...over,
});

function tableName() {
  return `pace${Date.now().toString(36)}${n++}`;
}

/** The pacer reads time only through `now`: a test moves this clock instead of waiting. */
function clock() {
  let t = Date.now();
  return {
    now: () => t,
    set: (at: number) => void (t = at),
    advance: (ms: number) => void (t += ms),
  };
}

describe('windowFit', () => {
  it('fits while under the limit, else waits for the oldest buckets to leave the window', () => {
    const windowMs = 96_000; // 1 s buckets
    expect(windowFit([[0, 3]], 10_000, 2, 5, windowMs)).toBe(10_000);
    expect(
      windowFit(
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
      windowFit(
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
    expect(windowFit([], 0, 6, 5, windowMs)).toBe(windowMs);
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
    const time = clock();
    const pacer = createPacer(
      () => storage.table(name),
      limits({ ratePerMinute: 60_000, dailyRecipientLimit: 5, dailyWindowMs: 2000 }),
      time.now,
    );
    const first = await pacer.reserve('m@x.test', [1, 1, 2, 1, 1], 10_000);
    expect(first.slots).toHaveLength(4);
    expect(first.retryAt).toBeGreaterThanOrEqual(first.slots[0]! + 2000 - 1);
    const blocked = await pacer.reserve('m@x.test', [1], 10_000);
    expect(blocked.slots).toEqual([]);
    // Just before the window moves nothing fits yet; once it moved, the budget is back.
    time.set(blocked.retryAt - 1);
    expect((await pacer.reserve('m@x.test', [1], 10_000)).slots).toEqual([]);
    time.set(blocked.retryAt);
    const later = await pacer.reserve('m@x.test', [1, 1], 10_000);
    expect(later.slots.length).toBeGreaterThanOrEqual(1);
  });

  it('holdUntil pushes every later slot back and holds sends already given a slot (Retry-After)', async () => {
    const name = tableName();
    const pacer = createPacer(() => storage.table(name), limits());
    const other = createPacer(() => storage.table(name), limits());
    const until = Date.now() + 5000;
    await pacer.holdUntil('h@x.test', until);
    const r = await pacer.reserve('h@x.test', [1], 60_000);
    expect(r.slots[0]).toBeGreaterThanOrEqual(until);
    expect(await pacer.nextSlot('h@x.test')).toBeGreaterThan(until);
    // Another instance about to send is held too; another mailbox is not.
    expect(await other.admit('H@x.test', 100)).toEqual({ retryAt: until });
    expect('done' in (await other.admit('i@x.test', 100))).toBe(true);
  });

  it('keeps a rolling upload budget across instances; a message over the whole budget goes alone', async () => {
    const name = tableName();
    const shrunk = limits({ uploadBytesPerWindow: 1000, uploadWindowMs: 1500 });
    const time = clock();
    const a = createPacer(() => storage.table(name), shrunk, time.now);
    const b = createPacer(() => storage.table(name), shrunk, time.now);
    const started = time.now();
    const first = await a.admit('u@x.test', 600);
    const second = await b.admit('u@x.test', 400);
    expect('done' in first && 'done' in second).toBe(true);
    const refused = await a.admit('U@x.test', 1);
    if (!('retryAt' in refused)) throw new Error('expected the budget to be spent');
    expect(refused.retryAt).toBeGreaterThanOrEqual(started + 1500 - 50);
    // The dispatcher hands out no slot before the bytes can go.
    expect(await b.nextSlot('u@x.test')).toBeGreaterThanOrEqual(refused.retryAt);
    // A message ending later counts from its end.
    time.advance(500);
    if ('done' in second) await second.done();
    time.set(refused.retryAt + 30);
    expect('done' in (await b.admit('u@x.test', 600))).toBe(true);
    const stillCounted = await a.admit('u@x.test', 1);
    expect('retryAt' in stillCounted && stillCounted.retryAt).toBeGreaterThan(time.now() + 200);

    const huge = await a.admit('big@x.test', 5000);
    expect('done' in huge).toBe(true);
    expect('retryAt' in (await b.admit('big@x.test', 1))).toBe(true);
  });

  it('allows at most 4 concurrent sends per mailbox across instances; leases expire', async () => {
    const name = tableName();
    const time = clock();
    const a = createPacer(() => storage.table(name), limits(), time.now);
    const b = createPacer(() => storage.table(name), limits(), time.now);
    const leases = await Promise.all([a, b, a, b, a, b].map((p) => p.acquire('c@x.test', 30_000)));
    const held = leases.filter((l) => 'release' in l);
    expect(held).toHaveLength(4);
    const refused = leases.filter((l) => 'retryAt' in l);
    expect(refused).toHaveLength(2);
    await (held[0] as { release(): Promise<void> }).release();
    expect('release' in (await b.acquire('c@x.test', 30_000))).toBe(true);
    expect('retryAt' in (await b.acquire('c@x.test', 30_000))).toBe(true);
    // Another mailbox is not affected.
    expect('release' in (await a.acquire('d@x.test', 800))).toBe(true);

    // Short leases nobody releases (their instance died) free their slots once they expire.
    for (const p of [a, b, a, b])
      expect('release' in (await p.acquire('e@x.test', 300))).toBe(true);
    time.advance(299);
    expect('retryAt' in (await a.acquire('e@x.test', 300))).toBe(true);
    time.advance(1);
    expect('release' in (await a.acquire('e@x.test', 300))).toBe(true);
  });
});
