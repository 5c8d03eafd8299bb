import { IdentityError, identityErrorBody } from './errors';
import type { AuthorizeParams, IdentityPlatform } from './identity';
import type { HttpResult } from './state';
import type { MailStore, UserRecord } from './store';
import { opaqueToken, safeDecode } from './util';

const json = (status: number, value: unknown, extra: Record<string, string> = {}): HttpResult => ({
  status,
  headers: {
    'Content-Type': 'application/json; charset=utf-8',
    'Cache-Control': 'no-store, no-cache',
    Pragma: 'no-cache',
    ...extra,
  },
  body: JSON.stringify(value),
});

const escapeHtml = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

const htmlPage = (status: number, title: string, inner: string): HttpResult => ({
  status,
  headers: { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store' },
  body: `<!doctype html><html><head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head><body><h1>${escapeHtml(title)}</h1>${inner}</body></html>`,
});

/** Errors the authorize endpoint cannot redirect (unknown client, bad redirect_uri) are shown as a page. */
const errorPage = (err: IdentityError): HttpResult =>
  htmlPage(400, 'Sign in', `<p id="error">AADSTS${err.aadsts}: ${escapeHtml(err.description)}</p>`);

const IDENTITY_PATH =
  /^\/([^/]+)\/(oauth2\/v2\.0\/authorize|oauth2\/v2\.0\/token|v2\.0\/\.well-known\/openid-configuration|discovery\/v2\.0\/keys)$/;

export class IdentityHttp {
  constructor(
    private readonly idp: IdentityPlatform,
    private readonly store: MailStore,
    private readonly autoConsent: () => boolean,
  ) {}

  /** Whether a path is one of the identity platform's endpoints. */
  static matches(pathname: string): RegExpExecArray | null {
    return IDENTITY_PATH.exec(pathname);
  }

  /** Routes `/{tenant}/...` identity paths; returns undefined when the path is not an identity path. */
  async handle(
    method: string,
    url: URL,
    body: Buffer,
    headers: Record<string, string | undefined>,
    origin: string,
  ): Promise<HttpResult | undefined> {
    const m = IdentityHttp.matches(url.pathname);
    if (!m) return undefined;
    const correlationId = headers['client-request-id'] ?? crypto.randomUUID();
    const tenant = safeDecode(m[1]!) ?? m[1]!;
    const result = await this.route(
      method,
      url,
      body,
      headers,
      origin,
      tenant,
      m[2]!,
      correlationId,
    );
    // Entra echoes the caller's client-request-id and names its own request id.
    result.headers['x-ms-request-id'] = crypto.randomUUID();
    if (headers['client-request-id'])
      result.headers['client-request-id'] = headers['client-request-id'];
    return result;
  }

  private async route(
    method: string,
    url: URL,
    body: Buffer,
    headers: Record<string, string | undefined>,
    origin: string,
    tenant: string,
    endpoint: string,
    correlationId: string,
  ): Promise<HttpResult> {
    if (!this.idp.knownTenant(tenant)) {
      const err = new IdentityError(
        400,
        'invalid_tenant',
        90002,
        `Tenant '${tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.`,
      );
      return json(400, identityErrorBody(err, correlationId));
    }
    if (endpoint.endsWith('openid-configuration')) return json(200, this.discovery(origin, tenant));
    if (endpoint.endsWith('keys')) return json(200, this.idp.jwks());
    if (endpoint.endsWith('token')) {
      if (method !== 'POST') {
        const err = new IdentityError(
          400,
          'invalid_request',
          900561,
          'The endpoint only accepts POST requests. Received a GET request.',
        );
        return json(400, identityErrorBody(err, correlationId));
      }
      // Entra reads only application/x-www-form-urlencoded bodies; JSON looks like a body without grant_type.
      const isForm = (headers['content-type'] ?? '')
        .toLowerCase()
        .startsWith('application/x-www-form-urlencoded');
      const form = new URLSearchParams(isForm ? body.toString('utf8') : '');
      try {
        // An assertion names the endpoint as the client called it, by tenant id or by domain.
        const tokenUrls = [...new Set([tenant, this.idp.tenantId])].map(
          (t) => `${origin}/${t}/oauth2/v2.0/token`,
        );
        return json(200, await this.idp.token(form, headers.authorization, tokenUrls));
      } catch (err) {
        if (err instanceof IdentityError) {
          return json(
            err.status,
            identityErrorBody(err, correlationId),
            err.status === 401 ? { 'WWW-Authenticate': 'Basic realm="sandbox"' } : {},
          );
        }
        throw err;
      }
    }
    if (method === 'POST') return this.consentDecision(new URLSearchParams(body.toString('utf8')));
    return this.authorize(url.searchParams, tenant);
  }

  private discovery(origin: string, tenant: string): Record<string, unknown> {
    const tid = this.idp.tenantId;
    return {
      token_endpoint: `${origin}/${tenant}/oauth2/v2.0/token`,
      token_endpoint_auth_methods_supported: [
        'client_secret_post',
        'private_key_jwt',
        'client_secret_basic',
      ],
      jwks_uri: `${origin}/${tenant}/discovery/v2.0/keys`,
      response_modes_supported: ['query', 'fragment', 'form_post'],
      subject_types_supported: ['pairwise'],
      id_token_signing_alg_values_supported: ['RS256'],
      response_types_supported: ['code', 'id_token', 'code id_token', 'id_token token'],
      scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
      issuer: `${origin}/${tid}/v2.0`,
      request_uri_parameter_supported: false,
      userinfo_endpoint: `${origin}/oidc/userinfo`,
      authorization_endpoint: `${origin}/${tenant}/oauth2/v2.0/authorize`,
      http_logout_supported: true,
      frontchannel_logout_supported: true,
      end_session_endpoint: `${origin}/${tenant}/oauth2/v2.0/logout`,
      claims_supported: [
        'sub',
        'iss',
        'aud',
        'exp',
        'iat',
        'nonce',
        'preferred_username',
        'name',
        'tid',
        'ver',
        'email',
      ],
      kerberos_endpoint: `${origin}/${tenant}/kerberos`,
      tenant_region_scope: 'EU',
      cloud_instance_name: 'microsoftonline.com',
      cloud_graph_host_name: 'graph.windows.net',
      msgraph_host: 'graph.microsoft.com',
      rbac_url: 'https://pas.windows.net',
    };
  }

  private authorize(q: URLSearchParams, _tenant: string): HttpResult {
    const clientId = q.get('client_id');
    if (!clientId) {
      return errorPage(
        new IdentityError(
          400,
          'invalid_request',
          900144,
          "The request body must contain the following parameter: 'client_id'.",
        ),
      );
    }
    const client = this.idp.client(clientId);
    if (!client) {
      return errorPage(
        new IdentityError(
          400,
          'unauthorized_client',
          700016,
          `Application with identifier '${clientId}' was not found in the directory '${this.idp.tenantId}'.`,
        ),
      );
    }
    const registered = client.redirectUris ?? [];
    const redirectUri = q.get('redirect_uri') ?? (registered.length === 1 ? registered[0]! : null);
    if (
      !redirectUri ||
      !URL.canParse(redirectUri) ||
      (registered.length > 0 && !registered.includes(redirectUri))
    ) {
      return errorPage(
        new IdentityError(
          400,
          'invalid_request',
          50011,
          `The redirect URI '${redirectUri ?? ''}' specified in the request does not match the redirect URIs configured for the application '${clientId}'. Make sure the redirect URI sent in the request matches one added to your application in the Azure portal.`,
        ),
      );
    }
    const modeRaw = q.get('response_mode') ?? 'query';
    const responseMode = modeRaw === 'fragment' || modeRaw === 'form_post' ? modeRaw : 'query';
    const state = q.get('state');
    const fail = (error: string, aadsts: number, description: string): HttpResult =>
      this.redirect(redirectUri, responseMode, {
        error,
        error_description: `AADSTS${aadsts}: ${description}`,
        ...(state !== null ? { state } : {}),
      });
    if (q.get('response_type') !== 'code') {
      return fail(
        'unsupported_response_type',
        700054,
        "response_type 'code' is required by this sandbox (authorization code flow).",
      );
    }
    let scopes: string[];
    try {
      scopes = this.idp.parseScopes(q.get('scope') ?? '');
    } catch (err) {
      if (err instanceof IdentityError) return fail(err.error, err.aadsts, err.description);
      throw err;
    }
    const challenge = q.get('code_challenge');
    const method = q.get('code_challenge_method') ?? (challenge ? 'plain' : 'S256');
    if (method !== 'S256' && method !== 'plain') {
      return fail(
        'invalid_request',
        5000051,
        `The code_challenge_method '${method}' is not supported.`,
      );
    }
    if (challenge !== null && (challenge.length < 43 || challenge.length > 128)) {
      return fail('invalid_request', 501491, 'Invalid size of Code_Challenge parameter.');
    }
    const params: AuthorizeParams = {
      clientId,
      redirectUri,
      responseMode,
      scopes,
      state,
      challenge,
      challengeMethod: method,
      loginHint: q.get('login_hint'),
    };
    const hinted = params.loginHint ? this.store.findUser(params.loginHint) : undefined;
    const signInUsers = this.store.users.filter((u) => u.canSignIn);
    if (this.autoConsent() || q.get('prompt') === 'none') {
      const user = hinted?.canSignIn ? hinted : signInUsers[0];
      if (!user || (q.get('prompt') === 'none' && !this.autoConsent())) {
        return fail(
          'login_required',
          50058,
          'A silent sign-in request was sent but no user is signed in.',
        );
      }
      return this.complete(params, user);
    }
    const requestId = opaqueToken(18);
    this.idp.pendingConsents.set(requestId, params);
    const options = signInUsers
      .map((u) => {
        const checked = (hinted?.id ?? signInUsers[0]?.id) === u.id ? ' checked' : '';
        return `<label><input type="radio" name="user" value="${escapeHtml(u.userPrincipalName)}"${checked}> ${escapeHtml(u.displayName)} &lt;${escapeHtml(u.userPrincipalName)}&gt;</label><br>`;
      })
      .join('');
    const scopeList = scopes.map((s) => `<li>${escapeHtml(s)}</li>`).join('');
    return htmlPage(
      200,
      'Graph sandbox: sign in and consent',
      `<form method="post"><input type="hidden" name="sandbox_request" value="${requestId}">` +
        `<p>Application <code>${escapeHtml(clientId)}</code> asks for:</p><ul>${scopeList}</ul>` +
        `<fieldset><legend>Sign in as</legend>${options}</fieldset>` +
        `<button type="submit" name="decision" value="accept" id="accept">Accept</button> ` +
        `<button type="submit" name="decision" value="cancel" id="cancel">Cancel</button></form>`,
    );
  }

  private consentDecision(form: URLSearchParams): HttpResult {
    const params = this.idp.pendingConsents.get(form.get('sandbox_request') ?? '');
    if (!params) {
      return htmlPage(
        400,
        'Sign in',
        '<p id="error">AADSTS90015: The sign-in request has expired or was already used.</p>',
      );
    }
    this.idp.pendingConsents.delete(form.get('sandbox_request') ?? '');
    const stateParam = params.state !== null ? { state: params.state } : {};
    if (form.get('decision') !== 'accept') {
      return this.redirect(params.redirectUri, params.responseMode, {
        error: 'access_denied',
        error_description: 'AADSTS65004: User declined to consent to access the app.',
        ...stateParam,
      });
    }
    const user = this.store.findUser(form.get('user') ?? '');
    if (!user?.canSignIn) {
      return htmlPage(
        400,
        'Sign in',
        '<p id="error">AADSTS50034: The user account does not exist in this directory.</p>',
      );
    }
    return this.complete(params, user);
  }

  private complete(params: AuthorizeParams, user: UserRecord): HttpResult {
    const code = this.idp.createCode(params, user);
    return this.redirect(params.redirectUri, params.responseMode, {
      code,
      ...(params.state !== null ? { state: params.state } : {}),
      session_state: crypto.randomUUID(),
    });
  }

  private redirect(
    redirectUri: string,
    mode: 'query' | 'fragment' | 'form_post',
    values: Record<string, string>,
  ): HttpResult {
    if (mode === 'form_post') {
      const inputs = Object.entries(values)
        .map(([k, v]) => `<input type="hidden" name="${escapeHtml(k)}" value="${escapeHtml(v)}">`)
        .join('');
      return htmlPage(
        200,
        'Working...',
        `<form method="post" action="${escapeHtml(redirectUri)}">${inputs}<noscript><button>Continue</button></noscript></form><script>document.forms[0].submit()</script>`,
      );
    }
    const target = new URL(redirectUri);
    const encoded = new URLSearchParams(values);
    if (mode === 'fragment') target.hash = encoded.toString();
    else encoded.forEach((v, k) => target.searchParams.append(k, v));
    return { status: 302, headers: { Location: target.toString(), 'Cache-Control': 'no-store' } };
  }
}
