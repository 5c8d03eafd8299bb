import { createHash } from 'node:crypto';

import type { TableClient } from '@azure/data-tables';

import { azureSdk } from '../core/azure-sdk';

import { type CredentialKey } from '../credentials/types';
import { storageStatus, storageUnavailable } from '../storage';
import { type EventField, type MessageEvent, type WebhookEvent } from './events';

/**
 * Table layout of notifications:
 * - `notifysubs`: partition `{serviceId}|{credentialId}`, row = caller subscription id. Webhook URL,
 *   events, fields, the signing secret sealed (AES-GCM, key derived from the data key), status.
 * - `notifyfolders`: partition `{serviceId}|{credentialId}`, row = hash of the folder id. One Graph
 *   subscription per (credential, folder): its id, sha256 of its clientState, expiry, the delta link.
 *   Partition `graph`, row = Graph subscription id: which watch it belongs to (notification lookup).
 * - `notifyseen`: partition = watch, row = hash of the message id → last changeKey delivered (dedupe,
 *   and no second `message.created` after a resync).
 * - `notifydeliveries`: partition = caller subscription id, row = `webhook-id`: the event, attempts,
 *   last answer, next try. Inserting by `webhook-id` makes registering a change idempotent.
 */

export const NOTIFY_TABLES = {
  subscriptions: 'notifysubs',
  watches: 'notifyfolders',
  seen: 'notifyseen',
  deliveries: 'notifydeliveries',
} as const;

export type SubscriptionStatus = 'active' | 'paused' | 'disabled';

export interface CallerSubscription {
  serviceId: string;
  credentialId: string;
  subscriptionId: string;
  folderId: string;
  /** What the caller asked for (id, well-known name or path), shown back. */
  folder: string;
  events: MessageEvent[];
  webhookUrl: string;
  fields: EventField[];
  sealedSecret: string;
  status: SubscriptionStatus;
  reason: string | undefined;
  createdAt: string;
}

export interface Watch {
  serviceId: string;
  credentialId: string;
  folderId: string;
  /** `/me` or `/users/{upn}`. */
  root: string;
  graphSubscriptionId: string | undefined;
  clientStateHash: string | undefined;
  expiresAt: number;
  deltaLink: string | undefined;
  status: 'active' | 'paused';
  /** Messages received before this (epoch ms) and never seen are old mail, not new arrivals. */
  since: number;
  /** When the last completed delta run began reading (epoch ms). */
  lastRunStart: number;
  etag?: string;
}

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

export const partitionOf = (key: CredentialKey): string => `${key.serviceId}|${key.credentialId}`;
export const hashOf = (text: string): string =>
  createHash('sha256').update(text, 'utf8').digest('hex').slice(0, 40);
export const watchKey = (key: CredentialKey, folderId: string): string =>
  `${partitionOf(key)}|${hashOf(folderId)}`;

const GRAPH_PARTITION = 'graph';

type Row = Record<string, unknown> & { partitionKey: string; rowKey: string; etag?: string };

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const num = (v: unknown): number | undefined => (typeof v === 'number' ? v : undefined);

function toSubscription(row: Row): CallerSubscription {
  const [serviceId = '', credentialId = ''] = row.partitionKey.split('|');
  return {
    serviceId,
    credentialId,
    subscriptionId: row.rowKey,
    folderId: str(row.folderId) ?? '',
    folder: str(row.folder) ?? '',
    events: (str(row.events) ?? '').split(',').filter(Boolean) as MessageEvent[],
    webhookUrl: str(row.webhookUrl) ?? '',
    fields: (str(row.fields) ?? '').split(',').filter(Boolean) as EventField[],
    sealedSecret: str(row.secret) ?? '',
    status: (str(row.status) ?? 'active') as SubscriptionStatus,
    reason: str(row.reason),
    createdAt: str(row.createdAt) ?? '',
  };
}

function toWatch(row: Row): Watch {
  const [serviceId = '', credentialId = ''] = row.partitionKey.split('|');
  return {
    serviceId,
    credentialId,
    folderId: str(row.folderId) ?? '',
    root: str(row.root) ?? '/me',
    graphSubscriptionId: str(row.graphSubscriptionId),
    clientStateHash: str(row.clientStateHash),
    expiresAt: num(row.expiresAt) ?? 0,
    deltaLink: str(row.deltaLink),
    status: str(row.status) === 'paused' ? 'paused' : 'active',
    since: num(row.since) ?? 0,
    lastRunStart: num(row.lastRunStart) ?? 0,
    ...(row.etag ? { etag: row.etag } : {}),
  };
}

function toDelivery(row: Row): Delivery {
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

async function guarded<T>(what: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    throw storageUnavailable(what, error);
  }
}

