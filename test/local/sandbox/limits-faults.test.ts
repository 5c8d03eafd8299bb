import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Sandbox } from '../../../src/local/sandbox';
import { DEV_CLIENT } from '../../../src/local/sandbox';
import { ALL_SCOPES, call, token, withSandbox } from '../../support/sandbox';

describe('limits', () => {
  let sb: Sandbox | undefined;
  afterEach(async () => {
    await sb?.close();
    sb = undefined;
  });

  it('allows 4 concurrent requests per app and mailbox, then 429 MailboxConcurrency with Retry-After', async () => {
    sb = await withSandbox({ messagesPerUser: 5, latencyMs: 150 });
    const t = await token(sb);
    const results = await Promise.all(
      Array.from({ length: 6 }, () => call(sb!, t, 'GET', '/v1.0/me/messages?$top=1')),
    );
    const throttled = results.filter((r) => r.status === 429);
    expect(throttled).toHaveLength(2);
    expect(throttled[0]!.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(throttled[0]!.json).toMatchObject({
      error: {
        code: 'TooManyRequests',
        message: 'Application is over its MailboxConcurrency limit.',
      },
    });
    // Another mailbox is not affected.
    const other = await Promise.all(
      Array.from({ length: 4 }, () =>
        call(sb!, t, 'GET', '/v1.0/users/support@contoso.test/messages?$top=1'),
      ),
    );
    expect(other.every((r) => r.status === 200)).toBe(true);
    expect(sb.control.throttles()).toEqual({
      mailboxConcurrency: 2,
      requestWindow: 0,
      uploadWindow: 0,
    });
  });

  it('counts MailboxConcurrency per app across every client of the sandbox, not per token or connection', async () => {
    const otherApp = { clientId: '0c7e9a51-3d2b-4f18-8a6c-2e9b1d4f7a63', clientSecret: 'other' };
    sb = await withSandbox({ messagesPerUser: 5, latencyMs: 150, clients: [DEV_CLIENT, otherApp] });
    // Two instances of one app: each has its own token (its own refresh), same client id.
    const first = await token(sb);
    const second = await token(sb);
    expect(second).not.toBe(first);
    const other = (
      await sb.control.issueTokens('adele@contoso.test', {
        scopes: ALL_SCOPES,
        clientId: otherApp.clientId,
      })
    ).access_token;
    const list = '/v1.0/me/messages?$top=1';
    const results = await Promise.all([
      ...Array.from({ length: 3 }, () => call(sb!, first, 'GET', list)),
      ...Array.from({ length: 3 }, () => call(sb!, second, 'GET', list)),
      // Another app has 4 of its own in the same mailbox.
      ...Array.from({ length: 4 }, () => call(sb!, other, 'GET', list)),
    ]);
    const statuses = results.map((r) => r.status);
    expect(statuses.slice(0, 6).filter((s) => s === 429)).toHaveLength(2);
    expect(statuses.slice(6)).toEqual([200, 200, 200, 200]);
    expect(sb.control.throttles().mailboxConcurrency).toBe(2);
  });

  it('counts requests per app and mailbox in a sliding window', async () => {
    sb = await withSandbox({
      messagesPerUser: 5,
      limits: { requestsPerWindow: 3, requestWindowMs: 400 },
    });
    const t = await token(sb);
    const megan = await token(sb, 'megan@contoso.test');
    // The window is measured on the clock the sandbox reads: hold it still, then move it past
    // the window, so a slow machine cannot stretch four requests over it.
    vi.useFakeTimers({ toFake: ['Date'], now: Date.now() });
    try {
      const statuses = [];
      for (let i = 0; i < 4; i++)
        statuses.push((await call(sb, t, 'GET', '/v1.0/me/mailFolders')).status);
      expect(statuses).toEqual([200, 200, 200, 429]);
      expect((await call(sb, megan, 'GET', '/v1.0/me/mailFolders')).status).toBe(200);
      vi.setSystemTime(Date.now() + 399);
      expect((await call(sb, t, 'GET', '/v1.0/me/mailFolders')).status).toBe(429);
      vi.setSystemTime(Date.now() + 401);
      expect((await call(sb, t, 'GET', '/v1.0/me/mailFolders')).status).toBe(200);
    } finally {
      vi.useRealTimers();
    }
  });

  it('limits upload volume per window (uploads and upload-session PUTs)', async () => {
    sb = await withSandbox({
      messagesPerUser: 5,
      limits: { uploadBytesPerWindow: 4000, uploadWindowMs: 60_000 },
    });
    const t = await token(sb);
    const body = { subject: 'x'.repeat(1500) };
    expect((await call(sb, t, 'POST', '/v1.0/me/messages', { body })).status).toBe(201);
    expect((await call(sb, t, 'POST', '/v1.0/me/messages', { body })).status).toBe(201);
    const third = await call(sb, t, 'POST', '/v1.0/me/messages', { body });
    expect(third.status).toBe(429);
    expect(Number(third.headers.get('retry-after'))).toBeGreaterThan(0);
  });

  it('refuses request bodies over the 4 MB limit with 413', async () => {
    sb = await withSandbox({ messagesPerUser: 5, limits: { maxRequestBytes: 1000 } });
    const t = await token(sb);
    const r = await call(sb, t, 'POST', '/v1.0/me/messages', {
      body: { subject: 'y'.repeat(2000) },
    });
    expect(r.status).toBe(413);
    expect(r.json).toMatchObject({ error: { code: 'RequestEntityTooLarge' } });
  });

  it('counts the sizes the docs give in MB in decimal bytes: 4,000,000 per request and range, 3,000,000 per session', async () => {
    sb = await withSandbox({ messagesPerUser: 5 });
    const t = await token(sb);
    // A JSON body of exactly `bytes` bytes: `{"subject":"xx…"}`.
    const sized = (bytes: number) => `{"subject":"${'x'.repeat(bytes - 14)}"}`;
    const post = (bytes: number) =>
      call(sb!, t, 'POST', '/v1.0/me/messages', {
        body: sized(bytes),
        headers: { 'Content-Type': 'application/json' },
      });
    expect((await post(4_000_001)).status).toBe(413);
    const draft = await post(4_000_000);
    expect(draft.status).toBe(201);
    const session = (size: number) =>
      call(
        sb!,
        t,
        'POST',
        `/v1.0/me/messages/${draft.json.id as string}/attachments/createUploadSession`,
        { body: { AttachmentItem: { attachmentType: 'file', name: 'a.bin', size } } },
      );
    expect((await session(2_999_999)).json).toMatchObject({
      error: { code: 'ErrorAttachmentSizeShouldNotBeLessThanMinimumSize' },
    });
    const size = 9_000_000;
    const open = await session(size);
    expect(open.status).toBe(201);
    const put = (start: number, length: number) =>
      fetch(open.json.uploadUrl as string, {
        method: 'PUT',
        headers: { 'Content-Range': `bytes ${start}-${start + length - 1}/${size}` },
        body: new Uint8Array(length),
      });
    expect((await put(0, 4_000_001)).status).toBe(413);
    expect((await put(0, 4_000_000)).status).toBe(200);
    expect((await session(3_000_000)).status).toBe(201);
    // 150 MB of uploads per 5 minutes, decimal as well (too big to upload in a unit test).
    const limits = (await (await fetch(`${sb.url}/_sandbox/limits`)).json()) as Record<
      string,
      number
    >;
    expect(limits).toMatchObject({ uploadBytesPerWindow: 150_000_000, uploadWindowMs: 300_000 });
  });

  it("refuses to send a message over the mailbox's MaxSendSize counted as sent (base64)", async () => {
    // 3,000 raw bytes pass a 3,800-byte limit; their base64 (4,000+) and headers do not.
    sb = await withSandbox({ messagesPerUser: 5, limits: { maxSendSizeBytes: 3_800 } });
    const t = await token(sb);
    const message = (bytes: number) => ({
      subject: 'size',
      toRecipients: [{ emailAddress: { address: 'megan@contoso.test' } }],
      attachments: [
        {
          '@odata.type': '#microsoft.graph.fileAttachment',
          name: 'a.bin',
          contentBytes: Buffer.alloc(bytes, 1).toString('base64'),
        },
      ],
    });
    const big = await call(sb, t, 'POST', '/v1.0/me/sendMail', {
      body: { message: message(3_000) },
    });
    expect(big.status).toBe(413);
    expect(big.json).toMatchObject({ error: { code: 'ErrorMessageSizeExceeded' } });
    const small = await call(sb, t, 'POST', '/v1.0/me/sendMail', {
      body: { message: message(1_000) },
    });
    expect(small.status).toBe(202);
  });
});

describe('late Sent Items copies', () => {
  let sb: Sandbox | undefined;
  afterEach(async () => {
    await sb?.close();
    sb = undefined;
  });

  const message = (subject: string) => ({
    subject,
    toRecipients: [{ emailAddress: { address: 'megan@contoso.test' } }],
  });
  const sentSubjects = () => sb!.control.sentItems('adele@contoso.test').map((m) => m.subject);

  it('answers sendMail and send 202 before the Sent Items copy exists; it appears after sentItemsDelayMs', async () => {
    sb = await withSandbox({ messagesPerUser: 5, limits: { sentItemsDelayMs: 60_000 } });
    const t = await token(sb);
    const mailed = await call(sb, t, 'POST', '/v1.0/me/sendMail', {
      body: { message: message('late mail') },
    });
    expect(mailed.status).toBe(202);
    const immutable = { Prefer: 'IdType="ImmutableId"' };
    const draft = await call(sb, t, 'POST', '/v1.0/me/messages', {
      body: message('late draft'),
      headers: immutable,
    });
    const sent = await call(sb, t, 'POST', `/v1.0/me/messages/${String(draft.json.id)}/send`);
    expect(sent.status).toBe(202);
    // Delivered, but the sender's copy is still on its way: in the Outbox, no longer a draft.
    await vi.waitFor(() =>
      expect(sb!.control.messages('megan@contoso.test', 'inbox').map((m) => m.subject)).toEqual(
        expect.arrayContaining(['late mail', 'late draft']),
      ),
    );
    expect(sentSubjects()).not.toContain('late mail');
    expect(sentSubjects()).not.toContain('late draft');
    const waiting = sb.control.outbox('adele@contoso.test');
    expect(waiting.map((m) => [m.subject, m.isDraft])).toEqual(
      expect.arrayContaining([
        ['late mail', false],
        ['late draft', false],
      ]),
    );
    const byId = await call(
      sb,
      t,
      'GET',
      `/v1.0/me/messages/${String(draft.json.id)}?$select=isDraft`,
      { headers: immutable },
    );
    expect(byId.json.isDraft).toBe(false);

    // Over HTTP too: a shorter delay applies to the next sends.
    const patched = await fetch(`${sb.url}/_sandbox/limits`, {
      method: 'PATCH',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ sentItemsDelayMs: 200 }),
    });
    expect(((await patched.json()) as { sentItemsDelayMs: number }).sentItemsDelayMs).toBe(200);
    await call(sb, t, 'POST', '/v1.0/me/sendMail', { body: { message: message('soon') } });
    expect(sentSubjects()).not.toContain('soon');
    await vi.waitFor(() => expect(sentSubjects()).toContain('soon'), { timeout: 5000 });
    expect(sentSubjects()).not.toContain('late mail');
  });

  it('keeps nothing with saveToSentItems false, delay or not', async () => {
    sb = await withSandbox({ messagesPerUser: 5, limits: { sentItemsDelayMs: 50 } });
    const t = await token(sb);
    await call(sb, t, 'POST', '/v1.0/me/sendMail', {
      body: { message: message('unsaved'), saveToSentItems: false },
    });
    await vi.waitFor(() =>
      expect(sb!.control.messages('megan@contoso.test', 'inbox').map((m) => m.subject)).toContain(
        'unsaved',
      ),
    );
    expect(sb.control.outbox('adele@contoso.test').map((m) => m.subject)).not.toContain('unsaved');
    expect(sentSubjects()).not.toContain('unsaved');
  });
});

