import { describe, expect, it, vi } from 'vitest';

import { createApp } from '../../src/app';
import { startLocalHost } from '../../src/local/host';
import { hostRegistrations } from '../../src/registration';
import { sentCopies } from '../support/sent-items';
import { startTestStack } from '../support/stack';
import { useStack } from '../support/use-stack';

/**
 * Bulk sends end to end: the local host polls the Azurite queue like the Functions host, the
 * real send service talks to the Graph sandbox over HTTP, and the sandbox's Sent Items and Outbox
 * are the ground truth for "exactly once".
 */

const RATE = 1200; // messages per minute: Exchange's 30/min compressed 40×

let sender: string;

const stack = useStack(
  () =>
    startTestStack({
      env: { SEND_RATE_PER_MINUTE: String(RATE) },
      sandbox: { limits: { messagesPerSendWindow: RATE, sendWindowMs: 60_000 } },
    }),
  async () => {
    sender = stack.sandbox.users[0]!.userPrincipalName;
    await stack.connect('c1');
  },
);

type Json = Record<string, unknown>;

async function call(method: string, path: string, body?: unknown, serviceId?: string) {
  const response = await stack.api(`/api/${path}`, {
    method,
    ...(serviceId ? { serviceId } : {}),
    ...(body === undefined
      ? {}
      : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
  });
  return { status: response.status, body: (await response.json()) as Json };
}

interface Job {
  status: string;
  counts: { queued: number; sent: number; failed: number; skipped: number };
  results: Array<{ index: number; to: string; status: string; messageId?: string; error?: string }>;
  nextCursor: string | null;
  percent: number;
  eta: string | null;
}

async function waitFor(
  jobId: string,
  done: (job: Job) => boolean,
  timeoutMs = 60_000,
): Promise<Job> {
  return vi.waitFor(
    async () => {
      const { body } = await call('GET', `credentials/c1/bulk-sends/${jobId}?top=1000`);
      const job = body as unknown as Job;
      if (!done(job)) throw new Error(`job ${jobId} still ${JSON.stringify(job.counts)}`);
      return job;
    },
    { timeout: timeoutMs, interval: 250 },
  );
}

/** Every message the sender's mailbox sent or is about to send, per recipient address. */
function deliveredTo(subjectPrefix: string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const m of [
    ...stack.sandbox.control.sentItems(sender),
    ...stack.sandbox.control.outbox(sender),
  ]) {
    if (!String(m.subject).startsWith(subjectPrefix)) continue;
    for (const r of m.toRecipients as Array<{ emailAddress: { address: string } }>) {
      counts.set(r.emailAddress.address, (counts.get(r.emailAddress.address) ?? 0) + 1);
    }
  }
  return counts;
}

const people = (n: number, tag: string) =>
  Array.from({ length: n }, (_, i) => ({
    to: `${tag}${i}@example.test`,
    variables: { first: `Ann <${i}>`, tag },
    ...(i % 3 === 0 ? { personalNote: `Great talking to you, #${i} & co` } : {}),
  }));

