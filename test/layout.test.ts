/**
 * Where tests and helpers live (CONTRIBUTING.md, Tests): unit and integration tests mirror the
 * folder they test (`test/graph/` ↔ `src/graph/`, `test/infra/` ↔ `infra/`), end-to-end tests are
 * in `test/e2e/` (browser tests, `*.browser.ts`, in `test/browser/`), and every helper is in
 * `test/support/`, so a new test finds them in one place.
 */
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';

import { describe, expect, it } from 'vitest';

const root = path.join(__dirname, '..');
// Cross-cutting folders: end-to-end suites, helpers, reference data, attacks across rooms.
const OWN = new Set(['e2e', 'support', 'fixtures', 'security']);

function walk(dir: string): string[] {
  return readdirSync(path.join(root, dir), { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? walk(path.join(dir, e.name)) : [path.join(dir, e.name)],
  );
}

describe('test layout', () => {
  const files = walk('test').map((f) => f.split(path.sep).join('/'));

  it('keeps every helper in test/support/ (and reference data in test/fixtures/)', () => {
    const helpers = files.filter(
      (f) =>
        !/\.(test|browser)\.ts$/.test(f) &&
        !f.startsWith('test/support/') &&
        !f.startsWith('test/fixtures/'),
    );
    expect(helpers).toEqual([]);
  });

  it('mirrors the tested folders: every test folder names a folder of src/ or of the repository', () => {
    const folders = new Set(
      files
        .filter((f) => f.endsWith('.test.ts'))
        .map((f) => path.posix.dirname(f).replace(/^test\/?/, ''))
        .filter((d) => d !== '' && !OWN.has(d.split('/')[0]!)),
    );
    const unmirrored = [...folders].filter(
      (d) => !existsSync(path.join(root, 'src', d)) && !existsSync(path.join(root, d)),
    );
    expect(folders.size).toBeGreaterThan(3);
    expect(unmirrored).toEqual([]);
  });
});
