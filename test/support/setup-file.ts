import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { afterAll } from 'vitest';

// Each test file gets a temporary folder of its own (os.tmpdir() reads TMPDIR on every call):
// files run side by side, and some assert that a request left nothing behind in it. A worker runs
// many files one after another, so each starts from the worker's own folder, not the last file's.
const base = (process.env.OMF_TEST_TMP_BASE ??= tmpdir());
const dir = mkdtempSync(path.join(base, 'omf-test-file-'));
for (const name of ['TMPDIR', 'TMP', 'TEMP']) process.env[name] = dir;

afterAll(() => {
  for (const name of ['TMPDIR', 'TMP', 'TEMP']) process.env[name] = base;
  rmSync(dir, { recursive: true, force: true });
});
