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

export interface SendRecordStore {
  /** Stores or replaces the record. */
  put(credential: CredentialKey, record: SendRecord): Promise<void>;
  /** The record of `sendId` sent through `credential`; undefined when unknown or expired. */
  get(credential: CredentialKey, sendId: string): Promise<SendRecord | undefined>;
}

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
      const { partitionKey, rowKey } = keys(credential, sendId);
      let row: Row;
      try {
        row = await (await table()).getEntity<Row>(partitionKey, rowKey);
      } catch (error) {
        if (storageStatus(error) === 404) return undefined;
        throw storageUnavailable('using the send records', error);
      }
      if (row.expiresAt <= now()) return undefined;
      return JSON.parse(row.record) as SendRecord;
    },
  };
}
