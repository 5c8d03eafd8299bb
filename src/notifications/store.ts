import { createDeliveryTable, type DeliveryTable } from './delivery-table';
import { createSeenTable, type SeenTable } from './seen-table';
import { createSubscriptionTable, type SubscriptionTable } from './subscription-table';
import { type TableOf } from './tables';
import { createWatchTable, type WatchTable } from './watch-table';

export type { CallerSubscription, SubscriptionStatus } from './subscription-table';
export type { Watch } from './watch-table';
export type { Delivery, DeliveryStatus } from './delivery-table';
export { hashOf, NOTIFY_TABLES, partitionOf, watchKey } from './tables';

/**
 * Where notifications are kept, one table each (its layout beside its code):
 * - `notifysubs` the callers' subscriptions: webhook URL, events, fields, the signing secret
 *   sealed (AES-GCM, key derived from the data key), status (`subscription-table.ts`);
 * - `notifyfolders` one Graph subscription per (credential, folder): its id, sha256 of its
 *   clientState, expiry, the delta link; and the Graph subscription id → watch links
 *   (`watch-table.ts`);
 * - `notifyseen` the change key last delivered per message of a watch (`seen-table.ts`);
 * - `notifydeliveries` each webhook delivery and its attempts (`delivery-table.ts`).
 */
export type NotificationStore = SubscriptionTable & WatchTable & SeenTable & DeliveryTable;

export function createNotificationStore(table: TableOf): NotificationStore {
  return {
    ...createSubscriptionTable(table),
    ...createWatchTable(table),
    ...createSeenTable(table),
    ...createDeliveryTable(table),
  };
}
