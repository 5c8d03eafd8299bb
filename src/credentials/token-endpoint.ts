import { remainingMs, sleep } from '../core/abort';
import { isErrorOf, UpstreamError } from '../core/errors';
import { type Logger } from '../core/logger';
import { retryAfterMs } from '../core/retry-after';

import { clientAuthFields, type ClientCredential } from './client-assertion';

/**
 * The Microsoft identity platform token endpoint (confidential client: a client secret, or a
 * certificate signing a new client assertion for every request, retries included) and the one
 * Graph call credentials need (`GET /me`). Transient failures (5xx, 429, network, timeouts,
 * `temporarily_unavailable`/`server_error`) of refreshes and `GET /me` are retried with backoff
 * inside a time budget; a code redemption is never retried (see `redeemCode`). Errors that mean
 * "the user must sign in again" are classified so callers stop refreshing.
 */
export interface TokenResult {
  accessToken: string;
  /** Epoch ms. */
  expiresAt: number;
  /** Absent when the endpoint did not rotate it (then the old one stays in use). */
  refreshToken?: string;
  /** The response's `scope`: resource scopes only (never `offline_access`); empty if absent. */
  grantedScopes: string[];
}

export interface Account {
  id: string;
  address: string;
  displayName: string;
  /** Sign-in name (a connect link's expected account may be given by it). */
  userPrincipalName?: string;
}

/** The identity platform rejected the grant itself: the user has to connect again. */
export class GrantRejectedError extends Error {
  override name = 'GrantRejectedError' as const;
  /** `error` and AADSTS codes, safe to store and log (no token). */
  readonly reason: string;
  constructor(
    readonly error: string,
    readonly codes: number[],
  ) {
    super(
      `the identity platform rejected the grant: ${error} ${codes.map((c) => `AADSTS${c}`).join(',')}`,
    );
    this.reason = `${error}${codes.length ? ` (AADSTS${codes.join(', AADSTS')})` : ''}`;
  }

  /**
   * A bare `invalid_grant` (no code, or only the generic AADSTS70000 InvalidGrant) does not say
   * why, and is also what a replica answers moments after a rotation; every other code is definite.
   */
  get generic(): boolean {
    return this.error === 'invalid_grant' && this.codes.every((c) => c === GENERIC_INVALID_GRANT);
  }
}

const GENERIC_INVALID_GRANT = 70000;

/** AADSTS codes that mean "send the user through /authorize again" (FACTS §8). */
const REAUTH_CODES = new Set([
  70008, 700082, 700084, 50173, 70043, 70000, 50076, 50078, 50079, 65001,
]);
const REAUTH_ERRORS = new Set(['invalid_grant', 'interaction_required', 'consent_required']);
const TRANSIENT_ERRORS = new Set(['temporarily_unavailable', 'server_error']);
/**
 * AADSTS codes the error-code reference describes as transient ("try again"), whatever `error`
 * they come with: SasRetryableError, ExternalServerRetryableError, RequestBudgetExceededError,
 * MsodsServiceUnavailable and OAuth2IdPRetryableServerError.
 */
const TRANSIENT_CODES = new Set([50087, 90006, 90024, 90033, 40010]);

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

class TransientError extends Error {
  override name = 'TransientError' as const;
  constructor(
    message: string,
    readonly status?: number,
    readonly retryAfterMs?: number,
  ) {
    super(message);
  }
}

/**
 * The response `scope`: space-separated, though the docs' sample shows it URL-encoded
 * (`https%3A%2F%2Fgraph.microsoft.com%2Fmail.read`), so it is form-decoded (`+` is a space) first.
 */
function parseScope(value: unknown): string[] {
  if (typeof value !== 'string') return [];
  let decoded = value.replace(/\+/g, ' ');
  try {
    decoded = decodeURIComponent(decoded);
  } catch {
    // a `%` that is not an escape: the value was not encoded
  }
  return decoded.split(/\s+/).filter(Boolean);
}

