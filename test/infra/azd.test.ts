import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';

import {
  type Infra,
  INFRA_DIR,
  REPO_ROOT,
  declared,
  loadInfra,
  prop,
  text,
} from '../support/bicep';

interface Hook {
  shell: string;
  run: string;
  windows?: { shell: string; run: string };
}

interface AzureYaml {
  name: string;
  infra: { provider: string; path: string; module: string };
  services: Record<
    string,
    {
      project: string;
      language: string;
      host: string;
      dist?: string;
      remoteBuild?: boolean;
      hooks?: Record<string, Hook>;
    }
  >;
}

interface ParameterFile {
  parameters: Record<string, { value: unknown }>;
}

interface Workflow {
  on: unknown;
  jobs: Record<
    string,
    {
      'runs-on': string;
      if?: string;
      permissions?: Record<string, string>;
      env?: Record<string, string>;
      steps: { uses?: string; run?: string; with?: Record<string, unknown> }[];
    }
  >;
}

interface BicepConfig {
  analyzers: { core: { enabled: boolean; rules: Record<string, { level: string }> } };
}

const read = (file: string) => readFileSync(path.join(REPO_ROOT, file), 'utf8');

describe('azd wiring', () => {
  let infra: Infra;
  let azureYaml: AzureYaml;
  let parameterFile: ParameterFile;
  beforeAll(async () => {
    infra = await loadInfra();
    azureYaml = parse(read('azure.yaml')) as AzureYaml;
    parameterFile = JSON.parse(read('infra/main.parameters.json')) as ParameterFile;
  });

  it('azure.yaml deploys this project as the function service "api" with infra/main.bicep', () => {
    expect(azureYaml.infra).toEqual({ provider: 'bicep', path: 'infra', module: 'main' });
    expect(
      existsSync(path.join(REPO_ROOT, azureYaml.infra.path, `${azureYaml.infra.module}.bicep`)),
    ).toBe(true);
    expect(Object.keys(azureYaml.services)).toEqual(['api']);
    expect(azureYaml.services.api).toMatchObject({
      project: '.',
      language: 'ts',
      host: 'function',
    });
    expect(existsSync(path.join(REPO_ROOT, azureYaml.services.api!.project, 'package.json'))).toBe(
      true,
    );
  });

  it('deploys the staged package that `npm run package` writes just before azd zips it', () => {
    const api = azureYaml.services.api!;
    expect(api.dist).toBe('.deploy');
    const scripts = (JSON.parse(read('package.json')) as { scripts: Record<string, string> })
      .scripts;
    expect(scripts.package).toMatch(/node scripts\/package\.mjs$/);
    expect(read('scripts/package.mjs')).toMatch(/default: '\.deploy'/);
    const hook = api.hooks?.prepackage;
    expect(hook).toMatchObject({ shell: 'sh', run: 'npm run package' });
    expect(hook?.windows).toEqual({ shell: 'pwsh', run: 'npm run package' });
    expect(read('.gitignore').split('\n')).toContain('.deploy/');
  });

  it('remoteBuild is off, and .funcignore lets azd accept that (azd ≥ 1.23.12)', () => {
    // The bundle needs nothing installed on Azure. azd refuses `remoteBuild: false` when the
    // project's .funcignore excludes node_modules ("cannot be used when '.funcignore' excludes
    // node_modules"), whatever the staged folder holds.
    expect(azureYaml.services.api!.remoteBuild).toBe(false);
    const patterns = read('.funcignore')
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line !== '' && !line.startsWith('#'));
    const bare = (p: string) => p.replace(/^\/|^\*\*\//, '').replace(/\/(\*\*)?$/, '');
    expect(patterns.map(bare)).not.toContain('node_modules');
    // A publish of the repository root (Core Tools) leaves secrets out.
    for (const secret of ['.env', '.env.*', 'local.settings.json', '.azure', '.local']) {
      expect(patterns, secret).toContain(secret);
    }
  });

  it('main.bicep is resource-group scoped, so az deployment group create works too', () => {
    expect(infra.main.targetScope).toBe('resourceGroup');
    for (const file of infra.all) {
      expect(file.resources.filter((r) => r.type === 'Microsoft.Resources/resourceGroups')).toEqual(
        [],
      );
    }
    expect(text(infra.main.vars.get('resourceToken'))).toMatch(
      /uniqueString\(.*resourceGroup\(\)\.id.*environmentName/,
    );
  });

  it('main.parameters.json maps existing params only, and every required param', () => {
    const mapped = Object.keys(parameterFile.parameters);
    for (const name of mapped) expect(infra.main.params.has(name), name).toBe(true);
    for (const param of infra.main.params.values()) {
      if (param.defaultValue === undefined) expect(mapped, param.name).toContain(param.name);
    }
    expect(parameterFile.parameters.environmentName?.value).toBe('${AZURE_ENV_NAME}');
    expect(parameterFile.parameters.location?.value).toBe('${AZURE_LOCATION}');
    expect(parameterFile.parameters.principalId?.value).toBe('${AZURE_PRINCIPAL_ID}');
    expect(infra.main.params.get('location')?.decorators).toContain('metadata');
  });

  it('every setting azd reads from the environment is explained in docs/deploy.md', () => {
    const doc = read('docs/deploy.md');
    const names = Object.values(parameterFile.parameters)
      .map((p) => /^\$\{(\w+)(=[^}]*)?\}$/.exec(String(p.value))?.[1])
      .filter((name): name is string => name !== undefined && !name.startsWith('AZURE_'));
    expect(names.length).toBeGreaterThan(15);
    for (const name of names) expect(doc, name).toContain(`\`${name}\``);
  });

  it('outputs are UPPER_SNAKE and give azd what it and the docs need', () => {
    for (const name of infra.main.outputs.keys()) expect(name).toMatch(/^[A-Z][A-Z0-9_]*$/);
    const out = (name: string) => text(infra.main.outputs.get(name)?.value);
    const api = infra.main.modules.find((m) => m.path === 'app/api.bicep')!.symbol;
    const vault = declared(infra.main, 'Microsoft.KeyVault/vaults').symbol;
    expect(out('AZURE_FUNCTION_NAME')).toBe(`${api}.outputs.name`);
    expect(out('SERVICE_API_NAME')).toBe(`${api}.outputs.name`);
    expect(out('PUBLIC_BASE_URL')).toBe(`${api}.outputs.publicBaseUrl`);
    expect(infra.main.outputs.get('OAUTH_REDIRECT_URI')?.value.text).toBe(
      `'\${${api}.outputs.publicBaseUrl}/api/oauth/callback'`,
    );
    expect(out('KEY_VAULT_URL')).toBe(`${vault}.properties.vaultUri`);
    expect(out('KEY_VAULT_NAME')).toBe(`${vault}.name`);
    expect(out('AZURE_TENANT_ID')).toBe('tenant().tenantId');
    // The module outputs those names refer to exist.
    expect([...infra.api.outputs.keys()].sort()).toEqual([
      'defaultHostName',
      'name',
      'publicBaseUrl',
    ]);
  });

  it('resources carry azd-env-name, and the site azd-service-name: api', () => {
    expect(text(prop(infra.main.vars.get('tags'), 'azd-env-name'))).toBe('environmentName');
    for (const resource of infra.main.resources.filter((r) => prop(r.body, 'location'))) {
      expect(text(prop(resource.body, 'tags')), resource.symbol).toBe('tags');
    }
    const site = declared(infra.api, 'Microsoft.Web/sites');
    expect(prop(site.body, 'tags')?.text).toMatch(
      /^union\(tags, \{\s*'azd-service-name': 'api'\s*\}\)$/,
    );
    const api = infra.main.modules.find((m) => m.path === 'app/api.bicep')!;
    expect(text(prop(api.body, 'params.tags'))).toBe('tags');
  });

  it('names come from abbreviations.json keys that exist', () => {
    const abbreviations = JSON.parse(
      readFileSync(path.join(INFRA_DIR, 'abbreviations.json'), 'utf8'),
    ) as Record<string, string>;
    const used = [...infra.main.source.matchAll(/abbrs\.(\w+)/g)].map((m) => m[1]!);
    expect(used.length).toBeGreaterThan(5);
    for (const key of used) expect(abbreviations[key], key).toMatch(/^[a-z]+-?$/);
    expect(text(infra.main.vars.get('abbrs'))).toBe("loadJsonContent('abbreviations.json')");
  });
});

