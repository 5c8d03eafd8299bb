import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { type AzuriteInstance } from '../../../src/local/azurite';
import { storageClientsFor, testStorage } from '../../support/storage';
import { createRunStore } from '../../../src/mail/report/runs';
import { type StorageClients } from '../../../src/storage';

let azurite: AzuriteInstance;
let storage: StorageClients;
let clock = Date.parse('2026-05-04T08:00:00Z');
const HOUR = 3_600_000;

const store = () =>
  createRunStore({ table: () => storage.table('reportrunstest'), now: () => clock });
const key = (runId: string) => ({ serviceId: 'svc', reportId: 'weekly', runId });

beforeAll(async () => {
  azurite = await testStorage();
  storage = storageClientsFor(azurite);
});

afterAll(async () => {
  await azurite?.stop();
});

describe('report run ledger', () => {
  it('lets one claim win and keeps a sent run sent', async () => {
    const runs = store();
    const k = key('weekly.2026-05-03.7d');
    const results = await Promise.all([runs.claim(k, 'schedule'), runs.claim(k, 'schedule')]);
    expect(results.filter((r) => r.claimed)).toHaveLength(1);
    await runs.finish(k, { status: 'sent', messageId: 'm1', internetMessageId: '<m1@x>' });
    clock += 48 * HOUR;
    expect(await runs.claim(k, 'schedule')).toMatchObject({
      claimed: false,
      existing: { status: 'sent', messageId: 'm1', internetMessageId: '<m1@x>' },
    });
  });

  it('hands a stale claim to exactly one of several retries', async () => {
    const runs = store();
    const k = key('weekly.stale');
    await runs.claim(k, 'schedule');
    clock += 30 * 60_000;
    expect(await runs.claim(k, 'schedule')).toMatchObject({ claimed: false });
    clock += 31 * 60_000; // over an hour since the claim: its run died
    const retries = await Promise.all([1, 2, 3].map(() => runs.claim(k, 'schedule')));
    expect(retries.filter((r) => r.claimed)).toHaveLength(1);
  });

  it('runs a failed period again, but never one whose send outcome is unknown', async () => {
    const runs = store();
    await runs.claim(key('weekly.failed'), 'schedule');
    await runs.finish(key('weekly.failed'), { status: 'failed', errorCode: 'graph_unavailable' });
    expect(await runs.claim(key('weekly.failed'), 'manual')).toEqual({ claimed: true });
    expect(await runs.get(key('weekly.failed'))).toMatchObject({
      status: 'claimed',
      trigger: 'manual',
    });

    await runs.claim(key('weekly.unknown'), 'schedule');
    await runs.finish(key('weekly.unknown'), {
      status: 'unknown',
      errorCode: 'send_outcome_unknown',
    });
    clock += 10 * HOUR;
    expect(await runs.claim(key('weekly.unknown'), 'schedule')).toMatchObject({
      claimed: false,
      existing: { status: 'unknown', errorCode: 'send_outcome_unknown' },
    });
  });

  it('keeps the last outcome per definition', async () => {
    const runs = store();
    await runs.recordLast({
      serviceId: 'svc',
      reportId: 'weekly',
      runId: 'a',
      status: 'failed',
      at: 1,
      errorCode: 'reauth_required',
    });
    await runs.recordLast({
      serviceId: 'svc',
      reportId: 'weekly',
      runId: 'b',
      status: 'sent',
      at: 2,
      errorCode: null,
    });
    await runs.recordLast({
      serviceId: 'other',
      reportId: 'weekly',
      runId: 'c',
      status: 'failed',
      at: 3,
      errorCode: 'not_found',
    });
    const last = await runs.lastRuns();
    expect(last).toHaveLength(2);
    expect(last).toContainEqual({
      serviceId: 'svc',
      reportId: 'weekly',
      runId: 'b',
      status: 'sent',
      at: 2,
      errorCode: null,
    });
  });

  it('reports an unreachable table as store_unavailable', async () => {
    const runs = createRunStore({ table: () => Promise.reject(new Error('connection refused')) });
    await expect(runs.claim(key('x'), 'schedule')).rejects.toMatchObject({
      code: 'store_unavailable',
    });
  });
});
