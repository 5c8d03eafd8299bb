import { type TableClient } from '@azure/data-tables';

import { azureSdk } from '../../core/azure-sdk';
import { NotFoundError } from '../../core/errors';
import { storageUnavailable } from '../../storage';
import { type Recipient } from '../send-types';
import { joinText, splitText } from '../template-storage';
import { type Entity, guarded, isConflict, isNotFound, optionalString } from './table-entity';

/**
 * Recipient rows in `bulkrecipients` (partition = jobId, row `r000042` per recipient, 0-based):
 * address, cc, variables, personal note, state `queued → sending → sent | failed | skipped`,
 * attempts, lease; once sent, the send id and time and the message ids as known (`sent-ids.ts`).
 * Rows are read in index order a page at a time; terminal moves are `counters.ts`'.
 */

export type RecipientState = 'queued' | 'sending' | 'sent' | 'failed' | 'skipped';
export type TerminalState = Extract<RecipientState, 'sent' | 'failed' | 'skipped'>;

export interface RecipientRow {
  jobId: string;
  index: number;
  to: string;
  cc: string[];
  variables: Record<string, unknown>;
  personalNote: string | undefined;
  from?: Recipient | undefined;
  replyTo?: Recipient[] | undefined;
  /** Recipients this message counts against the daily limit (to + cc). */
  recipientCount: number;
  state: RecipientState;
  attempts: number;
  /** While `sending`: until when the claiming worker owns the row (epoch ms). */
  leaseUntil: number;
  /** Once sent: the send's id and when it went (epoch ms), for finding its Sent Items copy. */
  sendId: string | undefined;
  sentAt: number | undefined;
  messageId: string | undefined;
  internetMessageId: string | undefined;
  /** False while a sent row's ids are still awaited from its Sent Items copy. */
  idsResolved: boolean;
  error: string | undefined;
  etag: string;
}

export interface NewRecipient {
  to: string;
  cc: string[];
  variables: Record<string, unknown>;
  personalNote: string | undefined;
  /** The row's own sender fields, over the job's. */
  from?: Recipient;
  replyTo?: Recipient[];
}

/** What is known of a sent row's message: the send's answer, then its Sent Items copy. */
export interface SentIds {
  messageId: string | null;
  internetMessageId: string | null;
  /** True once the ids are final (known, or no copy within the lookup window). */
  resolved: boolean;
}

export interface SentRow extends SentIds {
  sendId: string;
  sentAt: number;
}

export const rowKey = (index: number) => `r${String(index).padStart(6, '0')}`;

/** The entity properties that store `ids` (a null id is left out). */
export function idProperties(ids: SentIds) {
  return {
    ...(ids.messageId === null ? {} : { messageId: ids.messageId }),
    ...(ids.internetMessageId === null ? {} : { internetMessageId: ids.internetMessageId }),
    idsResolved: ids.resolved,
  };
}

/**
 * A new row's entity. cc, variables and the note travel as one UTF-8 JSON binary property:
 * transactions of 100 rows are large requests, and binary (base64) keeps multi-byte characters
 * intact (see splitText).
 */
export function recipientEntity(jobId: string, index: number, r: NewRecipient) {
  return {
    partitionKey: jobId,
    rowKey: rowKey(index),
    to: r.to,
    ...splitText(
      'data',
      JSON.stringify({
        cc: r.cc,
        variables: r.variables,
        personalNote: r.personalNote,
        from: r.from,
        replyTo: r.replyTo,
      }),
    ),
    recipientCount: 1 + r.cc.length,
    state: 'queued',
    attempts: 0,
    leaseUntil: 0,
  };
}

function personalData(
  e: Entity,
): Pick<RecipientRow, 'cc' | 'variables' | 'personalNote' | 'from' | 'replyTo'> {
  const data = JSON.parse(joinText('data', e) || '{}') as Partial<NewRecipient>;
  return {
    cc: data.cc ?? [],
    variables: data.variables ?? {},
    personalNote: data.personalNote,
    from: data.from,
    replyTo: data.replyTo,
  };
}

