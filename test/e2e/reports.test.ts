import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

import { parseCsv } from '../support/csv-parse';
import {
  MAILBOX,
  RECIPIENT,
  SANDBOX_EXPECTED,
  seedScenario,
  shiftToLastWeek,
} from '../support/report-sandbox';
import { DEFINITION } from '../support/report-scenario';
import { createRunStore, REPORT_RUNS_TABLE } from '../../src/mail/report/runs';
import { hostRegistrations } from '../../src/registration';
import { startTestStack, type TestStack } from '../support/stack';

const weekly = { ...DEFINITION, serviceId: 'svc', credentialId: 'c1' };
// Same service, a credential nobody connected: fails on every run without stopping the others.
const broken = { ...weekly, id: 'broken', credentialId: 'missing' };
const foreign = { ...weekly, id: 'foreign', serviceId: 'other' };

let stack: TestStack;

function reportsFor(): number {
  return stack.sandbox.control
    .messages(RECIPIENT, 'inbox')
    .filter((m) => String(m.subject).startsWith(DEFINITION.title)).length;
}

async function until(
  condition: () => boolean,
  refresh: () => Promise<void>,
  timeoutMs = 20_000,
): Promise<void> {
  await vi.waitFor(
    async () => {
      await refresh();
      if (!condition()) throw new Error('timed out waiting');
    },
    { timeout: timeoutMs, interval: 100 },
  );
}

beforeAll(async () => {
  stack = await startTestStack({
    sandbox: { messagesPerUser: 0 },
    env: { REPORTS: JSON.stringify([weekly, broken, foreign]) },
  });
  await stack.connect('c1', { upn: MAILBOX });
  seedScenario(stack.sandbox, MAILBOX, shiftToLastWeek());
});

afterAll(async () => {
  await stack?.close();
});

describe('report routes and the mailReport timer', () => {
  it('previews the HTML without sending, for the caller’s own report only', async () => {
    const response = await stack.api('/api/reports/weekly-support/preview');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(response.headers.get('content-security-policy')).toContain("default-src 'none'");
    const html = await response.text();
    expect(html).toContain('Support mailbox — weekly');
    expect(html).toMatch(/>Received<\/div><div[^>]*>9<\/div>/);
    expect(reportsFor()).toBe(0);

    const csv = await stack.api('/api/reports/weekly-support/preview?format=csv');
    expect(csv.headers.get('content-disposition')).toMatch(
      /^attachment; filename="weekly-support-/,
    );
    const [, ...rows] = parseCsv((await csv.text()).replace(/^\uFEFF/, ''));
    expect(rows).toHaveLength(SANDBOX_EXPECTED.received + SANDBOX_EXPECTED.sent);
  });

  it('answers another service’s report like a missing one, and checks ids and callers', async () => {
    const asOther = await stack.api('/api/reports/weekly-support/preview', { serviceId: 'other' });
    expect(asOther.status).toBe(404);
    expect(await asOther.json()).toMatchObject({ code: 'not_found' });
    const missing = await stack.api('/api/reports/nope/preview', { serviceId: 'other' });
    expect(missing.status).toBe(404);
    const foreignRun = await stack.api('/api/reports/foreign/run', { method: 'POST' });
    expect(foreignRun.status).toBe(404);

    const badId = await stack.api('/api/reports/bad.id/preview');
    expect(badId.status).toBe(400);
    expect(await badId.json()).toMatchObject({
      code: 'validation_failed',
      errors: [{ path: 'reportId' }],
    });
    const badQuery = await stack.api('/api/reports/weekly-support/preview?format=pdf');
    expect(badQuery.status).toBe(400);
    const anonymous = await fetch(`${stack.host.url}/api/reports/weekly-support/preview`);
    expect(anonymous.status).toBe(401);
    const badBody = await stack.api('/api/reports/weekly-support/run', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ dedupe: 'sometimes' }),
    });
    expect(badBody.status).toBe(400);
    const both = await stack.api('/api/reports/weekly-support/run', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'idempotency-key': 'k1' },
      body: JSON.stringify({ dedupe: 'period' }),
    });
    expect(both.status).toBe(400);
    expect(await both.json()).toMatchObject({ errors: [{ path: 'dedupe' }] });
    const notJson = await stack.api('/api/reports/weekly-support/run', {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: 'dedupe=period',
    });
    expect(notJson.status).toBe(415);
    expect(reportsFor()).toBe(0);
  });

  it('runs every definition on the timer, once per period, and reports failures in health', async () => {
    const timer = hostRegistrations(stack.app).find((r) => r.name === 'mailReport');
    expect(timer).toMatchObject({
      kind: 'timer',
      options: { schedule: '0 0 8 * * 1', useMonitor: true },
    });
    const admin = await fetch(`${stack.host.url}/admin/functions/mailReport`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    expect(admin.status).toBe(202);
    // The local host answers 202 at once, like Core Tools; the run is done when all three are recorded.
    const ledger = createRunStore({
      table: () => stack.app.services.storage!.table(REPORT_RUNS_TABLE),
    });
    let recorded = 0;
    await until(
      () => recorded === 3,
      async () => {
        recorded = (await ledger.lastRuns()).length;
      },
    );
    expect(reportsFor()).toBe(1);

    // Asked for the period's run, the route finds the timer already sent it.
    const dedupe = await stack.api('/api/reports/weekly-support/run', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ dedupe: 'period' }),
    });
    expect(dedupe.status).toBe(202);
    expect(await dedupe.json()).toMatchObject({ status: 'skipped', reason: 'already_sent' });

    const health = await stack.api('/api/health');
    const body = (await health.json()) as {
      status: string;
      checks: Record<string, { ok: boolean; detail: string; data: Record<string, unknown> }>;
    };
    expect(health.status).toBe(200);
    expect(body.status).toBe('degraded');
    expect(body.checks.reports).toMatchObject({
      ok: false,
      data: {
        'svc/weekly-support': { status: 'sent' },
        'svc/broken': { status: 'failed', code: 'not_found' },
      },
    });
    // Another service's report is not the caller's to see.
    expect(JSON.stringify(body)).not.toContain('other/foreign');
    expect(body.checks.reports!.detail).toContain('svc/broken (not_found)');
    expect(reportsFor()).toBe(1);
  });

  it('sends now on request: a fresh copy each time, one per Idempotency-Key', async () => {
    const run = (headers: Record<string, string> = {}) =>
      stack.api('/api/reports/weekly-support/run', { method: 'POST', headers });
    const first = await run();
    expect(first.status).toBe(202);
    const outcome = (await first.json()) as Record<string, unknown>;
    expect(outcome).toMatchObject({
      reportId: 'weekly-support',
      runId: expect.stringMatching(/^weekly-support\.manual\./) as unknown,
      status: 'sent',
      reason: null,
      sendId: expect.any(String) as unknown,
      period: { timeZone: 'UTC' },
      counts: {
        received: SANDBOX_EXPECTED.received,
        sent: SANDBOX_EXPECTED.sent,
        unread: SANDBOX_EXPECTED.unread,
        awaitingReply: SANDBOX_EXPECTED.awaiting,
      },
    });
    expect(reportsFor()).toBe(2);

    const keyed = await run({ 'idempotency-key': 'monday-resend-1' });
    const keyedAgain = await run({ 'idempotency-key': 'monday-resend-1' });
    expect(await keyed.json()).toMatchObject({ status: 'sent' });
    expect(await keyedAgain.json()).toMatchObject({ status: 'skipped', reason: 'already_sent' });
    expect(reportsFor()).toBe(3);
  });
});
