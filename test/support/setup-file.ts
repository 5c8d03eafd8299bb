import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { afterAll } from 'vitest';

// Each test file gets a temporary folder of its own (os.tmpdir() reads TMPDIR on every call):
// files run side by side, and some assert that a request left nothing behind in it.
const dir = mkdtempSync(path.join(tmpdir(), 'omf-test-file-'));
for (const name of ['TMPDIR', 'TMP', 'TEMP']) process.env[name] = dir;

afterAll(() => rmSync(dir, { recursive: true, force: true }));
