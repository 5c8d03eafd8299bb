/** A time budget for one invocation: every retry and wait checks it, so nothing outlives the caller. */
export interface Deadline {
  readonly expiresAt: number;
  /** Aborts when the budget runs out or the caller's own signal aborts. */
  readonly signal: AbortSignal;
  remainingMs(): number;
}

export function createDeadline(budgetMs: number, parent?: AbortSignal): Deadline {
  const expiresAt = Date.now() + budgetMs;
  // AbortSignal.timeout takes whole milliseconds only; budgets are often computed fractions.
  const timeout = AbortSignal.timeout(Math.max(1, Math.floor(budgetMs)));
  const signal = parent ? AbortSignal.any([parent, timeout]) : timeout;
  return { expiresAt, signal, remainingMs: () => Math.max(0, expiresAt - Date.now()) };
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
