import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { describe, expect, it } from 'vitest';

import { ReauthRequiredError } from '../../src/core/errors';
import { createFileDataKeyRing } from '../../src/credentials/data-key';
import { type Lock, type LockProvider } from '../../src/credentials/lease';
import { createRecordRepository } from '../../src/credentials/record';
import { createRecordReader } from '../../src/credentials/record-reader';
import { newEntry } from '../../src/credentials/token-entry';
import { createRefresher, type RefresherOptions } from '../../src/credentials/token-refresh';
import { type CredentialRecord } from '../../src/credentials/types';
import { captureLog, fakeEndpoint, memoryStore } from '../support/credential-fakes';

/** The refresh step alone: a real record repository over an in-memory store, a fake endpoint. */

const key = { serviceId: 'svc', credentialId: 'c1' };
const HOUR = 3_600_000;

async function setup(record: Partial<CredentialRecord> = {}) {
  const repo = createRecordRepository(
    memoryStore(),
    createFileDataKeyRing(await mkdtemp(path.join(tmpdir(), 'refresh-'))),
  );
  const endpoint = fakeEndpoint();
  const base: CredentialRecord = {
    ...key,
    clientId: endpoint.clientId,
    tenantId: 'contoso',
    scopes: ['Mail.Read'],
    account: { id: 'u1', address: 'adele@contoso.example', displayName: 'Adele' },
    refreshToken: 'rt-0',
    status: 'active',
    createdAt: 1,
    rotatedAt: 1,
    ...record,
  };
  await repo.write(base);
  const { log } = captureLog();
  const make = (extra: Partial<RefresherOptions> = {}) =>
    createRefresher({
      repo,
      endpoint,
      reader: createRecordReader(repo, log),
      log,
      skewMs: 60_000,
      recentRefreshMs: 1_000,
      lockWaitMs: 5_000,
      lockPollMs: 1,
      persistRetryBaseMs: 10,
      reauthRecheckMs: 30_000,
      abortSignal: new AbortController().signal,
      ...extra,
    });
  return { repo, endpoint, base, make };
}

const cached = { accessToken: 'at-stored', accessTokenExpiresAt: Date.now() + HOUR };

describe('token refresh', () => {
  it('serves a stored token that is still fresh without spending the refresh token', async () => {
    const { endpoint, make } = await setup(cached);
    const grant = await make().refresh(newEntry(key), false);
    expect(grant.accessToken).toBe('at-stored');
    expect(endpoint.calls).toBe(0);
  });

  it('a forced refresh spends the refresh token and stores the rotation before serving', async () => {
    const { endpoint, make, repo } = await setup({ ...cached, lastRefreshedAt: 1 });
    const e = newEntry(key);
    const grant = await make().refresh(e, true);
    expect(endpoint.calls).toBe(1);
    expect(endpoint.requested).toEqual([['Mail.Read', 'offline_access']]);
    const stored = await repo.read(key);
    expect(stored?.record).toMatchObject({ accessToken: grant.accessToken });
    expect(stored?.record.refreshToken).toMatch(/^rt-1-/);
    expect(e).toMatchObject({ pending: undefined, version: stored?.version });
  });

  it("takes the record another instance refreshed while it waited for that instance's lock", async () => {
    const { endpoint, make, repo, base } = await setup({ lastRefreshedAt: 1 });
    let asks = 0;
    const locks: LockProvider = {
      tryAcquire: async () => {
        // The other instance finishes its refresh while we wait.
        if (asks++ === 0) await repo.write({ ...base, ...cached, lastRefreshedAt: Date.now() });
        return undefined;
      },
    };
    const grant = await make({ locks }).refresh(newEntry(key), false);
    expect(grant.accessToken).toBe('at-stored');
    expect(endpoint.calls).toBe(0);
  });

  it('under the lock, re-reads first: a holder that finished just before is not repeated', async () => {
    const { endpoint, make, repo, base } = await setup({ lastRefreshedAt: 1 });
    let released = 0;
    const lock: Lock = { release: () => (released++, Promise.resolve()) };
    const locks: LockProvider = {
      tryAcquire: async () => {
        await repo.write({ ...base, ...cached, lastRefreshedAt: Date.now() });
        return lock;
      },
    };
    const grant = await make({ locks }).refresh(newEntry(key), false);
    expect(grant.accessToken).toBe('at-stored');
    expect(endpoint.calls).toBe(0);
    expect(released).toBe(1);
  });

  it('a refused refresh token marks the credential and releases the lock', async () => {
    const { endpoint, make, repo } = await setup({ refreshToken: 'revoked' });
    let released = 0;
    const locks: LockProvider = {
      tryAcquire: () => Promise.resolve({ release: () => (released++, Promise.resolve()) }),
    };
    const e = newEntry(key);
    await expect(make({ locks }).refresh(e, false)).rejects.toBeInstanceOf(ReauthRequiredError);
    expect(endpoint.calls).toBe(1);
    expect((await repo.read(key))?.record.status).toBe('reauth_required');
    expect(released).toBe(1);
    // The stored status is the answer next time, without the endpoint.
    await expect(make().refresh(newEntry(key), false)).rejects.toBeInstanceOf(ReauthRequiredError);
    expect(endpoint.calls).toBe(1);
  });

  it('revalidates a cached token with one read, adopting a record written elsewhere', async () => {
    const { endpoint, make, repo, base } = await setup(cached);
    const refresher = make();
    const e = newEntry(key);
    await refresher.refresh(e, false);
    const checkedAt = e.checkedAt!;
    await expect(refresher.revalidate(e)).resolves.toMatchObject({ accessToken: 'at-stored' });
    expect(e.checkedAt).toBeGreaterThanOrEqual(checkedAt);
    await repo.write({
      ...base,
      accessToken: 'at-elsewhere',
      accessTokenExpiresAt: Date.now() + HOUR,
    });
    await expect(refresher.revalidate(e)).resolves.toMatchObject({ accessToken: 'at-elsewhere' });
    expect(endpoint.calls).toBe(0);
  });
});
