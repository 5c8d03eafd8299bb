import http from 'node:http';
import { type LookupFunction } from 'node:net';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createLogger } from '../../src/core/logger';
import { createDeliveryWorker, DEFAULT_DELIVERY_SETTINGS } from '../../src/notifications/delivery';
import { type DeliveryMessage } from '../../src/notifications/queue';
import { type CallerSubscription, type Delivery } from '../../src/notifications/store';
import { createWebhookFetch } from '../../src/notifications/webhook-fetch';

/** A loopback server that records every connection and request it sees. */
async function startTarget(answer: (res: http.ServerResponse) => void) {
  const seen = { connections: 0, requests: [] as string[] };
  const server = http.createServer((req, res) => {
    seen.requests.push(`${req.method} ${req.url}`);
    req.resume();
    answer(res);
  });
  server.on('connection', () => void seen.connections++);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  const close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return { port, seen, close };
}

/** A resolver that answers every name with `addresses`: what an attacker's DNS would say. */
const resolvesTo =
  (...addresses: string[]): LookupFunction =>
  (_host, options, callback) => {
    const all = addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
    if (options.all) callback(null, all);
    else callback(null, all[0]!.address, all[0]!.family);
  };

/** One delivery of one subscription, through the real worker; the store and queue in memory. */
async function deliverOnce(webhookUrl: string, fetchImpl: typeof fetch) {
  const sub = {
    serviceId: 'svc',
    credentialId: 'c1',
    subscriptionId: 'sub1',
    webhookUrl,
    status: 'active',
  } as CallerSubscription;
  let row: Delivery = {
    subscriptionId: 'sub1',
    deliveryId: 'd1',
    serviceId: 'svc',
    credentialId: 'c1',
    event: { type: 'message.created' } as unknown as Delivery['event'],
    status: 'pending',
    attempts: 0,
    lastStatusCode: undefined,
    lastError: undefined,
    createdAt: Date.now(),
    lastAttemptAt: undefined,
    nextAttemptAt: undefined,
  };
  const requeued: number[] = [];
  const lines: string[] = [];
  const worker = createDeliveryWorker({
    store: {
      getDelivery: () => Promise.resolve(row),
      updateDelivery: (d: Delivery) => Promise.resolve(void (row = d)),
    } as never,
    queue: {
      enqueue: (_m: DeliveryMessage, delay: number) => Promise.resolve(void requeued.push(delay)),
    },
    secretOf: () => Promise.resolve('whsec_c2VjcmV0LXNpZ25pbmcta2V5LTMyLWJ5dGVzLWxvbmc='),
    subscription: () => Promise.resolve(sub),
    disable: () => Promise.resolve(),
    settings: { ...DEFAULT_DELIVERY_SETTINGS, timeoutMs: 5000 },
    fetch: fetchImpl,
  });
  await worker.handle(
    { v: 1, k: 'deliver', sub: 'sub1', d: 'd1' },
    { log: createLogger((_level, line) => void lines.push(line)) },
  );
  return { delivery: row, requeued, lines };
}

describe('webhook deliveries never reach internal addresses (SSRF)', () => {
  let target: Awaited<ReturnType<typeof startTarget>>;
  beforeAll(async () => {
    target = await startTarget((res) => res.writeHead(200).end());
  });
  afterAll(() => target?.close());

  it('refuses a host name that resolves to loopback: no connection, a dead delivery, no retry', async () => {
    const guarded = createWebhookFetch({ allowInternal: false, lookup: resolvesTo('127.0.0.1') });
    const { delivery, requeued, lines } = await deliverOnce(
      `http://hooks.example:${target.port}/in?token=caller-secret`,
      guarded,
    );
    expect(target.seen).toEqual({ connections: 0, requests: [] });
    expect(delivery).toMatchObject({ status: 'dead', attempts: 1, lastStatusCode: undefined });
    expect(delivery.lastError).toBe(
      'webhook host hooks.example is a loopback address (127.0.0.1); deliveries reach public addresses only',
    );
    expect(requeued).toEqual([]);
    expect(lines.join('\n')).toContain('webhook delivery refused');
    expect(lines.join('\n')).not.toContain('caller-secret');
  });

  it('refuses every answer when one of several resolved addresses is internal (rebinding)', async () => {
    const guarded = createWebhookFetch({
      allowInternal: false,
      lookup: resolvesTo('93.184.216.34', '::ffff:169.254.169.254'),
    });
    const { delivery } = await deliverOnce(`http://hooks.example:${target.port}/in`, guarded);
    expect(delivery.status).toBe('dead');
    expect(delivery.lastError).toContain('link-local (cloud metadata) address');
    expect(target.seen.connections).toBe(0);
  });

  it('refuses internal address literals, which skip name resolution', async () => {
    const guarded = createWebhookFetch({ allowInternal: false, lookup: resolvesTo('8.8.8.8') });
    for (const host of ['127.0.0.1', '[::ffff:127.0.0.1]']) {
      const { delivery } = await deliverOnce(`http://${host}:${target.port}/in`, guarded);
      expect(delivery.status, host).toBe('dead');
    }
    expect(target.seen.connections).toBe(0);
  });

  it('reaches loopback where the deployment allows it (local and dev)', async () => {
    const open = createWebhookFetch({ allowInternal: true, lookup: resolvesTo('127.0.0.1') });
    const before = target.seen.requests.length;
    const { delivery } = await deliverOnce(`http://hooks.example:${target.port}/in`, open);
    expect(delivery.status).toBe('delivered');
    expect(target.seen.requests.slice(before)).toEqual(['POST /in']);
  });

  it('does not follow a redirect to a private address: a failure, retried, never bounced', async () => {
    const inside = await startTarget((res) => res.writeHead(200).end());
    const bouncer = await startTarget((res) =>
      res.writeHead(307, { location: `http://127.0.0.1:${inside.port}/admin` }).end(),
    );
    try {
      const open = createWebhookFetch({ allowInternal: true, lookup: resolvesTo('127.0.0.1') });
      const { delivery, requeued } = await deliverOnce(
        `http://hooks.example:${bouncer.port}/in`,
        open,
      );
      expect(bouncer.seen.requests).toEqual(['POST /in']);
      expect(inside.seen).toEqual({ connections: 0, requests: [] });
      expect(delivery).toMatchObject({
        status: 'retrying',
        lastStatusCode: 307,
        lastError: 'receiver answered 307 (redirects are not followed)',
      });
      expect(requeued).toHaveLength(1);
    } finally {
      await inside.close();
      await bouncer.close();
    }
  });
});
