import { constants, createHash, verify, X509Certificate, type KeyObject } from 'node:crypto';

import { IdentityError } from './errors';

/**
 * Certificate credentials of app registrations and the verification of the client assertions
 * signed with them, as "Microsoft identity platform application authentication certificate
 * credentials" describes them (learn.microsoft.com/entra/identity-platform/certificate-credentials):
 * header `alg` RS256 or PS256 with the key named by `x5t#S256` (SHA-256) or `x5t` (SHA-1) thumbprint
 * of a registered certificate; claims `aud` = the token endpoint, `iss` = `sub` = the client id,
 * `exp`/`nbf`, a `jti`. Answers carry the AADSTS codes of Entra's error reference
 * (learn.microsoft.com/entra/identity-platform/reference-error-codes) and of the Azure SDK's
 * ClientCertificateCredential/ClientAssertionCredential troubleshooting tables.
 */
export const CLIENT_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

interface RegisteredCertificate {
  x5tS256: string;
  x5t: string;
  publicKey: KeyObject;
  notBeforeMs: number;
  notAfterMs: number;
}

/** An assertion larger than this is not a JWT any client would send. */
const MAX_ASSERTION_CHARS = 16_384;
/** Used `jti` values are kept until their assertion expires; past this many the oldest go first. */
const MAX_REMEMBERED_JTI = 100_000;

const unauthorized = (aadsts: number, description: string): IdentityError =>
  new IdentityError(401, 'invalid_client', aadsts, description);

function decodeSegment(segment: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
    return value !== null && typeof value === 'object' && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

const utc = (seconds: number): string => new Date(seconds * 1000).toISOString();

export class ClientCertificates {
  private readonly byClient = new Map<string, RegisteredCertificate[]>();
  /** `clientId jti` → expiry (ms) of the assertion that used it. */
  private readonly usedJti = new Map<string, number>();

  /** Uploads a certificate (PEM, public part only) to an app registration; answers its thumbprints. */
  register(clientId: string, pem: string): { thumbprintSha256: string; thumbprint: string } {
    let certificate: X509Certificate;
    try {
      certificate = new X509Certificate(pem);
    } catch {
      throw new Error('not a PEM X.509 certificate');
    }
    const entry: RegisteredCertificate = {
      x5tS256: createHash('sha256').update(certificate.raw).digest('base64url'),
      x5t: createHash('sha1').update(certificate.raw).digest('base64url'),
      publicKey: certificate.publicKey,
      notBeforeMs: Date.parse(certificate.validFrom),
      notAfterMs: Date.parse(certificate.validTo),
    };
    const list = (this.byClient.get(clientId) ?? []).filter((c) => c.x5tS256 !== entry.x5tS256);
    this.byClient.set(clientId, [...list, entry]);
    return { thumbprintSha256: entry.x5tS256, thumbprint: entry.x5t };
  }

  /**
   * Verifies one client assertion for `clientId` presented at a token endpoint whose URLs are
   * `audiences`. Throws the IdentityError Entra answers; a verified assertion's `jti` is spent.
   */
  verify(clientId: string, assertion: string, audiences: readonly string[]): void {
    const parts = assertion.length <= MAX_ASSERTION_CHARS ? assertion.split('.') : [];
    const header = parts.length === 3 ? decodeSegment(parts[0]!) : undefined;
    const claims = parts.length === 3 ? decodeSegment(parts[1]!) : undefined;
    if (!header || !claims) {
      throw unauthorized(50027, 'JWT token is invalid or malformed.');
    }
    const alg = header.alg;
    if (alg !== 'RS256' && alg !== 'PS256') {
      throw unauthorized(
        50027,
        `Invalid JWT token. '${String(alg)}' is not a supported signature algorithm for client assertions; use PS256 or RS256.`,
      );
    }
    const x5tS256 = typeof header['x5t#S256'] === 'string' ? header['x5t#S256'] : undefined;
    const x5t = typeof header.x5t === 'string' ? header.x5t : undefined;
    const key = (this.byClient.get(clientId) ?? []).find(
      (c) =>
        (x5tS256 !== undefined && c.x5tS256 === x5tS256) || (x5t !== undefined && c.x5t === x5t),
    );
    if (!key) {
      throw unauthorized(
        700027,
        `Client assertion failed signature validation. [Reason - The key was not found., Thumbprint of key used by client: '${x5tS256 ?? x5t ?? ''}', Please visit the Azure Portal, Graph Explorer or directly use MS Graph to see configured keys for app Id '${clientId}'.]`,
      );
    }
    const signature = Buffer.from(parts[2]!, 'base64url');
    const signed = Buffer.from(`${parts[0]}.${parts[1]}`, 'ascii');
    const valid = verify(
      'sha256',
      signed,
      alg === 'PS256'
        ? {
            key: key.publicKey,
            padding: constants.RSA_PKCS1_PSS_PADDING,
            saltLength: constants.RSA_PSS_SALTLEN_DIGEST,
          }
        : key.publicKey,
      signature,
    );
    if (!valid) throw unauthorized(700027, 'Client assertion failed signature validation.');
    const now = Date.now();
    if (now < key.notBeforeMs || now >= key.notAfterMs) {
      throw unauthorized(
        700027,
        `Client assertion failed signature validation. [Reason - The key used is expired., Thumbprint of key used by client: '${key.x5tS256}']`,
      );
    }
    this.checkClaims(clientId, claims, audiences, now);
  }

  private checkClaims(
    clientId: string,
    claims: Record<string, unknown>,
    audiences: readonly string[],
    now: number,
  ): void {
    if (claims.iss !== clientId) {
      throw unauthorized(
        700021,
        "Client assertion application identifier doesn't match 'client_id' parameter. Review the documentation at https://learn.microsoft.com/entra/identity-platform/certificate-credentials",
      );
    }
    if (claims.sub !== claims.iss) {
      throw unauthorized(50048, 'Subject mismatches Issuer claim in the client assertion.');
    }
    const aud = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
    if (!aud.some((a) => typeof a === 'string' && audiences.includes(a))) {
      throw unauthorized(
        700023,
        'Client assertion audience claim does not match Realm issuer. Review the documentation at https://learn.microsoft.com/entra/identity-platform/certificate-credentials.',
      );
    }
    const exp = typeof claims.exp === 'number' ? claims.exp : undefined;
    const nbf = typeof claims.nbf === 'number' ? claims.nbf : undefined;
    if (exp === undefined || now >= exp * 1000 || (nbf !== undefined && now < nbf * 1000)) {
      throw unauthorized(
        700024,
        `Client assertion is not within its valid time range. Current time: ${new Date(now).toISOString()}, assertion valid from ${nbf === undefined ? '-' : utc(nbf)}, expiry time of assertion ${exp === undefined ? '-' : utc(exp)}.`,
      );
    }
    if (typeof claims.jti !== 'string' || claims.jti === '') {
      throw unauthorized(50027, "Invalid JWT token. The client assertion has no 'jti' claim.");
    }
    this.spend(`${clientId} ${claims.jti}`, exp * 1000, now);
  }

  /** `jti` single use: Entra's reference has no replay code, so a replay is an invalid assertion. */
  private spend(key: string, expMs: number, now: number): void {
    if (this.usedJti.has(key)) {
      throw unauthorized(
        50013,
        'Assertion is invalid because of various reasons - the client assertion was already used (its jti was seen before).',
      );
    }
    for (const [k, until] of this.usedJti) {
      if (until <= now || this.usedJti.size >= MAX_REMEMBERED_JTI) this.usedJti.delete(k);
      else break;
    }
    this.usedJti.set(key, expMs);
  }
}
