import { describe, expect, it, vi } from 'vitest';

import { createLogger } from '../../src/core/logger';
import { isErrorOf, ThrottledError } from '../../src/core/errors';
import { SharedMailboxLimiter, type SharedLimiterOptions } from '../../src/graph/shared-limiter';
import { memorySlotTable, type MemorySlotTable } from '../support/slot-tables';

const MAILBOX = 'adele@contoso.test';
const quiet = createLogger(() => undefined);

function instances(
  table: MemorySlotTable,
  count: number,
  options: Partial<SharedLimiterOptions> = {},
): SharedMailboxLimiter[] {
  return Array.from(
    { length: count },
    () => new SharedMailboxLimiter({ table, log: quiet, lingerMs: 20, pollMs: 5, ...options }),
  );
}

/** Runs `work` on `limiter`'s slots while counting how many run at once across every instance. */
function meter() {
  let running = 0;
  const seen = { max: 0, done: 0 };
  const run = async (limiter: SharedMailboxLimiter, ms: number, weight = 1) => {
    const release = await limiter.acquire(MAILBOX, { weight });
    running += weight;
    seen.max = Math.max(seen.max, running);
    await new Promise((resolve) => setTimeout(resolve, ms)); // the request's own duration
    running -= weight;
    seen.done++;
    release();
  };
  return { seen, run };
}

describe('SharedMailboxLimiter', () => {
  it('keeps two instances within 4 concurrent requests of one mailbox together', async () => {
    const table = memorySlotTable();
    const [a, b] = instances(table, 2);
    const { seen, run } = meter();
    await Promise.all([
      ...Array.from({ length: 20 }, () => run(a!, 3)),
      ...Array.from({ length: 20 }, () => run(b!, 3)),
    ]);
    expect(seen.done).toBe(40);
    expect(seen.max).toBe(4);
    await vi.waitFor(() => expect(table.leased(MAILBOX)).toBe(0));
  });

  it('leases slots for a burst: requests reuse held slots without asking the table', async () => {
    const table = memorySlotTable();
    const [a] = instances(table, 1, { lingerMs: 1000, holdMs: 60_000 });
    const { seen, run } = meter();
    for (let round = 0; round < 10; round++)
      await Promise.all(Array.from({ length: 4 }, () => run(a!, 1)));
    expect(seen.done).toBe(40);
    expect(seen.max).toBe(4);
    // 4 slots were leased once; 36 later requests took a slot already held.
    expect(table.calls).toBeLessThanOrEqual(4);
    expect(a!.held(MAILBOX)).toBe(4);
    await a!.close();
    expect(table.leased(MAILBOX)).toBe(0);
  });

  it('gives idle slots back after the linger, so another instance gets them', async () => {
    const table = memorySlotTable();
    const [a, b] = instances(table, 2, { lingerMs: 30 });
    const releases = await Promise.all(Array.from({ length: 4 }, () => a!.acquire(MAILBOX)));
    expect(table.leased(MAILBOX)).toBe(4);
    let granted = false;
    const waiting = b!.acquire(MAILBOX).then((release) => {
      granted = true;
      return release;
    });
    for (const release of releases) release();
    const release = await waiting;
    expect(granted).toBe(true);
    expect(b!.held(MAILBOX)).toBe(1);
    release();
    await vi.waitFor(() => expect(table.leased(MAILBOX)).toBe(0));
  });

  it('puts a slot back after holdMs of continuous use, so a busy instance does not starve another', async () => {
    const table = memorySlotTable();
    const [a, b] = instances(table, 2, { holdMs: 40, lingerMs: 1000 });
    let stop = false;
    const { run } = meter();
    // Instance a keeps all four slots busy until told to stop.
    const busy = Array.from({ length: 4 }, async () => {
      while (!stop) await run(a!, 2);
    });
    await vi.waitFor(() => expect(a!.held(MAILBOX)).toBe(4));
    const release = await b!.acquire(MAILBOX);
    expect(b!.held(MAILBOX)).toBe(1);
    expect(table.leased(MAILBOX)).toBeLessThanOrEqual(4);
    stop = true;
    release();
    await Promise.all(busy);
    await Promise.all([a!.close(), b!.close()]);
  });

  it('runs a $batch (all 4 slots) from each of two instances without deadlock', async () => {
    const table = memorySlotTable();
    const [a, b] = instances(table, 2);
    const { seen, run } = meter();
    await Promise.all([
      run(a!, 3, 4),
      run(b!, 3, 4),
      run(a!, 3, 1),
      run(b!, 3, 4),
      run(a!, 3, 4),
      run(b!, 3, 2),
    ]);
    expect(seen.done).toBe(6);
    expect(seen.max).toBe(4);
  });

  it('keeps to its own 4 while the table cannot be reached, and uses the table again after', async () => {
    const table = memorySlotTable();
    const lines: string[] = [];
    const log = createLogger((_level, line) => lines.push(line), {});
    const limiter = new SharedMailboxLimiter({ table, log, lingerMs: 10, pollMs: 5 });
    table.down = true;
    const { seen, run } = meter();
    await Promise.all(Array.from({ length: 10 }, () => run(limiter, 2)));
    expect(seen.max).toBe(4);
    expect(lines.filter((l) => l.includes('slot table unreachable'))).toHaveLength(1);
    await vi.waitFor(() => expect(limiter.held(MAILBOX)).toBe(0));
    table.down = false;
    const release = await limiter.acquire(MAILBOX);
    expect(table.leased(MAILBOX)).toBe(1);
    expect(lines.some((l) => l.includes('reachable again'))).toBe(true);
    release();
    await vi.waitFor(() => expect(table.leased(MAILBOX)).toBe(0));
  });

  it('gives up a wait when the caller’s budget ends, leaving no slot behind', async () => {
    const table = memorySlotTable();
    const [a, b] = instances(table, 2);
    const releases = await Promise.all(Array.from({ length: 4 }, () => a!.acquire(MAILBOX)));
    const controller = new AbortController();
    const waiting = b!.acquire(MAILBOX, { abortSignal: controller.signal });
    controller.abort();
    const error = await waiting.catch((e: unknown) => e);
    expect(isErrorOf(error, ThrottledError)).toBe(true);
    for (const release of releases) release();
    await vi.waitFor(() => expect(table.leased(MAILBOX)).toBe(0));
    expect(b!.held(MAILBOX)).toBe(0);
  });

  it('counts mailboxes apart and by address regardless of case', async () => {
    const table = memorySlotTable();
    const [a] = instances(table, 1, { lingerMs: 1000 });
    const held = await Promise.all([
      ...Array.from({ length: 4 }, () => a!.acquire('Adele@Contoso.test')),
      ...Array.from({ length: 4 }, () => a!.acquire('megan@contoso.test')),
    ]);
    expect(table.leased(MAILBOX)).toBe(4);
    expect(table.leased('megan@contoso.test')).toBe(4);
    for (const release of held) release();
    await a!.close();
    expect(table.leased(MAILBOX) + table.leased('megan@contoso.test')).toBe(0);
  });
});
