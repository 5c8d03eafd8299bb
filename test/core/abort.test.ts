import { describe, expect, it } from 'vitest';

import { abortable, budgetSignal, remainingMs, sleep } from '../../src/core/abort';

describe('budgetSignal', () => {
  it('aborts with a TimeoutError when its budget runs out', async () => {
    const signal = budgetSignal(20);
    expect(signal.aborted).toBe(false);
    await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
    expect((signal.reason as Error).name).toBe('TimeoutError');
    expect(remainingMs(signal)).toBe(0);
  });

  it("aborts with the caller's reason when the caller's signal aborts first", () => {
    const caller = new AbortController();
    const signal = budgetSignal(60_000, caller.signal);
    const reason = new Error('caller went away');
    caller.abort(reason);
    expect(signal.aborted).toBe(true);
    expect(signal.reason).toBe(reason);
    expect(remainingMs(signal)).toBe(0);
  });

  it('knows the time left, and a nested budget never outlasts its parent', () => {
    const parent = budgetSignal(5_000);
    expect(remainingMs(parent)).toBeGreaterThan(4_000);
    expect(remainingMs(parent)).toBeLessThanOrEqual(5_000);
    const longer = budgetSignal(60_000, parent);
    const parentLeft = remainingMs(parent); // read first: the clock only moves on
    expect(remainingMs(longer)).toBeLessThanOrEqual(parentLeft);
    const shorter = budgetSignal(1_000, parent);
    expect(remainingMs(shorter)).toBeLessThanOrEqual(1_000);
  });

  it('takes fractional budgets (whole milliseconds for the timer)', () => {
    const signal = budgetSignal(1234.7);
    expect(signal.aborted).toBe(false);
    expect(remainingMs(signal)).toBeLessThanOrEqual(1234.7);
  });

  it('without an end is the parent itself, or a signal that never aborts', () => {
    const caller = new AbortController();
    expect(budgetSignal(Infinity, caller.signal)).toBe(caller.signal);
    const never = budgetSignal(Infinity);
    expect(never.aborted).toBe(false);
    expect(remainingMs(never)).toBe(Infinity);
  });
});

describe('remainingMs', () => {
  it('is Infinity for no signal or a signal without a budget, 0 once aborted', () => {
    expect(remainingMs(undefined)).toBe(Infinity);
    const plain = new AbortController();
    expect(remainingMs(plain.signal)).toBe(Infinity);
    plain.abort();
    expect(remainingMs(plain.signal)).toBe(0);
  });
});

describe('sleep', () => {
  it('resolves after the wait', async () => {
    const started = performance.now();
    await sleep(15);
    expect(performance.now() - started).toBeGreaterThanOrEqual(14);
  });

  it("rejects with the signal's reason when it aborts during the wait", async () => {
    const controller = new AbortController();
    const reason = new Error('stop');
    const waiting = sleep(60_000, controller.signal);
    controller.abort(reason);
    await expect(waiting).rejects.toBe(reason);
  });

  it('rejects at once for a signal that has already aborted', async () => {
    const controller = new AbortController();
    controller.abort(new Error('gone'));
    await expect(sleep(60_000, controller.signal)).rejects.toThrow('gone');
  });

  it('stops a wait when its budget runs out', async () => {
    const error = await sleep(60_000, budgetSignal(10)).catch((e: unknown) => e);
    expect((error as Error).name).toBe('TimeoutError');
  });
});

describe('abortable', () => {
  it('settles as the promise does while the signal stays quiet', async () => {
    const controller = new AbortController();
    await expect(abortable(Promise.resolve(7), controller.signal)).resolves.toBe(7);
    await expect(abortable(Promise.reject(new Error('no')), controller.signal)).rejects.toThrow(
      'no',
    );
  });

  it("rejects with the signal's reason when it aborts first; the promise runs on", async () => {
    const controller = new AbortController();
    let finish!: (value: number) => void;
    const shared = new Promise<number>((resolve) => (finish = resolve));
    const waiting = abortable(shared, controller.signal);
    controller.abort(new Error('caller left'));
    await expect(waiting).rejects.toThrow('caller left');
    finish(1);
    await expect(shared).resolves.toBe(1);
  });

  it('observes a later failure of the promise after an abort (no unhandled rejection)', async () => {
    const controller = new AbortController();
    controller.abort(new Error('gone'));
    let fail!: (error: Error) => void;
    const shared = new Promise<number>((_, reject) => (fail = reject));
    await expect(abortable(shared, controller.signal)).rejects.toThrow('gone');
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    fail(new Error('late'));
    await new Promise((resolve) => setImmediate(resolve));
    process.off('unhandledRejection', onUnhandled);
    expect(unhandled).toEqual([]);
  });
});
