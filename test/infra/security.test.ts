import { beforeAll, describe, expect, it } from 'vitest';

import {
  type BicepFile,
  type BicepResource,
  type Infra,
  declared,
  loadInfra,
  prop,
  text,
} from '../support/bicep';

/** Built-in role definition ids, as published by Microsoft (same GUID in every tenant). */
const ROLE = {
  storageBlobDataOwner: 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b',
  storageQueueDataContributor: '974c5e8b-45b9-4653-ba55-5f855dd0fb88',
  storageTableDataContributor: '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3',
  monitoringMetricsPublisher: '3913510d-42f4-4e42-8a64-420c390055eb',
  keyVaultSecretsOfficer: 'b86a8fe4-44ce-4948-aee5-eccb2c155cd7',
  keyVaultCryptoUser: '12338af0-0e69-4776-bea7-57ae8d297424',
};
const BROAD_ROLES = {
  owner: '8e3af657-a8ff-443c-a75c-2fe8c4bcb635',
  contributor: 'b24988ac-6180-42a0-ab88-20f7382dd24c',
  userAccessAdministrator: '18d7d88d-d35e-4fb5-a5c3-7773c20a72d9',
  keyVaultAdministrator: '00482a5a-887f-4fb3-b363-3b7fe8e74483',
  storageAccountContributor: '17d1049b-9a84-46fb-8f53-869881c3d3ab',
};

/** What the code needs, for the app's identity: role → resource type of the scope. */
const IDENTITY_GRANTS: [keyof typeof ROLE, string][] = [
  ['storageBlobDataOwner', 'Microsoft.Storage/storageAccounts'],
  ['storageQueueDataContributor', 'Microsoft.Storage/storageAccounts'],
  ['storageTableDataContributor', 'Microsoft.Storage/storageAccounts'],
  ['monitoringMetricsPublisher', 'Microsoft.Insights/components'],
  ['keyVaultSecretsOfficer', 'Microsoft.KeyVault/vaults'],
  // Wrap/unwrap of the data keys, on the one key that wraps them.
  ['keyVaultCryptoUser', 'Microsoft.KeyVault/vaults/keys'],
];

interface Assignment {
  symbol: string;
  roleId: string | undefined;
  principalId: string | undefined;
  principalType: string | undefined;
  scopeType: string | undefined;
  name: string | undefined;
  condition: string | undefined;
}

function roleAssignments(rbac: BicepFile): Assignment[] {
  const roles = rbac.vars.get('roles');
  return rbac.resources
    .filter((r) => r.type === 'Microsoft.Authorization/roleAssignments')
    .map((r) => {
      const definition = text(prop(r.body, 'properties.roleDefinitionId')) ?? '';
      const roleKey =
        /^subscriptionResourceId\('Microsoft\.Authorization\/roleDefinitions', roles\.(\w+)\)$/.exec(
          definition,
        )?.[1];
      const scope = text(prop(r.body, 'scope'));
      return {
        symbol: r.symbol,
        roleId: roleKey ? text(prop(roles, roleKey)) : undefined,
        principalId: text(prop(r.body, 'properties.principalId')),
        principalType: text(prop(r.body, 'properties.principalType')),
        scopeType: rbac.resources.find((s) => s.symbol === scope && s.existing)?.type,
        name: text(prop(r.body, 'name')),
        condition: r.condition,
      };
    });
}

/**
 * Site properties Flex Consumption rejects or sets itself ("Flex Consumption plan deprecations",
 * learn.microsoft.com/azure/azure-functions/functions-app-settings; Azure/azure-cli#31414).
 */
const FLEX_REJECTED_SITE_CONFIG = [
  'ftpsState',
  'http20Enabled',
  'alwaysOn',
  'use32BitWorkerProcess',
  'linuxFxVersion',
  'netFrameworkVersion',
  'javaVersion',
  'powerShellVersion',
  'preWarmedInstanceCount',
  'functionAppScaleLimit',
  'functionsRuntimeScaleMonitoringEnabled',
  'minimumElasticInstanceCount',
];

function diagnosticsFor(file: BicepFile, scope: string): BicepResource[] {
  return file.resources.filter(
    (r) =>
      r.type === 'Microsoft.Insights/diagnosticSettings' && text(prop(r.body, 'scope')) === scope,
  );
}

/** The log categories a diagnostic setting enables, following a `logs: someVar` reference. */
function logCategories(file: BicepFile, setting: BicepResource): string[] {
  let logs = prop(setting.body, 'properties.logs');
  if (logs?.kind === 'expression') logs = file.vars.get(logs.text);
  if (logs?.kind !== 'array') return [];
  return logs.items
    .filter((item) => text(prop(item, 'enabled')) === 'true')
    .map((item) => text(prop(item, 'category')) ?? '');
}

