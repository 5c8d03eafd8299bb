import { type TableClient, type TransactionAction } from '@azure/data-tables';

import { azureSdk } from '../../core/azure-sdk';
import { storageUnavailable } from '../../storage';
import {
  idProperties,
  type RecipientRecords,
  type RecipientRow,
  type RecipientState,
  rowKey,
  type SentRow,
  type TerminalState,
} from './recipient-records';
import { type Entity, guarded, isConflict } from './table-entity';

/**
 * Terminal moves of recipient rows, counted. Rows `count-0…7` of a job's partition are counter
 * shards: every terminal transition updates its recipient row and one shard (index mod 8) in a
 * single entity-group transaction, both ETag-conditional, so counts are exact, never rescanned,
 * and workers rarely contend on the same counter.
 */

export const COUNTER_SHARDS = 8;
const shardKey = (index: number) => `count-${index % COUNTER_SHARDS}`;
/** Rows per transaction, leaving room for a shard update each (Tables: 100 actions). */
const TRANSACTION_ROWS = 100 - COUNTER_SHARDS;
/** Attempts at one batch against concurrent changes before giving up (503). */
const MAX_ATTEMPTS = 10;

export interface Counts {
  sent: number;
  failed: number;
  skipped: number;
}

export interface TerminalFields {
  sent?: SentRow;
  error?: string;
}

/** A new job's counter shards, all at zero. */
export function counterEntities(jobId: string) {
  return Array.from({ length: COUNTER_SHARDS }, (_, i) => ({
    partitionKey: jobId,
    rowKey: `count-${i}`,
    sent: 0,
    failed: 0,
    skipped: 0,
  }));
}

/**
 * One transaction moving `batch` to `to`: each row under its ETag, and each shard it counts in
 * raised by its rows under the shard's ETag (`shards` as just read).
 */
export function terminalActions(
  jobId: string,
  batch: readonly RecipientRow[],
  to: TerminalState,
  fields: TerminalFields,
  shards: ReadonlyMap<string, Entity>,
): TransactionAction[] {
  const increments = new Map<string, number>();
  for (const row of batch)
    increments.set(shardKey(row.index), (increments.get(shardKey(row.index)) ?? 0) + 1);
  const updatedAt = new Date().toISOString();
  const actions: TransactionAction[] = batch.map((row) => [
    'update',
    {
      partitionKey: jobId,
      rowKey: rowKey(row.index),
      state: to,
      leaseUntil: 0,
      updatedAt,
      ...(fields.sent
        ? { sendId: fields.sent.sendId, sentAt: fields.sent.sentAt, ...idProperties(fields.sent) }
        : {}),
      ...(fields.error ? { error: fields.error.slice(0, 1000) } : {}),
    },
    'Merge',
    { etag: row.etag },
  ]);
  for (const [key, by] of increments) {
    const shard = shards.get(key);
    if (!shard) throw storageUnavailable('counting', `missing counter ${key}`);
    actions.push([
      'update',
      { partitionKey: jobId, rowKey: key, [to]: Number(shard[to] ?? 0) + by },
      'Merge',
      { etag: shard.etag },
    ]);
  }
  return actions;
}

export interface Counters {
  /**
   * Moves rows that are still in one of `from` to a terminal state, counting them. Rows that moved
   * on meanwhile are left alone. Returns how many were moved.
   */
  finish: (
    jobId: string,
    rows: readonly RecipientRow[],
    from: readonly RecipientState[],
    to: TerminalState,
    fields?: TerminalFields,
  ) => Promise<number>;
  counts: (jobId: string) => Promise<Counts>;
}

export function createCounters(
  table: () => Promise<TableClient>,
  recipients: Pick<RecipientRecords, 'read'>,
): Counters {
  async function readShards(client: TableClient, jobId: string): Promise<Map<string, Entity>> {
    const shards = new Map<string, Entity>();
    const list = client.listEntities<Entity>({
      queryOptions: {
        filter: azureSdk.dataTables()
          .odata`PartitionKey eq ${jobId} and RowKey ge 'count-' and RowKey lt 'count.'`,
      },
    });
    for await (const shard of list) shards.set(shard.rowKey!, shard);
    return shards;
  }

  return {
    async finish(jobId, rows, from, to, fields = {}) {
      const client = await table();
      let pending = rows.filter((r) => from.includes(r.state));
      let moved = 0;
      for (let attempt = 0; attempt < MAX_ATTEMPTS && pending.length > 0; attempt++) {
        const batch = pending.slice(0, TRANSACTION_ROWS);
        const shards = await guarded('reading job counts', () => readShards(client, jobId));
        const actions = terminalActions(jobId, batch, to, fields, shards);
        try {
          await client.submitTransaction(actions);
          moved += batch.length;
          pending = pending.slice(batch.length);
          attempt = -1; // a success starts the next batch with a fresh retry budget
          continue;
        } catch (error) {
          if (!isConflict(error)) throw storageUnavailable('recording send results', error);
        }
        // A row or a counter changed under us: re-read the rows and keep those still eligible.
        const fresh = await Promise.all(batch.map((row) => recipients.read(jobId, row.index)));
        pending = [...fresh.filter((r) => from.includes(r.state)), ...pending.slice(batch.length)];
        await new Promise((r) => setTimeout(r, 5 + Math.random() * 25));
      }
      if (pending.length > 0)
        throw storageUnavailable('recording send results (contention)', undefined);
      return moved;
    },

    async counts(jobId) {
      const client = await table();
      const shards = await guarded('reading job counts', () => readShards(client, jobId));
      const counts: Counts = { sent: 0, failed: 0, skipped: 0 };
      for (const shard of shards.values()) {
        counts.sent += Number(shard.sent ?? 0);
        counts.failed += Number(shard.failed ?? 0);
        counts.skipped += Number(shard.skipped ?? 0);
      }
      return counts;
    },
  };
}
