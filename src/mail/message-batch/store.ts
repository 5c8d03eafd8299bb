import { type TableClient, type TransactionAction } from '@azure/data-tables';

import { NotFoundError } from '../../core/errors';
import { type CredentialKey } from '../../credentials/types';
import { storageStatus, storageUnavailable } from '../../storage';
import { CHUNK_SIZE } from './chunks';
import { type BatchActionName, type BatchItemResult, type JobStatus } from './types';

/**
 * Table layout of batch jobs (`messagebatches`): one partition per job, keyed by the caller's
 * service, the credential and the job id, so a job id is only ever found by the service and
 * credential that made it. Row `job` is the header; row `c0042` per chunk of 20 ids holds the
 * ids, its state (`pending → started → done`) and, once done, its results.
 */

export const BATCH_JOBS_TABLE = 'messagebatches';

export interface JobHeader {
  key: CredentialKey;
  jobId: string;
  mailbox: string | undefined;
  action: BatchActionName;
  destinationId: string | undefined;
  categories: string[] | undefined;
  status: JobStatus;
  reason: string | undefined;
  total: number;
  chunks: number;
  createdAt: string;
  updatedAt: string;
  /** Until when a worker owns the job (epoch ms). */
  leaseUntil: number;
  etag: string;
}

export type ChunkState = 'pending' | 'started' | 'done';

export interface ChunkRow {
  index: number;
  ids: string[];
  state: ChunkState;
  /** Once done, in the chunk's order. */
  results: BatchItemResult[] | undefined;
  etag: string;
}

export type NewJob = Omit<JobHeader, 'status' | 'reason' | 'updatedAt' | 'leaseUntil' | 'etag'>;

export interface BatchJobStore {
  /** The header and every chunk in one transaction: a job exists whole or not at all. */
  create(job: NewJob, chunks: Array<{ ids: string[]; results?: BatchItemResult[] }>): Promise<void>;
  /** NotFoundError for a job of another service or credential, as for one that does not exist. */
  header(key: CredentialKey, jobId: string): Promise<JobHeader>;
  /** ETag-conditional; false when another worker changed the header first. */
  updateHeader(
    header: JobHeader,
    patch: Partial<Pick<JobHeader, 'status' | 'reason' | 'leaseUntil'>>,
  ): Promise<JobHeader | undefined>;
  chunks(key: CredentialKey, jobId: string): Promise<ChunkRow[]>;
  updateChunk(
    key: CredentialKey,
    jobId: string,
    chunk: ChunkRow,
    patch: { state: ChunkState; results?: BatchItemResult[] },
  ): Promise<ChunkRow>;
}

const partition = (key: CredentialKey, jobId: string) =>
  `${key.serviceId}.${key.credentialId}.${jobId}`;
const HEADER_ROW = 'job';
const chunkRow = (index: number) => `c${String(index).padStart(4, '0')}`;

type Entity = Record<string, unknown> & { etag: string; rowKey?: string };

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function toHeader(key: CredentialKey, jobId: string, e: Entity): JobHeader {
  const categories = text(e.categories);
  return {
    key,
    jobId,
    mailbox: text(e.mailbox),
    action: String(e.action) as BatchActionName,
    destinationId: text(e.destinationId),
    categories: categories === undefined ? undefined : (JSON.parse(categories) as string[]),
    status: String(e.status) as JobStatus,
    reason: text(e.reason),
    total: Number(e.total),
    chunks: Number(e.chunks),
    createdAt: String(e.createdAt),
    updatedAt: String(e.updatedAt),
    leaseUntil: Number(e.leaseUntil ?? 0),
    etag: e.etag,
  };
}

function toChunk(e: Entity): ChunkRow {
  const results = text(e.results);
  return {
    index: Number(String(e.rowKey).slice(1)),
    ids: JSON.parse(String(e.ids)) as string[],
    state: String(e.state) as ChunkState,
    results: results === undefined ? undefined : (JSON.parse(results) as BatchItemResult[]),
    etag: e.etag,
  };
}

