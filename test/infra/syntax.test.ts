import { beforeAll, describe, expect, it } from 'vitest';

import {
  type BicepFile,
  listBicepFiles,
  parseBicep,
  prop,
  readBicep,
  text,
} from '../support/bicep';

describe('Bicep syntax (tree-sitter-bicep; a real `az bicep build` runs in CI)', () => {
  let files: BicepFile[];
  beforeAll(async () => {
    files = await Promise.all(listBicepFiles().map(readBicep));
  });

  it('finds the entry point and its modules', () => {
    expect(files.map((f) => f.file)).toEqual([
      'infra/app/api.bicep',
      'infra/app/rbac.bicep',
      'infra/main.bicep',
    ]);
  });

  it('parses every .bicep file without a syntax error', () => {
    expect(files.flatMap((f) => f.syntaxErrors)).toEqual([]);
  });

  it('every module path points at a file that exists', () => {
    const main = files.find((f) => f.file === 'infra/main.bicep')!;
    const paths = main.modules.map((m) => `infra/${m.path}`);
    expect(paths.sort()).toEqual(['infra/app/api.bicep', 'infra/app/rbac.bicep']);
    for (const modulePath of paths) expect(files.map((f) => f.file)).toContain(modulePath);
  });
});

describe('the Bicep reader itself', () => {
  it('reports a missing brace with its position', async () => {
    const parsed = await parseBicep(
      "param a string\nresource r 'Microsoft.X/y@2020-01-01' = {\n  name: 'n'\n",
      'broken.bicep',
    );
    expect(parsed.syntaxErrors.length).toBeGreaterThan(0);
    expect(parsed.syntaxErrors[0]).toMatch(/^broken\.bicep:\d+:\d+ /);
  });

  it('extracts params, decorators, conditional resources, modules and outputs', async () => {
    const parsed = await parseBicep(
      [
        "targetScope = 'resourceGroup'",
        '@secure()',
        "@description('d')",
        "param secret string = ''",
        'param count int',
        "var settings = { A_B: secret, 'c-d': 'x${count}y', n: 3 }",
        "resource kv 'Microsoft.KeyVault/vaults@2024-11-01' existing = {",
        "  name: 'kv'",
        '}',
        "resource s 'Microsoft.KeyVault/vaults/secrets@2024-11-01' = if (!empty(secret)) {",
        '  parent: kv',
        "  name: 'n'",
        '  properties: { value: secret, enabled: true }',
        '}',
        "module m 'app/x.bicep' = {",
        "  name: 'm'",
        '  params: { p: settings }',
        '}',
        'output OUT string = kv.properties.vaultUri // ftpsState is not set',
      ].join('\n'),
    );
    expect(parsed.code).toMatch(/vaultUri\s*$/);
    expect(parsed.code).not.toMatch(/ftpsState/);
    expect(parsed.syntaxErrors).toEqual([]);
    expect(parsed.targetScope).toBe('resourceGroup');
    expect(parsed.params.get('secret')).toMatchObject({
      type: 'string',
      decorators: ['secure', 'description'],
    });
    expect(parsed.params.get('count')?.defaultValue).toBeUndefined();
    const settings = parsed.vars.get('settings');
    expect(text(prop(settings, 'A_B'))).toBe('secret');
    expect(prop(settings, 'c-d')).toMatchObject({ kind: 'string', literal: undefined });
    expect(text(prop(settings, 'n'))).toBe('3');
    expect(parsed.resources.map((r) => [r.symbol, r.type, r.apiVersion, r.existing])).toEqual([
      ['kv', 'Microsoft.KeyVault/vaults', '2024-11-01', true],
      ['s', 'Microsoft.KeyVault/vaults/secrets', '2024-11-01', false],
    ]);
    expect(parsed.resources[1]!.condition).toBe('!empty(secret)');
    expect(text(prop(parsed.resources[1]!.body, 'properties.enabled'))).toBe('true');
    expect(parsed.modules[0]).toMatchObject({ symbol: 'm', path: 'app/x.bicep' });
    expect(text(parsed.outputs.get('OUT')?.value)).toBe('kv.properties.vaultUri');
  });
});
