import { remainingMs, sleep } from '../core/abort';
import { isErrorOf, UpstreamError } from '../core/errors';
import { type Logger } from '../core/logger';
import { GrantRejectedError, TransientError } from './token-response';

export interface IdentityRetryOptions {
  /** Per-attempt timeout. */
  attemptTimeoutMs: number;
  /** Total time for retries of one call (bounded by the caller's signal too). */
  budgetMs: number;
  /** First backoff, doubling (or the answer's Retry-After when longer). */
  baseMs: number;
  log?: Logger | undefined;
}

/**
 * Runs `attempt` (each with its own timeout) until it answers, retrying transient failures (a
 * TransientError, a network error, a timeout) with backoff within the budget; a refused grant and
 * an UpstreamError are answers. `retry: false` makes one attempt and turns a transient failure into
 * a retryable error (a code redemption, which must not be sent twice).
 */
export async function withIdentityRetry<T>(
  what: string,
  attempt: (signal: AbortSignal) => Promise<T>,
  call: { abortSignal?: AbortSignal },
  options: IdentityRetryOptions,
  retry = true,
): Promise<T> {
  const giveUpAt = Date.now() + Math.min(options.budgetMs, remainingMs(call.abortSignal));
  for (let n = 0; ; n++) {
    const signal = call.abortSignal
      ? AbortSignal.any([call.abortSignal, AbortSignal.timeout(options.attemptTimeoutMs)])
      : AbortSignal.timeout(options.attemptTimeoutMs);
    let failure: TransientError;
    try {
      return await attempt(signal);
    } catch (error) {
      if (call.abortSignal?.aborted) throw call.abortSignal.reason as Error;
      if (isErrorOf(error, TransientError)) failure = error;
      else if (isErrorOf(error, GrantRejectedError) || isErrorOf(error, UpstreamError)) throw error;
      else
        failure = new TransientError(
          `${what}: ${(error as Error).name} ${(error as Error).message}`,
        );
    }
    const wait = Math.max(failure.retryAfterMs ?? 0, options.baseMs * 2 ** n);
    if (!retry || Date.now() + wait > giveUpAt) {
      throw new UpstreamError(
        'graph_unavailable',
        retry
          ? `The Microsoft identity platform did not answer the ${what} request.`
          : `The Microsoft identity platform did not answer the ${what} request; the code may have been used up, so connect again.`,
        {
          ...(failure.status === undefined ? {} : { upstreamStatus: failure.status }),
          ...(failure.retryAfterMs === undefined ? {} : { retryAfterMs: failure.retryAfterMs }),
          cause: failure,
        },
      );
    }
    options.log?.warn('identity platform call failed; retrying', {
      what,
      status: failure.status,
      waitMs: wait,
    });
    await sleep(wait, call.abortSignal);
  }
}
