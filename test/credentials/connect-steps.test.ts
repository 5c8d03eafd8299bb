/* eslint-disable @typescript-eslint/require-await -- in-memory fakes of async interfaces */
import { describe, expect, it } from 'vitest';

import { ValidationError } from '../../src/core/errors';
import { type ConnectState, type ExpectedAccount } from '../../src/credentials/connect';
import { createConnectSteps, isExpected } from '../../src/credentials/connect-steps';
import { type Grant, type GrantWriter } from '../../src/credentials/grant-writer';
import { type PendingConnection, type TakeResult } from '../../src/credentials/pending-connect';
import { GrantRejectedError } from '../../src/credentials/token-endpoint';
import { type CredentialRecord } from '../../src/credentials/types';
import { captureLog, fakeEndpoint } from '../support/credential-fakes';

const key = { serviceId: 'svc', credentialId: 'c1' };
const adele = { id: 'user-1', address: 'adele@contoso.example', displayName: 'Adele' };

function setup(options: { expected?: ExpectedAccount; current?: Partial<CredentialRecord> } = {}) {
  const endpoint = fakeEndpoint();
  const redeemed: string[] = [];
  endpoint.redeemCode = async ({ code }) => {
    redeemed.push(code);
    if (code === 'used-code') throw new GrantRejectedError('invalid_grant', [54005]);
    return { accessToken: 'at-1', expiresAt: Date.now() + 3_600_000, grantedScopes: [] };
  };
  const consumed: string[] = [];
  const links: unknown[] = [];
  const pending = new Map<string, PendingConnection>();
  let take: TakeResult | undefined;
  const written: Grant[] = [];
  const writer: GrantWriter = {
    existing: async () =>
      options.current
        ? { record: { account: adele, ...options.current } as CredentialRecord, version: 'v1' }
        : undefined,
    write: async (grant) => {
      written.push(grant);
      return { view: {} as never, created: true, address: grant.signedIn?.address ?? '' };
    },
  };
  const { log, lines } = captureLog();
  const steps = createConnectSteps({
    connect: {
      redirectUri: 'https://app.example/api/oauth/callback',
      authorizeUrl: async (k, opts) => (links.push({ k, ...opts }), 'https://login.example/a'),
      consumeState: async (state): Promise<ConnectState> => {
        consumed.push(state);
        return {
          id: state,
          key,
          codeVerifier: 'v',
          expiresAt: 0,
          expected: options.expected ?? {},
        };
      },
    },
    pending: {
      create: async (p) => {
        pending.set('t1', p);
        return { confirmation: 't1', browserNonce: 'n', cookieName: 'c', expiresAt: 0 };
      },
      take: async (confirmation) => take ?? { ok: true, pending: pending.get(confirmation)! },
    },
    endpoint: () => endpoint,
    writer,
    scopes: ['Mail.Read', 'offline_access'],
    serviceName: (id) => `Service ${id}`,
    log,
  });
  const refuse = (t: TakeResult) => (take = t);
  return { steps, redeemed, consumed, links, pending, written, refuse, lines };
}

const fieldOf = async (promise: Promise<unknown>) => {
  const error = await promise.catch((e: unknown) => e);
  expect(error).toBeInstanceOf(ValidationError);
  return (error as ValidationError).errors[0]!;
};