describe('least-privilege RBAC for the one user-assigned identity', () => {
  let infra: Infra;
  let assignments: Assignment[];
  beforeAll(async () => {
    infra = await loadInfra();
    assignments = roleAssignments(infra.rbac);
  });

  it('every role assignment lives in infra/app/rbac.bicep', () => {
    for (const file of infra.all.filter((f) => f !== infra.rbac)) {
      expect(
        file.resources.filter((r) => r.type === 'Microsoft.Authorization/roleAssignments'),
      ).toEqual([]);
    }
    expect(assignments.length).toBe(10);
  });

  it('the role GUIDs in the one var block are the built-in ones', () => {
    const roles = infra.rbac.vars.get('roles');
    for (const [key, guid] of Object.entries(ROLE)) expect(text(prop(roles, key)), key).toBe(guid);
  });

  it.each(IDENTITY_GRANTS)('identity has %s on its %s, unconditionally', (role, scopeType) => {
    const matches = assignments.filter(
      (a) => a.principalId === 'identityPrincipalId' && a.roleId === ROLE[role],
    );
    expect(matches).toHaveLength(1);
    const [grant] = matches;
    expect(grant).toMatchObject({
      scopeType,
      principalType: 'ServicePrincipal',
      condition: undefined,
    });
    // Deterministic, idempotent name from (scope, principal, role).
    expect(grant!.name).toMatch(
      new RegExp(`^guid\\((\\w+)\\.id, identityPrincipalId, roles\\.${role}\\)$`),
    );
  });

  it('the identity gets nothing beyond those six grants', () => {
    const identity = assignments.filter((a) => a.principalId === 'identityPrincipalId');
    expect(identity.map((a) => a.roleId).sort()).toEqual(Object.values(ROLE).sort());
  });

  it('developer grants exist only when principalId is given', () => {
    const developer = assignments.filter((a) => a.principalId === 'principalId');
    expect(developer.length).toBe(4);
    for (const grant of developer) {
      expect(grant.condition).toBe('grantDeveloper');
      expect(grant.principalType).toBe('principalType');
    }
    expect(text(infra.rbac.vars.get('grantDeveloper'))).toBe('!empty(principalId)');
    expect(developer.map((a) => a.roleId)).toContain(ROLE.keyVaultSecretsOfficer);
  });

  it('no broad role (Owner, Contributor, Key Vault Administrator…) appears anywhere', () => {
    for (const file of infra.all) {
      for (const [name, guid] of Object.entries(BROAD_ROLES)) {
        expect(file.source.toLowerCase().includes(guid), `${file.file}: ${name}`).toBe(false);
      }
    }
  });

  it('main passes the user-assigned identity principal to rbac.bicep', () => {
    const identity = declared(infra.main, 'Microsoft.ManagedIdentity/userAssignedIdentities');
    const rbac = infra.main.modules.find((m) => m.path === 'app/rbac.bicep')!;
    expect(text(prop(rbac.body, 'params.identityPrincipalId'))).toBe(
      `${identity.symbol}.properties.principalId`,
    );
    expect(text(prop(rbac.body, 'params.principalId'))).toBe('principalId');
    expect(text(infra.main.params.get('principalId')?.defaultValue)).toBe('');
  });
});

