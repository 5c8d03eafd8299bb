// The one esbuild configuration of the app bundle, shared by `npm run build` (dist/, with source
// maps for local runs) and `npm run package` (.deploy/, what Azure runs).
import { build } from 'esbuild';
import { rmSync } from 'node:fs';
import path from 'node:path';

/**
 * Bundles src/index.ts into `outdir` as CommonJS (see CONTRIBUTING.md for why CJS). Everything is
 * bundled: the deployed package has no node_modules. `@azure/functions-core` stays external
 * because the Functions worker provides it at run time.
 * @param {{ outdir: string, sourcemap: boolean }} options
 * @returns {Promise<string[]>} the files written, relative to `outdir`
 */
export async function bundle({ outdir, sourcemap }) {
  rmSync(outdir, { recursive: true, force: true });
  const result = await build({
    entryPoints: { index: 'src/index.ts' },
    outdir,
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
  });
  return Object.keys(result.metafile.outputs).map((file) => path.relative(outdir, file));
}
