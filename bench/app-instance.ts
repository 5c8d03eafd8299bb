import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { type AppContext, createApp, type CreateAppOptions } from '../src/app';
import { DEFAULT_SCOPES, hashApiKey } from '../src/config';
import { createLogger } from '../src/core/logger';
import { type LocalHost, startLocalHost } from '../src/local/host';
import { type Sandbox } from '../src/local/sandbox';
import { hostRegistrations } from '../src/registration';

const API_KEY = 'bench-key';

/** One app instance for a benchmark: its composition root, local host and credential store. */
export interface BenchInstance {
  app: AppContext;
  host: LocalHost;
  /** JSON request to `/api/<path>` as the service `bench`. */
  api: (path: string, init?: RequestInit) => Promise<Response>;
  close(): Promise<void>;
}

export interface BenchInstanceOptions {
  /** AzureWebJobsStorage (Azurite's connection string). */
  storage: string;
  /** Extra settings. */
  env?: Record<string, string>;
  /** Serve on this port (webhooks need PUBLIC_BASE_URL before the app is built). */
  port?: number;
  app?: Pick<CreateAppOptions, 'bulk' | 'delivery'>;
}

/**
 * Starts the app against the sandbox and storage, with credential `c1` of the sandbox's first
 * user imported (one real refresh), and its local host.
 */
export async function startBenchInstance(
  sandbox: Sandbox,
  options: BenchInstanceOptions,
): Promise<BenchInstance> {
  const dir = await mkdtemp(path.join(tmpdir(), 'omf-bench-'));
  try {
    const app = createApp({
      ...options.app,
      env: {
        ...sandbox.appSettings,
        API_KEYS: `bench=${hashApiKey(API_KEY)}`,
        LOCAL_DATA_DIR: dir,
        AzureWebJobsStorage: options.storage,
        ...options.env,
      },
      localBaseUrl: `http://127.0.0.1:${options.port ?? 7071}`,
      log: createLogger(() => undefined),
    });
    const tokens = await sandbox.control.issueTokens(sandbox.users[0]!.userPrincipalName, {
      scopes: DEFAULT_SCOPES,
    });
    await app.services.credentials.importRecord(
      { serviceId: 'bench', credentialId: 'c1' },
      { refreshToken: tokens.refresh_token!, scopes: DEFAULT_SCOPES },
    );
    const host = await startLocalHost({
      ...(options.port ? { port: options.port } : {}),
      registrations: hostRegistrations(app),
      storage: app.services.storage,
      log: () => undefined,
    });
    return {
      app,
      host,
      api: (p, init = {}) =>
        fetch(`${host.url}/api/${p}`, {
          ...init,
          headers: { 'x-api-key': API_KEY, 'content-type': 'application/json' },
        }),
      close: async () => {
        await host.close();
        await rm(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}
