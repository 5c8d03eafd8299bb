import { createHash, timingSafeEqual } from 'node:crypto';
import { exportJWK, generateKeyPair, jwtVerify, SignJWT, type JWK, type KeyLike } from 'jose';
import { CLIENT_ASSERTION_TYPE, ClientCertificates } from './client-assertions';
import { IdentityError } from './errors';
import type { MailStore, UserRecord } from './store';
import { opaqueToken, safeDecode } from './util';

export interface ClientRegistration {
  clientId: string;
  clientSecret: string;
  redirectUris?: string[];
  /** Certificates (PEM, public part) uploaded to the app registration for client assertions. */
  certificates?: string[];
}

export interface TokenResponse {
  token_type: 'Bearer';
  scope: string;
  expires_in: number;
  ext_expires_in: number;
  access_token: string;
  refresh_token?: string;
  id_token?: string;
}

/** What a valid access token grants on the Graph side. */
export interface AccessGrant {
  userId: string;
  clientId: string;
  scopes: Set<string>;
}

export interface IdentityLimits {
  authCodeLifetimeSeconds: number;
  /** Refresh tokens expire after this much inactivity (90 days in Entra; not configurable there). */
  refreshTokenInactivitySeconds: number;
}

const GRAPH = 'https://graph.microsoft.com/';
/** Delegated Graph permissions the sandbox knows; anything else is an invalid scope. */
const GRAPH_SCOPES = [
  'User.Read',
  'User.ReadBasic.All',
  'Mail.Read',
  'Mail.ReadBasic',
  'Mail.ReadWrite',
  'Mail.Send',
  'Mail.Read.Shared',
  'Mail.ReadWrite.Shared',
  'Mail.Send.Shared',
  'MailboxSettings.Read',
];
const OIDC_SCOPES = ['openid', 'profile', 'email', 'offline_access'];

interface CodeRecord {
  clientId: string;
  redirectUri: string;
  scopes: string[];
  userId: string;
  challenge: string | null;
  challengeMethod: 'S256' | 'plain';
  expiresMs: number;
  redeemed: boolean;
}

interface RefreshRecord {
  clientId: string;
  userId: string;
  scopes: string[];
  issuedMs: number;
  lastUsedMs: number;
  generation: number;
}

export interface AuthorizeParams {
  clientId: string;
  redirectUri: string;
  responseMode: 'query' | 'fragment' | 'form_post';
  scopes: string[];
  state: string | null;
  challenge: string | null;
  challengeMethod: 'S256' | 'plain';
  loginHint: string | null;
}

/** An RS256 key pair for signing tokens (`SandboxOptions.signingKey`). */
export interface SigningKeyPair {
  privateKey: KeyLike;
  publicKey: KeyLike;
}

/** A new signing key pair; its public half is exported as the JWKS entry. */
export function newSigningKey(): Promise<SigningKeyPair> {
  return generateKeyPair('RS256', { extractable: true });
}

const tokenTime = (ms: number): string => new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z');

export class IdentityPlatform {
  private privateKey!: KeyLike;
  private publicKey!: KeyLike;
  private jwk!: JWK;
  private readonly kid = opaqueToken(12);
  private readonly codes = new Map<string, CodeRecord>();
  private readonly refreshTokens = new Map<string, RefreshRecord>();
  /** Bumped by "revoke sessions": refresh tokens of older generations fail with AADSTS50173. */
  private readonly generations = new Map<string, number>();
  private readonly revokedAt = new Map<string, number>();
  private readonly verified = new Map<string, { grant: AccessGrant; expMs: number }>();
  readonly pendingConsents = new Map<string, AuthorizeParams>();
  readonly certificates = new ClientCertificates();

  constructor(
    readonly tenantId: string,
    private readonly clients: ClientRegistration[],
    private readonly store: MailStore,
    private readonly issuerBase: () => string,
    readonly settings: { accessTokenLifetimeSeconds: number; limits: IdentityLimits },
  ) {
    for (const client of clients) {
      for (const pem of client.certificates ?? []) this.certificates.register(client.clientId, pem);
    }
  }

