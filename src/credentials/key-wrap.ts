import { type TokenCredential } from '@azure/identity';
import type { CryptographyClient, KeyClientOptions } from '@azure/keyvault-keys';

import { azureSdk } from '../core/azure-sdk';
import { UpstreamError } from '../core/errors';

/**
 * Wraps data keys with a Key Vault **key** (RSA-OAEP-256), so the data key ring stored as a secret
 * is useless to someone who can read secrets only: unwrapping needs the key's unwrapKey right
 * (Key Vault Crypto User), which the app's identity has and a secrets reader does not.
 */
export interface KeyWrapper {
  /** Wraps with the key's current version; `kek` is that version's id (used to unwrap). */
  wrap(raw: Buffer): Promise<{ kek: string; wrapped: string }>;
  unwrap(kek: string, wrapped: string): Promise<Buffer>;
}

export const WRAP_ALGORITHM = 'RSA-OAEP-256';

export function createKeyVaultKeyWrapper(options: {
  vaultUrl: string;
  keyName: string;
  credential: TokenCredential;
  clientOptions?: KeyClientOptions;
}): KeyWrapper {
  const isLoopback = /^https?:\/\/(127\.\d+\.\d+\.\d+|localhost|\[::1\])(:|\/|$)/i.test(
    options.vaultUrl,
  );
  const clientOptions: KeyClientOptions = {
    // A local Key-Vault-compatible endpoint cannot be vault.azure.net.
    ...(isLoopback ? { disableChallengeResourceVerification: true } : {}),
    ...options.clientOptions,
  };
  const { CryptographyClient, KeyClient } = azureSdk.keyVaultKeys();
  const keys = new KeyClient(options.vaultUrl, options.credential, clientOptions);
  const clients = new Map<string, CryptographyClient>();
  const clientFor = (kek: string) => {
    let client = clients.get(kek);
    if (!client)
      clients.set(kek, (client = new CryptographyClient(kek, options.credential, clientOptions)));
    return client;
  };
  const failed = (what: string, error: unknown) =>
    new UpstreamError(
      'store_unavailable',
      `Key Vault ${what} with key ${options.keyName} failed.`,
      {
        cause: error,
      },
    );

  return {
    async wrap(raw) {
      try {
        const key = await keys.getKey(options.keyName);
        const result = await clientFor(key.id!).wrapKey(WRAP_ALGORITHM, raw);
        return { kek: key.id!, wrapped: Buffer.from(result.result).toString('base64url') };
      } catch (error) {
        throw failed('wrapKey', error);
      }
    },
    async unwrap(kek, wrapped) {
      try {
        const result = await clientFor(kek).unwrapKey(
          WRAP_ALGORITHM,
          Buffer.from(wrapped, 'base64url'),
        );
        return Buffer.from(result.result);
      } catch (error) {
        throw failed('unwrapKey', error);
      }
    },
  };
}
