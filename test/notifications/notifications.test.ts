import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { startServer } from '../support/http';
import { startTestStack, type TestStack } from '../support/stack';

interface Received {
  id: string;
  type: string;
  subscriptionId: string;
  data: Record<string, unknown>;
}

/**
 * A webhook receiver as a caller would write one: every request is verified with the real
 * `standardwebhooks` library; `status` is what it answers.
 */
async function startReceiver() {
  const secrets = new Map<string, string>();
  const events: Received[] = [];
  const rejected: string[] = [];
  const state = { status: 200 };
  const server = await startServer((req, res, body) => {
    const headers = Object.fromEntries(
      ['webhook-id', 'webhook-timestamp', 'webhook-signature'].map((h) => [
        h,
        String(req.headers[h] ?? ''),
      ]),
    );
    const sub = new URL(req.url ?? '/', 'http://x').pathname.slice(1);
    try {
      const payload = new Webhook(secrets.get(sub) ?? 'whsec_AAAA').verify(
        body.toString('utf8'),
        headers,
      ) as Omit<Received, 'id'>;
      if (state.status >= 200 && state.status < 300)
        events.push({ id: headers['webhook-id']!, ...payload });
    } catch (error) {
      rejected.push(String(error));
      return void res.writeHead(401).end();
    }
    res.writeHead(state.status).end();
  });
  return { ...server, secrets, events, rejected, state };
}

