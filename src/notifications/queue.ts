import type { QueueClient } from '@azure/storage-queue';
import * as z from 'zod';

/**
 * Queue messages of notifications, small on purpose (keys only; state lives in tables):
 * - `notify-changes`: `sync` runs a folder's delta (a notification arrived, a catch-up is due);
 *   `lifecycle` handles a Graph lifecycle event for a Graph subscription.
 * - `notify-deliveries`: `deliver` POSTs one event to one webhook; a failed attempt re-enqueues
 *   itself invisible until its next try, so retries survive restarts.
 */

export const CHANGES_QUEUE = 'notify-changes';
export const DELIVERIES_QUEUE = 'notify-deliveries';

const id = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/);

export const changesMessageSchema = z.discriminatedUnion('k', [
  z.strictObject({
    v: z.literal(1),
    k: z.literal('sync'),
    s: id,
    c: id,
    f: z.string().min(1).max(512),
    /** When the reason for this run arrived: a run that started later covers it. */
    t: z.number().int().nonnegative().optional(),
  }),
  z.strictObject({
    v: z.literal(1),
    k: z.literal('lifecycle'),
    g: z.string().min(1).max(128),
    e: z.enum(['reauthorizationRequired', 'subscriptionRemoved', 'missed']),
  }),
]);
export type ChangesMessage = z.output<typeof changesMessageSchema>;

/** A run of one folder's delta, for a reason that arrived now (a notification, a catch-up). */
export function syncMessage(folder: {
  serviceId: string;
  credentialId: string;
  folderId: string;
}): ChangesMessage {
  return {
    v: 1,
    k: 'sync',
    s: folder.serviceId,
    c: folder.credentialId,
    f: folder.folderId,
    t: Date.now(),
  };
}

export const deliveryMessageSchema = z.strictObject({
  v: z.literal(1),
  k: z.literal('deliver'),
  sub: id,
  d: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/),
});
export type DeliveryMessage = z.output<typeof deliveryMessageSchema>;

// Storage queues cap visibility at 7 days.
const MAX_DELAY_S = 6 * 24 * 3600;

export interface NotifyQueue<M> {
  enqueue(message: M, delayMs?: number): Promise<void>;
}

export function createNotifyQueue<M>(queue: () => Promise<QueueClient>): NotifyQueue<M> {
  return {
    async enqueue(message, delayMs = 0) {
      const text = Buffer.from(JSON.stringify(message), 'utf8').toString('base64');
      await (
        await queue()
      ).sendMessage(text, {
        visibilityTimeout: Math.min(MAX_DELAY_S, Math.ceil(Math.max(0, delayMs) / 1000)),
        messageTimeToLive: -1,
      });
    },
  };
}
