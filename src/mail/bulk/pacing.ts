import { createHash, randomUUID } from 'node:crypto';

import { type TableClient } from '@azure/data-tables';

import { storageErrorCode, storageUnavailable } from '../../storage';

/**
 * Exchange's sending limits per mailbox, shared by every instance through Table Storage
 * (partition = hash of the mailbox):
 * - row `pace`: next free send slot (`tat`, a GCRA "theoretical arrival time": slots are
 *   60 000 / ratePerMinute ms apart), the recipients reserved per time bucket (rolling daily
 *   recipient limit), the request bytes per time bucket (Graph's rolling upload limit) and the
 *   end of Graph's last `Retry-After` (`hold`). Updated with ETags, so two instances never hand
 *   out the same slot or the same bytes.
 * - rows `sem-0…n`: leases for Graph's concurrent-request limit per mailbox. A crashed holder's
 *   lease simply expires.
 */

export interface PacingLimits {
  ratePerMinute: number;
  dailyRecipientLimit: number;
  /** The rolling window of the daily limit (24 h; tests shrink it). */
  dailyWindowMs: number;
  /** Concurrent sends per mailbox (Graph allows 4 requests). */
  maxConcurrent: number;
  /** Request bytes (POST/PATCH/PUT) per rolling upload window (Graph: 150 MB per 5 minutes). */
  uploadBytesPerWindow: number;
  uploadWindowMs: number;
}

export interface Reservation {
  /** Slot times (epoch ms) for a prefix of the requested messages, in order. */
  slots: number[];
  /** When nothing (more) fits: the earliest time worth trying again. */
  retryAt: number;
}

export interface ConcurrencyLease {
  release(): Promise<void>;
}

export interface UploadGrant {
  /**
   * The message's requests are over: its bytes count from now on (an upload that took a while
   * still fills the window it ended in). Never throws; on a storage failure the bytes simply keep
   * counting from when they were admitted.
   */
  done(): Promise<void>;
}

export interface Pacer {
  /**
   * Reserves consecutive send slots for messages with these recipient counts, up to `horizonMs`
   * ahead of now and within the daily budget.
   */
  reserve(
    mailbox: string,
    recipientCounts: readonly number[],
    horizonMs: number,
  ): Promise<Reservation>;
  /** Graph said "wait": no slot and no send before `until` for anyone using this mailbox. */
  holdUntil(mailbox: string, until: number): Promise<void>;
  /**
   * Admits one message that is about to be sent now: Graph's hold is over and its request bytes
   * fit the rolling upload window (a message bigger than the whole budget goes alone). Otherwise
   * the time worth trying again; the next free slot moves there too, so the dispatcher stops
   * handing out slots nobody can use.
   */
  admit(mailbox: string, bytes: number): Promise<UploadGrant | { retryAt: number }>;
  /** A concurrency lease, or the time one may be free. */
  acquire(mailbox: string, leaseMs: number): Promise<ConcurrencyLease | { retryAt: number }>;
  /** Next free slot (for ETAs). */
  nextSlot(mailbox: string): Promise<number>;
}

type Bucket = [start: number, recipients: number];

interface PaceState {
  tat: number;
  /** Graph's last Retry-After ends here. */
  hold: number;
  /** Recipients per bucket (daily limit). */
  buckets: Bucket[];
  /** Request bytes per bucket (upload limit). */
  uploads: Bucket[];
  etag: string | undefined;
}

const BUCKETS_PER_WINDOW = 96;
/**
 * A message leaves at or after its slot, never before, but up to a couple of seconds after it
 * (whole-second queue visibility, polling). The daily window is widened by that much so the
 * real send times, not just the slots, stay within the limit.
 */
export const SEND_LATENESS_MS = 2000;
const MAX_ATTEMPTS = 20;

export function mailboxPartition(mailbox: string): string {
  return createHash('sha256').update(mailbox.toLowerCase()).digest('hex').slice(0, 40);
}

/**
 * Earliest time ≥ t at which `weight` more (recipients, bytes) fit the rolling window. Buckets
 * that overlap the window at all count whole, which errs on the safe side.
 */
