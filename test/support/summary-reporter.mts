import type { Reporter, SerializedError, TestModule } from 'vitest/node';

/**
 * Prints the plain "N passed, N failed" line that CI reads, after vitest's own summary. Errors
 * vitest caught outside any test (an unhandled rejection, a stream's 'error' with no listener)
 * fail the run even when every test passed, so the line counts them too and says so.
 */
export default class SummaryReporter implements Reporter {
  onTestRunEnd(
    testModules: ReadonlyArray<TestModule>,
    unhandledErrors: ReadonlyArray<SerializedError>,
  ): void {
    let passed = 0;
    let failed = 0;
    let skipped = 0;
    for (const module of testModules) {
      for (const test of module.children.allTests()) {
        const state = test.result().state;
        if (state === 'passed') passed++;
        else if (state === 'failed') failed++;
        else skipped++;
      }
    }
    const stray = unhandledErrors.length;
    console.log(
      `\ntests: ${passed} passed, ${failed} failed, ${skipped} skipped, ${stray} unhandled error${stray === 1 ? '' : 's'}` +
        (stray > 0 ? ' (outside any test: the run fails)' : ''),
    );
    for (const error of unhandledErrors) {
      console.log(`  unhandled: ${error.name ?? 'Error'}: ${error.message ?? ''}`);
    }
  }
}
