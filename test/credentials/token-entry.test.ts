import { describe, expect, it, vi } from 'vitest';

import { NotFoundError } from '../../src/core/errors';
import { adopt, dropDeleted, grantOf, isFresh, newEntry } from '../../src/credentials/token-entry';
import { type CredentialRecord } from '../../src/credentials/types';

const key = { serviceId: 'svc', credentialId: 'c1' };
const record = (fields: Partial<CredentialRecord> = {}): CredentialRecord => ({
  ...key,
  clientId: 'client',
  tenantId: 'contoso',
  scopes: ['Mail.Read'],
  account: { id: 'u1', address: 'adele@contoso.example', displayName: 'Adele' },
  refreshToken: 'rt',
  status: 'active',
  createdAt: 1,
  rotatedAt: 1,
  accessToken: 'at',
  accessTokenExpiresAt: Date.now() + 3_600_000,
  ...fields,
});

describe('token entry', () => {
  it("a record's grant needs both the token and its expiry", () => {
    expect(grantOf(record())).toMatchObject({ accessToken: 'at', scopes: ['Mail.Read'] });
    const { accessTokenExpiresAt: _, ...noExpiry } = record();
    expect(grantOf(noExpiry)).toBeUndefined();
    expect(grantOf(record({ accessToken: '' }))).toBeUndefined();
    expect(grantOf(record({ mailbox: 'shared@contoso.example' }))?.mailbox).toBe(
      'shared@contoso.example',
    );
  });

  it('is fresh only while more than the skew is left', () => {
    const grant = grantOf(record({ accessTokenExpiresAt: 10_000 }))!;
    expect(isFresh(grant, 1_000, 8_999)).toBe(true);
    expect(isFresh(grant, 1_000, 9_000)).toBe(false);
    expect(isFresh(undefined, 0, 0)).toBe(false);
  });

  it('adopts an active record with its token, any other without, and never goes back in time', () => {
    const e = newEntry(key);
    adopt(e, { record: record({ lastRefreshedAt: 500 }), version: 'v1' });
    expect(e).toMatchObject({ version: 'v1', grant: { accessToken: 'at' }, lastRefreshAt: 500 });
    expect(e.checkedAt).toBeGreaterThan(0);
    adopt(e, {
      record: record({ status: 'reauth_required', lastRefreshedAt: 100 }),
      version: 'v2',
    });
    expect(e.grant).toBeUndefined();
    expect(e.version).toBe('v2');
    expect(e.lastRefreshAt).toBe(500);
  });

  it('a deleted record leaves nothing to use or write, and no timer running', () => {
    const e = newEntry(key);
    adopt(e, { record: record(), version: 'v1' });
    e.pending = record({ refreshToken: 'newer' });
    vi.useFakeTimers();
    let fired = false;
    e.retryTimer = setTimeout(() => (fired = true), 10);
    const error = dropDeleted(e);
    expect(error).toBeInstanceOf(NotFoundError);
    expect(error.message).toContain('c1');
    expect(e).toMatchObject({ grant: undefined, version: undefined, pending: undefined });
    expect(e.retryTimer).toBeUndefined();
    vi.runAllTimers();
    vi.useRealTimers();
    expect(fired).toBe(false);
  });
});
