// `npm run package`: stages .deploy/, exactly what the Functions host needs and nothing else:
// host.json, a package.json whose main is the bundle (no dependencies: everything is bundled, so
// the package has no node_modules), the bundle and its licence notices. azure.yaml deploys this
// folder; `node scripts/package.mjs --out <dir>` stages elsewhere (the package test).
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';

import { bundle } from './bundle.mjs';

const { values } = parseArgs({ options: { out: { type: 'string', default: '.deploy' } } });
const outdir = path.resolve(values.out);
// The folder is emptied first: never the project itself or a folder holding it.
if (path.relative(outdir, process.cwd()).split(path.sep)[0] !== '..') {
  throw new Error(`--out ${values.out} would empty a folder holding this project`);
}

const files = await bundle({ outdir, sourcemap: false });

const project = JSON.parse(readFileSync('package.json', 'utf8'));
const manifest = {
  name: project.name,
  version: project.version,
  description: project.description,
  license: project.license,
  private: true,
  main: 'index.js',
  engines: project.engines,
};
writeFileSync(path.join(outdir, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
writeFileSync(path.join(outdir, 'host.json'), readFileSync('host.json'));

const staged = [...files, 'package.json', 'host.json'].sort();
const bytes = staged.reduce((sum, file) => sum + statSync(path.join(outdir, file)).size, 0);
console.log(
  `staged ${path.relative(process.cwd(), outdir) || '.'}/: ${staged.join(', ')} (${(bytes / 1024 / 1024).toFixed(1)} MiB)`,
);
