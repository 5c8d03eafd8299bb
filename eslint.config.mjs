// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/**
 * The rooms of `src/` and what each may import (CONTRIBUTING.md, "Layout"). Dependencies point one
 * way: functions → http → mail → graph → credentials → core, with config and storage beside core.
 * The composition root (app, registration, index) may import any room; `src/local/` is never
 * deployed, so only it may import itself (and it may import anything). `src/client/` is the typed
 * client callers install: it imports no server room, and no deployed room imports it. A room marked
 * `alone` is a set of independent files: none imports another of the same room.
 */
const ROOMS = {
  core: { paths: ['core/'], may: [] },
  config: { paths: ['config'], may: ['core'] },
  storage: { paths: ['storage'], may: ['core', 'config'] },
  credentials: { paths: ['credentials/'], may: ['core', 'config', 'storage'] },
  graph: { paths: ['graph/'], may: ['core', 'config', 'storage', 'credentials'] },
  mail: { paths: ['mail/'], may: ['core', 'config', 'storage', 'credentials', 'graph'] },
  notifications: {
    paths: ['notifications/'],
    may: ['core', 'config', 'storage', 'credentials', 'graph'],
  },
  http: { paths: ['http/'], may: ['core', 'config', 'storage', 'credentials', 'graph', 'mail'] },
  functions: {
    paths: ['functions/'],
    may: ['core', 'config', 'storage', 'credentials', 'graph', 'mail', 'notifications', 'http'],
    // One thin file per function: what two of them share lives in src/http.
    alone: true,
  },
  root: {
    paths: ['app', 'registration', 'index'],
    may: [
      'core',
      'config',
      'storage',
      'credentials',
      'graph',
      'mail',
      'notifications',
      'http',
      'functions',
    ],
  },
  local: { paths: ['local/'], may: null },
  client: { paths: ['client/'], may: [] },
};
/** Deepest folder nesting under a room (src/mail/report/x.ts is depth 2). */
const MAX_DEPTH = 4;

const escape = (text) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
/** The import specifier of a room's path, from a file `depth` folders below `src/`. */
function specifier(path, depth) {
  const up = depth === 0 ? '\\./' : `(?:\\.\\./){${depth}}`;
  const target = path.endsWith('/')
    ? `${escape(path.slice(0, -1))}(?:/|$)`
    : `${escape(path)}(?:\\.[jt]s)?$`;
  return `^${up}${target}`;
}

function roomRules() {
  const blocks = [];
  for (const [room, { paths, may }] of Object.entries(ROOMS)) {
    if (may === null) continue;
    const forbidden = Object.keys(ROOMS).filter((other) => other !== room && !may.includes(other));
    const rule =
      may.length === 0 ? 'imports nothing from other rooms' : `may import ${may.join(', ')}`;
    for (const path of paths) {
      const depths = path.endsWith('/') ? Array.from({ length: MAX_DEPTH }, (_, i) => i + 1) : [0];
      for (const depth of depths) {
        const files = path.endsWith('/')
          ? [`src/${path}${'*/'.repeat(depth - 1)}*.ts`]
          : [`src/${path}.ts`];
        const patterns = forbidden.flatMap((other) =>
          ROOMS[other].paths.map((target) => ({
            regex: specifier(target, depth),
            message: `src/${path} (${room}) ${rule}, not ${other}: see CONTRIBUTING.md, Layout.`,
          })),
        );
        if (ROOMS[room].alone) {
          // The same folder, a parent inside the room, or the room named from src/.
          const inside = depth > 1 ? [`^(?:\\.\\./){1,${depth - 1}}(?!\\.\\./)`] : [];
          for (const regex of ['^\\.(?:/|$)', ...inside, specifier(path, depth)]) {
            patterns.push({
              regex,
              message: `A file in src/${path} (${room}) imports no other file of it: what two share lives in src/http (CONTRIBUTING.md, Layout).`,
            });
          }
        }
        // Climbing out of src/ (tests, scripts, other folders) is never deployed code.
        patterns.push({
          regex: `^(?:\\.\\./){${depth + 1}}`,
          message: `src/${path} must not import from outside src/.`,
        });
        blocks.push({ files, rules: { 'no-restricted-imports': ['error', { patterns }] } });
      }
    }
  }
  return blocks;
}

