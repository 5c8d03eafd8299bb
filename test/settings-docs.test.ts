import { readFileSync } from 'node:fs';
import path from 'node:path';

import { describe, expect, it } from 'vitest';

import { SETTINGS } from '../src/config';

const root = path.join(__dirname, '..');

describe('every setting is documented', () => {
  const sample = JSON.parse(
    readFileSync(path.join(root, 'local.settings.sample.json'), 'utf8'),
  ) as {
    Values: Record<string, string>;
  };
  const readme = readFileSync(path.join(root, 'README.md'), 'utf8');

  it.each(Object.keys(SETTINGS).filter((name) => name !== 'AZURE_CLIENT_ID'))(
    '%s is in local.settings.sample.json and the README',
    (name) => {
      expect(Object.keys(sample.Values)).toContain(name);
      expect(readme).toContain(`\`${name}\``);
    },
  );
});
