import { TableClient } from '@azure/data-tables';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { budgetSignal } from '../../src/core/abort';
import { ConflictError } from '../../src/core/errors';
import { createLogger } from '../../src/core/logger';
import { type AzuriteInstance } from '../../src/local/azurite';
import { testStorage } from '../support/storage';
import {
  createIdempotencyStore,
  IDEMPOTENCY_KEY_PATTERN,
  type IdempotencyStore,
} from '../../src/mail/idempotency';

/** The idempotency store on Azurite's Table service. */

const log = createLogger(() => undefined, {});
const scope = { serviceId: 'svc', credentialId: 'c1' };
let azurite: AzuriteInstance;
let table: TableClient;
let clock = Date.now();

function store(
  options: { pollMs?: number; leaseGraceMs?: number; maxLeaseMs?: number } = {},
): IdempotencyStore<{ n: number }> {
  return createIdempotencyStore<{ n: number }>({
    table: () => Promise.resolve(table),
    now: () => clock,
    pollMs: options.pollMs ?? 20,
    leaseGraceMs: options.leaseGraceMs ?? 0,
    ...(options.maxLeaseMs === undefined ? {} : { maxLeaseMs: options.maxLeaseMs }),
  });
}

const opts = (ms = 5000) => ({ abortSignal: budgetSignal(ms), log });

beforeAll(async () => {
  azurite = await testStorage();
  table = TableClient.fromConnectionString(azurite.connectionString, 'idemtest', {
    allowInsecureConnection: true,
  });
  await table.createTable();
}, 60_000);

afterAll(async () => {
  await azurite?.stop();
});

describe('idempotency store', () => {
  it('claims a new key once and replays the stored answer to repeats', async () => {
    const s = store();
    const first = await s.begin(scope, 'k1', 'fp', opts());
    expect(first.kind).toBe('claimed');
    if (first.kind !== 'claimed') return;
    await first.claim.complete({ n: 1 });
    await expect(s.begin(scope, 'k1', 'fp', opts())).resolves.toEqual({
      kind: 'replay',
      value: { n: 1 },
    });
  });

  it('refuses the same key with another fingerprint', async () => {
    const s = store();
    const first = await s.begin(scope, 'k2', 'fp-a', opts());
    if (first.kind === 'claimed') await first.claim.complete({ n: 2 });
    const error = await s.begin(scope, 'k2', 'fp-b', opts()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConflictError);
    expect((error as ConflictError).code).toBe('idempotency_conflict');
  });

  it('scopes keys per service and credential', async () => {
    const s = store();
    const a = await s.begin(scope, 'k3', 'fp', opts());
    const b = await s.begin({ serviceId: 'svc', credentialId: 'c2' }, 'k3', 'fp', opts());
    const c = await s.begin({ serviceId: 'other', credentialId: 'c1' }, 'k3', 'fp', opts());
    expect([a.kind, b.kind, c.kind]).toEqual(['claimed', 'claimed', 'claimed']);
  });

  it('lets a repeat wait for a running first attempt and replay its answer', async () => {
    const s = store();
    const first = await s.begin(scope, 'k4', 'fp', opts());
    if (first.kind !== 'claimed') throw new Error('expected a claim');
    const waiting = s.begin(scope, 'k4', 'fp', opts());
    setTimeout(() => void first.claim.complete({ n: 4 }), 150);
    await expect(waiting).resolves.toEqual({ kind: 'replay', value: { n: 4 } });
  });

  it('gives up waiting with 409 conflict when the budget runs out', async () => {
    const s = store();
    await s.begin(scope, 'k5', 'fp', opts());
    const error = await s.begin(scope, 'k5', 'fp', opts(200)).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'conflict' });
  });

  it('frees a released key for a corrected retry', async () => {
    const s = store();
    const first = await s.begin(scope, 'k6', 'fp-bad', opts());
    if (first.kind !== 'claimed') throw new Error('expected a claim');
    await first.claim.release();
    const second = await s.begin(scope, 'k6', 'fp-good', opts());
    expect(second.kind).toBe('claimed');
  });

  it('takes over a stale claim and says whether the first attempt had committed', async () => {
    const s = store();
    const first = await s.begin(scope, 'k7', 'fp', opts(1000));
    if (first.kind !== 'claimed') throw new Error('expected a claim');
    await first.claim.commit('send-123');
    clock += 2000; // the first attempt's lease (its budget) has passed
    const second = await s.begin(scope, 'k7', 'fp', opts());
    expect(second).toMatchObject({
      kind: 'claimed',
      takenOver: { committed: true, note: 'send-123' },
    });
    clock -= 2000;
  });

  it('gives a claimer without a budget a bounded lease (maxLeaseMs), not an endless one', async () => {
    const s = store({ maxLeaseMs: 60_000 });
    const first = await s.begin(scope, 'k7b', 'fp', { log });
    if (first.kind !== 'claimed') throw new Error('expected a claim');
    clock += 30_000; // within the lease: a repeat waits, and gives up with its own budget
    await expect(s.begin(scope, 'k7b', 'fp', opts(100))).rejects.toMatchObject({
      code: 'conflict',
    });
    clock += 31_000; // past it: the repeat takes the key over
    await expect(s.begin(scope, 'k7b', 'fp', opts())).resolves.toMatchObject({
      kind: 'claimed',
      takenOver: { committed: false },
    });
    clock -= 61_000;
  });

  it('lets only one of two concurrent first requests claim a key', async () => {
    const s = store();
    const results = await Promise.all([
      s.begin(scope, 'k8', 'fp', opts(600)),
      s.begin(scope, 'k8', 'fp', opts(600)).catch((e: unknown) => e),
    ]);
    const claimed = results.filter((r) => (r as { kind?: string }).kind === 'claimed');
    expect(claimed).toHaveLength(1);
  });

  it('forgets keys after 24 hours', async () => {
    const s = store();
    const first = await s.begin(scope, 'k9', 'fp-old', opts());
    if (first.kind === 'claimed') await first.claim.complete({ n: 9 });
    clock += 24 * 60 * 60 * 1000 + 1;
    const later = await s.begin(scope, 'k9', 'fp-new', opts());
    expect(later.kind).toBe('claimed');
    clock -= 24 * 60 * 60 * 1000 + 1;
  });

  it('accepts printable keys of 1–200 characters only', () => {
    expect(IDEMPOTENCY_KEY_PATTERN.test('a')).toBe(true);
    expect(IDEMPOTENCY_KEY_PATTERN.test('order 42/a#b?c')).toBe(true);
    expect(IDEMPOTENCY_KEY_PATTERN.test('x'.repeat(200))).toBe(true);
    expect(IDEMPOTENCY_KEY_PATTERN.test('x'.repeat(201))).toBe(false);
    expect(IDEMPOTENCY_KEY_PATTERN.test('')).toBe(false);
    expect(IDEMPOTENCY_KEY_PATTERN.test(' lead')).toBe(false);
    expect(IDEMPOTENCY_KEY_PATTERN.test('é')).toBe(false);
  });
});
