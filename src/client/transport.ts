import createClient, { type Client } from 'openapi-fetch';

import { DEFAULT_RETRY, type Outcome, type RetryPolicy, withRetries } from './retry';
import { type components, type operations, type paths } from './schema';

export type Schemas = components['schemas'];

/** An API key of `API_KEYS`, or an Entra ID access token for this API, fetched per request. */
export type MailClientAuth = { apiKey: string } | { getToken: () => string | Promise<string> };

export type MailClientOptions = MailClientAuth & {
  /** The API root, e.g. `http://127.0.0.1:7071/api`. */
  baseUrl: string;
  /** 429/503 handling (default: 3 retries, waits up to 60 s each). */
  retry?: Partial<RetryPolicy>;
  fetch?: typeof fetch;
};

export interface CallOptions {
  abortSignal?: AbortSignal;
}

/** Sends that repeat safely: a generated `Idempotency-Key` unless one is given (or `false`). */
export interface IdempotentCallOptions extends CallOptions {
  idempotencyKey?: string | false;
}

export type Query<Op extends keyof operations> = NonNullable<operations[Op]['parameters']['query']>;
export type JsonBody<Op extends keyof operations> = operations[Op] extends {
  requestBody: { content: { 'application/json': infer Body } };
}
  ? Body
  : never;

/** Query values as JavaScript types: booleans and dates instead of their URL spelling. */
export type Friendly<Q> = {
  [K in keyof Q]?: NonNullable<Q[K]> extends 'true' | 'false'
    ? boolean
    : K extends `received${string}`
      ? Date | string
      : Q[K];
};

export function urlQuery<Q extends object>(query: Q | undefined): Record<string, string | number> {
  const out: Record<string, string | number> = {};
  for (const [name, value] of Object.entries<unknown>(query ?? {})) {
    if (value === undefined) continue;
    out[name] =
      value instanceof Date
        ? value.toISOString()
        : typeof value === 'boolean'
          ? String(value)
          : (value as string | number);
  }
  return out;
}

interface Page {
  nextCursor?: string | null;
}

/** Every page, following `nextCursor` until there is none; stop early with `break`. */
export async function* everyPage<P extends Page>(
  page: (cursor: string | undefined) => Promise<P>,
): AsyncGenerator<P, void, undefined> {
  let cursor: string | undefined;
  do {
    const next = await page(cursor);
    yield next;
    cursor = next.nextCursor ?? undefined;
  } while (cursor !== undefined);
}

export function idempotencyHeader(options: IdempotentCallOptions): Record<string, string> {
  const key = options.idempotencyKey ?? crypto.randomUUID();
  return key === false ? {} : { 'Idempotency-Key': key };
}

/** `mailbox` as the query of a route that acts on a shared mailbox, when one is named. */
export const mailboxQuery = (o: { mailbox?: string }): { mailbox?: string } =>
  o.mailbox === undefined ? {} : { mailbox: o.mailbox };

type Attempt<T> = (signal: AbortSignal | null) => Promise<Outcome<T>>;

/** What every resource area's calls share: the authenticated client and the retrying call. */
export interface Transport {
  api: Client<paths>;
  policy: RetryPolicy;
  /** One API call: retried on 429/503, any other failure thrown as a MailApiError. */
  call: <T>(attempt: Attempt<T>, callOptions?: CallOptions, replayable?: boolean) => Promise<T>;
  /** `call` with the response too (headers of a download). */
  answer: <T>(
    attempt: Attempt<T>,
    callOptions?: CallOptions,
    replayable?: boolean,
  ) => Promise<{ data: T; response: Response }>;
}

export function createTransport(options: MailClientOptions): Transport {
  const policy: RetryPolicy = { ...DEFAULT_RETRY, ...options.retry };
  const api: Client<paths> = createClient<paths>({
    baseUrl: options.baseUrl,
    ...(options.fetch ? { fetch: options.fetch } : {}),
  });
  api.use({
    async onRequest({ request }) {
      if ('apiKey' in options) request.headers.set('x-api-key', options.apiKey);
      else request.headers.set('authorization', `Bearer ${await options.getToken()}`);
      return request;
    },
  });
  const answer = <T>(attempt: Attempt<T>, callOptions: CallOptions = {}, replayable = true) =>
    withRetries(() => attempt(callOptions.abortSignal ?? null), {
      policy,
      abortSignal: callOptions.abortSignal,
      replayable,
    });
  return {
    api,
    policy,
    answer,
    call: async (attempt, callOptions, replayable) =>
      (await answer(attempt, callOptions, replayable)).data,
  };
}
