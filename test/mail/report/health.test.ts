import { describe, expect, it } from 'vitest';

import { reportHealth, reportHealthCheck } from '../../../src/mail/report/health';
import { type LastRun } from '../../../src/mail/report/runs';
import { DEFINITION } from '../../support/report-scenario';

const definitions = [
  DEFINITION,
  { ...DEFINITION, id: 'monthly' },
  { ...DEFINITION, serviceId: 'other', id: 'weekly-support' },
];
const run = (serviceId: string, reportId: string, extra: Partial<LastRun> = {}): LastRun => ({
  serviceId,
  reportId,
  runId: 'r',
  status: 'sent',
  at: Date.UTC(2026, 4, 4, 8),
  errorCode: null,
  ...extra,
});

describe('report health', () => {
  it('fails while a last run failed, naming it, and shows each service only its own', () => {
    const runs = [
      run('svc', 'weekly-support'),
      run('other', 'weekly-support', { status: 'failed', errorCode: 'reauth_required' }),
      // A report no longer configured says nothing.
      run('svc', 'removed', { status: 'failed', errorCode: 'internal' }),
    ];
    const all = reportHealth(definitions, runs);
    expect(all.ok).toBe(false);
    expect(all.detail).toBe(
      '1 of 3 reports failed on their last run: other/weekly-support (reauth_required)',
    );
    const svc = reportHealth(definitions, runs, 'svc');
    expect(svc).toEqual({
      ok: true,
      detail: '2 reports configured, 1 have run, none failed on its last run',
      data: { 'svc/weekly-support': { status: 'sent', at: '2026-05-04T08:00:00.000Z' } },
    });
  });

  it('reads the last runs for each check', async () => {
    let reads = 0;
    const check = reportHealthCheck(definitions, {
      lastRuns: () => (reads++, Promise.resolve([run('svc', 'monthly')])),
    });
    const result = await check.check({ abortSignal: new AbortController().signal });
    expect(check.name).toBe('reports');
    expect(result.ok).toBe(true);
    expect(result.forService!('other').detail).toBe(
      '1 reports configured, 0 have run, none failed on its last run',
    );
    await check.check({ abortSignal: new AbortController().signal });
    expect(reads).toBe(2);
  });
});
