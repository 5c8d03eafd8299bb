import { describe, expect, it, vi } from 'vitest';
import { call, pkcePair, tokenRequest, withSandbox } from '../../support/sandbox';
import { useStack } from '../../support/use-stack';

const REDIRECT = 'http://127.0.0.1:7071/api/oauth/callback';

describe('identity platform', () => {
  const sb = useStack(() =>
    withSandbox({
      clients: [{ clientId: 'app-1', clientSecret: 's3cret', redirectUris: [REDIRECT] }],
      autoConsent: false,
    }),
  );

  /** Token request as the registered confidential client. */
  const asApp = (form: Record<string, string>) =>
    tokenRequest(sb, { client_id: 'app-1', client_secret: 's3cret', ...form });

  const authorizeUrl = (params: Record<string, string>): string =>
    `${sb.url}/${sb.tenantId}/oauth2/v2.0/authorize?${new URLSearchParams({ client_id: 'app-1', response_type: 'code', redirect_uri: REDIRECT, scope: 'offline_access User.Read Mail.Read', state: 'xyz', ...params }).toString()}`;

  /** Walks the consent page like a browser: GET authorize, POST the form with Accept. */
  async function consent(
    params: Record<string, string>,
    decision = 'accept',
    user?: string,
  ): Promise<URL> {
    const page = await fetch(authorizeUrl(params), { redirect: 'manual' });
    expect(page.status).toBe(200);
    const html = await page.text();
    const requestId = /name="sandbox_request" value="([^"]+)"/.exec(html)![1]!;
    const checked = /value="([^"]+)" checked/.exec(html)![1]!;
    const res = await fetch(authorizeUrl(params), {
      method: 'POST',
      redirect: 'manual',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        sandbox_request: requestId,
        user: user ?? checked,
        decision,
      }).toString(),
    });
    expect(res.status).toBe(302);
    return new URL(res.headers.get('location')!);
  }

  it('runs the auth code + PKCE flow through the consent page; login_hint picks the user; state is echoed', async () => {
    const { verifier, challenge } = pkcePair();
    const page = await (
      await fetch(
        authorizeUrl({
          code_challenge: challenge,
          code_challenge_method: 'S256',
          login_hint: 'megan@contoso.test',
        }),
      )
    ).text();
    expect(page).toContain('value="megan@contoso.test" checked');
    expect(page).not.toContain('support@contoso.test'); // shared mailboxes cannot sign in
    const back = await consent({
      code_challenge: challenge,
      code_challenge_method: 'S256',
      login_hint: 'megan@contoso.test',
    });
    expect(back.origin + back.pathname).toBe(REDIRECT);
    expect(back.searchParams.get('state')).toBe('xyz');
    const code = back.searchParams.get('code')!;
    const r = await asApp({
      grant_type: 'authorization_code',
      code,
      redirect_uri: REDIRECT,
      code_verifier: verifier,
    });
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ token_type: 'Bearer', expires_in: 3599 });
    expect(typeof r.json.refresh_token).toBe('string');
    const me = await call(sb, r.json.access_token as string, 'GET', '/v1.0/me');
    expect(me.json.userPrincipalName).toBe('megan@contoso.test');
    // Codes are single use.
    const again = await asApp({
      grant_type: 'authorization_code',
      code,
      redirect_uri: REDIRECT,
      code_verifier: verifier,
    });
    expect(again.status).toBe(400);
    expect(again.json).toMatchObject({ error: 'invalid_grant', error_codes: [54005] });
    expect(again.json.error_description).toMatch(/^AADSTS54005:/);
    for (const k of ['timestamp', 'trace_id', 'correlation_id'])
      expect(typeof again.json[k]).toBe('string');
  });

  it('rejects a wrong or missing PKCE verifier', async () => {
    const { challenge } = pkcePair();
    const code = (
      await consent({ code_challenge: challenge, code_challenge_method: 'S256' })
    ).searchParams.get('code')!;
    const bad = await asApp({
      grant_type: 'authorization_code',
      code,
      redirect_uri: REDIRECT,
      code_verifier: pkcePair().verifier,
    });
    expect(bad.json).toMatchObject({ error: 'invalid_grant', error_codes: [501481] });
    const code2 = (
      await consent({ code_challenge: challenge, code_challenge_method: 'S256' })
    ).searchParams.get('code')!;
    const missing = await asApp({
      grant_type: 'authorization_code',
      code: code2,
      redirect_uri: REDIRECT,
    });
    expect(missing.json).toMatchObject({ error: 'invalid_grant', error_codes: [50148] });
  });

  it('refuses an unregistered redirect_uri on a page and a different one at redemption', async () => {
    const page = await fetch(authorizeUrl({ redirect_uri: 'http://evil.example/cb' }), {
      redirect: 'manual',
    });
    expect(page.status).toBe(400);
    expect(await page.text()).toContain('AADSTS50011');
    const code = (await consent({})).searchParams.get('code')!;
    const r = await asApp({
      grant_type: 'authorization_code',
      code,
      redirect_uri: 'http://127.0.0.1:7071/other',
    });
    expect(r.json).toMatchObject({ error: 'invalid_grant' });
  });

  it('cancel on the consent page redirects with access_denied', async () => {
    const back = await consent({}, 'cancel');
    expect(back.searchParams.get('error')).toBe('access_denied');
    expect(back.searchParams.get('state')).toBe('xyz');
  });

  it('gives no refresh token without offline_access, and rotates refresh tokens (old stays valid until revoked)', async () => {
    const noOffline = (await consent({ scope: 'User.Read Mail.Read' })).searchParams.get('code')!;
    const r0 = await asApp({
      grant_type: 'authorization_code',
      code: noOffline,
      redirect_uri: REDIRECT,
    });
    expect(r0.json.refresh_token).toBeUndefined();

    const code = (await consent({ login_hint: 'adele@contoso.test' })).searchParams.get('code')!;
    const first = await asApp({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT });
    const rt1 = first.json.refresh_token as string;
    // Basic client authentication works as well as the form field.
    const basic = `Basic ${Buffer.from('app-1:s3cret').toString('base64')}`;
    const second = await tokenRequest(
      sb,
      { client_id: 'app-1', grant_type: 'refresh_token', refresh_token: rt1 },
      { Authorization: basic },
    );
    expect(second.status).toBe(200);
    const rt2 = second.json.refresh_token as string;
    expect(rt2).not.toBe(rt1);
    const reuse = await asApp({ grant_type: 'refresh_token', refresh_token: rt1 });
    expect(reuse.status).toBe(200);
    sb.control.revokeRefreshTokens('adele@contoso.test');
    for (const rt of [rt1, rt2]) {
      const dead = await asApp({ grant_type: 'refresh_token', refresh_token: rt });
      expect(dead.status).toBe(400);
      expect(dead.json).toMatchObject({ error: 'invalid_grant', error_codes: [50173] });
    }
  });

  it('expires codes and idle refresh tokens with the documented codes', async () => {
    sb.control.setLimits({ authCodeLifetimeSeconds: 0, refreshTokenInactivitySeconds: 0 });
    // The sandbox's clock, moved past each zero lifetime instead of waiting for it to pass.
    vi.useFakeTimers({ toFake: ['Date'], now: Date.now(), shouldAdvanceTime: true });
    try {
      const code = (await consent({})).searchParams.get('code')!;
      vi.setSystemTime(Date.now() + 5);
      const expired = await asApp({
        grant_type: 'authorization_code',
        code,
        redirect_uri: REDIRECT,
      });
      expect(expired.json).toMatchObject({ error: 'invalid_grant', error_codes: [70008] });
      const rt = (
        await sb.control.issueTokens('megan@contoso.test', {
          scopes: 'Mail.Read offline_access',
          clientId: 'app-1',
        })
      ).refresh_token!;
      vi.setSystemTime(Date.now() + 5);
      const idle = await asApp({ grant_type: 'refresh_token', refresh_token: rt });
      expect(idle.json).toMatchObject({ error: 'invalid_grant', error_codes: [700082] });
    } finally {
      vi.useRealTimers();
      sb.control.setLimits({
        authCodeLifetimeSeconds: 600,
        refreshTokenInactivitySeconds: 90 * 86_400,
      });
    }
  });

  it('answers client, scope and grant-type errors like Entra', async () => {
    const rt = (
      await sb.control.issueTokens('adele@contoso.test', {
        scopes: 'Mail.Read offline_access',
        clientId: 'app-1',
      })
    ).refresh_token!;
    const badSecret = await tokenRequest(sb, {
      client_id: 'app-1',
      client_secret: 'nope',
      grant_type: 'refresh_token',
      refresh_token: rt,
    });
    expect(badSecret.status).toBe(401);
    expect(badSecret.json).toMatchObject({ error: 'invalid_client', error_codes: [7000215] });
    const badScope = await asApp({
      grant_type: 'refresh_token',
      refresh_token: rt,
      scope: 'https://foo.microsoft.com/mail.read',
    });
    expect(badScope.json).toMatchObject({ error: 'invalid_scope', error_codes: [70011] });
    const wider = await asApp({
      grant_type: 'refresh_token',
      refresh_token: rt,
      scope: 'Mail.Send',
    });
    expect(wider.json).toMatchObject({ error: 'invalid_grant' });
    const garbled = await tokenRequest(
      sb,
      { grant_type: 'refresh_token', refresh_token: rt },
      { Authorization: 'Basic %%%' },
    );
    expect(garbled.status).toBe(400);
    const grant = await asApp({ grant_type: 'password' });
    expect(grant.json).toMatchObject({ error: 'unsupported_grant_type' });
    const jsonBody = await fetch(`${sb.url}/${sb.tenantId}/oauth2/v2.0/token`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ grant_type: 'refresh_token' }),
    });
    expect(jsonBody.status).toBe(400);
    expect(((await jsonBody.json()) as { error_codes: number[] }).error_codes).toEqual([900144]);
  });

  it('serves OpenID discovery and signing keys', async () => {
    const conf = (await (
      await fetch(`${sb.url}/${sb.tenantId}/v2.0/.well-known/openid-configuration`)
    ).json()) as Record<string, string>;
    expect(conf.token_endpoint).toBe(`${sb.url}/${sb.tenantId}/oauth2/v2.0/token`);
    const keys = (await (await fetch(conf.jwks_uri!)).json()) as {
      keys: Array<{ kty: string; kid: string }>;
    };
    expect(keys.keys[0]).toMatchObject({ kty: 'RSA' });
  });

  it('autoConsent redirects straight back with a code for the hinted user', async () => {
    const auto = await withSandbox({ autoConsent: true, messagesPerUser: 5 });
    try {
      const url = `${auto.url}/organizations/oauth2/v2.0/authorize?${new URLSearchParams({ client_id: auto.clientId, response_type: 'code', redirect_uri: 'http://localhost/cb', scope: 'User.Read offline_access', login_hint: 'megan@contoso.test', state: 's' }).toString()}`;
      const res = await fetch(url, { redirect: 'manual' });
      expect(res.status).toBe(302);
      const back = new URL(res.headers.get('location')!);
      const r = await tokenRequest(auto, {
        client_id: auto.clientId,
        client_secret: auto.clientSecret,
        grant_type: 'authorization_code',
        code: back.searchParams.get('code')!,
        redirect_uri: 'http://localhost/cb',
      });
      expect((await call(auto, r.json.access_token as string, 'GET', '/v1.0/me')).json.mail).toBe(
        'megan@contoso.test',
      );
    } finally {
      await auto.close();
    }
  });
});