// Each test waits on queues and retries; on a loaded machine that takes longer than the default.
describe('new-mail triggers end to end', { timeout: 90_000 }, () => {
  let stack: TestStack;
  let rx: Awaited<ReturnType<typeof startReceiver>>;
  const upn = 'adele@contoso.test';

  const json = async (path: string, init: RequestInit & { serviceId?: string } = {}) => {
    const res = await stack.api(path, {
      ...init,
      headers: { 'content-type': 'application/json', ...(init.headers ?? {}) },
    });
    const text = await res.text();
    return { status: res.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
  };
  const subscribe = async (name: string, body: Record<string, unknown> = {}, cred = 'c1') => {
    const res = await json(`/api/credentials/${cred}/subscriptions`, {
      method: 'POST',
      body: JSON.stringify({
        events: ['created', 'updated', 'deleted'],
        webhookUrl: `${rx.url}/${name}`,
        ...body,
      }),
    });
    if (res.status === 201) rx.secrets.set(name, res.body.signingSecret as string);
    return res;
  };
  const arrive = (subject: string, folder = 'inbox', to = upn) =>
    stack.sandbox.control.addMessage(to, folder, {
      subject,
      from: { emailAddress: { address: 'customer@fabrikam.test', name: 'Customer' } },
      toRecipients: [{ emailAddress: { address: to } }],
    });
  const eventsOf = (subscriptionId: unknown, type?: string) =>
    rx.events.filter(
      (e) => e.subscriptionId === subscriptionId && (type === undefined || e.type === type),
    );
  const maintain = () =>
    fetch(`${stack.host.url}/admin/functions/notifyMaintain`, { method: 'POST', body: '{}' });

  beforeAll(async () => {
    rx = await startReceiver();
    stack = await startTestStack({
      reachable: true,
      sandbox: { messagesPerUser: 30, limits: { notificationRetryMs: 100 } },
      app: { delivery: { retryBaseMs: 200, retryMaxMs: 1000, timeoutMs: 2000 } },
    });
    await stack.connect('c1');
  }, 60_000);
  afterAll(async () => {
    await stack?.close();
    await rx?.close();
  });

  it('subscribes with one Graph subscription per folder and delivers signed new-mail events', async () => {
    const first = await subscribe('a', { fields: ['subject', 'from'] });
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({
      status: 'active',
      folder: 'inbox',
      events: ['created', 'updated', 'deleted'],
      fields: ['id', 'subject', 'from'],
    });
    expect(first.body.signingSecret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    const second = await subscribe('b', { events: ['created'], folder: 'Inbox' });
    expect(second.status).toBe(201);
    // Both share the folder's one Graph subscription, pointed at our endpoints.
    const graphSubs = stack.sandbox.control.subscriptions();
    expect(graphSubs).toHaveLength(1);
    expect(graphSubs[0]!.notificationUrl).toBe(`${stack.host.url}/api/graph/notifications`);
    expect(graphSubs[0]!.lifecycleNotificationUrl).toBe(`${stack.host.url}/api/graph/lifecycle`);

    const message = arrive('Order 1234 is late');
    await expect
      .poll(() => eventsOf(first.body.subscriptionId).length, { timeout: 25_000 })
      .toBe(1);
    await expect
      .poll(() => eventsOf(second.body.subscriptionId).length, { timeout: 25_000 })
      .toBe(1);
    const [a] = eventsOf(first.body.subscriptionId);
    const [b] = eventsOf(second.body.subscriptionId);
    expect(a).toMatchObject({
      type: 'message.created',
      data: {
        id: message.immutableId,
        subject: 'Order 1234 is late',
        from: { address: 'customer@fabrikam.test', name: 'Customer' },
      },
    });
    expect(Object.keys(a!.data).sort()).toEqual(['from', 'id', 'subject']);
    expect(Object.keys(b!.data)).toContain('receivedDateTime');
    // The webhook-id names the change, whoever receives it.
    expect(a!.id).toBe(b!.id);
    expect(rx.rejected).toEqual([]);

    // The secret is shown once.
    const listed = await json('/api/credentials/c1/subscriptions');
    expect(JSON.stringify(listed.body)).not.toContain('whsec_');
    // Another service sees nothing of it.
    const foreign = await json(
      `/api/credentials/c1/subscriptions/${String(first.body.subscriptionId)}`,
      {
        serviceId: 'other',
      },
    );
    expect(foreign.status).toBe(404);
  });

  it('refuses invalid subscriptions with a problem naming the field, creating nothing', async () => {
    const before = stack.sandbox.control.subscriptions().length;
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ webhookUrl: 'http://example.com/hook' }, 'webhookUrl'],
      [{ webhookUrl: 'https://user:pw@example.com/hook' }, 'webhookUrl'],
      [{ events: ['moved'] }, 'events[0]'],
      [{ events: [] }, 'events'],
      [{ fields: ['body'] }, 'fields[0]'],
      [{ folder: 'No Such Folder/Anywhere' }, 'folder'],
      [{ extra: 1 }, 'extra'],
    ];
    for (const [body, field] of cases) {
      const res = await subscribe('x', body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(JSON.stringify(res.body)).toContain(field);
    }
    expect(stack.sandbox.control.subscriptions()).toHaveLength(before);
  });

  it('loses nothing to dropped or duplicated notifications; duplicates keep their webhook-id', async () => {
    const sub = await subscribe('dup', { events: ['created'] });
    stack.sandbox.control.setNotificationFaults({ duplicate: 3 });
    const dup = arrive('duplicated');
    await expect.poll(() => eventsOf(sub.body.subscriptionId).length, { timeout: 25_000 }).toBe(1);
    stack.sandbox.control.setNotificationFaults({ drop: 1 });
    const dropped = arrive('dropped notification');
    // Nothing tells us yet: the maintenance timer's catch-up finds it.
    expect((await maintain()).status).toBe(202);
    await expect.poll(() => eventsOf(sub.body.subscriptionId).length, { timeout: 25_000 }).toBe(2);
    expect(eventsOf(sub.body.subscriptionId).map((e) => e.data.id)).toEqual([
      dup.immutableId,
      dropped.immutableId,
    ]);
    stack.sandbox.control.setNotificationFaults({});
    await json(`/api/credentials/c1/subscriptions/${String(sub.body.subscriptionId)}`, {
      method: 'DELETE',
    });
  });

  it('drops notifications with a wrong clientState and answers the handshake', async () => {
    const graphId = stack.sandbox.control.subscriptions()[0]!.id;
    const forged = await fetch(`${stack.host.url}/api/graph/notifications`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        value: [{ subscriptionId: graphId, clientState: 'guess', changeType: 'created' }],
      }),
    });
    expect(forged.status).toBe(202);
    const token =
      'Validation: Testing client application reachability for subscription Request-Id: 1';
    const handshake = await fetch(
      `${stack.host.url}/api/graph/lifecycle?validationToken=${encodeURIComponent(token)}`,
      { method: 'POST', headers: { 'content-type': 'text/plain' } },
    );
    expect(handshake.status).toBe(200);
    expect(handshake.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(await handshake.text()).toBe(token);
  });

  it('retries a failing receiver with backoff, lists the attempts, and disables on 410', async () => {
    const sub = await subscribe('flaky', { events: ['created'] });
    const id = String(sub.body.subscriptionId);
    rx.state.status = 500;
    arrive('while the receiver is down');
    await expect
      .poll(
        async () =>
          ((await json(`/api/credentials/c1/subscriptions/${id}/deliveries?status=failed`)).body
            .deliveries as unknown[]) ?? [],
        { timeout: 25_000 },
      )
      .toHaveLength(1);
    const failed = (await json(`/api/credentials/c1/subscriptions/${id}/deliveries?status=failed`))
      .body.deliveries as Array<Record<string, unknown>>;
    expect(failed[0]).toMatchObject({ status: 'retrying', lastStatusCode: 500 });
    expect(failed[0]!.nextAttemptAt).toEqual(expect.any(String));
    rx.state.status = 200;
    await expect.poll(() => eventsOf(id).length, { timeout: 25_000 }).toBe(1);
    const delivered = (
      await json(`/api/credentials/c1/subscriptions/${id}/deliveries?status=delivered`)
    ).body.deliveries as Array<Record<string, unknown>>;
    expect(delivered[0]!.attempts).toBeGreaterThan(1);

    // Redelivery on request.
    const retried = await json(
      `/api/credentials/c1/subscriptions/${id}/deliveries/${String(delivered[0]!.deliveryId)}/retry`,
      { method: 'POST' },
    );
    expect(retried.status).toBe(202);
    await expect.poll(() => eventsOf(id).length, { timeout: 25_000 }).toBe(2);

    rx.state.status = 410;
    arrive('receiver gone');
    await expect
      .poll(async () => (await json(`/api/credentials/c1/subscriptions/${id}`)).body.status, {
        timeout: 25_000,
      })
      .toBe('disabled');
    rx.state.status = 200;
  });

  it('recreates a removed Graph subscription and catches up what arrived meanwhile', async () => {
    const sub = await subscribe('removed', { events: ['created'] });
    const old = stack.sandbox.control.subscriptions()[0]!.id;
    stack.sandbox.control.lifecycle(old, 'subscriptionRemoved');
    const between = arrive('arrived while unsubscribed');
    await expect
      .poll(() => stack.sandbox.control.subscriptions().map((s) => s.id), { timeout: 25_000 })
      .toEqual([expect.not.stringMatching(old)]);
    await expect
      .poll(() => eventsOf(sub.body.subscriptionId).map((e) => e.data.id), { timeout: 25_000 })
      .toContain(between.immutableId);
  });

  it('resyncs after a delta 410 without repeating message.created', async () => {
    const sub = await subscribe('resync', { events: ['created'] });
    const id = sub.body.subscriptionId;
    const first = arrive('before the reset');
    await expect.poll(() => eventsOf(id).length, { timeout: 25_000 }).toBe(1);
    stack.sandbox.control.resetDeltaTokens(upn);
    const second = arrive('after the reset');
    await expect
      .poll(() => eventsOf(id, 'subscription.resynced').length, { timeout: 25_000 })
      .toBe(1);
    await expect.poll(() => eventsOf(id, 'message.created').length, { timeout: 25_000 }).toBe(2);
    expect(eventsOf(id, 'message.created').map((e) => e.data.id)).toEqual([
      first.immutableId,
      second.immutableId,
    ]);
  });

  it('answers changes to pollers from a tamper-proof cursor', async () => {
    const start = await json('/api/credentials/c1/changes?folder=inbox');
    expect(start.status).toBe(200);
    expect(start.body.events).toEqual([]);
    const cursor = String(start.body.nextCursor);
    const message = arrive('for pollers');
    const page = await json(`/api/credentials/c1/changes?cursor=${encodeURIComponent(cursor)}`);
    expect(page.body.events).toEqual([
      expect.objectContaining({
        type: 'message.created',
        data: expect.objectContaining({ id: message.immutableId, subject: 'for pollers' }),
      }),
    ]);
    const tampered = `${cursor.slice(0, -2)}${cursor.endsWith('A') ? 'B' : 'A'}A`;
    expect(
      (await json(`/api/credentials/c1/changes?cursor=${encodeURIComponent(tampered)}`)).status,
    ).toBe(400);
    expect(
      (
        await json(`/api/credentials/c1/changes?cursor=${encodeURIComponent(cursor)}`, {
          serviceId: 'other',
        })
      ).status,
    ).toBe(400);
  });

  it('pauses when the credential needs reconnecting and resumes with a catch-up', async () => {
    // Inside the product's 5-minute refresh skew (every use refreshes), yet long enough that the
    // token connect just redeemed cannot expire before its GET /me on a loaded machine.
    stack.sandbox.control.setAccessTokenLifetime(60);
    await stack.connect('c2', { upn: 'megan@contoso.test' });
    const sub = await subscribe('paused', { events: ['created'] }, 'c2');
    expect(sub.status).toBe(201);
    stack.sandbox.control.revokeRefreshTokens('megan@contoso.test');
    const during = arrive('while paused', 'inbox', 'megan@contoso.test');
    await expect
      .poll(() => eventsOf(sub.body.subscriptionId, 'subscription.paused').length, {
        timeout: 25_000,
      })
      .toBe(1);
    expect(
      (await json(`/api/credentials/c2/subscriptions/${String(sub.body.subscriptionId)}`)).body
        .status,
    ).toBe('paused');
    stack.sandbox.control.setAccessTokenLifetime(3599);
    await stack.connect('c2', { upn: 'megan@contoso.test' });
    await maintain();
    // Deliveries run in parallel: the resume and the caught-up message may arrive in either order.
    await expect
      .poll(
        () =>
          eventsOf(sub.body.subscriptionId)
            .map((e) => e.type)
            .sort(),
        { timeout: 25_000 },
      )
      .toEqual(['message.created', 'subscription.paused', 'subscription.resumed']);
    expect(eventsOf(sub.body.subscriptionId, 'message.created')[0]!.data.id).toBe(
      during.immutableId,
    );
  });
});
