import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { type AppContext, createApp } from '../../src/app';
import { DEFAULT_SCOPES, hashApiKey } from '../../src/config';
import { createLogger } from '../../src/core/logger';
import { createKeyVaultSecretStore } from '../../src/credentials/keyvault-store';
import { type SecretStore } from '../../src/credentials/store';
import { type AzuriteInstance } from '../../src/local/azurite';
import { testStorage } from './storage';
import { type LocalHost, startLocalHost } from '../../src/local/host';
import { type Sandbox, type SandboxOptions } from '../../src/local/sandbox';
import { startTestSandbox } from './sandbox';
import { hostRegistrations } from '../../src/registration';
import { fakeAzureCredential, type LocalKeyVault, startKeyVaultServer } from './keyvault-client';

export interface Harness {
  sandbox: Sandbox;
  vault: LocalKeyVault;
  azurite: AzuriteInstance | undefined;
  /** Every log line of the apps and the host (scanned for tokens). */
  lines: string[];
  keys: Record<string, string>;
  /** A new app instance (its own caches) over the same vault and storage: "another instance". */
  makeApp(options?: { fetch?: typeof fetch }): AppContext;
  app: AppContext;
  host: LocalHost;
  api(pathAndQuery: string, init?: RequestInit & { serviceId?: string }): Promise<Response>;
  issueRefreshToken(upn?: string): Promise<string>;
  close(): Promise<void>;
}

export function vaultStore(vault: LocalKeyVault, retryBudgetMs = 1_000): SecretStore {
  return createKeyVaultSecretStore({
    url: vault.url,
    credential: fakeAzureCredential,
    clientOptions: { agent: vault.agent! },
    retryBudgetMs,
    retryBaseMs: 10,
  });
}

/**
 * Sandbox (identity + Graph), the local HTTPS Key Vault, optionally Azurite, the app on the local
 * host; `env` overrides the app's settings, `sandbox` adds start options (app registrations).
 */
export async function startHarness(
  options: { storage?: boolean; env?: Record<string, string>; sandbox?: SandboxOptions } = {},
): Promise<Harness> {
  const sandbox = await startTestSandbox({
    autoConsent: true,
    messagesPerUser: 5,
    ...options.sandbox,
  });
  const vault = await startKeyVaultServer();
  const azurite = options.storage ? await testStorage() : undefined;
  const dataDir = await mkdtemp(path.join(tmpdir(), 'cred-fn-'));
  const lines: string[] = [];
  const keys = { svc: 'key-svc-0123456789', other: 'key-other-0123456789' };
  const makeApp = (appOptions: { fetch?: typeof fetch } = {}) =>
    createApp({
      ...appOptions,
      env: {
        ...sandbox.appSettings,
        API_KEYS: `svc=${hashApiKey(keys.svc)},other=${hashApiKey(keys.other)}`,
        LOCAL_DATA_DIR: dataDir,
        PUBLIC_BASE_URL: 'http://127.0.0.1:7071',
        ...(azurite ? { AzureWebJobsStorage: azurite.connectionString } : {}),
        ...options.env,
      },
      log: createLogger((level, line) => lines.push(`${level} ${line}`)),
      credentials: {
        secretStore: vaultStore(vault),
        tokenEndpoint: { retryBaseMs: 10, retryBudgetMs: 2_000, attemptTimeoutMs: 500 },
        tokenManager: { lockPollMs: 20, persistRetryBaseMs: 20, recentRefreshMs: 300 },
      },
    });
  const app = makeApp();
  const host = await startLocalHost({
    registrations: hostRegistrations(app),
    storage: app.services.storage,
    runQueues: false,
    log: (line) => lines.push(line),
  });
  return {
    sandbox,
    vault,
    azurite,
    lines,
    keys,
    makeApp,
    app,
    host,
    api: (pathAndQuery, init = {}) => {
      const { serviceId = 'svc', headers, ...rest } = init;
      return fetch(`${host.url}${pathAndQuery}`, {
        ...rest,
        headers: {
          'x-api-key': keys[serviceId as keyof typeof keys],
          ...(headers as Record<string, string> | undefined),
        },
      });
    },
    async issueRefreshToken(upn) {
      const tokens = await sandbox.control.issueTokens(upn ?? sandbox.users[0]!.userPrincipalName, {
        scopes: DEFAULT_SCOPES,
      });
      return tokens.refresh_token!;
    },
    async close() {
      await host.close();
      await sandbox.close();
      await vault.close();
      await azurite?.stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** Token endpoint calls the sandbox saw. */
export function tokenCalls(sandbox: Sandbox): number {
  return sandbox.control.requestLog().filter((e) => e.path.endsWith('/oauth2/v2.0/token')).length;
}
