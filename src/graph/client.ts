import { Client, HTTPMessageHandler, ResponseType } from '@microsoft/microsoft-graph-client';

import { ForbiddenError, UpstreamError } from '../core/errors';
import { type Logger } from '../core/logger';
import { toGraphError } from './errors';
import { MailboxLimiter, type MailboxSlots } from './limiter';
import {
  AuthMiddleware,
  ConcurrencyMiddleware,
  GraphCall,
  RetryMiddleware,
  type RetryMode,
} from './middleware';

export type QueryValue = string | number | boolean | undefined;

export interface GraphRequestOptions {
  query?: Record<string, QueryValue>;
  headers?: Record<string, string>;
  /** Serialised as JSON. */
  body?: unknown;
  retry?: RetryMode;
  /** Slots of the mailbox's concurrency limit this request holds (a $batch holds 4). */
  weight?: number;
  /** For downloads passed through to our caller: only the wait for headers counts against the budget. */
  streamBody?: boolean;
}

export interface GraphResult<T> {
  status: number;
  headers: Headers;
  body: T;
}

/** Percent-encodes every query value: the SDK joins them into the URL as given. */
export function buildPath(path: string, query: Record<string, QueryValue> = {}): string {
  const parts = Object.entries(query)
    .filter((entry): entry is [string, string | number | boolean] => entry[1] !== undefined)
    .map(([key, value]) => `${key}=${encodeURIComponent(String(value))}`);
  return parts.length > 0 ? `${path}?${parts.join('&')}` : path;
}

/** A path segment for an id or name: always encoded, so `/`, `?` or `#` can never change the URL. */
export function segment(value: string): string {
  return encodeURIComponent(value);
}

const IMMUTABLE_ID = 'IdType="ImmutableId"';

/**
 * Graph honours `Prefer: IdType="ImmutableId"` only on the request that carries it, so every
 * request asks for it, merged with any other preference (body content type, page size).
 */
export function withImmutableIds(headers: Record<string, string> = {}): Record<string, string> {
  const merged: Record<string, string> = {};
  let prefer: string | undefined;
  for (const [name, value] of Object.entries(headers)) {
    if (name.toLowerCase() === 'prefer') prefer = prefer ? `${prefer}, ${value}` : value;
    else merged[name] = value;
  }
  merged.prefer = !prefer
    ? IMMUTABLE_ID
    : prefer.includes('IdType=')
      ? prefer
      : `${prefer}, ${IMMUTABLE_ID}`;
  return merged;
}

export interface GraphAccess {
  accessToken: string;
  scopes: readonly string[];
  account: { id: string; address: string; displayName?: string };
  mailbox?: string | undefined;
}

/** The Graph helper's view of credentials; the credential token manager satisfies it. */
export interface GraphTokenSource<K> {
  getAccessToken(
    key: K,
    options?: { forceRefresh?: boolean; abortSignal?: AbortSignal },
  ): Promise<GraphAccess>;
}

/**
 * One mailbox seen through one credential: every request carries its token, obeys the mailbox's
 * concurrency limit and the invocation's time budget, and fails with our error taxonomy.
 */
export class GraphClient {
  constructor(
    private readonly sdk: Client,
    private readonly settings: {
      mailboxKey: string;
      token: (forceRefresh: boolean) => Promise<string>;
      abortSignal?: AbortSignal | undefined;
      log: Logger;
      /** GRAPH_BASE_URL without a trailing slash; it may carry a path (a proxy, the sandbox). */
      graphBaseUrl: string;
    },
  ) {}

  /** The raw answer, body unread (attachment downloads stream it). Non-2xx answers throw. */
  async send(
    method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE',
    path: string,
    options: GraphRequestOptions = {},
  ): Promise<Response> {
    const pathAndQuery = buildPath(path, options.query);
    const call = new GraphCall({
      // Built here, not by the SDK: it joins query values unencoded and reorders them.
      url: `${this.settings.graphBaseUrl}/v1.0${pathAndQuery}`,
      mailboxKey: this.settings.mailboxKey,
      token: this.settings.token,
      abortSignal: this.settings.abortSignal,
      retry: options.retry ?? (method === 'GET' ? 'idempotent' : 'throttle-only'),
      weight: options.weight ?? 1,
      streamBody: options.streamBody ?? false,
      log: this.settings.log,
    });
    const headers = withImmutableIds(options.headers);
    if (options.body !== undefined) headers['content-type'] ??= 'application/json';
    const request = this.sdk
      .api(path.split('?')[0]!)
      .headers(headers)
      .middlewareOptions([call])
      .responseType(ResponseType.RAW);
    const body = options.body === undefined ? undefined : JSON.stringify(options.body);
    const response = (await (method === 'GET'
      ? request.get()
      : method === 'POST'
        ? request.post(body)
        : method === 'PATCH'
          ? request.patch(body)
          : method === 'PUT'
            ? request.put(body)
            : request.delete())) as Response;
    if (!response.ok) throw toGraphError(response.status, response.headers, await response.text());
    return response;
  }

