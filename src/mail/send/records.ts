import { type TableClient } from '@azure/data-tables';

import { type CredentialKey } from '../../credentials/types';
import { IDEMPOTENCY_TTL_MS } from '../idempotency';
import { storageStatus, storageUnavailable } from '../../storage';

/**
 * What the product remembers of each send, so `GET …/sends/{sendId}` can tell its ids once the
 * Sent Items copy has appeared (it "may take time"). Rows sit beside the Idempotency-Key rows, in
 * the credential's partition of the same table, and live as long (24 h). A send id is only ever
 * read in the partition of the credential that sent it: another service or credential sees 404.
 */

export interface SendRecord {
  sendId: string;
  /** `unknown`: the send's answer was lost and the message was not found in time. */
  status: 'sent' | 'unknown';
  /** When the send request went out (epoch ms). */
  sentAt: number;
  /**
   * How the message is found: by its send id in Sent Items (`sendMail`, reply, forward), or by the
   * draft's immutable id, which its Sent Items copy keeps.
   */
  via: 'sendMail' | 'draft';
  /** The mailbox the message was sent from when not the signed-in user's own (UPN). */
  mailbox?: string;
  /** The draft's immutable id (`via: draft`). */
  draftId?: string;
  savedToSentItems: boolean;
  messageId: string | null;
  internetMessageId: string | null;
  /** True once the ids are final: known, or no copy will come (not saved, or not found in time). */
  resolved: boolean;
  /**
   * A draft sent with saveToSentItems=false: Graph's `/send` keeps a copy all the same, which a
   * queued job deletes once it appears (`pending`), or could not (`left`).
   */
  copyDeletion?: 'pending' | 'deleted' | 'left';
}

/**
 * One writer's change to a stored record: the record as it is now stored, changed in the fields
 * that writer owns, or undefined to leave it as it is (it has moved on past that change).
 */
export type SendRecordChange = (current: SendRecord) => SendRecord | undefined;

export interface SendRecordStore {
  /** Stores the record of a new send (its sender, before anyone else knows the send id). */
  put(credential: CredentialKey, record: SendRecord): Promise<void>;
  /** The record of `sendId` sent through `credential`; undefined when unknown or expired. */
  get(credential: CredentialKey, sendId: string): Promise<SendRecord | undefined>;
  /**
   * Applies `change` to the record as stored, under its ETag: when another writer got in between
   * (the status route resolving ids while the sent-copy job marks the copy deleted), the record is
   * read again and `change` applied to that, so neither writer's fields are lost. The record as
   * stored afterwards; undefined when there is none (expired or unknown: never recreated).
   */
  update(
    credential: CredentialKey,
    sendId: string,
    change: SendRecordChange,
  ): Promise<SendRecord | undefined>;
}

/** Reads-and-writes of one update before giving up; each lost round means another writer won. */
export const MAX_UPDATE_ATTEMPTS = 5;

interface Row {
  partitionKey: string;
  rowKey: string;
  record: string;
  expiresAt: number;
}

/** Same partition as the credential's Idempotency-Key rows; `send-` keeps them apart (hashes are hex). */
function keys(credential: CredentialKey, sendId: string) {
  return {
    partitionKey: `${credential.serviceId}:${credential.credentialId}`,
    rowKey: `send-${sendId}`,
  };
}

export function createSendRecordStore(options: {
  table: () => Promise<TableClient>;
  ttlMs?: number;
  now?: () => number;
}): SendRecordStore {
  const ttlMs = options.ttlMs ?? IDEMPOTENCY_TTL_MS;
  const now = options.now ?? Date.now;
  const table = async () => {
    try {
      return await options.table();
    } catch (error) {
      throw storageUnavailable('using the send records', error);
    }
  };
  async function read(
    credential: CredentialKey,
    sendId: string,
  ): Promise<(Row & { etag: string }) | undefined> {
    const { partitionKey, rowKey } = keys(credential, sendId);
    let row: Row & { etag: string };
    try {
      row = await (await table()).getEntity<Row>(partitionKey, rowKey);
    } catch (error) {
      if (storageStatus(error) === 404) return undefined;
      throw storageUnavailable('using the send records', error);
    }
    return row.expiresAt <= now() ? undefined : row;
  }

  return {
    async put(credential, record) {
      const row: Row = {
        ...keys(credential, record.sendId),
        record: JSON.stringify(record),
        expiresAt: record.sentAt + ttlMs,
      };
      try {
        await (await table()).upsertEntity(row, 'Replace');
      } catch (error) {
        throw storageUnavailable('using the send records', error);
      }
    },
    async get(credential, sendId) {
      const row = await read(credential, sendId);
      return row && (JSON.parse(row.record) as SendRecord);
    },
    async update(credential, sendId, change) {
      for (let attempt = 0; attempt < MAX_UPDATE_ATTEMPTS; attempt++) {
        const row = await read(credential, sendId);
        if (!row) return undefined;
        const current = JSON.parse(row.record) as SendRecord;
        const next = change(current);
        if (!next) return current;
        try {
          await (
            await table()
          ).updateEntity(
            { partitionKey: row.partitionKey, rowKey: row.rowKey, record: JSON.stringify(next) },
            'Merge',
            { etag: row.etag },
          );
          return next;
        } catch (error) {
          // 412: written meanwhile, so read again; 404: gone meanwhile (the next read says so).
          const status = storageStatus(error);
          if (status !== 412 && status !== 404)
            throw storageUnavailable('using the send records', error);
        }
      }
      throw storageUnavailable('using the send records (concurrent writes)', undefined);
    },
  };
}
