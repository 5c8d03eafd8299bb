// Bundles the app into dist/ for local runs (`func start`, the bench); `npm run package` stages
// what Azure runs. One file loads faster on a cold start than hundreds of node_modules files.
import { statSync } from 'node:fs';
import path from 'node:path';

import { bundle } from './bundle.mjs';

const files = await bundle({ outdir: 'dist', sourcemap: true });
const bytes = files.reduce((sum, file) => sum + statSync(path.join('dist', file)).size, 0);
console.log(`built dist/ (${files.join(', ')}; ${(bytes / 1024 / 1024).toFixed(1)} MiB with maps)`);
