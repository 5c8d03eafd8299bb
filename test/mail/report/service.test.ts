import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { type ReportDefinition } from '../../../src/config';
import { createLogger } from '../../../src/core/logger';
import { type CredentialKey } from '../../../src/credentials/types';
import { budgetSignal } from '../../../src/core/abort';
import { createGraphFactory, type GraphFactory } from '../../../src/graph/client';
import { type AzuriteInstance } from '../../../src/local/azurite';
import { storageClientsFor, testStorage } from '../../support/storage';
import { type Sandbox } from '../../../src/local/sandbox';
import { startTestSandbox } from '../../support/sandbox';
import { createIdempotencyStore } from '../../../src/mail/idempotency';
import { periodBefore } from '../../../src/mail/report/period';
import { createRunStore, REPORT_RUNS_TABLE, type RunStore } from '../../../src/mail/report/runs';
import { createReportService, type ReportService } from '../../../src/mail/report/service';
import { createSendService } from '../../../src/mail/send';
import { type StorageClients } from '../../../src/storage';
import { parseCsv } from '../../support/csv-parse';
import { sentCopies } from '../../support/sent-items';
import {
  MAILBOX,
  RECIPIENT,
  SANDBOX_EXPECTED,
  sandboxTokens,
  seedScenario,
  shiftToLastWeek,
} from '../../support/report-sandbox';
import { DEFINITION, EXPECTED, HOSTILE_SUBJECT } from '../../support/report-scenario';

const lines: string[] = [];
const log = createLogger((level, line) => lines.push(`${level} ${line}`));

let sandbox: Sandbox;
let azurite: AzuriteInstance;
let storage: StorageClients;
let graph: GraphFactory<CredentialKey>;
let runs: RunStore;
/** Scenario conversation (A, B, …) → the conversationId the sandbox gave it. */
let conversations: Map<string, string>;
let shiftMs: number;
const HOUR = 3_600_000;

function service(definitions: ReportDefinition[], extra: { maxMessages?: number } = {}) {
  return createReportService({
    definitions,
    graph,
    runs,
    send: createSendService({
      graph,
      idempotency: createIdempotencyStore({ table: () => storage.table('idempotency') }),
      maxMessageSizeBytes: 35 * 1024 * 1024,
    }),
    // Over 66 s: src/mail/send/index.ts builds a fractional work budget below that (reported).
    definitionBudgetMs: 70_000,
    ...extra,
  });
}

const support: ReportDefinition = { ...DEFINITION, credentialId: 'c1' };
const run = (reports: ReportService, identity: { kind: 'period' } | { kind: 'fresh' }) =>
  reports.run(support, { trigger: 'manual', identity, abortSignal: budgetSignal(70_000), log });

/** Messages the recipient got from this report, with their attachments (read as the recipient). */
async function delivered(): Promise<
  Array<{ subject: string; body: string; csv: string; csvName: string }>
> {
  const token = (await sandbox.control.issueTokens(RECIPIENT, { scopes: ['Mail.Read'] }))
    .access_token;
  const inbox = sandbox.control
    .messages(RECIPIENT, 'inbox')
    .filter((m) => String(m.subject).startsWith(DEFINITION.title));
  return Promise.all(
    inbox.map(async (m) => {
      const response = await fetch(`${sandbox.url}/v1.0/me/messages/${m.id}/attachments`, {
        headers: { authorization: `Bearer ${token}` },
      });
      const { value } = (await response.json()) as {
        value: Array<{ name: string; contentBytes: string }>;
      };
      return {
        subject: String(m.subject),
        body: (m.body as { content: string }).content,
        csv: Buffer.from(value[0]!.contentBytes, 'base64').toString('utf8'),
        csvName: value[0]!.name,
      };
    }),
  );
}

beforeAll(async () => {
  [sandbox, azurite] = await Promise.all([startTestSandbox({ messagesPerUser: 0 }), testStorage()]);
  storage = storageClientsFor(azurite);
  graph = createGraphFactory({
    graphBaseUrl: sandbox.url,
    tokens: sandboxTokens(sandbox, { c1: MAILBOX }),
  });
  runs = createRunStore({ table: () => storage.table(REPORT_RUNS_TABLE) });
  shiftMs = shiftToLastWeek();
  conversations = seedScenario(sandbox, MAILBOX, shiftMs);
});