  async json<T>(
    method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE',
    path: string,
    options: GraphRequestOptions = {},
  ): Promise<GraphResult<T>> {
    const response = await this.send(method, path, options);
    const text = await response.text();
    let body: unknown;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch (error) {
      throw new UpstreamError(
        'graph_error',
        'Microsoft Graph answered with a body that is not JSON.',
        { cause: error },
      );
    }
    return { status: response.status, headers: response.headers, body: body as T };
  }

  get<T>(path: string, options: Omit<GraphRequestOptions, 'body'> = {}): Promise<GraphResult<T>> {
    return this.json<T>('GET', path, options);
  }

  /**
   * The path (below `/v1.0`) of an `@odata.nextLink`, after checking it points at the Graph we
   * are configured for: a link elsewhere is never followed. The path and query are kept exactly
   * as Graph wrote them (parsing would re-encode characters such as `'`), because Graph expects
   * the whole link back unaltered.
   */
  nextLinkPath(nextLink: string): string {
    let url: URL;
    try {
      url = new URL(nextLink);
    } catch {
      throw new UpstreamError(
        'graph_error',
        'Microsoft Graph returned a next link that is not a URL.',
      );
    }
    const base = new URL(this.settings.graphBaseUrl);
    const prefix = `${base.pathname.replace(/\/+$/, '')}/v1.0/`;
    if (
      url.origin !== base.origin ||
      !url.pathname.startsWith(prefix) ||
      url.username ||
      url.password
    ) {
      throw new UpstreamError(
        'graph_error',
        'Microsoft Graph returned a next link to another host.',
      );
    }
    const authorityEnd = nextLink.indexOf('/', nextLink.indexOf('//') + 2);
    return nextLink.slice(authorityEnd + prefix.length - 1);
  }
}

export interface MailboxGraph {
  client: GraphClient;
  /** `/me`, or `/users/{upn}` for a shared mailbox. */
  root: string;
  /** The address of the mailbox being read or sent from. */
  mailboxAddress: string;
  access: GraphAccess;
}

export interface GraphFactoryOptions<K> {
  graphBaseUrl: string;
  tokens: GraphTokenSource<K>;
  /** This instance's own limiter by default; `SharedMailboxLimiter` shares it across instances. */
  limiter?: MailboxSlots;
}

export interface ForCredentialOptions {
  /** Bounds every request and wait made through the client (the invocation's budget). */
  abortSignal?: AbortSignal | undefined;
  log: Logger;
  /** A shared mailbox (UPN) to use instead of the signed-in user's own. */
  mailbox?: string | undefined;
  /**
   * The caller changes mail (not only reads or sends it): a shared mailbox then needs
   * Mail.ReadWrite.Shared, checked before any Graph call.
   */
  writes?: boolean;
}

export interface GraphFactory<K> {
  forCredential(key: K, options: ForCredentialOptions): Promise<MailboxGraph>;
  readonly limiter: MailboxSlots;
}

// Token responses may name scopes with their resource prefix (https://graph.microsoft.com/Mail.Send.Shared).
const SHARED_SCOPE = /(^|\/)Mail\.(Read|ReadWrite|Send)\.Shared$/i;
const READ_WRITE_SHARED = /(^|\/)Mail\.ReadWrite\.Shared$/i;

/** The one Graph helper: a single SDK client and limiter shared by every function in the process. */
export function createGraphFactory<K>(options: GraphFactoryOptions<K>): GraphFactory<K> {
  const limiter = options.limiter ?? new MailboxLimiter();
  const sdk = Client.initWithMiddleware({
    baseUrl: options.graphBaseUrl,
    defaultVersion: 'v1.0',
    middleware: [
      new RetryMiddleware(),
      new AuthMiddleware(),
      new ConcurrencyMiddleware(limiter),
      new HTTPMessageHandler(),
    ],
  });
  return {
    limiter,
    async forCredential(key, { abortSignal, log, mailbox, writes }) {
      const signal = abortSignal ? { abortSignal } : {};
      const access = await options.tokens.getAccessToken(key, signal);
      const target = mailbox ?? access.mailbox;
      const shared =
        target !== undefined && target.toLowerCase() !== access.account.address.toLowerCase();
      if (shared && !access.scopes.some((s) => SHARED_SCOPE.test(s))) {
        throw new ForbiddenError(
          `Reading or sending as ${target} needs the Mail.*.Shared permissions, which this credential was not granted.`,
        );
      }
      if (shared && writes && !access.scopes.some((s) => READ_WRITE_SHARED.test(s))) {
        throw new ForbiddenError(
          `Changing mail in ${target} needs the Mail.ReadWrite.Shared permission, which this credential was not granted.`,
        );
      }
      let current = access;
      const token = async (forceRefresh: boolean) => {
        if (forceRefresh)
          current = await options.tokens.getAccessToken(key, { forceRefresh, ...signal });
        return current.accessToken;
      };
      const mailboxAddress = shared ? target : access.account.address;
      const client = new GraphClient(sdk, {
        // Graph's limit is per app and mailbox, whoever's credential reaches it.
        mailboxKey: mailboxAddress.toLowerCase(),
        token,
        abortSignal,
        log,
        graphBaseUrl: options.graphBaseUrl.replace(/\/+$/, ''),
      });
      return {
        client,
        root: shared ? `/users/${segment(target)}` : '/me',
        mailboxAddress,
        access,
      };
    },
  };
}
