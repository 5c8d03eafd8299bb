import { randomUUID } from 'node:crypto';

import {
  type Context,
  type Middleware,
  type MiddlewareOptions,
} from '@microsoft/microsoft-graph-client';

import { remainingMs, sleep } from '../core/abort';
import { UpstreamError } from '../core/errors';
import { type Logger } from '../core/logger';
import { retryAfterMs } from '../core/retry-after';
import { type MailboxSlots } from './limiter';

/**
 * How a request may be retried. `idempotent`: 429, 503, 504 and network errors. `throttle-only`:
 * only 429, which Graph answers before doing anything, so even a send is safe to repeat.
 * `none`: never (the caller handles every status itself).
 */
export type RetryMode = 'idempotent' | 'throttle-only' | 'none';

/** Per-request settings, carried to the middlewares through the SDK's middleware options. */
export class GraphCall implements MiddlewareOptions {
  refreshedToken = false;
  constructor(
    readonly settings: {
      /** The full request URL, exactly as it goes on the wire. */
      url: string;
      mailboxKey: string;
      token: (forceRefresh: boolean) => Promise<string>;
      abortSignal?: AbortSignal | undefined;
      retry: RetryMode;
      /** Slots taken from the mailbox's 4 (a $batch takes 4). */
      weight: number;
      /** The body is streamed to our caller: the budget bounds the wait for headers, not the download. */
      streamBody: boolean;
      log: Logger;
    },
  ) {}
}

function callOf(context: Context): GraphCall {
  const call = context.middlewareControl?.getMiddlewareOptions(GraphCall) as GraphCall | undefined;
  if (!call) throw new TypeError('Graph requests must be sent through GraphClient.');
  return call;
}

function setHeader(context: Context, name: string, value: string): void {
  if (context.request instanceof Request) {
    context.request.headers.set(name, value);
    return;
  }
  context.options ??= {};
  const headers = context.options.headers;
  if (headers instanceof Headers) headers.set(name, value);
  else
    context.options.headers = { ...(headers as Record<string, string> | undefined), [name]: value };
}

function removeHeader(context: Context, name: string): void {
  const headers = context.options?.headers;
  if (headers instanceof Headers) headers.delete(name);
  else if (headers && context.options) {
    context.options.headers = Object.fromEntries(
      Object.entries(headers as Record<string, string>).filter(
        ([key]) => key.toLowerCase() !== name,
      ),
    );
  }
}

abstract class Link implements Middleware {
  protected next: Middleware | undefined;
  setNext(next: Middleware): void {
    this.next = next;
  }
  protected async forward(context: Context): Promise<void> {
    if (!this.next) throw new TypeError('Graph middleware chain has no terminal handler.');
    await this.next.execute(context);
  }
  abstract execute(context: Context): Promise<void>;
}

const NULL_BODY_STATUS = new Set([101, 204, 205, 304]);

async function buffered(response: Response): Promise<Response> {
  const body = NULL_BODY_STATUS.has(response.status) ? null : await response.arrayBuffer();
  return new Response(body, {
    status: response.status,
    statusText: response.statusText,
    headers: response.headers,
  });
}

/** The same answer, whose body calls `release` once it is read to the end, fails or is cancelled. */
function releasingOnEnd(response: Response, release: () => void): Response {
  const reader = response.body!.getReader();
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const next = await reader.read();
        if (next.done) {
          release();
          controller.close();
        } else controller.enqueue(next.value);
      } catch (error) {
        release();
        controller.error(error);
      }
    },
    async cancel(reason) {
      release();
      await reader.cancel(reason);
    },
  });
  return new Response(body, {
    status: response.status,
    statusText: response.statusText,
    headers: response.headers,
  });
}

const RETRYABLE = new Set([429, 503, 504]);
const MAX_ATTEMPTS = 6;

/** Exponential backoff with jitter (0.5–1× of 1 s, 2 s, 4 s…, at most 30 s). */
export function backoffMs(attempt: number): number {
  const ceiling = Math.min(30_000, 1000 * 2 ** attempt);
  return Math.round(ceiling * (0.5 + Math.random() / 2));
}

