import { describe, expect, it } from 'vitest';

import { NotFoundError } from '../../src/core/errors';
import { createRotationWriter } from '../../src/credentials/rotation-writer';
import { newEntry, type TokenEntry } from '../../src/credentials/token-entry';
import { type AccessGrant, type CredentialRecord } from '../../src/credentials/types';
import { captureLog } from '../support/credential-fakes';

const key = { serviceId: 'svc', credentialId: 'c1' };
const pending = {
  ...key,
  status: 'active',
  refreshToken: 'rt-new',
  accessToken: 'at-new',
  accessTokenExpiresAt: Date.now() + 3_600_000,
  scopes: ['Mail.Read'],
  account: { id: 'u1', address: 'adele@contoso.example', displayName: 'Adele' },
} as CredentialRecord;

/** A record store of one credential: its live version, what was written and disabled. */
function setup(
  options: { live?: string | undefined; failWrites?: number; missing?: boolean } = {},
) {
  const state = {
    live: 'live' in options ? options.live : 'v1',
    failWrites: options.failWrites ?? 0,
    written: [] as CredentialRecord[],
    disabled: [] as string[],
  };
  const repo = {
    currentVersion: () => Promise.resolve(state.live),
    write: (record: CredentialRecord) => {
      if (options.missing) return Promise.reject(new NotFoundError('Credential c1'));
      if (state.failWrites-- > 0) return Promise.reject(new Error('store down'));
      state.written.push(record);
      state.live = `v${state.written.length + 1}`;
      return Promise.resolve(state.live);
    },
    disableVersion: (_key: unknown, version: string) => {
      state.disabled.push(version);
      return Promise.resolve();
    },
  };
  const again: TokenEntry[] = [];
  const { log, lines } = captureLog();
  const writer = createRotationWriter({
    repo,
    log,
    retryBaseMs: 5,
    refreshAgain: (e) => (again.push(e), Promise.resolve({ accessToken: 'theirs' } as AccessGrant)),
  });
  const entry = () => {
    const e = newEntry(key);
    e.version = 'v1';
    e.pending = pending;
    e.pendingBase = 'v1';
    return e;
  };
  return { state, writer, again, lines, entry };
}

describe('rotation writer', () => {
  it('writes the pending record over its base, serves its token and disables the old version', async () => {
    const { state, writer, entry } = setup();
    const e = entry();
    const grant = await writer.persist(e);
    expect(grant.accessToken).toBe('at-new');
    expect(state.written).toEqual([pending]);
    expect(e).toMatchObject({ pending: undefined, version: 'v2', retryAttempt: 0 });
    expect(state.disabled).toEqual(['v1']);
  });

  it('drops its record when another was written meanwhile, and takes a token from that one', async () => {
    const { state, writer, again, entry } = setup({ live: 'v9' });
    const e = entry();
    await expect(writer.persist(e)).resolves.toMatchObject({ accessToken: 'theirs' });
    expect(again).toEqual([e]);
    expect(e.pending).toBeUndefined();
    expect(state.written).toEqual([]);
  });

  it('never writes back a deleted credential', async () => {
    for (const gone of [{ live: undefined }, { missing: true }]) {
      const { state, writer, entry } = setup(gone);
      const e = entry();
      await expect(writer.persist(e)).rejects.toBeInstanceOf(NotFoundError);
      expect(e.pending).toBeUndefined();
      expect(state.written).toEqual([]);
    }
  });

  it('keeps a record the store refused in memory and writes it in the background', async () => {
    const { state, writer, entry, lines } = setup({ failWrites: 2 });
    const e = entry();
    await expect(writer.persist(e)).rejects.toThrow('store down');
    expect(e.pending).toBe(pending);
    await expect.poll(() => state.written.length, { timeout: 2_000 }).toBe(1);
    expect(e).toMatchObject({ pending: undefined, retryAttempt: 0 });
    expect(lines.some((l) => l.includes('after retrying'))).toBe(true);
    expect(lines.join('\n')).not.toContain('rt-new');
  });

  it('schedules nothing once closed', async () => {
    const { writer, entry } = setup({ failWrites: 1 });
    writer.close();
    const e = entry();
    await expect(writer.persist(e)).rejects.toThrow('store down');
    expect(e.retryTimer).toBeUndefined();
    expect(e.pending).toBe(pending);
  });
});
