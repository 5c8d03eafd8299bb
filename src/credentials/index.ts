import { type TokenCredential } from '@azure/identity';
import { type KeyClientOptions } from '@azure/keyvault-keys';
import { type SecretClientOptions } from '@azure/keyvault-secrets';

import { type Config } from '../config';
import { ConfigError } from '../core/errors';
import { type Logger } from '../core/logger';
import { type StorageClients } from '../storage';
import { clientCredentialOf } from './client-assertion';
import {
  createConnectFlow,
  createMemoryStateStore,
  createTableStateStore,
  type ConnectFlow,
} from './connect';
import { createTableCredentialIndex } from './credential-index';
import {
  createAppKeys,
  createFileDataKeyRing,
  createSecretDataKeyRing,
  type DataKeyRing,
} from './data-key';
import { createFileSecretStore } from './file-store';
import {
  createMemoryPendingBackend,
  createPendingConnections,
  createTablePendingBackend,
} from './pending-connect';
import { createKeyVaultKeyWrapper, type KeyWrapper } from './key-wrap';
import { createKeyVaultSecretStore } from './keyvault-store';
import { createBlobLockProvider } from './lease';
import { createRecordRepository, type RecordRepository } from './record';
import { type CredentialService, createCredentialService } from './service';
import { type SecretStore } from './store';
import { createTokenEndpoint, type TokenEndpoint } from './token-endpoint';
import { createTokenManager, type TokenManager, type TokenManagerOptions } from './token-manager';
import { type AppKeys, type CredentialKey, withOfflineAccess } from './types';

export type { AccessGrant, AppKeys, CredentialKey, TokenProvider } from './types';
export type { CredentialService } from './service';
export type { TokenManager } from './token-manager';
export { appRegistrationHealth } from './client-assertion';

function transportOf(options: SecretClientOptions): KeyClientOptions {
  const { serviceVersion: _secretsApiVersion, ...transport } = options;
  return transport;
}

export interface CredentialServicesDeps {
  config: Config;
  log: Logger;
  storage: StorageClients | undefined;
  azureCredential: () => TokenCredential;
  fetch: typeof fetch;
  /** Tests: a ready store (e.g. Key Vault with a trusted local certificate). */
  secretStore?: SecretStore;
  keyVaultClientOptions?: SecretClientOptions;
  /** Tests: the wrapper of data keys (otherwise from KEY_VAULT_URL + KEY_VAULT_KEY_NAME). */
  keyWrapper?: KeyWrapper;
  tokenManager?: Partial<TokenManagerOptions>;
  /** Tests: shorter identity-platform retry budgets. */
  tokenEndpoint?: { retryBudgetMs?: number; retryBaseMs?: number; attemptTimeoutMs?: number };
  /** What other rooms keep per credential, removed with it (see CredentialServiceOptions). */
  onDeleted?: (key: CredentialKey) => Promise<void>;
}

export interface CredentialServices {
  store: SecretStore;
  dataKeys: DataKeyRing;
  repo: RecordRepository;
  tokens: TokenManager;
  credentials: CredentialService;
  appKeys: AppKeys;
  connect: ConnectFlow;
}

/**
 * Builds the credential layer from config: Key Vault (SecretClient + the app's Azure credential)
 * when KEY_VAULT_URL is set, the local encrypted file store otherwise (dev only).
 */
export function createCredentialServices(deps: CredentialServicesDeps): CredentialServices {
  const { config, log } = deps;
  const store =
    deps.secretStore ??
    (config.keyVaultUrl
      ? createKeyVaultSecretStore({
          url: config.keyVaultUrl,
          credential: deps.azureCredential(),
          ...(deps.keyVaultClientOptions ? { clientOptions: deps.keyVaultClientOptions } : {}),
          log,
        })
      : createFileSecretStore({ dir: config.localDataDir, isProduction: config.isProduction }));
  const keyWrapper =
    deps.keyWrapper ??
    (config.keyVaultUrl && config.keyVaultKeyName
      ? createKeyVaultKeyWrapper({
          vaultUrl: config.keyVaultUrl,
          keyName: config.keyVaultKeyName,
          credential: deps.azureCredential(),
          // Same transport options (e.g. a trusted local certificate), not the secrets api version.
          ...(deps.keyVaultClientOptions
            ? { clientOptions: transportOf(deps.keyVaultClientOptions) }
            : {}),
        })
      : undefined);
  const dataKeys =
    store.kind === 'keyvault'
      ? createSecretDataKeyRing(store, keyWrapper)
      : createFileDataKeyRing(config.localDataDir, log);
  const appKeys = createAppKeys(dataKeys);
  // Listing one service from Key Vault would page through every service's secrets.
  const index =
    store.kind === 'keyvault' && deps.storage
      ? createTableCredentialIndex(deps.storage)
      : undefined;
  const repo = createRecordRepository(store, dataKeys, { ...(index ? { index } : {}), log });

  let endpoint: TokenEndpoint | undefined;
  const tokenEndpoint = (): TokenEndpoint => {
    if (endpoint) return endpoint;
    if (!config.clientId) {
      throw new ConfigError([{ path: 'CLIENT_ID', message: 'is required to use credentials' }]);
    }
    return (endpoint = createTokenEndpoint({
      authorityHost: config.authorityHost,
      tenantId: config.tenantId,
      clientId: config.clientId,
      credential: clientCredentialOf(config),
      graphBaseUrl: config.graphBaseUrl,
      fetch: deps.fetch,
      log,
      ...deps.tokenEndpoint,
    }));
  };
  // The endpoint is resolved on first refresh, so a sandbox-mode app can start without CLIENT_ID.
  const lazyEndpoint: TokenEndpoint = {
    get clientId() {
      return tokenEndpoint().clientId;
    },
    get tenantId() {
      return tokenEndpoint().tenantId;
    },
    authorizeUrl: () => tokenEndpoint().authorizeUrl(),
    refresh: (...args) => tokenEndpoint().refresh(...args),
    redeemCode: (...args) => tokenEndpoint().redeemCode(...args),
    me: (...args) => tokenEndpoint().me(...args),
  };

  const tokens = createTokenManager({
    repo,
    endpoint: lazyEndpoint,
    locks: deps.storage ? createBlobLockProvider(deps.storage, log) : undefined,
    log,
    ...deps.tokenManager,
  });
  // The same list goes to authorize and to code redemption.
  const scopes = withOfflineAccess(config.scopes);
  const connect = createConnectFlow({
    appKeys,
    authorizeEndpoint: `${config.authorityHost}/${config.tenantId}/oauth2/v2.0/authorize`,
    clientId: () => lazyEndpoint.clientId,
    publicBaseUrl: config.publicBaseUrl,
    scopes,
    states: deps.storage ? createTableStateStore(deps.storage) : createMemoryStateStore(),
    prompt: config.connectPrompt,
  });
  const pending = createPendingConnections(
    deps.storage ? createTablePendingBackend(deps.storage) : createMemoryPendingBackend(),
    dataKeys,
  );
  const credentials = createCredentialService({
    repo,
    tokens,
    endpoint: () => lazyEndpoint,
    connect,
    pending,
    serviceName: (serviceId) => config.serviceNames.get(serviceId) ?? serviceId,
    scopes,
    keepAliveIdleDays: config.keepAliveIdleDays,
    connectUrlFor: (id) => `${config.publicBaseUrl}/api/credentials/${id}/connect`,
    log,
    ...(deps.onDeleted ? { onDeleted: deps.onDeleted } : {}),
  });
  return { store, dataKeys, repo, tokens, credentials, appKeys, connect };
}
