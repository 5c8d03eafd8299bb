import { describe, expect, it } from 'vitest';

import { UpstreamError } from '../../src/core/errors';
import { withIdentityRetry } from '../../src/credentials/identity-retry';
import { GrantRejectedError, TransientError } from '../../src/credentials/token-response';
import { captureLog } from '../support/credential-fakes';

const options = { attemptTimeoutMs: 1_000, budgetMs: 5_000, baseMs: 1 };

/** An attempt that fails with each of `failures` in turn, then answers `ok`. */
function flaky(failures: Error[]) {
  let calls = 0;
  const attempt = () => {
    calls++;
    const failure = failures.shift();
    return failure ? Promise.reject(failure) : Promise.resolve('ok');
  };
  return { attempt, calls: () => calls };
}

describe('identity platform retries', () => {
  it('retries transient failures and network errors, logging each', async () => {
    const { log, lines } = captureLog();
    const { attempt, calls } = flaky([
      new TransientError('token refresh: HTTP 503', 503),
      new TypeError('fetch failed'),
    ]);
    expect(await withIdentityRetry('token refresh', attempt, {}, { ...options, log })).toBe('ok');
    expect(calls()).toBe(3);
    expect(lines.filter((l) => l.includes('retrying'))).toHaveLength(2);
  });

  it('answers a refused grant or an upstream error at once', async () => {
    for (const error of [
      new GrantRejectedError('invalid_grant', [70008]),
      new UpstreamError('graph_error', 'invalid_client'),
    ]) {
      const { attempt, calls } = flaky([error]);
      await expect(withIdentityRetry('token refresh', attempt, {}, options)).rejects.toBe(error);
      expect(calls()).toBe(1);
    }
  });

  it('gives up as graph_unavailable when the next wait would pass the budget', async () => {
    const { attempt, calls } = flaky([new TransientError('x', 429, 60_000)]);
    const error = await withIdentityRetry('token refresh', attempt, {}, options).catch(
      (e: unknown) => e,
    );
    expect(error).toMatchObject({
      code: 'graph_unavailable',
      upstreamStatus: 429,
      retryAfterMs: 60_000,
    });
    expect(calls()).toBe(1);
  });

  it('makes one attempt when a retry could spend a code twice, and says to connect again', async () => {
    const { attempt, calls } = flaky([new TransientError('x', 502)]);
    const error = await withIdentityRetry('code redemption', attempt, {}, options, false).catch(
      (e: unknown) => e,
    );
    expect((error as Error).message).toContain('connect again');
    expect(calls()).toBe(1);
  });

  it("stops with the caller's reason when the caller aborts", async () => {
    const caller = new AbortController();
    const reason = new Error('caller gone');
    const attempt = () => {
      caller.abort(reason);
      return Promise.reject(new TypeError('aborted'));
    };
    await expect(
      withIdentityRetry('GET /me', attempt, { abortSignal: caller.signal }, options),
    ).rejects.toBe(reason);
  });
});
