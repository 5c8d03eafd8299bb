import { type TableClient, type TransactionAction } from '@azure/data-tables';

import { azureSdk } from '../../core/azure-sdk';
import { isErrorOf, NotFoundError } from '../../core/errors';
import { storageErrorCode, storageStatus, storageUnavailable } from '../../storage';
import { type Recipient } from '../send-types';
import { type ContentType } from '../template-render';
import { type AttachmentRef, joinText, parseAttachmentRefs, splitText } from '../template-storage';

/**
 * Table layout of bulk jobs:
 * - `bulkjobs`: partition = serviceId, row = jobId. The job header (status, dispatch cursor,
 *   schedule) and the template snapshot (subject, body split over properties, attachment refs).
 *   Hot paths read the header only (`$select`); the snapshot never changes after creation.
 * - `bulkrecipients`: partition = jobId. Row `r000042` per recipient (0-based index): address,
 *   cc, variables, personal note, state `queued → sending → sent | failed | skipped`, attempts,
 *   lease; once sent, the send id and time and the message ids as known (`sent-ids.ts`). Rows `count-0…7` are counter shards: every terminal transition updates its recipient
 *   row and one shard in a single entity-group transaction (both ETag-conditional), so counts are
 *   exact, never rescanned, and workers rarely contend on the same counter.
 */

export const JOBS_TABLE = 'bulkjobs';
export const RECIPIENTS_TABLE = 'bulkrecipients';
export const COUNTER_SHARDS = 8;

export type RecipientState = 'queued' | 'sending' | 'sent' | 'failed' | 'skipped';
export type TerminalState = Extract<RecipientState, 'sent' | 'failed' | 'skipped'>;
export type StoredJobStatus = 'queued' | 'running' | 'paused' | 'cancelled' | 'failed';

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

