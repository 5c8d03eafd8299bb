import { describe, expect, it } from 'vitest';

import { UpstreamError } from '../../src/core/errors';
import {
  accountOf,
  GrantRejectedError,
  tokenResultOf,
  TransientError,
} from '../../src/credentials/token-response';

const answer = (status: number, body: unknown, headers: Record<string, string> = {}) => {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  return [new Response(null, { status, headers }), text] as const;
};
const judge = (status: number, body: unknown, headers?: Record<string, string>) => {
  const [response, text] = answer(status, body, headers);
  try {
    return tokenResultOf('token refresh', response, text);
  } catch (error) {
    return error;
  }
};

describe('token endpoint answers', () => {
  it('reads the tokens, the lifetime and the granted scopes, URL-encoded or not', () => {
    const before = Date.now();
    const result = judge(200, {
      access_token: 'at',
      refresh_token: 'rt',
      expires_in: 600,
      scope: 'https%3A%2F%2Fgraph.microsoft.com%2FMail.Read+Mail.Send',
    });
    expect(result).toMatchObject({
      accessToken: 'at',
      refreshToken: 'rt',
      grantedScopes: ['https://graph.microsoft.com/Mail.Read', 'Mail.Send'],
    });
    const { expiresAt } = result as { expiresAt: number };
    expect(expiresAt).toBeGreaterThanOrEqual(before + 600_000);
    expect(expiresAt).toBeLessThan(before + 610_000);
    // No refresh token: the old one stays in use; a nonsense lifetime is an hour.
    const bare = judge(200, { access_token: 'at', expires_in: 'soon' });
    expect(bare).not.toHaveProperty('refreshToken');
    expect((bare as { expiresAt: number }).expiresAt).toBeGreaterThan(before + 3_500_000);
  });

  it('retries 5xx, 429, a proxy page and the transient errors and codes, with Retry-After', () => {
    const throttled = judge(429, { error: 'x' }, { 'retry-after': '7' });
    expect(throttled).toBeInstanceOf(TransientError);
    expect(throttled).toMatchObject({ status: 429, retryAfterMs: 7000 });
    expect(judge(502, '<html>Bad gateway</html>')).toBeInstanceOf(TransientError);
    expect(judge(400, { error: 'temporarily_unavailable' })).toBeInstanceOf(TransientError);
    // A transient code wins over the error it comes with.
    expect(judge(400, { error: 'invalid_grant', error_codes: [50087] })).toBeInstanceOf(
      TransientError,
    );
  });

  it('tells a refused grant (generic or definite) from our own misconfiguration', () => {
    const definite = judge(400, { error: 'invalid_grant', error_codes: [70008] });
    expect(definite).toBeInstanceOf(GrantRejectedError);
    expect(definite).toMatchObject({ generic: false, reason: 'invalid_grant (AADSTS70008)' });
    expect(judge(400, { error: 'invalid_grant', error_codes: [70000] })).toMatchObject({
      generic: true,
    });
    expect(judge(400, { error: 'interaction_required' })).toBeInstanceOf(GrantRejectedError);
    const config = judge(401, { error: 'invalid_client', error_codes: [7000215] });
    expect(config).toBeInstanceOf(UpstreamError);
    expect(config).toMatchObject({ code: 'graph_error', upstreamCode: 'invalid_client' });
    expect((config as Error).message).toContain('AADSTS7000215');
  });

  it('takes the address from mail, else the sign-in name', () => {
    expect(accountOf({ id: 'u', mail: 'a@x.example', userPrincipalName: 'a.b@x.example' })).toEqual(
      {
        id: 'u',
        address: 'a@x.example',
        displayName: 'a.b@x.example',
        userPrincipalName: 'a.b@x.example',
      },
    );
    expect(
      accountOf({ id: 'u', mail: '', displayName: 'A', userPrincipalName: 'a@x.example' }),
    ).toMatchObject({ address: 'a@x.example', displayName: 'A' });
  });
});
