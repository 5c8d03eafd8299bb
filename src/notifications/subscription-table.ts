import { azureSdk } from '../core/azure-sdk';
import { type CredentialKey } from '../credentials/types';
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
  putSubscription(sub: CallerSubscription): Promise<void>;
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
    reason: str(row.reason),
    createdAt: str(row.createdAt) ?? '',
  };
}

/** `notifysubs`: partition `{serviceId}|{credentialId}`, row = the caller's subscription id. */
export function createSubscriptionTable(table: TableOf): SubscriptionTable {
  const subs = () => table(NOTIFY_TABLES.subscriptions);
  return {
    putSubscription: (s) =>
      guarded('saving a subscription', async () => {
        await (await subs()).upsertEntity(subscriptionRow(s), 'Replace');
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