describe('secure-by-default resource settings', () => {
  let infra: Infra;
  beforeAll(async () => {
    infra = await loadInfra();
  });

  it('no storage keys, no connection strings, no key listing anywhere in infra', () => {
    for (const file of infra.all) {
      for (const pattern of [
        /listKeys\s*\(/i,
        /listConnectionStrings\s*\(/i,
        /AccountKey=/i,
        /DefaultEndpointsProtocol/i,
        /SharedAccessSignature/i,
        /primaryKey/i,
        /InstrumentationKey/i,
      ]) {
        expect(pattern.test(file.source), `${file.file} matches ${pattern}`).toBe(false);
      }
    }
  });

  it('every resource type pins a GA API version, the same one in every file', () => {
    const versions = new Map<string, Set<string>>();
    for (const file of infra.all) {
      for (const resource of file.resources) {
        expect(resource.apiVersion, `${file.file} ${resource.symbol}`).toMatch(
          // Diagnostic settings have no GA version newer than 2016: the Azure Monitor REST
          // reference (and every Microsoft template) uses 2021-05-01-preview.
          resource.type === 'Microsoft.Insights/diagnosticSettings'
            ? /^2021-05-01-preview$/
            : /^\d{4}-\d{2}-\d{2}$/,
        );
        expect(resource.type).toMatch(/^Microsoft\.\w+\/[\w/]+$/);
        const seen = versions.get(resource.type) ?? new Set<string>();
        seen.add(resource.apiVersion);
        versions.set(resource.type, seen);
      }
    }
    for (const [type, seen] of versions) expect([...seen], type).toHaveLength(1);
    // Plain resources only: registry modules (br/…) cannot be read by these tests or resolved offline.
    for (const file of infra.all) {
      for (const module of file.modules) expect(module.path).toMatch(/^app\/\w+\.bicep$/);
    }
  });

  it('exactly one user-assigned identity and no system-assigned identity', () => {
    const all = infra.all.flatMap((f) => f.resources);
    expect(
      all.filter((r) => r.type === 'Microsoft.ManagedIdentity/userAssignedIdentities'),
    ).toHaveLength(1);
    for (const file of infra.all) expect(file.source).not.toMatch(/SystemAssigned/);
    const site = declared(infra.api, 'Microsoft.Web/sites');
    expect(text(prop(site.body, 'identity.type'))).toBe('UserAssigned');
    const assigned = prop(site.body, 'identity.userAssignedIdentities');
    expect(assigned?.kind === 'object' ? [...assigned.props.keys()] : []).toEqual([
      "'${identityId}'",
    ]);
    const api = infra.main.modules.find((m) => m.path === 'app/api.bicep')!;
    const identity = declared(infra.main, 'Microsoft.ManagedIdentity/userAssignedIdentities');
    expect(text(prop(api.body, 'params.identityId'))).toBe(`${identity.symbol}.id`);
    expect(text(prop(api.body, 'params.identityClientId'))).toBe(
      `${identity.symbol}.properties.clientId`,
    );
  });

  it('storage: no shared keys, no public blobs, TLS 1.2, https only', () => {
    const storage = declared(infra.main, 'Microsoft.Storage/storageAccounts');
    const expected: Record<string, string> = {
      'properties.allowSharedKeyAccess': 'false',
      'properties.allowBlobPublicAccess': 'false',
      'properties.minimumTlsVersion': 'TLS1_2',
      'properties.supportsHttpsTrafficOnly': 'true',
      'properties.defaultToOAuthAuthentication': 'true',
      'properties.allowCrossTenantReplication': 'false',
    };
    for (const [key, value] of Object.entries(expected))
      expect(text(prop(storage.body, key)), key).toBe(value);
    const container = declared(
      infra.main,
      'Microsoft.Storage/storageAccounts/blobServices/containers',
    );
    expect(text(prop(container.body, 'properties.publicAccess'))).toBe('None');
  });

  it('Key Vault: RBAC, soft delete, purge protection, standard SKU, no enabledFor*', () => {
    const vault = declared(infra.main, 'Microsoft.KeyVault/vaults');
    const expected: Record<string, string> = {
      'properties.enableRbacAuthorization': 'true',
      'properties.enableSoftDelete': 'true',
      'properties.enablePurgeProtection': 'true',
      'properties.sku.name': 'standard',
      'properties.sku.family': 'A',
      'properties.enabledForDeployment': 'false',
      'properties.enabledForDiskEncryption': 'false',
      'properties.enabledForTemplateDeployment': 'false',
      'properties.publicNetworkAccess': 'keyVaultPublicNetworkAccess',
    };
    for (const [key, value] of Object.entries(expected))
      expect(text(prop(vault.body, key)), key).toBe(value);
    expect(prop(vault.body, 'properties.accessPolicies')).toBeUndefined();
    const access = infra.main.params.get('keyVaultPublicNetworkAccess')!;
    expect(access.decorators).toContain('allowed');
    expect(text(access.defaultValue)).toBe('Enabled');
  });

  it('Application Insights: local auth off, backed by Log Analytics', () => {
    const appInsights = declared(infra.main, 'Microsoft.Insights/components');
    const workspace = declared(infra.main, 'Microsoft.OperationalInsights/workspaces');
    expect(text(prop(appInsights.body, 'properties.DisableLocalAuth'))).toBe('true');
    expect(text(prop(appInsights.body, 'properties.WorkspaceResourceId'))).toBe(
      `${workspace.symbol}.id`,
    );
  });

  it('site: HTTPS only, TLS 1.2, FTP off, basic publishing credentials off, CORS empty', () => {
    const site = declared(infra.api, 'Microsoft.Web/sites');
    const expected: Record<string, string> = {
      'properties.httpsOnly': 'true',
      'properties.siteConfig.minTlsVersion': '1.2',
      'properties.siteConfig.scmMinTlsVersion': '1.2',
      'properties.siteConfig.cors.allowedOrigins': 'corsAllowedOrigins',
    };
    for (const [key, value] of Object.entries(expected))
      expect(text(prop(site.body, key)), key).toBe(value);
    expect(text(infra.main.params.get('corsAllowedOrigins')?.defaultValue)).toBe('[]');
    const policies = infra.api.resources.filter(
      (r) => r.type === 'Microsoft.Web/sites/basicPublishingCredentialsPolicies',
    );
    expect(policies.map((p) => text(prop(p.body, 'name'))).sort()).toEqual(['ftp', 'scm']);
    for (const policy of policies) {
      expect(text(prop(policy.body, 'properties.allow'))).toBe('false');
      expect(text(prop(policy.body, 'parent'))).toBe(site.symbol);
    }
  });

  it('no site property Flex Consumption rejects or manages itself (ARM error 51021)', () => {
    const site = declared(infra.api, 'Microsoft.Web/sites');
    const siteConfig = prop(site.body, 'properties.siteConfig');
    expect(siteConfig?.kind).toBe('object');
    const keys = siteConfig?.kind === 'object' ? [...siteConfig.props.keys()] : [];
    expect(keys.sort()).toEqual(['cors', 'minTlsVersion', 'scmMinTlsVersion']);
    // Nowhere in infra, not even through a variable or another resource.
    for (const file of infra.all) {
      for (const name of FLEX_REJECTED_SITE_CONFIG) {
        expect(file.code, `${file.file}: ${name}`).not.toMatch(new RegExp(`\\b${name}\\b`));
      }
    }
  });

  it('Flex Consumption FC1, Node 22, 2048 MB, package pulled by the identity', () => {
    const plan = declared(infra.api, 'Microsoft.Web/serverfarms');
    expect(text(prop(plan.body, 'sku.name'))).toBe('FC1');
    expect(text(prop(plan.body, 'sku.tier'))).toBe('FlexConsumption');
    expect(text(prop(plan.body, 'properties.reserved'))).toBe('true');
    const site = declared(infra.api, 'Microsoft.Web/sites');
    expect(text(prop(site.body, 'kind'))).toBe('functionapp,linux');
    expect(text(prop(site.body, 'properties.serverFarmId'))).toBe(`${plan.symbol}.id`);
    const config = 'properties.functionAppConfig';
    expect(text(prop(site.body, `${config}.runtime.name`))).toBe('node');
    expect(text(prop(site.body, `${config}.runtime.version`))).toBe('22');
    expect(text(prop(site.body, `${config}.scaleAndConcurrency.instanceMemoryMB`))).toBe(
      'instanceMemoryMB',
    );
    expect(text(infra.main.params.get('instanceMemoryMB')?.defaultValue)).toBe('2048');
    const storage = `${config}.deployment.storage`;
    expect(text(prop(site.body, `${storage}.type`))).toBe('blobContainer');
    expect(prop(site.body, `${storage}.value`)?.text).toBe(
      "'${storage.properties.primaryEndpoints.blob}${deploymentContainerName}'",
    );
    expect(text(prop(site.body, `${storage}.authentication.type`))).toBe('UserAssignedIdentity');
    expect(text(prop(site.body, `${storage}.authentication.userAssignedIdentityResourceId`))).toBe(
      'identityId',
    );
    // The container main.bicep creates is the one the site is told about.
    const container = declared(
      infra.main,
      'Microsoft.Storage/storageAccounts/blobServices/containers',
    );
    expect(text(prop(container.body, 'name'))).toBe('deploymentContainerName');
    const api = infra.main.modules.find((m) => m.path === 'app/api.bicep')!;
    expect(text(prop(api.body, 'params.deploymentContainerName'))).toBe('deploymentContainerName');
  });

  it('the site is configured only once its roles, the client secret and the package container exist', () => {
    // The app settings (and the CLIENT_SECRET Key Vault reference in them) live in api.bicep, so
    // the whole module waits: a reference resolved before the secret or the role exists stays
    // unresolved until the next refresh.
    const api = infra.main.modules.find((m) => m.path === 'app/api.bicep')!;
    const rbac = infra.main.modules.find((m) => m.path === 'app/rbac.bicep')!;
    const secret = declared(infra.main, 'Microsoft.KeyVault/vaults/secrets');
    const container = declared(
      infra.main,
      'Microsoft.Storage/storageAccounts/blobServices/containers',
    );
    const dependsOn = prop(api.body, 'dependsOn');
    expect(dependsOn?.kind === 'array' ? dependsOn.items.map((i) => i.text).sort() : []).toEqual(
      [rbac.symbol, secret.symbol, container.symbol].sort(),
    );
    expect(infra.api.vars.get('appSettings')?.text).toMatch(
      /CLIENT_SECRET: .*'@Microsoft\.KeyVault/,
    );
    expect(infra.api.vars.get('appSettings')?.text).toMatch(
      /CLIENT_CERTIFICATE: .*'@Microsoft\.KeyVault/,
    );
    // The role that lets the identity read the secret is in that module, unconditionally.
    const grant = infra.rbac.resources.find(
      (r) =>
        text(prop(r.body, 'properties.principalId')) === 'identityPrincipalId' &&
        text(prop(r.body, 'scope')) === 'keyVault',
    );
    expect(grant?.condition).toBeUndefined();
  });

  it('Key Vault sends its audit log to the Log Analytics workspace', () => {
    const workspace = declared(infra.main, 'Microsoft.OperationalInsights/workspaces');
    const vault = declared(infra.main, 'Microsoft.KeyVault/vaults');
    const settings = diagnosticsFor(infra.main, vault.symbol);
    expect(settings).toHaveLength(1);
    expect(text(prop(settings[0]!.body, 'properties.workspaceId'))).toBe(`${workspace.symbol}.id`);
    expect(logCategories(infra.main, settings[0]!)).toEqual(['AuditEvent']);
  });

  it.each([
    ['blob', 'Microsoft.Storage/storageAccounts/blobServices'],
    ['queue', 'Microsoft.Storage/storageAccounts/queueServices'],
    ['table', 'Microsoft.Storage/storageAccounts/tableServices'],
  ])('storage %s service logs reads, writes and deletes to the workspace', (_name, type) => {
    const workspace = declared(infra.main, 'Microsoft.OperationalInsights/workspaces');
    const storage = declared(infra.main, 'Microsoft.Storage/storageAccounts');
    const service = declared(infra.main, type);
    expect(text(prop(service.body, 'parent'))).toBe(storage.symbol);
    expect(text(prop(service.body, 'name'))).toBe('default');
    const settings = diagnosticsFor(infra.main, service.symbol);
    expect(settings).toHaveLength(1);
    expect(text(prop(settings[0]!.body, 'properties.workspaceId'))).toBe(`${workspace.symbol}.id`);
    expect(logCategories(infra.main, settings[0]!).sort()).toEqual([
      'StorageDelete',
      'StorageRead',
      'StorageWrite',
    ]);
  });

  it('names are lower case and validated: the app name by length and characters', () => {
    expect(text(infra.main.vars.get('resourceToken'))).toMatch(/^toLower\(uniqueString\(/);
    const appNameParam = infra.main.params.get('functionAppName')!;
    expect(appNameParam.decorators).toContain('maxLength');
    expect(text(infra.main.vars.get('appNameCharacters'))).toBe(
      'abcdefghijklmnopqrstuvwxyz0123456789-',
    );
    const check = text(infra.main.vars.get('appNameIsValid')) ?? '';
    expect(check).toMatch(/length\(candidateAppName\) >= 2/);
    expect(check).toMatch(/!startsWith\(candidateAppName, '-'\)/);
    expect(check).toMatch(/!endsWith\(candidateAppName, '-'\)/);
    expect(check).toMatch(/!contains\(appNameCharacters, substring\(candidateAppName, i, 1\)\)/);
    // An invalid name stops the deployment with a message instead of reaching the resource.
    expect(text(infra.main.vars.get('appName'))).toMatch(
      /^appNameIsValid \? candidateAppName : fail\('functionAppName must/,
    );
    // The container name cannot end in a hyphen or hold two in a row, whatever the cut.
    expect(text(infra.main.vars.get('deploymentContainerName'))).toBe(
      "'app-package-${take(replace(appName, '-', ''), 32)}-${take(uniqueString(appName, resourceToken), 7)}'",
    );
    // Every name derived in main.bicep comes from the lower-case token or the checked app name.
    for (const resource of infra.main.resources.filter((r) => !r.existing)) {
      const name = prop(resource.body, 'name');
      // The literal parts; interpolated parts are the token, abbreviations or the app name.
      const literal = name?.kind === 'string' ? name.text.replace(/\$\{[^}]*\}/g, '') : '';
      expect(literal, resource.symbol).not.toMatch(/[A-Z]/);
      if (name?.kind === 'string') {
        for (const [, part] of name.text.matchAll(/\$\{([^}]*)\}/g)) {
          expect(part, resource.symbol).toMatch(/^(abbrs\.\w+|resourceToken|appName)$/);
        }
      }
    }
  });
});
