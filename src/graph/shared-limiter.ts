import { type Logger } from '../core/logger';
import {
  type AcquireOptions,
  MAILBOX_CONCURRENCY,
  type MailboxSlots,
  slotWaitTimedOut,
} from './limiter';
import { type SlotLease, type SlotTable } from './slot-table';

export interface SharedLimiterOptions {
  table: SlotTable;
  log: Logger;
  /** Graph's concurrent requests per app per mailbox (4). */
  slots?: number;
  /** A busy instance puts a slot back after holding it this long, so others get a turn. */
  holdMs?: number;
  /** Idle slots are kept this long for the next request of a burst. */
  lingerMs?: number;
  /** How often an instance holding no slot asks again while others hold them all (jittered). */
  pollMs?: number;
  /** Leases are renewed this often while held (they last 15 s). */
  renewMs?: number;
}

interface Held {
  lease: SlotLease;
  since: number;
}

interface Waiter {
  weight: number;
  grant: (release: () => void) => void;
}

/** One mailbox as this instance sees it: the slots it leased, how many are running, who waits. */
interface Box {
  key: string;
  held: Held[];
  inUse: number;
  queue: Waiter[];
  filling: boolean;
  /** Ends the fill loop's current wait early (a local release, a waiter gone). */
  wake: (() => void) | undefined;
  idle: NodeJS.Timeout | undefined;
  /** After putting a slot back, do not take one again before this, so a waiting instance can. */
  cooldownUntil: number;
}

/** A slot granted without the table (it could not be reached): this instance's share only. */
const localSlot = (index: number): SlotLease => ({
  index,
  renew: () => Promise.resolve(),
  release: () => Promise.resolve(),
});

/**
 * The mailbox budget shared by every instance: a request runs on slots this instance leased from
 * the slot table. Slots are leased for a burst, not per request (a request reuses a held slot
 * without a storage round trip), put back after `lingerMs` idle or `holdMs` busy, and expire on
 * their own if the instance dies. When the table cannot be reached this instance falls back to
 * its own 4, as `MailboxLimiter` does.
 */
export class SharedMailboxLimiter implements MailboxSlots {
  private readonly boxes = new Map<string, Box>();
  private renewTimer: NodeJS.Timeout | undefined;
  private degraded = false;
  private readonly slots: number;
  private readonly holdMs: number;
  private readonly lingerMs: number;
  private readonly pollMs: number;
  private readonly renewMs: number;

  constructor(private readonly options: SharedLimiterOptions) {
    this.slots = options.slots ?? MAILBOX_CONCURRENCY;
    this.holdMs = options.holdMs ?? 5000;
    this.lingerMs = options.lingerMs ?? 250;
    this.pollMs = options.pollMs ?? 100;
    this.renewMs = options.renewMs ?? 5000;
  }

  acquire(mailbox: string, options: AcquireOptions = {}): Promise<() => void> {
    const weight = Math.min(options.weight ?? 1, this.slots);
    const key = mailbox.toLowerCase();
    const box = this.box(key);
    if (box.queue.length === 0 && box.inUse + weight <= box.held.length) {
      box.inUse += weight;
      return Promise.resolve(this.releaser(box, weight));
    }
    return new Promise((resolve, reject) => {
      const { abortSignal } = options;
      const waiter: Waiter = {
        weight,
        grant: (release) => {
          abortSignal?.removeEventListener('abort', onAbort);
          resolve(release);
        },
      };
      const onAbort = () => {
        const index = box.queue.indexOf(waiter);
        if (index >= 0) box.queue.splice(index, 1);
        box.wake?.();
        this.settle(box);
        reject(slotWaitTimedOut());
      };
      if (abortSignal?.aborted) return onAbort();
      abortSignal?.addEventListener('abort', onAbort, { once: true });
      box.queue.push(waiter);
      this.fill(box);
    });
  }

  /** Slots of a mailbox this instance holds (for tests and metrics). */
  held(mailbox: string): number {
    return this.boxes.get(mailbox.toLowerCase())?.held.length ?? 0;
  }

  /** Puts every idle slot back (shutdown; tests). Slots in use go back when released. */
  async close(): Promise<void> {
    const releases: Array<Promise<void>> = [];
    for (const box of this.boxes.values()) {
      releases.push(...this.giveBack(box, box.held.length - box.inUse));
      this.settle(box);
    }
    await Promise.all(releases);
  }

  private box(key: string): Box {
    let box = this.boxes.get(key);
    if (!box) {
      box = {
        key,
        held: [],
        inUse: 0,
        queue: [],
        filling: false,
        wake: undefined,
        idle: undefined,
        cooldownUntil: 0,
      };
      this.boxes.set(key, box);
    }
    return box;
  }

