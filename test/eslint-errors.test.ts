import { readdirSync } from 'node:fs';
import path from 'node:path';

import { beforeAll, describe, expect, it } from 'vitest';

import { repoRoot as root, ruleLinter, type RuleLinter } from './support/lint-rule';

const RULE = 'no-restricted-syntax';

/**
 * The real eslint.config.mjs refuses `instanceof` on our error classes in deployed code
 * (CONTRIBUTING.md, "Code rules"): they are checked with isErrorOf / isAppError. Only that rule
 * runs here (`ruleLinter`).
 */
let rulesFor: RuleLinter['rulesFor'];
let lint: RuleLinter['lint'];

beforeAll(() => {
  ({ rulesFor, lint } = ruleLinter(RULE));
});

describe('lint keeps error checks to the type guards', () => {
  it.each([
    ['src/mail/bulk/fixture.ts', 'if (error instanceof NotFoundError) return;'],
    ['src/graph/fixture.ts', 'const gone = !(e instanceof UpstreamError);'],
    ['src/http/fixture.ts', 'export const x = (e: unknown) => e instanceof ValidationError;'],
    ['src/credentials/fixture.ts', 'if (error instanceof RecordUnreadableError) throw error;'],
    ['src/index.ts', 'if (error instanceof ConfigError) process.exit(1);'],
  ])('%s: %s is refused', async (file, code) => {
    const messages = await lint(code, file);
    expect(messages).toHaveLength(1);
    expect(messages[0]).toContain('isErrorOf(error, X)');
  });

  it.each([
    ['src/mail/bulk/fixture.ts', 'if (isErrorOf(error, NotFoundError)) return;'],
    ['src/graph/fixture.ts', 'const plain = e instanceof Error || e instanceof TypeError;'],
    ['src/graph/fixture.ts', 'const aborted = e instanceof DOMException;'],
    ['src/http/fixture.ts', 'const r = body instanceof Uint8Array;'],
    ['src/client/fixture.ts', 'const ours = error instanceof MailApiError;'],
    ['src/local/fixture.ts', 'const graph = error instanceof GraphError;'],
  ])('%s: %s is allowed', async (file, code) => {
    expect(await lint(code, file)).toEqual([]);
  });

  it('the rule is on for every deployed file but the client (npm run lint holds the tree to it)', async () => {
    const deployed = readdirSync(path.join(root, 'src'), { recursive: true, encoding: 'utf8' })
      .filter(
        (f) =>
          f.endsWith('.ts') &&
          !f.startsWith(`local${path.sep}`) &&
          !f.startsWith(`client${path.sep}`),
      )
      .map((f) => path.join('src', f));
    expect(deployed.length).toBeGreaterThan(80);
    const off: string[] = [];
    for (const file of deployed) {
      const rule = JSON.stringify((await rulesFor(file)) ?? null);
      if (!rule.includes("operator='instanceof'")) off.push(file);
    }
    expect(off).toEqual([]);
  });
});
