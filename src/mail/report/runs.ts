import { type TableClient } from '@azure/data-tables';

import { storageStatus, storageUnavailable } from '../../storage';

/**
 * The report run ledger in Table Storage. A run id is claimed by an insert (409 when it exists)
 * before anything is sent and marked `sent` after, so a retried or overlapping timer sends a
 * period's report once. The same table keeps each definition's last outcome for the health check.
 */

export const REPORT_RUNS_TABLE = 'reportruns';
/** A claim older than this belongs to a run that died; another run may take it over. */
const DEFAULT_STALE_AFTER_MS = 60 * 60 * 1000;
const LAST_PARTITION = 'last';

export type RunTrigger = 'schedule' | 'manual';

/**
 * `claimed`: in progress (or died). `failed`: nothing was sent, may be run again.
 * `unknown`: the send's outcome could not be established; never repeated automatically.
 */
export type RunStatus = 'claimed' | 'sent' | 'failed' | 'unknown';

export interface RunKey {
  serviceId: string;
  reportId: string;
  /** Table-key safe: `[A-Za-z0-9_.-]`. */
  runId: string;
}

export interface RunRecord extends RunKey {
  status: RunStatus;
  trigger: RunTrigger;
  claimedAt: number;
  finishedAt: number | null;
  messageId: string | null;
  internetMessageId: string | null;
  errorCode: string | null;
}

export type RunOutcomeUpdate =
  | { status: 'sent'; messageId: string | null; internetMessageId: string | null }
  | { status: 'failed' | 'unknown'; errorCode: string };

export interface LastRun {
  serviceId: string;
  reportId: string;
  runId: string;
  status: 'sent' | 'failed';
  at: number;
  errorCode: string | null;
}

export type ClaimResult = { claimed: true } | { claimed: false; existing: RunRecord };

export interface RunStore {
  claim(key: RunKey, trigger: RunTrigger): Promise<ClaimResult>;
  finish(key: RunKey, outcome: RunOutcomeUpdate): Promise<void>;
  get(key: RunKey): Promise<RunRecord | undefined>;
  recordLast(last: LastRun): Promise<void>;
  lastRuns(): Promise<LastRun[]>;
}

interface RunRow {
  partitionKey: string;
  rowKey: string;
  reportId: string;
  status: RunStatus;
  trigger: RunTrigger;
  claimedAt: number;
  finishedAt?: number;
  messageId?: string;
  internetMessageId?: string;
  errorCode?: string;
}

interface LastRow {
  partitionKey: string;
  rowKey: string;
  serviceId: string;
  reportId: string;
  runId: string;
  status: LastRun['status'];
  at: number;
  errorCode?: string;
}

function toRecord(row: RunRow): RunRecord {
  return {
    serviceId: row.partitionKey,
    reportId: row.reportId,
    runId: row.rowKey,
    status: row.status,
    trigger: row.trigger,
    claimedAt: row.claimedAt,
    finishedAt: row.finishedAt ?? null,
    messageId: row.messageId ?? null,
    internetMessageId: row.internetMessageId ?? null,
    errorCode: row.errorCode ?? null,
  };
}

export interface RunStoreOptions {
  table: () => Promise<TableClient>;
  staleAfterMs?: number;
  now?: () => number;
}

export function createRunStore(options: RunStoreOptions): RunStore {
  const staleAfterMs = options.staleAfterMs ?? DEFAULT_STALE_AFTER_MS;
  const now = options.now ?? Date.now;

  async function withTable<T>(work: (table: TableClient) => Promise<T>): Promise<T> {
    let table: TableClient;
    try {
      table = await options.table();
    } catch (error) {
      throw storageUnavailable('using the report run table', error);
    }
    return work(table);
  }

  const rowOf = (key: RunKey, trigger: RunTrigger): RunRow => ({
    partitionKey: key.serviceId,
    rowKey: key.runId,
    reportId: key.reportId,
    status: 'claimed',
    trigger,
    claimedAt: now(),
  });

  return {
    claim: (key, trigger) =>
      withTable(async (table) => {
        try {
          await table.createEntity(rowOf(key, trigger));
          return { claimed: true };
        } catch (error) {
          if (storageStatus(error) !== 409)
            throw storageUnavailable('using the report run table', error);
        }
        let existing: RunRow & { etag: string };
        try {
          existing = await table.getEntity<RunRow>(key.serviceId, key.runId);
        } catch (error) {
          throw storageUnavailable('using the report run table', error);
        }
        const record = toRecord(existing);
        const retryable =
          record.status === 'failed' ||
          (record.status === 'claimed' && now() - record.claimedAt > staleAfterMs);
        if (!retryable) return { claimed: false, existing: record };
        try {
          // The etag makes one of several concurrent retries the winner.
          await table.updateEntity(rowOf(key, trigger), 'Replace', { etag: existing.etag });
          return { claimed: true };
        } catch (error) {
          if (storageStatus(error) === 412) return { claimed: false, existing: record };
          throw storageUnavailable('using the report run table', error);
        }
      }),

    finish: (key, outcome) =>
      withTable(async (table) => {
        const fields =
          outcome.status === 'sent'
            ? {
                status: outcome.status,
                ...(outcome.messageId ? { messageId: outcome.messageId } : {}),
                ...(outcome.internetMessageId
                  ? { internetMessageId: outcome.internetMessageId }
                  : {}),
              }
            : { status: outcome.status, errorCode: outcome.errorCode };
        try {
          await table.updateEntity(
            { partitionKey: key.serviceId, rowKey: key.runId, finishedAt: now(), ...fields },
            'Merge',
          );
        } catch (error) {
          throw storageUnavailable('using the report run table', error);
        }
      }),

    get: (key) =>
      withTable(async (table) => {
        try {
          return toRecord(await table.getEntity<RunRow>(key.serviceId, key.runId));
        } catch (error) {
          if (storageStatus(error) === 404) return undefined;
          throw storageUnavailable('using the report run table', error);
        }
      }),

    recordLast: (last) =>
      withTable(async (table) => {
        const row: LastRow = {
          partitionKey: LAST_PARTITION,
          // Ids match [A-Za-z0-9_-], so the dot cannot be part of either.
          rowKey: `${last.serviceId}.${last.reportId}`,
          serviceId: last.serviceId,
          reportId: last.reportId,
          runId: last.runId,
          status: last.status,
          at: last.at,
          ...(last.errorCode ? { errorCode: last.errorCode } : {}),
        };
        try {
          await table.upsertEntity(row, 'Replace');
        } catch (error) {
          throw storageUnavailable('using the report run table', error);
        }
      }),

    lastRuns: () =>
      withTable(async (table) => {
        const out: LastRun[] = [];
        try {
          const rows = table.listEntities<LastRow>({
            queryOptions: { filter: `PartitionKey eq '${LAST_PARTITION}'` },
          });
          for await (const row of rows) {
            out.push({
              serviceId: row.serviceId,
              reportId: row.reportId,
              runId: row.runId,
              status: row.status,
              at: row.at,
              errorCode: row.errorCode ?? null,
            });
          }
        } catch (error) {
          throw storageUnavailable('using the report run table', error);
        }
        return out;
      }),
  };
}
