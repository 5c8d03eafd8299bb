import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  InvalidCursorError,
  NotFoundError,
  ReauthRequiredError,
  ThrottledError,
  UpstreamError,
} from '../../../src/core/errors';
import { parseWith } from '../../../src/http/parse';
import { type AzuriteInstance } from '../../../src/local/azurite';
import { validationErrors } from '../../support/errors';
import { testStorage } from '../../support/storage';
import {
  type BulkRequest,
  bulkRequestSchema,
  MAX_REPORTED_ERRORS,
} from '../../../src/mail/bulk/jobs';
import { createStorageClients, type StorageClients } from '../../../src/storage';
import {
  bulkHarness,
  drain,
  fakeSend,
  finished,
  recipients,
  silentLog,
} from '../../support/bulk-harness';

let azurite: AzuriteInstance;
let storage: StorageClients;

beforeAll(async () => {
  azurite = await testStorage();
  storage = createStorageClients(
    { kind: 'connectionString', connectionString: azurite.connectionString },
    () => {
      throw new Error('no credential needed for Azurite');
    },
  );
});
afterAll(async () => {
  await azurite?.stop();
});

const inline = {
  subject: 'Hello {{name}}',
  body: 'Dear {{name}},\n{{#personalNote}}{{.}}\n{{/personalNote}}Bye',
  contentType: 'text' as const,
};

function request(n: number, extra: Partial<BulkRequest> = {}): BulkRequest {
  return { template: inline, recipients: recipients(n), ...extra };
}

