import { describe, expect, it, vi } from 'vitest';

import { AppError } from '../../src/core/errors';
import { createTableStateStore } from '../../src/credentials/connect';
import { secretNameFor } from '../../src/credentials/record';
import { type TokenManager } from '../../src/credentials/token-manager';
import { startHarness, tokenCalls } from '../support/credential-harness';
import { useStack } from '../support/use-stack';

const h = useStack(() => startHarness({ storage: true }));

const key = (credentialId: string) => ({ serviceId: 'svc', credentialId });

async function importStale(credentialId: string) {
  h.sandbox.control.setAccessTokenLifetime(60); // stale at once (inside the 5 min skew), still valid for GET /me
  await h.app.services.credentials.importRecord(key(credentialId), {
    refreshToken: await h.issueRefreshToken(),
  });
  h.sandbox.control.setAccessTokenLifetime(3599);
}

describe('several instances (Azurite blob lease, shared Key Vault)', () => {
  it('refresh once across two instances with 50 concurrent requests each', async () => {
    await importStale('shared');
    const a = h.makeApp();
    const b = h.makeApp();
    const before = tokenCalls(h.sandbox);
    const grants = await Promise.all([
      ...Array.from({ length: 50 }, () => a.services.tokens.getAccessToken(key('shared'))),
      ...Array.from({ length: 50 }, () => b.services.tokens.getAccessToken(key('shared'))),
    ]);
    expect(tokenCalls(h.sandbox) - before).toBe(1);
    expect(new Set(grants.map((g) => g.accessToken)).size).toBe(1);
  });

  it('refuses a replayed OAuth state on another instance (used states in Table storage)', async () => {
    const location = (
      await h.api('/api/credentials/multi/connect', { redirect: 'manual' })
    ).headers.get('location')!;
    const back = await fetch(location, { redirect: 'manual' });
    const query = new URL(back.headers.get('location')!).searchParams;
    const input = { state: query.get('state')!, code: query.get('code')! };
    await h.app.services.credentials.beginConnect(input);
    await expect(h.makeApp().services.credentials.beginConnect(input)).rejects.toMatchObject({
      code: 'validation_failed',
    });
  });

  it('persists a rotated token through Key Vault throttling, and keeps it in memory while the vault is down', async () => {
    await importStale('kvfaults');
    const app = h.makeApp();
    const tokens = app.services.tokens as TokenManager;
    h.vault.control.injectFault({
      method: 'PUT',
      path: '/secrets/cred-',
      status: 429,
      retryAfterSeconds: 0,
      times: 2,
    });
    const first = await tokens.getAccessToken(key('kvfaults'));
    expect(first.expiresAt).toBeGreaterThan(Date.now() + 30 * 60_000);

    h.vault.control.injectFault({
      method: 'PUT',
      path: '/secrets/cred-',
      status: 503,
      times: Infinity,
    });
    const before = tokenCalls(h.sandbox);
    // The clock moves past the "just refreshed" window (so the forced call refreshes) instead of
    // the test waiting it out.
    vi.useFakeTimers({ toFake: ['Date'], now: Date.now() + 350, shouldAdvanceTime: true });
    const failed = await tokens
      .getAccessToken(key('kvfaults'), { forceRefresh: true })
      .catch((e: unknown) => e)
      .finally(() => vi.useRealTimers());
    h.vault.control.clearFaults();
    expect((failed as AppError).code).toBe('store_unavailable');
    expect(tokens.unpersisted()).toEqual([key('kvfaults')]);
    await expect.poll(() => tokens.unpersisted().length, { timeout: 5_000 }).toBe(0);
    // The token refreshed while the vault was down is the one stored now; no extra refresh.
    const stored = await h.makeApp().services.tokens.getAccessToken(key('kvfaults'));
    expect(stored.accessToken).not.toBe(first.accessToken);
    expect(tokenCalls(h.sandbox) - before).toBe(1);
    tokens.close();
  });

  it('prunes expired used-state ids from Table storage', async () => {
    const states = createTableStateStore(h.app.services.storage!);
    expect(await states.consume('old-state', Date.now() - 1_000)).toBe(true);
    expect(await states.consume('old-state', Date.now() - 1_000)).toBe(false);
    expect(await states.consume('live-state', Date.now() + 60_000)).toBe(true);
    expect(await states.prune()).toBeGreaterThanOrEqual(1);
    expect(await states.consume('live-state', Date.now() + 60_000)).toBe(false);
  });

  it('reports a record that cannot be decrypted and never overwrites it', async () => {
    await importStale('broken');
    const name = secretNameFor(key('broken'));
    h.vault.control.putRaw(
      name,
      '{"v":1,"alg":"A256GCM","kid":"k-lost","iv":"AA","ct":"AA","tag":"AA"}',
    );
    const versions = h.vault.control.versionCount(name);
    const app = h.makeApp();
    const error = await app.services.tokens.getAccessToken(key('broken')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AppError);
    expect((error as AppError).code).toBe('internal');
    const report = await app.services.health.report();
    expect(report.checks.credentials?.ok).toBe(false);
    expect(JSON.stringify(report.checks.credentials?.data)).toContain('broken');
    await expect(
      app.services.credentials.importRecord(key('broken'), {
        refreshToken: await h.issueRefreshToken(),
      }),
    ).rejects.toMatchObject({ code: 'conflict' });
    expect(h.vault.control.versionCount(name)).toBe(versions);
    expect(h.lines.some((l) => l.includes('cannot be decrypted'))).toBe(true);
    // An explicit DELETE clears the way.
    await app.services.credentials.delete(key('broken'));
    await app.services.credentials.importRecord(key('broken'), {
      refreshToken: await h.issueRefreshToken(),
    });
  });
});
