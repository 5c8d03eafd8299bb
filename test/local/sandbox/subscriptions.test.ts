import type http from 'node:http';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Sandbox } from '../../../src/local/sandbox';
import { startServer } from '../../support/http';
import { call, token, withSandbox } from '../../support/sandbox';

interface Received {
  path: string;
  query: URLSearchParams;
  contentType: string;
  body: string;
}

/** A webhook endpoint that answers the validation handshake as documented and records the rest. */
async function startReceiver() {
  const received: Received[] = [];
  const control = {
    /** Status for notification POSTs (not handshakes). */
    status: 202,
    /** Handshake answer: 'echo' (correct), 'json' (wrong content type), 'wrong' (other text). */
    handshake: 'echo' as 'echo' | 'json' | 'wrong',
  };
  const server = await startServer((req: http.IncomingMessage, res, body) => {
    const url = new URL(req.url ?? '/', 'http://x');
    received.push({
      path: url.pathname,
      query: url.searchParams,
      contentType: req.headers['content-type'] ?? '',
      body: body.toString('utf8'),
    });
    const token = url.searchParams.get('validationToken');
    if (token !== null) {
      if (control.handshake === 'json')
        return void res.writeHead(200, { 'content-type': 'application/json' }).end(token);
      return void res
        .writeHead(200, { 'content-type': 'text/plain' })
        .end(control.handshake === 'echo' ? token : 'nope');
    }
    res.writeHead(control.status).end();
  });
  /** Notifications of one subscription (retries of earlier tests' may still arrive). */
  const notifications = (subscriptionId?: unknown) =>
    received
      .filter((r) => r.path === '/notify' && !r.query.has('validationToken'))
      .flatMap((r) => (JSON.parse(r.body) as { value: Array<Record<string, unknown>> }).value)
      .filter((n) => subscriptionId === undefined || n.subscriptionId === subscriptionId);
  const lifecycle = () =>
    received
      .filter((r) => r.path === '/lifecycle' && !r.query.has('validationToken'))
      .flatMap((r) => (JSON.parse(r.body) as { value: Array<Record<string, unknown>> }).value);
  return { ...server, received, control, notifications, lifecycle };
}

type Receiver = Awaited<ReturnType<typeof startReceiver>>;

