import { createDecipheriv } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { KeyClient } from '@azure/keyvault-keys';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createApp } from '../../src/app';
import { DATA_KEY_SECRET } from '../../src/credentials/data-key';
import { open, RecordUnreadableError, seal } from '../../src/credentials/envelope';
import { createKeyVaultKeyWrapper, type KeyWrapper } from '../../src/credentials/key-wrap';
import { secretNameFor } from '../../src/credentials/record';
import { type Sandbox } from '../../src/local/sandbox';
import { startTestSandbox } from '../support/sandbox';
import { vaultStore } from '../support/credential-harness';
import {
  fakeAzureCredential,
  type LocalKeyVault,
  secretClientFor,
  startKeyVaultServer,
} from '../support/keyvault-client';
import { DEFAULT_SCOPES } from '../../src/config';

/**
 * Issue #14 finding 8: the data keys are wrapped by a Key Vault key (RSA-OAEP-256, the real
 * CryptographyClient against the local endpoint), so someone who can read every secret still
 * cannot decrypt a refresh token; records written before keep working and move to a wrapped key
 * on their next write; envelopes accept only full 16-byte tags.
 */
const KEY_NAME = 'credential-data-keys';
let sandbox: Sandbox;
let dataDir: string;

beforeAll(async () => {
  sandbox = await startTestSandbox({ messagesPerUser: 1 });
  dataDir = await mkdtemp(path.join(tmpdir(), 'omf-keywrap-'));
});
afterAll(async () => {
  await sandbox?.close();
  await rm(dataDir, { recursive: true, force: true });
});

async function vaultWithKey(): Promise<{ vault: LocalKeyVault; wrapper: KeyWrapper }> {
  const vault = await startKeyVaultServer();
  const keys = new KeyClient(vault.url, fakeAzureCredential, {
    agent: vault.agent!,
    disableChallengeResourceVerification: true,
  });
  await keys.createRsaKey(KEY_NAME, { keySize: 2048, keyOps: ['wrapKey', 'unwrapKey'] });
  const wrapper = createKeyVaultKeyWrapper({
    vaultUrl: vault.url,
    keyName: KEY_NAME,
    credential: fakeAzureCredential,
    clientOptions: { agent: vault.agent! },
  });
  return { vault, wrapper };
}

function appOn(vault: LocalKeyVault, wrapper?: KeyWrapper) {
  return createApp({
    env: { ...sandbox.appSettings, LOCAL_DATA_DIR: dataDir },
    localBaseUrl: 'http://127.0.0.1:7071',
    credentials: {
      secretStore: vaultStore(vault),
      ...(wrapper ? { keyWrapper: wrapper } : {}),
      tokenManager: { recentRefreshMs: 1 }, // a forced refresh always refreshes (and writes)
    },
  });
}

async function importAs(app: ReturnType<typeof appOn>, credentialId: string) {
  const tokens = await sandbox.control.issueTokens(sandbox.users[0]!.userPrincipalName, {
    scopes: DEFAULT_SCOPES,
  });
  await app.services.credentials.importRecord(
    { serviceId: 'svc', credentialId },
    { refreshToken: tokens.refresh_token!, scopes: DEFAULT_SCOPES },
  );
}

/**
 * The attack: a principal with secrets-read only (no key operations) takes the data key ring and
 * a record from the vault and tries every key the ring holds. Returns the plaintext if any works.
 */
async function decryptWithSecretsOnly(vault: LocalKeyVault, credentialId: string) {
  const secrets = secretClientFor(vault);
  const ring = JSON.parse((await secrets.getSecret(DATA_KEY_SECRET)).value!) as {
    keys: Array<{ id: string; key?: string; wrapped?: string }>;
  };
  const record = (await secrets.getSecret(secretNameFor({ serviceId: 'svc', credentialId })))
    .value!;
  const envelope = JSON.parse(record) as { kid: string; iv: string; ct: string; tag: string };
  const aad = `outlook-mail-functions/credential/v1\u0000svc\u0000${credentialId}`;
  for (const k of ring.keys) {
    for (const candidate of [k.key, k.wrapped]) {
      if (!candidate) continue;
      const raw = Buffer.from(candidate, k.key ? 'base64' : 'base64url');
      if (raw.length !== 32) continue;
      try {
        const d = createDecipheriv('aes-256-gcm', raw, Buffer.from(envelope.iv, 'base64url'));
        d.setAAD(Buffer.from(aad));
        d.setAuthTag(Buffer.from(envelope.tag, 'base64url'));
        return Buffer.concat([
          d.update(Buffer.from(envelope.ct, 'base64url')),
          d.final(),
        ]).toString();
      } catch {
        // not this key
      }
    }
  }
  return undefined;
}

