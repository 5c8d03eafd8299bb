import { describe, expect, it } from 'vitest';

import { NotFoundError } from '../../src/core/errors';
import { viewFromMeta, viewOf } from '../../src/credentials/views';
import { type CredentialMeta, type CredentialRecord } from '../../src/credentials/types';

const record: CredentialRecord = {
  serviceId: 'svc',
  credentialId: 'c1',
  clientId: 'app',
  tenantId: 'contoso',
  scopes: ['Mail.Read', 'offline_access'],
  grantedScopes: ['Mail.Read'],
  account: { id: 'u1', address: 'adele@contoso.example', displayName: 'Adele' },
  refreshToken: 'rt-secret',
  accessToken: 'at-secret',
  accessTokenExpiresAt: Date.UTC(2026, 0, 1, 12),
  status: 'active',
  createdAt: 1,
  rotatedAt: 2,
  lastRefreshedAt: Date.UTC(2026, 0, 1, 11),
};

describe('credential views', () => {
  it('shows the account, the granted scopes and times, never a token', () => {
    const view = viewOf(record);
    expect(view).toEqual({
      credentialId: 'c1',
      serviceId: 'svc',
      status: 'active',
      account: { address: 'adele@contoso.example', displayName: 'Adele' },
      scopes: ['Mail.Read'],
      tokenExpiry: '2026-01-01T12:00:00.000Z',
      lastRefreshedAt: '2026-01-01T11:00:00.000Z',
    });
    expect(JSON.stringify(view)).not.toMatch(/secret/);
    expect(viewOf({ ...record, status: 'reauth_required' }).tokenExpiry).toBeNull();
  });

  it('answers from the tags without reading the record when they hold everything', async () => {
    const meta: CredentialMeta = {
      serviceId: 'svc',
      credentialId: 'c1',
      status: 'active',
      address: 'adele@contoso.example',
      displayName: 'Adele',
      scopes: ['Mail.Read'],
      tokenExpiry: record.accessTokenExpiresAt!,
      lastRefreshedAt: record.lastRefreshedAt!,
    };
    const reads: unknown[] = [];
    const repo = { read: (key: unknown) => (reads.push(key), Promise.resolve(undefined)) };
    expect(await viewFromMeta(repo, meta)).toEqual(viewOf(record));
    expect(reads).toEqual([]);
  });

  it('reads the record for a value too long for a tag, and is NotFound when it is gone', async () => {
    const meta: CredentialMeta = { serviceId: 'svc', credentialId: 'c1', status: 'active' };
    const long = { ...record, account: { ...record.account, displayName: 'A'.repeat(300) } };
    const found = { read: () => Promise.resolve({ record: long, version: 'v1' }) };
    expect((await viewFromMeta(found, meta)).account.displayName).toHaveLength(300);
    const gone = { read: () => Promise.resolve(undefined) };
    await expect(viewFromMeta(gone, meta)).rejects.toBeInstanceOf(NotFoundError);
  });
});
