import { UpstreamError } from '../core/errors';
import { retryAfterMs } from '../core/retry-after';

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

export class TransientError extends Error {
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

/**
 * Judges a token endpoint answer: the tokens; or a TransientError (retry), a GrantRejectedError
 * (the user connects again) or an UpstreamError (our configuration: invalid_client, invalid_scope…).
 */
export function tokenResultOf(what: string, response: Response, text: string): TokenResult {
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
}

/** The account behind an access token, from `GET /me` (`mail`, else the sign-in name). */
export function accountOf(body: Record<string, unknown> & { id: string }): Account {
  const upn = typeof body.userPrincipalName === 'string' ? body.userPrincipalName : '';
  return {
    id: body.id,
    address: typeof body.mail === 'string' && body.mail ? body.mail : upn,
    displayName: typeof body.displayName === 'string' ? body.displayName : upn,
    ...(upn ? { userPrincipalName: upn } : {}),
  };
}