  async init(signingKey?: SigningKeyPair): Promise<void> {
    const pair = signingKey ?? (await newSigningKey());
    this.privateKey = pair.privateKey;
    this.publicKey = pair.publicKey;
    this.jwk = { ...(await exportJWK(pair.publicKey)), kid: this.kid, use: 'sig', alg: 'RS256' };
  }

  jwks(): { keys: JWK[] } {
    return { keys: [this.jwk] };
  }

  client(clientId: string): ClientRegistration | undefined {
    return this.clients.find((c) => c.clientId === clientId);
  }

  knownTenant(tenant: string): boolean {
    const domains = new Set(this.store.users.map((u) => u.userPrincipalName.split('@')[1]));
    return ['common', 'organizations', this.tenantId].includes(tenant) || domains.has(tenant);
  }

  /**
   * Normalises a space-separated scope string: Graph permissions may be short (`Mail.Read`) or
   * resource-qualified (`https://graph.microsoft.com/mail.read`, case-insensitive); `.default` means
   * every permission the app registration holds. Unknown scopes → invalid_scope (AADSTS70011).
   */
  parseScopes(raw: string): string[] {
    const out = new Set<string>();
    for (const token of raw.split(/\s+/).filter(Boolean)) {
      const lower = token.toLowerCase();
      const oidc = OIDC_SCOPES.find((s) => s === lower);
      if (oidc) {
        out.add(oidc);
        continue;
      }
      const name = lower.startsWith(GRAPH)
        ? lower.slice(GRAPH.length)
        : lower.startsWith('https://graph.microsoft.com')
          ? null
          : lower.includes('://')
            ? null
            : lower;
      if (name === '.default') {
        GRAPH_SCOPES.forEach((s) => out.add(s));
        continue;
      }
      const graph = name === null ? undefined : GRAPH_SCOPES.find((s) => s.toLowerCase() === name);
      if (!graph) {
        throw new IdentityError(
          400,
          'invalid_scope',
          70011,
          `The provided value for the input parameter 'scope' is not valid. The scope ${token} is not valid.`,
        );
      }
      out.add(graph);
    }
    if (out.size === 0) {
      throw new IdentityError(
        400,
        'invalid_request',
        900144,
        "The request body must contain the following parameter: 'scope'.",
      );
    }
    return [...out];
  }

  createCode(params: AuthorizeParams, user: UserRecord): string {
    const code = `1.${opaqueToken(48)}`;
    this.codes.set(code, {
      clientId: params.clientId,
      redirectUri: params.redirectUri,
      scopes: params.scopes,
      userId: user.id,
      challenge: params.challenge,
      challengeMethod: params.challengeMethod,
      expiresMs: Date.now() + this.settings.limits.authCodeLifetimeSeconds * 1000,
      redeemed: false,
    });
    return code;
  }

  /**
   * Client authentication for the token endpoint: a secret in the form or HTTP Basic, or a client
   * assertion signed with a registered certificate whose `aud` is one of `audiences`.
   */
  authenticateClient(
    form: URLSearchParams,
    authorization: string | undefined,
    audiences: readonly string[],
  ): ClientRegistration {
    let clientId = form.get('client_id');
    let secret = form.get('client_secret');
    const assertion = form.get('client_assertion');
    if (authorization?.startsWith('Basic ')) {
      const decoded = Buffer.from(authorization.slice(6), 'base64').toString('utf8');
      const sep = decoded.indexOf(':');
      // RFC 6749 §2.3.1: both parts are form-encoded; a malformed header authenticates nobody.
      clientId = sep < 0 ? null : safeDecode(decoded.slice(0, sep));
      secret = sep < 0 ? null : safeDecode(decoded.slice(sep + 1));
    }
    if (!clientId) {
      throw new IdentityError(
        400,
        'invalid_request',
        900144,
        "The request body must contain the following parameter: 'client_id'.",
      );
    }
    const client = this.client(clientId);
    if (!client) {
      throw new IdentityError(
        400,
        'unauthorized_client',
        700016,
        `Application with identifier '${clientId}' was not found in the directory '${this.tenantId}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.`,
      );
    }
    if (assertion !== null) {
      this.verifyAssertion(client, assertion, form.get('client_assertion_type'), secret, audiences);
      return client;
    }
    if (!secret) {
      throw new IdentityError(
        401,
        'invalid_client',
        7000218,
        "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
      );
    }
    const a = Buffer.from(secret);
    const b = Buffer.from(client.clientSecret);
    if (a.length !== b.length || !timingSafeEqual(a, b)) {
      throw new IdentityError(
        401,
        'invalid_client',
        7000215,
        "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '" +
          client.clientId +
          "'.",
      );
    }
    return client;
  }

