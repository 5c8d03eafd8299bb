import { beforeAll, describe, expect, it } from 'vitest';

import { UpstreamError, ValidationError } from '../../src/core/errors';
import { createSecretDataKeyRing, DATA_KEY_SECRET } from '../../src/credentials/data-key';
import { RecordUnreadableError } from '../../src/credentials/envelope';
import { createKeyVaultSecretStore } from '../../src/credentials/keyvault-store';
import { createRecordRepository, secretNameFor } from '../../src/credentials/record';
import { type CredentialRecord } from '../../src/credentials/types';
import { fakeAzureCredential, startKeyVaultServer } from '../support/keyvault-client';
import { useStack } from '../support/use-stack';

const vault = useStack(() => startKeyVaultServer({ pageSize: 3 }));

function makeStore(retryBudgetMs = 2_000) {
  return createKeyVaultSecretStore({
    url: vault.url,
    credential: fakeAzureCredential,
    clientOptions: { agent: vault.agent! },
    retryBudgetMs,
    retryBaseMs: 10,
  });
}

function record(
  serviceId: string,
  credentialId: string,
  extra: Partial<CredentialRecord> = {},
): CredentialRecord {
  return {
    serviceId,
    credentialId,
    clientId: '11111111-2222-3333-4444-555555555555',
    tenantId: 'contoso',
    scopes: ['Mail.Read', 'offline_access'],
    account: { id: 'u1', address: 'adele@contoso.example', displayName: 'Adele Vance' },
    refreshToken: `refresh-${serviceId}-${credentialId}-secret-value`,
    accessToken: `access-${serviceId}-${credentialId}`,
    accessTokenExpiresAt: Date.now() + 3_600_000,
    status: 'active',
    createdAt: Date.now(),
    rotatedAt: Date.now(),
    lastRefreshedAt: Date.now(),
    ...extra,
  };
}

