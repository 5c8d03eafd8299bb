import { createHash } from 'node:crypto';

import type { TableClient } from '@azure/data-tables';

import { type CredentialKey } from '../credentials/types';
import { storageStatus, storageUnavailable } from '../storage';

/** The notification tables (their layout: `store.ts`). */
export const NOTIFY_TABLES = {
  subscriptions: 'notifysubs',
  watches: 'notifyfolders',
  seen: 'notifyseen',
  deliveries: 'notifydeliveries',
} as const;

/** Opens one of the notification tables (created on first use by the storage clients). */
export type TableOf = (name: string) => Promise<TableClient>;

export type Row = Record<string, unknown> & { partitionKey: string; rowKey: string; etag?: string };

export const partitionOf = (key: CredentialKey): string => `${key.serviceId}|${key.credentialId}`;
export const hashOf = (text: string): string =>
  createHash('sha256').update(text, 'utf8').digest('hex').slice(0, 40);
export const watchKey = (key: CredentialKey, folderId: string): string =>
  `${partitionOf(key)}|${hashOf(folderId)}`;

/** A row's text or number property; anything else (absent, another type) is undefined. */
export const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
export const num = (v: unknown): number | undefined => (typeof v === 'number' ? v : undefined);

/** Storage failing is `store_unavailable` (503) naming what was being done. */
export async function guarded<T>(what: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    throw storageUnavailable(what, error);
  }
}

export async function getRow(
  client: TableClient,
  pk: string,
  rk: string,
): Promise<Row | undefined> {
  try {
    return await client.getEntity<Row>(pk, rk);
  } catch (error) {
    if (storageStatus(error) === 404) return undefined;
    throw error;
  }
}

/** At most `max` rows of a query (a bound on what one caller's data can make us hold). */
export async function listRows(client: TableClient, filter: string, max: number): Promise<Row[]> {
  const out: Row[] = [];
  for await (const row of client.listEntities<Row>({ queryOptions: { filter } })) {
    out.push(row);
    if (out.length >= max) break;
  }
  return out;
}

/** Deletes a row; one already gone is what was asked for. */
export async function deleteRow(client: TableClient, pk: string, rk: string): Promise<void> {
  await client.deleteEntity(pk, rk).catch((error: unknown) => {
    if (storageStatus(error) !== 404) throw error;
  });
}
