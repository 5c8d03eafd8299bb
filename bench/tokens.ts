/**
 * Token manager figures against the Graph sandbox's real token endpoint and the dev file store:
 * token endpoint calls for 100 concurrent requests on one expired credential (baseline: a naive
 * refresh per request), and the added latency of serving a cached token (baseline: a no-op).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { createLogger } from '../src/core/logger';
import { createFileDataKeyRing } from '../src/credentials/data-key';
import { createFileSecretStore } from '../src/credentials/file-store';
import { createRecordRepository } from '../src/credentials/record';
import { createTokenEndpoint } from '../src/credentials/token-endpoint';
import { createTokenManager } from '../src/credentials/token-manager';
import { type AccessGrant } from '../src/credentials/types';
import { startSandbox } from '../src/local/sandbox';
import { type BenchResult, median } from './result';
import { DEFAULT_SCOPES } from '../src/config';

const CONCURRENT = 100;
const CACHED_CALLS = 20_000;

export async function benchTokens(): Promise<BenchResult[]> {
  const sandbox = await startSandbox({ messagesPerUser: 1 });
  const dir = await mkdtemp(path.join(tmpdir(), 'bench-tokens-'));
  try {
    const log = createLogger(() => undefined);
    const endpoint = createTokenEndpoint({
      authorityHost: sandbox.url,
      tenantId: sandbox.tenantId,
      clientId: sandbox.clientId,
      credential: { kind: 'secret', secret: sandbox.clientSecret },
      graphBaseUrl: sandbox.url,
      log,
    });
    const repo = createRecordRepository(
      createFileSecretStore({ dir, isProduction: false }),
      createFileDataKeyRing(dir),
    );
    const upn = sandbox.users[0]!.userPrincipalName;
    const key = { serviceId: 'bench', credentialId: 'c1' };
    const tokenCalls = () =>
      sandbox.control.requestLog().filter((e) => e.path.endsWith('/oauth2/v2.0/token')).length;
    const issued = await sandbox.control.issueTokens(upn, { scopes: DEFAULT_SCOPES });
    const now = Date.now();
    // An expired credential: a stored refresh token, no usable access token.
    await repo.write({
      ...key,
      clientId: sandbox.clientId,
      tenantId: sandbox.tenantId,
      scopes: DEFAULT_SCOPES,
      account: { id: 'u', address: upn, displayName: upn },
      refreshToken: issued.refresh_token!,
      accessToken: issued.access_token,
      accessTokenExpiresAt: now - 1_000,
      status: 'active',
      createdAt: now,
      rotatedAt: now,
    });

    const tokens = createTokenManager({ repo, endpoint, log });
    let before = tokenCalls();
    await Promise.all(Array.from({ length: CONCURRENT }, () => tokens.getAccessToken(key)));
    const managed = tokenCalls() - before;

    // Baseline: every request refreshes on its own.
    before = tokenCalls();
    const refreshToken = (await repo.read(key))!.record.refreshToken;
    await Promise.all(
      Array.from({ length: CONCURRENT }, () => endpoint.refresh(refreshToken, DEFAULT_SCOPES)),
    );
    const naive = tokenCalls() - before;

    // Cached-token latency vs a no-op async call returning the same grant.
    const grant = await tokens.getAccessToken(key);
    const noop = (): Promise<AccessGrant> => Promise.resolve(grant);
    const perCallUs = async (fn: () => Promise<unknown>) => {
      const rounds: number[] = [];
      for (let r = 0; r < 5; r++) {
        const start = process.hrtime.bigint();
        for (let i = 0; i < CACHED_CALLS; i++) await fn();
        rounds.push(Number(process.hrtime.bigint() - start) / 1_000 / CACHED_CALLS);
      }
      return median(rounds);
    };
    await perCallUs(() => tokens.getAccessToken(key)); // warm-up
    const cached = await perCallUs(() => tokens.getAccessToken(key));
    const baseline = await perCallUs(noop);
    tokens.close();
    return [
      {
        name: `token endpoint calls, ${CONCURRENT} concurrent requests on one expired credential`,
        value: managed,
        unit: 'calls',
        baseline: naive,
        baselineName: 'naive refresh per request',
      },
      {
        name: 'cached-token request',
        value: cached,
        unit: 'µs/call',
        baseline,
        baselineName: 'no-op async call',
      },
    ];
  } finally {
    await sandbox.close();
    await rm(dir, { recursive: true, force: true });
  }
}