/**
 * Retries throttled and unavailable answers within the invocation's time budget. When the wait
 * would not fit in the budget it stops and leaves the last answer for the caller to report
 * (429/503 with Retry-After), rather than hanging.
 */
export class RetryMiddleware extends Link {
  async execute(context: Context): Promise<void> {
    const call = callOf(context);
    const { abortSignal, retry, log, url } = call.settings;
    context.request = url;
    // The SDK labels every POST as JSON; a request without a body (…/send) must carry no type.
    if (context.options?.body === undefined || context.options.body === null) {
      removeHeader(context, 'content-type');
    }
    for (let attempt = 0; ; attempt++) {
      try {
        await this.forward(context);
      } catch (error) {
        if (abortSignal?.aborted) {
          throw new UpstreamError(
            'graph_unavailable',
            'Microsoft Graph did not answer within the time budget.',
            {
              cause: error,
              retryAfterMs: 5000,
            },
          );
        }
        const wait = backoffMs(attempt);
        if (
          retry !== 'idempotent' ||
          attempt + 1 >= MAX_ATTEMPTS ||
          wait > remainingMs(abortSignal)
        ) {
          throw new UpstreamError('graph_unavailable', 'Microsoft Graph could not be reached.', {
            cause: error,
          });
        }
        log.warn('graph request failed, retrying', { attempt, waitMs: wait, error });
        await sleep(wait, abortSignal);
        continue;
      }
      const response = context.response;
      if (!response || !RETRYABLE.has(response.status) || retry === 'none') return;
      if (response.status !== 429 && retry !== 'idempotent') return;
      const wait = retryAfterMs(response.headers) ?? backoffMs(attempt);
      if (attempt + 1 >= MAX_ATTEMPTS || wait > remainingMs(abortSignal) - 250) return;
      log.warn('graph throttled, retrying', {
        status: response.status,
        waitMs: wait,
        attempt,
        graphRequestId: response.headers.get('request-id') ?? undefined,
      });
      await response.body?.cancel();
      await sleep(wait, abortSignal);
    }
  }
}

/** Adds the bearer token; a 401 gets one forced refresh and one retry, never more. */
export class AuthMiddleware extends Link {
  async execute(context: Context): Promise<void> {
    const call = callOf(context);
    setHeader(context, 'authorization', `Bearer ${await call.settings.token(false)}`);
    await this.forward(context);
    if (context.response?.status === 401 && !call.refreshedToken) {
      call.refreshedToken = true;
      await context.response.body?.cancel();
      setHeader(context, 'authorization', `Bearer ${await call.settings.token(true)}`);
      await this.forward(context);
    }
  }
}

/** Keeps this instance within the mailbox's concurrency limit and tags requests for tracing. */
export class ConcurrencyMiddleware extends Link {
  constructor(private readonly limiter: MailboxSlots) {
    super();
  }

  async execute(context: Context): Promise<void> {
    const call = callOf(context);
    const { mailboxKey, weight, abortSignal, log, streamBody } = call.settings;
    const clientRequestId = randomUUID();
    setHeader(context, 'client-request-id', clientRequestId);
    const release = await this.limiter.acquire(mailboxKey, { weight, abortSignal });
    const startedAt = Date.now();
    const controller = new AbortController();
    const abort = () => controller.abort(abortSignal?.reason);
    abortSignal?.addEventListener('abort', abort, { once: true });
    let releaseOnBodyEnd = false;
    try {
      context.options = { ...context.options, signal: controller.signal };
      await this.forward(context);
      const response = context.response;
      // Graph counts a request until its answer is complete, so the slot is held until then.
      if (response?.body && streamBody) {
        context.response = releasingOnEnd(response, release);
        releaseOnBodyEnd = true;
      } else if (response) {
        context.response = await buffered(response);
      }
    } finally {
      // Every request would otherwise leave a listener on the invocation's deadline.
      abortSignal?.removeEventListener('abort', abort);
      if (!releaseOnBodyEnd) release();
    }
    log.debug('graph request', {
      method: context.options?.method,
      status: context.response?.status,
      ms: Date.now() - startedAt,
      clientRequestId,
      graphRequestId: context.response?.headers.get('request-id') ?? undefined,
    });
  }
}
