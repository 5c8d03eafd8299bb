// `npm test`: vitest, with the static checks alongside it rather than before it: the machine's
// cores are the limit, so the checks fill what the test files leave idle instead of adding their
// own minute. The checks run one after another (one core at most): the type check and eslint
// from one TypeScript program (scripts/check.mjs), then prettier. Prettier keeps a cache of the
// files it found formatted (by content, in node_modules/.cache): a run after a change reads only
// the changed files. The bundles are not built here: the client and package tests build both
// (test/client/build.test.ts, test/scripts/package.test.ts, to folders of their own), and
// `npm run build` makes dist/. Arguments go to vitest (`npm test -- test/graph`). The exit code
// fails if anything failed, and the summary says what: a test, an error vitest caught outside any
// test (an unhandled rejection, a stream's 'error' nobody listened to: CI fails on those too), a
// check.
import { spawn } from 'node:child_process';
import path from 'node:path';

const bin = (name) => path.join('node_modules', '.bin', name);
const node = process.execPath;
const CHECKS = [
  ['type check + eslint', [node, 'scripts/check.mjs']],
  ['prettier', [bin('prettier'), '--check', '--cache', '--cache-strategy', 'content', '.']],
];
// test/support/summary-reporter.mts ends vitest's output with this line.
const SUMMARY = /^tests: (\d+) passed, (\d+) failed, (\d+) skipped, (\d+) unhandled/m;

const children = new Set();
// eslint-disable-next-line no-control-regex
const plain = (line) => line.replace(/\u001b\[[0-9;]*m/g, '');

/**
 * Runs one command. Its output is kept (printed after vitest's when it failed), or, with `echo`,
 * passed through as it comes and only its lines matching `keep` kept.
 */
function run(command, args, { echo = false, keep, env } = {}) {
  return new Promise((resolve) => {
    const started = Date.now();
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], env });
    children.add(child);
    let output = '';
    const take = (stream) => {
      let partial = ''; // a line cut between chunks, per stream: the two interleave
      return (chunk) => {
        if (!echo) return void (output += chunk);
        stream.write(chunk);
        const lines = (partial + chunk).split('\n');
        partial = lines.pop();
        for (const line of lines.map(plain)) if (keep?.test(line)) output += `${line}\n`;
      };
    };
    child.stdout.on('data', take(process.stdout));
    child.stderr.on('data', take(process.stderr));
    child.on('error', (error) => (output += String(error)));
    child.on('close', (code, signal) => {
      children.delete(child);
      resolve({ ok: code === 0, code: code ?? signal, output, ms: Date.now() - started });
    });
  });
}

async function checks() {
  const results = [];
  for (const [name, [command, ...args]] of CHECKS) {
    results.push({ name, ...(await run(command, args)) });
  }
  return results;
}

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    for (const child of children) child.kill(signal);
    process.exit(130);
  });
}

const started = Date.now();
const [checked, tests] = await Promise.all([
  checks(),
  run(bin('vitest'), ['run', ...process.argv.slice(2)], {
    echo: true,
    keep: SUMMARY,
    // Through a pipe vitest would drop its colours; a person at a terminal keeps them.
    env: process.stdout.isTTY ? { ...process.env, FORCE_COLOR: '1' } : process.env,
  }),
]);
console.log('\nstatic checks:');
for (const c of checked) {
  if (!c.ok) process.stdout.write(c.output);
  console.log(`  ${c.ok ? 'ok    ' : 'FAILED'} ${c.name} (${(c.ms / 1000).toFixed(1)} s)`);
}
const summary = SUMMARY.exec(tests.output);
const stray = summary ? Number(summary[4]) : 0;
console.log(`  ${tests.ok ? 'ok    ' : 'FAILED'} vitest (${(tests.ms / 1000).toFixed(1)} s)`);
if (!summary) console.log('         no summary line: vitest stopped before the end of the run');
else {
  console.log(`         ${summary[1]} passed, ${summary[2]} failed, ${summary[3]} skipped`);
  if (stray > 0) {
    console.log(
      `  FAILED ${stray} unhandled error(s) outside any test (vitest's "Unhandled Errors" above):` +
        ' the run fails even when every test passed',
    );
  }
}
const ok = tests.ok && summary !== null && stray === 0 && checked.every((c) => c.ok);
console.log(`${ok ? 'ok' : 'FAILED'}: npm test in ${((Date.now() - started) / 1000).toFixed(1)} s`);
process.exitCode = ok ? 0 : 1;
