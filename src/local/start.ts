/**
 * The whole product on this machine with zero configuration (what `npm start` runs). With no
 * CLIENT_ID it starts the Graph sandbox and points the app at it; with no AzureWebJobsStorage it
 * starts Azurite; with no API_KEYS it makes a dev key. Browser tests start it the same way.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

import { type AppContext, createApp } from '../app';
import { hashApiKey } from '../config';
import { ConfigError } from '../core/errors';
import { hostRegistrations } from '../registration';
import { startAzurite } from './azurite';
import { startLocalHost } from './host';
import { type Sandbox, startSandbox } from './sandbox';

export interface LocalProduct {
  url: string;
  app: AppContext;
  sandbox: Sandbox | undefined;
  /** The dev API key (service `dev`), when API_KEYS was not given. */
  apiKey: string | undefined;
  /** The start-up banner: where everything runs and curl lines to try. */
  banner: string;
  stop(): Promise<void>;
}

/** A dev API key that survives restarts, so a pasted curl line keeps working. */
function devApiKey(dataDir: string): string {
  const file = path.join(dataDir, 'dev-api-key');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  mkdirSync(dataDir, { recursive: true });
  const key = `dev-${randomBytes(18).toString('base64url')}`;
  writeFileSync(file, `${key}\n`, { mode: 0o600 });
  return key;
}

export async function startLocalProduct(options: {
  env: Record<string, string | undefined>;
  projectDir: string;
}): Promise<LocalProduct> {
  const env = { ...options.env };
  const port = Number(env.PORT ?? 7071);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    throw new ConfigError([{ path: 'PORT', message: 'must be a port number (0-65535)' }]);
  }
  const baseUrl = `http://127.0.0.1:${port}`;
  const stops: Array<() => Promise<void>> = [];
  const stop = async () => {
    for (const s of stops) await s().catch(() => undefined);
  };
  const lines: string[] = [];
  try {
    let sandbox: Sandbox | undefined;
    if (!env.CLIENT_ID) {
      sandbox = await startSandbox({ port: Number(env.SANDBOX_PORT ?? 0) });
      const started = sandbox;
      stops.push(() => started.close());
      Object.assign(env, sandbox.appSettings);
      lines.push(
        `Graph sandbox:   ${sandbox.url} (mailboxes: ${sandbox.users.map((u) => u.userPrincipalName).join(', ')})`,
      );
    }
    if (!env.AzureWebJobsStorage && !env.AzureWebJobsStorage__accountName) {
      const azurite = await startAzurite();
      stops.push(() => azurite.stop());
      env.AzureWebJobsStorage = azurite.connectionString;
      lines.push(
        `Azurite:         blob ${azurite.ports.blob}, queue ${azurite.ports.queue}, table ${azurite.ports.table}`,
      );
    }
    let apiKey: string | undefined;
    if (!env.API_KEYS) {
      apiKey = devApiKey(path.resolve(options.projectDir, env.LOCAL_DATA_DIR ?? '.local'));
      env.API_KEYS = `dev=${hashApiKey(apiKey)}`;
    }

    const app = createApp({ env, localBaseUrl: baseUrl, projectDir: options.projectDir });
    const tryLines: string[] = [];
    if (sandbox && apiKey) {
      // Zero configuration means a mailbox to explore at once: connect the sandbox's first user.
      const demo = { serviceId: 'dev', credentialId: 'demo' };
      const user = sandbox.users[0]!;
      const tokens = await sandbox.control.issueTokens(user.userPrincipalName, {
        scopes: [...app.config.scopes],
      });
      await app.services.credentials.importRecord(demo, {
        refreshToken: tokens.refresh_token!,
        scopes: [...app.config.scopes],
      });
      const curl = `curl -H 'x-api-key: ${apiKey}'`;
      tryLines.push(
        `  ${curl} '${baseUrl}/api/credentials/demo/folders?recursive=true'`,
        `  ${curl} '${baseUrl}/api/credentials/demo/messages?folder=inbox&unread=true&top=5'`,
        `  ${curl} -H 'content-type: application/json' -d '{"to":"${sandbox.users[1]?.userPrincipalName ?? user.userPrincipalName}","subject":"Hello","body":"Hi from the sandbox"}' ${baseUrl}/api/credentials/demo/send`,
        `  connect another mailbox in a browser: ${curl} -i ${baseUrl}/api/credentials/mine/connect  (open the Location)`,
      );
      lines.push(
        `Demo credential: 'demo' (service 'dev') is connected to ${user.userPrincipalName}`,
      );
    }
    const host = await startLocalHost({
      registrations: hostRegistrations(app),
      port,
      storage: app.services.storage,
    });
    stops.unshift(() => host.close());

    const functions = app.functions
      .filter((f) => f.name !== 'fallback')
      .map((f) =>
        f.kind === 'http'
          ? `${f.methods.join('|')} /api/${f.route}`
          : `${f.kind} ${f.name} (POST /admin/functions/${f.name})`,
      );
    const banner = [
      '',
      `outlook-mail-functions is running at ${host.url}`,
      ...lines,
      '',
      'Functions:',
      ...functions.map((f) => `  ${f}`),
      '',
      'Try it:',
      `  curl ${host.url}/api/health`,
      ...(apiKey ? [`  curl -H 'x-api-key: ${apiKey}' ${host.url}/api/credentials`] : []),
      ...tryLines,
      '',
    ].join('\n');
    return { url: host.url, app, sandbox, apiKey, banner, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
