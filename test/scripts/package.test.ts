import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createApp } from '../../src/app';
import { hostRegistrations } from '../../src/registration';

const REPO_ROOT = path.resolve(__dirname, '..', '..');
const FAKE_CORE = path.join(REPO_ROOT, 'test/support/functions-core.cjs');

// Non-default schedules prove they come from the settings, in the package as in the repo.
const env = {
  CLIENT_ID: '11111111-2222-3333-4444-555555555555',
  CLIENT_SECRET: 's',
  GRAPH_BASE_URL: 'http://127.0.0.1:9',
  AUTHORITY_HOST: 'http://127.0.0.1:9',
  PUBLIC_BASE_URL: 'http://127.0.0.1:7071',
  REPORT_SCHEDULE: '0 15 6 * * 2',
  KEEPALIVE_SCHEDULE: '0 45 2 * * *',
};

interface Binding {
  type: string;
  direction: string;
  route?: string;
  methods?: string[];
  authLevel?: string;
  schedule?: string;
  queueName?: string;
  connection?: string;
}

/** One registration as the host sees it: the trigger binding, whatever else was bound. */
function trigger(name: string, bindings: Record<string, Binding>) {
  const found = Object.values(bindings).filter((b) => /Trigger$/.test(b.type));
  expect(found, name).toHaveLength(1);
  const { type, route, methods, authLevel, schedule, queueName, connection } = found[0]!;
  return { name, type, route, methods, authLevel, schedule, queueName, connection };
}

/** The registration table of the repository, in the host's terms. */
function expectedTriggers() {
  return hostRegistrations(createApp({ env })).map((r) => {
    switch (r.kind) {
      case 'http':
        return {
          name: r.name,
          type: 'httpTrigger',
          route: r.options.route,
          methods: r.options.methods,
          authLevel: r.options.authLevel,
          schedule: undefined,
          queueName: undefined,
          connection: undefined,
        };
      case 'timer':
        return {
          name: r.name,
          type: 'timerTrigger',
          ...{ route: undefined, methods: undefined, authLevel: undefined },
          schedule: r.options.schedule,
          queueName: undefined,
          connection: undefined,
        };
      case 'queue':
        return {
          name: r.name,
          type: 'queueTrigger',
          ...{ route: undefined, methods: undefined, authLevel: undefined },
          schedule: undefined,
          queueName: r.options.queueName,
          connection: r.options.connection,
        };
    }
  });
}