describe('data keys wrapped by a Key Vault key (issue #14, finding 8)', () => {
  it('reading every secret does not decrypt a refresh token', async () => {
    const { vault, wrapper } = await vaultWithKey();
    try {
      const app = appOn(vault, wrapper);
      await importAs(app, 'wrapped');
      expect(await decryptWithSecretsOnly(vault, 'wrapped')).toBeUndefined();
      const ring = (await secretClientFor(vault).getSecret(DATA_KEY_SECRET)).value!;
      expect(ring).not.toMatch(/"key":/);
      expect(ring).toContain(`/keys/${KEY_NAME}/`);
      // Another instance (its own caches) unwraps through the vault and reads the record.
      const grant = await appOn(vault, wrapper).services.tokens.getAccessToken({
        serviceId: 'svc',
        credentialId: 'wrapped',
      });
      expect(grant.account.address).toBe(sandbox.users[0]!.userPrincipalName);
      const ops = vault.control.requestLog().filter((e) => /\/(un)?wrapkey$/.test(e.path));
      expect(ops.some((e) => e.path.endsWith('/wrapkey') && e.status === 200)).toBe(true);
      expect(ops.some((e) => e.path.endsWith('/unwrapkey') && e.status === 200)).toBe(true);
    } finally {
      await vault.close();
    }
  });

  it('keeps reading records of the unwrapped scheme and re-wraps them on the next write', async () => {
    const { vault, wrapper } = await vaultWithKey();
    try {
      await importAs(appOn(vault), 'legacy'); // before KEY_VAULT_KEY_NAME was set
      expect(await decryptWithSecretsOnly(vault, 'legacy')).toContain('refreshToken');
      const secrets = secretClientFor(vault);
      const rawVersions: string[] = [];
      for await (const p of secrets.listPropertiesOfSecretVersions(DATA_KEY_SECRET)) {
        rawVersions.push(p.version!);
      }

      const app = appOn(vault, wrapper);
      const key = { serviceId: 'svc', credentialId: 'legacy' };
      const before = await app.services.tokens.getAccessToken(key);
      expect(before.account.address).toBe(sandbox.users[0]!.userPrincipalName);
      // The ring versions that held raw keys are disabled.
      for (const version of rawVersions) {
        await expect(secrets.getSecret(DATA_KEY_SECRET, { version })).rejects.toMatchObject({
          statusCode: 403,
        });
      }
      const kid = () =>
        (JSON.parse(vault.control.rawValue(secretNameFor(key))!) as { kid: string }).kid;
      const legacyKid = kid();
      await app.services.tokens.getAccessToken(key, { forceRefresh: true }); // the next write
      expect(kid()).not.toBe(legacyKid);
      expect(await decryptWithSecretsOnly(vault, 'legacy')).toBeUndefined();
      const after = await appOn(vault, wrapper).services.tokens.getAccessToken(key);
      expect(after.accessToken).not.toBe(before.accessToken);
    } finally {
      await vault.close();
    }
  });

  it('refuses an envelope whose authentication tag was truncated', async () => {
    const key = { id: 'k1', key: Buffer.alloc(32, 7) };
    const sealed = JSON.parse(seal('{"refreshToken":"x"}', 'aad', key)) as { tag: string };
    const short = JSON.stringify({
      ...sealed,
      tag: Buffer.from(sealed.tag, 'base64url').subarray(0, 4).toString('base64url'),
    });
    await expect(open(short, 'aad', () => Promise.resolve(key))).rejects.toBeInstanceOf(
      RecordUnreadableError,
    );
  });
});
