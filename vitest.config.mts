import { defineConfig } from 'vitest/config';

import LongestFirstSequencer from './test/support/sequencer.mjs';

// Test files run side by side: most of their time is spent waiting (queue visibility, pacing
// windows, leases, loopback servers), not on the CPU: with two workers on two cores, the workers
// were busy a third of the time. Three keep the cores fed. TEST_WORKERS lowers (1 = one file at a
// time) or raises it for a saturated or a big machine.
const workers = Number(process.env.TEST_WORKERS ?? 3);

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // One Azurite for the run, an account of it per test stack (test/support/storage.ts).
    globalSetup: ['./test/support/global-setup.ts'],
    // A temporary folder per test file (files run side by side).
    setupFiles: ['./test/support/setup-file.ts'],
    pool: 'forks',
    // A worker runs its files one after another in one process instead of a fresh one per file:
    // loading the SDKs, zod and the app again for each of ~90 files cost more CPU than the tests.
    // The code keeps no module singletons (CONTRIBUTING.md), and setup-file.ts resets TMPDIR.
    isolate: false,
    maxWorkers: Number.isInteger(workers) && workers > 0 ? workers : 3,
    // The longest files first (test/support/sequencer.mts).
    sequence: { sequencer: LongestFirstSequencer },
    testTimeout: 30_000,
    hookTimeout: 60_000,
    reporters: ['default', './test/support/summary-reporter.mts'],
  },
});