describe('connect steps', () => {
  it('expects the account by id and by address or sign-in name, in any case', () => {
    expect(isExpected({}, adele)).toBe(true);
    expect(isExpected({ id: 'user-1' }, adele)).toBe(true);
    expect(isExpected({ id: 'user-2' }, adele)).toBe(false);
    expect(isExpected({ address: 'ADELE@contoso.example' }, adele)).toBe(true);
    const upn = { ...adele, userPrincipalName: 'adele.v@contoso.example' };
    expect(isExpected({ address: 'Adele.V@contoso.example' }, upn)).toBe(true);
    expect(isExpected({ address: 'bob@contoso.example' }, upn)).toBe(false);
  });

  it('seals the expected account into the link and refuses a hint naming another mailbox', async () => {
    const fresh = setup();
    await fresh.steps.connectUrl(key, { loginHint: 'adele@contoso.example' });
    expect(fresh.links).toEqual([
      {
        k: key,
        loginHint: 'adele@contoso.example',
        expected: { address: 'adele@contoso.example' },
      },
    ]);
    const connected = setup({ current: {} });
    await connected.steps.connectUrl(key);
    expect(connected.links).toEqual([{ k: key, expected: { id: 'user-1' } }]);
    const other = await fieldOf(
      connected.steps.connectUrl(key, { loginHint: 'bob@contoso.example' }),
    );
    expect(other.path).toBe('loginHint');
    expect(connected.links).toHaveLength(1);
  });

  it('names the missing or failed part of a callback, redeeming nothing', async () => {
    const { steps, redeemed, consumed } = setup();
    expect((await fieldOf(steps.beginConnect({ code: 'x' }))).path).toBe('state');
    const cancelled = await fieldOf(
      steps.beginConnect({
        state: 's1',
        error: 'access_denied',
        errorDescription: 'd'.repeat(900),
      }),
    );
    expect(cancelled.path).toBe('error');
    expect(cancelled.message).toContain('cancelled');
    expect(cancelled.message.length).toBeLessThan(400);
    expect((await fieldOf(steps.beginConnect({ state: 's2' }))).path).toBe('code');
    expect(redeemed).toEqual([]);
    // The state is spent even when the sign-in failed: a link works once.
    expect(consumed).toEqual(['s1', 's2']);
    expect((await fieldOf(steps.beginConnect({ state: 's3', code: 'used-code' }))).path).toBe(
      'code',
    );
  });

  it('holds a matching mailbox for its owner to confirm, storing nothing yet', async () => {
    const { steps, pending, written } = setup({ expected: { address: adele.address } });
    const outcome = await steps.beginConnect({ state: 's', code: 'c' });
    expect(outcome).toMatchObject({
      kind: 'confirm',
      key,
      serviceName: 'Service svc',
      account: { address: adele.address, displayName: 'Adele' },
      ticket: { confirmation: 't1' },
    });
    expect(pending.get('t1')).toMatchObject({ key, account: adele });
    expect(written).toEqual([]);
  });

  it('refuses another account than the link was made for, naming both', async () => {
    const byHint = setup({ expected: { address: 'bob@contoso.example' } });
    expect(await byHint.steps.beginConnect({ state: 's', code: 'c' })).toMatchObject({
      kind: 'mismatch',
      expected: 'bob@contoso.example',
      actual: adele.address,
    });
    expect(byHint.pending.size).toBe(0);
    expect(byHint.lines.some((l) => l.startsWith('warn') && l.includes('connect refused'))).toBe(
      true,
    );
    const byId = setup({
      expected: { id: 'user-9' },
      current: { account: { ...adele, id: 'user-9', address: 'carol@contoso.example' } },
    });
    expect(await byId.steps.beginConnect({ state: 's', code: 'c' })).toMatchObject({
      kind: 'mismatch',
      expected: 'carol@contoso.example',
    });
  });

  it("stores on the owner's confirmation, drops on cancel, and names a refused ticket", async () => {
    const confirmed = setup();
    await confirmed.steps.beginConnect({ state: 's', code: 'c' });
    const cookies = new Map<string, string>();
    expect(
      await confirmed.steps.confirmConnect({ confirmation: 't1', cookies, accept: true }),
    ).toMatchObject({
      address: adele.address,
    });
    expect(confirmed.written).toEqual([
      expect.objectContaining({ key, scopes: ['Mail.Read', 'offline_access'], signedIn: adele }),
    ]);

    const cancelled = setup();
    await cancelled.steps.beginConnect({ state: 's', code: 'c' });
    expect(
      await cancelled.steps.confirmConnect({ confirmation: 't1', cookies, accept: false }),
    ).toEqual({
      cancelled: key,
    });
    expect(cancelled.written).toEqual([]);

    for (const [reason, text] of [
      ['expired', 'has expired'],
      ['forged', 'browser session'],
      ['unknown', 'already been used'],
    ] as const) {
      const refused = setup();
      refused.refuse({ ok: false, reason });
      const field = await fieldOf(
        refused.steps.confirmConnect({ confirmation: 'x', cookies, accept: true }),
      );
      expect(field.path).toBe('confirmation');
      expect(field.message).toContain(text);
    }
  });
});
