import {
  type AppError,
  isAppError,
  isErrorOf,
  ReauthRequiredError,
  SendOutcomeUnknownError,
  ThrottledError,
  UpstreamError,
} from '../../core/errors';

/** What a failed send of one recipient means for its row and its job. */
export type SendFailure =
  /** The credential must be connected again: the job pauses, the row waits queued. */
  | { kind: 'pause'; reason: string }
  /** Worth another attempt at `waitMs` (throttling, Graph or storage unavailable). */
  | { kind: 'retry'; reason: string; code: string; waitMs: number; throttled: boolean }
  /** Permanent (4xx, unknown outcome, attempts used up): recorded on the row, not retried. */
  | { kind: 'fail'; reason: string; code: string }
  /** Not of the taxonomy: the host retries the queue message, and poisons it in the end. */
  | { kind: 'unexpected' };

const MAX_BACKOFF_MS = 60_000;

/** How a row records an error: its stable code and the caller-safe detail. */
export function reasonOf(error: AppError): string {
  return `${error.code}: ${error.detail}`;
}

/** Failures worth another attempt later, and when. */
function retryDelayMs(error: AppError, attempts: number): number | undefined {
  if (isErrorOf(error, ThrottledError)) return error.retryAfterMs;
  if (isErrorOf(error, UpstreamError) && error.code !== 'graph_error') {
    return error.retryAfterMs ?? Math.min(MAX_BACKOFF_MS, 1000 * 2 ** attempts);
  }
  return undefined;
}

/** Classifies a send failure after the row's `attempts` (this one included) of `maxAttempts`. */
export function classifySendFailure(
  error: unknown,
  attempts: number,
  maxAttempts: number,
): SendFailure {
  if (!isAppError(error)) return { kind: 'unexpected' };
  if (isErrorOf(error, ReauthRequiredError)) return { kind: 'pause', reason: reasonOf(error) };
  const waitMs = retryDelayMs(error, attempts);
  if (waitMs !== undefined && attempts < maxAttempts) {
    const throttled = isErrorOf(error, ThrottledError);
    return { kind: 'retry', reason: reasonOf(error), code: error.code, waitMs, throttled };
  }
  const reason = isErrorOf(error, SendOutcomeUnknownError)
    ? `${reasonOf(error)} (it may have been delivered)`
    : reasonOf(error);
  return { kind: 'fail', reason, code: error.code };
}
