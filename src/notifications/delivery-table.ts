import { azureSdk } from '../core/azure-sdk';
import { storageStatus } from '../storage';
import { type WebhookEvent } from './events';
import {
  getRow,
  guarded,
  listRows,
  NOTIFY_TABLES,
  num,
  type Row,
  str,
  type TableOf,
} from './tables';

export type DeliveryStatus = 'pending' | 'retrying' | 'delivered' | 'dead' | 'cancelled';

export interface Delivery {
  subscriptionId: string;
  deliveryId: string;
  serviceId: string;
  credentialId: string;
  event: WebhookEvent;
  status: DeliveryStatus;
  attempts: number;
  lastStatusCode: number | undefined;
  lastError: string | undefined;
  createdAt: number;
  lastAttemptAt: number | undefined;
  nextAttemptAt: number | undefined;
  etag?: string;
}

export interface DeliveryTable {
  /** False when the delivery exists already (the change was registered before). */
  addDelivery(delivery: Delivery): Promise<boolean>;
  getDelivery(subscriptionId: string, deliveryId: string): Promise<Delivery | undefined>;
  updateDelivery(delivery: Delivery): Promise<void>;
  listDeliveries(
    subscriptionId: string,
    statuses: readonly DeliveryStatus[],
    max: number,
  ): Promise<Delivery[]>;
}

/** Deliveries of one subscription read to pick the newest of some statuses. */
const MAX_DELIVERIES_READ = 5000;
/** A webhook's error text is kept this long: enough to say why, bounded whatever it answered. */
const MAX_ERROR_CHARS = 500;

/** The row a new delivery is inserted as. */
export function newDeliveryRow(d: Delivery): Row {
  return {
    partitionKey: d.subscriptionId,
    rowKey: d.deliveryId,
    serviceId: d.serviceId,
    credentialId: d.credentialId,
    event: JSON.stringify(d.event),
    status: d.status,
    attempts: d.attempts,
    createdAt: d.createdAt,
  };
}

/** What an attempt changes, merged into the row (the event itself is never rewritten). */
export function deliveryUpdateRow(d: Delivery): Row {
  return {
    partitionKey: d.subscriptionId,
    rowKey: d.deliveryId,
    status: d.status,
    attempts: d.attempts,
    createdAt: d.createdAt,
    ...(d.lastStatusCode !== undefined ? { lastStatusCode: d.lastStatusCode } : {}),
    ...(d.lastError !== undefined ? { lastError: d.lastError.slice(0, MAX_ERROR_CHARS) } : {}),
    ...(d.lastAttemptAt !== undefined ? { lastAttemptAt: d.lastAttemptAt } : {}),
    ...(d.nextAttemptAt !== undefined ? { nextAttemptAt: d.nextAttemptAt } : {}),
  };
}

export function toDelivery(row: Row): Delivery {
  return {
    subscriptionId: row.partitionKey,
    deliveryId: row.rowKey,
    serviceId: str(row.serviceId) ?? '',
    credentialId: str(row.credentialId) ?? '',
    event: JSON.parse(str(row.event) ?? '{}') as WebhookEvent,
    status: (str(row.status) ?? 'pending') as DeliveryStatus,
    attempts: num(row.attempts) ?? 0,
    lastStatusCode: num(row.lastStatusCode),
    lastError: str(row.lastError),
    createdAt: num(row.createdAt) ?? 0,
    lastAttemptAt: num(row.lastAttemptAt),
    nextAttemptAt: num(row.nextAttemptAt),
    ...(row.etag ? { etag: row.etag } : {}),
  };
}

/**
 * `notifydeliveries`: partition = caller subscription id, row = `webhook-id`: the event, attempts,
 * last answer, next try. Inserting by `webhook-id` makes registering a change idempotent.
 */
export function createDeliveryTable(table: TableOf): DeliveryTable {
  const deliveries = () => table(NOTIFY_TABLES.deliveries);
  return {
    addDelivery: (d) =>
      guarded('registering a delivery', async () => {
        try {
          await (await deliveries()).createEntity(newDeliveryRow(d));
          return true;
        } catch (error) {
          if (storageStatus(error) === 409) return false;
          throw error;
        }
      }),
    getDelivery: (subscriptionId, deliveryId) =>
      guarded('reading a delivery', async () => {
        const row = await getRow(await deliveries(), subscriptionId, deliveryId);
        return row ? toDelivery(row) : undefined;
      }),
    updateDelivery: (d) =>
      guarded('updating a delivery', async () => {
        await (await deliveries()).updateEntity(deliveryUpdateRow(d), 'Merge');
      }),
    listDeliveries: (subscriptionId, statuses, max) =>
      guarded('listing deliveries', async () => {
        const filter = azureSdk.dataTables().odata`PartitionKey eq ${subscriptionId}`;
        const rows = await listRows(await deliveries(), filter, MAX_DELIVERIES_READ);
        return rows
          .map(toDelivery)
          .filter((d) => statuses.includes(d.status))
          .sort((a, b) => b.createdAt - a.createdAt)
          .slice(0, max);
      }),
  };
}
