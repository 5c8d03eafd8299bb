import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { type AppContext, createApp, type CreateAppOptions } from '../../src/app';
import { DEFAULT_SCOPES, hashApiKey } from '../../src/config';
import { createLogger } from '../../src/core/logger';
import { type AzuriteInstance } from '../../src/local/azurite';
import { testStorage } from './storage';
import { type LocalHost, startLocalHost } from '../../src/local/host';
import { type Sandbox, type SandboxOptions } from '../../src/local/sandbox';
import { startTestSandbox } from './sandbox';
import { hostRegistrations } from '../../src/registration';
import { freePort } from './ports';

/** The whole product on loopback: Graph sandbox, Azurite, the app and the local host. */
export interface TestStack {
  sandbox: Sandbox;
  azurite: AzuriteInstance | undefined;
  app: AppContext;
  host: LocalHost;
  /** API keys by service id (`svc` and `other` by default). */
  apiKeys: Record<string, string>;
  /** fetch against the local host as a caller of `serviceId` (default `svc`). */
  api(pathAndQuery: string, init?: RequestInit & { serviceId?: string }): Promise<Response>;
  /** Imports a credential for a sandbox user through the credential service (one real refresh). */
  connect(
    credentialId: string,
    options?: { upn?: string; serviceId?: string; scopes?: string[]; mailbox?: string },
  ): Promise<void>;
  close(): Promise<void>;
}

export interface TestStackOptions {
  sandbox?: SandboxOptions;
  /** Extra or overriding settings. */
  env?: Record<string, string>;
  /** Start Azurite (default true). */
  storage?: boolean;
  services?: string[];
  /** Receives every log line of the app and the host (default: the console, host lines dropped). */
  log?: (line: string) => void;
  /** Serve on a port known before the app is built, so PUBLIC_BASE_URL reaches the host (webhooks). */
  reachable?: boolean;
  /** Extra app options (shrunk webhook retry timings). */
  app?: Pick<CreateAppOptions, 'delivery' | 'bulk' | 'sentCopies'>;
  /** Another instance of the app: the sandbox and storage of `stack` (left open by close()). */
  instanceOf?: TestStack;
}

/** What acting on a shared mailbox (`?mailbox=`) needs on top. */
export const SHARED_SCOPES = [...DEFAULT_SCOPES, 'Mail.ReadWrite.Shared', 'Mail.Send.Shared'];

export async function startTestStack(options: TestStackOptions = {}): Promise<TestStack> {
  const shared = options.instanceOf;
  const sandbox = shared?.sandbox ?? (await startTestSandbox(options.sandbox));
  const azurite = shared
    ? shared.azurite
    : options.storage === false
      ? undefined
      : await testStorage();
  const dataDir = await mkdtemp(path.join(tmpdir(), 'omf-test-'));
  const services = options.services ?? ['svc', 'other'];
  const apiKeys = Object.fromEntries(
    services.map((s) => [s, `key-${s}-${Math.random().toString(36).slice(2)}`]),
  );
  const port = options.reachable ? await freePort() : undefined;
  const app = createApp({
    ...options.app,
    env: {
      ...sandbox.appSettings,
      API_KEYS: services.map((s) => `${s}=${hashApiKey(apiKeys[s]!)}`).join(','),
      LOCAL_DATA_DIR: dataDir,
      ...(azurite ? { AzureWebJobsStorage: azurite.connectionString } : {}),
      ...options.env,
    },
    localBaseUrl: `http://127.0.0.1:${port ?? 7071}`,
    ...(options.log
      ? { log: createLogger((level, line) => options.log!(`${level} ${line}`), {}) }
      : {}),
  });
  const host = await startLocalHost({
    ...(port ? { port } : {}),
    registrations: hostRegistrations(app),
    storage: app.services.storage,
    log: options.log ?? (() => undefined),
  });
  return {
    sandbox,
    azurite,
    app,
    host,
    apiKeys,
    api: (pathAndQuery, init = {}) => {
      const { serviceId = 'svc', headers, ...rest } = init;
      return fetch(`${host.url}${pathAndQuery}`, {
        ...rest,
        headers: {
          'x-api-key': apiKeys[serviceId]!,
          ...(headers as Record<string, string> | undefined),
        },
      });
    },
    connect: async (credentialId, connectOptions = {}) => {
      const upn = connectOptions.upn ?? sandbox.users[0]!.userPrincipalName;
      const scopes = connectOptions.scopes ?? DEFAULT_SCOPES;
      const tokens = await sandbox.control.issueTokens(upn, { scopes });
      await app.services.credentials.importRecord(
        { serviceId: connectOptions.serviceId ?? 'svc', credentialId },
        {
          refreshToken: tokens.refresh_token!,
          scopes,
          ...(connectOptions.mailbox ? { mailbox: connectOptions.mailbox } : {}),
        },
      );
    },
    close: async () => {
      await host.close();
      if (!shared) {
        await sandbox.close();
        await azurite?.stop();
      }
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
