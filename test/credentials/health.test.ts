import { describe, expect, it } from 'vitest';

import { credentialHealthChecks, HEALTH_LIST_TTL_MS } from '../../src/credentials/health';
import { type UnreadableRecord } from '../../src/credentials/record-reader';
import { type CredentialKey, type CredentialMeta } from '../../src/credentials/types';
import { memoryStore } from '../support/credential-fakes';

const signal = new AbortController().signal;
const meta = (
  serviceId: string,
  credentialId: string,
  extra: Partial<CredentialMeta> = {},
): CredentialMeta => ({ serviceId, credentialId, status: 'active', ...extra });

function setup(metas: CredentialMeta[]) {
  let clock = 1_000_000;
  let listings = 0;
  let failNext = false;
  const unreadable: UnreadableRecord[] = [];
  const unpersisted: CredentialKey[] = [];
  const [secretStore, credentials] = credentialHealthChecks({
    repo: {
      store: memoryStore(),
      list: () => {
        listings++;
        if (failNext) return ((failNext = false), Promise.reject(new Error('vault down')));
        return Promise.resolve(metas);
      },
    },
    tokens: { unreadable: () => unreadable, unpersisted: () => unpersisted },
    now: () => clock,
  });
  return {
    secretStore: secretStore!,
    check: () => credentials!.check({ abortSignal: signal }),
    tick: (ms: number) => (clock += ms),
    listings: () => listings,
    failNextListing: () => (failNext = true),
    unreadable,
    unpersisted,
  };
}

describe('credential health', () => {
  it('counts per service what needs reconnecting and what no longer rotates', async () => {
    const h = setup([
      meta('a', '1', { status: 'reauth_required' }),
      meta('a', '2', { notRotatedSince: 5 }),
      meta('a', '3'),
      meta('b', '1'),
    ]);
    const result = await h.check();
    expect(result.ok).toBe(true);
    expect(result.detail).toBe('4 credentials, 1 need reconnecting, 1 not rotating');
    expect(result.forService!('b')).toMatchObject({
      ok: true,
      detail: '1 credentials, 0 need reconnecting, 0 not rotating',
      data: { count: 1, reauthRequired: [], notRotating: [] },
    });
    expect(result.forService!('a').data).toMatchObject({
      reauthRequired: [{ serviceId: 'a', credentialId: '1' }],
      notRotating: [{ serviceId: 'a', credentialId: '2' }],
    });
  });

  it("fails for an unreadable record or an unpersisted token, only in its service's view", async () => {
    const h = setup([meta('a', '1'), meta('b', '1')]);
    h.unreadable.push({ serviceId: 'a', credentialId: '1', reason: 'tampered', at: 1 });
    h.unpersisted.push({ serviceId: 'a', credentialId: '1' });
    const result = await h.check();
    expect(result.ok).toBe(false);
    expect(result.forService!('a')).toMatchObject({
      ok: false,
      data: {
        unreadable: [{ credentialId: '1', reason: 'tampered' }],
        unpersisted: [{ credentialId: '1' }],
      },
    });
    expect(result.forService!('b').ok).toBe(true);
  });

  it('lists the store at most once a minute, and again after a failed listing', async () => {
    const h = setup([meta('a', '1')]);
    await h.check();
    await h.check();
    expect(h.listings()).toBe(1);
    h.tick(HEALTH_LIST_TTL_MS + 1);
    h.failNextListing();
    await expect(h.check()).rejects.toThrow('vault down');
    await h.check();
    expect(h.listings()).toBe(3);
  });

  it('checks the secret store answers', async () => {
    const h = setup([]);
    expect(await h.secretStore.check({ abortSignal: signal })).toEqual({
      ok: true,
      detail: 'keyvault',
    });
  });
});
