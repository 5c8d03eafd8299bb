import { ThrottledError } from '../core/errors';

/** Graph's concurrent requests per app per mailbox (throttling limits, Outlook service). */
export const MAILBOX_CONCURRENCY = 4;

/** Options of one wait for mailbox slots. */
export interface AcquireOptions {
  /** Slots taken (a `$batch` takes all of them). */
  weight?: number;
  abortSignal?: AbortSignal | undefined;
}

/**
 * What every Graph request of a mailbox goes through: `acquire` resolves with the release of the
 * slots once the request may run. This instance's own queue (`MailboxLimiter`) or the budget
 * shared by every instance (`SharedMailboxLimiter`).
 */
export interface MailboxSlots {
  acquire(mailbox: string, options?: AcquireOptions): Promise<() => void>;
}

/** Waiting for a slot outlasted the caller's budget. */
export function slotWaitTimedOut(): ThrottledError {
  return new ThrottledError('Timed out waiting for a free Graph slot for this mailbox.', 1000);
}

/**
 * Per-mailbox concurrency limiter: Graph allows 4 concurrent requests per app per mailbox, so
 * each instance keeps itself within that and queues the rest (FIFO). A `$batch` takes all 4
 * slots because Outlook runs up to 4 of its items at once.
 */
export class MailboxLimiter implements MailboxSlots {
  private readonly inUse = new Map<string, number>();
  private readonly waiting = new Map<string, Array<{ weight: number; grant: () => void }>>();

  constructor(readonly maxConcurrent = MAILBOX_CONCURRENCY) {}

  async acquire(mailbox: string, options: AcquireOptions = {}): Promise<() => void> {
    const weight = Math.min(options.weight ?? 1, this.maxConcurrent);
    const queue = this.waiting.get(mailbox) ?? [];
    if (queue.length === 0 && (this.inUse.get(mailbox) ?? 0) + weight <= this.maxConcurrent) {
      this.inUse.set(mailbox, (this.inUse.get(mailbox) ?? 0) + weight);
      return this.releaser(mailbox, weight);
    }
    return new Promise((resolve, reject) => {
      const entry = {
        weight,
        grant: () => {
          options.abortSignal?.removeEventListener('abort', onAbort);
          resolve(this.releaser(mailbox, weight));
        },
      };
      const onAbort = () => {
        const list = this.waiting.get(mailbox);
        const index = list?.indexOf(entry) ?? -1;
        if (list && index >= 0) list.splice(index, 1);
        reject(slotWaitTimedOut());
      };
      if (options.abortSignal?.aborted) return onAbort();
      options.abortSignal?.addEventListener('abort', onAbort, { once: true });
      queue.push(entry);
      this.waiting.set(mailbox, queue);
    });
  }

  /** Requests currently running against a mailbox (for tests and metrics). */
  active(mailbox: string): number {
    return this.inUse.get(mailbox) ?? 0;
  }

  private releaser(mailbox: string, weight: number): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const remaining = (this.inUse.get(mailbox) ?? 0) - weight;
      if (remaining > 0) this.inUse.set(mailbox, remaining);
      else this.inUse.delete(mailbox);
      this.drain(mailbox);
    };
  }

  private drain(mailbox: string): void {
    const queue = this.waiting.get(mailbox);
    while (queue && queue.length > 0) {
      const next = queue[0]!;
      if ((this.inUse.get(mailbox) ?? 0) + next.weight > this.maxConcurrent) return;
      queue.shift();
      this.inUse.set(mailbox, (this.inUse.get(mailbox) ?? 0) + next.weight);
      next.grant();
    }
    this.waiting.delete(mailbox);
  }
}
