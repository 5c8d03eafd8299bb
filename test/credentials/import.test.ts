import { describe, expect, it } from 'vitest';

import { UpstreamError, ValidationError } from '../../src/core/errors';
import { importBodySchema, refreshForImport } from '../../src/credentials/import';
import { fakeEndpoint } from '../support/credential-fakes';

const fieldOf = (error: unknown) => (error as ValidationError).errors.map((e) => e.path);

describe('credential import', () => {
  it('refuses a misspelt field and a mailbox that is no address by the one rule', () => {
    const misspelt = importBodySchema.safeParse({ refreshToken: 'rt', mailBox: 'a@b' });
    expect(misspelt.success).toBe(false);
    // The one address rule (src/core/identifiers.ts), not a looser one of its own.
    for (const mailbox of [
      'not an address',
      'a@b',
      'a@b.example/../../me',
      `${'a'.repeat(250)}@b.example`,
    ]) {
      const bad = importBodySchema.safeParse({ refreshToken: 'rt', mailbox });
      expect(bad.error?.issues[0]?.path, mailbox).toEqual(['mailbox']);
    }
    const shared = importBodySchema.safeParse({
      refreshToken: 'rt',
      mailbox: 'shared@contoso.example',
    });
    expect(shared.success).toBe(true);
  });

  it('spends the token once with the default scopes and offline_access', async () => {
    const endpoint = fakeEndpoint('rt-0');
    const { result, scopes } = await refreshForImport(endpoint, { refreshToken: 'rt-0' }, [
      'Mail.Read',
    ]);
    expect(scopes).toEqual(['Mail.Read', 'offline_access']);
    expect(endpoint.requested).toEqual([['Mail.Read', 'offline_access']]);
    expect(result.refreshToken).toMatch(/^rt-1-/);
  });

  it("refuses another app registration's client id before calling the identity platform", async () => {
    const endpoint = fakeEndpoint('rt-0');
    const error = await refreshForImport(
      endpoint,
      { refreshToken: 'rt-0', clientId: 'someone-else' },
      ['Mail.Read'],
    ).catch((e: unknown) => e);
    expect(fieldOf(error)).toEqual(['clientId']);
    expect(endpoint.calls).toBe(0);
    // The registration's own id in another case is accepted.
    const own = { refreshToken: 'rt-0', clientId: endpoint.clientId.toUpperCase() };
    await expect(refreshForImport(endpoint, own, ['Mail.Read'])).resolves.toBeDefined();
  });

  it('names refreshToken for a refused grant and scopes for an invalid scope', async () => {
    const endpoint = fakeEndpoint('rt-0');
    const revoked = await refreshForImport(endpoint, { refreshToken: 'rt-revoked' }, ['x']).catch(
      (e: unknown) => e,
    );
    expect(revoked).toBeInstanceOf(ValidationError);
    expect(fieldOf(revoked)).toEqual(['refreshToken']);
    expect((revoked as Error).message).toContain('invalid_grant');

    endpoint.failures.push(
      new UpstreamError('graph_error', 'AADSTS70011: the scope is not valid', {
        upstreamCode: 'invalid_scope',
      }),
    );
    const scope = await refreshForImport(endpoint, { refreshToken: 'rt-0', scopes: ['Bad'] }, [
      'x',
    ]).catch((e: unknown) => e);
    expect(fieldOf(scope)).toEqual(['scopes']);

    // Anything else is not the caller's to fix: it passes through.
    const down = new UpstreamError('graph_unavailable', 'down');
    endpoint.failures.push(down);
    await expect(refreshForImport(endpoint, { refreshToken: 'rt-0' }, ['x'])).rejects.toBe(down);
  });
});