async function getRow(client: TableClient, pk: string, rk: string): Promise<Row | undefined> {
  try {
    return await client.getEntity<Row>(pk, rk);
  } catch (error) {
    if (storageStatus(error) === 404) return undefined;
    throw error;
  }
}

async function list(client: TableClient, filter: string, max: number): Promise<Row[]> {
  const out: Row[] = [];
  for await (const row of client.listEntities<Row>({ queryOptions: { filter } })) {
    out.push(row);
    if (out.length >= max) break;
  }
  return out;
}

export interface NotificationStore {
  putSubscription(sub: CallerSubscription): Promise<void>;
  getSubscription(key: CredentialKey, id: string): Promise<CallerSubscription | undefined>;
  listSubscriptions(key: CredentialKey, max: number): Promise<CallerSubscription[]>;
  countForService(serviceId: string, max: number): Promise<number>;
  deleteSubscription(key: CredentialKey, id: string): Promise<void>;

  getWatch(key: CredentialKey, folderId: string): Promise<Watch | undefined>;
  /** Insert (no etag) or conditional replace; false when someone else changed it first. */
  saveWatch(watch: Watch): Promise<boolean>;
  deleteWatch(watch: Watch): Promise<void>;
  allWatches(max: number): Promise<Watch[]>;
  linkGraphSubscription(graphId: string, watch: Watch): Promise<void>;
  unlinkGraphSubscription(graphId: string): Promise<void>;
  watchOfGraphSubscription(graphId: string): Promise<Watch | undefined>;