export function windowFit(
  buckets: readonly Bucket[],
  t: number,
  weight: number,
  limit: number,
  windowMs: number,
  bucketMs = windowMs / BUCKETS_PER_WINDOW,
): number {
  const live = buckets
    .filter(([start]) => start + bucketMs > t - windowMs)
    .sort((a, b) => a[0] - b[0]);
  let used = live.reduce((sum, [, n]) => sum + n, 0);
  if (used + weight <= limit) return t;
  for (const [start, n] of live) {
    used -= n;
    if (used + weight <= limit) return Math.max(t, start + bucketMs + windowMs);
  }
  return t + windowMs;
}

export function createPacer(
  table: () => Promise<TableClient>,
  limits: PacingLimits,
  now: () => number = Date.now,
): Pacer {
  const intervalMs = 60_000 / limits.ratePerMinute;
  const bucketMs = limits.dailyWindowMs / BUCKETS_PER_WINDOW;
  const fitWindowMs = limits.dailyWindowMs + SEND_LATENESS_MS;
  const uploadBucketMs = limits.uploadWindowMs / BUCKETS_PER_WINDOW;

  async function readPace(client: TableClient, partition: string): Promise<PaceState> {
    try {
      const e = await client.getEntity<{
        tat: number;
        hold?: number;
        buckets: string;
        uploads?: string;
      }>(partition, 'pace');
      return {
        tat: Number(e.tat),
        hold: Number(e.hold ?? 0),
        buckets: JSON.parse(e.buckets) as Bucket[],
        uploads: JSON.parse(e.uploads ?? '[]') as Bucket[],
        etag: e.etag,
      };
    } catch (error) {
      if (storageErrorCode(error) === 'ResourceNotFound')
        return { tat: 0, hold: 0, buckets: [], uploads: [], etag: undefined };
      throw storageUnavailable('reading the send pace', error);
    }
  }

  const paceProperties = (state: PaceState) => ({
    tat: state.tat,
    hold: state.hold,
    buckets: JSON.stringify(state.buckets),
    uploads: JSON.stringify(state.uploads),
  });

  /** Writes the pace row; false when another instance changed it first (then read and retry). */
  async function writePace(
    client: TableClient,
    partition: string,
    state: PaceState,
  ): Promise<boolean> {
    const entity = { partitionKey: partition, rowKey: 'pace', ...paceProperties(state) };
    try {
      if (state.etag) await client.updateEntity(entity, 'Replace', { etag: state.etag });
      else await client.createEntity(entity);
      return true;
    } catch (error) {
      const code = storageErrorCode(error);
      if (code === 'UpdateConditionNotSatisfied' || code === 'EntityAlreadyExists') return false;
      throw storageUnavailable('reserving a send slot', error);
    }
  }

  /** Applies `change` under the row's ETag; a change that changes nothing writes nothing. */
  async function updatePace<T>(mailbox: string, change: (state: PaceState) => T): Promise<T> {
    const client = await table();
    const partition = mailboxPartition(mailbox);
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const state = await readPace(client, partition);
      const before = JSON.stringify(paceProperties(state));
      const result = change(state);
      if (state.etag && JSON.stringify(paceProperties(state)) === before) return result;
      if (await writePace(client, partition, state)) return result;
      await new Promise((r) => setTimeout(r, 5 + Math.random() * 20 * (attempt + 1)));
    }
    throw storageUnavailable('reserving a send slot (too much contention)', undefined);
  }

  /** Adds `weight` (negative: takes it back) to the bucket holding `at`. */
  function addToBucket(buckets: Bucket[], at: number, weight: number, size = bucketMs): Bucket[] {
    const start = Math.floor(at / size) * size;
    const bucket = buckets.find(([s]) => s === start);
    if (bucket) bucket[1] += weight;
    else if (weight > 0) buckets.push([start, weight]);
    return buckets.filter(([, n]) => n > 0);
  }

  const liveUploads = (uploads: Bucket[], t: number) =>
    uploads.filter(([start]) => start + uploadBucketMs > t - limits.uploadWindowMs);

  return {
    reserve(mailbox, recipientCounts, horizonMs) {
      return updatePace(mailbox, (state) => {
        const t0 = now();
        state.buckets = state.buckets.filter(([start]) => start + bucketMs > t0 - fitWindowMs);
        let slot = Math.max(state.tat, t0);
        const slots: number[] = [];
        let retryAt = slot;
        for (const weight of recipientCounts) {
          if (slot > t0 + horizonMs) {
            retryAt = slot;
            break;
          }
          const fits = windowFit(
            state.buckets,
            slot,
            weight,
            limits.dailyRecipientLimit,
            fitWindowMs,
            bucketMs,
          );
          if (fits > slot) {
            // The daily budget is spent: keep the order and come back when it frees up.
            retryAt = fits;
            break;
          }
          slots.push(slot);
          state.buckets = addToBucket(state.buckets, slot, weight);
          slot += intervalMs;
          retryAt = slot;
        }
        state.tat = Math.max(
          state.tat,
          slots.length > 0 ? slots[slots.length - 1]! + intervalMs : state.tat,
        );
        return { slots, retryAt };
      });
    },

    holdUntil(mailbox, until) {
      return updatePace(mailbox, (state) => {
        state.tat = Math.max(state.tat, until);
        state.hold = Math.max(state.hold, until);
      });
    },

    async admit(mailbox, bytes) {
      const weight = Math.min(bytes, limits.uploadBytesPerWindow);
      const verdict = await updatePace(mailbox, (state): { at: number } | { retryAt: number } => {
        const t0 = now();
        if (state.hold > t0) return { retryAt: state.hold };
        state.uploads = liveUploads(state.uploads, t0);
        const fits = windowFit(
          state.uploads,
          t0,
          weight,
          limits.uploadBytesPerWindow,
          limits.uploadWindowMs,
          uploadBucketMs,
        );
        if (fits > t0) {
          state.tat = Math.max(state.tat, fits);
          return { retryAt: fits };
        }
        state.uploads = addToBucket(state.uploads, t0, weight, uploadBucketMs);
        return { at: t0 };
      });
      if ('retryAt' in verdict) return verdict;
      return {
        done: () =>
          updatePace(mailbox, (state) => {
            const t = now();
            const moved = addToBucket(state.uploads, verdict.at, -weight, uploadBucketMs);
            state.uploads = liveUploads(addToBucket(moved, t, weight, uploadBucketMs), t);
          }).catch(() => undefined),
      };
    },

    async nextSlot(mailbox) {
      return Math.max(now(), (await readPace(await table(), mailboxPartition(mailbox))).tat);
    },

    async acquire(mailbox, leaseMs) {
      const client = await table();
      const partition = mailboxPartition(mailbox);
      const held = new Map<string, { until: number; etag: string }>();
      try {
        const rows = client.listEntities<{ until: number }>({
          queryOptions: {
            filter: `PartitionKey eq '${partition}' and RowKey ge 'sem-' and RowKey lt 'sem.'`,
          },
        });
        for await (const row of rows)
          held.set(row.rowKey!, { until: Number(row.until), etag: row.etag });
      } catch (error) {
        throw storageUnavailable('reading send leases', error);
      }
      const t0 = now();
      const holder = randomUUID();
      const order = Array.from({ length: limits.maxConcurrent }, (_, i) => `sem-${i}`).sort(
        () => Math.random() - 0.5,
      );
      for (const rowKey of order) {
        const current = held.get(rowKey);
        if (current && current.until > t0) continue;
        const entity = { partitionKey: partition, rowKey, until: t0 + leaseMs, holder };
        let etag: string;
        try {
          etag = current
            ? (await client.updateEntity(entity, 'Replace', { etag: current.etag })).etag!
            : (await client.createEntity(entity)).etag!;
        } catch (error) {
          const code = storageErrorCode(error);
          if (code === 'UpdateConditionNotSatisfied' || code === 'EntityAlreadyExists') continue;
          throw storageUnavailable('taking a send lease', error);
        }
        return {
          async release() {
            try {
              await client.updateEntity(
                { partitionKey: partition, rowKey, until: 0, holder: '' },
                'Replace',
                {
                  etag,
                },
              );
            } catch {
              // Someone took the slot over after our lease ran out, or storage failed: the lease
              // expires on its own either way.
            }
          },
        };
      }
      // Holders usually release within a send's duration, long before their lease runs out.
      const busyUntil = [...held.values()].map((h) => h.until).filter((u) => u > t0);
      return { retryAt: Math.min(t0 + 1000, ...busyUntil) };
    },
  };
}