  private verifyAssertion(
    client: ClientRegistration,
    assertion: string,
    type: string | null,
    secret: string | null,
    audiences: readonly string[],
  ): void {
    if (secret !== null) {
      throw new IdentityError(
        400,
        'invalid_request',
        90023,
        "The request is not valid: present either 'client_assertion' or 'client_secret', not both.",
      );
    }
    if (type === null) {
      throw new IdentityError(
        400,
        'invalid_request',
        900144,
        "The request body must contain the following parameter: 'client_assertion_type'.",
      );
    }
    if (type !== CLIENT_ASSERTION_TYPE) {
      throw new IdentityError(
        400,
        'invalid_request',
        90023,
        `The request is not valid: client_assertion_type must be '${CLIENT_ASSERTION_TYPE}'.`,
      );
    }
    this.certificates.verify(client.clientId, assertion, audiences);
  }

  /**
   * POST /{tenant}/oauth2/v2.0/token with a parsed form body; `tokenUrls` are the URLs of this
   * endpoint a client assertion may name as its audience.
   */
  async token(
    form: URLSearchParams,
    authorization: string | undefined,
    tokenUrls: readonly string[],
  ): Promise<TokenResponse> {
    const grantType = form.get('grant_type');
    if (!grantType) {
      throw new IdentityError(
        400,
        'invalid_request',
        900144,
        "The request body must contain the following parameter: 'grant_type'.",
      );
    }
    if (grantType !== 'authorization_code' && grantType !== 'refresh_token') {
      throw new IdentityError(
        400,
        'unsupported_grant_type',
        70003,
        `The app requested an unsupported grant type '${grantType}'.`,
      );
    }
    const client = this.authenticateClient(form, authorization, tokenUrls);
    const requested = form.get('scope');
    const requestedScopes = requested ? this.parseScopes(requested) : null;
    // Scopes on code redemption are validated above but do not change what the code grants.
    if (grantType === 'authorization_code') return this.redeemCode(form, client);
    return this.redeemRefreshToken(form, client, requestedScopes);
  }

  private async redeemCode(
    form: URLSearchParams,
    client: ClientRegistration,
  ): Promise<TokenResponse> {
    const code = form.get('code');
    if (!code) {
      throw new IdentityError(
        400,
        'invalid_request',
        900144,
        "The request body must contain the following parameter: 'code'.",
      );
    }
    const record = this.codes.get(code);
    if (!record || record.clientId !== client.clientId) {
      throw new IdentityError(
        400,
        'invalid_grant',
        9002313,
        'Invalid request. Request is malformed or invalid.',
      );
    }
    if (record.redeemed) {
      throw new IdentityError(
        400,
        'invalid_grant',
        54005,
        'OAuth2 Authorization code was already redeemed, please retry with a new valid code or use an existing refresh token.',
      );
    }
    if (Date.now() > record.expiresMs) {
      throw new IdentityError(
        400,
        'invalid_grant',
        70008,
        'The provided authorization code or refresh token has expired due to inactivity. Send a new interactive authorization request for this user and resource.',
      );
    }
    const redirectUri = form.get('redirect_uri');
    if (redirectUri !== record.redirectUri) {
      throw new IdentityError(
        400,
        'invalid_grant',
        500112,
        `The reply address '${redirectUri ?? ''}' does not match the reply address '${record.redirectUri}' provided when requesting Authorization code.`,
      );
    }
    if (record.challenge !== null) {
      const verifier = form.get('code_verifier');
      if (!verifier) {
        throw new IdentityError(
          400,
          'invalid_grant',
          50148,
          'The code_verifier does not match the code_challenge supplied in the authorization request for PKCE.',
        );
      }
      const computed =
        record.challengeMethod === 'S256'
          ? createHash('sha256').update(verifier).digest('base64url')
          : verifier;
      if (computed !== record.challenge) {
        throw new IdentityError(
          400,
          'invalid_grant',
          501481,
          "The Code_Verifier doesn't match the code_challenge supplied in the authorization request.",
        );
      }
    }
    // Single use even if a later check fails would let an attacker burn codes; Entra marks on success.
    record.redeemed = true;
    return this.issue(record.userId, client.clientId, record.scopes);
  }

