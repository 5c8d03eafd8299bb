import { describe, expect, it } from 'vitest';

import { createApp } from '../src/app';
import { hashApiKey } from '../src/config';
import { startLocalHost } from '../src/local/host';
import { hostRegistrations } from '../src/registration';

const env = {
  CLIENT_ID: '11111111-2222-3333-4444-555555555555',
  GRAPH_BASE_URL: 'http://127.0.0.1:9',
  AUTHORITY_HOST: 'http://127.0.0.1:9',
};

describe('composition root', () => {
  it('reports a Key Vault reference the platform could not resolve', async () => {
    const app = createApp({
      env: {
        ...env,
        CLIENT_SECRET: '@Microsoft.KeyVault(SecretUri=https://kv.vault.azure.net/secrets/x)',
      },
      localBaseUrl: 'http://127.0.0.1:7071',
    });
    const report = await app.services.health.report();
    expect(report.status).toBe('degraded');
    expect(report.checks.appRegistration).toMatchObject({
      ok: false,
      detail: expect.stringMatching(/did not resolve/),
    });
  });

  it('registers every function under a unique name and route', () => {
    const app = createApp({
      env: { ...env, CLIENT_SECRET: 's' },
      localBaseUrl: 'http://127.0.0.1:7071',
    });
    const names = app.functions.map((f) => f.name);
    expect(new Set(names).size).toBe(names.length);
    const routes = app.functions.flatMap((f) =>
      f.kind === 'http' ? f.methods.map((m) => `${m} ${f.route}`) : [],
    );
    expect(new Set(routes).size).toBe(routes.length);
  });

  it('answers the same 503 store_unavailable wherever storage is needed but not configured', async () => {
    const apiKey = 'app-test-key-0123456789';
    const report = {
      id: 'weekly',
      serviceId: 'crm',
      credentialId: 'c1',
      recipients: ['boss@contoso.test'],
      title: 'Weekly',
    };
    const app = createApp({
      env: {
        ...env,
        CLIENT_SECRET: 's',
        API_KEYS: `crm=${hashApiKey(apiKey)}`,
        REPORTS: JSON.stringify([report]),
      },
      localBaseUrl: 'http://127.0.0.1:7071',
    });
    const host = await startLocalHost({ registrations: hostRegistrations(app), log: () => {} });
    try {
      // Report runs (via the composition root), templates (via the mail layer) and new-mail
      // subscriptions (via the notifications room) need storage.
      for (const [method, path] of [
        ['POST', '/api/reports/weekly/run'],
        ['GET', '/api/templates'],
        ['GET', '/api/credentials/c1/subscriptions'],
      ] as const) {
        const response = await fetch(`${host.url}${path}`, {
          method,
          headers: { 'x-api-key': apiKey },
        });
        expect(response.status, path).toBe(503);
        expect(await response.json()).toMatchObject({
          code: 'store_unavailable',
          detail: expect.stringMatching(/need AzureWebJobsStorage, which is not configured/),
        });
      }
    } finally {
      await host.close();
    }
  });
});
