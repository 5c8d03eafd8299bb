import { remainingMs, sleep } from '../core/abort';
import { ThrottledError, UpstreamError } from '../core/errors';
import { type Logger } from '../core/logger';
import { retryAfterMs } from '../core/retry-after';
import { type GraphClient, withImmutableIds } from './client';
import { backoffMs } from './middleware';

/** One request inside a JSON batch; `url` is relative to the version (`/me/mailFolders/x/childFolders`). */
export interface BatchRequest {
  id: string;
  method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';
  url: string;
  headers?: Record<string, string>;
  body?: unknown;
}

export interface BatchResponse {
  id: string;
  status: number;
  headers: Record<string, string>;
  body: unknown;
}

interface BatchEnvelope {
  responses?: Array<{
    id?: string;
    status?: number;
    headers?: Record<string, string>;
    body?: unknown;
  }>;
}

export const MAX_BATCH_REQUESTS = 20;
const RETRYABLE = new Set([429, 503, 504]);

/**
 * Runs requests through `$batch` in groups of 20. Inner 429s are not retried by Graph or the
 * SDK, so throttled items are sent again after the longest inner Retry-After, within the budget.
 * Only GETs are retried on 503/504; anything else keeps its inner answer.
 */
export async function runBatch(
  client: GraphClient,
  requests: BatchRequest[],
  options: {
    abortSignal?: AbortSignal | undefined;
    log: Logger;
    /**
     * When Graph keeps throttling past the budget: throw (default), or answer with the throttled
     * items' own 429s so the caller can report what did get done.
     */
    whenOutOfTime?: 'throw' | 'answer';
  },
): Promise<Map<string, BatchResponse>> {
  const results = new Map<string, BatchResponse>();
  let pending = requests;
  for (let round = 0; pending.length > 0; round++) {
    const retry: BatchRequest[] = [];
    let waitMs = 0;
    for (let start = 0; start < pending.length; start += MAX_BATCH_REQUESTS) {
      const group = pending.slice(start, start + MAX_BATCH_REQUESTS);
      const { body } = await client.json<BatchEnvelope>('POST', '/$batch', {
        body: {
          requests: group.map((r) => ({
            id: r.id,
            method: r.method,
            url: r.url,
            // Preferences apply per inner request, not from the batch's own headers.
            headers: withImmutableIds(
              r.body === undefined
                ? r.headers
                : { 'content-type': 'application/json', ...r.headers },
            ),
            ...(r.body === undefined ? {} : { body: r.body }),
          })),
        },
        retry: group.every((r) => r.method === 'GET') ? 'idempotent' : 'throttle-only',
        weight: 4,
      });
      const answered = new Set<string>();
      for (const response of body.responses ?? []) {
        const request = group.find((r) => r.id === response.id);
        if (!request || response.status === undefined) continue;
        answered.add(request.id);
        const item: BatchResponse = {
          id: request.id,
          status: response.status,
          headers: response.headers ?? {},
          body: response.body,
        };
        const retryable =
          response.status === 429 || (RETRYABLE.has(response.status) && request.method === 'GET');
        if (retryable) {
          retry.push(request);
          waitMs = Math.max(waitMs, retryAfterMs(new Headers(item.headers)) ?? backoffMs(round));
        }
        results.set(request.id, item);
      }
      const missing = group.filter((r) => !answered.has(r.id));
      if (missing.length > 0) {
        throw new UpstreamError(
          'graph_error',
          `Microsoft Graph's batch answer lacks ${missing.length} item(s).`,
        );
      }
    }
    if (retry.length === 0) break;
    if (waitMs > remainingMs(options.abortSignal) - 250) {
      if (options.whenOutOfTime === 'answer') break;
      throw new ThrottledError(
        'Microsoft Graph kept throttling this mailbox beyond the time budget.',
        waitMs,
      );
    }
    options.log.warn('graph batch items throttled, retrying', {
      items: retry.length,
      waitMs,
      round,
    });
    await sleep(waitMs, options.abortSignal);
    pending = retry;
  }
  return results;
}
