import { createHash, generateKeyPairSync, X509Certificate } from 'node:crypto';

import { compactVerify, decodeProtectedHeader, importX509 } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';

import { ConfigError } from '../../src/core/errors';
import {
  appRegistrationHealth,
  CLIENT_ASSERTION_TYPE,
  clientCredentialOf,
  parseClientCertificate,
  signClientAssertion,
} from '../../src/credentials/client-assertion';
import { createTokenEndpoint } from '../../src/credentials/token-endpoint';
import { testCertificate, type TestCertificate } from '../support/certificates';

const CLIENT_ID = '11111111-2222-3333-4444-555555555555';
const TOKEN_URL = 'https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token';

const configProblem = (fn: () => unknown): string => {
  try {
    fn();
  } catch (error) {
    if (error instanceof ConfigError) return error.message;
    throw error;
  }
  throw new Error('no ConfigError');
};

describe('client certificate (CLIENT_CERTIFICATE)', () => {
  let cert: TestCertificate;
  let other: TestCertificate;
  beforeAll(() => {
    cert = testCertificate();
    other = testCertificate();
  });
  const keyOf = (t: TestCertificate) =>
    t.pem.slice(0, t.pem.indexOf('-----BEGIN CERTIFICATE-----'));

  it('reads the PEM a Key Vault certificate reference resolves to, chain order aside', () => {
    const parsed = parseClientCertificate(cert.pem);
    const der = new X509Certificate(cert.certificate).raw;
    expect(parsed.thumbprintSha256).toBe(createHash('sha256').update(der).digest('base64url'));
    expect(parsed.notAfter.getTime()).toBeGreaterThan(Date.now());
    // Another certificate first (a chain): the one matching the key is used.
    const chained = parseClientCertificate(`${keyOf(cert)}${other.certificate}${cert.certificate}`);
    expect(chained.thumbprintSha256).toBe(parsed.thumbprintSha256);
  });

  it('names what is wrong with an unusable value', () => {
    expect(
      configProblem(() => parseClientCertificate('MIIKYAIBAzCCChwGCSqGSIb3DQEHAaCCCg0=')),
    ).toMatch(/^Setting CLIENT_CERTIFICATE: is base64 PKCS#12; .*application\/x-pem-file/);
    expect(configProblem(() => parseClientCertificate(cert.certificate))).toMatch(
      /must be PEM holding the private key and the certificate/,
    );
    expect(
      configProblem(() => parseClientCertificate(`${keyOf(cert)}${other.certificate}`)),
    ).toMatch(/no certificate that matches its private key/);
    const encrypted = generateKeyPairSync('rsa', { modulusLength: 2048 })
      .privateKey.export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'x' })
      .toString();
    expect(configProblem(() => parseClientCertificate(`${encrypted}${cert.certificate}`))).toMatch(
      /encrypted private key/,
    );
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' })
      .privateKey.export({ type: 'pkcs8', format: 'pem' })
      .toString();
    expect(configProblem(() => parseClientCertificate(`${ec}${cert.certificate}`))).toMatch(
      /has a ec key; client assertions are signed with RSA/,
    );
    expect(
      configProblem(() =>
        clientCredentialOf({
          clientSecret: undefined,
          clientCertificate: '@Microsoft.KeyVault(SecretUri=https://kv.vault.azure.net/secrets/c)',
        }),
      ),
    ).toBe('Setting CLIENT_CERTIFICATE: is a Key Vault reference that did not resolve');
  });

  it('signs a PS256 assertion with x5t#S256 and the documented claims, new for every request', async () => {
    const certificate = parseClientCertificate(cert.pem);
    const now = Date.now();
    const first = signClientAssertion(certificate, { clientId: CLIENT_ID, audience: TOKEN_URL });
    const second = signClientAssertion(certificate, { clientId: CLIENT_ID, audience: TOKEN_URL });
    expect(decodeProtectedHeader(first)).toEqual({
      alg: 'PS256',
      typ: 'JWT',
      'x5t#S256': certificate.thumbprintSha256,
    });
    // Verified by an independent JOSE implementation against the public certificate.
    const { payload } = await compactVerify(first, await importX509(cert.certificate, 'PS256'));
    const claims = JSON.parse(Buffer.from(payload).toString('utf8')) as Record<
      string,
      number | string
    >;
    expect(claims).toMatchObject({ aud: TOKEN_URL, iss: CLIENT_ID, sub: CLIENT_ID });
    expect(claims.jti).toMatch(/^[0-9a-f-]{36}$/);
    expect(Math.abs(Number(claims.nbf) * 1000 - now)).toBeLessThan(2_000);
    expect(claims.iat).toBe(claims.nbf);
    expect(Number(claims.exp) - Number(claims.nbf)).toBe(600);
    const secondClaims = JSON.parse(Buffer.from(second.split('.')[1]!, 'base64url').toString()) as {
      jti: string;
    };
    expect(secondClaims.jti).not.toBe(claims.jti);
  });

  it('prefers the certificate over a secret and falls back to the secret', () => {
    expect(clientCredentialOf({ clientSecret: 's', clientCertificate: cert.pem }).kind).toBe(
      'certificate',
    );
    expect(clientCredentialOf({ clientSecret: 's', clientCertificate: undefined })).toEqual({
      kind: 'secret',
      secret: 's',
    });
  });

  it('tells health which credential is used and whether it is usable now, never the key', () => {
    const settings = { clientId: CLIENT_ID, clientSecret: undefined, clientCertificate: cert.pem };
    const now = appRegistrationHealth(settings);
    expect(now).toMatchObject({ ok: true, data: { credential: 'certificate' } });
    expect(now.detail).toMatch(/^client \S+, certificate x5t#S256 \S+ valid until \S+Z$/);
    const notAfter = parseClientCertificate(cert.pem).notAfter.getTime();
    expect(now.detail).not.toMatch(/renew/);
    expect(appRegistrationHealth(settings, notAfter - 10 * 86_400_000).detail).toMatch(
      /renew it soon/,
    );
    expect(appRegistrationHealth(settings, notAfter + 1000)).toMatchObject({
      ok: false,
      detail: expect.stringMatching(/not valid now/),
    });
    expect(JSON.stringify(now)).not.toMatch(/PRIVATE KEY|BEGIN/);
    expect(
      appRegistrationHealth({ ...settings, clientCertificate: undefined, clientSecret: 's' }),
    ).toEqual({ ok: true, detail: `client ${CLIENT_ID}, client secret` });
    expect(appRegistrationHealth({ ...settings, clientId: undefined }).ok).toBe(false);
  });

  it('sends a fresh assertion and no secret on every token request attempt, retries included', async () => {
    const forms: URLSearchParams[] = [];
    const fetchStub: typeof fetch = (_url, init) => {
      forms.push(new URLSearchParams(init?.body as string));
      return Promise.resolve(
        forms.length === 1
          ? new Response('busy', { status: 503 })
          : Response.json({ access_token: 'at', expires_in: 3600, refresh_token: 'rt2' }),
      );
    };
    const endpoint = createTokenEndpoint({
      authorityHost: 'https://login.microsoftonline.com',
      tenantId: 'contoso.onmicrosoft.com',
      clientId: CLIENT_ID,
      credential: { kind: 'certificate', certificate: parseClientCertificate(cert.pem) },
      graphBaseUrl: 'https://graph.microsoft.com',
      fetch: fetchStub,
      retryBaseMs: 1,
    });
    await endpoint.refresh('rt', ['Mail.Read']);
    expect(forms).toHaveLength(2);
    for (const form of forms) {
      expect(form.get('client_secret')).toBeNull();
      expect(form.get('client_assertion_type')).toBe(CLIENT_ASSERTION_TYPE);
      const claims = JSON.parse(
        Buffer.from(form.get('client_assertion')!.split('.')[1]!, 'base64url').toString(),
      ) as { aud: string };
      expect(claims.aud).toBe(TOKEN_URL);
    }
    expect(forms[0]!.get('client_assertion')).not.toBe(forms[1]!.get('client_assertion'));
  });
});
