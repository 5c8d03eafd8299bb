/**
 * Cancellation has one shape (as in the Azure SDK): async operations take an options bag with
 * `abortSignal`. A time budget is such a signal too, made by `budgetSignal` (an
 * `AbortSignal.timeout` joined to the caller's signal with `AbortSignal.any`). The few steps that
 * must plan around the time left (not waiting for a Retry-After that cannot fit, keeping back time
 * to look up a lost send answer, a lease) ask `remainingMs`.
 */

/** When each budget signal runs out (epoch ms); a signal made any other way has no known end. */
const expiries = new WeakMap<AbortSignal, number>();

/** Never aborts: what a budget without an end and without a parent signal becomes. */
const NEVER = new AbortController().signal;

/**
 * A signal that aborts after `budgetMs`, or earlier when `parent` aborts. Its end is the earlier of
 * the two budgets, so `remainingMs` of a nested budget never exceeds its parent's.
 */
export function budgetSignal(budgetMs: number, parent?: AbortSignal): AbortSignal {
  if (!Number.isFinite(budgetMs)) return parent ?? NEVER;
  // AbortSignal.timeout takes whole milliseconds only; budgets are often computed fractions.
  const timeout = AbortSignal.timeout(Math.max(1, Math.floor(budgetMs)));
  const signal = parent ? AbortSignal.any([parent, timeout]) : timeout;
  expiries.set(signal, Math.min(Date.now() + budgetMs, Date.now() + remainingMs(parent)));
  return signal;
}

/**
 * Milliseconds until `signal` aborts by its budget: 0 once aborted, Infinity for a signal with no
 * budget (a caller's plain signal, or none).
 */
export function remainingMs(signal: AbortSignal | undefined): number {
  if (!signal) return Infinity;
  if (signal.aborted) return 0;
  const expiresAt = expiries.get(signal);
  return expiresAt === undefined ? Infinity : Math.max(0, expiresAt - Date.now());
}

/** Resolves after `ms`, or rejects with the signal's reason when it aborts first. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason as Error);
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason as Error);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Waits for `promise`, or rejects with the signal's reason when it aborts first. The promise itself
 * runs on (a shared single flight must not be stopped by one of its waiters) and its failure after
 * an abort is observed here, so it never becomes an unhandled rejection.
 */
export function abortable<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise;
  if (signal.aborted) {
    promise.catch(() => undefined);
    return Promise.reject(signal.reason as Error);
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (v) => (signal.removeEventListener('abort', onAbort), resolve(v)),
      (e: unknown) => (signal.removeEventListener('abort', onAbort), reject(e as Error)),
    );
  });
}
