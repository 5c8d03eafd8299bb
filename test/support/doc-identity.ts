import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { type AddressInfo } from 'node:net';

/**
 * A small identity platform that does exactly what `test/fixtures/graph/identity-token-endpoint.json`
 * and FACTS §8 document, and nothing more lenient (unlike the sandbox, which e.g. lists
 * `offline_access` in `scope` and keeps rotating refresh tokens whatever was requested):
 * - form-encoded bodies only; `client_id` + `client_secret` in the body (one auth method);
 * - code redemption needs `scope`, the authorize request's exact `redirect_uri` and the PKCE
 *   verifier (S256, base64url without padding); a code is single use (AADSTS54005);
 * - a `refresh_token` comes back only when `offline_access` is in the request's `scope` (or the
 *   scope is omitted and the original grant had it); old refresh tokens stay valid;
 * - the response `scope` lists resource scopes only, never `offline_access`/OIDC scopes;
 * - errors are `{error, error_description, error_codes, timestamp, trace_id, correlation_id}`.
 */
export interface DocIdentity {
  url: string;
  tenantId: string;
  clientId: string;
  clientSecret: string;
  /** Every token request's form, in order. */
  tokenRequests: Array<Record<string, string>>;
  /** How the response `scope` is written: plainly, or encoded as in the docs' sample. */
  scopeEncoding: 'plain' | 'percent' | 'form';
  /** Never return a refresh token, whatever was requested. */
  omitRefreshToken: boolean;
  /** The next token requests are processed, then answered like this instead of the result. */
  lose: Array<'503' | 'hang'>;
  /** The next token requests are refused with 429 and this `Retry-After`, unprocessed. */
  throttle: string[];
  /** The next token requests are refused (HTTP 400) with this `error` and AADSTS code, unprocessed. */
  refuse: Array<{ error: string; code: number }>;
  issueRefreshToken(scopes: readonly string[]): string;
  close(): Promise<void>;
}

const OIDC = new Set(['openid', 'profile', 'email', 'offline_access']);
const GRAPH = 'https://graph.microsoft.com/';
const USER = {
  id: '6e7b768e-07e2-4810-8459-485f84f8f204',
  displayName: 'Adele Vance',
  mail: 'AdeleV@contoso.example',
  userPrincipalName: 'AdeleV@contoso.example',
};

interface Grant {
  scopes: string[];
}

class TokenError extends Error {
  constructor(
    readonly error: string,
    readonly code: number,
    readonly description: string,
    readonly status = 400,
  ) {
    super(description);
  }
}

/** `Mail.Read` and `https://graph.microsoft.com/Mail.Read` name the same permission. */
const full = (scope: string) =>
  (OIDC.has(scope.toLowerCase()) || scope.startsWith('https://')
    ? scope
    : GRAPH + scope
  ).toLowerCase();
const has = (scopes: readonly string[], scope: string) =>
  scopes.some((s) => full(s) === full(scope));

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function send(res: ServerResponse, status: number, body: unknown, headers = {}): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
  res.end(JSON.stringify(body));
}

