import * as z from 'zod';

import { type Logger } from '../core/logger';
import { type ChangesMessage, type NotifyQueue, syncMessage } from './queue';
import { type NotificationStore, type Watch } from './store';
import { clientStateMatches } from './watches';

/**
 * What Graph POSTs to the notification and lifecycle URLs. Only the routing fields are read: the
 * change itself always comes from delta. Anything else in an item is ignored.
 */
const itemSchema = z.looseObject({
  subscriptionId: z.string().min(1).max(128),
  clientState: z.string().max(128).nullish(),
  lifecycleEvent: z.string().max(64).optional(),
});
export const notificationCollectionSchema = z.looseObject({
  value: z.array(z.unknown()).max(1000),
});

/** Graph batches notifications; one request never holds more than this many lookups. */
const MAX_DISTINCT_SUBSCRIPTIONS = 100;

export interface IntakeResult {
  accepted: number;
  rejected: number;
}

export interface NotificationIntake {
  /**
   * Verifies each item's clientState (constant time, against the stored hash) and enqueues one
   * delta run per folder; items with a wrong or missing clientState are dropped and counted.
   */
  changes(items: readonly unknown[], options: { log: Logger }): Promise<IntakeResult>;
  lifecycle(items: readonly unknown[], options: { log: Logger }): Promise<IntakeResult>;
  /** Items dropped for a wrong clientState since start (health and tests). */
  rejectedCount(): number;
}

export function createNotificationIntake(deps: {
  store: NotificationStore;
  changes: NotifyQueue<ChangesMessage>;
}): NotificationIntake {
  let rejectedTotal = 0;

  async function verify(items: readonly unknown[], log: Logger) {
    const watches = new Map<string, Watch | undefined>();
    const valid: Array<{ watch: Watch; subscriptionId: string; lifecycleEvent?: string }> = [];
    let rejected = 0;
    for (const raw of items) {
      const parsed = itemSchema.safeParse(raw);
      if (!parsed.success) {
        rejected++;
        continue;
      }
      const item = parsed.data;
      if (!watches.has(item.subscriptionId)) {
        if (watches.size >= MAX_DISTINCT_SUBSCRIPTIONS) {
          rejected++;
          continue;
        }
        watches.set(
          item.subscriptionId,
          await deps.store.watchOfGraphSubscription(item.subscriptionId),
        );
      }
      const watch = watches.get(item.subscriptionId);
      if (!watch || !clientStateMatches(item.clientState, watch.clientStateHash)) {
        rejected++;
        continue;
      }
      valid.push({
        watch,
        subscriptionId: item.subscriptionId,
        ...(item.lifecycleEvent ? { lifecycleEvent: item.lifecycleEvent } : {}),
      });
    }
    if (rejected > 0) {
      rejectedTotal += rejected;
      log.warn('dropped notifications with an unknown subscription or a wrong clientState', {
        rejected,
      });
    }
    return { valid, rejected };
  }

  return {
    async changes(items, { log }) {
      const { valid, rejected } = await verify(items, log);
      const folders = new Map<string, Watch>();
      for (const { watch } of valid)
        folders.set(`${watch.serviceId}|${watch.credentialId}|${watch.folderId}`, watch);
      for (const watch of folders.values()) await deps.changes.enqueue(syncMessage(watch));
      return { accepted: valid.length, rejected };
    },
    async lifecycle(items, { log }) {
      const { valid, rejected } = await verify(items, log);
      let accepted = 0;
      for (const item of valid) {
        const event = item.lifecycleEvent;
        if (
          event !== 'reauthorizationRequired' &&
          event !== 'subscriptionRemoved' &&
          event !== 'missed'
        )
          continue;
        await deps.changes.enqueue({ v: 1, k: 'lifecycle', g: item.subscriptionId, e: event });
        accepted++;
      }
      return { accepted, rejected };
    },
    rejectedCount: () => rejectedTotal,
  };
}
