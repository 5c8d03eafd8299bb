import { MailApiError } from './errors';

/** How the client waits out 429 and 503 answers. */
export interface RetryPolicy {
  /** Further attempts after the first (default 3; 0 turns retries off). */
  maxRetries: number;
  /** Longest wait the client accepts; a longer Retry-After is thrown to the caller (default 60 s). */
  maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { maxRetries: 3, maxDelayMs: 60_000 };

/** Wait used when a 429/503 names no Retry-After, doubled per attempt. */
const FALLBACK_DELAY_MS = 1_000;

/** `Retry-After` as delta-seconds or an HTTP-date (RFC 9110 §10.2.3), in ms from `now`. */
export function retryAfterMs(header: string | null, now = Date.now()): number | undefined {
  if (header === null) return undefined;
  const value = header.trim();
  if (/^\d+$/.test(value)) return Number(value) * 1000;
  // An HTTP-date names its weekday (`Wed, 21 Oct 2015 07:28:00 GMT`); Date.parse takes far more.
  const at = /^[A-Za-z]{3},/.test(value) ? Date.parse(value) : NaN;
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason as Error);
    const done = () => {
      signal?.removeEventListener('abort', abort);
      resolve();
    };
    const timer = setTimeout(done, ms);
    const abort = () => {
      clearTimeout(timer);
      reject(signal!.reason as Error);
    };
    signal?.addEventListener('abort', abort, { once: true });
  });
}

export interface Outcome<T> {
  data?: T;
  error?: unknown;
  response: Response;
}

/**
 * Runs `attempt` until it succeeds, retrying 429 and 503 answers after their Retry-After while
 * `replayable` (a caller's stream can be sent only once). Anything else not 2xx is a MailApiError.
 */
export async function withRetries<T>(
  attempt: () => Promise<Outcome<T>>,
  options: { policy: RetryPolicy; abortSignal?: AbortSignal | undefined; replayable?: boolean },
): Promise<{ data: T; response: Response }> {
  for (let retry = 0; ; retry++) {
    const { data, error, response } = await attempt();
    if (response.ok) return { data: data as T, response };
    const wait = retryAfterMs(response.headers.get('retry-after'));
    const error_ = new MailApiError(response, error, wait);
    const delay = wait ?? FALLBACK_DELAY_MS * 2 ** retry;
    const retryable =
      (response.status === 429 || response.status === 503) && options.replayable !== false;
    if (!retryable || retry >= options.policy.maxRetries || delay > options.policy.maxDelayMs) {
      throw error_;
    }
    await sleep(delay, options.abortSignal);
  }
}
