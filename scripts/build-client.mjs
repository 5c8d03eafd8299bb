// `npm run build:client`: the typed client (src/client) as the package's `./client` export, apart
// from the function bundle: dist/client/index.js (CommonJS, openapi-fetch bundled in) and its
// declarations. `node scripts/build-client.mjs --out <dir>` builds elsewhere (the client test).
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';

import { build } from 'esbuild';

const { values } = parseArgs({ options: { out: { type: 'string', default: 'dist/client' } } });
const outdir = path.resolve(values.out);
rmSync(outdir, { recursive: true, force: true });
await build({
  entryPoints: ['src/client/index.ts'],
  outfile: path.join(outdir, 'index.js'),
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  // `instanceof MailApiError` and its name must survive the bundle.
  keepNames: true,
  legalComments: 'linked',
  logLevel: 'warning',
});
execFileSync(
  process.execPath,
  [
    path.join('node_modules', 'typescript', 'bin', 'tsc'),
    '-p',
    'tsconfig.client.json',
    '--outDir',
    outdir,
  ],
  { stdio: 'inherit' },
);
console.log(`built ${path.relative(process.cwd(), outdir)}/ (the typed client)`);
