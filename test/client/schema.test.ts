import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';

const root = path.join(__dirname, '..', '..');
const temp = mkdtempSync(path.join(tmpdir(), 'omf-client-types-'));
afterAll(() => rmSync(temp, { recursive: true, force: true }));

describe('src/client/schema.ts', () => {
  it('is what openapi-typescript makes of openapi.yaml today (run `npm run client:types`)', () => {
    const fresh = path.join(temp, 'schema.ts');
    execFileSync(process.execPath, ['scripts/client-types.mjs', fresh], { cwd: root });
    const generated = readFileSync(fresh, 'utf8');
    const checkedIn = readFileSync(path.join(root, 'src/client/schema.ts'), 'utf8');
    expect(checkedIn === generated, 'src/client/schema.ts is stale: run npm run client:types').toBe(
      true,
    );
    // Generated from the contract, not a copy of itself: every documented path is in it.
    const doc = parse(readFileSync(path.join(root, 'openapi.yaml'), 'utf8')) as {
      paths: Record<string, unknown>;
    };
    for (const route of Object.keys(doc.paths)) expect(generated).toContain(`'${route}': {`);
  });
});