// The named `z` is every zod module (locales, JSON Schema): 600 KB more in the app's bundle.
const ZOD_NAMED_IMPORT = {
  selector: "ImportDeclaration[source.value='zod'] > ImportSpecifier[imported.name='z']",
  message: "Import zod as `import * as z from 'zod'`: the bundle then keeps only what is used.",
};

/**
 * Our error classes are checked with `isErrorOf(error, X)` / `isAppError` (src/core/errors.ts):
 * `instanceof` OR the literal name, so an error from another copy of a module (a second bundle,
 * another realm) is still recognised, as ky's and the Azure SDK's guards do. JavaScript's own
 * errors keep `instanceof`.
 */
const ERROR_INSTANCEOF = {
  selector:
    "BinaryExpression[operator='instanceof'][right.type='Identifier'][right.name=/Error$/]:not([right.name=/^(Error|TypeError|RangeError|SyntaxError|ReferenceError|EvalError|URIError|AggregateError|DOMException)$/])",
  message:
    'Check our errors with isErrorOf(error, X) or isAppError (src/core/errors.ts): instanceof misses a copy from another bundle.',
};

export default tseslint.config(
  { ignores: ['dist/**', '.deploy/**', 'node_modules/**', '.local/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        projectService: { allowDefaultProject: ['*.mjs'] },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      eqeqeq: ['error', 'always'],
      '@typescript-eslint/return-await': ['error', 'in-try-catch'],
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      'no-console': ['error', { allow: ['warn', 'error'] }],
    },
  },
  ...roomRules(),
  {
    // The Azure SDKs load on first use, through src/core/azure-sdk.ts only (cold start).
    files: ['src/**/*.ts'],
    ignores: ['src/core/azure-sdk.ts', 'src/local/**'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: [
            '@azure/identity',
            '@azure/keyvault-keys',
            '@azure/keyvault-secrets',
            '@azure/storage-blob',
            '@azure/storage-queue',
            '@azure/data-tables',
            '@modelcontextprotocol/sdk/server/mcp.js',
            '@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js',
          ].map((name) => ({
            name,
            allowTypeImports: true,
            message:
              'Load it through azureSdk (src/core/azure-sdk.ts): it is evaluated on first use.',
          })),
        },
      ],
    },
  },
  {
    files: ['src/**/*.ts'],
    ignores: ['src/local/**'],
    rules: { 'no-restricted-syntax': ['error', ZOD_NAMED_IMPORT, ERROR_INSTANCEOF] },
  },
  {
    // The typed client is installed by callers apart from the server: it has its own error class
    // and cannot import src/core.
    files: ['src/client/**/*.ts'],
    rules: { 'no-restricted-syntax': ['error', ZOD_NAMED_IMPORT] },
  },
  {
    files: ['test/**', 'bench/**', 'scripts/**', 'src/local/**'],
    rules: {
      'no-console': 'off',
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
    },
  },
  {
    files: ['**/*.mjs'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: {
      ...tseslint.configs.disableTypeChecked.languageOptions,
      globals: { console: 'readonly', process: 'readonly' },
    },
  },
  {
    // Preloads for `node --require` (test/support): plain CommonJS.
    files: ['**/*.cjs'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: {
      ...tseslint.configs.disableTypeChecked.languageOptions,
      sourceType: 'commonjs',
      globals: { require: 'readonly', globalThis: 'readonly' },
    },
    rules: {
      ...tseslint.configs.disableTypeChecked.rules,
      '@typescript-eslint/no-require-imports': 'off',
    },
  },
);
