import { describe, expect, it } from 'vitest';

import { applyRotation, refreshedRecord } from '../../src/credentials/rotation';
import { type CredentialRecord } from '../../src/credentials/types';
import { captureLog } from '../support/credential-fakes';

const record = (fields: Partial<CredentialRecord> = {}): CredentialRecord => ({
  serviceId: 'svc',
  credentialId: 'c1',
  clientId: 'client',
  tenantId: 'contoso',
  scopes: ['Mail.Read'],
  grantedScopes: ['https://graph.microsoft.com/Mail.Read'],
  account: { id: 'u1', address: 'adele@contoso.example', displayName: 'Adele' },
  refreshToken: 'rt-old',
  status: 'active',
  createdAt: 1,
  rotatedAt: 1,
  ...fields,
});
const result = { accessToken: 'at-new', expiresAt: 9_000, grantedScopes: [] };

describe('rotation', () => {
  it('takes a new refresh token and clears notRotatedSince', () => {
    const r = record({ notRotatedSince: 5 });
    applyRotation(r, { ...result, refreshToken: 'rt-new' }, 100, captureLog().log);
    expect(r).toMatchObject({ refreshToken: 'rt-new', rotatedAt: 100 });
    expect(r.notRotatedSince).toBeUndefined();
  });

  it('keeps the old refresh token without a new one, warning once, from when it started', () => {
    const { log, lines } = captureLog();
    const r = record();
    applyRotation(r, result, 100, log);
    applyRotation(r, result, 200, log);
    expect(r).toMatchObject({ refreshToken: 'rt-old', rotatedAt: 1, notRotatedSince: 100 });
    expect(lines.filter((l) => l.includes('no new refresh token'))).toHaveLength(1);
    expect(lines[0]).toContain('Mail.Read offline_access');
    expect(lines[0]).not.toContain('rt-old');
  });

  it('builds the refreshed record without touching the one it came from', () => {
    const before = record();
    const next = refreshedRecord(
      before,
      {
        ...result,
        refreshToken: 'rt-new',
        grantedScopes: ['https://graph.microsoft.com/Mail.Send'],
      },
      { now: 100, lastUsedAt: 90, log: captureLog().log },
    );
    expect(next).toMatchObject({
      accessToken: 'at-new',
      accessTokenExpiresAt: 9_000,
      grantedScopes: ['https://graph.microsoft.com/Mail.Send'],
      lastRefreshedAt: 100,
      lastUsedAt: 90,
      refreshToken: 'rt-new',
    });
    expect(before).toEqual(record());
  });

  it('keeps the granted scopes it had when the response names none, and no lastUsedAt unknown', () => {
    const next = refreshedRecord(record(), result, {
      now: 100,
      lastUsedAt: undefined,
      log: captureLog().log,
    });
    expect(next.grantedScopes).toEqual(['https://graph.microsoft.com/Mail.Read']);
    expect('lastUsedAt' in next).toBe(false);
  });
});
