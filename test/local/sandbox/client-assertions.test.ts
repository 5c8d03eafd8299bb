import { createHash, randomUUID, X509Certificate } from 'node:crypto';

import { importPKCS8, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

import type { Sandbox } from '../../../src/local/sandbox';
import { testCertificate, type TestCertificate } from '../../support/certificates';
import { tokenRequest, withSandbox } from '../../support/sandbox';

const CLIENT = 'cert-app';
const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

const thumbprint = (pem: string, hash: 'sha256' | 'sha1'): string =>
  createHash(hash).update(new X509Certificate(pem).raw).digest('base64url');

/**
 * Client assertions as Entra verifies them ("Microsoft identity platform application authentication
 * certificate credentials"): the assertions here are made with jose, independently of the product.
 */
describe('sandbox identity platform: certificate credentials', () => {
  let sb: Sandbox;
  let registered: TestCertificate;
  let tokenUrl: string;
  beforeAll(async () => {
    registered = testCertificate();
    sb = await withSandbox({
      messagesPerUser: 1,
      clients: [
        { clientId: CLIENT, clientSecret: 'unused-secret', certificates: [registered.certificate] },
      ],
    });
    tokenUrl = `${sb.url}/${sb.tenantId}/oauth2/v2.0/token`;
  });
  afterAll(() => sb.close());

  interface AssertionOptions {
    cert?: TestCertificate;
    alg?: 'PS256' | 'RS256';
    header?: Record<string, unknown>;
    /** Overrides; an undefined value leaves the claim out. */
    claims?: Record<string, unknown>;
  }

  async function assertion(options: AssertionOptions = {}): Promise<string> {
    const cert = options.cert ?? registered;
    const alg = options.alg ?? 'PS256';
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({
      aud: tokenUrl,
      iss: CLIENT,
      sub: CLIENT,
      jti: randomUUID(),
      nbf: now,
      iat: now,
      exp: now + 300,
      ...options.claims,
    })
      .setProtectedHeader({
        alg,
        typ: 'JWT',
        'x5t#S256': thumbprint(cert.certificate, 'sha256'),
        ...options.header,
      })
      .sign(await importPKCS8(cert.pem.split('-----BEGIN CERTIFICATE-----')[0]!, alg));
  }

  async function refreshToken(): Promise<string> {
    const issued = await sb.control.issueTokens('adele@contoso.test', {
      scopes: 'offline_access Mail.Read',
      clientId: CLIENT,
    });
    return issued.refresh_token!;
  }

  const refreshWith = async (clientAssertion: string, extra: Record<string, string> = {}) =>
    tokenRequest(sb, {
      grant_type: 'refresh_token',
      refresh_token: await refreshToken(),
      client_id: CLIENT,
      client_assertion_type: JWT_BEARER,
      client_assertion: clientAssertion,
      ...extra,
    });

  const rejected = (status: number, error: string, code: number) => ({
    status,
    json: expect.objectContaining({ error, error_codes: [code] }) as unknown,
  });

  it('accepts PS256 (x5t#S256) and RS256 (x5t) assertions signed with the registered certificate', async () => {
    const ps = await refreshWith(await assertion());
    expect(ps.status).toBe(200);
    expect(ps.json).toMatchObject({ token_type: 'Bearer', refresh_token: expect.any(String) });
    const rs = await refreshWith(
      await assertion({
        alg: 'RS256',
        header: { 'x5t#S256': undefined, x5t: thumbprint(registered.certificate, 'sha1') },
      }),
    );
    expect(rs.status).toBe(200);
  });

  it('accepts the token endpoint addressed by the tenant domain as the audience', async () => {
    const byDomain = `${sb.url}/contoso.test/oauth2/v2.0/token`;
    const res = await fetch(byDomain, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'refresh_token',
        refresh_token: await refreshToken(),
        client_id: CLIENT,
        client_assertion_type: JWT_BEARER,
        client_assertion: await assertion({ claims: { aud: byDomain } }),
      }).toString(),
    });
    expect(res.status).toBe(200);
  });

  it('refuses a replayed assertion (jti single use) but not the first use', async () => {
    const once = await assertion();
    expect((await refreshWith(once)).status).toBe(200);
    expect(await refreshWith(once)).toEqual(rejected(401, 'invalid_client', 50013));
  });

  it('refuses an assertion for another audience (AADSTS700023)', async () => {
    for (const aud of [
      `${sb.url}/${sb.tenantId}/oauth2/token`,
      'https://login.microsoftonline.com/common/oauth2/v2.0/token',
      [`${sb.url}/other/oauth2/v2.0/token`],
    ]) {
      expect(await refreshWith(await assertion({ claims: { aud } }))).toEqual(
        rejected(401, 'invalid_client', 700023),
      );
    }
  });

  it('refuses an assertion outside its lifetime or without one (AADSTS700024)', async () => {
    const now = Math.floor(Date.now() / 1000);
    for (const claims of [
      { nbf: now - 900, iat: now - 900, exp: now - 300 },
      { nbf: now + 300, exp: now + 600 },
      { exp: undefined },
    ]) {
      expect(await refreshWith(await assertion({ claims })), JSON.stringify(claims)).toEqual(
        rejected(401, 'invalid_client', 700024),
      );
    }
  });

  it('refuses a bad signature, an unknown key and an expired certificate (AADSTS700027)', async () => {
    const other = testCertificate();
    // Signed by another key while naming the registered certificate.
    const forged = await assertion({
      cert: other,
      header: { 'x5t#S256': thumbprint(registered.certificate, 'sha256') },
    });
    const forgedAnswer = await refreshWith(forged);
    expect(forgedAnswer).toEqual(rejected(401, 'invalid_client', 700027));
    expect(String(forgedAnswer.json.error_description)).toMatch(/failed signature validation/);
    const unknown = await refreshWith(await assertion({ cert: other }));
    expect(unknown).toEqual(rejected(401, 'invalid_client', 700027));
    expect(String(unknown.json.error_description)).toMatch(/The key was not found/);
    // A certificate valid for a day, used two days later (only the clock moves, the rest is real).
    const shortLived = testCertificate(1);
    sb.control.registerClientCertificate(shortLived.certificate, CLIENT);
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      vi.setSystemTime(Date.now() + 2 * 86_400_000);
      const stale = await refreshWith(await assertion({ cert: shortLived }));
      expect(stale).toEqual(rejected(401, 'invalid_client', 700027));
      expect(String(stale.json.error_description)).toMatch(/expired/);
    } finally {
      vi.useRealTimers();
    }
  });

  it('refuses an issuer other than the client (AADSTS700021) and a subject other than the issuer (AADSTS50048)', async () => {
    expect(await refreshWith(await assertion({ claims: { iss: 'someone-else' } }))).toEqual(
      rejected(401, 'invalid_client', 700021),
    );
    expect(await refreshWith(await assertion({ claims: { sub: 'someone-else' } }))).toEqual(
      rejected(401, 'invalid_client', 50048),
    );
  });

  it('refuses unsigned, HMAC-signed and malformed assertions and a missing jti (AADSTS50027)', async () => {
    const base = await assertion();
    const [header, claims] = base.split('.');
    const none = `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url')}.${claims}.`;
    // The classic key-confusion attack: HS256 keyed with the public certificate.
    const hmac = await new SignJWT({ aud: tokenUrl, iss: CLIENT, sub: CLIENT, jti: randomUUID() })
      .setProtectedHeader({
        alg: 'HS256',
        'x5t#S256': thumbprint(registered.certificate, 'sha256'),
      })
      .setExpirationTime('5m')
      .sign(Buffer.from(registered.certificate));
    for (const bad of [none, hmac, `${header}.${claims}`, 'not-a-jwt', `${header}.e30.x`]) {
      expect(await refreshWith(bad), bad.slice(0, 20)).toEqual(
        rejected(401, 'invalid_client', bad === `${header}.e30.x` ? 700027 : 50027),
      );
    }
    expect(await refreshWith(await assertion({ claims: { jti: undefined } }))).toEqual(
      rejected(401, 'invalid_client', 50027),
    );
  });

  it('asks for the assertion type, and for one authentication method only', async () => {
    const form = async (extra: Record<string, string>) =>
      tokenRequest(sb, {
        grant_type: 'refresh_token',
        refresh_token: await refreshToken(),
        client_id: CLIENT,
        client_assertion: await assertion(),
        ...extra,
      });
    expect(await form({})).toEqual(rejected(400, 'invalid_request', 900144));
    expect(await form({ client_assertion_type: 'urn:other' })).toEqual(
      rejected(400, 'invalid_request', 90023),
    );
    expect(
      await form({ client_assertion_type: JWT_BEARER, client_secret: 'unused-secret' }),
    ).toEqual(rejected(400, 'invalid_request', 90023));
  });

  it('registers a certificate over the control API', async () => {
    const fresh = testCertificate();
    const before = await refreshWith(await assertion({ cert: fresh }));
    expect(before).toEqual(rejected(401, 'invalid_client', 700027));
    const res = await fetch(`${sb.url}/_sandbox/clients/certificates`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ clientId: CLIENT, certificate: fresh.certificate }),
    });
    expect(res.status).toBe(201);
    expect(await res.json()).toEqual({
      thumbprintSha256: thumbprint(fresh.certificate, 'sha256'),
      thumbprint: thumbprint(fresh.certificate, 'sha1'),
    });
    expect((await refreshWith(await assertion({ cert: fresh }))).status).toBe(200);
    const bad = await fetch(`${sb.url}/_sandbox/clients/certificates`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ clientId: CLIENT, certificate: 'nope' }),
    });
    expect(bad.status).toBe(400);
  });
});
