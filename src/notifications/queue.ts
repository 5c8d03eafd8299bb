import type { QueueClient } from '@azure/storage-queue';
import * as z from 'zod';

import { createJsonQueue, type JsonQueue } from '../storage';

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

export type NotifyQueue<M> = JsonQueue<M>;

export function createNotifyQueue<M>(queue: () => Promise<QueueClient>): NotifyQueue<M> {
  return createJsonQueue(queue);
}
