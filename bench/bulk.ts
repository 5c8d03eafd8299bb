import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { createApp } from '../src/app';
import { hashApiKey } from '../src/config';
import { createLogger } from '../src/http/logger';
import { startAzurite } from '../src/local/azurite';
import { startLocalHost } from '../src/local/host';
import { startSandbox } from '../src/local/sandbox';
import { hostRegistrations } from '../src/registration';
import { type BenchResult } from './result';

/**
 * A 1,000-recipient bulk send against the Graph sandbox and Azurite, through the local host's
 * queue poller, with Exchange's limits compressed 40× (1,200 messages per minute instead of 30,
 * the sandbox's send window sized to match) so the run takes about 50 s. Baseline: the allowed
 * pace itself; the goal is ≥ 90 % of it with no duplicates and no losses.
 */

const RECIPIENTS = 1000;
const RATE_PER_MINUTE = 1200;
const SCOPES = ['offline_access', 'User.Read', 'Mail.ReadWrite', 'Mail.Send'];

interface JobView {
  status: string;
  counts: { queued: number; sent: number; failed: number; skipped: number };
}

export async function benchBulk(): Promise<BenchResult[]> {
  const sandbox = await startSandbox({
    limits: { messagesPerSendWindow: RATE_PER_MINUTE, sendWindowMs: 60_000 },
  });
  const azurite = await startAzurite();
  const dir = await mkdtemp(path.join(tmpdir(), 'omf-bench-bulk-'));
  const apiKey = 'bench-bulk-key';
  const upn = sandbox.users[0]!.userPrincipalName;
  try {
    const app = createApp({
      env: {
        GRAPH_BASE_URL: sandbox.url,
        AUTHORITY_HOST: sandbox.url,
        TENANT_ID: sandbox.tenantId,
        CLIENT_ID: sandbox.clientId,
        CLIENT_SECRET: sandbox.clientSecret,
        API_KEYS: `bench=${hashApiKey(apiKey)}`,
        LOCAL_DATA_DIR: dir,
        AzureWebJobsStorage: azurite.connectionString,
        SEND_RATE_PER_MINUTE: String(RATE_PER_MINUTE),
      },
      localBaseUrl: 'http://127.0.0.1:7071',
      log: createLogger(() => undefined),
    });
    const tokens = await sandbox.control.issueTokens(upn, { scopes: SCOPES });
    await app.services.credentials.importRecord(
      { serviceId: 'bench', credentialId: 'c1' },
      { refreshToken: tokens.refresh_token!, scopes: SCOPES },
    );
    const host = await startLocalHost({
      registrations: hostRegistrations(app),
      storage: app.services.storage,
      log: () => undefined,
    });
    try {
      const api = (p: string, init: RequestInit = {}) =>
        fetch(`${host.url}/api/${p}`, {
          ...init,
          headers: { 'x-api-key': apiKey, 'content-type': 'application/json' },
        });
      const recipients = Array.from({ length: RECIPIENTS }, (_, i) => ({
        to: `bench${i}@example.test`,
        variables: { first: `Person ${i}` },
        ...(i % 2 ? { personalNote: `Thanks for order #${i}` } : {}),
      }));
      const createdAt = performance.now();
      const accepted = await api('credentials/c1/bulk-sends', {
        method: 'POST',
        body: JSON.stringify({
          template: {
            subject: '[bench] Hello {{first}}',
            body: '<p>Dear {{first}},</p>{{#personalNote}}<p>{{.}}</p>{{/personalNote}}',
            contentType: 'html',
          },
          recipients,
        }),
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
      const elapsedMin = (performance.now() - createdAt) / 60_000;

      const perRecipient = new Map<string, number>();
      for (const m of [...sandbox.control.sentItems(upn), ...sandbox.control.outbox(upn)]) {
        if (!String(m.subject).startsWith('[bench]')) continue;
        for (const r of m.toRecipients as Array<{ emailAddress: { address: string } }>) {
          perRecipient.set(
            r.emailAddress.address,
            (perRecipient.get(r.emailAddress.address) ?? 0) + 1,
          );
        }
      }
      const duplicates = [...perRecipient.values()].reduce((sum, n) => sum + Math.max(0, n - 1), 0);
      const lost = RECIPIENTS - perRecipient.size - job.counts.failed;
      return [
        {
          name: `bulk: achieved send rate, ${RECIPIENTS} recipients (goal ≥ 90 % of the pace)`,
          value: job.counts.sent / elapsedMin,
          unit: 'msg/min',
          baseline: RATE_PER_MINUTE,
          baselineName: 'allowed pace',
        },
        { name: 'bulk: duplicate deliveries', value: duplicates, unit: 'messages' },
        {
          name: 'bulk: lost recipients (neither delivered nor failed)',
          value: lost,
          unit: 'recipients',
        },
        { name: 'bulk: failed recipients', value: job.counts.failed, unit: 'recipients' },
        {
          name: 'bulk: peak messages held in the Outbox (over the limit)',
          value: peakOutbox,
          unit: 'messages',
        },
        {
          name: `bulk: validate + store + enqueue ${RECIPIENTS} recipients`,
          value: acceptMs,
          unit: 'ms',
        },
        {
          name: 'bulk: status GET (counts + 100 results) mean',
          value: statusMs / polls,
          unit: 'ms',
        },
      ];
    } finally {
      await host.close();
    }
  } finally {
    await sandbox.close();
    await azurite.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

if (require.main === module) {
  void benchBulk().then((results) => {
    for (const r of results) console.log(r);
  });
}
