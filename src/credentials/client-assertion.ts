import {
  constants,
  createHash,
  createPrivateKey,
  randomUUID,
  sign,
  X509Certificate,
  type KeyObject,
} from 'node:crypto';

import { ConfigError, isErrorOf } from '../core/errors';

/**
 * How the app registration proves itself to the token endpoint: a client secret, or a certificate
 * whose private key signs a fresh client assertion for every request ("Microsoft identity platform
 * application authentication certificate credentials",
 * learn.microsoft.com/entra/identity-platform/certificate-credentials).
 */
export type ClientCredential =
  { kind: 'secret'; secret: string } | { kind: 'certificate'; certificate: ClientCertificate };

export interface ClientCertificate {
  /** `x5t#S256`: base64url SHA-256 of the certificate's DER encoding (public, safe to log). */
  readonly thumbprintSha256: string;
  readonly subject: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly privateKey: KeyObject;
}

export const CLIENT_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
/** The docs: "keep it short - 5-10 minutes after nbf at most". */
const ASSERTION_LIFETIME_SECONDS = 600;

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----[\s\S]*?-----END \1-----/g;
/** A Key Vault certificate's default content type: base64 PKCS#12 with no PEM armour. */
const LOOKS_LIKE_PKCS12 = /^MI[A-Za-z0-9+/=\s]+$/;

const invalid = (message: string): ConfigError =>
  new ConfigError([{ path: 'CLIENT_CERTIFICATE', message }]);

/** App Service passes a Key Vault reference through verbatim when it cannot resolve it. */
const UNRESOLVED_REFERENCE = '@Microsoft.KeyVault(';
const unresolved = 'is a Key Vault reference that did not resolve';

/**
 * The credential the settings choose: the certificate when `CLIENT_CERTIFICATE` is set (it wins
 * over a secret also set), else `CLIENT_SECRET`. ConfigError names the setting that is unusable.
 */
export function clientCredentialOf(settings: {
  clientSecret: string | undefined;
  clientCertificate: string | undefined;
}): ClientCredential {
  if (settings.clientCertificate !== undefined) {
    if (settings.clientCertificate.startsWith(UNRESOLVED_REFERENCE)) throw invalid(unresolved);
    return { kind: 'certificate', certificate: parseClientCertificate(settings.clientCertificate) };
  }
  if (settings.clientSecret === undefined) {
    throw new ConfigError([
      { path: 'CLIENT_SECRET', message: 'or CLIENT_CERTIFICATE is required to use credentials' },
    ]);
  }
  if (settings.clientSecret.startsWith(UNRESOLVED_REFERENCE)) {
    throw new ConfigError([{ path: 'CLIENT_SECRET', message: unresolved }]);
  }
  return { kind: 'secret', secret: settings.clientSecret };
}

/**
 * Reads `CLIENT_CERTIFICATE` as a Key Vault reference to a certificate resolves it when the
 * certificate's content type is PEM (`application/x-pem-file`): the unencrypted private key and the
 * certificate (possibly with its chain) in one text. The certificate used is the one matching the key.
 */
export function parseClientCertificate(pem: string): ClientCertificate {
  const text = pem.trim();
  if (LOOKS_LIKE_PKCS12.test(text)) {
    throw invalid(
      'is base64 PKCS#12; give the Key Vault certificate the content type application/x-pem-file (PEM) so its reference resolves to PEM',
    );
  }
  const blocks = [...text.matchAll(PEM_BLOCK)].map((m) => ({ label: m[1]!, pem: m[0] }));
  if (blocks.some((b) => b.label === 'ENCRYPTED PRIVATE KEY')) {
    throw invalid(
      'holds an encrypted private key; it must be unencrypted PEM, as Key Vault exports it',
    );
  }
  const keyBlock = blocks.find((b) => /^(RSA |EC )?PRIVATE KEY$/.test(b.label));
  const certBlocks = blocks.filter((b) => b.label === 'CERTIFICATE');
  if (!keyBlock || certBlocks.length === 0) {
    throw invalid(
      'must be PEM holding the private key and the certificate (a Key Vault certificate reference)',
    );
  }
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(keyBlock.pem);
  } catch {
    throw invalid('has a private key that cannot be read');
  }
  if (privateKey.asymmetricKeyType !== 'rsa') {
    throw invalid(
      `has a ${privateKey.asymmetricKeyType ?? 'unknown'} key; client assertions are signed with RSA (PS256)`,
    );
  }
  const certificate = certBlocks
    .map((b) => {
      try {
        return new X509Certificate(b.pem);
      } catch {
        return undefined;
      }
    })
    .find((c) => c?.checkPrivateKey(privateKey));
  if (!certificate) throw invalid('has no certificate that matches its private key');
  return {
    thumbprintSha256: createHash('sha256').update(certificate.raw).digest('base64url'),
    subject: certificate.subject,
    notBefore: new Date(certificate.validFrom),
    notAfter: new Date(certificate.validTo),
    privateKey,
  };
}

