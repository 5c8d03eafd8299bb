import { type TableClient, type TransactionAction } from '@azure/data-tables';

import { counterEntities, type Counters, createCounters } from './counters';
import { createJobRecords, type JobRecords, type JobSnapshot, type NewJob } from './job-records';
import {
  createRecipientRecords,
  type NewRecipient,
  recipientEntity,
  type RecipientRecords,
} from './recipient-records';
import { guarded } from './table-entity';

/**
 * Where bulk jobs live, in two tables (each part its own module):
 * - `bulkjobs`: one entity per job, header and template snapshot (`job-records.ts`);
 * - `bulkrecipients`: partition = jobId, a row per recipient (`recipient-records.ts`) and eight
 *   counter shards that every terminal move updates in the same transaction (`counters.ts`).
 */

export const JOBS_TABLE = 'bulkjobs';
export const RECIPIENTS_TABLE = 'bulkrecipients';

export { COUNTER_SHARDS, type Counts } from './counters';
export {
  type JobHeader,
  type JobSender,
  type JobSnapshot,
  type NewJob,
  type StoredJobStatus,
} from './job-records';
export {
  type NewRecipient,
  type RecipientRow,
  type RecipientState,
  rowKey,
  type SentIds,
  type SentRow,
  type TerminalState,
} from './recipient-records';

/** Rows written per transaction and transactions in flight when a job is created. */
const CREATE_BATCH = 100;
const CREATE_PARALLEL = 8;

/** The records' operations under the names the worker and jobs use. */
export interface BulkStore {
  createJob(job: NewJob, snapshot: JobSnapshot, recipients: readonly NewRecipient[]): Promise<void>;
  /** Removes a job that could not be started (its rows are left to expire with the partition). */
  deleteJob: JobRecords['remove'];
  header: JobRecords['header'];
  snapshot: JobRecords['snapshot'];
  updateHeader: JobRecords['update'];
  recipient: RecipientRecords['read'];
  updateRecipient: RecipientRecords['update'];
  finish: Counters['finish'];
  recordIds: RecipientRecords['recordIds'];
  counts: Counters['counts'];
  page: RecipientRecords['page'];
}

export function createBulkStore(tables: {
  jobs: () => Promise<TableClient>;
  recipients: () => Promise<TableClient>;
}): BulkStore {
  const jobs = createJobRecords(tables.jobs);
  const recipients = createRecipientRecords(tables.recipients);
  const counters = createCounters(tables.recipients, recipients);

  return {
    createJob(job, snapshot, rows) {
      return guarded('creating the job', async () => {
        const client = await tables.recipients();
        const batches: TransactionAction[][] = [
          counterEntities(job.jobId).map((e) => ['create', e]),
        ];
        for (let i = 0; i < rows.length; i += CREATE_BATCH) {
          batches.push(
            rows
              .slice(i, i + CREATE_BATCH)
              .map((r, offset) => ['create', recipientEntity(job.jobId, i + offset, r)]),
          );
        }
        // A few transactions in parallel: 10,000 recipients are 100 round trips.
        let next = 0;
        await Promise.all(
          Array.from({ length: CREATE_PARALLEL }, async () => {
            while (next < batches.length) await client.submitTransaction(batches[next++]!);
          }),
        );
        // The header is written last: a job exists only once all its rows do.
        await jobs.create(job, snapshot);
      });
    },
    deleteJob: jobs.remove,
    header: jobs.header,
    snapshot: jobs.snapshot,
    updateHeader: jobs.update,
    recipient: recipients.read,
    updateRecipient: recipients.update,
    finish: counters.finish,
    recordIds: recipients.recordIds,
    counts: counters.counts,
    page: recipients.page,
  };
}
