/**
 * The project reads nothing outside its own tree: a person who clones the repository has only the
 * clone, so a path that climbs out of it (such as the folder beside the checkout that once held the
 * Graph reference files, now in `test/fixtures/graph/`) fails for them and only for them.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

import { describe, expect, it } from 'vitest';

const root = path.join(__dirname, '..');
const SKIP = new Set(['node_modules', 'dist', '.git', '.local', 'coverage']);
const TEXT = /\.(ts|mts|mjs|js|json|ya?ml|md|bicep|sh)$|^run$/;

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    if (SKIP.has(e.name)) return [];
    const full = path.join(dir, e.name);
    if (e.isDirectory()) return files(full);
    return TEXT.test(e.name) ? [full] : [];
  });
}

/** `join(__dirname, '..', 'x')` / `resolve(__dirname, '../x')` with literal segments only. */
const DIRNAME_PATH =
  /\b(?:join|resolve)\(\s*(?:__dirname|import\.meta\.dirname)((?:\s*,\s*'[^']*')+)\s*[,)]/g;

function escapes(file: string, text: string): string[] {
  const found: string[] = [];
  for (const m of text.matchAll(DIRNAME_PATH)) {
    const segments = [...m[1]!.matchAll(/'([^']*)'/g)].map((s) => s[1]!);
    const target = path.resolve(path.dirname(file), ...segments);
    if (path.relative(root, target).startsWith('..')) found.push(`${m[0]} → ${target}`);
  }
  // A path into the folder that sits beside the checkout on the maintainers' machines.
  for (const m of text.matchAll(/\.\.[\\/]+shared\b/g)) found.push(m[0]);
  return found;
}

describe('the repository is self-contained', () => {
  const all = ['src', 'test', 'bench', 'scripts', 'docs', 'infra', '.ci', '.github']
    .flatMap((d) => files(path.join(root, d)))
    .concat(
      readdirSync(root)
        .filter((f) => TEXT.test(f))
        .map((f) => path.join(root, f)),
    );

  it('scans the source, tests, scripts and docs', () => {
    expect(all.map((f) => path.relative(root, f))).toEqual(
      expect.arrayContaining(['src/app.ts', 'test/openapi.test.ts', 'README.md', 'package.json']),
    );
  });

  it('no file reads a path outside the repository', () => {
    // This file is left out: its own examples below climb out on purpose.
    const outside = all
      .filter((f) => f !== __filename)
      .flatMap((f) =>
        escapes(f, readFileSync(f, 'utf8')).map((hit) => `${path.relative(root, f)}: ${hit}`),
      );
    expect(outside).toEqual([]);
  });

  it('recognises a path that climbs out of the tree', () => {
    const file = path.join(root, 'test', 'local', 'sandbox', 'x.ts');
    expect(
      escapes(file, "join(__dirname, '..', '..', '..', '..', 'shared', 'graph')"),
    ).toHaveLength(1);
    expect(escapes(file, "join(__dirname, '..', '..', 'fixtures', 'graph')")).toEqual([]);
    expect(escapes(file, 'see `../shared/graph/FACTS.md`')).toHaveLength(1);
  });
});
