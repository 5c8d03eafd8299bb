import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

import { createApp } from '../../src/app';
import { hashApiKey } from '../../src/config';
import { type AzuriteInstance } from '../../src/local/azurite';
import { testStorage } from '../support/storage';
import { type LocalHost, startLocalHost } from '../../src/local/host';
import { uploadBytes } from '../../src/mail/bulk/message';
import { hostRegistrations } from '../../src/registration';
import { startTestStack, type TestStack } from '../support/stack';

/**
 * Graph's upload limit (150 MB per 5 minutes per app and mailbox), shrunk to 10 MiB per 3 s in
 * both the sandbox and the app: bulk messages with shared attachments (one sent inline as base64,
 * one through an upload session) must never make the sandbox throttle, and the bytes it received
 * in any window stay within the limit.
 */

const RATE = 1200;
const UPLOAD_LIMIT = 10 * 1024 * 1024;
const UPLOAD_WINDOW_MS = 3000;
const RECIPIENTS = 8;

let stack: TestStack;
let azurite: AzuriteInstance;
let host: LocalHost;
let sender: string;

beforeAll(async () => {
  // The stack provides the sandbox and the credential; the app under test gets the storage and
  // the shrunk upload budget, so only its host works the bulk queue.
  stack = await startTestStack({
    storage: false,
    sandbox: {
      limits: {
        messagesPerSendWindow: RATE,
        sendWindowMs: 60_000,
        uploadBytesPerWindow: UPLOAD_LIMIT,
        uploadWindowMs: UPLOAD_WINDOW_MS,
      },
    },
  });
  sender = stack.sandbox.users[0]!.userPrincipalName;
  await stack.connect('c1');
  azurite = await testStorage();
  const config = stack.app.config;
  const app = createApp({
    env: {
      GRAPH_BASE_URL: config.graphBaseUrl,
      AUTHORITY_HOST: config.authorityHost,
      TENANT_ID: config.tenantId,
      CLIENT_ID: config.clientId!,
      CLIENT_SECRET: config.clientSecret!,
      LOCAL_DATA_DIR: config.localDataDir,
      API_KEYS: `svc=${hashApiKey(stack.apiKeys.svc!)}`,
      AzureWebJobsStorage: azurite.connectionString,
      SEND_RATE_PER_MINUTE: String(RATE),
    },
    localBaseUrl: 'http://127.0.0.1:7071',
    bulk: { uploadBytesPerWindow: UPLOAD_LIMIT, uploadWindowMs: UPLOAD_WINDOW_MS },
  });
  host = await startLocalHost({
    registrations: hostRegistrations(app),
    storage: app.services.storage,
    log: () => undefined,
  });
});
afterAll(async () => {
  await host?.close();
  await azurite?.stop();
  await stack?.close();
});

async function call(method: string, path: string, body?: unknown) {
  const response = await fetch(`${host.url}/api/${path}`, {
    method,
    headers: { 'x-api-key': stack.apiKeys.svc!, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

const SUBJECT = '[upload] {{first}}';
const BODY = 'Hi {{first}}, the files are attached.';
const FILES = [
  { name: 'prices.pdf', size: 1_200_000 }, // inline, as base64
  { name: 'catalogue.pdf', size: 3_300_000 }, // through an upload session
];

const file = (name: string, bytes: number) => ({
  name,
  contentType: 'application/octet-stream',
  contentBase64: Buffer.alloc(bytes, name.length).toString('base64'),
});

describe('bulk sends within Graph upload limit', () => {
  it('paces by request bytes: no upload 429, no window over the limit, every recipient once', async () => {
    const started = Date.now();
    const accepted = await call('POST', 'credentials/c1/bulk-sends', {
      template: { subject: SUBJECT, body: BODY },
      recipients: Array.from({ length: RECIPIENTS }, (_, i) => ({
        to: `upload${i}@example.test`,
        variables: { first: `Reader ${i}` },
      })),
      attachments: FILES.map((f) => file(f.name, f.size)),
    });
    expect(accepted.status).toBe(202);
    const path = `credentials/c1/bulk-sends/${accepted.body.jobId as string}?top=100`;
    type Job = { counts: Record<string, number>; results: Array<{ status: string }> };
    const job = await vi.waitFor(
      async () => {
        const current = (await call('GET', path)).body as Job;
        if (current.counts.queued !== 0) throw new Error(`still ${JSON.stringify(current.counts)}`);
        return current;
      },
      { timeout: 60_000, interval: 200 },
    );
    expect(job.counts).toEqual({ queued: 0, sent: RECIPIENTS, failed: 0, skipped: 0 });

    const delivered = new Map<string, number>();
    for (const m of [
      ...stack.sandbox.control.sentItems(sender),
      ...stack.sandbox.control.outbox(sender),
    ]) {
      if (!String(m.subject).startsWith('[upload]')) continue;
      for (const r of m.toRecipients as Array<{ emailAddress: { address: string } }>) {
        delivered.set(r.emailAddress.address, (delivered.get(r.emailAddress.address) ?? 0) + 1);
      }
    }
    expect(delivered.size).toBe(RECIPIENTS);
    expect([...delivered.values()].every((n) => n === 1)).toBe(true);

    const log = stack.sandbox.control.requestLog();
    expect(log.filter((e) => e.status === 429)).toEqual([]);
    const uploads = log
      .filter((e) => ['POST', 'PUT', 'PATCH'].includes(e.method) && !e.path.includes('oauth2'))
      .map((e) => ({ at: Date.parse(e.at), bytes: e.bodyBytes }));
    const total = uploads.reduce((sum, u) => sum + u.bytes, 0);
    expect(total).toBeGreaterThan(3 * UPLOAD_LIMIT); // the budget really was the bottleneck
    // The pacer's estimate per message errs high, but not by much (it costs throughput).
    const estimate = uploadBytes({
      to: [{ address: 'upload0@example.test' }],
      cc: [],
      bcc: [],
      replyTo: [],
      subject: SUBJECT.replace('{{first}}', 'Reader 0'),
      body: BODY.replace('{{first}}', 'Reader 0'),
      contentType: 'text',
      importance: 'normal',
      saveToSentItems: true,
      headers: {},
      attachments: FILES.map((f) => ({
        ...f,
        contentType: 'application/octet-stream',
        open: () => {
          throw new Error('sizes only');
        },
      })),
    });
    expect(total / RECIPIENTS).toBeLessThanOrEqual(estimate);
    expect(total / RECIPIENTS).toBeGreaterThan(0.99 * estimate);
    let busiest = 0;
    for (const first of uploads) {
      const inWindow = uploads.filter(
        (u) => u.at >= first.at && u.at < first.at + UPLOAD_WINDOW_MS,
      );
      busiest = Math.max(
        busiest,
        inWindow.reduce((sum, u) => sum + u.bytes, 0),
      );
    }
    expect(busiest).toBeLessThanOrEqual(UPLOAD_LIMIT);
    console.log(
      `upload pacing: ${(total / 1e6).toFixed(1)} MB in ${Date.now() - started} ms, busiest ${UPLOAD_WINDOW_MS} ms window ${(busiest / 1e6).toFixed(2)} MB (limit ${(UPLOAD_LIMIT / 1e6).toFixed(2)} MB), per message ${total / RECIPIENTS} B sent vs ${estimate} B estimated`,
    );
  }, 90_000);
});
