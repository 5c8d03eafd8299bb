import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import { createApp } from '../../src/app';
import { DEFAULT_SCOPES } from '../../src/config';
import { budgetSignal } from '../../src/core/abort';
import { ReauthRequiredError, UpstreamError } from '../../src/core/errors';
import { createLogger } from '../../src/core/logger';
import { createTokenEndpoint } from '../../src/credentials/token-endpoint';
import { type DocIdentity, startDocIdentity } from '../support/doc-identity';
import { memoryStore, type MemoryStore } from '../support/credential-fakes';
import { connectAndConfirm } from '../support/connect';

/** The credential layer against an identity platform that behaves exactly as documented. */
let idp: DocIdentity;
let dataDir: string;
beforeAll(async () => {
  idp = await startDocIdentity();
  dataDir = await mkdtemp(path.join(tmpdir(), 'cred-docs-'));
});
afterAll(async () => {
  await idp?.close();
  await rm(dataDir, { recursive: true, force: true });
});
afterEach(() => {
  idp.tokenRequests.length = 0;
  idp.scopeEncoding = 'plain';
  idp.omitRefreshToken = false;
  idp.lose.length = 0;
  idp.throttle.length = 0;
  idp.refuse.length = 0;
});

const key = { serviceId: 'svc', credentialId: 'c1' };
const GRANTED = ['User.Read', 'Mail.ReadWrite', 'Mail.Send'].map(
  (s) => `https://graph.microsoft.com/${s}`,
);

function makeApp(
  options: { store?: MemoryStore; env?: Record<string, string>; attemptTimeoutMs?: number } = {},
) {
  const lines: string[] = [];
  const app = createApp({
    env: {
      GRAPH_BASE_URL: idp.url,
      AUTHORITY_HOST: idp.url,
      TENANT_ID: idp.tenantId,
      CLIENT_ID: idp.clientId,
      CLIENT_SECRET: idp.clientSecret,
      LOCAL_DATA_DIR: dataDir,
      PUBLIC_BASE_URL: 'http://127.0.0.1:7071',
      ...options.env,
    },
    log: createLogger((level, line) => lines.push(`${level} ${line}`)),
    credentials: {
      secretStore: options.store ?? memoryStore(),
      // Long enough that a loaded machine never times out an answer that is coming (a retry
      // would send the same refresh token twice); the hang test asks for a short one.
      tokenEndpoint: {
        retryBaseMs: 10,
        retryBudgetMs: 3_000,
        attemptTimeoutMs: options.attemptTimeoutMs ?? 2_500,
      },
      tokenManager: { recentRefreshMs: 0 },
    },
  });
  return { app, lines };
}

const refreshRequests = () => idp.tokenRequests.filter((r) => r.grant_type === 'refresh_token');

async function credentialsHealth(app: ReturnType<typeof makeApp>['app']) {
  const check = app.services.credentials.healthChecks().find((c) => c.name === 'credentials')!;
  return (await check.check({ abortSignal: new AbortController().signal })) as {
    ok: boolean;
    detail: string;
    data: { notRotating: unknown[] };
  };
}

/** Authorize (as the browser would) and hand the callback's query to the service. */
async function connect(app: ReturnType<typeof makeApp>['app'], credentialId = 'c1') {
  const authorize = await app.services.credentials.connectUrl({ serviceId: 'svc', credentialId });
  const back = await fetch(authorize, { redirect: 'manual' });
  expect(back.status).toBe(302);
  const callback = new URL(back.headers.get('location')!);
  expect(callback.origin + callback.pathname).toBe('http://127.0.0.1:7071/api/oauth/callback');
  return connectAndConfirm(app.services.credentials, {
    code: callback.searchParams.get('code')!,
    state: callback.searchParams.get('state')!,
  });
}

