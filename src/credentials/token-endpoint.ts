import { remainingMs, sleep } from '../core/abort';
import { isErrorOf, UpstreamError } from '../core/errors';
import { type Logger } from '../core/logger';
import { retryAfterMs } from '../core/retry-after';
import { clientAuthFields, type ClientCredential } from './client-assertion';
import { withIdentityRetry } from './identity-retry';
import {
  accountOf,
  type Account,
  GrantRejectedError,
  tokenResultOf,
  type TokenResult,
  TransientError,
} from './token-response';

export { type Account, GrantRejectedError, type TokenResult } from './token-response';

/**
 * The Microsoft identity platform token endpoint (confidential client: a client secret, or a
 * certificate signing a new client assertion for every request, retries included) and the one
 * Graph call credentials need (`GET /me`). Transient failures (5xx, 429, network, timeouts,
 * `temporarily_unavailable`/`server_error`) of refreshes and `GET /me` are retried with backoff
 * inside a time budget; a code redemption is never retried (see `redeemCode`). Errors that mean
 * "the user must sign in again" are classified so callers stop refreshing.
 */
export interface TokenEndpointOptions {
  authorityHost: string;
  tenantId: string;
  clientId: string;
  credential: ClientCredential;
  graphBaseUrl: string;
  fetch?: typeof fetch;
  log?: Logger;
  /** Per-attempt timeout (default 10 s). */
  attemptTimeoutMs?: number;
  /** Total time for retries of one call (default 20 s). */
  retryBudgetMs?: number;
  /** First backoff (default 500 ms, doubling). */
  retryBaseMs?: number;
}

export interface CallOptions {
  /** Also bounds the retries: none starts that a budget signal has no time left for. */
  abortSignal?: AbortSignal;
}

export interface TokenEndpoint {
  refresh(
    refreshToken: string,
    scopes: readonly string[],
    options?: CallOptions,
  ): Promise<TokenResult>;
  redeemCode(
    input: { code: string; codeVerifier: string; redirectUri: string; scopes: readonly string[] },
    options?: CallOptions,
  ): Promise<TokenResult>;
  me(accessToken: string, options?: CallOptions): Promise<Account>;
  authorizeUrl(): string;
  readonly clientId: string;
  readonly tenantId: string;
}

export function createTokenEndpoint(options: TokenEndpointOptions): TokenEndpoint {
  const fetchImpl = options.fetch ?? fetch;
  const tokenUrl = `${options.authorityHost}/${options.tenantId}/oauth2/v2.0/token`;
  const baseMs = options.retryBaseMs ?? 500;

  const retryOptions = {
    attemptTimeoutMs: options.attemptTimeoutMs ?? 10_000,
    budgetMs: options.retryBudgetMs ?? 20_000,
    baseMs,
    log: options.log,
  };

  async function tokenRequest(
    form: Record<string, string>,
    what: string,
    call: CallOptions,
    retry = true,
  ) {
    return withIdentityRetry(
      what,
      async (signal) => {
        const response = await fetchImpl(tokenUrl, {
          method: 'POST',
          headers: {
            'content-type': 'application/x-www-form-urlencoded',
            accept: 'application/json',
          },
          body: new URLSearchParams({
            client_id: options.clientId,
            ...clientAuthFields(options.credential, options.clientId, tokenUrl),
            ...form,
          }).toString(),
          signal,
        });
        return tokenResultOf(what, response, await response.text());
      },
      call,
      retryOptions,
      retry,
    );
  }

  return {
    clientId: options.clientId,
    tenantId: options.tenantId,
    authorizeUrl: () => `${options.authorityHost}/${options.tenantId}/oauth2/v2.0/authorize`,
    async refresh(refreshToken, scopes, call = {}) {
      const form = {
        grant_type: 'refresh_token',
        refresh_token: refreshToken,
        scope: scopes.join(' '),
      };
      try {
        return await tokenRequest(form, 'token refresh', call);
      } catch (error) {
        // A generic refusal gets one more try (with jitter, so instances do not retry in step)
        // before the user is told to connect again; a definite code is believed at once.
        if (!isErrorOf(error, GrantRejectedError) || !error.generic) throw error;
        const wait = baseMs * (1 + Math.random());
        if (remainingMs(call.abortSignal) <= wait) throw error;
        options.log?.warn('token refresh refused with a generic invalid_grant; trying once more', {
          reason: error.reason,
          waitMs: Math.round(wait),
        });
        await sleep(wait, call.abortSignal);
        return tokenRequest(form, 'token refresh', call);
      }
    },
    // A code is single use: if a redemption succeeded but its answer was lost (5xx, timeout,
    // dropped connection), a retry gets invalid_grant AADSTS54005 and the user would be told the
    // code was rejected. The user connects again instead.
    redeemCode: (input, call = {}) =>
      tokenRequest(
        {
          grant_type: 'authorization_code',
          code: input.code,
          code_verifier: input.codeVerifier,
          redirect_uri: input.redirectUri,
          scope: input.scopes.join(' '),
        },
        'code redemption',
        call,
        false,
      ),
    me: (accessToken, call = {}) =>
      withIdentityRetry(
        'GET /me',
        async (signal) => {
          const response = await fetchImpl(
            `${options.graphBaseUrl}/v1.0/me?$select=id,displayName,mail,userPrincipalName`,
            {
              headers: { authorization: `Bearer ${accessToken}`, accept: 'application/json' },
              signal,
            },
          );
          if (response.status >= 500 || response.status === 429) {
            await response.body?.cancel();
            throw new TransientError(
              `GET /me: HTTP ${response.status}`,
              response.status,
              retryAfterMs(response.headers),
            );
          }
          const body = (await response.json().catch(() => ({}))) as Record<string, unknown>;
          if (!response.ok || typeof body.id !== 'string') {
            throw new UpstreamError(
              'graph_error',
              `Microsoft Graph refused GET /me (HTTP ${response.status}).`,
              {
                upstreamStatus: response.status,
              },
            );
          }
          return accountOf({ ...body, id: body.id });
        },
        call,
        retryOptions,
      ),
  };
}

export function isGrantRejected(error: unknown): error is GrantRejectedError {
  return isErrorOf(error, GrantRejectedError);
}
