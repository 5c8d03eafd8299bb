import { exportJWK, generateKeyPair, type JWK, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createAuthenticator } from '../../src/http/auth';
import { startServer } from '../support/http';
import { startTestStack } from '../support/stack';
import { useStack } from '../support/use-stack';

/**
 * Issue #14, finding 9: callers are services. A user-delegated token is not a caller however it
 * maps to a service, and a huge base64 attachment is a 400, not a regexp stack overflow.
 */

const TENANT = '11111111-2222-3333-4444-555555555555';
const AUDIENCE = 'api://aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee';
const MAPPED_APP = 'cafe0000-0000-0000-0000-00000000beef';

describe('finding 9: app-only Bearer callers', () => {
  let jwks: { url: string; close(): Promise<void> };
  let key: CryptoKey;
  let authenticate: ReturnType<typeof createAuthenticator>;

  beforeAll(async () => {
    const pair = await generateKeyPair('RS256');
    key = pair.privateKey as CryptoKey;
    const jwk: JWK = { ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' };
    jwks = await startServer((_req, res) => {
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ keys: [jwk] }));
    });
    authenticate = createAuthenticator({
      apiKeys: new Map(),
      bearer: { audiences: [AUDIENCE], tenantId: TENANT, callers: new Map([[MAPPED_APP, 'crm']]) },
      authorityHost: jwks.url,
    });
  });
  afterAll(() => jwks.close());

  const bearer = async (claims: Record<string, unknown>) => {
    const jwt = await new SignJWT({ tid: TENANT, azp: MAPPED_APP, ...claims })
      .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
      .setIssuer(`${jwks.url}/${TENANT}/v2.0`)
      .setAudience(AUDIENCE)
      .setIssuedAt()
      .setExpirationTime('10m')
      .sign(key);
    return authenticate(new Headers({ authorization: `Bearer ${jwt}` }));
  };

  it('refuses a user-delegated token of an app listed in API_CALLERS', async () => {
    // Any user of the tenant signed in to the mapped client app gets such a token.
    await expect(bearer({ scp: 'access_as_user', oid: 'user-1' })).rejects.toMatchObject({
      code: 'forbidden',
      message: expect.stringContaining('app-only'),
    });
    await expect(bearer({ idtyp: 'user' })).rejects.toMatchObject({ code: 'forbidden' });
  });

  it('refuses a delegated token even when the user holds a Service.* role', async () => {
    await expect(bearer({ scp: 'access_as_user', roles: ['Service.crm'] })).rejects.toMatchObject({
      code: 'forbidden',
    });
  });

  it('marks an app with the Operator role (health shows it every service)', async () => {
    await expect(
      bearer({ idtyp: 'app', roles: ['Service.ops', 'Operator'] }),
    ).resolves.toMatchObject({ serviceId: 'ops', operator: true });
    await expect(bearer({ idtyp: 'app' })).resolves.toMatchObject({ operator: false });
  });

  it('accepts app-only tokens: idtyp=app, or no scp', async () => {
    await expect(bearer({ idtyp: 'app' })).resolves.toMatchObject({ serviceId: 'crm' });
    await expect(bearer({ roles: ['Service.billing'] })).resolves.toMatchObject({
      serviceId: 'billing',
    });
  });
});

describe('finding 9: base64 validation without a backtracking regex', () => {
  const stack = useStack(() => startTestStack());

  it('a 14 MB template attachment is checked like a small one (400 naming it, not a 500)', async () => {
    const post = async (contentBase64: string) => {
      const response = await stack.api('/api/templates', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          name: 'n',
          subject: 's',
          body: 'b',
          attachments: [{ name: 'big.bin', contentBase64 }],
        }),
      });
      return { status: response.status, body: (await response.json()) as Record<string, unknown> };
    };
    const almost = `${'QUJD'.repeat(3_500_000)}QU!=`; // 14 MB, one bad character at the end
    expect(await post(almost)).toMatchObject({
      status: 400,
      body: { code: 'validation_failed', errors: [{ path: 'attachments[0].contentBase64' }] },
    });
    // Valid but over the 10 MiB of template attachments: refused by size, naming the list.
    expect(await post('QUJD'.repeat(3_500_000))).toMatchObject({
      status: 400,
      body: { errors: [{ path: 'attachments', message: expect.stringContaining('larger') }] },
    });
  });

  it('a 20 MB attachment of a send is checked without overflowing (400 naming it, no Graph call)', async () => {
    await stack.connect('c20');
    const graphCalls = () => stack.sandbox.control.requestLog().length;
    const before = graphCalls();
    const response = await stack.api('/api/credentials/c20/send', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        to: stack.sandbox.users[1]!.userPrincipalName,
        subject: 's',
        // 20 MB, one bad character at the end: a grouped base64 pattern overflows V8's regexp stack.
        attachments: [{ name: 'big.bin', contentBase64: `${'QUJD'.repeat(5_000_000)}QU!=` }],
      }),
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({
      code: 'validation_failed',
      errors: [{ path: 'attachments[0].contentBase64' }],
    });
    expect(graphCalls()).toBe(before);
  });
});
