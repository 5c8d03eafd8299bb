import { Webhook } from 'standardwebhooks';

import { DEFAULT_SCOPES } from '../src/config';
import { startAzurite } from '../src/local/azurite';
import { type Sandbox, startSandbox } from '../src/local/sandbox';
import { startServer } from '../test/support/http';
import { freePort } from '../test/support/ports';
import { startBenchInstance } from './app-instance';
import { type BenchResult, median } from './result';

/**
 * New-mail triggers against the Graph sandbox and Azurite, through the local host's queue pollers,
 * every delivery verified with the `standardwebhooks` library:
 * - Latency from a message landing in the mailbox to the signed event at a local receiver, p50 and
 *   p95 over 40 messages one at a time. Baseline: the same messages' raw Graph notification
 *   reaching a bare receiver (what the product cannot beat).
 * - 1,000 messages in 20 bursts of 50 (one burst a second) while the sandbox drops 20 % of the
 *   notifications and duplicates 10 %, and the receiver answers 500 for its first 30 s. Time is
 *   compressed: webhook retries start at 250 ms (not 30 s) and the maintenance timer (every
 *   30 minutes in Azure) runs every 5 s. Counts: distinct message.created delivered, lost, extra
 *   deliveries (all with their change's webhook-id), Graph requests per event (baseline: one
 *   request per message, what reading each new message once would cost).
 */

const UPN = 'adele@contoso.test';

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

interface Receiver {
  url: string;
  /** webhook-id → times received; message id → webhook-ids; arrival time per message id. */
  byWebhookId: Map<string, number>;
  idsByMessage: Map<string, Set<string>>;
  arrivedAt: Map<string, number>;
  state: { status: number; secret: string };
  rejected: number;
  close(): Promise<void>;
}

async function startReceiver(): Promise<Receiver> {
  const receiver = {
    byWebhookId: new Map<string, number>(),
    idsByMessage: new Map<string, Set<string>>(),
    arrivedAt: new Map<string, number>(),
    state: { status: 200, secret: '' },
    rejected: 0,
  };
  const server = await startServer((req, res, body) => {
    if (receiver.state.status !== 200) return void res.writeHead(receiver.state.status).end();
    const header = (name: string) => String(req.headers[name] ?? '');
    let event: { type: string; data: { id?: string } };
    try {
      event = new Webhook(receiver.state.secret).verify(body.toString('utf8'), {
        'webhook-id': header('webhook-id'),
        'webhook-timestamp': header('webhook-timestamp'),
        'webhook-signature': header('webhook-signature'),
      }) as typeof event;
    } catch {
      receiver.rejected++;
      return void res.writeHead(401).end();
    }
    const id = header('webhook-id');
    receiver.byWebhookId.set(id, (receiver.byWebhookId.get(id) ?? 0) + 1);
    if (event.type === 'message.created' && event.data.id) {
      const ids = receiver.idsByMessage.get(event.data.id) ?? new Set<string>();
      ids.add(id);
      receiver.idsByMessage.set(event.data.id, ids);
      if (!receiver.arrivedAt.has(event.data.id))
        receiver.arrivedAt.set(event.data.id, performance.now());
    }
    res.writeHead(200).end();
  });
  return Object.assign(receiver, server);
}

async function withProduct<T>(
  run: (ctx: {
    sandbox: Sandbox;
    receiver: Receiver;
    api: (p: string, init?: RequestInit) => Promise<Response>;
    hostUrl: string;
  }) => Promise<T>,
): Promise<T> {
  const sandbox = await startSandbox({
    messagesPerUser: 100,
    limits: { notificationRetryMs: 200 },
  });
  const azurite = await startAzurite();
  const receiver = await startReceiver();
  const port = await freePort();
  try {
    const instance = await startBenchInstance(sandbox, {
      storage: azurite.connectionString,
      port,
      app: { delivery: { retryBaseMs: 250, retryMaxMs: 4000, timeoutMs: 2000 } },
    });
    try {
      const { api, host } = instance;
      const created = await api('credentials/c1/subscriptions', {
        method: 'POST',
        body: JSON.stringify({ events: ['created'], webhookUrl: `${receiver.url}/hook` }),
      });
      if (created.status !== 201) throw new Error(`subscribe failed: ${await created.text()}`);
      receiver.state.secret = ((await created.json()) as { signingSecret: string }).signingSecret;
      return await run({ sandbox, receiver, api, hostUrl: host.url });
    } finally {
      await instance.close();
    }
  } finally {
    await receiver.close();
    await sandbox.close();
    await azurite.stop();
  }
}

const arrive = (sandbox: Sandbox, subject: string) =>
  sandbox.control.addMessage(UPN, 'inbox', {
    subject,
    from: { emailAddress: { address: 'customer@fabrikam.test' } },
  });