  private async redeemRefreshToken(
    form: URLSearchParams,
    client: ClientRegistration,
    requestedScopes: string[] | null,
  ): Promise<TokenResponse> {
    const token = form.get('refresh_token');
    if (!token) {
      throw new IdentityError(
        400,
        'invalid_request',
        900144,
        "The request body must contain the following parameter: 'refresh_token'.",
      );
    }
    const record = this.refreshTokens.get(token);
    if (!record) {
      throw new IdentityError(
        400,
        'invalid_grant',
        9002313,
        'Invalid request. Request is malformed or invalid.',
      );
    }
    if (record.clientId !== client.clientId) {
      throw new IdentityError(
        400,
        'invalid_grant',
        70000,
        'Provided grant is invalid or malformed. The refresh token was issued to a different client.',
      );
    }
    const now = Date.now();
    if (record.generation !== (this.generations.get(record.userId) ?? 0)) {
      throw new IdentityError(
        400,
        'invalid_grant',
        50173,
        `The provided grant has expired due to it being revoked, a fresh auth token is needed. The user might have changed or reset their password. The grant was issued on '${tokenTime(record.issuedMs)}' and the TokensValidFrom date (before which tokens are not valid) for this user is '${tokenTime(this.revokedAt.get(record.userId) ?? now)}'.`,
      );
    }
    const idleMs = now - Math.max(record.issuedMs, record.lastUsedMs);
    if (idleMs > this.settings.limits.refreshTokenInactivitySeconds * 1000) {
      throw new IdentityError(
        400,
        'invalid_grant',
        700082,
        `The refresh token has expired due to inactivity. The token was issued on ${tokenTime(record.issuedMs)} and was inactive for ${Math.floor(idleMs / 1000)} seconds.`,
      );
    }
    const scopes = requestedScopes ?? record.scopes;
    const missing = scopes.filter((s) => s !== 'offline_access' && !record.scopes.includes(s));
    if (missing.length > 0) {
      throw new IdentityError(
        400,
        'invalid_grant',
        65001,
        `The user or administrator has not consented to use the application with ID '${client.clientId}'. Send an interactive authorization request for this user and resource.`,
      );
    }
    record.lastUsedMs = now;
    // OIDC scopes of the original grant stay (id_token and refresh token keep coming, as in the docs).
    const kept = [...new Set([...scopes, ...record.scopes.filter((x) => OIDC_SCOPES.includes(x))])];
    return this.issue(record.userId, client.clientId, kept);
  }

