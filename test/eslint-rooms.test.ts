import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

import { beforeAll, describe, expect, it } from 'vitest';

import { repoRoot as root, ruleLinter, type RuleLinter } from './support/lint-rule';

const RULE = 'no-restricted-imports';

/**
 * The real eslint.config.mjs decides which room may import which (CONTRIBUTING.md, "Layout"); only
 * that rule runs here (`ruleLinter`).
 */
let rulesFor: RuleLinter['rulesFor'];
let lint: RuleLinter['lint'];

beforeAll(() => {
  ({ rulesFor, lint } = ruleLinter(RULE));
});

describe('lint keeps the dependency direction of src/', () => {
  it.each([
    ['src/core/fixture.ts', "import { type Logger } from '../http/definitions';", 'http'],
    ['src/core/fixture.ts', "import { loadConfig } from '../config';", 'config'],
    ['src/config.ts', "import { createApp } from './app';", 'root'],
    ['src/credentials/fixture.ts', "import { toGraphError } from '../graph/errors';", 'graph'],
    ['src/graph/fixture.ts', "import { createSendService } from '../mail/send';", 'mail'],
    ['src/mail/bulk/fixture.ts', "import { readJson } from '../../http/parse';", 'http'],
    ['src/mail/report/fixture.ts', "export * from '../../functions/send';", 'functions'],
    ['src/http/fixture.ts', "import type { X } from '../functions/send';", 'functions'],
    ['src/functions/fixture.ts', "import { createApp } from '../app';", 'root'],
    ['src/functions/fixture.ts', "import { startSandbox } from '../local/sandbox';", 'local'],
    ['src/app.ts', "import { startLocalHost } from './local/host';", 'local'],
    // Nothing deployed imports src/local, from any depth.
    ['src/mail/bulk/fixture.ts', "import { startSandbox } from '../../local/sandbox';", 'local'],
    ['src/http/fixture.ts', "import { startLocalHost } from '../local/host';", 'local'],
    ['src/index.ts', "import { startAzurite } from './local/azurite';", 'local'],
    ['src/client/fixture.ts', "import { type Problem } from '../http/problem';", 'http'],
    ['src/client/fixture.ts', "import { MESSAGE_FIELDS } from '../graph/messages';", 'graph'],
    ['src/http/fixture.ts', "import { createMailClient } from '../client';", 'client'],
    ['src/app.ts', "import { type MailClient } from './client/index';", 'client'],
  ])('%s: %s is refused', async (file, code, room) => {
    const messages = await lint(code, file);
    expect(messages).toHaveLength(1);
    expect(messages[0]).toContain(`${RULE}: `);
    expect(messages[0]).toContain(`not ${room}:`);
  });

  it.each([
    ['src/core/fixture.ts', "import { z } from 'zod';\nimport { redact } from './logger';"],
    ['src/credentials/fixture.ts', "import { storageUnavailable } from '../storage';"],
    ['src/graph/fixture.ts', "import { type CredentialKey } from '../credentials/types';"],
    ['src/mail/report/fixture.ts', "import { GRAPH_ID } from '../../graph/messages';"],
    ['src/mail/bulk/fixture.ts', "import { type SendService } from '../send-types';"],
    ['src/functions/fixture.ts', "import { readJson } from '../http/parse';"],
    ['src/functions/fixture.ts', "import { pageParams } from '../http/params';"],
    ['src/app.ts', "import { sendFunction } from './functions/send';"],
    ['src/local/fixture.ts', "import { createApp } from '../app';"],
    ['src/client/fixture.ts', "import { MailApiError } from './errors';"],
  ])('%s: %s is allowed', async (file, code) => {
    expect(await lint(code, file)).toEqual([]);
  });

  it.each([
    ['src/functions/fixture.ts', "import { pageParams } from './messages';"],
    ['src/functions/fixture.ts', "import { sendFunction } from './send.ts';"],
    ['src/functions/fixture.ts', "export * from '.';"],
    ['src/functions/fixture.ts', "import type { X } from '../functions/messages';"],
    ['src/functions/nested/fixture.ts', "import { pageParams } from '../messages';"],
  ])('a function file imports no other: %s: %s is refused', async (file, code) => {
    const messages = await lint(code, file);
    expect(messages).toHaveLength(1);
    expect(messages[0]).toContain('imports no other file of it: what two share lives in src/http');
  });

  it('refuses deployed code reaching outside src/', async () => {
    const messages = await lint("import { x } from '../../test/support/stack';", 'src/mail/x.ts');
    expect(messages).toHaveLength(1);
    expect(messages[0]).toContain('src/mail/ must not import from outside src/.');
  });

  it('the rule is on for every deployed file, and the real tree keeps it', async () => {
    const deployed = readdirSync(path.join(root, 'src'), { recursive: true, encoding: 'utf8' })
      .filter((f) => f.endsWith('.ts') && !f.startsWith(`local${path.sep}`))
      .map((f) => path.join('src', f));
    expect(deployed.length).toBeGreaterThan(80);
    const failures: string[] = [];
    for (const file of deployed) {
      if ((await rulesFor(file)) === undefined) failures.push(`${file}: rule off`);
      const code = readFileSync(path.join(root, file), 'utf8');
      for (const message of await lint(code, file)) failures.push(`${file}: ${message}`);
    }
    expect(failures).toEqual([]);
  });
});
