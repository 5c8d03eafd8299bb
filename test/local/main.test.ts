import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { freePort } from '../support/ports';

const root = path.resolve(__dirname, '../..');

describe('npm start with zero configuration', () => {
  let child: ChildProcess;
  let output = '';
  let url = '';
  let dataDir = '';

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'omf-start-'));
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    const env = Object.fromEntries(
      Object.entries(process.env).filter(
        ([k]) => !/^(CLIENT_|API_|AzureWebJobs|GRAPH_|AUTHORITY_|TENANT_)/.test(k),
      ),
    );
    child = spawn(process.execPath, ['--import', 'tsx', 'src/local/main.ts'], {
      cwd: root,
      env: { ...env, PORT: String(port), LOCAL_DATA_DIR: dataDir },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    // Ready when it says so (the hook's timeout bounds the wait); an exit first is a failure.
    await new Promise<void>((resolve, reject) => {
      const take = (c: Buffer) => {
        output += c.toString();
        if (output.includes('is running at')) resolve();
      };
      child.stdout?.on('data', take);
      child.stderr?.on('data', take);
      child.once('error', reject);
      child.once('exit', () => reject(new Error(`npm start exited: ${output}`)));
    });
  }, 60_000);

  afterAll(async () => {
    if (child.exitCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    }
    await rm(dataDir, { recursive: true, force: true });
  });

  it('serves health and prints a working curl line with a dev API key', async () => {
    expect(output).toContain(`is running at ${url}`);
    const health = await fetch(`${url}/api/health`);
    expect(health.status).toBe(200);
    const key = (await readFile(path.join(dataDir, 'dev-api-key'), 'utf8')).trim();
    expect(output).toContain(`x-api-key: ${key}`);
    const credentials = await fetch(`${url}/api/credentials`, { headers: { 'x-api-key': key } });
    expect(credentials.status).toBe(200);
    const body = (await credentials.json()) as {
      credentials: Array<{ credentialId: string; status: string }>;
    };
    expect(body.credentials).toEqual([
      expect.objectContaining({ credentialId: 'demo', status: 'active' }),
    ]);
  });

  it('runs non-HTTP functions on POST /admin/functions/{name}', async () => {
    const response = await fetch(`${url}/admin/functions/credentialKeepAlive`, {
      method: 'POST',
      body: '{}',
    });
    expect(response.status).toBe(202);
    const unknown = await fetch(`${url}/admin/functions/nope`, { method: 'POST', body: '{}' });
    expect(unknown.status).toBe(404);
  });

  it('stops cleanly on SIGTERM', async () => {
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    child.kill('SIGTERM');
    await expect(exited).resolves.toBe(0);
  });
});