describe('fault injection', () => {
  let sb: Sandbox;
  afterEach(() => sb.close());

  it('answers 429/503 with Retry-After for a limited count, then recovers', async () => {
    sb = await withSandbox({ messagesPerUser: 5 });
    const t = await token(sb);
    sb.control.injectFault({
      method: 'GET',
      path: '/v1.0/me/messages*',
      status: 503,
      retryAfterSeconds: 2,
      count: 2,
    });
    const a = await call(sb, t, 'GET', '/v1.0/me/messages');
    expect(a.status).toBe(503);
    expect(a.headers.get('retry-after')).toBe('2');
    expect((await call(sb, t, 'GET', '/v1.0/me/messages')).status).toBe(503);
    expect((await call(sb, t, 'GET', '/v1.0/me/messages')).status).toBe(200);
    expect((await call(sb, t, 'GET', '/v1.0/me/mailFolders')).status).toBe(200);
    sb.control.injectFault({ path: '*/mailFolders', status: 429 });
    expect((await call(sb, t, 'GET', '/v1.0/me/mailFolders')).json).toMatchObject({
      error: { code: 'TooManyRequests' },
    });
    sb.control.clearFaults();
    expect((await call(sb, t, 'GET', '/v1.0/me/mailFolders')).status).toBe(200);
  });

  it('adds latency, drops connections, and fires with a seeded probability', async () => {
    sb = await withSandbox({ messagesPerUser: 5 });
    const t = await token(sb);
    sb.control.injectFault({ path: '/v1.0/me', latencyMs: 200, count: 1 });
    const started = Date.now();
    expect((await call(sb, t, 'GET', '/v1.0/me')).status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(190);
    sb.control.injectFault({ path: '/v1.0/me/mailFolders', drop: true, count: 1 });
    await expect(
      fetch(`${sb.url}/v1.0/me/mailFolders`, { headers: { Authorization: `Bearer ${t}` } }),
    ).rejects.toThrow();
    sb.control.injectFault({ path: '/v1.0/me/messages', status: 504, probability: 0.5 });
    const statuses = [];
    for (let i = 0; i < 20; i++)
      statuses.push((await call(sb, t, 'GET', '/v1.0/me/messages')).status);
    expect(statuses.filter((s) => s === 504).length).toBeGreaterThan(2);
    expect(statuses.filter((s) => s === 200).length).toBeGreaterThan(2);
  });

  it('"504 after accept": the send happens but the caller gets 504', async () => {
    sb = await withSandbox({ messagesPerUser: 5 });
    const t = await token(sb);
    sb.control.injectFault({
      method: 'POST',
      path: '/v1.0/me/sendMail',
      afterAccept: true,
      count: 1,
    });
    const r = await call(sb, t, 'POST', '/v1.0/me/sendMail', {
      body: {
        message: {
          subject: 'ghost',
          toRecipients: [{ emailAddress: { address: 'megan@contoso.test' } }],
        },
      },
    });
    expect(r.status).toBe(504);
    await vi.waitFor(() =>
      expect(sb!.control.sentItems('adele@contoso.test').map((m) => m.subject)).toContain('ghost'),
    );
    expect(sb.control.messages('megan@contoso.test', 'inbox').map((m) => m.subject)).toContain(
      'ghost',
    );
  });

  it('injects faults on identity and upload paths with their own error shapes', async () => {
    sb = await withSandbox({ messagesPerUser: 5 });
    const rt = (
      await sb.control.issueTokens('adele@contoso.test', {
        scopes: 'Mail.ReadWrite offline_access',
      })
    ).refresh_token!;
    sb.control.injectFault({
      method: 'POST',
      path: '*/oauth2/v2.0/token',
      status: 503,
      retryAfterSeconds: 1,
      count: 1,
    });
    const refresh = () =>
      fetch(`${sb.url}/${sb.tenantId}/oauth2/v2.0/token`, {
        method: 'POST',
        headers: {
          'Content-Type': 'application/x-www-form-urlencoded',
          'client-request-id': 'corr-1',
        },
        body: new URLSearchParams({
          grant_type: 'refresh_token',
          refresh_token: rt,
          client_id: sb.clientId,
          client_secret: sb.clientSecret,
        }).toString(),
      });
    const failed = await refresh();
    expect(failed.status).toBe(503);
    expect(failed.headers.get('retry-after')).toBe('1');
    expect(await failed.json()).toMatchObject({
      error: 'temporarily_unavailable',
      correlation_id: 'corr-1',
    });
    const ok = await refresh();
    expect(ok.status).toBe(200);
    expect(ok.headers.get('client-request-id')).toBe('corr-1');
    const t = await token(sb);
    const draft = await call(sb, t, 'POST', '/v1.0/me/messages', { body: { subject: 'u' } });
    const session = await call(
      sb,
      t,
      'POST',
      `/v1.0/me/messages/${draft.json.id as string}/attachments/createUploadSession`,
      {
        body: { AttachmentItem: { attachmentType: 'file', name: 'a.bin', size: 3 * 1024 * 1024 } },
      },
    );
    sb.control.injectFault({ method: 'PUT', path: '/api/v2.0/*', afterAccept: true, count: 1 });
    const put = (start: number) =>
      fetch(session.json.uploadUrl as string, {
        method: 'PUT',
        headers: { 'Content-Range': `bytes ${start}-${start + 9}/${3 * 1024 * 1024}` },
        body: new Uint8Array(10),
      });
    const lost = await put(0);
    expect(lost.status).toBe(504);
    expect(await lost.json()).toMatchObject({ error: { code: 'GatewayTimeout' } });
    // The chunk was stored: resending it is out of order, the next one is expected.
    expect((await put(0)).status).toBe(416);
    expect((await put(10)).status).toBe(200);
  });

  it('logs requests without token values', async () => {
    sb = await withSandbox({ messagesPerUser: 5 });
    const t = await token(sb);
    sb.control.clearRequestLog();
    await call(sb, t, 'GET', '/v1.0/me/messages?$top=2');
    const [entry] = sb.control.requestLog();
    expect(entry).toMatchObject({
      method: 'GET',
      path: '/v1.0/me/messages',
      query: '%24top=2',
      status: 200,
      mailbox: 'adele@contoso.test',
      bodyBytes: 0,
    });
    expect(entry!.headersPresent).toContain('authorization');
    expect(JSON.stringify(sb.control.requestLog())).not.toContain(t);
  });
});
