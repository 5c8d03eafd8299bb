import { execFileSync } from 'node:child_process';
import path from 'node:path';

import { type BenchResult, median } from './result';

const root = path.resolve(__dirname, '..');

/** Time for a fresh Node process to require a module, measured inside the process. */
function requireTimeMs(script: string, env: Record<string, string>): number {
  const out = execFileSync(
    process.execPath,
    [
      '-e',
      `const t=process.hrtime.bigint();${script};process.stdout.write('\\nbench-ms='+Number(process.hrtime.bigint()-t)/1e6)`,
    ],
    { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'ignore'] },
  );
  // The library prints test-mode warnings to stdout; the figure is on its own marked line.
  return Number(/bench-ms=([\d.]+)/.exec(out.toString())?.[1]);
}

/**
 * Cold start: importing the built app (config validated, every function registered) against a
 * bare @azure/functions app with one function, median of several fresh processes each.
 */
export function benchColdStart(runs = 7): BenchResult[] {
  const env = {
    PUBLIC_BASE_URL: 'http://127.0.0.1:7071',
    LOCAL_DATA_DIR: path.join(root, '.local/bench'),
  };
  const ours: number[] = [];
  const bare: number[] = [];
  for (let i = 0; i < runs; i++) {
    ours.push(requireTimeMs(`require('./dist/index.js')`, env));
    bare.push(
      requireTimeMs(
        `require('@azure/functions').app.http('hello',{handler:async()=>({body:'hi'})})`,
        env,
      ),
    );
  }
  return [
    {
      name: 'cold start: import the built app (all functions registered)',
      value: median(ours),
      unit: 'ms',
      baseline: median(bare),
      baselineName: 'bare @azure/functions app with one function',
    },
  ];
}