export function toRecipient(e: Entity): RecipientRow {
  return {
    jobId: String(e.partitionKey),
    index: Number(String(e.rowKey).slice(1)),
    to: String(e.to),
    ...personalData(e),
    recipientCount: Number(e.recipientCount ?? 1),
    state: String(e.state) as RecipientState,
    attempts: Number(e.attempts ?? 0),
    leaseUntil: Number(e.leaseUntil ?? 0),
    sendId: optionalString(e.sendId),
    sentAt: e.sentAt === undefined ? undefined : Number(e.sentAt),
    messageId: optionalString(e.messageId),
    internetMessageId: optionalString(e.internetMessageId),
    // A row stored without a send id has nothing to look up.
    idsResolved: e.idsResolved === true || optionalString(e.sendId) === undefined,
    error: optionalString(e.error),
    etag: e.etag,
  };
}

export interface RecipientRecords {
  read: (jobId: string, index: number) => Promise<RecipientRow>;
  /** Non-terminal change of one row, ETag-conditional; the new row or undefined on conflict. */
  update: (
    row: RecipientRow,
    patch: Partial<Pick<RecipientRow, 'state' | 'attempts' | 'leaseUntil' | 'error'>>,
  ) => Promise<RecipientRow | undefined>;
  /**
   * Stores what the Sent Items copy told of a sent row's ids, under the row's ETag: ids already
   * final are never overwritten, and a null id never erases a known one.
   */
  recordIds: (row: RecipientRow, ids: SentIds) => Promise<void>;
  /** Rows from index `from` on, in order. */
  page: (
    jobId: string,
    from: number,
    top: number,
    state?: RecipientState,
  ) => Promise<RecipientRow[]>;
}

/** Writes of one row's ids before giving up; each lost round means another reader wrote them. */
const MAX_ID_WRITES = 3;

export function createRecipientRecords(table: () => Promise<TableClient>): RecipientRecords {
  async function read(jobId: string, index: number): Promise<RecipientRow> {
    const client = await table();
    try {
      return toRecipient(await client.getEntity<Entity>(jobId, rowKey(index)));
    } catch (error) {
      if (isNotFound(error)) throw new NotFoundError('The recipient');
      throw storageUnavailable('reading a recipient', error);
    }
  }

  return {
    read,

    async update(row, patch) {
      const client = await table();
      try {
        const result = await client.updateEntity(
          { partitionKey: row.jobId, rowKey: rowKey(row.index), ...patch },
          'Merge',
          { etag: row.etag },
        );
        return { ...row, ...patch, etag: result.etag! };
      } catch (error) {
        if (isConflict(error)) return undefined;
        throw storageUnavailable('updating a recipient', error);
      }
    },

    async recordIds(row, ids) {
      // Readers of a job's results look rows up side by side: each writes under the ETag of the
      // row it read, and on 412 reads it again; ids another reader made final stay.
      let current = row;
      for (let attempt = 0; attempt < MAX_ID_WRITES; attempt++) {
        try {
          await (
            await table()
          ).updateEntity(
            { partitionKey: row.jobId, rowKey: rowKey(row.index), ...idProperties(ids) },
            'Merge',
            { etag: current.etag },
          );
          return;
        } catch (error) {
          if (!isConflict(error)) throw storageUnavailable('recording message ids', error);
        }
        current = await read(row.jobId, row.index);
        if (current.idsResolved) return;
      }
      throw storageUnavailable('recording message ids (concurrent writes)', undefined);
    },

    page(jobId, from, top, state) {
      return guarded('listing recipients', async () => {
        const client = await table();
        // Recipient rows sort before `s`; the counter shards (`count-…`) before them.
        const filter = state
          ? azureSdk.dataTables()
              .odata`PartitionKey eq ${jobId} and RowKey ge ${rowKey(from)} and RowKey lt 's' and state eq ${state}`
          : azureSdk.dataTables()
              .odata`PartitionKey eq ${jobId} and RowKey ge ${rowKey(from)} and RowKey lt 's'`;
        const rows: RecipientRow[] = [];
        const pages = client
          .listEntities<Entity>({ queryOptions: { filter } })
          .byPage({ maxPageSize: Math.min(top, 1000) });
        for await (const page of pages) {
          for (const e of page) {
            rows.push(toRecipient(e));
            if (rows.length >= top) return rows;
          }
        }
        return rows;
      });
    },
  };
}