async function until(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function latency(): Promise<BenchResult[]> {
  return withProduct(async ({ sandbox, receiver }) => {
    // The baseline: Graph's own notification for the same folder, to a bare receiver.
    const raw = new Map<string, number>();
    const bare = await startServer((req, res, body) => {
      const token = new URL(req.url ?? '/', 'http://x').searchParams.get('validationToken');
      if (token !== null)
        return void res.writeHead(200, { 'content-type': 'text/plain' }).end(token);
      for (const n of (
        JSON.parse(body.toString('utf8')) as { value: Array<{ resourceData: { id: string } }> }
      ).value)
        if (!raw.has(n.resourceData.id)) raw.set(n.resourceData.id, performance.now());
      res.writeHead(202).end();
    });
    try {
      const token = (await sandbox.control.issueTokens(UPN, { scopes: DEFAULT_SCOPES }))
        .access_token;
      const sub = await fetch(`${sandbox.url}/v1.0/subscriptions`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${token}`,
          'content-type': 'application/json',
          prefer: 'IdType="ImmutableId"',
        },
        body: JSON.stringify({
          changeType: 'created',
          notificationUrl: `${bare.url}/raw`,
          resource: "me/mailFolders('inbox')/messages",
          expirationDateTime: new Date(Date.now() + 3600_000).toISOString(),
          clientState: 'bench',
        }),
      });
      if (sub.status !== 201) throw new Error(`baseline subscription failed: ${sub.status}`);
      const product: number[] = [];
      const graph: number[] = [];
      for (let i = 0; i < 40; i++) {
        const start = performance.now();
        const m = arrive(sandbox, `latency ${i}`);
        await until(
          () => receiver.arrivedAt.has(m.immutableId) && raw.has(m.immutableId),
          20_000,
          'an event',
        );
        product.push(receiver.arrivedAt.get(m.immutableId)! - start);
        graph.push(raw.get(m.immutableId)! - start);
      }
      return [
        {
          name: 'new mail → signed event, p50',
          value: median(product),
          unit: 'ms',
          baseline: median(graph),
          baselineName: 'Graph notification p50',
        },
        {
          name: 'new mail → signed event, p95 (goal < 2,000 ms)',
          value: percentile(product, 95),
          unit: 'ms',
          baseline: percentile(graph, 95),
          baselineName: 'Graph notification p95',
        },
      ];
    } finally {
      await bare.close();
    }
  });
}

async function faults(): Promise<BenchResult[]> {
  return withProduct(async ({ sandbox, receiver, hostUrl }) => {
    const TOTAL = 1000;
    const BURST = 50;
    sandbox.control.setNotificationFaults({ dropProbability: 0.2, duplicateProbability: 0.1 });
    sandbox.control.clearRequestLog();
    receiver.state.status = 500;
    const started = performance.now();
    setTimeout(() => {
      receiver.state.status = 200;
    }, 30_000).unref();
    // The maintenance timer, compressed from 30 minutes to 5 s.
    const timer = setInterval(() => {
      void fetch(`${hostUrl}/admin/functions/notifyMaintain`, { method: 'POST', body: '{}' });
    }, 5000);
    const ids = new Set<string>();
    try {
      for (let sent = 0; sent < TOTAL; sent += BURST) {
        for (let i = 0; i < BURST; i++) ids.add(arrive(sandbox, `burst ${sent + i}`).immutableId);
        await new Promise((r) => setTimeout(r, 1000));
      }
      await until(
        () => [...ids].every((id) => receiver.idsByMessage.has(id)),
        240_000,
        'every message.created',
      );
    } finally {
      clearInterval(timer);
    }
    const elapsedMs = performance.now() - started;
    const delivered = [...ids].filter((id) => receiver.idsByMessage.has(id)).length;
    const idsPerMessage = [...ids].map((id) => receiver.idsByMessage.get(id)?.size ?? 0);
    const extraDeliveries = [...receiver.byWebhookId.values()].reduce((a, n) => a + n - 1, 0);
    const graphRequests = sandbox.control
      .requestLog()
      .filter((e) => e.path.startsWith('/v1.0/')).length;
    const stats = sandbox.control.notificationStats();
    console.log(
      `  (notifications: ${stats.dropped} dropped, ${stats.duplicated} duplicated; receiver refused ${receiver.rejected} signatures; ${(elapsedMs / 1000).toFixed(1)} s)`,
    );
    return [
      {
        name: 'distinct message.created delivered',
        value: delivered,
        unit: 'events',
        baseline: TOTAL,
        baselineName: 'messages',
      },
      { name: 'lost', value: TOTAL - delivered, unit: 'messages' },
      {
        name: 'messages with more than one webhook-id',
        value: idsPerMessage.filter((n) => n > 1).length,
        unit: 'messages',
      },
      { name: 'repeated deliveries (same webhook-id)', value: extraDeliveries, unit: 'deliveries' },
      {
        name: 'Graph requests per delivered event',
        value: graphRequests / Math.max(1, delivered),
        unit: 'requests',
        baseline: 1,
        baselineName: 'one read per message',
      },
    ];
  });
}

export async function benchNotifications(): Promise<BenchResult[]> {
  return [...(await latency()), ...(await faults())];
}