  seen(watch: string, messageId: string): Promise<string | null | undefined>;
  seenAll(watch: string, max: number): Promise<Map<string, string>>;
  markSeen(watch: string, messageId: string, changeKey: string | null): Promise<void>;
  forget(watch: string, messageId: string): Promise<void>;

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

export function createNotificationStore(
  table: (name: string) => Promise<TableClient>,
): NotificationStore {
  const subs = () => table(NOTIFY_TABLES.subscriptions);
  const watches = () => table(NOTIFY_TABLES.watches);
  const seenTable = () => table(NOTIFY_TABLES.seen);
  const deliveries = () => table(NOTIFY_TABLES.deliveries);
  const watchRow = (w: Watch): Row => ({
    partitionKey: partitionOf(w),
    rowKey: hashOf(w.folderId),
    folderId: w.folderId,
    root: w.root,
    ...(w.graphSubscriptionId ? { graphSubscriptionId: w.graphSubscriptionId } : {}),
    ...(w.clientStateHash ? { clientStateHash: w.clientStateHash } : {}),
    expiresAt: w.expiresAt,
    ...(w.deltaLink ? { deltaLink: w.deltaLink } : {}),
    status: w.status,
    since: w.since,
    lastRunStart: w.lastRunStart,
  });
  return {
    putSubscription: (s) =>
      guarded('saving a subscription', async () => {
        await (
          await subs()
        ).upsertEntity(
          {
            partitionKey: partitionOf(s),
            rowKey: s.subscriptionId,
            folderId: s.folderId,
            folder: s.folder,
            events: s.events.join(','),
            webhookUrl: s.webhookUrl,
            fields: s.fields.join(','),
            secret: s.sealedSecret,
            status: s.status,
            ...(s.reason ? { reason: s.reason } : {}),
            createdAt: s.createdAt,
          },
          'Replace',
        );
      }),
    getSubscription: (key, id) =>
      guarded('reading a subscription', async () => {
        const row = await getRow(await subs(), partitionOf(key), id);
        return row ? toSubscription(row) : undefined;
      }),
    listSubscriptions: (key, max) =>
      guarded('listing subscriptions', async () =>
        (
          await list(
            await subs(),
            azureSdk.dataTables().odata`PartitionKey eq ${partitionOf(key)}`,
            max,
          )
        ).map(toSubscription),
      ),
    countForService: (serviceId, max) =>
      guarded('counting subscriptions', async () => {
        // Partitions `{serviceId}|…`: `}` sorts right after `|`, and ids contain neither.
        const filter = azureSdk.dataTables()
          .odata`PartitionKey gt ${`${serviceId}|`} and PartitionKey lt ${`${serviceId}}`}`;
        return (await list(await subs(), filter, max)).length;
      }),
    deleteSubscription: (key, id) =>
      guarded('deleting a subscription', async () => {
        await (await subs()).deleteEntity(partitionOf(key), id).catch((error: unknown) => {
          if (storageStatus(error) !== 404) throw error;
        });
      }),

    getWatch: (key, folderId) =>
      guarded('reading a folder watch', async () => {
        const row = await getRow(await watches(), partitionOf(key), hashOf(folderId));
        return row ? toWatch(row) : undefined;
      }),
    saveWatch: (w) =>
      guarded('saving a folder watch', async () => {
        const client = await watches();
        try {
          if (w.etag) await client.updateEntity(watchRow(w), 'Replace', { etag: w.etag });
          else await client.createEntity(watchRow(w));
          return true;
        } catch (error) {
          if (storageStatus(error) === 412 || storageStatus(error) === 409) return false;
          throw error;
        }
      }),
    deleteWatch: (w) =>
      guarded('deleting a folder watch', async () => {
        await (
          await watches()
        )
          .deleteEntity(partitionOf(w), hashOf(w.folderId))
          .catch((error: unknown) => {
            if (storageStatus(error) !== 404) throw error;
          });
      }),
    allWatches: (max) =>
      guarded('listing folder watches', async () =>
        (
          await list(
            await watches(),
            azureSdk.dataTables().odata`PartitionKey ne ${GRAPH_PARTITION}`,
            max,
          )
        ).map(toWatch),
      ),
    linkGraphSubscription: (graphId, w) =>
      guarded('linking a Graph subscription', async () => {
        await (
          await watches()
        ).upsertEntity(
          {
            partitionKey: GRAPH_PARTITION,
            rowKey: graphId,
            watchPartition: partitionOf(w),
            watchRow: hashOf(w.folderId),
          },
          'Replace',
        );
      }),
    unlinkGraphSubscription: (graphId) =>
      guarded('unlinking a Graph subscription', async () => {
        await (await watches()).deleteEntity(GRAPH_PARTITION, graphId).catch((error: unknown) => {
          if (storageStatus(error) !== 404) throw error;
        });
      }),
    watchOfGraphSubscription: (graphId) =>
      guarded('finding a Graph subscription', async () => {
        const client = await watches();
        const link = await getRow(client, GRAPH_PARTITION, graphId);
        if (!link) return undefined;
        const row = await getRow(client, String(link.watchPartition), String(link.watchRow));
        return row ? toWatch(row) : undefined;
      }),

    seen: (watch, messageId) =>
      guarded('reading a seen message', async () => {
        const row = await getRow(await seenTable(), watch, hashOf(messageId));
        return row ? (str(row.changeKey) ?? null) : undefined;
      }),
    seenAll: (watch, max) =>
      guarded('reading seen messages', async () => {
        const rows = await list(
          await seenTable(),
          azureSdk.dataTables().odata`PartitionKey eq ${watch}`,
          max,
        );
        return new Map(rows.map((r) => [r.rowKey, str(r.changeKey) ?? '']));
      }),
    markSeen: (watch, messageId, changeKey) =>
      guarded('recording a seen message', async () => {
        await (
          await seenTable()
        ).upsertEntity(
          { partitionKey: watch, rowKey: hashOf(messageId), changeKey: changeKey ?? '' },
          'Replace',
        );
      }),
    forget: (watch, messageId) =>
      guarded('forgetting a message', async () => {
        await (await seenTable()).deleteEntity(watch, hashOf(messageId)).catch((error: unknown) => {
          if (storageStatus(error) !== 404) throw error;
        });
      }),

    addDelivery: (d) =>
      guarded('registering a delivery', async () => {
        try {
          await (
            await deliveries()
          ).createEntity({
            partitionKey: d.subscriptionId,
            rowKey: d.deliveryId,
            serviceId: d.serviceId,
            credentialId: d.credentialId,
            event: JSON.stringify(d.event),
            status: d.status,
            attempts: d.attempts,
            createdAt: d.createdAt,
          });
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
        await (
          await deliveries()
        ).updateEntity(
          {
            partitionKey: d.subscriptionId,
            rowKey: d.deliveryId,
            status: d.status,
            attempts: d.attempts,
            createdAt: d.createdAt,
            ...(d.lastStatusCode !== undefined ? { lastStatusCode: d.lastStatusCode } : {}),
            ...(d.lastError !== undefined ? { lastError: d.lastError.slice(0, 500) } : {}),
            ...(d.lastAttemptAt !== undefined ? { lastAttemptAt: d.lastAttemptAt } : {}),
            ...(d.nextAttemptAt !== undefined ? { nextAttemptAt: d.nextAttemptAt } : {}),
          },
          'Merge',
        );
      }),
    listDeliveries: (subscriptionId, statuses, max) =>
      guarded('listing deliveries', async () => {
        const rows = await list(
          await deliveries(),
          azureSdk.dataTables().odata`PartitionKey eq ${subscriptionId}`,
          5000,
        );
        return rows
          .map(toDelivery)
          .filter((d) => statuses.includes(d.status))
          .sort((a, b) => b.createdAt - a.createdAt)
          .slice(0, max);
      }),
  };
}