export function createTokenEndpoint(options: TokenEndpointOptions): TokenEndpoint {
  const fetchImpl = options.fetch ?? fetch;
  const tokenUrl = `${options.authorityHost}/${options.tenantId}/oauth2/v2.0/token`;
  const attemptTimeoutMs = options.attemptTimeoutMs ?? 10_000;
  const defaultBudgetMs = options.retryBudgetMs ?? 20_000;
  const baseMs = options.retryBaseMs ?? 500;

  /** `retry: false` makes one attempt and turns a transient failure into a retryable error. */
  async function withRetry<T>(
    what: string,
    attempt: (signal: AbortSignal) => Promise<T>,
    call: CallOptions,
    retry = true,
  ): Promise<T> {
    const giveUpAt = Date.now() + Math.min(defaultBudgetMs, remainingMs(call.abortSignal));
    for (let n = 0; ; n++) {
      const signal = call.abortSignal
        ? AbortSignal.any([call.abortSignal, AbortSignal.timeout(attemptTimeoutMs)])
        : AbortSignal.timeout(attemptTimeoutMs);
      let failure: TransientError;
      try {
        return await attempt(signal);
      } catch (error) {
        if (call.abortSignal?.aborted) throw call.abortSignal.reason as Error;
        if (isErrorOf(error, TransientError)) failure = error;
        else if (isErrorOf(error, GrantRejectedError) || isErrorOf(error, UpstreamError))
          throw error;
        else
          failure = new TransientError(
            `${what}: ${(error as Error).name} ${(error as Error).message}`,
          );
      }
      const wait = Math.max(failure.retryAfterMs ?? 0, baseMs * 2 ** n);
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

  async function tokenRequest(
    form: Record<string, string>,
    what: string,
    call: CallOptions,
    retry = true,
  ) {
    return withRetry(
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
        const text = await response.text();
        let body: Record<string, unknown> = {};
        try {
          body = JSON.parse(text) as Record<string, unknown>;
        } catch {
          // a proxy's HTML error page: judged by status below
        }
        if (response.ok && typeof body.access_token === 'string') {
          const expiresIn = Number(body.expires_in ?? 3600);
          return {
            accessToken: body.access_token,
            expiresAt: Date.now() + (Number.isFinite(expiresIn) ? expiresIn : 3600) * 1000,
            ...(typeof body.refresh_token === 'string' ? { refreshToken: body.refresh_token } : {}),
            grantedScopes: parseScope(body.scope),
          } satisfies TokenResult;
        }
        const error = typeof body.error === 'string' ? body.error : '';
        const codes = Array.isArray(body.error_codes)
          ? body.error_codes.filter((c): c is number => typeof c === 'number')
          : [];
        if (
          response.status >= 500 ||
          response.status === 429 ||
          TRANSIENT_ERRORS.has(error) ||
          codes.some((c) => TRANSIENT_CODES.has(c))
        ) {
          throw new TransientError(
            `${what}: HTTP ${response.status} ${error}`,
            response.status,
            retryAfterMs(response.headers),
          );
        }
        if (REAUTH_ERRORS.has(error) || codes.some((c) => REAUTH_CODES.has(c))) {
          throw new GrantRejectedError(error || `HTTP ${response.status}`, codes);
        }
        // invalid_client, invalid_scope, unauthorized_client …: our configuration, not the user.
        throw new UpstreamError(
          'graph_error',
          `The Microsoft identity platform refused the ${what} request (${error || `HTTP ${response.status}`}${codes.length ? `, AADSTS${codes.join(', AADSTS')}` : ''}).`,
          { upstreamStatus: response.status, ...(error ? { upstreamCode: error } : {}) },
        );
      },
      call,
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
      withRetry(
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
          const upn = typeof body.userPrincipalName === 'string' ? body.userPrincipalName : '';
          return {
            id: body.id,
            address: typeof body.mail === 'string' && body.mail ? body.mail : upn,
            displayName: typeof body.displayName === 'string' ? body.displayName : upn,
            ...(upn ? { userPrincipalName: upn } : {}),
          };
        },
        call,
      ),
  };
}

export function isGrantRejected(error: unknown): error is GrantRejectedError {
  return isErrorOf(error, GrantRejectedError);
}
