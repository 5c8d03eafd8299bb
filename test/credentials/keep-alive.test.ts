import { describe, expect, it } from 'vitest';

import { ReauthRequiredError, UpstreamError } from '../../src/core/errors';
import { keepAlive, type KeepAliveOptions } from '../../src/credentials/keep-alive';
import { type CredentialKey, type CredentialMeta } from '../../src/credentials/types';
import { captureLog } from '../support/credential-fakes';

const DAY = 24 * 60 * 60_000;
const NOW = Date.UTC(2026, 5, 1);
const meta = (credentialId: string, extra: Partial<CredentialMeta> = {}): CredentialMeta => ({
  serviceId: 'svc',
  credentialId,
  status: 'active',
  ...extra,
});

function setup(metas: CredentialMeta[], failures: Record<string, Error> = {}) {
  const refreshed: CredentialKey[] = [];
  const { log, lines } = captureLog();
  let pruned = 0;
  const options: KeepAliveOptions = {
    repo: { list: () => Promise.resolve(metas) },
    tokens: {
      getAccessToken: (key, opts) => {
        expect(opts).toEqual({ forceRefresh: true });
        const failure = failures[key.credentialId];
        if (failure) return Promise.reject(failure);
        refreshed.push(key);
        return Promise.resolve({ accessToken: 'at', expiresAt: NOW + 3_600_000 } as never);
      },
    },
    idleDays: 30,
    connectUrlFor: (id) => `https://app.example/connect/${id}`,
    prune: () => (pruned++, Promise.reject(new Error('table down'))),
    log,
  };
  return { options, refreshed, lines, pruned: () => pruned };
}

describe('credential keep-alive', () => {
  it('refreshes only credentials idle for the window, by their latest activity', async () => {
    const { options, refreshed } = setup([
      meta('recent', { lastRefreshedAt: NOW - 29 * DAY, createdAt: NOW - 400 * DAY }),
      meta('idle', { lastRefreshedAt: NOW - 31 * DAY }),
      meta('rotated', { rotatedAt: NOW - 10 * DAY, createdAt: NOW - 90 * DAY }),
      meta('never'),
    ]);
    const summary = await keepAlive(options, { now: NOW });
    expect(refreshed.map((k) => k.credentialId)).toEqual(['idle', 'never']);
    expect(summary).toEqual({ checked: 4, refreshed: 2, failed: [], reauthRequired: [] });
    const short = setup([meta('recent', { lastRefreshedAt: NOW - 2 * DAY })]);
    expect((await keepAlive(short.options, { now: NOW, idleDays: 1 })).refreshed).toBe(1);
  });

  it('names credentials to reconnect with their link, counts failures, and goes on', async () => {
    const { options, lines, pruned } = setup(
      [
        meta('stored-reauth', { status: 'reauth_required' }),
        meta('revoked'),
        meta('down'),
        meta('ok'),
      ],
      {
        revoked: new ReauthRequiredError('revoked'),
        down: new UpstreamError('graph_unavailable', 'down'),
      },
    );
    const summary = await keepAlive(options, { now: NOW });
    expect(summary).toEqual({
      checked: 4,
      refreshed: 1,
      failed: [{ serviceId: 'svc', credentialId: 'down', code: 'graph_unavailable' }],
      reauthRequired: [
        { serviceId: 'svc', credentialId: 'stored-reauth' },
        { serviceId: 'svc', credentialId: 'revoked' },
      ],
    });
    const text = lines.join('\n');
    expect(text).toContain('https://app.example/connect/stored-reauth');
    expect(text).toContain('https://app.example/connect/revoked');
    // Housekeeping failing is a warning, not a failed keep-alive.
    expect(pruned()).toBe(1);
    expect(lines.some((l) => l.startsWith('warn') && l.includes('prune'))).toBe(true);
  });
});