describe('CI workflow', () => {
  let workflow: Workflow;
  beforeAll(() => {
    workflow = parse(read('.github/workflows/ci.yml')) as Workflow;
  });

  it('installs with npm ci on Node 22 and runs npm test', () => {
    const steps = workflow.jobs.test!.steps;
    expect(
      steps.find((s) => s.uses?.startsWith('actions/setup-node@'))?.with?.['node-version'],
    ).toBe(22);
    const runs = steps.map((s) => s.run ?? '');
    expect(runs.some((r) => /^npm ci\b/.test(r))).toBe(true);
    expect(runs).toContain('npm test');
  });

  it('compiles and lints the Bicep with the real tools, failing on any warning', () => {
    const runs = workflow.jobs.bicep!.steps.map((s) => s.run ?? '');
    const build = runs.find((r) => r.startsWith('az bicep build --file infra/main.bicep'));
    expect(build).toMatch(/if grep -qi 'warning' bicep-build\.log; then exit 1; fi/);
    expect(runs.some((r) => /az bicep lint --file "\$file"/.test(r))).toBe(true);
    expect(runs.find((r) => r.includes('az bicep lint'))).toMatch(
      /infra\/main\.bicep infra\/app\/\*\.bicep/,
    );
    // The linter's rules are raised from their default (warning) to error.
    const config = JSON.parse(read('infra/bicepconfig.json')) as BicepConfig;
    expect(config.analyzers.core.enabled).toBe(true);
    const rules = Object.entries(config.analyzers.core.rules);
    for (const [rule, { level }] of rules) expect(level, rule).toBe('error');
    expect(rules.map(([rule]) => rule)).toEqual(
      expect.arrayContaining([
        'no-unused-params',
        'no-unused-vars',
        'no-unnecessary-dependson',
        'no-hardcoded-env-urls',
        'outputs-should-not-contain-secrets',
        'secure-secrets-in-params',
        'use-secure-value-for-secure-inputs',
        'use-resource-symbol-reference',
      ]),
    );
  });

  it('builds the deployable package on a clean checkout', () => {
    const runs = workflow.jobs.test!.steps.map((s) => s.run ?? '');
    expect(runs).toContain('npm run package');
  });

  it('previews a provision only where OIDC repository variables are set, never on pull requests', () => {
    const preview = workflow.jobs.preview!;
    expect(preview.if).toBe(
      "${{ vars.AZURE_CLIENT_ID != '' && github.event_name != 'pull_request' }}",
    );
    expect(preview.permissions).toEqual({ contents: 'read', 'id-token': 'write' });
    for (const name of ['AZURE_CLIENT_ID', 'AZURE_TENANT_ID', 'AZURE_SUBSCRIPTION_ID']) {
      expect(preview.env?.[name]).toBe(`\${{ vars.${name} }}`);
    }
    const runs = preview.steps.map((s) => s.run ?? '').join('\n');
    expect(runs).toMatch(/--federated-credential-provider github/);
    expect(runs).toMatch(/azd provision --preview --no-prompt/);
    // Secrets are not needed: no `secrets.` anywhere in the workflow.
    expect(read('.github/workflows/ci.yml')).not.toMatch(/secrets\./);
    expect(read('docs/deploy.md')).toMatch(/AZURE_CLIENT_ID/);
  });
});