const segment = (value: unknown): string =>
  Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');

/**
 * A client assertion as the docs describe it: header `alg` PS256, `typ` JWT, `x5t#S256`; claims
 * `aud` = the token endpoint, `iss` = `sub` = the client id, a unique `jti`, `nbf`/`iat` now and a
 * short `exp`; signed with PSS padding. Single use: make one per token request.
 */
export function signClientAssertion(
  certificate: ClientCertificate,
  claims: { clientId: string; audience: string; nowMs?: number },
): string {
  const now = Math.floor((claims.nowMs ?? Date.now()) / 1000);
  const input = `${segment({ alg: 'PS256', typ: 'JWT', 'x5t#S256': certificate.thumbprintSha256 })}.${segment(
    {
      aud: claims.audience,
      iss: claims.clientId,
      sub: claims.clientId,
      jti: randomUUID(),
      nbf: now,
      iat: now,
      exp: now + ASSERTION_LIFETIME_SECONDS,
    },
  )}`;
  const signature = sign('sha256', Buffer.from(input, 'ascii'), {
    key: certificate.privateKey,
    padding: constants.RSA_PKCS1_PSS_PADDING,
    // JWA PS256: the salt is as long as the SHA-256 digest.
    saltLength: constants.RSA_PSS_SALTLEN_DIGEST,
  });
  return `${input}.${signature.toString('base64url')}`;
}

/** The form fields that authenticate the client on one token request to `tokenUrl`. */
export function clientAuthFields(
  credential: ClientCredential,
  clientId: string,
  tokenUrl: string,
): Record<string, string> {
  if (credential.kind === 'secret') return { client_secret: credential.secret };
  return {
    client_assertion_type: CLIENT_ASSERTION_TYPE,
    client_assertion: signClientAssertion(credential.certificate, {
      clientId,
      audience: tokenUrl,
    }),
  };
}

/** Warn this long before the certificate expires: rotating it means a new upload to the app registration. */
const EXPIRY_WARNING_MS = 30 * 86_400_000;

/**
 * The `appRegistration` health check: which credential token requests use, and whether it can be
 * used now (an unresolved reference, an unreadable or expired certificate are not). Never key material.
 */
export function appRegistrationHealth(
  settings: {
    clientId: string | undefined;
    clientSecret: string | undefined;
    clientCertificate: string | undefined;
  },
  nowMs = Date.now(),
): { ok: boolean; detail: string; data?: Record<string, string> } {
  if (!settings.clientId) return { ok: false, detail: 'CLIENT_ID is not set' };
  let credential: ClientCredential;
  try {
    credential = clientCredentialOf(settings);
  } catch (error) {
    if (isErrorOf(error, ConfigError)) return { ok: false, detail: error.message };
    throw error;
  }
  if (credential.kind === 'secret') {
    return { ok: true, detail: `client ${settings.clientId}, client secret` };
  }
  const { certificate } = credential;
  const data = {
    credential: 'certificate',
    thumbprintSha256: certificate.thumbprintSha256,
    notAfter: certificate.notAfter.toISOString(),
  };
  const ok = nowMs >= certificate.notBefore.getTime() && nowMs < certificate.notAfter.getTime();
  const when = ok
    ? `valid until ${data.notAfter}${certificate.notAfter.getTime() - nowMs < EXPIRY_WARNING_MS ? ' (renew it soon)' : ''}`
    : `not valid now (${certificate.notBefore.toISOString()} to ${data.notAfter})`;
  return {
    ok,
    detail: `client ${settings.clientId}, certificate x5t#S256 ${certificate.thumbprintSha256} ${when}${settings.clientSecret === undefined ? '' : '; CLIENT_SECRET is set too and unused'}`,
    data,
  };
}