  /** Issues tokens exactly as the token endpoint does (also used by the control API). */
  async issue(userId: string, clientId: string, scopes: string[]): Promise<TokenResponse> {
    const user = this.store.users.find((u) => u.id === userId);
    if (!user) throw new Error(`unknown user ${userId}`);
    const graphScopes = scopes.filter((s) => !OIDC_SCOPES.includes(s));
    // With only OIDC scopes Entra still returns a Graph token for the basic profile.
    const effective = graphScopes.length > 0 ? graphScopes : ['User.Read'];
    const lifetime = this.settings.accessTokenLifetimeSeconds;
    const nowSec = Math.floor(Date.now() / 1000);
    const accessToken = await new SignJWT({
      aud: 'https://graph.microsoft.com',
      iss: `https://sts.windows.net/${this.tenantId}/`,
      appid: clientId,
      oid: user.id,
      sub: user.id,
      tid: this.tenantId,
      upn: user.userPrincipalName,
      unique_name: user.userPrincipalName,
      name: user.displayName,
      scp: effective.join(' '),
      ver: '1.0',
      uti: opaqueToken(16),
    })
      .setProtectedHeader({ typ: 'JWT', alg: 'RS256', kid: this.kid })
      .setIssuedAt(nowSec)
      .setNotBefore(nowSec - 300)
      .setExpirationTime(nowSec + lifetime)
      .sign(this.privateKey);
    const response: TokenResponse = {
      token_type: 'Bearer',
      scope: [
        ...effective.map((s) => GRAPH + s),
        ...scopes.filter((s) => OIDC_SCOPES.includes(s)),
      ].join(' '),
      expires_in: lifetime,
      ext_expires_in: lifetime,
      access_token: accessToken,
    };
    if (scopes.includes('offline_access')) {
      const refreshToken = `1.${opaqueToken(96)}`;
      const now = Date.now();
      this.refreshTokens.set(refreshToken, {
        clientId,
        userId,
        scopes,
        issuedMs: now,
        lastUsedMs: now,
        generation: this.generations.get(userId) ?? 0,
      });
      response.refresh_token = refreshToken;
    }
    if (scopes.includes('openid')) {
      response.id_token = await new SignJWT({
        aud: clientId,
        iss: `${this.issuerBase()}/${this.tenantId}/v2.0`,
        sub: user.id,
        oid: user.id,
        tid: this.tenantId,
        name: user.displayName,
        preferred_username: user.userPrincipalName,
        ...(scopes.includes('email') ? { email: user.mail } : {}),
        ver: '2.0',
      })
        .setProtectedHeader({ typ: 'JWT', alg: 'RS256', kid: this.kid })
        .setIssuedAt(nowSec)
        .setNotBefore(nowSec)
        .setExpirationTime(nowSec + 3600)
        .sign(this.privateKey);
    }
    return response;
  }

  /** Invalidates every refresh token issued so far for the user (Entra "revoke sessions"). */
  revoke(userId: string): void {
    this.generations.set(userId, (this.generations.get(userId) ?? 0) + 1);
    this.revokedAt.set(userId, Date.now());
  }

  /**
   * Validates a bearer token like Graph: signature, audience, lifetime. Returns a reason string
   * (Graph's message) on failure. Verified tokens are cached so 50k-item benchmarks don't re-verify RSA.
   */
  async validate(token: string): Promise<AccessGrant | string> {
    const cached = this.verified.get(token);
    if (cached) {
      return Date.now() < cached.expMs
        ? cached.grant
        : 'Lifetime validation failed, the token is expired.';
    }
    if (token.split('.').length !== 3) {
      return 'IDX14100: JWT is not well formed, there are no dots (.).\nThe token needs to be in JWS or JWE Compact Serialization Format.';
    }
    try {
      const { payload } = await jwtVerify(token, this.publicKey, {
        audience: 'https://graph.microsoft.com',
        clockTolerance: 0,
      });
      const grant: AccessGrant = {
        userId: String(payload.oid),
        clientId: String(payload.appid),
        scopes: new Set(String(payload.scp).split(' ')),
      };
      const expMs = (payload.exp ?? 0) * 1000;
      this.verified.set(token, { grant, expMs });
      return grant;
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (code === 'ERR_JWT_EXPIRED') return 'Lifetime validation failed, the token is expired.';
      if (code === 'ERR_JWT_CLAIM_VALIDATION_FAILED')
        return 'Access token validation failure. Invalid audience.';
      return 'Access token validation failure.';
    }
  }
}