// Each test has queues, tables and a fake Graph of its own (bulkHarness), and most of its time is
// spent waiting for queue visibility (whole seconds) and pacing windows: side by side they wait
// together instead of one after another.
describe('bulk jobs against Azurite', () => {
  it('sends every recipient once, personalised, and reports counts and paged results', async () => {
    const send = fakeSend();
    const h = await bulkHarness(storage, send.service);
    const req = request(25);
    req.recipients[3]!.personalNote = 'Great to meet you at the fair!';
    req.recipients[4]!.cc = ['boss@example.test'];
    const { jobId } = await h.jobs.create(h.key, req, { log: silentLog });
    const before = await h.jobs.status(h.key, jobId, { top: 10 });
    expect(before.status).toBe('queued');
    expect(before.counts).toEqual({ queued: 25, sent: 0, failed: 0, skipped: 0 });
    expect(before.eta).not.toBeNull();

    await drain(h, () => finished(h, jobId));
    expect(send.sent).toHaveLength(25);
    expect(new Set(send.sent.map((s) => s.to)).size).toBe(25);
    const third = send.sent.find((s) => s.to === 'user3@example.test')!;
    expect(third.subject).toBe('Hello User 3');
    expect(third.body).toBe('Dear User 3,\nGreat to meet you at the fair!\nBye');
    expect(send.sent.find((s) => s.to === 'user5@example.test')!.body).toBe('Dear User 5,\nBye');
    expect(send.sent.find((s) => s.to === 'user4@example.test')!.cc).toEqual(['boss@example.test']);

    const page1 = await h.jobs.status(h.key, jobId, { top: 10 });
    expect(page1).toMatchObject({ status: 'completed', percent: 100, eta: null });
    expect(page1.counts).toEqual({ queued: 0, sent: 25, failed: 0, skipped: 0 });
    expect(page1.results).toHaveLength(10);
    expect(page1.results[0]).toEqual({
      index: 0,
      to: 'user0@example.test',
      status: 'sent',
      sendId: expect.any(String),
      sentAt: expect.any(String),
      // What the send answered; the rest is looked up when the route reads (sent-ids.test.ts).
      messageId: `m-bulk-${jobId}-0`,
      internetMessageId: null,
      resolved: false,
    });
    const all = [...page1.results];
    let cursor = page1.nextCursor;
    while (cursor) {
      const page = await h.jobs.status(h.key, jobId, { top: 10, cursor });
      all.push(...page.results);
      cursor = page.nextCursor;
    }
    expect(all.map((r) => r.index)).toEqual([...Array(25).keys()]);

    // Cursors are bound to their job; junk is refused; other credentials and services see nothing.
    const other = await h.jobs.create(h.key, request(1), { log: silentLog });
    await expect(
      h.jobs.status(h.key, other.jobId, { top: 10, cursor: page1.nextCursor! }),
    ).rejects.toBeInstanceOf(InvalidCursorError);
    await expect(
      h.jobs.status(h.key, jobId, { top: 10, cursor: 'not-a-cursor' }),
    ).rejects.toBeInstanceOf(InvalidCursorError);
    await expect(
      h.jobs.status({ serviceId: 'svc', credentialId: 'c2' }, jobId, { top: 1 }),
    ).rejects.toBeInstanceOf(NotFoundError);
    await expect(
      h.jobs.status({ serviceId: 'other', credentialId: 'c1' }, jobId, { top: 1 }),
    ).rejects.toBeInstanceOf(NotFoundError);
  });

  it('refuses a list with bad rows, naming every one, and creates nothing', async () => {
    const send = fakeSend();
    const h = await bulkHarness(storage, send.service);
    const bad = request(6);
    bad.recipients[1]!.to = 'not-an-address';
    bad.recipients[3]!.to = 'USER0@example.test';
    bad.recipients[4]!.variables = {};
    bad.recipients[5]!.cc = Array.from({ length: 500 }, (_, i) => `cc${i}@example.test`);
    // Shape errors come from the schema, with the same 0-based paths.
    const shape = await validationErrors(() => parseWith(bulkRequestSchema, bad));
    expect(shape).toEqual([{ path: 'recipients[1].to', message: 'must be an email address' }]);
    bad.recipients[1]!.to = 'fine@example.test';
    const errors = await validationErrors(() => h.jobs.create(h.key, bad, { log: silentLog }));
    expect(errors).toEqual([
      { path: 'recipients[3].to', message: 'duplicates recipients[0].to' },
      { path: 'recipients[4].variables.name', message: 'is used by the template but missing' },
      { path: 'recipients[5].cc', message: 'a message may have at most 500 recipients' },
    ]);
    expect(
      await validationErrors(() => h.jobs.create(h.key, request(10_001), { log: silentLog })),
    ).toEqual([{ path: 'recipients', message: 'at most 10000 recipients per bulk send' }]);
    expect(
      await validationErrors(() =>
        h.jobs.create(
          h.key,
          { templateId: 'nope', recipients: recipients(1) },
          {
            log: silentLog,
          },
        ),
      ),
    ).toEqual([{ path: 'templateId', message: 'is not a template of this service' }]);
    expect(
      await validationErrors(() =>
        h.jobs.create(
          h.key,
          request(1, { scheduledAt: new Date(Date.now() - 3600_000).toISOString() }),
          { log: silentLog },
        ),
      ),
    ).toEqual([{ path: 'scheduledAt', message: 'is in the past' }]);
    expect(
      await validationErrors(() =>
        h.jobs.create(
          h.key,
          request(1, { scheduledAt: new Date(Date.now() + 31 * 86400_000).toISOString() }),
          { log: silentLog },
        ),
      ),
    ).toEqual([{ path: 'scheduledAt', message: 'is more than 30 days ahead' }]);
    // Neither or both of templateId/template
    expect(
      await validationErrors(() => parseWith(bulkRequestSchema, { recipients: recipients(1) })),
    ).toEqual([{ path: 'templateId', message: 'give either templateId or template' }]);
    expect(await h.queue.peekMessages({ numberOfMessages: 32 })).toMatchObject({
      peekedMessageItems: [],
    });
    expect(send.calls()).toBe(0);
  });

  it('reports every problem of every row in one pass: shape, address, merge field (issue #18)', async () => {
    const send = fakeSend();
    const h = await bulkHarness(storage, send.service);
    const rows: unknown[] = recipients(400);
    rows[4] = { to: 'not-an-address', variables: {} };
    rows[150] = { to: 'row150@example.test', variables: {} };
    rows[302] = { variables: { name: 'No To' }, personalNote: 7 };
    const errors = await validationErrors(() =>
      h.jobs.create(
        h.key,
        { template: inline, recipients: rows, scheduledAt: 'soon' },
        {
          log: silentLog,
        },
      ),
    );
    expect(errors).toEqual(
      expect.arrayContaining([
        { path: 'scheduledAt', message: 'must be an ISO date-time' },
        { path: 'recipients[4].to', message: 'must be an email address' },
        { path: 'recipients[302].to', message: expect.any(String) },
        { path: 'recipients[302].personalNote', message: expect.any(String) },
      ]),
    );
    // With the job's own fields right, the merge fields of every row are checked too, the row
    // with a bad address included.
    const second = await validationErrors(() =>
      h.jobs.create(h.key, { template: inline, recipients: rows }, { log: silentLog }),
    );
    expect(second).toEqual([
      { path: 'recipients[4].to', message: 'must be an email address' },
      { path: 'recipients[302].to', message: expect.any(String) },
      { path: 'recipients[302].personalNote', message: expect.any(String) },
      { path: 'recipients[4].variables.name', message: 'is used by the template but missing' },
      { path: 'recipients[150].variables.name', message: 'is used by the template but missing' },
    ]);
    expect(send.calls()).toBe(0);
  });

  it('caps the problems reported at MAX_REPORTED_ERRORS', async () => {
    const h = await bulkHarness(storage, fakeSend().service);
    const rows = Array.from({ length: MAX_REPORTED_ERRORS + 50 }, () => ({ to: 'bad' }));
    const errors = await validationErrors(() =>
      h.jobs.create(h.key, { template: inline, recipients: rows }, { log: silentLog }),
    );
    expect(errors).toHaveLength(MAX_REPORTED_ERRORS);
  });

  it('refuses unknown or dead credentials before creating anything', async () => {
    const h = await bulkHarness(
      storage,
      fakeSend().service,
      {},
      {
        senderMailbox: () => Promise.reject(new ReauthRequiredError('c1')),
      },
    );
    await expect(h.jobs.create(h.key, request(2), { log: silentLog })).rejects.toBeInstanceOf(
      ReauthRequiredError,
    );
    expect((await h.queue.peekMessages()).peekedMessageItems).toHaveLength(0);
  });

  it('never sends twice when a worker dies after Graph accepted, or two workers get the same message', async () => {
    // Recipients 2 and 7: Graph accepts, then the worker crashes before recording the result.
    const send = fakeSend((m) =>
      m.to[0]!.address === 'user2@example.test' || m.to[0]!.address === 'user7@example.test'
        ? { afterAccept: new Error('worker killed') }
        : 'ok',
    );
    const h = await bulkHarness(storage, send.service);
    const { jobId } = await h.jobs.create(h.key, request(12), { log: silentLog });
    // Every message is handed to two workers at once, as a redelivery race would.
    const stats = await drain(h, () => finished(h, jobId), {
      deliver: async (m) => {
        const results = await Promise.allSettled([
          h.worker.handle(m, { log: silentLog }),
          h.worker.handle(m, { log: silentLog }),
        ]);
        const failed = results.find((r) => r.status === 'rejected');
        if (failed) throw failed.reason;
      },
    });
    expect(stats.failures).toBeGreaterThanOrEqual(2);
    expect(send.sent).toHaveLength(12);
    expect(new Set(send.sent.map((s) => s.key)).size).toBe(12);
    const view = await h.jobs.status(h.key, jobId, { top: 100 });
    expect(view.counts).toEqual({ queued: 0, sent: 12, failed: 0, skipped: 0 });
    expect(view.results.every((r) => r.status === 'sent')).toBe(true);
  });

  it('requeues throttled sends, records permanent failures with the reason', async () => {
    let throttles = 0;
    const send = fakeSend((m) => {
      if (m.to[0]!.address === 'user1@example.test' && throttles < 2) {
        throttles++;
        return new ThrottledError('Graph is throttling', 300);
      }
      if (m.to[0]!.address === 'user2@example.test') {
        return new UpstreamError('graph_error', 'Graph answered 400 ErrorInvalidRecipients', {
          upstreamStatus: 400,
        });
      }
      return 'ok';
    });
    const h = await bulkHarness(storage, send.service);
    const { jobId } = await h.jobs.create(h.key, request(4), { log: silentLog });
    await drain(h, () => finished(h, jobId));
    expect(throttles).toBe(2);
    const view = await h.jobs.status(h.key, jobId, { top: 10 });
    expect(view.counts).toEqual({ queued: 0, sent: 3, failed: 1, skipped: 0 });
    expect(view.status).toBe('completed');
    expect(view.results[2]).toEqual({
      index: 2,
      to: 'user2@example.test',
      status: 'failed',
      error: 'graph_error: Graph answered 400 ErrorInvalidRecipients',
    });
    expect(send.sent.filter((s) => s.to === 'user1@example.test')).toHaveLength(1);
  });

  it('pauses on reauth_required instead of failing every row, and resumes', async () => {
    let dead = true;
    const send = fakeSend(() => (dead ? new ReauthRequiredError('c1') : 'ok'));
    const h = await bulkHarness(storage, send.service);
    const { jobId } = await h.jobs.create(h.key, request(6), { log: silentLog });
    await drain(
      h,
      async () =>
        (await h.jobs.status(h.key, jobId, { top: 1 })).paused !== null &&
        (await h.queue.peekMessages()).peekedMessageItems.length === 0,
    );
    const paused = await h.jobs.status(h.key, jobId, { top: 10 });
    expect(paused).toMatchObject({
      status: 'queued',
      paused: { reason: expect.stringContaining('reauth_required') },
      eta: null,
    });
    expect(paused.counts).toEqual({ queued: 6, sent: 0, failed: 0, skipped: 0 });
    dead = false;
    await h.jobs.resume(h.key, jobId);
    await drain(h, () => finished(h, jobId));
    const done = await h.jobs.status(h.key, jobId, { top: 10 });
    expect(done).toMatchObject({ status: 'completed', paused: null });
    expect(done.counts.sent).toBe(6);
    expect(send.sent).toHaveLength(6);
  });

  it('poison messages end as failed recipients with the reason', async () => {
    const send = fakeSend((m) =>
      m.to[0]!.address === 'user1@example.test' ? new Error('storage exploded') : 'ok',
    );
    const h = await bulkHarness(storage, send.service);
    const { jobId } = await h.jobs.create(h.key, request(3), { log: silentLog });
    const stats = await drain(h, () => finished(h, jobId));
    expect(stats.poisoned).toBe(1);
    const view = await h.jobs.status(h.key, jobId, { top: 10 });
    expect(view.counts).toEqual({ queued: 0, sent: 2, failed: 1, skipped: 0 });
    expect(view.results[1]!.error).toMatch(
      /gave up after repeated worker failures; last error: internal: storage exploded/,
    );
    // Unreadable messages in the poison queue are dropped, not retried forever.
    await expect(
      h.worker.handlePoison({ nonsense: true }, { log: silentLog }),
    ).resolves.toBeUndefined();
    await expect(h.worker.handle({ nonsense: true }, { log: silentLog })).rejects.toThrow(
      /not a bulk-send message/,
    );
  });

  it('cancel stops the rest: not-yet-sent recipients end skipped; cancel is idempotent', async () => {
    const send = fakeSend();
    const h = await bulkHarness(storage, send.service, { ratePerMinute: 600 });
    const { jobId } = await h.jobs.create(h.key, request(40), { log: silentLog });
    let cancelled = false;
    await drain(h, async () => finished(h, jobId), {
      deliver: async (m) => {
        await h.worker.handle(m, { log: silentLog });
        if (!cancelled && send.sent.length >= 5) {
          cancelled = true;
          const view = await h.jobs.cancel(h.key, jobId);
          expect(view.status).toBe('cancelled');
        }
      },
    });
    const view = await h.jobs.status(h.key, jobId, { top: 100 });
    expect(view.status).toBe('cancelled');
    expect(view.counts.sent + view.counts.skipped).toBe(40);
    expect(view.counts.sent).toBe(send.sent.length);
    expect(view.counts.sent).toBeLessThan(15);
    expect(view.results.filter((r) => r.status === 'skipped')).toHaveLength(view.counts.skipped);
    expect((await h.jobs.cancel(h.key, jobId)).counts).toEqual(view.counts);
  });

  it('keeps the rolling daily recipient budget, counting cc (window shrunk to 3 s)', async () => {
    const send = fakeSend();
    const h = await bulkHarness(storage, send.service, {
      ratePerMinute: 60_000,
      dailyRecipientLimit: 4,
      dailyWindowMs: 3000,
    });
    const req = request(5);
    req.recipients[0]!.cc = ['cc@example.test'];
    const { jobId } = await h.jobs.create(h.key, req, { log: silentLog });
    await drain(h, () => finished(h, jobId));
    const sends = send.sent
      .map((s) => ({ at: s.at, weight: 1 + s.cc.length }))
      .sort((a, b) => a.at - b.at);
    expect(sends).toHaveLength(5);
    // In any 3 s window at most 4 recipients; so the last messages waited for the window to move.
    for (const first of sends) {
      const inWindow = sends.filter((s) => s.at >= first.at && s.at < first.at + 3000);
      expect(inWindow.reduce((sum, s) => sum + s.weight, 0)).toBeLessThanOrEqual(4);
    }
    expect(sends[4]!.at - sends[0]!.at).toBeGreaterThanOrEqual(2900);
  });

  it('scheduledAt delays the start', async () => {
    const send = fakeSend();
    const h = await bulkHarness(storage, send.service);
    const at = Date.now() + 2500;
    const { jobId } = await h.jobs.create(
      h.key,
      request(2, { scheduledAt: new Date(at).toISOString() }),
      { log: silentLog },
    );
    expect((await h.jobs.status(h.key, jobId, { top: 1 })).scheduledAt).toBe(
      new Date(at).toISOString(),
    );
    await drain(h, () => finished(h, jobId));
    expect(Math.min(...send.sent.map((s) => s.at))).toBeGreaterThanOrEqual(at);
  });

  it('shared attachments are stored once and streamed into every message', async () => {
    const send = fakeSend();
    const h = await bulkHarness(storage, send.service);
    const bytes = Buffer.alloc(200_000, 7);
    const { jobId } = await h.jobs.create(
      h.key,
      request(3, {
        attachments: [
          {
            name: 'price list.pdf',
            contentType: 'application/pdf',
            contentBase64: bytes.toString('base64'),
          },
        ],
      }),
      { log: silentLog },
    );
    await drain(h, () => finished(h, jobId));
    expect(send.sent.map((s) => s.attachments[0]!.bytes.equals(bytes))).toEqual([true, true, true]);
  });

  it('snapshots the template: editing it later does not change a running job', async () => {
    const send = fakeSend();
    const h = await bulkHarness(storage, send.service);
    await h.templates.create('svc', {
      templateId: 'promo',
      name: 'Promo',
      subject: 'V1 {{name}}',
      body: 'b',
      contentType: 'text',
    });
    const { jobId } = await h.jobs.create(
      h.key,
      { templateId: 'promo', recipients: recipients(2) },
      { log: silentLog },
    );
    await h.templates.replace('svc', 'promo', {
      name: 'Promo',
      subject: 'V2 {{name}}',
      body: 'b',
      contentType: 'text',
    });
    await drain(h, () => finished(h, jobId));
    // The two sends run concurrently: their order is not the point.
    expect(send.sent.map((s) => s.subject).sort()).toEqual(['V1 User 0', 'V1 User 1']);
    expect((await h.jobs.status(h.key, jobId, { top: 1 })).templateVersion).toBe(1);
  });
});