/** The entity properties that store `ids` (a null id is left out). */
function idProperties(ids: SentIds) {
  return {
    ...(ids.messageId === null ? {} : { messageId: ids.messageId }),
    ...(ids.internetMessageId === null ? {} : { internetMessageId: ids.internetMessageId }),
    idsResolved: ids.resolved,
  };
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

export interface JobHeader {
  serviceId: string;
  jobId: string;
  credentialId: string;
  /** Pacing key: the sending mailbox. */
  mailbox: string;
  status: StoredJobStatus;
  total: number;
  /** Recipients (to + cc) over all messages. */
  totalRecipients: number;
  /** Recipients before this index have had a send message enqueued. */
  dispatched: number;
  scheduledAt: number;
  createdAt: string;
  startedAt: string | undefined;
  /** Why the job is paused or failed. */
  reason: string | undefined;
  templateId: string | undefined;
  templateVersion: number | undefined;
  etag: string;
}

export interface JobSnapshot {
  subject: string;
  body: string;
  contentType: ContentType;
  attachments: AttachmentRef[];
  /** Who every message goes out as, its Reply-To and whether it is signed (absent: defaults). */
  sender?: JobSender;
}

export interface JobSender {
  from?: Recipient;
  replyTo: Recipient[];
  signature?: boolean;
}

export interface Counts {
  sent: number;
  failed: number;
  skipped: number;
}

const HEADER_FIELDS = [
  'PartitionKey',
  'RowKey',
  'credentialId',
  'mailbox',
  'status',
  'total',
  'totalRecipients',
  'dispatched',
  'scheduledAt',
  'createdAt',
  'startedAt',
  'reason',
  'templateId',
  'templateVersion',
];

export const rowKey = (index: number) => `r${String(index).padStart(6, '0')}`;
const shardKey = (index: number) => `count-${index % COUNTER_SHARDS}`;
const TRANSACTION_ROWS = 100 - COUNTER_SHARDS;

type Entity = Record<string, unknown> & { etag: string; rowKey?: string; partitionKey?: string };

function optionalString(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/**
 * cc, variables and the note travel as one UTF-8 JSON binary property: transactions of 100 rows
 * are large requests, and binary (base64) keeps multi-byte characters intact (see splitText).
 */
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

function toRecipient(e: Entity): RecipientRow {
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

function toHeader(e: Entity): JobHeader {
  return {
    serviceId: String(e.partitionKey),
    jobId: String(e.rowKey),
    credentialId: String(e.credentialId),
    mailbox: String(e.mailbox),
    status: String(e.status) as StoredJobStatus,
    total: Number(e.total),
    totalRecipients: Number(e.totalRecipients),
    dispatched: Number(e.dispatched),
    scheduledAt: Number(e.scheduledAt ?? 0),
    createdAt: String(e.createdAt),
    startedAt: optionalString(e.startedAt),
    reason: optionalString(e.reason),
    templateId: optionalString(e.templateId),
    templateVersion: e.templateVersion === undefined ? undefined : Number(e.templateVersion),
    etag: e.etag,
  };
}

function isConflict(error: unknown): boolean {
  const code = storageErrorCode(error);
  return (
    code === 'UpdateConditionNotSatisfied' ||
    code === 'EntityAlreadyExists' ||
    storageStatus(error) === 412
  );
}

export type NewJob = Omit<JobHeader, 'etag' | 'dispatched' | 'startedAt' | 'reason' | 'status'>;

export interface BulkStore {
  createJob(job: NewJob, snapshot: JobSnapshot, recipients: readonly NewRecipient[]): Promise<void>;
  /** Removes a job that could not be started (its rows are left to expire with the partition). */
  deleteJob(serviceId: string, jobId: string): Promise<void>;
  header(serviceId: string, jobId: string): Promise<JobHeader>;
  snapshot(serviceId: string, jobId: string): Promise<JobSnapshot>;
  /** ETag-conditional; false when the header changed in between. */
  updateHeader(header: JobHeader, patch: Partial<Omit<JobHeader, 'etag'>>): Promise<boolean>;
  recipient(jobId: string, index: number): Promise<RecipientRow>;
  /** Non-terminal change of one row, ETag-conditional; the new row or undefined on conflict. */
  updateRecipient(
    row: RecipientRow,
    patch: Partial<Pick<RecipientRow, 'state' | 'attempts' | 'leaseUntil' | 'error'>>,
  ): Promise<RecipientRow | undefined>;
  /**
   * Moves rows that are still in one of `from` to a terminal state, counting them. Rows that moved
   * on meanwhile are left alone. Returns how many were moved.
   */
  finish(
    jobId: string,
    rows: readonly RecipientRow[],
    from: readonly RecipientState[],
    to: TerminalState,
    fields?: { sent?: SentRow; error?: string },
  ): Promise<number>;
  /** Stores what the Sent Items copy told of a sent row's ids (a repeat writes the same). */
  recordIds(row: RecipientRow, ids: SentIds): Promise<void>;
  counts(jobId: string): Promise<Counts>;
  /** Rows from index `from` on, in order. */
  page(jobId: string, from: number, top: number, state?: RecipientState): Promise<RecipientRow[]>;
}

export function createBulkStore(tables: {
  jobs: () => Promise<TableClient>;
  recipients: () => Promise<TableClient>;
}): BulkStore {
  async function guarded<T>(what: string, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (error) {
      if (isErrorOf(error, NotFoundError)) throw error;
      throw storageUnavailable(what, error);
    }
  }

  async function readRow(jobId: string, index: number): Promise<RecipientRow> {
    const client = await tables.recipients();
    try {
      return toRecipient(await client.getEntity<Entity>(jobId, rowKey(index)));
    } catch (error) {
      if (storageErrorCode(error) === 'ResourceNotFound') throw new NotFoundError('The recipient');
      throw storageUnavailable('reading a recipient', error);
    }
  }

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
    createJob(job, snapshot, recipients) {
      return guarded('creating the job', async () => {
        const client = await tables.recipients();
        const counters = Array.from({ length: COUNTER_SHARDS }, (_, i) => ({
          partitionKey: job.jobId,
          rowKey: `count-${i}`,
          sent: 0,
          failed: 0,
          skipped: 0,
        }));
        const rows = recipients.map((r, index) => ({
          partitionKey: job.jobId,
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
        }));
        const batches: TransactionAction[][] = [counters.map((e) => ['create', e])];
        for (let i = 0; i < rows.length; i += 100) {
          batches.push(rows.slice(i, i + 100).map((e) => ['create', e]));
        }
        // A few transactions in parallel: 10,000 recipients are 100 round trips.
        let next = 0;
        await Promise.all(
          Array.from({ length: 8 }, async () => {
            while (next < batches.length) await client.submitTransaction(batches[next++]!);
          }),
        );
        // The header is written last: a job exists only once all its rows do.
        await (
          await tables.jobs()
        ).createEntity({
          partitionKey: job.serviceId,
          rowKey: job.jobId,
          credentialId: job.credentialId,
          mailbox: job.mailbox,
          status: 'queued',
          total: job.total,
          totalRecipients: job.totalRecipients,
          dispatched: 0,
          scheduledAt: job.scheduledAt,
          createdAt: job.createdAt,
          ...(job.templateId ? { templateId: job.templateId } : {}),
          ...(job.templateVersion === undefined ? {} : { templateVersion: job.templateVersion }),
          ...splitText('subject', snapshot.subject),
          contentType: snapshot.contentType,
          attachments: JSON.stringify(snapshot.attachments),
          sender: JSON.stringify(snapshot.sender ?? { replyTo: [] }),
          ...splitText('body', snapshot.body),
        });
      });
    },

    deleteJob(serviceId, jobId) {
      return guarded('removing the job', async () => {
        await (await tables.jobs()).deleteEntity(serviceId, jobId);
      });
    },

    async header(serviceId, jobId) {
      const client = await tables.jobs();
      try {
        return toHeader(
          await client.getEntity<Entity>(serviceId, jobId, {
            queryOptions: { select: HEADER_FIELDS },
          }),
        );
      } catch (error) {
        if (storageErrorCode(error) === 'ResourceNotFound')
          throw new NotFoundError('The bulk send');
        throw storageUnavailable('reading the job', error);
      }
    },

    async snapshot(serviceId, jobId) {
      const client = await tables.jobs();
      let e: Entity;
      try {
        e = await client.getEntity<Entity>(serviceId, jobId);
      } catch (error) {
        if (storageErrorCode(error) === 'ResourceNotFound')
          throw new NotFoundError('The bulk send');
        throw storageUnavailable('reading the job', error);
      }
      return {
        subject: joinText('subject', e),
        body: joinText('body', e),
        contentType: e.contentType === 'html' ? 'html' : 'text',
        attachments: parseAttachmentRefs(e.attachments),
        sender: JSON.parse(typeof e.sender === 'string' ? e.sender : '{"replyTo":[]}') as JobSender,
      };
    },

    async updateHeader(header, patch) {
      const client = await tables.jobs();
      try {
        await client.updateEntity(
          { partitionKey: header.serviceId, rowKey: header.jobId, ...patch },
          'Merge',
          { etag: header.etag },
        );
        return true;
      } catch (error) {
        if (isConflict(error)) return false;
        throw storageUnavailable('updating the job', error);
      }
    },

    recipient: readRow,

    async updateRecipient(row, patch) {
      const client = await tables.recipients();
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

    async finish(jobId, rows, from, to, fields = {}) {
      const client = await tables.recipients();
      let pending = rows.filter((r) => from.includes(r.state));
      let moved = 0;
      for (let attempt = 0; attempt < 10 && pending.length > 0; attempt++) {
        const batch = pending.slice(0, TRANSACTION_ROWS);
        const shards = await guarded('reading job counts', () => readShards(client, jobId));
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
              ? {
                  sendId: fields.sent.sendId,
                  sentAt: fields.sent.sentAt,
                  ...idProperties(fields.sent),
                }
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
        const fresh = await Promise.all(batch.map((row) => readRow(jobId, row.index)));
        pending = [...fresh.filter((r) => from.includes(r.state)), ...pending.slice(batch.length)];
        await new Promise((r) => setTimeout(r, 5 + Math.random() * 25));
      }
      if (pending.length > 0)
        throw storageUnavailable('recording send results (contention)', undefined);
      return moved;
    },

    recordIds(row, ids) {
      return guarded('recording message ids', async () => {
        const client = await tables.recipients();
        // No ETag: the row is final, and two readers finding the same copy write the same ids.
        await client.updateEntity(
          { partitionKey: row.jobId, rowKey: rowKey(row.index), ...idProperties(ids) },
          'Merge',
        );
      });
    },

    async counts(jobId) {
      const client = await tables.recipients();
      const shards = await guarded('reading job counts', () => readShards(client, jobId));
      const counts: Counts = { sent: 0, failed: 0, skipped: 0 };
      for (const shard of shards.values()) {
        counts.sent += Number(shard.sent ?? 0);
        counts.failed += Number(shard.failed ?? 0);
        counts.skipped += Number(shard.skipped ?? 0);
      }
      return counts;
    },

    page(jobId, from, top, state) {
      return guarded('listing recipients', async () => {
        const client = await tables.recipients();
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
