import { startAzurite } from '../src/local/azurite';
import { type RequestLogEntry, type SandboxLimits, startSandbox } from '../src/local/sandbox';
import { type BulkSettings } from '../src/mail/bulk/jobs';
import { startBenchInstance } from './app-instance';
import { type BenchResult } from './result';

/**
 * Bulk sends against the Graph sandbox and Azurite, through the local host's queue poller, with
 * Exchange's limits compressed 40× (1,200 messages per minute instead of 30, the sandbox's send
 * window sized to match):
 * - 1,000 recipients, text only, about 50 s. Baseline: the allowed pace itself; the goal is
 *   ≥ 90 % of it with no duplicates and no losses.
 * - 24 recipients with 4.9 MB of shared attachments each, Graph's upload limit shrunk from
 *   150 MB per 5 minutes to 10 MiB per 3 s in both the sandbox and the app. Baseline: the allowed
 *   upload rate; the goal is no upload 429 at most of that rate.
 */

const RATE_PER_MINUTE = 1200;
const UPLOAD_LIMIT = 10 * 1024 * 1024;
const UPLOAD_WINDOW_MS = 3000;

interface JobView {
  status: string;
  counts: { queued: number; sent: number; failed: number; skipped: number };
}

interface Scenario {
  tag: string;
  recipients: number;
  body: Record<string, unknown>;
  sandboxLimits: Partial<SandboxLimits>;
  bulk?: Partial<BulkSettings>;
}

interface Run {
  job: JobView;
  elapsedMs: number;
  acceptMs: number;
  statusMs: number;
  peakOutbox: number;
  duplicates: number;
  lost: number;
  log: RequestLogEntry[];
}

/** One job from accept to the last recipient, on a fresh sandbox, Azurite and app. */
async function runJob(scenario: Scenario): Promise<Run> {
  const sandbox = await startSandbox({
    limits: {
      messagesPerSendWindow: RATE_PER_MINUTE,
      sendWindowMs: 60_000,
      ...scenario.sandboxLimits,
    },
  });
  const azurite = await startAzurite();
  try {
    const instance = await startBenchInstance(sandbox, {
      storage: azurite.connectionString,
      env: { SEND_RATE_PER_MINUTE: String(RATE_PER_MINUTE) },
      ...(scenario.bulk ? { app: { bulk: scenario.bulk } } : {}),
    });
    const upn = sandbox.users[0]!.userPrincipalName;
    try {
      const { api } = instance;
      const recipients = Array.from({ length: scenario.recipients }, (_, i) => ({
        to: `${scenario.tag}${i}@example.test`,
        variables: { first: `Person ${i}` },
        ...(i % 2 ? { personalNote: `Thanks for order #${i}` } : {}),
      }));
      const createdAt = performance.now();
      const accepted = await api('credentials/c1/bulk-sends', {
        method: 'POST',
        body: JSON.stringify({ ...scenario.body, recipients }),
      });
      const acceptMs = performance.now() - createdAt;
      if (accepted.status !== 202) throw new Error(`bulk send refused: ${await accepted.text()}`);
      const { jobId } = (await accepted.json()) as { jobId: string };

      let job: JobView;
      let peakOutbox = 0;
      let statusMs = 0;
      let polls = 0;
      for (;;) {
        const t = performance.now();
        job = (await (await api(`credentials/c1/bulk-sends/${jobId}?top=100`)).json()) as JobView;
        statusMs += performance.now() - t;
        polls++;
        peakOutbox = Math.max(peakOutbox, sandbox.control.outbox(upn).length);
        if (job.counts.queued === 0) break;
        if (performance.now() - createdAt > 300_000) throw new Error('bulk bench timed out');
        await new Promise((r) => setTimeout(r, 250));
      }
      const elapsedMs = performance.now() - createdAt;

      const perRecipient = new Map<string, number>();
      for (const m of [...sandbox.control.sentItems(upn), ...sandbox.control.outbox(upn)]) {
        if (!String(m.subject).startsWith(`[${scenario.tag}]`)) continue; // not the seeded mail
        for (const r of m.toRecipients as Array<{ emailAddress: { address: string } }>) {
          perRecipient.set(
            r.emailAddress.address,
            (perRecipient.get(r.emailAddress.address) ?? 0) + 1,
          );
        }
      }
      return {
        job,
        elapsedMs,
        acceptMs,
        statusMs: statusMs / polls,
        peakOutbox,
        duplicates: [...perRecipient.values()].reduce((sum, n) => sum + Math.max(0, n - 1), 0),
        lost: scenario.recipients - perRecipient.size - job.counts.failed,
        log: sandbox.control.requestLog(),
      };
    } finally {
      await instance.close();
    }
  } finally {
    await sandbox.close();
    await azurite.stop();
  }
}

