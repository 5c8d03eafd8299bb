import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { describe, expect, it, vi } from 'vitest';

import { ReauthRequiredError, UpstreamError } from '../../src/core/errors';
import { createFileDataKeyRing } from '../../src/credentials/data-key';
import { createRecordRepository, secretNameFor } from '../../src/credentials/record';
import { createTokenManager, type TokenManagerOptions } from '../../src/credentials/token-manager';
import { type CredentialRecord } from '../../src/credentials/types';
import { captureLog, fakeEndpoint, memoryStore } from '../support/credential-fakes';

const key = { serviceId: 'svc', credentialId: 'c1' };

async function setup(record: Partial<CredentialRecord> = {}) {
  const store = memoryStore();
  const ring = createFileDataKeyRing(await mkdtemp(path.join(tmpdir(), 'tm-')));
  const repo = createRecordRepository(store, ring);
  const endpoint = fakeEndpoint();
  const { log, lines } = captureLog();
  await repo.write({
    ...key,
    clientId: endpoint.clientId,
    tenantId: 'contoso',
    scopes: ['Mail.Read'],
    account: { id: 'u1', address: 'adele@contoso.example', displayName: 'Adele' },
    refreshToken: 'rt-0',
    status: 'active',
    createdAt: Date.now(),
    rotatedAt: Date.now(),
    ...record,
  });
  const make = (extra: Partial<TokenManagerOptions> = {}) =>
    createTokenManager({
      repo,
      endpoint,
      log,
      persistRetryBaseMs: 20,
      recentRefreshMs: 2_000,
      ...extra,
    });
  return { store, repo, endpoint, lines, make, tokens: make() };
}

