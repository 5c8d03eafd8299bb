import path from 'node:path';

import { ESLint, type Linter } from 'eslint';
import tseslint from 'typescript-eslint';

export const repoRoot = path.join(__dirname, '..', '..');

export interface RuleLinter {
  /** The rule's setting for a file, as the real eslint.config.mjs decides it. */
  rulesFor: (file: string) => Promise<Linter.RuleEntry | undefined>;
  /** Lints `code` as if it were `file`, with only that rule: its messages and parse errors. */
  lint: (code: string, file: string) => Promise<string[]>;
}

/**
 * One rule of the real eslint.config.mjs, run with the plain TypeScript parser: the type-aware
 * setup `npm run lint` uses would take most of a minute for the same answer.
 */
export function ruleLinter(rule: string): RuleLinter {
  const real = new ESLint({ cwd: repoRoot });
  const rulesFor = async (file: string) =>
    ((await real.calculateConfigForFile(path.join(repoRoot, file))) as Linter.Config).rules?.[rule];
  // One linter per distinct rule setting (a room at a depth), reused across files.
  const linters = new Map<string, ESLint>();
  const lint = async (code: string, file: string) => {
    const setting = await rulesFor(file);
    const key = JSON.stringify(setting ?? null);
    let only = linters.get(key);
    if (!only) {
      only = new ESLint({
        cwd: repoRoot,
        overrideConfigFile: true,
        overrideConfig: [
          { files: ['**/*.ts'], languageOptions: { parser: tseslint.parser } },
          ...(setting ? [{ files: ['**/*.ts'], rules: { [rule]: setting } }] : []),
        ],
      });
      linters.set(key, only);
    }
    const [result] = await only.lintText(code, { filePath: path.join(repoRoot, file) });
    // Disable comments naming the type-aware rules are unknown here; only this rule and parse errors count.
    return (result?.messages ?? [])
      .filter((m) => m.ruleId === rule || m.fatal)
      .map((m) => `${m.ruleId ?? 'parse'}: ${m.message}`);
  };
  return { rulesFor, lint };
}
