import { describe, expect, it, vi } from 'vitest';

import { sleep } from '../../src/core/abort';
import { ReauthRequiredError } from '../../src/core/errors';
import { startHarness, tokenCalls } from '../support/credential-harness';
import { DEFAULT_SCOPES } from '../../src/config';
import { useStack } from '../support/use-stack';

const h = useStack(() => startHarness());

const json = { 'content-type': 'application/json' };
const put = (id: string, body: unknown, serviceId = 'svc') =>
  h.api(`/api/credentials/${id}`, {
    method: 'PUT',
    headers: json,
    body: JSON.stringify(body),
    serviceId,
  });

describe('credential routes', () => {
  it('imports (201, then 200), shows the public view only, isolates services, deletes', async () => {
    const upn = h.sandbox.users[0]!.userPrincipalName;
    const refreshToken = await h.issueRefreshToken();
    const created = await put('c1', { refreshToken, scopes: DEFAULT_SCOPES });
    expect(created.status).toBe(201);
    const view = (await created.json()) as Record<string, unknown>;
    expect(Object.keys(view).sort()).toEqual(
      [
        'account',
        'credentialId',
        'lastRefreshedAt',
        'scopes',
        'serviceId',
        'status',
        'tokenExpiry',
      ].sort(),
    );
    expect(view).toMatchObject({ credentialId: 'c1', serviceId: 'svc', status: 'active' });
    expect((view.account as { address: string }).address.toLowerCase()).toBe(upn.toLowerCase());
    expect(JSON.stringify(view)).not.toContain(refreshToken);

    const replaced = await put('c1', {
      refreshToken: await h.issueRefreshToken(),
      mailbox: 'shared@contoso.example',
    });
    expect(replaced.status).toBe(200);

    const one = await h.api('/api/credentials/c1');
    expect(one.status).toBe(200);
    const body = await one.text();
    expect(body).not.toMatch(/token"\s*:\s*"(?!.*Z")/i);
    const list = (await (await h.api('/api/credentials')).json()) as {
      credentials: Array<{ credentialId: string }>;
    };
    expect(list.credentials.map((c) => c.credentialId)).toEqual(['c1']);

    // Another service: 404 exactly like a credential that does not exist.
    const foreign = await h.api('/api/credentials/c1', { serviceId: 'other' });
    const missing = await h.api('/api/credentials/nope', { serviceId: 'other' });
    expect(foreign.status).toBe(404);
    expect(missing.status).toBe(404);
    const strip = (b: Record<string, unknown>) => ({
      ...b,
      requestId: '',
      instance: '',
      detail: String(b.detail).replace(/c1|nope/, 'X'),
    });
    expect(strip((await foreign.json()) as Record<string, unknown>)).toEqual(
      strip((await missing.json()) as Record<string, unknown>),
    );
    expect(
      (
        (await (await h.api('/api/credentials', { serviceId: 'other' })).json()) as {
          credentials: unknown[];
        }
      ).credentials,
    ).toEqual([]);

    expect((await h.api('/api/credentials/c1', { method: 'DELETE' })).status).toBe(204);
    expect((await h.api('/api/credentials/c1', { method: 'DELETE' })).status).toBe(404);
    expect((await h.api('/api/credentials/c1')).status).toBe(404);
    // Re-creating a deleted (soft-deleted in the vault) name works.
    expect((await put('c1', { refreshToken: await h.issueRefreshToken() })).status).toBe(201);
  });

  it('rejects bad input naming the field and stores nothing', async () => {
    const unknown = await put('bad1', { refreshToken: 'x', refreshTokne: 'y' });
    expect(unknown.status).toBe(400);
    expect(((await unknown.json()) as { errors: Array<{ path: string }> }).errors).toEqual([
      expect.objectContaining({ path: 'refreshTokne' }),
    ]);
    const malformed = await h.api('/api/credentials/bad1', {
      method: 'PUT',
      headers: json,
      body: '{"refreshToken":',
    });
    expect(malformed.status).toBe(400);
    const missing = await put('bad1', {});
    expect(((await missing.json()) as { errors: Array<{ path: string }> }).errors[0]!.path).toBe(
      'refreshToken',
    );
    const invalid = await put('bad1', { refreshToken: 'not-a-real-refresh-token' });
    expect(invalid.status).toBe(400);
    const problem = (await invalid.json()) as {
      code: string;
      errors: Array<{ path: string; message: string }>;
    };
    expect(problem.code).toBe('validation_failed');
    expect(problem.errors[0]!.path).toBe('refreshToken');
    const client = await put('bad1', {
      refreshToken: await h.issueRefreshToken(),
      clientId: '00000000-0000-0000-0000-000000000000',
    });
    expect(((await client.json()) as { errors: Array<{ path: string }> }).errors[0]!.path).toBe(
      'clientId',
    );
    expect((await h.api('/api/credentials/bad1')).status).toBe(404);
    expect((await h.api('/api/credentials/bad%20id')).status).toBe(400);
  });

  it('connects through authorize + callback, refuses replayed, tampered and denied states', async () => {
    const upn = h.sandbox.users[1]!.userPrincipalName;
    const connect = await h.api(
      `/api/credentials/viaoauth/connect?loginHint=${encodeURIComponent(upn)}`,
      { redirect: 'manual' },
    );
    expect(connect.status).toBe(302);
    const authorize = new URL(connect.headers.get('location')!);
    expect(authorize.origin + authorize.pathname).toBe(
      `${h.sandbox.url}/${h.sandbox.tenantId}/oauth2/v2.0/authorize`,
    );
    const p = authorize.searchParams;
    expect(p.get('response_type')).toBe('code');
    expect(p.get('client_id')).toBe(h.sandbox.clientId);
    expect(p.get('redirect_uri')).toBe('http://127.0.0.1:7071/api/oauth/callback');
    expect(p.get('code_challenge_method')).toBe('S256');
    expect(p.get('response_mode')).toBe('query');
    expect(p.get('login_hint')).toBe(upn);
    expect(p.get('scope')).toBe(DEFAULT_SCOPES.join(' '));
    expect(p.get('state')).toBeTruthy();

    const back = await fetch(authorize, { redirect: 'manual' });
    const redirect = new URL(back.headers.get('location')!);
    expect(redirect.searchParams.get('code')).toBeTruthy();
    const callback = `/api/oauth/callback${redirect.search}`;
    const page = await fetch(`${h.host.url}${callback}`, { headers: { accept: 'text/html' } });
    const html = await page.text();
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toContain('text/html');
    expect(html.toLowerCase()).toContain(upn.toLowerCase());
    expect(html).toContain('viaoauth');
    // Nothing is stored until the owner confirms on that page.
    expect((await h.api('/api/credentials/viaoauth')).status).toBe(404);
    const confirmation = /name="confirmation" value="([^"]+)"/.exec(html)![1]!;
    const cookie = page.headers.get('set-cookie')!.split(';')[0]!;
    const confirmed = await fetch(`${h.host.url}/api/oauth/confirm`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie },
      body: new URLSearchParams({ confirmation, decision: 'connect' }).toString(),
    });
    expect(confirmed.status).toBe(201);
    expect(await confirmed.text()).toContain('Mailbox connected');
    const view = (await (await h.api('/api/credentials/viaoauth')).json()) as {
      status: string;
      account: { address: string };
    };
    expect(view.status).toBe('active');
    expect(view.account.address.toLowerCase()).toBe(upn.toLowerCase());

    const replay = await fetch(`${h.host.url}${callback}`, { headers: { accept: 'text/html' } });
    expect(replay.status).toBe(400);
    expect(await replay.text()).toContain('already used');

    const fresh = new URL(
      (await h.api('/api/credentials/c9/connect', { redirect: 'manual' })).headers.get('location')!,
    );
    const state = fresh.searchParams.get('state')!;
    const tampered = state.slice(0, -2) + (state.endsWith('AA') ? 'BB' : 'AA');
    const bad = await fetch(
      `${h.host.url}/api/oauth/callback?code=x&state=${encodeURIComponent(tampered)}`,
      {
        headers: { accept: 'application/json' },
      },
    );
    expect(bad.status).toBe(400);
    expect(bad.headers.get('content-type')).toContain('application/problem+json');
    expect(((await bad.json()) as { errors: Array<{ path: string }> }).errors[0]!.path).toBe(
      'state',
    );

    const denied = await fetch(
      `${h.host.url}/api/oauth/callback?error=access_denied&error_description=${encodeURIComponent('<script>x</script> cancelled')}&state=${encodeURIComponent(state)}`,
    );
    const deniedHtml = await denied.text();
    expect(denied.status).toBe(400);
    expect(deniedHtml).toContain('access_denied');
    expect(deniedHtml).not.toContain('<script>');
    expect((await h.api('/api/credentials/c9')).status).toBe(404);
  });

  it('refreshes once for 100 concurrent requests on an expired credential', async () => {
    h.sandbox.control.setAccessTokenLifetime(60); // stale at once (inside the 5 min skew), still valid for GET /me
    expect((await put('busy', { refreshToken: await h.issueRefreshToken() })).status).toBe(201);
    h.sandbox.control.setAccessTokenLifetime(3599);
    const app = h.makeApp(); // a fresh instance: nothing cached
    const before = tokenCalls(h.sandbox);
    const key = { serviceId: 'svc', credentialId: 'busy' };
    const grants = await Promise.all(
      Array.from({ length: 100 }, () => app.services.tokens.getAccessToken(key)),
    );
    expect(tokenCalls(h.sandbox) - before).toBe(1);
    expect(new Set(grants.map((g) => g.accessToken)).size).toBe(1);
    // The grant works against Graph.
    const me = await fetch(`${h.sandbox.url}/v1.0/me`, {
      headers: { authorization: `Bearer ${grants[0]!.accessToken}` },
    });
    expect(me.status).toBe(200);
  });

  it('retries token endpoint 5xx, dropped connections and timeouts inside the budget', async () => {
    h.sandbox.control.setAccessTokenLifetime(60); // stale at once (inside the 5 min skew), still valid for GET /me
    await put('flaky', { refreshToken: await h.issueRefreshToken() });
    h.sandbox.control.setAccessTokenLifetime(3599);
    // The sandbox honours only `drop` on identity paths, so 5xx and a slow answer are injected
    // in front of it; the real sandbox answers the attempt that gets through.
    const failures: Array<'503' | 'slow'> = ['503', 'slow', '503'];
    const seen: string[] = [];
    const faultyFetch: typeof fetch = async (input, init) => {
      const url = String(input instanceof Request ? input.url : input);
      const next = url.endsWith('/oauth2/v2.0/token') ? failures.shift() : undefined;
      if (next) seen.push(next);
      if (next === '503')
        return new Response('{"error":"temporarily_unavailable"}', { status: 503 });
      if (next === 'slow') await sleep(5_000, init?.signal ?? undefined);
      return fetch(input, init);
    };
    h.sandbox.control.injectFault({
      method: 'POST',
      path: '*/oauth2/v2.0/token',
      drop: true,
      count: 1,
    });
    const app = h.makeApp({ fetch: faultyFetch });
    const grant = await app.services.tokens.getAccessToken({
      serviceId: 'svc',
      credentialId: 'flaky',
    });
    h.sandbox.control.clearFaults();
    expect(seen).toEqual(['503', 'slow', '503']);
    expect(grant.expiresAt).toBeGreaterThan(Date.now() + 30 * 60_000);
  });

  it('marks a revoked credential reauth_required, lists it in health and stops refreshing', async () => {
    const upn = h.sandbox.users[2]!.userPrincipalName;
    h.sandbox.control.setAccessTokenLifetime(60); // stale at once (inside the 5 min skew), still valid for GET /me
    await put('revoked', { refreshToken: await h.issueRefreshToken(upn) });
    h.sandbox.control.setAccessTokenLifetime(3599);
    h.sandbox.control.revokeRefreshTokens(upn);
    const key = { serviceId: 'svc', credentialId: 'revoked' };
    await expect(h.app.services.tokens.getAccessToken(key)).rejects.toBeInstanceOf(
      ReauthRequiredError,
    );
    const before = tokenCalls(h.sandbox);
    await expect(h.app.services.tokens.getAccessToken(key)).rejects.toBeInstanceOf(
      ReauthRequiredError,
    );
    await expect(h.makeApp().services.tokens.getAccessToken(key)).rejects.toBeInstanceOf(
      ReauthRequiredError,
    );
    expect(tokenCalls(h.sandbox)).toBe(before);
    const view = (await (await h.api('/api/credentials/revoked')).json()) as {
      status: string;
      tokenExpiry: unknown;
    };
    expect(view).toMatchObject({ status: 'reauth_required', tokenExpiry: null });
    const health = (await (await h.api('/api/health')).json()) as {
      checks: Record<string, { ok: boolean; data?: { reauthRequired: unknown[] } }>;
    };
    expect(health.checks.secretStore?.ok).toBe(true);
    expect(health.checks.credentials?.data?.reauthRequired).toContainEqual(key);
    const summary = await h.app.services.credentials.keepAlive({ idleDays: 0 });
    expect(summary.reauthRequired).toContainEqual(key);
    expect(h.lines.some((l) => l.includes('/api/credentials/revoked/connect'))).toBe(true);
  });

  it('keep-alive refreshes idle credentials', async () => {
    const before = tokenCalls(h.sandbox);
    // The clock moves past the "just refreshed" window instead of the test waiting it out.
    vi.useFakeTimers({ toFake: ['Date'], now: Date.now() + 350, shouldAdvanceTime: true });
    const summary = await h
      .makeApp()
      .services.credentials.keepAlive({ idleDays: 0, now: Date.now() + 60_000 })
      .finally(() => vi.useRealTimers());
    expect(summary.refreshed).toBeGreaterThan(0);
    expect(summary.failed).toEqual([]);
    expect(tokenCalls(h.sandbox) - before).toBe(summary.refreshed);
  });

  it('never logs a token or refresh token', async () => {
    const secrets: string[] = [];
    for (const id of ['c1', 'busy', 'flaky', 'viaoauth']) {
      const stored = await h.app.services.credentials
        .get({ serviceId: 'svc', credentialId: id })
        .catch(() => undefined);
      if (!stored) continue;
      const grant = await h.app.services.tokens.getAccessToken({
        serviceId: 'svc',
        credentialId: id,
      });
      secrets.push(grant.accessToken);
    }
    expect(secrets.length).toBeGreaterThan(0);
    const text = h.lines.join('\n');
    for (const s of secrets) expect(text).not.toContain(s);
    expect(text).not.toMatch(/refresh_token=(?!\[redacted\])/);
    expect(text).not.toMatch(/"refreshToken":"(?!\[redacted\])/);
  });
});
