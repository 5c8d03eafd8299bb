import { azureSdk } from '../core/azure-sdk';
import { type CredentialKey } from '../credentials/types';
import { storageStatus } from '../storage';
import {
  deleteRow,
  getRow,
  guarded,
  hashOf,
  listRows,
  NOTIFY_TABLES,
  num,
  partitionOf,
  type Row,
  str,
  type TableOf,
} from './tables';

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

export interface WatchTable {
  getWatch(key: CredentialKey, folderId: string): Promise<Watch | undefined>;
  /** Insert (no etag) or conditional replace; false when someone else changed it first. */
  saveWatch(watch: Watch): Promise<boolean>;
  deleteWatch(watch: Watch): Promise<void>;
  allWatches(max: number): Promise<Watch[]>;
  linkGraphSubscription(graphId: string, watch: Watch): Promise<void>;
  unlinkGraphSubscription(graphId: string): Promise<void>;
  watchOfGraphSubscription(graphId: string): Promise<Watch | undefined>;
}

/** The partition of the links from a Graph subscription id to its watch. */
const GRAPH_PARTITION = 'graph';

export function watchRow(w: Watch): Row {
  return {
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
  };
}

export function toWatch(row: Row): Watch {
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

/**
 * `notifyfolders`: partition `{serviceId}|{credentialId}`, row = hash of the folder id: one Graph
 * subscription per (credential, folder). Partition `graph`, row = Graph subscription id: which
 * watch it belongs to (the lookup of an incoming notification).
 */
export function createWatchTable(table: TableOf): WatchTable {
  const watches = () => table(NOTIFY_TABLES.watches);
  return {
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
        await deleteRow(await watches(), partitionOf(w), hashOf(w.folderId));
      }),
    allWatches: (max) =>
      guarded('listing folder watches', async () => {
        const filter = azureSdk.dataTables().odata`PartitionKey ne ${GRAPH_PARTITION}`;
        return (await listRows(await watches(), filter, max)).map(toWatch);
      }),
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
        await deleteRow(await watches(), GRAPH_PARTITION, graphId);
      }),
    watchOfGraphSubscription: (graphId) =>
      guarded('finding a Graph subscription', async () => {
        const client = await watches();
        const link = await getRow(client, GRAPH_PARTITION, graphId);
        if (!link) return undefined;
        const row = await getRow(client, String(link.watchPartition), String(link.watchRow));
        return row ? toWatch(row) : undefined;
      }),
  };
}
