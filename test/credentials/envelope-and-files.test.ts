import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { describe, expect, it } from 'vitest';

import { ConfigError } from '../../src/core/errors';
import { createAppKeys, createFileDataKeyRing } from '../../src/credentials/data-key';
import { open, RecordUnreadableError, seal } from '../../src/credentials/envelope';
import { createFileSecretStore } from '../../src/credentials/file-store';
import { createRecordRepository, secretNameFor } from '../../src/credentials/record';

const tmp = () => mkdtemp(path.join(tmpdir(), 'cred-unit-'));

describe('envelope', () => {
  const key = { id: 'k1', key: randomBytes(32) };
  const find = (id: string) => Promise.resolve(id === 'k1' ? key : undefined);

  it('round-trips and binds the associated data', async () => {
    const sealed = seal('{"a":1}', 'svc/c1', key);
    expect(await open(sealed, 'svc/c1', find)).toBe('{"a":1}');
    await expect(open(sealed, 'svc/c2', find)).rejects.toBeInstanceOf(RecordUnreadableError);
  });

  it('detects tampering and unknown keys', async () => {
    const env = JSON.parse(seal('secret', 'x', key)) as { ct: string; kid: string };
    const flipped = {
      ...env,
      ct: Buffer.from(
        Buffer.from(env.ct, 'base64url').map((b, i) => (i === 0 ? b ^ 1 : b)),
      ).toString('base64url'),
    };
    await expect(open(JSON.stringify(flipped), 'x', find)).rejects.toBeInstanceOf(
      RecordUnreadableError,
    );
    await expect(open(JSON.stringify({ ...env, kid: 'k9' }), 'x', find)).rejects.toThrow(
      /not known/,
    );
    await expect(open('not json', 'x', find)).rejects.toBeInstanceOf(RecordUnreadableError);
  });
});

describe('secret names', () => {
  it('are valid Key Vault names, distinct per service and case', () => {
    const names = new Set(
      [
        ['a', 'bc'],
        ['ab', 'c'],
        ['svc', 'C1'],
        ['svc', 'c1'],
        ['SVC', 'c1'],
        ['x'.repeat(64), 'y'.repeat(64)],
      ].map(([serviceId, credentialId]) =>
        secretNameFor({ serviceId: serviceId!, credentialId: credentialId! }),
      ),
    );
    expect(names.size).toBe(6);
    for (const name of names) expect(name).toMatch(/^[0-9A-Za-z-]{1,127}$/);
  });
});

describe('file data key and file store (dev)', () => {
  it('creates data-key.json with mode 0600 and derives stable HMAC keys per purpose', async () => {
    const dir = await tmp();
    const ring = createFileDataKeyRing(dir);
    const first = await ring.current();
    const file = path.join(dir, 'data-key.json');
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect((await createFileDataKeyRing(dir).current()).id).toBe(first.id);
    const keys = createAppKeys(ring);
    const cursor = await keys.hmacKey('cursor');
    expect(cursor).toHaveLength(32);
    expect((await keys.hmacKey('cursor')).equals(cursor)).toBe(true);
    expect((await keys.hmacKey('oauth-state')).equals(cursor)).toBe(false);
    const rotated = await ring.rotate();
    expect(rotated.id).not.toBe(first.id);
    expect(await ring.find(first.id)).toBeDefined();
    expect(JSON.parse(await readFile(file, 'utf8'))).toMatchObject({ current: rotated.id });
  });

  it('stores encrypted records in 0600 files and refuses production', async () => {
    const dir = await tmp();
    const store = createFileSecretStore({ dir, isProduction: false });
    const repo = createRecordRepository(store, createFileDataKeyRing(dir));
    const now = Date.now();
    await repo.write({
      serviceId: 'svc',
      credentialId: 'c1',
      clientId: 'c',
      tenantId: 't',
      scopes: ['Mail.Read'],
      account: { id: 'u', address: 'a@b.example', displayName: 'A' },
      refreshToken: 'very-secret-refresh-token',
      status: 'active',
      createdAt: now,
      rotatedAt: now,
    });
    const file = path.join(
      dir,
      'secrets',
      `${secretNameFor({ serviceId: 'svc', credentialId: 'c1' })}.json`,
    );
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(await readFile(file, 'utf8')).not.toContain('very-secret-refresh-token');
    expect((await repo.list('svc')).map((m) => m.credentialId)).toEqual(['c1']);
    expect(await repo.list('other')).toEqual([]);
    expect(() => createFileSecretStore({ dir, isProduction: true })).toThrow(ConfigError);
  });
});