const attachment = (name: string, bytes: number) => ({
  name,
  contentType: 'application/octet-stream',
  contentBase64: Buffer.alloc(bytes, 1).toString('base64'),
});

export async function benchBulk(): Promise<BenchResult[]> {
  const RECIPIENTS = 1000;
  const pace = await runJob({
    tag: 'bench',
    recipients: RECIPIENTS,
    body: {
      template: {
        subject: '[bench] Hello {{first}}',
        body: '<p>Dear {{first}},</p>{{#personalNote}}<p>{{.}}</p>{{/personalNote}}',
        contentType: 'html',
      },
    },
    sandboxLimits: {},
  });
  const UPLOAD_RECIPIENTS = 24;
  const uploads = await runJob({
    tag: 'upload',
    recipients: UPLOAD_RECIPIENTS,
    body: {
      template: { subject: '[upload] Files for {{first}}', body: 'Dear {{first}}, see attached.' },
      // One file inline as base64, one through an upload session.
      attachments: [attachment('prices.pdf', 1_200_000), attachment('catalogue.pdf', 3_300_000)],
    },
    sandboxLimits: { uploadBytesPerWindow: UPLOAD_LIMIT, uploadWindowMs: UPLOAD_WINDOW_MS },
    bulk: { uploadBytesPerWindow: UPLOAD_LIMIT, uploadWindowMs: UPLOAD_WINDOW_MS },
  });
  const uploaded = uploads.log
    .filter((e) => ['POST', 'PUT', 'PATCH'].includes(e.method) && !e.path.includes('oauth2'))
    .reduce((sum, e) => sum + e.bodyBytes, 0);
  const MB = 1_000_000;
  return [
    {
      name: `bulk: achieved send rate, ${RECIPIENTS} recipients (goal ≥ 90 % of the pace)`,
      value: pace.job.counts.sent / (pace.elapsedMs / 60_000),
      unit: 'msg/min',
      baseline: RATE_PER_MINUTE,
      baselineName: 'allowed pace',
    },
    { name: 'bulk: duplicate deliveries', value: pace.duplicates, unit: 'messages' },
    {
      name: 'bulk: lost recipients (neither delivered nor failed)',
      value: pace.lost,
      unit: 'recipients',
    },
    { name: 'bulk: failed recipients', value: pace.job.counts.failed, unit: 'recipients' },
    {
      name: 'bulk: peak messages held in the Outbox (over the limit)',
      value: pace.peakOutbox,
      unit: 'messages',
    },
    {
      name: `bulk: validate + store + enqueue ${RECIPIENTS} recipients`,
      value: pace.acceptMs,
      unit: 'ms',
    },
    { name: 'bulk: status GET (counts + 100 results) mean', value: pace.statusMs, unit: 'ms' },
    {
      name: `bulk uploads: achieved upload rate, ${UPLOAD_RECIPIENTS} × 4.9 MB (goal: near, never over, the limit)`,
      value: uploaded / MB / (uploads.elapsedMs / 1000),
      unit: 'MB/s',
      baseline: UPLOAD_LIMIT / MB / (UPLOAD_WINDOW_MS / 1000),
      baselineName: 'allowed upload rate',
    },
    {
      name: 'bulk uploads: Graph 429 answers',
      value: uploads.log.filter((e) => e.status === 429).length,
      unit: 'responses',
    },
    { name: 'bulk uploads: duplicate deliveries', value: uploads.duplicates, unit: 'messages' },
    { name: 'bulk uploads: lost recipients', value: uploads.lost, unit: 'recipients' },
    {
      name: 'bulk uploads: failed recipients',
      value: uploads.job.counts.failed,
      unit: 'recipients',
    },
  ];
}

if (require.main === module) {
  void benchBulk().then((results) => {
    for (const r of results) console.log(r);
  });
}
