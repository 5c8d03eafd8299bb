import { exportJWK, generateKeyPair, SignJWT, type JWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { hashApiKey } from '../../src/config';
import { createAuthenticator } from '../../src/http/auth';
import { startServer } from '../support/http';

const TENANT = '11111111-2222-3333-4444-555555555555';
const AUDIENCE = 'api://aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee';

describe('caller authentication', () => {
  let jwks: { url: string; close(): Promise<void> };
  let signingKey: CryptoKey;
  let strangerKey: CryptoKey;
  let authenticate: ReturnType<typeof createAuthenticator>;

  beforeAll(async () => {
    const pair = await generateKeyPair('RS256');
    const stranger = await generateKeyPair('RS256');
    signingKey = pair.privateKey as CryptoKey;
    strangerKey = stranger.privateKey as CryptoKey;
    const jwk: JWK = { ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' };
    jwks = await startServer((req, res) => {
      if (req.url === `/${TENANT}/discovery/v2.0/keys`) {
        res
          .writeHead(200, { 'content-type': 'application/json' })
          .end(JSON.stringify({ keys: [jwk] }));
      } else res.writeHead(404).end();
    });
    authenticate = createAuthenticator({
      apiKeys: new Map([
        [hashApiKey('key-of-crm'), 'crm'],
        [hashApiKey('key-of-billing'), 'billing'],
      ]),
      bearer: {
        audiences: [AUDIENCE],
        tenantId: TENANT,
        callers: new Map([['cafe0000-0000-0000-0000-00000000beef', 'mapped']]),
      },
      authorityHost: jwks.url,
    });
  });
  afterAll(() => jwks.close());

  const token = (
    claims: Record<string, unknown> = {},
    options: {
      key?: CryptoKey;
      kid?: string;
      issuer?: string;
      audience?: string;
      expiresIn?: string | number;
    } = {},
  ) =>
    new SignJWT({ tid: TENANT, azp: 'app-1', roles: ['Service.crm'], ...claims })
      .setProtectedHeader({ alg: 'RS256', kid: options.kid ?? 'k1' })
      .setIssuer(options.issuer ?? `${jwks.url}/${TENANT}/v2.0`)
      .setAudience(options.audience ?? AUDIENCE)
      .setIssuedAt()
      .setExpirationTime(options.expiresIn ?? '10m')
      .sign(options.key ?? signingKey);

  const bearer = async (jwt: string) =>
    authenticate(new Headers({ authorization: `Bearer ${jwt}` }));

  it('maps an API key to its service', async () => {
    await expect(
      authenticate(new Headers({ 'x-api-key': 'key-of-billing' })),
    ).resolves.toMatchObject({
      serviceId: 'billing',
      kind: 'apiKey',
    });
  });

  it('rejects a wrong or missing API key with unauthenticated', async () => {
    await expect(authenticate(new Headers({ 'x-api-key': 'nope' }))).rejects.toMatchObject({
      code: 'unauthenticated',
    });
    await expect(authenticate(new Headers())).rejects.toMatchObject({ code: 'unauthenticated' });
  });

  it('accepts a valid Entra token and takes the service from its Service.* role', async () => {
    await expect(bearer(await token())).resolves.toMatchObject({
      serviceId: 'crm',
      kind: 'bearer',
    });
  });

  it('maps an app without a role through API_CALLERS', async () => {
    const jwt = await token({ roles: [], azp: 'CAFE0000-0000-0000-0000-00000000BEEF' });
    await expect(bearer(jwt)).resolves.toMatchObject({ serviceId: 'mapped' });
  });

  it('refuses a valid token that maps to no service', async () => {
    await expect(
      bearer(await token({ roles: ['Other.Role'], azp: 'unknown' })),
    ).rejects.toMatchObject({ code: 'forbidden' });
  });

  it.each([
    ['wrong audience', () => token({}, { audience: 'api://someone-else' })],
    ['wrong issuer', () => token({}, { issuer: 'https://evil.example/v2.0' })],
    ['expired', () => token({}, { expiresIn: Math.floor(Date.now() / 1000) - 3600 })],
    ['a key not in the JWKS', () => token({}, { key: strangerKey, kid: 'k1' })],
    ['another tenant', () => token({ tid: '99999999-2222-3333-4444-555555555555' })],
  ])('rejects a token with %s', async (_label, make) => {
    await expect(bearer(await make())).rejects.toMatchObject({ code: 'unauthenticated' });
  });

  it('rejects alg none', async () => {
    const encode = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
    const now = Math.floor(Date.now() / 1000);
    const unsigned = `${encode({ alg: 'none', typ: 'JWT' })}.${encode({
      iss: `${jwks.url}/${TENANT}/v2.0`,
      aud: AUDIENCE,
      tid: TENANT,
      roles: ['Service.crm'],
      exp: now + 600,
      iat: now,
    })}.`;
    await expect(bearer(unsigned)).rejects.toMatchObject({ code: 'unauthenticated' });
  });

  it('rejects an HMAC token signed with the public key material (algorithm confusion)', async () => {
    const hs = await new SignJWT({ tid: TENANT, roles: ['Service.crm'] })
      .setProtectedHeader({ alg: 'HS256', kid: 'k1' })
      .setIssuer(`${jwks.url}/${TENANT}/v2.0`)
      .setAudience(AUDIENCE)
      .setExpirationTime('10m')
      .sign(new TextEncoder().encode('k1-public-material-pretending-to-be-secret'));
    await expect(bearer(hs)).rejects.toMatchObject({ code: 'unauthenticated' });
  });

  it('refuses Bearer tokens when no audience is configured', async () => {
    const keysOnly = createAuthenticator({
      apiKeys: new Map(),
      bearer: undefined,
      authorityHost: jwks.url,
    });
    await expect(
      keysOnly(new Headers({ authorization: `Bearer ${await token()}` })),
    ).rejects.toMatchObject({
      code: 'unauthenticated',
    });
  });
});
