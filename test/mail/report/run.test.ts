import { describe, expect, it } from 'vitest';

import { createLogger } from '../../../src/core/logger';
import { NotFoundError, UpstreamError } from '../../../src/core/errors';
import { periodBefore } from '../../../src/mail/report/period';
import { type RenderedReport } from '../../../src/mail/report/render';
import {
  reportMessage,
  runIdFor,
  runReport,
  type RunDeps,
  skipReason,
} from '../../../src/mail/report/run';
import { type RunOutcomeUpdate, type RunRecord } from '../../../src/mail/report/runs';
import { DEFINITION, RUN_AT } from '../../support/report-scenario';

const period = periodBefore(RUN_AT, DEFINITION.periodDays, DEFINITION.timeZone);

describe('report run ids', () => {
  it('names a period by its last day, once; a fresh run anew; a key by its hash', () => {
    const byPeriod = runIdFor(DEFINITION, period, { kind: 'period' });
    expect(byPeriod).toBe('weekly-support.2026-05-03.7d');
    expect(runIdFor(DEFINITION, period, { kind: 'period' })).toBe(byPeriod);
    const fresh = runIdFor(DEFINITION, period, { kind: 'fresh' });
    expect(fresh).toMatch(/^weekly-support\.manual\.[0-9a-f-]{36}$/);
    expect(runIdFor(DEFINITION, period, { kind: 'fresh' })).not.toBe(fresh);
    const key = runIdFor(DEFINITION, period, { kind: 'key', key: 'caller key/with odd chars' });
    expect(key).toMatch(/^weekly-support\.key\.[0-9a-f]{40}$/);
    // Table-key safe whatever the caller's key held.
    expect(key).toMatch(/^[A-Za-z0-9_.-]+$/);
  });

  it('says why a claimed run id is not run again', () => {
    const existing = (status: RunRecord['status']) => ({ status }) as RunRecord;
    expect(skipReason(existing('sent'))).toBe('already_sent');
    expect(skipReason(existing('unknown'))).toBe('outcome_unknown');
    expect(skipReason(existing('claimed'))).toBe('in_progress');
    expect(skipReason(existing('failed'))).toBe('in_progress');
  });
});

describe('report message', () => {
  it('goes to the recipients with the CSV attached and the run id in a header, unsigned', async () => {
    const report = { subject: 'S', html: '<p>r</p>', csv: 'a,é\n', csvName: 'r.csv' };
    const message = reportMessage(DEFINITION, report as RenderedReport, 'run-1');
    expect(message).toMatchObject({
      to: [{ address: 'megan@contoso.test' }],
      subject: 'S',
      body: '<p>r</p>',
      contentType: 'html',
      headers: { 'x-omf-report-run': 'run-1' },
      signature: false,
      saveToSentItems: true,
    });
    const [csv] = message.attachments;
    expect(csv).toMatchObject({ name: 'r.csv', contentType: 'text/csv', size: 5 });
    const chunks: Buffer[] = [];
    for await (const chunk of csv!.open()) chunks.push(Buffer.from(chunk));
    expect(Buffer.concat(chunks).toString('utf8')).toBe('a,é\n');
  });
});

describe('one report run', () => {
  function deps(claim: Awaited<ReturnType<RunDeps['runs']['claim']>>, failFinish = false) {
    const finished: RunOutcomeUpdate[] = [];
    const lines: string[] = [];
    let reads = 0;
    const d: RunDeps = {
      graph: {
        forCredential: () => {
          reads++;
          return Promise.reject(new NotFoundError('Credential c1'));
        },
      },
      maxMessages: 10,
      send: { send: () => Promise.reject(new UpstreamError('graph_unavailable', 'down')) },
      runs: {
        claim: () => Promise.resolve(claim),
        finish: (_key, outcome) => {
          finished.push(outcome);
          return failFinish ? Promise.reject(new Error('table down')) : Promise.resolve();
        },
      },
      now: () => RUN_AT,
    };
    const request = {
      trigger: 'schedule' as const,
      identity: { kind: 'period' as const },
      log: createLogger((level, line) => lines.push(`${level} ${line}`)),
    };
    return { d, request, finished, lines, reads: () => reads };
  }

  it('skips a run id claimed before, reading no mail and answering what was sent', async () => {
    const existing = {
      status: 'sent',
      messageId: 'm1',
      internetMessageId: '<m1@x>',
    } as RunRecord;
    const { d, request, finished, reads } = deps({ claimed: false, existing });
    const outcome = await runReport(d, DEFINITION, request);
    expect(outcome).toMatchObject({
      status: 'skipped',
      reason: 'already_sent',
      runId: 'weekly-support.2026-05-03.7d',
      messageId: 'm1',
      counts: null,
      period: { start: '2026-04-27T00:00:00.000Z', end: '2026-05-04T00:00:00.000Z' },
    });
    expect(reads()).toBe(0);
    expect(finished).toEqual([]);
  });

  it('records a failed run with its code, and says so when the ledger write fails too', async () => {
    const { d, request, finished, lines } = deps({ claimed: true }, true);
    await expect(runReport(d, DEFINITION, request)).rejects.toBeInstanceOf(NotFoundError);
    expect(finished).toEqual([{ status: 'failed', errorCode: 'not_found' }]);
    expect(lines.some((l) => l.startsWith('error') && l.includes('could not record'))).toBe(true);
  });
});
