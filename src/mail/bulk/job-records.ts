import { type TableClient } from '@azure/data-tables';

import { NotFoundError } from '../../core/errors';
import { storageUnavailable } from '../../storage';
import { type Recipient } from '../send-types';
import { type ContentType } from '../template-render';
import { type AttachmentRef, joinText, parseAttachmentRefs, splitText } from '../template-storage';
import { type Entity, guarded, isConflict, isNotFound, optionalString } from './table-entity';

/**
 * Job records in `bulkjobs` (partition = serviceId, row = jobId): the header (status, dispatch
 * cursor, schedule) and the template snapshot (subject, body split over properties, attachment
 * refs) in one entity. Hot paths read the header only (`$select`); the snapshot never changes.
 */

export type StoredJobStatus = 'queued' | 'running' | 'paused' | 'cancelled' | 'failed';

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

export type NewJob = Omit<JobHeader, 'etag' | 'dispatched' | 'startedAt' | 'reason' | 'status'>;

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

function toSnapshot(e: Entity): JobSnapshot {
  return {
    subject: joinText('subject', e),
    body: joinText('body', e),
    contentType: e.contentType === 'html' ? 'html' : 'text',
    attachments: parseAttachmentRefs(e.attachments),
    sender: JSON.parse(typeof e.sender === 'string' ? e.sender : '{"replyTo":[]}') as JobSender,
  };
}

export interface JobRecords {
  /** Writes a new job's header and snapshot: the job exists from here on. */
  create: (job: NewJob, snapshot: JobSnapshot) => Promise<void>;
  remove: (serviceId: string, jobId: string) => Promise<void>;
  header: (serviceId: string, jobId: string) => Promise<JobHeader>;
  snapshot: (serviceId: string, jobId: string) => Promise<JobSnapshot>;
  /** ETag-conditional; false when the header changed in between. */
  update: (header: JobHeader, patch: Partial<Omit<JobHeader, 'etag'>>) => Promise<boolean>;
}

export function createJobRecords(table: () => Promise<TableClient>): JobRecords {
  async function read(serviceId: string, jobId: string, select?: string[]): Promise<Entity> {
    const client = await table();
    try {
      return await client.getEntity<Entity>(
        serviceId,
        jobId,
        select ? { queryOptions: { select } } : {},
      );
    } catch (error) {
      if (isNotFound(error)) throw new NotFoundError('The bulk send');
      throw storageUnavailable('reading the job', error);
    }
  }

  return {
    create(job, snapshot) {
      return guarded('creating the job', async () => {
        await (
          await table()
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

    remove(serviceId, jobId) {
      return guarded('removing the job', async () => {
        await (await table()).deleteEntity(serviceId, jobId);
      });
    },

    async header(serviceId, jobId) {
      return toHeader(await read(serviceId, jobId, HEADER_FIELDS));
    },

    async snapshot(serviceId, jobId) {
      return toSnapshot(await read(serviceId, jobId));
    },

    async update(header, patch) {
      const client = await table();
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
  };
}