describe('sandbox subscriptions and change notifications', () => {
  let sb: Sandbox;
  let rx: Receiver;
  let at: string;
  const inFuture = (minutes: number) => new Date(Date.now() + minutes * 60_000).toISOString();
  const subscribe = (overrides: Record<string, unknown> = {}) =>
    call(sb, at, 'POST', '/v1.0/subscriptions', {
      raw: true,
      body: {
        changeType: 'created,updated,deleted',
        notificationUrl: `${rx.url}/notify`,
        lifecycleNotificationUrl: `${rx.url}/lifecycle`,
        resource: "me/mailFolders('inbox')/messages",
        expirationDateTime: inFuture(60),
        clientState: 'state-1',
        ...overrides,
      },
    });
  const arrive = (subject: string, folder = 'inbox') =>
    sb.control.addMessage('adele@contoso.test', folder, {
      subject,
      from: { emailAddress: { address: 'x@fabrikam.test' } },
    });

  beforeAll(async () => {
    sb = await withSandbox({ limits: { notificationRetryMs: 50 } });
    rx = await startReceiver();
    at = await token(sb);
  });
  afterAll(async () => {
    await rx.close();
    await sb.close();
  });
  afterEach(async () => {
    for (const s of sb.control.subscriptions())
      await call(sb, at, 'DELETE', `/v1.0/subscriptions/${s.id}`, { raw: true });
    sb.control.setNotificationFaults({});
    rx.control.status = 202;
    rx.control.handshake = 'echo';
    rx.received.length = 0;
  });

  it('validates both endpoints with a decoded text token, then manages the subscription', async () => {
    const created = await subscribe();
    expect(created.status).toBe(201);
    const handshakes = rx.received.filter((r) => r.query.has('validationToken'));
    expect(handshakes.map((h) => h.path)).toEqual(['/notify', '/lifecycle']);
    // Graph's token is text with spaces and colons: the endpoint must decode it.
    expect(handshakes[0]!.query.get('validationToken')).toMatch(/^Validation: .+ /);
    expect(handshakes[0]!.contentType).toMatch(/^text\/plain/);
    const id = created.json.id as string;
    expect(created.json).toMatchObject({
      resource: "me/mailFolders('inbox')/messages",
      changeType: 'created,updated,deleted',
      clientState: 'state-1',
      notificationUrl: `${rx.url}/notify`,
    });
    const list = await call(sb, at, 'GET', '/v1.0/subscriptions', { raw: true });
    expect(list.json.value?.map((s) => s.id)).toEqual([id]);
    // Another user of the same app does not see it.
    const megan = await token(sb, 'megan@contoso.test');
    expect((await call(sb, megan, 'GET', `/v1.0/subscriptions/${id}`, { raw: true })).status).toBe(
      404,
    );
    const expiry = inFuture(10_000);
    const renewed = await call(sb, at, 'PATCH', `/v1.0/subscriptions/${id}`, {
      raw: true,
      body: { expirationDateTime: expiry },
    });
    expect(renewed.status).toBe(200);
    expect(Date.parse(renewed.json.expirationDateTime as string)).toBe(Date.parse(expiry));
    expect((await call(sb, at, 'DELETE', `/v1.0/subscriptions/${id}`, { raw: true })).status).toBe(
      204,
    );
    expect((await call(sb, at, 'GET', `/v1.0/subscriptions/${id}`, { raw: true })).status).toBe(
      404,
    );
  });

  it('refuses what Graph refuses, creating nothing', async () => {
    rx.control.handshake = 'json';
    expect((await subscribe()).json).toMatchObject({ error: { code: 'InvalidRequest' } });
    rx.control.handshake = 'wrong';
    expect((await subscribe()).status).toBe(400);
    rx.control.handshake = 'echo';
    const tooLong = await subscribe({ expirationDateTime: inFuture(10_081) });
    expect(tooLong.status).toBe(400);
    expect(tooLong.json.error).toMatchObject({ message: expect.stringContaining('10080 minutes') });
    expect((await subscribe({ clientState: 'x'.repeat(129) })).status).toBe(400);
    expect((await subscribe({ notificationUrl: 'http://example.com/n' })).status).toBe(400);
    expect((await subscribe({ resource: 'me/events' })).status).toBe(400);
    expect((await subscribe({ changeType: 'created,moved' })).status).toBe(400);
    expect((await subscribe({ expirationDateTime: inFuture(-1) })).status).toBe(400);
    expect(sb.control.subscriptions()).toEqual([]);
  });

  it('notifies changes in the subscribed folder only, and retries until a 2xx', async () => {
    const created = await subscribe({ changeType: 'created' });
    rx.control.status = 500;
    const message = arrive('hello');
    arrive('elsewhere', 'archive');
    await expect.poll(() => sb.control.notificationStats().retried).toBeGreaterThan(0);
    rx.control.status = 202;
    await expect.poll(() => rx.notifications().length).toBeGreaterThanOrEqual(2);
    const ids = new Set(rx.notifications().map((n) => (n.resourceData as { id: string }).id));
    expect([...ids]).toEqual([message.id]);
    expect(rx.notifications()[0]).toMatchObject({
      subscriptionId: created.json.id,
      clientState: 'state-1',
      changeType: 'created',
      tenantId: sb.tenantId,
      resourceData: { '@odata.type': '#Microsoft.Graph.Message', id: message.id },
    });
  });

  it('drops and duplicates notifications on request', async () => {
    const id = (await subscribe({ changeType: 'created' })).json.id;
    sb.control.setNotificationFaults({ drop: 1, duplicate: 1 });
    arrive('lost');
    arrive('twice');
    await expect.poll(() => rx.notifications(id).length).toBe(2);
    const [a, b] = rx.notifications(id);
    expect(a).toEqual(b);
    expect(sb.control.notificationStats()).toMatchObject({ dropped: 1, duplicated: 1 });
  });

  it('sends lifecycle events: reauthorization pauses delivery, removal ends it', async () => {
    const id = (await subscribe({ changeType: 'created' })).json.id as string;
    sb.control.lifecycle(id, 'reauthorizationRequired');
    await expect.poll(() => rx.lifecycle().length).toBe(1);
    expect(rx.lifecycle()[0]).toMatchObject({
      subscriptionId: id,
      clientState: 'state-1',
      lifecycleEvent: 'reauthorizationRequired',
    });
    arrive('while paused');
    await expect.poll(() => sb.control.subscriptions()[0]?.needsReauthorization).toBe(true);
    expect(
      (await call(sb, at, 'POST', `/v1.0/subscriptions/${id}/reauthorize`, { raw: true })).status,
    ).toBe(204);
    const after = arrive('after reauthorization');
    await expect.poll(() => rx.notifications(id).length).toBe(1);
    expect((rx.notifications(id)[0]!.resourceData as { id: string }).id).toBe(after.id);
    sb.control.lifecycle(id, 'subscriptionRemoved');
    await expect.poll(() => rx.lifecycle().length).toBe(2);
    expect(sb.control.subscriptions()).toEqual([]);
  });

  it('deletes a subscription at its expiry', async () => {
    await subscribe({ expirationDateTime: new Date(Date.now() + 1500).toISOString() });
    expect(sb.control.subscriptions()).toHaveLength(1);
    await expect.poll(() => sb.control.subscriptions(), { timeout: 5000 }).toEqual([]);
  });

  it('answers 410 syncStateNotFound for a forgotten delta token, with a Location to start again', async () => {
    const first = await call(
      sb,
      at,
      'GET',
      "/v1.0/me/mailFolders('inbox')/messages/delta?$select=subject",
      { raw: true, headers: { Prefer: 'odata.maxpagesize=1000' } },
    );
    const deltaLink = first.json['@odata.deltaLink'] as string;
    expect(deltaLink).toBeTruthy();
    sb.control.resetDeltaTokens('adele@contoso.test');
    const gone = await call(sb, at, 'GET', deltaLink, { raw: true });
    expect(gone.status).toBe(410);
    expect(gone.json.error).toMatchObject({ code: 'syncStateNotFound' });
    const restart = await call(sb, at, 'GET', gone.headers.get('location')!, { raw: true });
    expect(restart.status).toBe(200);
    expect(Object.keys(restart.json.value?.[0] ?? {})).toContain('subject');
  });
});
