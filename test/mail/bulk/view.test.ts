import { describe, expect, it } from 'vitest';

import { type JobHeader } from '../../../src/mail/bulk/store';
import { jobView } from '../../../src/mail/bulk/view';

/** A job's status as its counts tell it, its progress and when it should be done. */

const now = Date.parse('2026-12-06T09:00:00Z');
const settings = { ratePerMinute: 30, dailyRecipientLimit: 10_000, dailyWindowMs: 86_400_000 };
const header = (patch: Partial<JobHeader> = {}): JobHeader => ({
  serviceId: 'svc',
  jobId: 'job1',
  credentialId: 'c1',
  mailbox: 'me@contoso.test',
  status: 'running',
  total: 10,
  totalRecipients: 10,
  dispatched: 0,
  scheduledAt: 0,
  createdAt: '2026-12-06T08:00:00.000Z',
  startedAt: undefined,
  reason: undefined,
  templateId: undefined,
  templateVersion: undefined,
  etag: '*',
  ...patch,
});
const page = { results: [], nextCursor: null };
const view = (h: JobHeader, counts = { sent: 0, failed: 0, skipped: 0 }) =>
  jobView(h, counts, page, settings, now);

describe('jobView', () => {
  it('running: counts, percent and an eta at the mailbox pace', () => {
    const v = view(header(), { sent: 4, failed: 1, skipped: 0 });
    expect(v).toMatchObject({
      status: 'running',
      counts: { queued: 5, sent: 4, failed: 1, skipped: 0 },
      percent: 50,
      paused: null,
      reason: null,
      scheduledAt: null,
      templateId: null,
    });
    // Five messages at two seconds apart.
    expect(v.eta).toBe(new Date(now + 10_000).toISOString());
  });

  it('every recipient final decides: completed, or failed when none was sent', () => {
    expect(view(header(), { sent: 1, failed: 9, skipped: 0 })).toMatchObject({
      status: 'completed',
      percent: 100,
      eta: null,
    });
    expect(view(header(), { sent: 0, failed: 9, skipped: 1 }).status).toBe('failed');
    expect(view(header({ status: 'queued' }), { sent: 0, failed: 0, skipped: 10 }).status).toBe(
      'completed',
    );
  });

  it('cancelled and failed jobs say so; a paused one has its reason and no eta', () => {
    expect(view(header({ status: 'cancelled' })).status).toBe('cancelled');
    expect(view(header({ status: 'failed', reason: 'poisoned' }))).toMatchObject({
      status: 'failed',
      reason: 'poisoned',
    });
    expect(view(header({ status: 'paused', reason: 'reauth_required: x' }))).toMatchObject({
      status: 'queued',
      paused: { reason: 'reauth_required: x' },
      eta: null,
    });
  });

  it('a scheduled job counts from its start, and the daily limit adds days', () => {
    const at = now + 3_600_000;
    const scheduled = view(header({ status: 'queued', scheduledAt: at }));
    expect(scheduled.scheduledAt).toBe(new Date(at).toISOString());
    expect(scheduled.eta).toBe(new Date(at + 20_000).toISOString());
    const big = jobView(
      header({ total: 3, totalRecipients: 25_000 }),
      { sent: 0, failed: 0, skipped: 0 },
      page,
      settings,
      now,
    );
    expect(big.eta).toBe(new Date(now + 6000 + 2 * 86_400_000).toISOString());
  });
});
