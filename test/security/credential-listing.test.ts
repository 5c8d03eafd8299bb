import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  CREDENTIAL_INDEX_TABLE,
  createTableCredentialIndex,
} from '../../src/credentials/credential-index';
import { createSecretDataKeyRing } from '../../src/credentials/data-key';
import { createRecordRepository } from '../../src/credentials/record';
import { type CredentialRecord } from '../../src/credentials/types';
import { DEFAULT_SCOPES } from '../../src/config';
import { type Harness, startHarness, vaultStore } from '../support/credential-harness';
import { storageClientsFor } from '../support/storage';

/**
 * Issue #14, finding 9: `GET credentials` of one service must not page through every secret of
 * every service (Key Vault cannot filter a listing, and its request budget is the vault's, shared
 * by all services). Counted on the local Key Vault endpoint's request log.
 */

const MANY = 60; // the other service's credentials: three pages of 25

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ storage: true });
  // Records written before the index existed (as by the previous version), straight to the vault.
  const store = vaultStore(h.vault);
  const old = createRecordRepository(store, createSecretDataKeyRing(store));
  const now = Date.now();
  const record = (serviceId: string, credentialId: string): CredentialRecord => ({
    serviceId,
    credentialId,
    clientId: h.sandbox.clientId,
    tenantId: h.sandbox.tenantId,
    scopes: DEFAULT_SCOPES,
    account: {
      id: `id-${credentialId}`,
      address: `${credentialId}@contoso.test`,
      displayName: credentialId,
    },
    refreshToken: `refresh-${serviceId}-${credentialId}`,
    status: 'active',
    createdAt: now,
    rotatedAt: now,
  });
  for (let i = 0; i < MANY; i++) await old.write(record('other', `o${String(i).padStart(2, '0')}`));
  await old.write(record('svc', 'old1'));
}, 120_000);
afterAll(async () => {
  await h?.close();
});

const ids = async (serviceId: string) => {
  const response = await h.api('/api/credentials', { serviceId });
  expect(response.status).toBe(200);
  const body = (await response.json()) as { credentials: Array<{ credentialId: string }> };
  return body.credentials.map((c) => c.credentialId);
};
/** Pages of the vault's secret listing requested since the log was cleared. */
const listPages = () =>
  h.vault.control.requestLog().filter((e) => e.method === 'GET' && e.path === '/secrets').length;

describe("finding 9: one service's listing does not page through the others'", () => {
  it('reads the per-service index, no vault page, once the records written before it are in', async () => {
    // The first listing after the upgrade pages through the vault once to index the old records.
    h.vault.control.clearRequestLog();
    expect(await ids('svc')).toEqual(['old1']);
    expect(listPages()).toBeGreaterThanOrEqual(3);

    h.vault.control.clearRequestLog();
    for (let i = 0; i < 5; i++) expect(await ids('svc')).toEqual(['old1']);
    expect(await ids('other')).toHaveLength(MANY);
    expect(listPages()).toBe(0);
    // Not even a read of a secret: the listing comes from the index alone.
    expect(h.vault.control.requestLog()).toEqual([]);
  });

  it('another instance finds the index built', async () => {
    const other = h.makeApp();
    h.vault.control.clearRequestLog();
    const views = await other.services.credentials.list('svc');
    expect(views.map((v) => v.credentialId)).toEqual(['old1']);
    expect(listPages()).toBe(0);
  });

  it('keeps the index with every create, re-import and delete', async () => {
    const put = (id: string, upn: string) =>
      h.issueRefreshToken(upn).then((refreshToken) =>
        h.api(`/api/credentials/${id}`, {
          method: 'PUT',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ refreshToken, scopes: DEFAULT_SCOPES }),
        }),
      );
    const [first, second] = h.sandbox.users;
    expect((await put('new1', first!.userPrincipalName)).status).toBe(201);
    h.vault.control.clearRequestLog();
    expect(await ids('svc')).toEqual(['new1', 'old1']);
    expect(await ids('other')).not.toContain('new1');

    // Written again, the record's new tags are what the listing shows.
    expect((await put('new1', second!.userPrincipalName)).status).toBe(200);
    const views = await h.app.services.credentials.list('svc');
    expect(views.find((v) => v.credentialId === 'new1')?.account.address).toBe(
      second!.userPrincipalName,
    );

    expect((await h.api('/api/credentials/old1', { method: 'DELETE' })).status).toBe(204);
    expect(await ids('svc')).toEqual(['new1']);
    expect(await ids('other')).toHaveLength(MANY);
    expect(listPages()).toBe(0);
  });

  it('an operator-wide listing still sees every service (keep-alive, health)', async () => {
    const all = await h.app.services.credentials.keepAlive({ idleDays: 1_000 });
    expect(all.checked).toBe(MANY + 1);
  });

  const indexStorage = () => storageClientsFor(h.azurite!);

  it('a token rotation that reaches the index after a delete does not list the credential again', async () => {
    const index = createTableCredentialIndex(indexStorage());
    const tags = (rotatedAt: string) => ({
      kind: 'credential',
      serviceId: 'rotations',
      credentialId: 'rot1',
      rotatedAt,
    });
    const listed = async () =>
      (await index.list('rotations'))?.find((t) => t.credentialId === 'rot1')?.rotatedAt;
    await index.put(tags('1'));
    // A rotation of a live credential updates its entry.
    await index.put(tags('2'), { mustExist: true });
    expect(await listed()).toBe('2');
    // The rotation wrote the vault, then a delete removed the secret and wrote its tombstone,
    // then the rotation's index write arrived.
    await index.remove({ serviceId: 'rotations', credentialId: 'rot1' });
    await index.put(tags('3'), { mustExist: true });
    expect(await listed()).toBeUndefined();
    // A record from before the index (no entry) is indexed by its rotation.
    await index.put({ ...tags('4'), credentialId: 'rot2' }, { mustExist: true });
    expect((await index.list('rotations'))?.some((t) => t.credentialId === 'rot2')).toBe(true);
    // A new connection under the deleted id is listed again.
    await index.put(tags('5'));
    expect(await listed()).toBe('5');
  });

  it('a credential deleted while the index is being built does not come back', async () => {
    const storage = indexStorage();
    // As before the first build: no marker.
    await (await storage.table(CREDENTIAL_INDEX_TABLE)).deleteEntity('~index', 'built');
    const index = createTableCredentialIndex(storage);
    expect(await index.list('svc')).toBeUndefined();
    // The build listed the vault before `gone` was deleted; the delete reached the index first.
    const listedBefore = { kind: 'credential', serviceId: 'svc', credentialId: 'gone' };
    await index.remove({ serviceId: 'svc', credentialId: 'gone' });
    await index.build([listedBefore]);
    expect((await index.list('svc'))?.map((tags) => tags.credentialId)).toEqual(['new1']);
    // Connected again under the same id, it is listed.
    await index.put(listedBefore);
    expect((await index.list('svc'))?.map((tags) => tags.credentialId).sort()).toEqual([
      'gone',
      'new1',
    ]);
  });
});
