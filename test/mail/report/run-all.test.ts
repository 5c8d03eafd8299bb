import { describe, expect, it } from 'vitest';

import { NotFoundError } from '../../../src/core/errors';
import { createLogger } from '../../../src/core/logger';
import { pool, runAll, type RecordedRunDeps } from '../../../src/mail/report/run-all';
import { type LastRun, type RunRecord } from '../../../src/mail/report/runs';
import { DEFINITION, RUN_AT } from '../../support/report-scenario';

describe('pool', () => {
  it('keeps the order of the items and never runs more than its size at once', async () => {
    let running = 0;
    let most = 0;
    const results = await pool([5, 1, 4, 2, 3], 2, async (n) => {
      running++;
      most = Math.max(most, running);
      await new Promise((resolve) => setImmediate(resolve));
      running--;
      return n * 10;
    });
    expect(results).toEqual([50, 10, 40, 20, 30]);
    expect(most).toBe(2);
    expect(await pool([], 2, () => Promise.resolve(1))).toEqual([]);
  });
});

describe("the timer's runs", () => {
  it('runs every definition, records the last outcome of those that ran, logs one summary', async () => {
    const skipped = { ...DEFINITION, id: 'already-sent' };
    const failing = { ...DEFINITION, id: 'no-credential', credentialId: 'gone' };
    const last: LastRun[] = [];
    const lines: string[] = [];
    const signals: AbortSignal[] = [];
    const deps: RecordedRunDeps & {
      definitions: (typeof DEFINITION)[];
      concurrency: number;
      budgetMs: number;
    } = {
      definitions: [skipped, failing],
      concurrency: 2,
      budgetMs: 60_000,
      graph: {
        forCredential: (_key, options) => {
          signals.push(options.abortSignal!);
          return Promise.reject(new NotFoundError('Credential gone'));
        },
      },
      maxMessages: 10,
      send: { send: () => Promise.reject(new Error('not reached')) },
      runs: {
        claim: (key) =>
          Promise.resolve(
            key.reportId === 'already-sent'
              ? { claimed: false, existing: { status: 'sent' } as RunRecord }
              : { claimed: true },
          ),
        finish: () => Promise.resolve(),
        recordLast: (run) => (last.push(run), Promise.resolve()),
      },
      now: () => RUN_AT,
    };
    const log = createLogger((level, line) => lines.push(`${level} ${line}`));
    const summaries = await runAll(deps, { log });
    expect(summaries).toMatchObject([
      { reportId: 'already-sent', status: 'skipped', reason: 'already_sent', errorCode: null },
      { reportId: 'no-credential', status: 'failed', runId: null, errorCode: 'not_found' },
    ]);
    // A skipped run leaves the last real outcome as it was.
    expect(last).toEqual([
      {
        serviceId: 'svc',
        reportId: 'no-credential',
        runId: '',
        status: 'failed',
        at: RUN_AT,
        errorCode: 'not_found',
      },
    ]);
    // Each definition runs within its own budget.
    expect(signals).toHaveLength(1);
    expect(signals[0]!.aborted).toBe(false);
    const summary = lines.filter((l) => l.includes('report run summary'));
    expect(summary).toHaveLength(1);
    expect(summary[0]).toMatch(/^warn /);
    expect(summary[0]).toContain('"failed":1');
  });
});
