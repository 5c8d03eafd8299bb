import { type TokenCredential } from '@azure/identity';
import { SecretClient } from '@azure/keyvault-secrets';

import { type LocalKeyVault, startKeyVaultServer } from '../../src/local/keyvault/server';

/** A stand-in for the app's Azure credential: the local vault accepts any Bearer token. */
export const fakeAzureCredential: TokenCredential = {
  getToken: () =>
    Promise.resolve({ token: 'local-vault-token', expiresOnTimestamp: Date.now() + 3_600_000 }),
};

export { startKeyVaultServer, type LocalKeyVault };

/** The real SecretClient, trusting the vault's self-signed certificate through its agent. */
export function secretClientFor(vault: LocalKeyVault): SecretClient {
  return new SecretClient(vault.url, fakeAzureCredential, {
    ...(vault.agent ? { agent: vault.agent } : {}),
    disableChallengeResourceVerification: true,
    retryOptions: { maxRetries: 0 },
  });
}
