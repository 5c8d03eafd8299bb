import { describe, expect, it } from 'vitest';

import { NotFoundError, ReauthRequiredError } from '../../src/core/errors';
import { markReauthRequired } from '../../src/credentials/reauth';
import { newEntry } from '../../src/credentials/token-entry';
import { type CredentialRecord } from '../../src/credentials/types';
import { captureLog } from '../support/credential-fakes';

const key = { serviceId: 'svc', credentialId: 'c1' };
const record = {
  ...key,
  status: 'active',
  refreshToken: 'rt-revoked',
  accessToken: 'at-old',
  accessTokenExpiresAt: 1,
} as CredentialRecord;

function setup(write: (record: CredentialRecord) => Promise<string>) {
  const written: CredentialRecord[] = [];
  const { log, lines } = captureLog();
  const options = {
    repo: { write: (r: CredentialRecord) => (written.push(r), write(r)) },
    log,
    recheckMs: 30_000,
  };
  return { options, written, lines };
}

describe('reauth_required', () => {
  it('stores the status and reason without the access token, and answers ReauthRequired', async () => {
    const { options, written, lines } = setup(() => Promise.resolve('v2'));
    const e = newEntry(key);
    e.grant = { accessToken: 'at-old' } as never;
    const error = await markReauthRequired(e, record, 'invalid_grant AADSTS50173', options).catch(
      (x: unknown) => x,
    );
    expect(error).toBeInstanceOf(ReauthRequiredError);
    expect(written).toEqual([
      expect.objectContaining({
        status: 'reauth_required',
        reauthReason: 'invalid_grant AADSTS50173',
      }),
    ]);
    expect(written[0]).not.toHaveProperty('accessToken');
    expect(written[0]).not.toHaveProperty('accessTokenExpiresAt');
    expect(record.status).toBe('active'); // the record it came from is left as it was
    expect(e).toMatchObject({ grant: undefined, version: 'v2' });
    expect(e.reauthUntil).toBeGreaterThan(Date.now() + 29_000);
    expect(lines.join('\n')).not.toContain('rt-revoked');
  });

  it('still answers ReauthRequired when the status cannot be stored', async () => {
    const { options, lines } = setup(() => Promise.reject(new Error('store down')));
    const e = newEntry(key);
    await expect(markReauthRequired(e, record, 'invalid_grant', options)).rejects.toBeInstanceOf(
      ReauthRequiredError,
    );
    expect(lines.some((l) => l.startsWith('error') && l.includes('reauth_required'))).toBe(true);
  });

  it('is NotFound when the credential was deleted meanwhile', async () => {
    const { options } = setup(() => Promise.reject(new NotFoundError('Credential c1')));
    const e = newEntry(key);
    e.version = 'v1';
    await expect(markReauthRequired(e, record, 'invalid_grant', options)).rejects.toBeInstanceOf(
      NotFoundError,
    );
    expect(e.version).toBeUndefined();
  });
});
