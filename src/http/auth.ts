import { createHash, timingSafeEqual } from 'node:crypto';

import { createRemoteJWKSet, type JWTPayload, jwtVerify } from 'jose';

import { type Config } from '../config';
import { ForbiddenError, UnauthenticatedError } from '../core/errors';
import { isId } from '../core/validators';

export interface Caller {
  serviceId: string;
  kind: 'apiKey' | 'bearer';
  /** Who called, safe to log: a key fingerprint or the calling app id. */
  principal: string;
  /** An Entra app holding the `Operator` app role: sees every service's objects in health. */
  operator: boolean;
}

export type Authenticate = (headers: Headers) => Promise<Caller>;

/** Only asymmetric algorithms Entra ID signs with; `none` and HMAC can never verify. */
const ALLOWED_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256'];
const SERVICE_ROLE = /^Service\.(.+)$/;
/** The app role of an operator's (monitoring) app; it still belongs to one service. */
export const OPERATOR_ROLE = 'Operator';

export interface CallerAuthOptions {
  apiKeys: Config['apiKeys'];
  bearer: Config['bearer'];
  authorityHost: string;
  /** Override for tests and sovereign clouds; default `{authorityHost}/{tenant}/discovery/v2.0/keys`. */
  jwksUrl?: string;
}

function apiKeyCaller(key: string, apiKeys: Config['apiKeys']): Caller | undefined {
  const digest = createHash('sha256').update(key, 'utf8').digest();
  let found: string | undefined;
  // Compare against every entry so the time taken does not reveal which hash came close.
  for (const [hash, serviceId] of apiKeys) {
    if (timingSafeEqual(digest, Buffer.from(hash, 'hex'))) found = serviceId;
  }
  return found === undefined
    ? undefined
    : {
        serviceId: found,
        kind: 'apiKey',
        principal: `key:${digest.toString('hex').slice(0, 8)}`,
        operator: false,
      };
}

function serviceFromClaims(payload: JWTPayload, callers: ReadonlyMap<string, string>): string {
  const roles = Array.isArray(payload.roles)
    ? payload.roles.filter((r) => typeof r === 'string')
    : [];
  const services = [
    ...new Set(
      roles.map((r) => SERVICE_ROLE.exec(r)?.[1]).filter((s) => s !== undefined && isId(s)),
    ),
  ];
  if (services.length > 1) {
    throw new ForbiddenError(
      'The token carries more than one Service.* role; a caller belongs to one service.',
    );
  }
  if (services[0]) return services[0];
  const appId = payload.azp ?? payload.appid;
  const mapped = typeof appId === 'string' ? callers.get(appId.toLowerCase()) : undefined;
  if (mapped) return mapped;
  throw new ForbiddenError(
    'The token is valid but maps to no service (no Service.* role, not in API_CALLERS).',
  );
}

/**
 * Authenticates `x-api-key` against API_KEYS (sha256, constant time) or an Entra ID Bearer token
 * (signature from the tenant's JWKS, issuer, audience, lifetime, algorithm allow-list).
 */
export function createAuthenticator(options: CallerAuthOptions): Authenticate {
  const bearer = options.bearer;
  const jwks = bearer
    ? createRemoteJWKSet(
        new URL(
          options.jwksUrl ?? `${options.authorityHost}/${bearer.tenantId}/discovery/v2.0/keys`,
        ),
        { timeoutDuration: 5_000, cooldownDuration: 30_000 },
      )
    : undefined;

  return async (headers) => {
    const apiKey = headers.get('x-api-key');
    const authorization = headers.get('authorization');
    if (apiKey !== null) {
      const caller = apiKeyCaller(apiKey, options.apiKeys);
      if (!caller) throw new UnauthenticatedError('The x-api-key is not valid.');
      return caller;
    }
    const token = /^Bearer\s+(\S+)$/i.exec(authorization ?? '')?.[1];
    if (!token) throw new UnauthenticatedError();
    if (!bearer || !jwks)
      throw new UnauthenticatedError('Bearer tokens are not enabled on this service.');
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, jwks, {
        algorithms: ALLOWED_ALGORITHMS,
        audience: [...bearer.audiences],
        issuer: [
          `${options.authorityHost}/${bearer.tenantId}/v2.0`,
          `https://sts.windows.net/${bearer.tenantId}/`,
        ],
        clockTolerance: 60,
        requiredClaims: ['exp', 'iss', 'aud'],
      }));
    } catch (error) {
      throw new UnauthenticatedError('The Bearer token is not valid.', { cause: error });
    }
    if (payload.tid !== undefined && payload.tid !== bearer.tenantId) {
      throw new UnauthenticatedError('The Bearer token was issued for another tenant.');
    }
    // Callers are services. A delegated token (a user signed in to some client app that may
    // call this API) must not act as a service, whichever way it maps to one.
    if (payload.scp !== undefined || (payload.idtyp !== undefined && payload.idtyp !== 'app')) {
      throw new ForbiddenError(
        'The Bearer token acts for a user; callers must use app-only tokens (client credentials).',
      );
    }
    const serviceId = serviceFromClaims(payload, bearer.callers);
    const appId = (payload.azp ?? payload.appid ?? payload.sub) as string;
    const operator = Array.isArray(payload.roles) && payload.roles.includes(OPERATOR_ROLE);
    return { serviceId, kind: 'bearer', principal: `app:${appId}`, operator };
  };
}