afterAll(async () => {
  await sandbox?.close();
  await azurite?.stop();
});

describe('report service against the sandbox', () => {
  it('reads only the period, with $select, $top=1000 and the date leading $filter and $orderby', async () => {
    sandbox.control.clearRequestLog();
    const report = await service([support]).render(support, {
      abortSignal: budgetSignal(70_000),
      log,
    });
    const f = report.figures;
    expect(f.totals).toEqual({
      received: SANDBOX_EXPECTED.received,
      sent: SANDBOX_EXPECTED.sent,
      unread: SANDBOX_EXPECTED.unread,
      conversations: SANDBOX_EXPECTED.conversations,
    });
    expect(f.perDay.map(({ received, sent }) => ({ received, sent }))).toEqual(
      EXPECTED.perDay.map(({ received, sent }) => ({ received, sent })),
    );
    expect(f.topSenders.map((s) => [s.key, s.count])).toEqual(EXPECTED.topSenders);
    expect(f.topDomains.map((s) => [s.key, s.count])).toEqual(EXPECTED.topDomains);
    // First replies, worked out from the scenario's times: A r1 07:30 → s1 08:30 = 1 h; B r2 08:10 →
    // s2 12:10 = 4 h; C r3 Apr 28 12:00 → s3 Apr 30 12:00 = 48 h; D r5 May 1 09:00 → s7 May 4 00:00
    // (after the period, still read) = 63 h. E (r6) and G (r8, r9) have no reply. Median of
    // [1, 4, 48, 63] h = (4 + 48) / 2 = 26 h; p90 by nearest rank = the ceil(0.9 × 4) = 4th = 63 h.
    expect(f.firstResponse).toEqual({
      answered: 4,
      unanswered: 2,
      medianMs: 26 * HOUR,
      p90Ms: 63 * HOUR,
    });
    // Awaiting (> 36 h since the first inbound message after our last reply): G since r8 (r8, r9),
    // then C since r10 (our s3 answered r3). E's r6 is at most 25 h old on the run day; A, B, D end
    // with our reply.
    const label = new Map([...conversations].map(([k, v]) => [v, k]));
    expect(
      f.awaiting.map((a) => ({
        conversation: label.get(a.conversationId),
        since: new Date(a.waitingSince - shiftMs).toISOString(),
        unanswered: a.unansweredCount,
        subject: a.subject,
      })),
    ).toEqual([
      {
        conversation: 'G',
        since: '2026-04-30T14:00:00.000Z',
        unanswered: 2,
        subject: 'RE: Broken link',
      },
      {
        conversation: 'C',
        since: '2026-05-02T08:00:00.000Z',
        unanswered: 1,
        subject: 'RE: formula',
      },
    ]);
    expect(f.folders.map((x) => x.displayName)).toEqual(['Inbox']);

    const lists = sandbox.control
      .requestLog()
      .filter((e) => e.path.endsWith('/messages'))
      .map((e) => Object.fromEntries(new URLSearchParams(e.query)));
    expect(lists).toHaveLength(2);
    for (const query of lists) {
      expect(query.$select!.split(',').sort()).toEqual(
        [
          'id',
          'conversationId',
          'from',
          'toRecipients',
          'receivedDateTime',
          'sentDateTime',
          'isRead',
          'subject',
        ].sort(),
      );
      expect(query.$top).toBe('1000');
    }
    const [inbox, sent] = lists;
    expect(inbox!.$filter).toMatch(
      /^receivedDateTime ge \d{4}-\d\d-\d\dT00:00:00Z and receivedDateTime lt \d{4}-\d\d-\d\dT00:00:00Z$/,
    );
    expect(inbox!.$orderby).toBe('receivedDateTime desc');
    expect(sent!.$filter).toMatch(/^sentDateTime ge \S+ and sentDateTime lt \S+$/);
    expect(sent!.$orderby).toBe('sentDateTime desc');
  });

  it('sends the report with its CSV to the recipients, once per period', async () => {
    const reports = service([support]);
    const first = await run(reports, { kind: 'period' });
    expect(first).toMatchObject({
      reportId: support.id,
      status: 'sent',
      counts: {
        received: SANDBOX_EXPECTED.received,
        sent: SANDBOX_EXPECTED.sent,
        unread: SANDBOX_EXPECTED.unread,
        awaitingReply: SANDBOX_EXPECTED.awaiting,
      },
    });
    expect(first.runId).toMatch(/^weekly-support\.\d{4}-\d\d-\d\d\.7d$/);

    const again = await run(reports, { kind: 'period' });
    expect(again).toMatchObject({ runId: first.runId, status: 'skipped', reason: 'already_sent' });

    const mail = await delivered();
    expect(mail).toHaveLength(1);
    const [report] = mail;
    expect(report!.subject).toMatch(/^Support mailbox — weekly · \d+ \w+ \d{4} – \d+ \w+ \d{4}$/);
    expect(report!.body).toContain('>Received</div>');
    expect(report!.body).toContain('Awaiting reply &gt; 36 h');
    expect(report!.body).not.toContain('<script>');
    expect(report!.csvName).toMatch(/^weekly-support-\d{4}-\d\d-\d\d_\d{4}-\d\d-\d\d\.csv$/);

    const [header, ...rows] = parseCsv(report!.csv.replace(/^\uFEFF/, ''));
    expect(rows).toHaveLength(SANDBOX_EXPECTED.received + SANDBOX_EXPECTED.sent);
    const column = (name: string) => header!.indexOf(name);
    const hostile = rows.find((r) => r[column('fromAddress')] === 'carol@northwind.test')!;
    expect(hostile[column('subject')]).toBe(`'${HOSTILE_SUBJECT}`);
    expect(rows.filter((r) => r[column('direction')] === 'sent')).toHaveLength(5);
    expect(rows.filter((r) => r[column('isRead')] === 'false')).toHaveLength(4);
    // Minutes to the first reply, on the message that opened each conversation (A, B, C, D).
    expect(
      Object.fromEntries(
        rows
          .filter((r) => r[column('firstResponseMinutes')] !== '')
          .map((r) => [r[column('subject')], Number(r[column('firstResponseMinutes')])]),
      ),
    ).toEqual({
      'Login fails': 60,
      'Invoice question': 240,
      [`'${HOSTILE_SUBJECT}`]: 2880,
      'Export to CSV': 3780,
    });
    expect(
      rows.filter((r) => r[column('awaitingReply')] === 'true').map((r) => r[column('subject')]),
    ).toEqual(['Broken link', 'RE: formula']);
    // A reply and the messages it answers share the conversation the sandbox gave the thread.
    expect(
      rows
        .filter((r) => r[column('conversationId')] === conversations.get('A'))
        .map((r) => [r[column('direction')], r[column('subject')]]),
    ).toEqual([
      ['received', 'Login fails'],
      ['sent', 'RE: Login fails'],
      ['received', 'RE: Login fails'],
      ['sent', 'RE: Login fails'],
    ]);

    // The mailbox keeps its copy in Sent Items; the ledger knows it was sent.
    expect(await sentCopies(sandbox, MAILBOX, report!.subject)).toHaveLength(1);
    expect(
      await runs.get({ serviceId: support.serviceId, reportId: support.id, runId: first.runId }),
    ).toMatchObject({ status: 'sent', trigger: 'manual' });
  });

  it('sends a fresh copy on request, under its own run id', async () => {
    const copy = await run(service([support]), { kind: 'fresh' });
    expect(copy.status).toBe('sent');
    expect(copy.runId).toMatch(/^weekly-support\.manual\.[0-9a-f-]{36}$/);
    expect(await delivered()).toHaveLength(2);
  });

  it('does not start a period whose run is still in progress elsewhere', async () => {
    const definition = { ...support, id: 'overlap' };
    const days = periodBefore(Date.now(), definition.periodDays, definition.timeZone).days;
    const key = {
      serviceId: definition.serviceId,
      reportId: definition.id,
      runId: `overlap.${days[days.length - 1]}.7d`,
    };
    // Another instance claimed the period a moment ago and is still working on it.
    expect(await runs.claim(key, 'schedule')).toEqual({ claimed: true });
    sandbox.control.clearRequestLog();
    const skipped = await service([definition]).run(definition, {
      trigger: 'schedule',
      identity: { kind: 'period' },
      abortSignal: budgetSignal(70_000),
      log,
    });
    expect(skipped).toMatchObject({ status: 'skipped', reason: 'in_progress', runId: key.runId });
    expect(sandbox.control.requestLog()).toEqual([]); // not even read
  });

  it('keeps going when one definition fails, logs a summary and reports it in health', async () => {
    const good = { ...support, id: 'good' };
    const reauth = { ...support, id: 'reauth', credentialId: 'dead' };
    const unknown = { ...support, id: 'unknown', credentialId: 'gone' };
    const outage = { ...support, id: 'outage', folders: ['deleteditems'] };
    sandbox.control.injectFault({
      path: '/v1.0/me/mailFolders/deleteditems*',
      status: 503,
      retryAfterSeconds: 0, // Graph's retries give up at once instead of backing off for seconds
    });
    const reports = service([reauth, good, unknown, outage]);
    lines.length = 0;
    try {
      const summaries = await reports.runAll({ log });
      expect(summaries.map((s) => [s.reportId, s.status, s.errorCode])).toEqual([
        ['reauth', 'failed', 'reauth_required'],
        ['good', 'sent', null],
        ['unknown', 'failed', 'not_found'],
        ['outage', 'failed', expect.stringMatching(/^graph_unavailable$/)],
      ]);
      expect(summaries[1]!.counts).toMatchObject({ received: SANDBOX_EXPECTED.received });
      for (const s of summaries) expect(s.ms).toBeGreaterThanOrEqual(0);
    } finally {
      sandbox.control.clearFaults();
    }
    const summary = lines.find((l) => l.includes('report run summary'))!;
    expect(summary).toMatch(/^warn /);
    expect(summary).toContain('"total":4,"sent":1,"skipped":0,"failed":3');
    expect(lines.filter((l) => l.startsWith('error report failed'))).toHaveLength(3);
    expect(lines.join('\n')).not.toMatch(/eyJ[A-Za-z0-9_-]{5,}\./); // no token in any line

    const health = await reports.healthCheck().check({ abortSignal: AbortSignal.timeout(5000) });
    expect(health.ok).toBe(false);
    expect(health.detail).toContain('3 of 4 reports failed on their last run');
    expect(health.detail).toContain('svc/reauth (reauth_required)');
    expect(health.data).toMatchObject({
      'svc/good': { status: 'sent' },
      'svc/unknown': { status: 'failed', code: 'not_found' },
    });

    // The failed runs are not marked sent: the next timer run tries them again.
    const retry = service([reauth, good]);
    const second = await retry.runAll({ log });
    expect(second.map((s) => [s.reportId, s.status])).toEqual([
      ['reauth', 'failed'],
      ['good', 'skipped'],
    ]);
  });

  it('follows next links and says so when a mailbox has more mail than one report holds', async () => {
    const bulk = { ...support, id: 'bulk', folders: ['archive'] };
    const day = shiftToLastWeek() + Date.parse('2026-04-29T10:00:00Z');
    for (let i = 0; i < 1005; i += 1) {
      sandbox.control.addMessage(MAILBOX, 'archive', {
        subject: `Bulk ${i}`,
        from: { emailAddress: { address: `sender${i % 7}@bulk.test` } },
        receivedDateTime: new Date(day + i * 1000).toISOString(),
      });
    }
    sandbox.control.clearRequestLog();
    const full = await service([bulk]).render(bulk, { abortSignal: budgetSignal(70_000), log });
    expect(full.figures.totals.received).toBe(1005);
    expect(full.figures.truncated).toBe(false);
    const pages = sandbox.control
      .requestLog()
      .filter((e) => /\/mailFolders\/[^/]+\/messages$/.test(e.path) && e.status === 200);
    expect(pages.length).toBe(3); // two archive pages, one Sent Items page

    const capped = await service([bulk], { maxMessages: 1000 }).render(bulk, {
      abortSignal: budgetSignal(70_000),
      log,
    });
    expect(capped.figures.truncated).toBe(true);
    expect(capped.figures.totals.received).toBe(1000);
    expect(capped.html).toContain('the figures cover the newest messages only');
  });

  it('answers a folder the mailbox does not have as a conflict naming it', async () => {
    const wrong = { ...support, id: 'wrong', folders: ['inbox', 'NoSuchFolder'] };
    await expect(
      service([wrong]).render(wrong, { abortSignal: budgetSignal(70_000), log }),
    ).rejects.toMatchObject({
      code: 'conflict',
      message: expect.stringContaining('"NoSuchFolder"') as unknown,
    });
  });
});
