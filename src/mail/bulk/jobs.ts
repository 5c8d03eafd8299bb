import { NotFoundError, ValidationError } from '../../core/errors';
import { type Logger } from '../../core/logger';
import { type CredentialKey } from '../../credentials/types';
import { acceptJob } from './accept';
import { type BulkDependencies } from './dependencies';
import { type ReadOptions, readResults } from './results';
import { type JobHeader } from './store';
import { validateJob } from './validate';
import { jobView, type JobView } from './view';

/**
 * Bulk jobs as callers see them, in steps (each its own module): `request` (shape), `job-template`,
 * `job-sender` and `row-checks`, joined in one pass by `validate`; `accept` stores and starts the
 * job; `results` pages the recipients and `view` tells the status. The worker sends
 * (`worker.ts`).
 */

export { type BulkDependencies, type BulkSettings, DEFAULT_BULK_SETTINGS } from './dependencies';
export { type BulkRequest, bulkRequestSchema, MAX_REPORTED_ERRORS } from './request';

/** Attempts at a status change against concurrent ones before asking the caller to retry. */
const STATUS_ATTEMPTS = 10;

export interface BulkJobs {
  /** Checks the whole request (raw JSON or a typed BulkRequest) in one pass, then stores it. */
  create(
    key: CredentialKey,
    request: unknown,
    options: { abortSignal?: AbortSignal; log: Logger },
  ): Promise<{ jobId: string }>;
  /**
   * The job and one page of results. With `options` (the route passes them) the ids of up to
   * MAX_ID_LOOKUPS_PER_READ sent rows of the page are looked up (`sent-ids.ts`); without, the
   * read touches storage only.
   */
  status(
    key: CredentialKey,
    jobId: string,
    page: { cursor?: string; top: number },
    options?: ReadOptions,
  ): Promise<JobView>;
  cancel(key: CredentialKey, jobId: string): Promise<JobView>;
  /** Continues a job paused for reauthentication, once the credential is connected again. */
  resume(key: CredentialKey, jobId: string): Promise<JobView>;
}

export function createBulkJobs(deps: BulkDependencies): BulkJobs {
  const now = deps.now ?? Date.now;

  async function ownedHeader(key: CredentialKey, jobId: string): Promise<JobHeader> {
    const header = await deps.store.header(key.serviceId, jobId);
    if (header.credentialId !== key.credentialId) throw new NotFoundError('The bulk send');
    return header;
  }

  async function view(
    header: JobHeader,
    page: { cursor?: string; top: number },
    options?: ReadOptions,
  ): Promise<JobView> {
    const counts = await deps.store.counts(header.jobId);
    const results = await readResults(deps, header, page, options);
    return jobView(header, counts, results, deps.settings, now());
  }

  /** Applies a status change under the header's ETag, re-reading on a concurrent change. */
  async function changeStatus(
    key: CredentialKey,
    jobId: string,
    decide: (header: JobHeader) => Partial<Omit<JobHeader, 'etag'>> | undefined,
  ): Promise<{ header: JobHeader; changed: boolean }> {
    for (let attempt = 0; attempt < STATUS_ATTEMPTS; attempt++) {
      const header = await ownedHeader(key, jobId);
      const patch = decide(header);
      if (!patch) return { header, changed: false };
      if (await deps.store.updateHeader(header, patch)) {
        return { header: await ownedHeader(key, jobId), changed: true };
      }
    }
    throw new ValidationError({
      path: 'jobId',
      message: 'the job is changing too fast; try again',
    });
  }

  return {
    async create(key, body, options) {
      return acceptJob(deps, key, await validateJob(deps, key, body, options), options);
    },

    async status(key, jobId, page, options) {
      return view(await ownedHeader(key, jobId), page, options);
    },

    async cancel(key, jobId) {
      const current = await view(await ownedHeader(key, jobId), { top: 0 });
      if (
        current.status === 'completed' ||
        current.status === 'cancelled' ||
        current.status === 'failed'
      ) {
        return view(await ownedHeader(key, jobId), { top: 100 });
      }
      const { header, changed } = await changeStatus(key, jobId, (h) =>
        h.status === 'cancelled' || h.status === 'failed' ? undefined : { status: 'cancelled' },
      );
      // The dispatcher marks every recipient not yet sent as skipped.
      if (changed) await deps.queue.enqueue({ v: 1, k: 'dispatch', s: key.serviceId, j: jobId });
      return view(header, { top: 100 });
    },

    async resume(key, jobId) {
      const { header, changed } = await changeStatus(key, jobId, (h) =>
        h.status === 'paused' ? { status: 'running', reason: '', dispatched: 0 } : undefined,
      );
      if (changed) await deps.queue.enqueue({ v: 1, k: 'dispatch', s: key.serviceId, j: jobId });
      return view(header, { top: 100 });
    },
  };
}
