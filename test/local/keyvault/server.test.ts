import { describe, expect, it } from 'vitest';

import { secretClientFor, startKeyVaultServer } from '../../support/keyvault-client';
import { useStack } from '../../support/use-stack';

const vault = useStack(() => startKeyVaultServer({ pageSize: 5 }));

const status = (e: unknown) => (e as { statusCode?: number }).statusCode;
const code = (e: unknown) => (e as { code?: string }).code;

describe('local Key Vault endpoint with the real SecretClient', () => {
  it('answers 401 with a challenge until a Bearer token arrives, over TLS with the api-version', async () => {
    const client = secretClientFor(vault);
    vault.control.clearRequestLog();
    const set = await client.setSecret('first', 'v1', {
      tags: { a: 'b' },
      contentType: 'text/plain',
    });
    expect(set.value).toBe('v1');
    expect(set.properties.tags).toEqual({ a: 'b' });
    const log = vault.control.requestLog();
    expect(log[0]).toMatchObject({ method: 'PUT', status: 401, authorized: false });
    expect(log[1]).toMatchObject({ method: 'PUT', status: 200, authorized: true });
    expect(log[1]!.apiVersion).toMatch(/^\d{4}-\d{2}-\d{2}$|^7\.\d$/);
    expect(vault.url.startsWith('https://')).toBe(true);
    expect((await client.getSecret('first')).value).toBe('v1');
    expect((await client.getSecret('FIRST')).value).toBe('v1'); // names are case-insensitive
  });

  it('keeps versions, pages them with nextLink, and disables one by PATCH', async () => {
    const client = secretClientFor(vault);
    const versions: string[] = [];
    for (let i = 0; i < 12; i++)
      versions.push((await client.setSecret('many', `v${i}`)).properties.version!);
    vault.control.clearRequestLog();
    const listed: string[] = [];
    for await (const p of client.listPropertiesOfSecretVersions('many')) listed.push(p.version!);
    expect(listed).toEqual(versions);
    expect(vault.control.requestLog().filter((e) => e.path.endsWith('/versions')).length).toBe(3);
    expect((await client.getSecret('many', { version: versions[3]! })).value).toBe('v3');
    expect((await client.getSecret('many')).value).toBe('v11');
    await client.updateSecretProperties('many', versions[3]!, {
      enabled: false,
      tags: { old: '1' },
    });
    const error = await client
      .getSecret('many', { version: versions[3]! })
      .catch((e: unknown) => e);
    expect(status(error)).toBe(403);
  });

  it('soft-deletes: the name cannot be reused (409) until recovered or purged', async () => {
    const client = secretClientFor(vault);
    await client.setSecret('gone', 'v1');
    const poller = await client.beginDeleteSecret('gone');
    await poller.pollUntilDone();
    expect(status(await client.getSecret('gone').catch((e: unknown) => e))).toBe(404);
    expect((await client.getDeletedSecret('gone')).name).toBe('gone');
    const conflict = await client.setSecret('gone', 'v2').catch((e: unknown) => e);
    expect(status(conflict)).toBe(409);
    expect(code(conflict)).toBe('Conflict');
    const recover = await client.beginRecoverDeletedSecret('gone');
    await recover.pollUntilDone();
    expect((await client.getSecret('gone')).value).toBe('v1');
    await (await client.beginDeleteSecret('gone')).pollUntilDone();
    await client.purgeDeletedSecret('gone');
    expect((await client.setSecret('gone', 'v3')).value).toBe('v3');
  });

  it('injects throttling and faults', async () => {
    const client = secretClientFor(vault);
    vault.control.injectFault({
      method: 'GET',
      path: '/secrets/first',
      status: 429,
      retryAfterSeconds: 2,
    });
    const throttled = await client.getSecret('first').catch((e: unknown) => e);
    expect(status(throttled)).toBe(429);
    expect(code(throttled)).toBe('Throttled');
    expect((await client.getSecret('first')).value).toBe('v1');
  });

  it('rejects invalid names and values over 25 KB', async () => {
    const client = secretClientFor(vault);
    expect(
      status(await client.setSecret('big', 'x'.repeat(25 * 1024 + 1)).catch((e: unknown) => e)),
    ).toBe(400);
    expect(status(await client.getSecret('no_underscore').catch((e: unknown) => e))).toBe(400);
  });

  it('lists secrets (latest properties, no values) across pages', async () => {
    const client = secretClientFor(vault);
    const names: string[] = [];
    for await (const p of client.listPropertiesOfSecrets()) names.push(p.name);
    expect(names).toEqual(expect.arrayContaining(['first', 'many', 'gone']));
  });
});