export async function startDocIdentity(): Promise<DocIdentity> {
  const refreshTokens = new Map<string, Grant>();
  const accessTokens = new Set<string>();
  const codes = new Map<
    string,
    Grant & { redirectUri: string; challenge: string; method: string; used: boolean }
  >();
  const opaque = () => randomBytes(24).toString('base64url');

  function issue(scopes: string[]): Record<string, unknown> {
    const accessToken = `eyJ0.${opaque()}`;
    accessTokens.add(accessToken);
    const resource = scopes.filter((s) => !OIDC.has(s.toLowerCase()));
    const plain = resource.map((s) => (s.startsWith('https://') ? s : GRAPH + s)).join(' ');
    const body: Record<string, unknown> = {
      access_token: accessToken,
      token_type: 'Bearer',
      expires_in: 3599,
      scope:
        idp.scopeEncoding === 'plain'
          ? plain
          : idp.scopeEncoding === 'percent'
            ? encodeURIComponent(plain)
            : new URLSearchParams({ s: plain }).toString().slice(2),
    };
    if (has(scopes, 'offline_access') && !idp.omitRefreshToken) {
      const refreshToken = `OAAABAAA.${opaque()}`;
      refreshTokens.set(refreshToken, { scopes });
      body.refresh_token = refreshToken;
    }
    return body;
  }

  function token(form: URLSearchParams): Record<string, unknown> {
    const get = (name: string) => form.get(name) ?? undefined;
    const required = (name: string) => {
      const value = get(name);
      if (!value) {
        throw new TokenError(
          'invalid_request',
          900144,
          `The request body must contain the following parameter: '${name}'.`,
        );
      }
      return value;
    };
    const grantType = required('grant_type');
    if (required('client_id') !== idp.clientId) {
      throw new TokenError('unauthorized_client', 700016, 'Application not found.');
    }
    if (get('client_secret') !== idp.clientSecret) {
      throw new TokenError('invalid_client', 7000215, 'Invalid client secret provided.', 401);
    }
    const scope = get('scope');
    const requested = scope === undefined ? undefined : scope.split(' ').filter(Boolean);
    if (grantType === 'authorization_code') {
      const code = codes.get(required('code'));
      const scopes = (requested ?? []).length > 0 ? requested! : undefined;
      if (!scopes) required('scope');
      if (!code) throw new TokenError('invalid_grant', 70000, 'The code is invalid.');
      if (code.used) {
        throw new TokenError(
          'invalid_grant',
          54005,
          'OAuth2 Authorization code was already redeemed.',
        );
      }
      code.used = true;
      if (required('redirect_uri') !== code.redirectUri) {
        throw new TokenError('invalid_grant', 50148, 'The redirect_uri does not match.');
      }
      const verifier = required('code_verifier');
      const expected = createHash('sha256').update(verifier).digest('base64url');
      if (code.method !== 'S256' || expected !== code.challenge) {
        throw new TokenError('invalid_grant', 501481, 'The Code_Verifier does not match.');
      }
      return issue(scopes!);
    }
    if (grantType === 'refresh_token') {
      const grant = refreshTokens.get(required('refresh_token'));
      if (!grant) throw new TokenError('invalid_grant', 70000, 'The refresh token is invalid.');
      const scopes = requested ?? grant.scopes;
      const extra = scopes.find((s) => !OIDC.has(s.toLowerCase()) && !has(grant.scopes, s));
      if (extra) {
        throw new TokenError('invalid_grant', 65001, `The user has not consented to ${extra}.`);
      }
      return issue(scopes);
    }
    throw new TokenError('unsupported_grant_type', 70003, 'The grant type is not supported.');
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', idp.url);
    if (req.method === 'GET' && url.pathname === `/${idp.tenantId}/oauth2/v2.0/authorize`) {
      const q = url.searchParams;
      const redirectUri = q.get('redirect_uri') ?? '';
      const scopes = (q.get('scope') ?? '').split(' ').filter(Boolean);
      const ok =
        q.get('client_id') === idp.clientId &&
        q.get('response_type') === 'code' &&
        scopes.length > 0 &&
        /^[A-Za-z0-9_-]{43}$/.test(q.get('code_challenge') ?? '');
      if (!ok) return send(res, 400, { error: 'invalid_request' });
      const code = opaque();
      codes.set(code, {
        scopes,
        redirectUri,
        challenge: q.get('code_challenge')!,
        method: q.get('code_challenge_method') ?? 'plain',
        used: false,
      });
      const target = new URL(redirectUri);
      target.searchParams.set('code', code);
      if (q.has('state')) target.searchParams.set('state', q.get('state')!);
      res.writeHead(302, { location: target.toString() });
      return void res.end();
    }
    if (req.method === 'POST' && url.pathname === `/${idp.tenantId}/oauth2/v2.0/token`) {
      const body = await readBody(req);
      const isForm = (req.headers['content-type'] ?? '').startsWith(
        'application/x-www-form-urlencoded',
      );
      const form = new URLSearchParams(isForm ? body : '');
      idp.tokenRequests.push(Object.fromEntries(form));
      const retryAfter = idp.throttle.shift();
      if (retryAfter !== undefined) {
        return send(res, 429, { error: 'temporarily_unavailable' }, { 'retry-after': retryAfter });
      }
      try {
        const refusal = idp.refuse.shift();
        if (refusal) throw new TokenError(refusal.error, refusal.code, 'Refused as configured.');
        if (req.headers.authorization && form.has('client_secret')) {
          throw new TokenError('invalid_request', 90014, 'Only one client authentication.');
        }
        const result = token(form);
        const lost = idp.lose.shift();
        if (lost === '503') return send(res, 503, { error: 'temporarily_unavailable' });
        if (lost === 'hang') return; // processed, but the answer never comes
        return send(res, 200, result);
      } catch (error) {
        if (!(error instanceof TokenError)) throw error;
        return send(res, error.status, {
          error: error.error,
          error_description: `AADSTS${error.code}: ${error.description}`,
          error_codes: [error.code],
          timestamp: new Date().toISOString(),
          trace_id: randomBytes(16).toString('hex'),
          correlation_id: randomBytes(16).toString('hex'),
        });
      }
    }
    if (req.method === 'GET' && url.pathname === '/v1.0/me') {
      const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
      if (!bearer || !accessTokens.has(bearer)) {
        return send(res, 401, { error: { code: 'InvalidAuthenticationToken' } });
      }
      return send(res, 200, USER);
    }
    send(res, 404, { error: 'not_found' });
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      res.writeHead(500);
      res.end(String(error));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const idp: DocIdentity = {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    tenantId: 'aaaabbbb-0000-cccc-1111-dddd2222eeee',
    clientId: '11112222-bbbb-3333-cccc-4444dddd5555',
    clientSecret: 'sampleCredentia1s',
    tokenRequests: [],
    scopeEncoding: 'plain',
    omitRefreshToken: false,
    lose: [],
    throttle: [],
    refuse: [],
    issueRefreshToken(scopes) {
      const refreshToken = `OAAABAAA.${opaque()}`;
      refreshTokens.set(refreshToken, { scopes: [...scopes] });
      return refreshToken;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  return idp;
}
