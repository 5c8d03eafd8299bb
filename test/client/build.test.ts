import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { afterAll, describe, expect, it } from 'vitest';

const root = path.join(__dirname, '..', '..');
const temp = mkdtempSync(path.join(tmpdir(), 'omf-client-build-'));
afterAll(() => rmSync(temp, { recursive: true, force: true }));

describe('npm run build:client', () => {
  it('builds what package.json exports as ./client: one CommonJS file and its declarations', () => {
    const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as {
      exports: Record<string, { types: string; default: string }>;
    };
    const entry = pkg.exports['./client']!;
    expect(entry).toEqual({
      types: './dist/client/index.d.ts',
      default: './dist/client/index.js',
    });
    const out = path.join(temp, 'client');
    execFileSync(process.execPath, ['scripts/build-client.mjs', '--out', out], { cwd: root });
    for (const file of [entry.types, entry.default]) {
      expect(existsSync(path.join(out, path.basename(file))), file).toBe(true);
    }
    expect(readFileSync(path.join(out, 'index.d.ts'), 'utf8')).toContain(
      'export declare function createMailClient',
    );
    // Loaded where no node_modules can be found: openapi-fetch travels inside the file.
    const loaded = execFileSync(
      process.execPath,
      [
        '-e',
        `const c = require(${JSON.stringify(path.join(out, 'index.js'))});
         const mail = c.createMailClient({ baseUrl: 'http://127.0.0.1:9/api', apiKey: 'k' });
         process.stdout.write(JSON.stringify({ exports: Object.keys(c).sort(), methods: Object.keys(mail.credential('x')).length, error: new c.MailApiError(new Response(null, { status: 404 }), { code: 'not_found' }).name }));`,
      ],
      { cwd: temp, env: { PATH: process.env.PATH, NODE_PATH: '' } },
    ).toString();
    expect(JSON.parse(loaded)).toEqual({
      exports: ['MailApiError', 'createMailClient', 'isMailApiError'],
      methods: expect.any(Number),
      error: 'MailApiError',
    });
  });
});
