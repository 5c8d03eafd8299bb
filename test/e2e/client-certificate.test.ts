import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { DEV_CLIENT } from '../../src/local/sandbox';
import { testCertificate, type TestCertificate } from '../support/certificates';
import { type Harness, startHarness, tokenCalls } from '../support/credential-harness';

/**
 * CLIENT_CERTIFICATE end to end against the sandbox's identity platform, which verifies every
 * client assertion as Entra does (signature, audience, lifetime, jti single use). CLIENT_SECRET is
 * set to a wrong value too: the certificate must win, so a product that sent the secret fails.
 */
describe('certificate credentials of the app registration', () => {
  let h: Harness;
  let cert: TestCertificate;
  beforeAll(async () => {
    cert = testCertificate();
    h = await startHarness({
      sandbox: { clients: [{ ...DEV_CLIENT, certificates: [cert.certificate] }] },
      env: { CLIENT_SECRET: 'not-the-registered-secret', CLIENT_CERTIFICATE: cert.pem },
    });
  });
  afterAll(async () => {
    await h?.close();
  });

  it('connects a mailbox (code redemption) and refreshes with signed assertions', async () => {
    const upn = h.sandbox.users[0]!.userPrincipalName;
    const connect = await h.api(
      `/api/credentials/bycert/connect?loginHint=${encodeURIComponent(upn)}`,
      { redirect: 'manual' },
    );
    const authorize = new URL(connect.headers.get('location')!);
    const back = await fetch(authorize, { redirect: 'manual' });
    const redirect = new URL(back.headers.get('location')!);
    const page = await fetch(`${h.host.url}/api/oauth/callback${redirect.search}`, {
      headers: { accept: 'text/html' },
    });
    const html = await page.text();
    expect(page.status, html).toBe(200);
    const confirmation = /name="confirmation" value="([^"]+)"/.exec(html)![1]!;
    const confirmed = await fetch(`${h.host.url}/api/oauth/confirm`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        cookie: page.headers.get('set-cookie')!.split(';')[0]!,
      },
      body: new URLSearchParams({ confirmation, decision: 'connect' }).toString(),
    });
    expect(confirmed.status).toBe(201);

    // Two refreshes in a row on fresh instances: each must carry a new assertion (a reused jti is
    // refused). Tokens live 60 s, stale at once (inside the 5 min skew), so each instance refreshes.
    h.sandbox.control.setAccessTokenLifetime(60);
    try {
      const imported = await h.api('/api/credentials/refreshed', {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ refreshToken: await h.issueRefreshToken(upn) }),
      });
      expect(imported.status).toBe(201);
      const key = { serviceId: 'svc', credentialId: 'refreshed' };
      for (let i = 0; i < 2; i++) {
        const before = tokenCalls(h.sandbox);
        const grant = await h.makeApp().services.tokens.getAccessToken(key);
        expect(tokenCalls(h.sandbox) - before).toBe(1);
        const me = await fetch(`${h.sandbox.url}/v1.0/me`, {
          headers: { authorization: `Bearer ${grant.accessToken}` },
        });
        expect(me.status).toBe(200);
      }
    } finally {
      h.sandbox.control.setAccessTokenLifetime(3599);
    }
  });

  it('reports the certificate (not key material) in health, and logs none of it', async () => {
    const report = await h.app.services.health.report();
    expect(report.checks.appRegistration).toMatchObject({
      ok: true,
      detail: expect.stringMatching(
        /certificate x5t#S256 \S+ valid until .*CLIENT_SECRET is set too and unused/,
      ),
    });
    const keyLines = cert.pem
      .split('\n')
      .filter((l) => l.length > 40 && !l.startsWith('-----'))
      .slice(0, 3);
    const logged = h.lines.join('\n');
    expect(logged).not.toContain('PRIVATE KEY');
    for (const line of keyLines) expect(logged).not.toContain(line);
    expect(JSON.stringify(report)).not.toContain('PRIVATE KEY');
  });
});
