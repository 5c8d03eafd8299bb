import { type BulkSettings } from './dependencies';
import { type ResultRow } from './results';
import { type Counts, type JobHeader } from './store';

/** What a caller sees of a job: its status as the counts tell it, progress and an estimate. */

export interface JobView {
  jobId: string;
  credentialId: string;
  status: 'queued' | 'running' | 'completed' | 'cancelled' | 'failed';
  /** Set while the job waits for the credential to be connected again. */
  paused: { reason: string } | null;
  /** Why the job failed as a whole. */
  reason: string | null;
  total: number;
  counts: Counts & { queued: number };
  percent: number;
  eta: string | null;
  scheduledAt: string | null;
  createdAt: string;
  startedAt: string | null;
  templateId: string | null;
  templateVersion: number | null;
  results: ResultRow[];
  nextCursor: string | null;
}

/** Every recipient final decides the status; before that, what the header says. */
function jobStatus(header: JobHeader, counts: Counts, queued: number): JobView['status'] {
  if (header.status === 'cancelled' || header.status === 'failed') return header.status;
  if (queued === 0) return counts.sent === 0 && counts.failed > 0 ? 'failed' : 'completed';
  return header.status === 'running' ? 'running' : 'queued';
}

/**
 * When the last recipient should go at the mailbox's pace, counting the days the daily recipient
 * limit adds; null when nothing is pending or the job is paused.
 */
function estimate(
  header: JobHeader,
  status: JobView['status'],
  queued: number,
  settings: Pick<BulkSettings, 'ratePerMinute' | 'dailyRecipientLimit' | 'dailyWindowMs'>,
  now: number,
): string | null {
  if ((status !== 'queued' && status !== 'running') || header.status === 'paused') return null;
  const intervalMs = 60_000 / settings.ratePerMinute;
  const remainingRecipients = Math.ceil((queued * header.totalRecipients) / header.total);
  const days = Math.floor(Math.max(0, remainingRecipients - 1) / settings.dailyRecipientLimit);
  return new Date(
    Math.max(now, header.scheduledAt) + queued * intervalMs + days * settings.dailyWindowMs,
  ).toISOString();
}

export function jobView(
  header: JobHeader,
  counts: Counts,
  page: Pick<JobView, 'results' | 'nextCursor'>,
  settings: Pick<BulkSettings, 'ratePerMinute' | 'dailyRecipientLimit' | 'dailyWindowMs'>,
  now: number,
): JobView {
  const done = counts.sent + counts.failed + counts.skipped;
  const queued = header.total - done;
  const status = jobStatus(header, counts, queued);
  return {
    jobId: header.jobId,
    credentialId: header.credentialId,
    status,
    paused: header.status === 'paused' ? { reason: header.reason ?? 'paused' } : null,
    reason: header.status === 'failed' ? (header.reason ?? null) : null,
    total: header.total,
    counts: { queued, ...counts },
    percent: header.total === 0 ? 100 : Math.round((1000 * done) / header.total) / 10,
    eta: estimate(header, status, queued, settings, now),
    scheduledAt: header.scheduledAt ? new Date(header.scheduledAt).toISOString() : null,
    createdAt: header.createdAt,
    startedAt: header.startedAt ?? null,
    templateId: header.templateId ?? null,
    templateVersion: header.templateVersion ?? null,
    ...page,
  };
}