describe('token manager', () => {
  it('refreshes once for 100 concurrent requests and then serves the cache', async () => {
    const { endpoint, tokens, repo } = await setup();
    endpoint.delayMs = 30;
    const grants = await Promise.all(Array.from({ length: 100 }, () => tokens.getAccessToken(key)));
    expect(endpoint.calls).toBe(1);
    expect(new Set(grants.map((g) => g.accessToken)).size).toBe(1);
    await tokens.getAccessToken(key);
    expect(endpoint.calls).toBe(1);
    // The rotated refresh token was stored before the access token was served.
    const stored = await repo.read(key);
    expect(stored?.record.refreshToken).not.toBe('rt-0');
    expect(stored?.record.accessToken).toBe(grants[0]!.accessToken);
    tokens.close();
  });

  it('asks for offline_access even when an older record stored scopes without it', async () => {
    const { endpoint, tokens, repo } = await setup(); // scopes: ['Mail.Read'], as granted
    const grant = await tokens.getAccessToken(key);
    expect(endpoint.requested).toEqual([['Mail.Read', 'offline_access']]);
    expect(grant.scopes).toEqual(['Mail.Read', 'offline_access']); // what the fake granted
    expect((await repo.read(key))?.record.scopes).toEqual(['Mail.Read']);
    tokens.close();
  });

  it('forceRefresh is single-flight and not repeated right after another refresh', async () => {
    const { endpoint, tokens } = await setup();
    const first = await tokens.getAccessToken(key);
    expect(endpoint.calls).toBe(1);
    const forced = await Promise.all(
      Array.from({ length: 10 }, () => tokens.getAccessToken(key, { forceRefresh: true })),
    );
    expect(endpoint.calls).toBe(1); // refreshed < 2 s ago
    expect(forced[0]!.accessToken).toBe(first.accessToken);
    tokens.close();
  });

  it('forceRefresh refreshes a token that is cached but older than the recent window', async () => {
    const { endpoint, make } = await setup();
    const tokens = make({ recentRefreshMs: 10 });
    await tokens.getAccessToken(key);
    // The clock moves past the recent window instead of the test waiting it out.
    vi.useFakeTimers({ toFake: ['Date'], now: Date.now() + 30, shouldAdvanceTime: true });
    const forced = await Promise.all([
      tokens.getAccessToken(key, { forceRefresh: true }),
      tokens.getAccessToken(key, { forceRefresh: true }),
    ]).finally(() => vi.useRealTimers());
    expect(endpoint.calls).toBe(2);
    expect(forced[0].accessToken).toBe(forced[1].accessToken);
    tokens.close();
  });

  it('marks invalid_grant as reauth_required, persists it and stops calling the endpoint', async () => {
    const { endpoint, tokens, repo } = await setup({ refreshToken: 'revoked' });
    await expect(tokens.getAccessToken(key)).rejects.toBeInstanceOf(ReauthRequiredError);
    await expect(tokens.getAccessToken(key)).rejects.toBeInstanceOf(ReauthRequiredError);
    expect(endpoint.calls).toBe(1);
    expect((await repo.read(key))?.record.status).toBe('reauth_required');
    expect((await repo.meta(key))?.status).toBe('reauth_required');
    // A new manager (another instance) reads the status and does not call the endpoint either.
    const other = createTokenManager({ repo, endpoint, log: captureLog().log });
    await expect(other.getAccessToken(key)).rejects.toBeInstanceOf(ReauthRequiredError);
    expect(endpoint.calls).toBe(1);
  });

  it('keeps a rotated token in memory when the store fails and persists it later', async () => {
    const { store, endpoint, tokens, repo } = await setup();
    store.failWrites = 2;
    const error = await tokens.getAccessToken(key).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expect(tokens.unpersisted()).toEqual([key]);
    // Background re-persist (20 ms, 40 ms …) eventually stores it; no second refresh happens.
    await expect.poll(() => tokens.unpersisted().length, { timeout: 2_000 }).toBe(0);
    const stored = await repo.read(key);
    expect(endpoint.valid.has(stored!.record.refreshToken)).toBe(true);
    expect(stored!.record.refreshToken).not.toBe('rt-0');
    const grant = await tokens.getAccessToken(key);
    expect(grant.accessToken).toBe(stored!.record.accessToken);
    expect(endpoint.calls).toBe(1);
    tokens.close();
  });

  it('survives a crash between refresh and persist: the next start refreshes with the old token', async () => {
    const { store, endpoint, make, repo } = await setup();
    store.onWrite = () => {
      throw Object.assign(new Error('process crashed'), { statusCode: 500 });
    };
    const crashed = make();
    await expect(crashed.getAccessToken(key)).rejects.toThrow();
    crashed.close(); // the process is gone: its memory with the new refresh token too
    store.onWrite = undefined;
    expect((await repo.read(key))?.record.refreshToken).toBe('rt-0');
    const restarted = make();
    const grant = await restarted.getAccessToken(key);
    expect(grant.accessToken).toMatch(/^at-2-/);
    expect(endpoint.calls).toBe(2);
    restarted.close();
  });

  it('retries transient endpoint failures inside its own flight and reports them once', async () => {
    const { endpoint, tokens } = await setup();
    endpoint.failures.push(new UpstreamError('graph_unavailable', 'down'));
    await expect(tokens.getAccessToken(key)).rejects.toBeInstanceOf(UpstreamError);
    const grant = await tokens.getAccessToken(key);
    expect(grant.accessToken).toMatch(/^at-1-/);
    tokens.close();
  });

  it("stops waiting for another instance's refresh lock when it is closed", async () => {
    const { make, endpoint } = await setup();
    let asked!: () => void;
    const firstAsk = new Promise<void>((resolve) => (asked = resolve));
    const tokens = make({
      // Another instance holds the lease for as long as this test would wait.
      locks: { tryAcquire: () => (asked(), Promise.resolve(undefined)) },
      lockWaitMs: 600_000,
      lockPollMs: 60_000,
    });
    const waiting = tokens.getAccessToken(key).catch((e: unknown) => e);
    await firstAsk;
    tokens.close();
    expect(await waiting).toMatchObject({ message: 'The token manager was closed.' });
    expect(endpoint.calls).toBe(0);
  });

  it('never logs a token', async () => {
    const { tokens, lines, store } = await setup();
    store.failWrites = 1;
    await tokens.getAccessToken(key).catch(() => undefined);
    await expect.poll(() => tokens.unpersisted().length, { timeout: 2_000 }).toBe(0);
    const grant = await tokens.getAccessToken(key);
    const secrets = [grant.accessToken, 'rt-0'];
    const record = await store.get(secretNameFor(key));
    expect(record).toBeDefined();
    for (const line of lines) for (const s of secrets) expect(line).not.toContain(s);
    tokens.close();
  });
});
