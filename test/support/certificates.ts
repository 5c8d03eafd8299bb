import { generateKeyPairSync } from 'node:crypto';

import selfsigned from 'selfsigned';

export interface TestCertificate {
  /** What a Key Vault reference to a PEM certificate resolves to: the private key, then the certificate. */
  pem: string;
  /** The public certificate, as uploaded to the app registration. */
  certificate: string;
}

/** A self-signed RSA certificate for client assertions (test only; made fresh per call), valid from now. */
export function testCertificate(days = 365): TestCertificate {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  // `keyPair` (selfsigned reads it, its types omit it): node's key generation is far faster than forge's.
  const options = {
    keyPair: {
      privateKey: privateKey.export({ type: 'pkcs1', format: 'pem' }).toString(),
      publicKey: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    },
    algorithm: 'sha256',
    days,
  } as Parameters<typeof selfsigned.generate>[1];
  const generated = selfsigned.generate(
    [{ name: 'commonName', value: 'outlook-mail-functions' }],
    options,
  );
  const pkcs8 = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  return { pem: `${pkcs8}${generated.cert}`, certificate: generated.cert };
}