describe('bulk sends', () => {
  it('template → 202 job → every recipient sent once, personalised, with status and paged results', async () => {
    const created = await call('POST', 'templates', {
      templateId: 'crm',
      name: 'CRM',
      subject: '[{{tag}}] Hello {{first}}',
      body: '<p>Dear {{first}},</p>{{#personalNote}}<p>{{.}}</p>{{/personalNote}}<p>Regards</p>',
      contentType: 'html',
    });
    expect(created.status).toBe(201);
    const accepted = await call('POST', 'credentials/c1/bulk-sends', {
      templateId: 'crm',
      recipients: people(30, 'happy'),
    });
    expect(accepted.status).toBe(202);
    const jobId = accepted.body.jobId as string;
    expect(accepted.body.statusUrl).toBe(
      `http://127.0.0.1:7071/api/credentials/c1/bulk-sends/${jobId}`,
    );

    const job = await waitFor(jobId, (j) => j.counts.queued === 0);
    expect(job.status).toBe('completed');
    expect(job.counts).toEqual({ queued: 0, sent: 30, failed: 0, skipped: 0 });
    expect(job.percent).toBe(100);
    expect(job.results.map((r) => r.status)).toEqual(Array(30).fill('sent'));

    const delivered = deliveredTo('[happy]');
    expect(delivered.size).toBe(30);
    expect([...delivered.values()].every((n) => n === 1)).toBe(true);
    const [third] = await sentCopies(stack.sandbox, sender, '[happy] Hello Ann <3>');
    expect((third!.body as { content: string }).content).toContain(
      '<p>Dear Ann &lt;3&gt;,</p><p>Great talking to you, #3 &amp; co</p>',
    );

    // Results page with an opaque cursor bound to the job.
    const first = await call('GET', `credentials/c1/bulk-sends/${jobId}?top=20`);
    const page1 = first.body as unknown as Job;
    expect(page1.results).toHaveLength(20);
    const second = await call(
      'GET',
      `credentials/c1/bulk-sends/${jobId}?top=20&cursor=${page1.nextCursor}`,
    );
    expect((second.body as unknown as Job).results.map((r) => r.index)).toEqual(
      [...Array(10).keys()].map((i) => i + 20),
    );
    expect((second.body as unknown as Job).nextCursor).toBeNull();
    const badCursor = await call('GET', `credentials/c1/bulk-sends/${jobId}?cursor=abc`);
    expect(badCursor).toMatchObject({ status: 400, body: { code: 'invalid_cursor' } });
    expect((await call('GET', `credentials/c1/bulk-sends/${jobId}?top=0`)).status).toBe(400);
    expect((await call('GET', `credentials/c1/bulk-sends/${jobId}?foo=1`)).status).toBe(400);

    // Other services and other credentials see nothing.
    expect(
      (await call('GET', `credentials/c1/bulk-sends/${jobId}`, undefined, 'other')).status,
    ).toBe(404);
    expect((await call('GET', `credentials/c2/bulk-sends/${jobId}`)).status).toBe(404);
    expect(
      (await call('POST', `credentials/c1/bulk-sends/${jobId}/cancel`, undefined, 'other')).status,
    ).toBe(404);
    // Cancelling a finished job changes nothing.
    expect((await call('POST', `credentials/c1/bulk-sends/${jobId}/cancel`)).body).toMatchObject({
      status: 'completed',
    });
  });

  it('a list with bad rows is refused with every row named, and nothing is sent', async () => {
    // Sent Items and the Outbox together: copies of earlier sends may still be on their way.
    const sentOrLeaving = () =>
      stack.sandbox.control.sentItems(sender).length + stack.sandbox.control.outbox(sender).length;
    const before = sentOrLeaving();
    const recipients = people(5, 'bad');
    recipients[1]!.to = 'nope';
    const shape = await call('POST', 'credentials/c1/bulk-sends', {
      template: { subject: 'x {{first}}', body: 'b' },
      recipients,
    });
    expect(shape.status).toBe(400);
    expect(shape.body.errors).toEqual([
      { path: 'recipients[1].to', message: 'must be an email address' },
    ]);
    recipients[1]!.to = 'bad0@example.test';
    recipients[2]!.variables = { tag: 'x' } as never;
    const rows = await call('POST', 'credentials/c1/bulk-sends', {
      template: { subject: 'x {{first}}', body: '{{missing}}' },
      recipients,
    });
    expect(rows.status).toBe(400);
    expect(rows.body.code).toBe('validation_failed');
    const errors = rows.body.errors as Array<{ path: string }>;
    expect(errors.map((e) => e.path)).toEqual([
      'recipients[0].variables.missing',
      'recipients[1].to',
      'recipients[1].variables.missing',
      'recipients[2].variables.first',
      'recipients[2].variables.missing',
      'recipients[3].variables.missing',
      'recipients[4].variables.missing',
    ]);
    expect(
      (
        await call('POST', 'credentials/c1/bulk-sends', {
          templateId: 'gone',
          recipients: people(1, 'x'),
        })
      ).body.errors,
    ).toEqual([{ path: 'templateId', message: 'is not a template of this service' }]);
    expect(
      (
        await call('POST', 'credentials/nobody/bulk-sends', {
          template: { subject: 's', body: 'b' },
          recipients: people(1, 'x'),
        })
      ).status,
    ).toBe(404);
    expect(
      (
        await call('POST', 'credentials/bad%20id/bulk-sends', {
          template: { subject: 's', body: 'b' },
          recipients: people(1, 'x'),
        })
      ).status,
    ).toBe(400);
    expect((await call('GET', 'credentials/c1/bulk-sends/unknown-job')).status).toBe(404);
    expect(sentOrLeaving()).toBe(before);
  });

  it('Graph faults and a second instance on the same queue: still exactly once', async () => {
    // Graph accepts and then answers 504 (the answer is lost), throttles, and a second app
    // instance polls the same queue and shares the pacing records.
    stack.sandbox.control.injectFault({
      method: 'POST',
      path: '/v1.0/*send*',
      afterAccept: true,
      count: 3,
    });
    stack.sandbox.control.injectFault({
      method: 'POST',
      path: '/v1.0/*send*',
      status: 429,
      retryAfterSeconds: 1,
      count: 3,
    });
    const second = createApp({
      env: { ...process.env, ...appEnv() },
      localBaseUrl: 'http://127.0.0.1:7071',
    });
    const host2 = await startLocalHost({
      registrations: hostRegistrations(second),
      storage: second.services.storage,
      log: () => undefined,
    });
    try {
      const accepted = await call('POST', 'credentials/c1/bulk-sends', {
        template: { subject: '[fault] {{first}}', body: 'Hi {{first}}' },
        recipients: people(24, 'fault'),
      });
      expect(accepted.status).toBe(202);
      const job = await waitFor(
        accepted.body.jobId as string,
        (j) => j.counts.queued === 0,
        90_000,
      );
      expect(job.counts.sent + job.counts.failed).toBe(24);
      const delivered = deliveredTo('[fault]');
      // Sent rows were delivered exactly once; failed rows carry a reason.
      for (const r of job.results) {
        if (r.status === 'sent') expect(delivered.get(r.to)).toBe(1);
        else expect(r.error).toBeTruthy();
      }
      expect([...delivered.values()].every((n) => n === 1)).toBe(true);
      expect(job.counts.sent).toBeGreaterThanOrEqual(21);
      // The faults really happened.
      const statuses = stack.sandbox.control.requestLog().map((e) => e.status);
      expect(statuses.filter((s) => s === 504)).toHaveLength(3);
      expect(statuses.filter((s) => s === 429).length).toBeGreaterThanOrEqual(3);
    } finally {
      stack.sandbox.control.clearFaults();
      await host2.close();
    }
  });

  it('cancel stops the rest: not-yet-sent recipients end skipped', async () => {
    const accepted = await call('POST', 'credentials/c1/bulk-sends', {
      template: { subject: '[cancel] {{first}}', body: 'b' },
      recipients: people(40, 'cancel'),
      scheduledAt: new Date(Date.now() + 1500).toISOString(),
    });
    const jobId = accepted.body.jobId as string;
    const queued = (await call('GET', `credentials/c1/bulk-sends/${jobId}`)).body as unknown as Job;
    expect(queued.status).toBe('queued');
    await waitFor(jobId, (j) => j.counts.sent >= 3);
    const cancelled = await call('POST', `credentials/c1/bulk-sends/${jobId}/cancel`);
    expect(cancelled.body.status).toBe('cancelled');
    const job = await waitFor(jobId, (j) => j.counts.queued === 0);
    expect(job.status).toBe('cancelled');
    expect(job.counts.sent + job.counts.skipped).toBe(40);
    expect(job.counts.skipped).toBeGreaterThan(10);
    expect(deliveredTo('[cancel]').size).toBe(job.counts.sent);
    expect((await call('POST', `credentials/c1/bulk-sends/${jobId}/cancel`)).body.counts).toEqual(
      job.counts,
    );
  });
});

function appEnv(): Record<string, string> {
  const config = stack.app.config;
  return {
    GRAPH_BASE_URL: config.graphBaseUrl,
    AUTHORITY_HOST: config.authorityHost,
    TENANT_ID: config.tenantId,
    CLIENT_ID: config.clientId!,
    CLIENT_SECRET: config.clientSecret!,
    LOCAL_DATA_DIR: config.localDataDir,
    AzureWebJobsStorage: stack.azurite!.connectionString,
    SEND_RATE_PER_MINUTE: String(RATE),
  };
}
