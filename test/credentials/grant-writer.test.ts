import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { describe, expect, it } from 'vitest';

import { ConflictError, UpstreamError } from '../../src/core/errors';
import { createFileDataKeyRing } from '../../src/credentials/data-key';
import { createGrantWriter } from '../../src/credentials/grant-writer';
import { createRecordRepository, secretNameFor } from '../../src/credentials/record';
import { type TokenResult } from '../../src/credentials/token-endpoint';
import { captureLog, fakeEndpoint, memoryStore } from '../support/credential-fakes';

const key = { serviceId: 'svc', credentialId: 'c1' };
/** A token response; `refreshToken: null` for one that carries none. */
function tokens(extra: { refreshToken?: null; grantedScopes?: string[] } = {}): TokenResult {
  return {
    accessToken: 'at-1',
    expiresAt: Date.now() + 3_600_000,
    ...(extra.refreshToken === null ? {} : { refreshToken: 'rt-1' }),
    grantedScopes: extra.grantedScopes ?? ['Mail.Read', 'offline_access'],
  };
}

async function setup() {
  const store = memoryStore();
  const repo = createRecordRepository(
    store,
    createFileDataKeyRing(await mkdtemp(path.join(tmpdir(), 'gw-'))),
  );
  const forgotten: unknown[] = [];
  const endpoint = fakeEndpoint();
  const { log, lines } = captureLog();
  const writer = createGrantWriter({
    repo,
    tokens: { forget: (k) => void forgotten.push(k) },
    endpoint: () => endpoint,
    log,
  });
  return { store, repo, writer, forgotten, lines };
}

describe('grant writer', () => {
  it('stores a new credential with the account from GET /me and drops the cached token', async () => {
    const { repo, writer, forgotten, lines } = await setup();
    const stored = await writer.write({
      key,
      tokens: tokens(),
      scopes: ['Mail.Read', 'offline_access'],
      mailbox: 'shared@contoso.example',
    });
    expect(stored).toMatchObject({ created: true, address: 'adele@contoso.example' });
    expect(stored.view.scopes).toEqual(['Mail.Read', 'offline_access']);
    const { record } = (await repo.read(key))!;
    expect(record).toMatchObject({
      refreshToken: 'rt-1',
      accessToken: 'at-1',
      mailbox: 'shared@contoso.example',
      account: { id: 'user-1', address: 'adele@contoso.example' },
    });
    expect(forgotten).toEqual([key]);
    expect(lines.join('\n')).not.toMatch(/rt-1|at-1/);
  });

  it('replaces a record, keeping its creation time and disabling the old version', async () => {
    const { store, repo, writer } = await setup();
    await writer.write({ key, tokens: tokens(), scopes: ['Mail.Read'] });
    const first = (await repo.read(key))!;
    const again = await writer.write({
      key,
      tokens: tokens({ refreshToken: null, grantedScopes: [] }),
      scopes: ['Mail.Read'],
      fallbackRefreshToken: 'rt-imported',
      signedIn: { id: 'user-2', address: 'bob@contoso.example', displayName: 'Bob' },
    });
    expect(again).toMatchObject({ created: false, address: 'bob@contoso.example' });
    const { record } = (await repo.read(key))!;
    expect(record.refreshToken).toBe('rt-imported');
    // Nothing granted said: the requested scopes stand in.
    expect(record.grantedScopes).toEqual(['Mail.Read']);
    expect(record.createdAt).toBe(first.record.createdAt);
    const versions = store.secrets.get(secretNameFor(key).toLowerCase())!;
    expect(versions.find((v) => v.version === first.version)?.enabled).toBe(false);
  });

  it('stores nothing without a refresh token', async () => {
    const { repo, writer } = await setup();
    const error = await writer
      .write({ key, tokens: tokens({ refreshToken: null }), scopes: [] })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UpstreamError);
    expect(await repo.read(key)).toBeUndefined();
  });

  it('refuses to overwrite a record it cannot decrypt, keeping it for investigation', async () => {
    const { store, writer, lines } = await setup();
    await writer.write({ key, tokens: tokens(), scopes: [] });
    const [version] = store.secrets.get(secretNameFor(key).toLowerCase())!;
    version!.value = `${version!.value.slice(0, -8)}AAAAAAAA`;
    const writes = store.writes;
    const error = await writer
      .write({ key, tokens: tokens(), scopes: [] })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConflictError);
    expect((error as Error).message).toContain('DELETE it');
    expect(store.writes).toBe(writes);
    expect(lines.some((l) => l.startsWith('error') && l.includes('cannot be decrypted'))).toBe(
      true,
    );
  });
});