  private releaser(box: Box, weight: number): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      box.inUse -= weight;
      this.rotate(box);
      this.grant(box);
      // The fill loop looks again (it may be waiting for exactly this release, or may end now).
      if (box.filling) box.wake?.();
      else if (box.queue.length > 0) this.fill(box);
      this.settle(box);
    };
  }

  /** Hands held slots to waiters in order (a head that does not fit blocks those behind it). */
  private grant(box: Box): void {
    while (box.queue.length > 0) {
      const head = box.queue[0]!;
      if (box.inUse + head.weight > box.held.length) return;
      box.queue.shift();
      box.inUse += head.weight;
      head.grant(this.releaser(box, head.weight));
    }
  }

  /** Leases more slots while someone waits; one loop per mailbox. */
  private fill(box: Box): void {
    if (box.filling) return;
    box.filling = true;
    this.fillLoop(box)
      .catch((error: unknown) => this.options.log.error('mailbox slot loop failed', { error }))
      .finally(() => {
        box.filling = false;
        this.settle(box);
      });
  }

  private async fillLoop(box: Box): Promise<void> {
    for (;;) {
      this.grant(box);
      const head = box.queue[0];
      if (!head) return;
      // More than the table can give until this instance's own requests finish.
      const want = Math.min(
        box.inUse + head.weight - box.held.length,
        this.slots - box.held.length,
      );
      const cooling = box.cooldownUntil - Date.now();
      if (want <= 0 || cooling > 0) {
        await this.nap(box, want <= 0 ? this.holdMs : cooling);
        continue;
      }
      const got = await this.leaseMore(box, want);
      const now = Date.now();
      for (const lease of got) box.held.push({ lease, since: now });
      if (got.length > 0) this.startRenewing();
      if (got.length >= want) continue;
      // Short: other instances hold the rest. Idle slots kept while waiting for more (a $batch
      // needs all of them) could block an instance that holds the others: put them back.
      if (box.inUse === 0) await Promise.all(this.giveBack(box, box.held.length));
      // An instance with none asks often; one already running requests asks less (each ask is
      // a storage round trip per slot tried, and its share comes back to the table by rotation).
      const every = box.held.length === 0 ? this.pollMs : this.pollMs * 5;
      await this.nap(box, every * (0.5 + Math.random()));
    }
  }

  private async leaseMore(box: Box, count: number): Promise<SlotLease[]> {
    const held = new Set(box.held.map((h) => h.lease.index));
    try {
      const got = await this.options.table.lease(box.key, count, held);
      if (this.degraded) this.options.log.info('mailbox slot table reachable again');
      this.degraded = false;
      return got;
    } catch (error) {
      if (!this.degraded)
        this.options.log.warn('mailbox slot table unreachable; keeping to this instance share', {
          error,
        });
      this.degraded = true;
      const local: SlotLease[] = [];
      for (let i = 0; local.length < count && i < this.slots; i++)
        if (!held.has(-1 - i)) local.push(localSlot(-1 - i));
      return local;
    }
  }

  /** Waits `ms` or until `wake` (a local release, a waiter gone). */
  private nap(box: Box, ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        box.wake = undefined;
        resolve();
      }
      box.wake = done;
    });
  }

  /** A slot held longer than `holdMs` goes back to the table when it is free. */
  private rotate(box: Box): void {
    const staleBefore = Date.now() - this.holdMs;
    const stale = box.held.filter((h) => h.since < staleBefore).length;
    const count = Math.min(stale, box.held.length - box.inUse);
    if (count === 0) return;
    void this.giveBack(box, count);
    box.cooldownUntil = Date.now() + this.pollMs * 1.5;
  }

  /** Releases the `count` oldest slots (none in use: callers count only idle ones). */
  private giveBack(box: Box, count: number): Array<Promise<void>> {
    if (count <= 0) return [];
    box.held.sort((a, b) => a.since - b.since);
    return box.held.splice(0, count).map((h) => h.lease.release());
  }

  /** Idle slots go back after `lingerMs`; a mailbox with nothing held or waiting is forgotten. */
  private settle(box: Box): void {
    if (box.idle) clearTimeout(box.idle);
    box.idle = undefined;
    if (box.queue.length > 0 || box.filling) return;
    if (box.held.length > box.inUse) {
      box.idle = setTimeout(() => {
        box.idle = undefined;
        if (box.queue.length > 0 || box.filling) return;
        void Promise.all(this.giveBack(box, box.held.length - box.inUse));
        this.settle(box);
      }, this.lingerMs);
      box.idle.unref();
      return;
    }
    if (box.held.length === 0 && box.inUse === 0) this.boxes.delete(box.key);
  }

  /** Renews every held lease while any is held. */
  private startRenewing(): void {
    if (this.renewTimer) return;
    this.renewTimer = setInterval(() => void this.renewAll(), this.renewMs);
    this.renewTimer.unref();
  }

  private async renewAll(): Promise<void> {
    const all = [...this.boxes.values()].flatMap((box) => box.held.map((h) => ({ box, h })));
    if (all.length === 0) {
      clearInterval(this.renewTimer);
      this.renewTimer = undefined;
      return;
    }
    await Promise.all(
      all.map(({ box, h }) =>
        h.lease.renew().catch((error: unknown) => {
          // Lost (this instance stalled past the lease): another may hold it now.
          this.options.log.warn('mailbox slot lease lost', { error });
          const index = box.held.indexOf(h);
          if (index >= 0) box.held.splice(index, 1);
        }),
      ),
    );
  }
}