describe('Key Vault credential store (real SecretClient, local HTTPS vault)', () => {
  let store: ReturnType<typeof makeStore>;
  let ring: ReturnType<typeof createSecretDataKeyRing>;
  let repo: ReturnType<typeof createRecordRepository>;
  beforeAll(() => {
    store = makeStore();
    ring = createSecretDataKeyRing(store);
    repo = createRecordRepository(store, ring);
  });

  it('stores an encrypted record with metadata in tags and reads it back', async () => {
    await repo.write(record('svc-a', 'c1'));
    const name = secretNameFor({ serviceId: 'svc-a', credentialId: 'c1' });
    expect(name).toMatch(/^cred-[0-9a-f]{64}$/);
    const raw = vault.control.rawValue(name)!;
    expect(raw).not.toContain('refresh-svc-a');
    expect(raw).not.toContain('adele@');
    expect(JSON.parse(raw)).toMatchObject({ v: 1, alg: 'A256GCM' });
    const read = await repo.read({ serviceId: 'svc-a', credentialId: 'c1' });
    expect(read?.record.refreshToken).toBe('refresh-svc-a-c1-secret-value');
    // The data key was created in the vault on first use.
    expect(vault.control.secretNames()).toContain(DATA_KEY_SECRET);
  });

  it('lists one service from tags without reading any value', async () => {
    await repo.write(record('svc-a', 'c2'));
    await repo.write(record('svc-a', 'c3', { status: 'reauth_required' }));
    await repo.write(record('svc-b', 'c1'));
    vault.control.clearRequestLog();
    const metas = await repo.list('svc-a');
    expect(metas.map((m) => m.credentialId)).toEqual(['c1', 'c2', 'c3']);
    expect(metas[2]).toMatchObject({ status: 'reauth_required', address: 'adele@contoso.example' });
    const paths = vault.control.requestLog().map((e) => `${e.method} ${e.path}`);
    expect(paths.every((p) => p === 'GET /secrets')).toBe(true);
    expect(paths.length).toBeGreaterThan(1); // paged (page size 3)
  });

  it('refuses a record copied under another name (associated data binds the ids)', async () => {
    const a = secretNameFor({ serviceId: 'svc-a', credentialId: 'c1' });
    const b = secretNameFor({ serviceId: 'svc-b', credentialId: 'c1' });
    vault.control.putRaw(b, vault.control.rawValue(a)!);
    await expect(repo.read({ serviceId: 'svc-b', credentialId: 'c1' })).rejects.toBeInstanceOf(
      RecordUnreadableError,
    );
  });

  it('retries throttled (429) and failed (5xx) writes, then gives up with store_unavailable', async () => {
    vault.control.injectFault({
      method: 'PUT',
      path: '/secrets/cred-',
      status: 429,
      retryAfterSeconds: 0,
      times: 2,
    });
    vault.control.injectFault({ method: 'PUT', path: '/secrets/cred-', status: 503, times: 1 });
    await repo.write(record('svc-a', 'c4'));
    expect((await repo.read({ serviceId: 'svc-a', credentialId: 'c4' }))?.record.credentialId).toBe(
      'c4',
    );
    const short = createRecordRepository(makeStore(100), ring);
    vault.control.injectFault({
      method: 'PUT',
      path: '/secrets/cred-',
      status: 503,
      times: Infinity,
    });
    const error = await short.write(record('svc-a', 'c5')).catch((e: unknown) => e);
    vault.control.clearFaults();
    expect(error).toBeInstanceOf(UpstreamError);
    expect((error as UpstreamError).code).toBe('store_unavailable');
  });

  it('re-creates a deleted credential: purges the soft-deleted name', async () => {
    const key = { serviceId: 'svc-a', credentialId: 'gone' };
    await repo.write(record('svc-a', 'gone'));
    expect(await repo.delete(key)).toBe(true);
    expect(await repo.read(key)).toBeUndefined();
    expect(await repo.delete(key)).toBe(false);
    vault.control.clearRequestLog();
    await repo.write(record('svc-a', 'gone', { refreshToken: 'second-life' }));
    expect((await repo.read(key))?.record.refreshToken).toBe('second-life');
    const log = vault.control
      .requestLog()
      .map((e) => `${e.method} ${e.path.split('/')[1]} ${e.status}`);
    expect(log).toContain('PUT secrets 409');
    expect(log).toContain('DELETE deletedsecrets 204');
  });

  it('recovers instead when purge is not permitted', async () => {
    const key = { serviceId: 'svc-a', credentialId: 'protected' };
    await repo.write(record('svc-a', 'protected'));
    await repo.delete(key);
    vault.control.injectFault({
      method: 'DELETE',
      path: '/deletedsecrets/',
      status: 403,
      code: 'Forbidden',
    });
    await repo.write(record('svc-a', 'protected', { refreshToken: 'after-recover' }));
    expect((await repo.read(key))?.record.refreshToken).toBe('after-recover');
    expect(vault.control.versionCount(secretNameFor(key))).toBe(2);
  });

  it('refuses a value over 25 KB before sending it', async () => {
    await expect(
      repo.write(record('svc-a', 'huge', { refreshToken: 'x'.repeat(30_000) })),
    ).rejects.toBeInstanceOf(ValidationError);
  });

  it('rotates the data key: old records still open, new writes use the new key', async () => {
    const key = { serviceId: 'svc-r', credentialId: 'c1' };
    await repo.write(record('svc-r', 'c1'));
    const before = (await repo.meta(key))!.keyId;
    const rotated = await ring.rotate();
    expect(rotated.id).not.toBe(before);
    // Another instance (fresh ring over the same vault) opens the old record…
    const other = createRecordRepository(store, createSecretDataKeyRing(store));
    expect((await other.read(key))?.record.credentialId).toBe('c1');
    // …and re-encrypts it with the new key on its next write.
    await other.write((await other.read(key))!.record);
    expect((await repo.meta(key))!.keyId).toBe(rotated.id);
  });
});
