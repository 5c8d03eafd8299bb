import { defineConfig } from 'vitest/config';

/** `npm run test:browser`: the pages a person sees, in Debian's Chromium (never part of `npm test`). */
export default defineConfig({
  test: {
    include: ['test/browser/**/*.browser.ts'],
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 120_000,
    reporters: ['default', './test/support/summary-reporter.mts'],
  },
});
