import {
  constants,
  generateKeyPairSync,
  type KeyObject,
  privateDecrypt,
  publicEncrypt,
  randomBytes,
} from 'node:crypto';

import { KvError } from './kv-error';

/**
 * Key Vault RSA keys as the REST API documents them: `POST keys/{name}/create`, `GET
 * keys/{name}[/{version}]`, `POST keys/{name}/{version}/wrapkey|unwrapkey` (RSA-OAEP-256 and
 * RSA-OAEP). The private key never leaves; a get answers the public JWK only.
 */
interface KeyVersion {
  id: string;
  publicKey: KeyObject;
  privateKey: KeyObject;
  ops: string[];
  enabled: boolean;
  created: number;
}

const ALL_OPS = ['encrypt', 'decrypt', 'sign', 'verify', 'wrapKey', 'unwrapKey'];
const PADDING: Record<string, { oaepHash: string }> = {
  'RSA-OAEP-256': { oaepHash: 'sha256' },
  'RSA-OAEP': { oaepHash: 'sha1' },
};

export function createKeyOperations(origin: () => string) {
  const keys = new Map<string, { name: string; versions: KeyVersion[] }>();

  const bundle = (name: string, v: KeyVersion) => {
    const jwk = v.publicKey.export({ format: 'jwk' });
    return {
      key: {
        kid: `${origin()}/keys/${name}/${v.id}`,
        kty: 'RSA',
        key_ops: v.ops,
        n: jwk.n,
        e: jwk.e,
      },
      attributes: {
        enabled: v.enabled,
        created: v.created,
        updated: v.created,
        recoveryLevel: 'Recoverable+Purgeable',
        recoverableDays: 90,
      },
    };
  };

  function find(name: string, version: string | undefined): KeyVersion {
    const key = keys.get(name.toLowerCase());
    const v = version ? key?.versions.find((x) => x.id === version) : key?.versions.at(-1);
    if (!key || !v) {
      throw new KvError(
        404,
        'KeyNotFound',
        `A key with (name/id) ${name} was not found in this key vault.`,
      );
    }
    if (!v.enabled)
      throw new KvError(403, 'Forbidden', 'Operation is not allowed on a disabled key.');
    return v;
  }

  function create(name: string, body: Record<string, unknown>): [number, unknown] {
    if (body.kty !== 'RSA' && body.kty !== 'RSA-HSM') {
      throw new KvError(
        400,
        'BadParameter',
        'This endpoint creates RSA keys only (kty RSA or RSA-HSM).',
      );
    }
    const size = typeof body.key_size === 'number' ? body.key_size : 2048;
    if (![2048, 3072, 4096].includes(size)) {
      throw new KvError(400, 'BadParameter', 'key_size must be 2048, 3072 or 4096.');
    }
    const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: size });
    const ops = Array.isArray(body.key_ops) ? body.key_ops.map(String) : ALL_OPS;
    const key = keys.get(name.toLowerCase()) ?? { name, versions: [] };
    const v: KeyVersion = {
      id: randomBytes(16).toString('hex'),
      publicKey,
      privateKey,
      ops,
      enabled: true,
      created: Math.floor(Date.now() / 1000),
    };
    key.versions.push(v);
    keys.set(name.toLowerCase(), key);
    return [200, bundle(key.name, v)];
  }

  function operate(
    name: string,
    version: string,
    op: 'wrapKey' | 'unwrapKey',
    body: Record<string, unknown>,
  ): [number, unknown] {
    const v = find(name, version || undefined);
    if (!v.ops.includes(op)) {
      throw new KvError(403, 'Forbidden', `Operation ${op} is not permitted on this key.`);
    }
    const padding = PADDING[String(body.alg)];
    if (!padding)
      throw new KvError(400, 'BadParameter', `Algorithm ${String(body.alg)} is not supported.`);
    if (typeof body.value !== 'string')
      throw new KvError(400, 'BadParameter', 'value is required.');
    const input = Buffer.from(body.value, 'base64url');
    const options = { padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: padding.oaepHash };
    let output: Buffer;
    try {
      output =
        op === 'wrapKey'
          ? publicEncrypt({ key: v.publicKey, ...options }, input)
          : privateDecrypt({ key: v.privateKey, ...options }, input);
    } catch {
      throw new KvError(400, 'BadParameter', 'The value could not be processed with this key.');
    }
    return [200, { kid: `${origin()}/keys/${name}/${v.id}`, value: output.toString('base64url') }];
  }

  return {
    handle(
      method: string,
      name: string,
      sub: string | undefined,
      extra: string | undefined,
      body: Record<string, unknown>,
    ): [number, unknown] {
      if (!/^[0-9A-Za-z-]{1,127}$/.test(name)) {
        throw new KvError(400, 'BadParameter', `The request URI contains an invalid name: ${name}`);
      }
      if (method === 'POST' && sub === 'create' && extra === undefined) return create(name, body);
      if (method === 'GET' && extra === undefined) {
        const v = find(name, sub || undefined);
        return [200, bundle(keys.get(name.toLowerCase())!.name, v)];
      }
      if (method === 'POST' && (extra === 'wrapkey' || extra === 'unwrapkey')) {
        return operate(name, sub ?? '', extra === 'wrapkey' ? 'wrapKey' : 'unwrapKey', body);
      }
      throw new KvError(405, 'MethodNotAllowed', 'Method not allowed.');
    },
  };
}