export function createBatchJobStore(table: () => Promise<TableClient>): BatchJobStore {
  const client = async (what: string): Promise<TableClient> => {
    try {
      return await table();
    } catch (error) {
      throw storageUnavailable(what, error);
    }
  };
  return {
    async create(job, chunks) {
      if (chunks.length + 1 > 100 || chunks.some((c) => c.ids.length > CHUNK_SIZE)) {
        throw new Error('a batch job has at most 99 chunks of 20 ids');
      }
      const pk = partition(job.key, job.jobId);
      const now = new Date().toISOString();
      const actions: TransactionAction[] = [
        [
          'create',
          {
            partitionKey: pk,
            rowKey: HEADER_ROW,
            mailbox: job.mailbox ?? '',
            action: job.action,
            destinationId: job.destinationId ?? '',
            categories: job.categories === undefined ? '' : JSON.stringify(job.categories),
            status: 'queued',
            reason: '',
            total: job.total,
            chunks: job.chunks,
            createdAt: job.createdAt,
            updatedAt: now,
            leaseUntil: 0,
          },
        ],
        ...chunks.map((c, index): TransactionAction => [
          'create',
          {
            partitionKey: pk,
            rowKey: chunkRow(index),
            ids: JSON.stringify(c.ids),
            state: c.results ? 'done' : 'pending',
            results: c.results ? JSON.stringify(c.results) : '',
          },
        ]),
      ];
      try {
        await (await client('creating a batch job')).submitTransaction(actions);
      } catch (error) {
        throw storageUnavailable('creating a batch job', error);
      }
    },

    async header(key, jobId) {
      const tc = await client('reading a batch job');
      try {
        const e = await tc.getEntity<Record<string, unknown>>(partition(key, jobId), HEADER_ROW);
        return toHeader(key, jobId, e);
      } catch (error) {
        if (storageStatus(error) === 404) {
          throw new NotFoundError('The batch job');
        }
        throw storageUnavailable('reading a batch job', error);
      }
    },

    async updateHeader(header, patch) {
      const tc = await client('updating a batch job');
      const updatedAt = new Date().toISOString();
      try {
        const result = await tc.updateEntity(
          {
            partitionKey: partition(header.key, header.jobId),
            rowKey: HEADER_ROW,
            ...patch,
            ...(patch.reason === undefined ? {} : { reason: patch.reason }),
            updatedAt,
          },
          'Merge',
          { etag: header.etag },
        );
        return { ...header, ...patch, updatedAt, etag: result.etag! };
      } catch (error) {
        if (storageStatus(error) === 412) return undefined;
        throw storageUnavailable('updating a batch job', error);
      }
    },

    async chunks(key, jobId) {
      const tc = await client('reading a batch job');
      const rows: ChunkRow[] = [];
      try {
        const pk = partition(key, jobId).replace(/'/g, "''");
        for await (const e of tc.listEntities<Record<string, unknown>>({
          queryOptions: { filter: `PartitionKey eq '${pk}' and RowKey ge 'c' and RowKey lt 'd'` },
        })) {
          rows.push(toChunk(e));
        }
      } catch (error) {
        throw storageUnavailable('reading a batch job', error);
      }
      return rows.sort((a, b) => a.index - b.index);
    },

    async updateChunk(key, jobId, chunk, patch) {
      const tc = await client('updating a batch job');
      try {
        const result = await tc.updateEntity(
          {
            partitionKey: partition(key, jobId),
            rowKey: chunkRow(chunk.index),
            state: patch.state,
            ...(patch.results ? { results: JSON.stringify(patch.results) } : {}),
          },
          'Merge',
          { etag: chunk.etag },
        );
        return { ...chunk, ...patch, etag: result.etag! };
      } catch (error) {
        throw storageUnavailable('updating a batch job', error);
      }
    },
  };
}