describe('npm run package (.deploy/)', () => {
  let tmp: string;
  let pkg: string;
  beforeAll(() => {
    tmp = mkdtempSync(path.join(os.tmpdir(), 'omf-package-'));
    pkg = path.join(tmp, 'app');
    execFileSync(process.execPath, ['scripts/package.mjs', '--out', pkg], {
      cwd: REPO_ROOT,
      stdio: 'pipe',
    });
  }, 120_000);
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  /**
   * Loads the package's main in a fresh process, as the worker does (the stand-in core, nothing of
   * the repository's node_modules reachable), runs `script` after it and returns what the script
   * passed to `done`.
   */
  function loadPackage(script: string): unknown {
    const out = execFileSync(
      process.execPath,
      [
        '--require',
        FAKE_CORE,
        '-e',
        `const done = (value) => process.stdout.write('\\nresult=' + JSON.stringify(value));
         require(${JSON.stringify(pkg)});
         ${script}`,
      ],
      {
        cwd: pkg,
        env: {
          PATH: process.env.PATH,
          NODE_PATH: '',
          LOCAL_DATA_DIR: path.join(tmp, 'data'),
          ...env,
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    ).toString();
    return JSON.parse(/^result=(.*)$/m.exec(out)![1]!) as unknown;
  }

  it('holds host.json, a package.json pointing at the bundle, the bundle and its notices, nothing else', () => {
    expect(readdirSync(pkg, { recursive: true }).sort()).toEqual([
      'app.js',
      'app.js.LEGAL.txt',
      'azure-sdk.js',
      'azure-sdk.js.LEGAL.txt',
      'host.json',
      'index.js',
      'index.js.LEGAL.txt',
      'package.json',
    ]);
    expect(readFileSync(path.join(pkg, 'host.json'), 'utf8')).toBe(
      readFileSync(path.join(REPO_ROOT, 'host.json'), 'utf8'),
    );
    const manifest = JSON.parse(readFileSync(path.join(pkg, 'package.json'), 'utf8')) as Record<
      string,
      unknown
    >;
    expect(manifest.main).toBe('index.js');
    // Everything is in the bundle: nothing for the host (or Oryx) to install.
    for (const field of ['dependencies', 'devDependencies', 'scripts', 'type']) {
      expect(manifest, field).not.toHaveProperty(field);
    }
    // No source map, no sandbox, no local host: the bundles start at src/index.ts only.
    for (const file of ['index.js', 'app.js']) {
      const bundle = readFileSync(path.join(pkg, file), 'utf8');
      // postcss (sanitize-html) names the comment in its code; no bundle ends with one.
      expect(bundle, file).not.toMatch(/^\/\/# sourceMappingURL=/m);
      expect(bundle, file).not.toMatch(/src\/local\//);
    }
  });

  it('starts from a small entry: the app and zod load on the first invocation, from app.js', () => {
    const entry = readFileSync(path.join(pkg, 'index.js'), 'utf8');
    expect(entry).toContain('require("./app.js")');
    // esbuild heads each bundled module with a `// path` comment.
    for (const heavy of [
      '// node_modules/zod/',
      '// src/app.ts',
      '// src/graph/',
      '// src/mail/',
    ]) {
      expect(entry, heavy).not.toContain(heavy);
    }
    const app = readFileSync(path.join(pkg, 'app.js'), 'utf8');
    expect(app).toContain('// src/app.ts');
    // `import { z }` would keep every zod locale; `import * as z` keeps what is used.
    expect(app).not.toContain('node_modules/zod/v4/locales/de.js');
    expect(app).not.toContain('node_modules/@azure/functions/');
  });

  it('loads on its own and registers every function of the registration table', () => {
    // Nothing outside the package can be resolved: no node_modules from its folder up.
    for (let dir = pkg; ; dir = path.dirname(dir)) {
      expect(existsSync(path.join(dir, 'node_modules')), dir).toBe(false);
      if (path.dirname(dir) === dir) break;
    }
    const found = loadPackage(
      `const found = globalThis.__functionsCore.registrations.map((r) => r.metadata);
       done(found);`,
    );
    const registered = (found as { name: string; bindings: Record<string, Binding> }[]).map((r) =>
      trigger(r.name, r.bindings),
    );
    const expected = expectedTriggers();
    expect(expected.length).toBeGreaterThan(20);
    expect(registered.sort(byName)).toEqual(expected.sort(byName));
  });

  it('answers the first request by loading the app from its own file', () => {
    const first = loadPackage(
      `const loaded = () => Object.keys(require.cache).map((f) => require('node:path').basename(f));
       const before = loaded();
       const { handler } = globalThis.__functionsCore.registrations.find((r) => r.metadata.name === 'health');
       const url = 'http://127.0.0.1:7071/api/health';
       const request = { method: 'GET', url, headers: new Headers(), query: new URL(url).searchParams, params: {}, body: null };
       const noop = () => {};
       const context = { invocationId: 'i1', functionName: 'health', log: noop, trace: noop, debug: noop, info: noop, warn: noop, error: noop };
       Promise.resolve(handler(request, context)).then((response) =>
         done({ before, after: loaded(), status: response.status, body: response.jsonBody }));`,
    ) as {
      before: string[];
      after: string[];
      status: number;
      body: { status: string };
    };
    expect(first.before).toContain('index.js');
    expect(first.before).not.toContain('app.js');
    expect(first.after).toContain('app.js');
    // Always 200; Graph and the identity platform are unreachable here, so degraded.
    expect(first.status).toBe(200);
    expect(first.body).toEqual({ status: 'degraded' });
  });

  it('keeps the Azure SDKs and the MCP SDK out of the bundle, in a file that loads each of them on its own', () => {
    // src/core/azure-sdk.ts loads them on first use; the start reads only index.js.
    expect(readFileSync(path.join(pkg, 'index.js'), 'utf8')).not.toContain('azure-sdk.js');
    const bundle = readFileSync(path.join(pkg, 'app.js'), 'utf8');
    for (const name of SDKS) {
      expect(bundle).not.toContain(`node_modules/${name}/`);
      expect(bundle).toContain(`require("./azure-sdk.js")["${name}"]`);
    }
    expect(bundle).not.toContain('node_modules/@azure/msal-node/');
    const out = execFileSync(
      process.execPath,
      [
        '-e',
        `const sdk = require('./azure-sdk.js');
         const loaded = ${JSON.stringify(SDKS)}.map((name) => [name, Object.keys(sdk[name]).sort()]);
         process.stdout.write('\\nexports=' + JSON.stringify(Object.fromEntries(loaded)));`,
      ],
      {
        cwd: pkg,
        env: { PATH: process.env.PATH, NODE_PATH: '' },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    ).toString();
    const exports = JSON.parse(/^exports=(.*)$/m.exec(out)![1]!) as Record<string, string[]>;
    expect(exports['@azure/identity']).toEqual(
      expect.arrayContaining(['DefaultAzureCredential', 'ManagedIdentityCredential']),
    );
    expect(exports['@azure/keyvault-keys']).toEqual(
      expect.arrayContaining(['KeyClient', 'CryptographyClient']),
    );
    expect(exports['@azure/keyvault-secrets']).toContain('SecretClient');
    expect(exports['@azure/storage-blob']).toContain('BlobServiceClient');
    expect(exports['@azure/storage-queue']).toContain('QueueServiceClient');
    expect(exports['@azure/data-tables']).toEqual(expect.arrayContaining(['TableClient', 'odata']));
    expect(exports['@modelcontextprotocol/sdk/server/mcp.js']).toContain('McpServer');
    expect(exports['@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js']).toContain(
      'WebStandardStreamableHTTPServerTransport',
    );
  });
});

const SDKS = [
  '@azure/identity',
  '@azure/keyvault-keys',
  '@azure/keyvault-secrets',
  '@azure/storage-blob',
  '@azure/storage-queue',
  '@azure/data-tables',
  '@modelcontextprotocol/sdk/server/mcp.js',
  '@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js',
];

function byName(a: { name: string }, b: { name: string }): number {
  return a.name.localeCompare(b.name);
}
