// `npm test`: the build (with its type check), then lint alongside vitest rather than before it:
// the test files spend most of their time waiting on loopback servers, so lint fills the idle CPU
// instead of adding its own minute to the run. Arguments go to vitest (`npm test -- test/graph`).
// The exit code fails if anything failed.
import { spawn } from 'node:child_process';
import path from 'node:path';

const bin = (name) => path.join('node_modules', '.bin', name);
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
// The same scripts a person runs by hand: lint is eslint + prettier, build is tsc + the bundles.
const CHECKS = [['lint', [npm, 'run', '--silent', 'lint']]];

const children = new Set();

/** Runs one command; its output is kept (printed after vitest's) unless `inherit`. */
function run(command, args, inherit) {
  return new Promise((resolve) => {
    const child = spawn(command, args, { stdio: inherit ? 'inherit' : 'pipe' });
    children.add(child);
    let output = '';
    child.stdout?.on('data', (chunk) => (output += chunk));
    child.stderr?.on('data', (chunk) => (output += chunk));
    child.on('error', (error) => (output += String(error)));
    child.on('close', (code, signal) => {
      children.delete(child);
      resolve({ ok: code === 0, code: code ?? signal, output });
    });
  });
}

async function checks() {
  const results = [];
  for (const [name, [command, ...args]] of CHECKS) {
    const started = Date.now();
    const result = await run(command, args, false);
    results.push({ name, ms: Date.now() - started, ...result });
  }
  return results;
}

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    for (const child of children) child.kill(signal);
    process.exit(130);
  });
}

// The build first: tests build and package the app too (dist/client, the package), and two
// bundlers writing the same files at once leave either one's output. Lint runs alongside vitest.
const started = Date.now();
const built = { name: 'build', ...(await run(npm, ['run', '--silent', 'build'], false)) };
built.ms = Date.now() - started;
const [linted, tests] = await Promise.all([
  checks(),
  run(bin('vitest'), ['run', ...process.argv.slice(2)], true),
]);
const checked = [built, ...linted];
console.log('\nstatic checks:');
for (const c of checked) {
  if (!c.ok) process.stdout.write(c.output);
  console.log(`  ${c.ok ? 'ok    ' : 'FAILED'} ${c.name} (${(c.ms / 1000).toFixed(1)} s)`);
}
process.exitCode = tests.ok && checked.every((c) => c.ok) ? 0 : 1;
