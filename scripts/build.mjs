// Bundles the app for the Functions host: one file loads faster on a cold start than hundreds of
// node_modules files. `@azure/functions-core` is provided by the worker at run time.
import { build } from 'esbuild';
import { rmSync } from 'node:fs';

rmSync('dist', { recursive: true, force: true });
const result = await build({
  entryPoints: ['src/index.ts'],
  outfile: 'dist/index.js',
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: 'linked',
  external: ['@azure/functions-core'],
  // Some dependencies ship ESM that reads import.meta.url; give the CJS bundle a real one.
  define: { 'import.meta.url': '__bundleUrl' },
  banner: { js: "const __bundleUrl = require('node:url').pathToFileURL(__filename).href;" },
  // Error guards compare class names (`isErrorOf`): keep them through the bundle's renaming.
  keepNames: true,
  legalComments: 'linked',
  metafile: true,
  logLevel: 'warning',
});
const bytes = Object.values(result.metafile.outputs).reduce((sum, o) => sum + o.bytes, 0);
console.log(`built dist/index.js (${(bytes / 1024 / 1024).toFixed(1)} MiB with maps)`);