describe('credentials against a documentation-faithful identity platform', () => {
  it('requests offline_access on every refresh, so the refresh token keeps rotating', async () => {
    const { app } = makeApp();
    const imported = await app.services.credentials.importRecord(key, {
      refreshToken: idp.issueRefreshToken(DEFAULT_SCOPES),
    });
    // What is reported is what was granted (resource scopes), not what was requested.
    expect(imported.view.scopes).toEqual(GRANTED);
    expect((await app.services.credentials.get(key)).scopes).toEqual(GRANTED);

    for (let i = 0; i < 3; i++) {
      const grant = await app.services.tokens.getAccessToken(key, { forceRefresh: true });
      expect(grant.scopes).toEqual(GRANTED);
    }
    const summary = await app.services.credentials.keepAlive({
      idleDays: 0,
      now: Date.now() + 60_000,
    });
    expect(summary).toMatchObject({ refreshed: 1, failed: [], reauthRequired: [] });

    const sent = refreshRequests();
    expect(sent).toHaveLength(5); // import's validating refresh, three forced, keep-alive
    for (const form of sent) expect(form.scope!.split(' ')).toContain('offline_access');
    // Each refresh used the token the previous one returned: rotation never stopped.
    expect(new Set(sent.map((f) => f.refresh_token)).size).toBe(sent.length);
  });

  it('keeps the old refresh token when none comes back, warns once and reports it in health', async () => {
    const store = memoryStore();
    const { app, lines } = makeApp({ store });
    const original = idp.issueRefreshToken(DEFAULT_SCOPES);
    idp.omitRefreshToken = true;
    await app.services.credentials.importRecord(key, { refreshToken: original });
    await app.services.tokens.getAccessToken(key, { forceRefresh: true });
    await app.services.tokens.getAccessToken(key, { forceRefresh: true });
    expect(refreshRequests().map((f) => f.refresh_token)).toEqual([original, original, original]);
    expect(lines.filter((l) => l.includes('no new refresh token'))).toHaveLength(1);
    expect(lines.find((l) => l.includes('no new refresh token'))).toMatch(/^warn /);
    const health = await credentialsHealth(app);
    expect(health.data.notRotating).toEqual([key]);
    expect(health.detail).toContain('1 not rotating');

    idp.omitRefreshToken = false;
    await app.services.tokens.getAccessToken(key, { forceRefresh: true });
    await app.services.tokens.getAccessToken(key, { forceRefresh: true });
    const sent = refreshRequests().map((f) => f.refresh_token);
    expect(sent[3]).toBe(original);
    expect(sent[4]).not.toBe(original);
    expect((await credentialsHealth(makeApp({ store }).app)).data.notRotating).toEqual([]);
  });

  it('connects with PKCE, the same redirect_uri and offline_access even when not configured', async () => {
    const { app } = makeApp({ env: { GRAPH_SCOPES: 'User.Read Mail.ReadWrite Mail.Send' } });
    const result = await connect(app);
    expect(result).toMatchObject({ created: true, address: 'AdeleV@contoso.example' });
    expect(result.view.scopes).toEqual(GRANTED);
    const [redeem] = idp.tokenRequests;
    expect(redeem).toMatchObject({
      grant_type: 'authorization_code',
      client_id: idp.clientId,
      client_secret: idp.clientSecret,
      redirect_uri: 'http://127.0.0.1:7071/api/oauth/callback',
    });
    expect(redeem!.scope!.split(' ')).toContain('offline_access');
    await app.services.tokens.getAccessToken(key, { forceRefresh: true });
    const [refresh] = refreshRequests();
    expect(refresh!.scope).toBe(redeem!.scope);
    expect(idp.tokenRequests.at(-1)).toMatchObject({ grant_type: 'refresh_token' });
  });

  it.each(['503', 'hang'] as const)(
    'never redeems a code twice: a %s answer asks the user to connect again',
    async (lost) => {
      const { app } = makeApp({ attemptTimeoutMs: 300 });
      idp.lose.push(lost);
      const error = await connect(app, 'lost').catch((e: unknown) => e);
      expect(error).toBeInstanceOf(UpstreamError);
      expect(error).toMatchObject({ code: 'graph_unavailable' });
      expect((error as Error).message).toMatch(/connect again/);
      expect(idp.tokenRequests.map((f) => f.grant_type)).toEqual(['authorization_code']);
    },
  );

  it('reads every encoding of the response scope and honours Retry-After dates', async () => {
    const endpoint = createTokenEndpoint({
      authorityHost: idp.url,
      tenantId: idp.tenantId,
      clientId: idp.clientId,
      credential: { kind: 'secret', secret: idp.clientSecret },
      graphBaseUrl: idp.url,
      retryBaseMs: 10,
      retryBudgetMs: 5_000,
    });
    const refreshToken = idp.issueRefreshToken(DEFAULT_SCOPES);
    for (const encoding of ['plain', 'percent', 'form'] as const) {
      idp.scopeEncoding = encoding;
      const result = await endpoint.refresh(refreshToken, DEFAULT_SCOPES);
      expect(result.grantedScopes, encoding).toEqual(GRANTED);
    }

    idp.throttle.push(new Date(Date.now() + 2_000).toUTCString());
    let started = Date.now();
    await endpoint.refresh(refreshToken, DEFAULT_SCOPES);
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);

    idp.throttle.push('0.4');
    started = Date.now();
    await endpoint.refresh(refreshToken, DEFAULT_SCOPES);
    expect(Date.now() - started).toBeGreaterThanOrEqual(380);
  });

  it("answers a Retry-After that does not fit the caller's budget at once, not by timing out", async () => {
    const endpoint = createTokenEndpoint({
      authorityHost: idp.url,
      tenantId: idp.tenantId,
      clientId: idp.clientId,
      credential: { kind: 'secret', secret: idp.clientSecret },
      graphBaseUrl: idp.url,
      retryBaseMs: 10,
      retryBudgetMs: 60_000,
    });
    const refreshToken = idp.issueRefreshToken(DEFAULT_SCOPES);
    idp.throttle.push('30');
    const error = await endpoint
      .refresh(refreshToken, DEFAULT_SCOPES, { abortSignal: budgetSignal(2_000) })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UpstreamError);
    expect(error).toMatchObject({ code: 'graph_unavailable', retryAfterMs: 30_000 });
  });

  describe('refusals that may pass (issue #15 point 6)', () => {
    async function imported() {
      const { app, lines } = makeApp();
      await app.services.credentials.importRecord(key, {
        refreshToken: idp.issueRefreshToken(DEFAULT_SCOPES),
      });
      idp.tokenRequests.length = 0;
      return { app, lines };
    }
    const status = async (app: ReturnType<typeof makeApp>['app']) =>
      (await app.services.credentials.get(key)).status;

    it('tries a generic invalid_grant (AADSTS70000) once more before asking the user to connect', async () => {
      const { app, lines } = await imported();
      idp.refuse.push({ error: 'invalid_grant', code: 70000 });
      await app.services.tokens.getAccessToken(key, { forceRefresh: true });
      expect(refreshRequests()).toHaveLength(2);
      expect(await status(app)).toBe('active');
      expect(lines.filter((l) => l.includes('trying once more'))).toHaveLength(1);

      // Refused twice: believed, and nothing more is asked of the identity platform.
      idp.refuse.push(
        { error: 'invalid_grant', code: 70000 },
        { error: 'invalid_grant', code: 70000 },
      );
      await expect(
        app.services.tokens.getAccessToken(key, { forceRefresh: true }),
      ).rejects.toBeInstanceOf(ReauthRequiredError);
      expect(refreshRequests()).toHaveLength(4);
      expect(await status(app)).toBe('reauth_required');
    });

    it('believes a definite code (AADSTS70008 expired, AADSTS50173 revoked) at once', async () => {
      for (const code of [70008, 50173]) {
        const { app } = await imported();
        idp.refuse.push({ error: 'invalid_grant', code });
        await expect(
          app.services.tokens.getAccessToken(key, { forceRefresh: true }),
        ).rejects.toBeInstanceOf(ReauthRequiredError);
        expect(refreshRequests(), String(code)).toHaveLength(1);
        expect(await status(app)).toBe('reauth_required');
      }
    });

    it('retries the codes the reference calls transient, whatever error they come with', async () => {
      const { app } = await imported();
      idp.refuse.push(
        { error: 'invalid_request', code: 90024 }, // RequestBudgetExceededError
        { error: 'invalid_grant', code: 50087 }, // SasRetryableError
        { error: 'invalid_request', code: 90033 }, // MsodsServiceUnavailable
      );
      await app.services.tokens.getAccessToken(key, { forceRefresh: true });
      expect(refreshRequests()).toHaveLength(4);
      expect(await status(app)).toBe('active');
    });

    it('never retries a code redemption, even on a generic invalid_grant', async () => {
      const { app } = makeApp();
      idp.refuse.push({ error: 'invalid_grant', code: 70000 });
      await expect(connect(app, 'redeem-once')).rejects.toThrow();
      expect(idp.tokenRequests.map((f) => f.grant_type)).toEqual(['authorization_code']);
    });
  });
});
