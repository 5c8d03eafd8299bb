import { azureSdk } from '../core/azure-sdk';
import { type CredentialKey } from '../credentials/types';
import { storageStatus } from '../storage';
import { type EventField, type MessageEvent } from './events';
import {
  deleteRow,
  getRow,
  guarded,
  listRows,
  NOTIFY_TABLES,
  partitionOf,
  type Row,
  str,
  type TableOf,
} from './tables';

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

export interface SubscriptionTable {
  /** Stores a new subscription. */
  putSubscription(sub: CallerSubscription): Promise<void>;
  /**
   * Replaces the sealed signing secret, and nothing else (the status is the delivery and watch
   * paths' to write). False when the subscription is gone: it is never recreated.
   */
  setSecret(key: CredentialKey, id: string, sealedSecret: string): Promise<boolean>;
  /**
   * Moves the status (and its reason), and nothing else, under the row's ETag: `disabled` is
   * final (a late pause or resume leaves it), and a gone subscription is never recreated. False
   * when it did not move.
   */
  setStatus(
    key: CredentialKey,
    id: string,
    status: SubscriptionStatus,
    reason: string | undefined,
  ): Promise<boolean>;
  getSubscription(key: CredentialKey, id: string): Promise<CallerSubscription | undefined>;
  listSubscriptions(key: CredentialKey, max: number): Promise<CallerSubscription[]>;
  countForService(serviceId: string, max: number): Promise<number>;
  deleteSubscription(key: CredentialKey, id: string): Promise<void>;
}

export function subscriptionRow(s: CallerSubscription): Row {
  return {
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
  };
}

export function toSubscription(row: Row): CallerSubscription {
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
    reason: str(row.reason) || undefined,
    createdAt: str(row.createdAt) ?? '',
  };
}

/** Rounds of a status change lost to another writer before giving up (503). */
const MAX_STATUS_WRITES = 3;

/** `notifysubs`: partition `{serviceId}|{credentialId}`, row = the caller's subscription id. */
export function createSubscriptionTable(table: TableOf): SubscriptionTable {
  const subs = () => table(NOTIFY_TABLES.subscriptions);
  return {
    putSubscription: (s) =>
      guarded('saving a subscription', async () => {
        await (await subs()).upsertEntity(subscriptionRow(s), 'Replace');
      }),
    setSecret: (key, id, sealedSecret) =>
      guarded('saving a subscription', async () => {
        try {
          // ETag `*`: the row must exist, so a subscription deleted meanwhile stays deleted.
          await (
            await subs()
          ).updateEntity(
            { partitionKey: partitionOf(key), rowKey: id, secret: sealedSecret },
            'Merge',
            {
              etag: '*',
            },
          );
          return true;
        } catch (error) {
          if (storageStatus(error) === 404) return false;
          throw error;
        }
      }),
    setStatus: (key, id, status, reason) =>
      guarded('saving a subscription', async () => {
        const client = await subs();
        for (let attempt = 0; attempt < MAX_STATUS_WRITES; attempt++) {
          const row = await getRow(client, partitionOf(key), id);
          if (!row || str(row.status) === 'disabled') return false;
          try {
            // An empty reason clears one (Merge keeps a property left out).
            await client.updateEntity(
              { partitionKey: row.partitionKey, rowKey: row.rowKey, status, reason: reason ?? '' },
              'Merge',
              { etag: row.etag! },
            );
            return true;
          } catch (error) {
            const code = storageStatus(error);
            if (code !== 412 && code !== 404) throw error;
          }
        }
        throw new Error('the subscription kept changing');
      }),
    getSubscription: (key, id) =>
      guarded('reading a subscription', async () => {
        const row = await getRow(await subs(), partitionOf(key), id);
        return row ? toSubscription(row) : undefined;
      }),
    listSubscriptions: (key, max) =>
      guarded('listing subscriptions', async () => {
        const filter = azureSdk.dataTables().odata`PartitionKey eq ${partitionOf(key)}`;
        return (await listRows(await subs(), filter, max)).map(toSubscription);
      }),
    countForService: (serviceId, max) =>
      guarded('counting subscriptions', async () => {
        // Partitions `{serviceId}|…`: `}` sorts right after `|`, and ids contain neither.
        const filter = azureSdk.dataTables()
          .odata`PartitionKey gt ${`${serviceId}|`} and PartitionKey lt ${`${serviceId}}`}`;
        return (await listRows(await subs(), filter, max)).length;
      }),
    deleteSubscription: (key, id) =>
      guarded('deleting a subscription', async () => {
        await deleteRow(await subs(), partitionOf(key), id);
      }),
  };
}
