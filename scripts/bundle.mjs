// The one esbuild configuration of the app bundle, shared by `npm run build` (dist/, with source
// maps for local runs) and `npm run package` (.deploy/, what Azure runs).
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

/**
 * Packages src/core/azure-sdk.ts loads on first use. They go to a file of their own, read only
 * when one of them is first needed: in the main bundle V8 would still parse their ~3 MB on every
 * cold start, which alone costs about twice a bare Functions app's whole start.
 */
const LAZY_SDKS = [
  '@azure/identity',
  '@azure/keyvault-keys',
  '@azure/keyvault-secrets',
  '@azure/storage-blob',
  '@azure/storage-queue',
  '@azure/data-tables',
  '@modelcontextprotocol/sdk/server/mcp.js',
  '@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js',
];
const SDK_FILE = 'azure-sdk.js';
const LAZY_LOADER = path.join('src', 'core', 'azure-sdk.ts');

/**
 * The app (src/registration.ts and everything below it) is a file of its own too: the entry,
 * src/index.ts, registers the functions from a manifest and requires this file on the first
 * invocation, so the host's load compiles and runs only @azure/functions, config and the entry.
 */
const APP_FILE = 'app.js';
const APP_MODULE = './registration';
const ENTRY = path.join('src', 'index.ts');

/** In the entry, `require('./registration')` reads APP_FILE. */
const appFromOwnFile = {
  name: 'app-from-own-file',
  setup(b) {
    b.onResolve({ filter: /^\.\/registration$/ }, (args) =>
      args.path === APP_MODULE && args.importer.endsWith(ENTRY)
        ? { path: `./${APP_FILE}`, external: true }
        : undefined,
    );
  },
};

/**
 * The registration table without handlers (`functionManifest`), read by loading the built app in
 * a child process with default settings: the entry registers exactly what the app defines.
 */
function manifestOf(appFile) {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'omf-manifest-'));
  try {
    const out = execFileSync(
      process.execPath,
      [
        '-e',
        `const { createApp, functionManifest } = require(${JSON.stringify(appFile)});
         const manifest = functionManifest(createApp({ env: process.env }));
         process.stdout.write('\\nmanifest=' + JSON.stringify(manifest));`,
      ],
      {
        env: {
          PATH: process.env.PATH,
          PUBLIC_BASE_URL: 'http://127.0.0.1:7071',
          LOCAL_DATA_DIR: dataDir,
        },
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    ).toString();
    return JSON.parse(/^manifest=(.*)$/m.exec(out)[1]);
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** In the app's bundle, azure-sdk.ts's `require('<sdk>')` reads the package from SDK_FILE. */
const sdkFromOwnFile = {
  name: 'sdk-from-own-file',
  setup(b) {
    b.onResolve({ filter: /^@(azure|modelcontextprotocol)\// }, (args) =>
      LAZY_SDKS.includes(args.path) && args.importer.endsWith(LAZY_LOADER)
        ? { path: args.path, namespace: 'lazy-sdk' }
        : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'lazy-sdk' }, (args) => ({
      contents: `module.exports = require('./${SDK_FILE}')[${JSON.stringify(args.path)}];`,
      loader: 'js',
    }));
    b.onResolve({ filter: new RegExp(`^\\./${SDK_FILE.replace('.', '\\.')}$`) }, (args) => ({
      path: args.path,
      external: true,
    }));
  },
};

/**
 * Bundles src/index.ts into `outdir` as CommonJS (see CONTRIBUTING.md for why CJS), plus the
 * lazily read APP_FILE and SDK_FILE. Everything is bundled: the deployed package has no node_modules.
 * `@azure/functions-core` stays external because the Functions worker provides it at run time.
 * @param {{ outdir: string, sourcemap: boolean }} options
 * @returns {Promise<string[]>} the files written, relative to `outdir`
 */
export async function bundle({ outdir, sourcemap }) {
  rmSync(outdir, { recursive: true, force: true });
  const common = {
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    sourcemap: sourcemap ? 'linked' : false,
    external: ['@azure/functions-core'],
    // Some dependencies ship ESM that reads import.meta.url; give the CJS bundle a real one.
    define: { 'import.meta.url': '__bundleUrl' },
    banner: { js: "const __bundleUrl = require('node:url').pathToFileURL(__filename).href;" },
    // Error guards compare class names (`isErrorOf`): keep them through the bundle's renaming.
    keepNames: true,
    // The licence notices of the bundled packages travel with the bundle.
    legalComments: 'linked',
    metafile: true,
    logLevel: 'warning',
  };
  const app = await build({
    ...common,
    entryPoints: { app: 'src/registration.ts' },
    outdir,
    plugins: [sdkFromOwnFile],
  });
  const entry = await build({
    ...common,
    entryPoints: { index: ENTRY },
    outdir,
    define: {
      ...common.define,
      FUNCTION_MANIFEST: JSON.stringify(manifestOf(path.resolve(outdir, APP_FILE))),
    },
    plugins: [appFromOwnFile],
  });
  // Each package is evaluated on first access, not when the file is read.
  const getters = LAZY_SDKS.map(
    (name) =>
      `Object.defineProperty(exports, ${JSON.stringify(name)}, { enumerable: true, get: () => require(${JSON.stringify(name)}) });`,
  );
  const sdks = await build({
    ...common,
    stdin: { contents: getters.join('\n'), resolveDir: process.cwd(), loader: 'js' },
    outfile: path.join(outdir, SDK_FILE),
  });
  return [entry, app, sdks].flatMap((result) =>
    Object.keys(result.metafile.outputs).map((file) => path.relative(outdir, file)),
  );
}
