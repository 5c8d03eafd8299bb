import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { call, withSandbox } from '../../support/sandbox';
import { useStack } from '../../support/use-stack';

describe('control API over HTTP (/_sandbox)', () => {
  const sb = useStack(() => withSandbox({ messagesPerUser: 10 }));

  const ctl = async (
    method: string,
    path: string,
    body?: unknown,
  ): Promise<{ status: number; json: unknown }> => {
    const res = await fetch(`${sb.url}/_sandbox${path}`, {
      method,
      headers: { 'Content-Type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    return { status: res.status, json: text ? (JSON.parse(text) as unknown) : undefined };
  };

  it('drives tokens, faults, limits, grants, mailboxes and the request log', async () => {
    const info = (await ctl('GET', '/info')).json as {
      tenantId: string;
      users: Array<{ userPrincipalName: string }>;
    };
    expect(info.tenantId).toBe(sb.tenantId);
    expect(info.users.map((u) => u.userPrincipalName)).toContain('support@contoso.test');
    const tokens = (
      await ctl('POST', '/tokens', {
        upn: 'megan@contoso.test',
        scopes: 'User.Read Mail.ReadWrite Mail.ReadWrite.Shared offline_access',
      })
    ).json as { access_token: string; refresh_token: string };
    expect(tokens.refresh_token).toBeTruthy();
    expect((await ctl('POST', '/faults', { path: '/v1.0/me', status: 503, count: 1 })).status).toBe(
      204,
    );
    expect((await call(sb, tokens.access_token, 'GET', '/v1.0/me')).status).toBe(503);
    expect((await call(sb, tokens.access_token, 'GET', '/v1.0/me')).status).toBe(200);
    expect((await ctl('PATCH', '/limits', { requestsPerWindow: 2 })).json).toMatchObject({
      requestsPerWindow: 2,
    });
    await ctl('PATCH', '/limits', { requestsPerWindow: 10_000 });
    expect(
      (await call(sb, tokens.access_token, 'GET', '/v1.0/users/adele@contoso.test/messages'))
        .status,
    ).toBe(403);
    expect(
      (
        await ctl('POST', '/grants', {
          user: 'megan@contoso.test',
          target: 'adele@contoso.test',
          fullAccess: true,
        })
      ).status,
    ).toBe(204);
    expect(
      (await call(sb, tokens.access_token, 'GET', '/v1.0/users/adele@contoso.test/messages'))
        .status,
    ).toBe(200);
    const added = (
      await ctl('POST', '/mailboxes/megan%40contoso.test/messages?folder=Inbox%2FProjects%2F2026', {
        subject: 'seeded over http',
        receivedDateTime: '2026-01-02T03:04:05Z',
      })
    ).json as { id: string };
    const listed = (
      await ctl('GET', '/mailboxes/megan@contoso.test/messages?folder=Inbox/Projects/2026')
    ).json as Array<{ id: string; receivedDateTime: string }>;
    expect(listed.find((m) => m.id === added.id)).toMatchObject({
      receivedDateTime: '2026-01-02T03:04:05Z',
    });
    const folders = (await ctl('GET', '/mailboxes/megan@contoso.test/folders')).json as Array<{
      path: string;
    }>;
    expect(folders.map((f) => f.path)).toEqual(
      expect.arrayContaining(['Inbox/Projects/2026', 'Inbox/Receipts\\/Invoices']),
    );
    const log = (await ctl('GET', '/requests')).json as Array<{ path: string }>;
    expect(log.some((e) => e.path === '/v1.0/users/adele@contoso.test/messages')).toBe(true);
    expect(JSON.stringify(log)).not.toContain(tokens.access_token);
    await ctl('DELETE', '/requests');
    expect((await ctl('GET', '/requests')).json).toEqual([]);
    expect((await ctl('POST', '/revoke', { user: 'megan@contoso.test' })).status).toBe(204);
    const refreshed = await fetch(`${sb.url}/${sb.tenantId}/oauth2/v2.0/token`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'refresh_token',
        refresh_token: tokens.refresh_token,
        client_id: sb.clientId,
        client_secret: sb.clientSecret,
      }).toString(),
    });
    expect(((await refreshed.json()) as { error_codes: number[] }).error_codes).toEqual([50173]);
  });
});

describe('npm run sandbox (main.ts)', () => {
  it('starts on the given port on 127.0.0.1 and prints base URL, tenant, client and users', async () => {
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        join(__dirname, '..', '..', '..', 'src', 'local', 'sandbox', 'main.ts'),
        '--port',
        '0',
        '--messages',
        '5',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    try {
      let out = '';
      await new Promise<void>((resolve, reject) => {
        child.stdout.on('data', (d: Buffer) => {
          out += d.toString();
          if (out.includes('control API')) resolve();
        });
        child.once('exit', (code) => reject(new Error(`exited ${code ?? 'null'}: ${out}`)));
      });
      const url = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out)![1]!;
      expect(out).toMatch(/TENANT_ID=[0-9a-f-]{36}/);
      expect(out).toContain('CLIENT_SECRET=');
      expect(out).toContain('adele@contoso.test');
      const info = (await (await fetch(`${url}/_sandbox/info`)).json()) as { url: string };
      expect(info.url).toBe(url);
    } finally {
      child.kill('SIGTERM');
    }
  });
});
