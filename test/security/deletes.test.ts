import { describe, expect, it, vi } from 'vitest';

import { secretNameFor } from '../../src/credentials/record';
import { type TokenManager } from '../../src/credentials/token-manager';
import { startHarness } from '../support/credential-harness';
import { secretClientFor } from '../support/keyvault-client';
import { useStack } from '../support/use-stack';

/**
 * Issue #14 finding 7: a DELETE on one instance reaches the others, and re-creating the id never
 * brings a deleted record's refresh tokens back. Two app instances share the local Key Vault
 * (the real SecretClient) and Azurite.
 */
const h = useStack(() => startHarness({ storage: true }));

const key = (credentialId: string) => ({ serviceId: 'svc', credentialId });
const reads = (name: string) =>
  h.vault.control
    .requestLog()
    .filter((e) => e.method === 'GET' && e.status !== 401 && e.path === `/secrets/${name}/`).length;

/** Moves this process's clock forward (the cached access token stays valid for an hour). */
function later(ms: number) {
  const now = Date.now();
  return vi.spyOn(Date, 'now').mockImplementation(() => now + ms);
}

describe('deletes reach every instance (issue #14, finding 7)', () => {
  it('another instance stops using its cached token once the credential is deleted', async () => {
    await h.app.services.credentials.importRecord(key('gone'), {
      refreshToken: await h.issueRefreshToken(),
    });
    const a = h.makeApp();
    const b = h.makeApp();
    const name = secretNameFor(key('gone'));
    await b.services.tokens.getAccessToken(key('gone'));

    // Within the cache period the cached token is served without touching the store …
    h.vault.control.clearRequestLog();
    await Promise.all(
      Array.from({ length: 50 }, () => b.services.tokens.getAccessToken(key('gone'))),
    );
    expect(reads(name)).toBe(0);

    await a.services.credentials.delete(key('gone'));
    const clock = later(61_000);
    try {
      h.vault.control.clearRequestLog();
      // … and after it, one read for any number of callers tells the token is gone.
      const results = await Promise.all(
        Array.from({ length: 50 }, () =>
          b.services.tokens.getAccessToken(key('gone')).catch((e: unknown) => e),
        ),
      );
      for (const result of results) expect(result).toMatchObject({ code: 'not_found' });
      expect(reads(name)).toBe(1);
    } finally {
      clock.mockRestore();
    }
  });

  it('another instance picks up a record written elsewhere (a new generation) instead of its cache', async () => {
    await h.app.services.credentials.importRecord(key('regen'), {
      refreshToken: await h.issueRefreshToken(),
    });
    const b = h.makeApp();
    const before = await b.services.tokens.getAccessToken(key('regen'));
    await h.app.services.credentials.delete(key('regen'));
    await h.app.services.credentials.importRecord(key('regen'), {
      refreshToken: await h.issueRefreshToken(h.sandbox.users[1]!.userPrincipalName),
    });
    const clock = later(61_000);
    try {
      const after = await b.services.tokens.getAccessToken(key('regen'));
      expect(after.accessToken).not.toBe(before.accessToken);
      expect(after.account.address.toLowerCase()).toBe(
        h.sandbox.users[1]!.userPrincipalName.toLowerCase(),
      );
    } finally {
      clock.mockRestore();
    }
  });

  it('re-creating a deleted id where purge is refused leaves no old version readable', async () => {
    await h.app.services.credentials.importRecord(key('again'), {
      refreshToken: await h.issueRefreshToken(),
    });
    // A rotation, so the history holds an older version too.
    await h.app.services.tokens.getAccessToken(key('again'), { forceRefresh: true });
    const name = secretNameFor(key('again'));
    const client = secretClientFor(h.vault);
    const old: string[] = [];
    for await (const p of client.listPropertiesOfSecretVersions(name)) old.push(p.version!);
    await h.app.services.credentials.delete(key('again'));

    // Purge protection: the store recovers the deleted secret to reuse its name.
    h.vault.control.injectFault({
      method: 'DELETE',
      path: '/deletedsecrets/',
      status: 403,
      code: 'Forbidden',
    });
    await h.makeApp().services.credentials.importRecord(key('again'), {
      refreshToken: await h.issueRefreshToken(),
    });
    h.vault.control.clearFaults();
    for (const version of old) {
      const error = await client.getSecret(name, { version }).catch((e: unknown) => e);
      expect(error, `old version ${version} is still readable`).toMatchObject({ statusCode: 403 });
    }
  });

  it('a rotated token waiting for the vault is dropped, not written back, when the credential was deleted', async () => {
    h.sandbox.control.setAccessTokenLifetime(60); // inside the 5 min skew: stale at once
    await h.app.services.credentials.importRecord(key('zombie'), {
      refreshToken: await h.issueRefreshToken(),
    });
    h.sandbox.control.setAccessTokenLifetime(3599);
    const b = h.makeApp();
    const tokens = b.services.tokens as TokenManager;
    h.vault.control.injectFault({
      method: 'PUT',
      path: '/secrets/cred-',
      status: 503,
      times: Infinity,
    });
    await tokens.getAccessToken(key('zombie')).catch(() => undefined);
    expect(tokens.unpersisted()).toEqual([key('zombie')]);
    await h.app.services.credentials.delete(key('zombie'));
    h.vault.control.clearFaults();
    await expect.poll(() => tokens.unpersisted().length, { timeout: 5_000 }).toBe(0);
    const name = secretNameFor(key('zombie'));
    expect(h.vault.control.secretNames().map((n) => n.toLowerCase())).not.toContain(name);
    expect((await h.api('/api/credentials/zombie')).status).toBe(404);
    tokens.close();
  });
});
