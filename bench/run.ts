/**
 * `npm run bench`: every figure is printed with a baseline measured in the same run, so the
 * ratios hold on any machine. Areas add their benchmark to the list below.
 */
import { benchActions } from './actions';
import { benchBulk } from './bulk';
import { benchColdStart } from './cold-start';
import { benchConcurrency } from './concurrency';
import { benchNotifications } from './notifications';
import { benchRead } from './read';
import { type BenchResult, formatResult } from './result';
import { benchSend } from './send';
import { benchTokens } from './tokens';

const benchmarks: Array<[string, () => BenchResult[] | Promise<BenchResult[]>]> = [
  ['cold start', () => benchColdStart()],
  ['tokens', benchTokens],
  ['read', benchRead],
  ['send', benchSend],
  ['bulk', benchBulk],
  ['notifications', benchNotifications],
  ['actions', benchActions],
  ['concurrency', benchConcurrency],
];

async function main(): Promise<void> {
  for (const [area, run] of benchmarks) {
    const startedAt = Date.now();
    console.log(`\n== ${area}`);
    for (const result of await run()) console.log(`  ${formatResult(result)}`);
    console.log(`  (${((Date.now() - startedAt) / 1000).toFixed(1)} s)`);
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
