import { readFileSync } from 'node:fs';
import path from 'node:path';

import { beforeAll, describe, expect, it } from 'vitest';

import { SETTINGS, type SettingName } from '../../src/config';
import {
  type BicepObject,
  type Infra,
  INFRA_DIR,
  declared,
  loadInfra,
  prop,
  text,
} from '../support/bicep';

/** Settings that must NOT be set in Azure, and why. */
const NOT_SET_IN_AZURE: Partial<Record<SettingName, string>> = {
  LOCAL_DATA_DIR: 'the local encrypted store is dev only',
  AzureWebJobsStorage:
    'a connection string; Azure uses the AzureWebJobsStorage__* identity settings',
};

/**
 * App settings Flex Consumption deprecates (runtime, scale and package come from functionAppConfig;
 * "Flex Consumption plan deprecations" in learn.microsoft.com/azure/azure-functions/functions-app-settings),
 * plus the key-based ones this template never uses.
 */
const FORBIDDEN_ON_FLEX = [
  'FUNCTIONS_WORKER_RUNTIME',
  'FUNCTIONS_EXTENSION_VERSION',
  'FUNCTIONS_MAX_HTTP_CONCURRENCY',
  'FUNCTIONS_WORKER_PROCESS_COUNT',
  'FUNCTIONS_WORKER_DYNAMIC_CONCURRENCY_ENABLED',
  'SCM_DO_BUILD_DURING_DEPLOYMENT',
  'ENABLE_ORYX_BUILD',
  'WEBSITE_RUN_FROM_PACKAGE',
  'WEBSITE_CONTENTSHARE',
  'WEBSITE_CONTENTAZUREFILECONNECTIONSTRING',
  'WEBSITE_CONTENTOVERVNET',
  'WEBSITE_SKIP_CONTENTSHARE_VALIDATION',
  'WEBSITE_NODE_DEFAULT_VERSION',
  'WEBSITE_MAX_DYNAMIC_APPLICATION_SCALE_OUT',
  'WEBSITE_MOUNT_ENABLED',
  'WEBSITE_USE_PLACEHOLDER_DOTNETISOLATED',
  'WEBSITE_VNET_ROUTE_ALL',
  'WEBSITE_DNS_SERVER',
  'WEBSITE_TIME_ZONE',
  'TZ',
  'APPINSIGHTS_INSTRUMENTATIONKEY',
  'AzureWebJobsStorage',
];

interface ParameterFile {
  parameters: Record<string, { value: unknown }>;
}

describe('app settings cover src/config.ts SETTINGS', () => {
  let infra: Infra;
  let appSettings: BicepObject;
  let optional: BicepObject;
  let parameterFile: ParameterFile;

  beforeAll(async () => {
    infra = await loadInfra();
    appSettings = infra.api.vars.get('appSettings') as BicepObject;
    optional = infra.main.vars.get('optionalAppSettings') as BicepObject;
    parameterFile = JSON.parse(
      readFileSync(path.join(INFRA_DIR, 'main.parameters.json'), 'utf8'),
    ) as ParameterFile;
  });

  it('the site config writes appSettings over the deployer-chosen optional settings', () => {
    expect(appSettings?.kind).toBe('object');
    expect(optional?.kind).toBe('object');
    const config = declared(infra.api, 'Microsoft.Web/sites/config');
    expect(text(prop(config.body, 'name'))).toBe('appsettings');
    expect(text(prop(config.body, 'properties'))).toBe('union(deployerSettings, appSettings)');
    // Empty optional values are dropped so the app's own defaults apply.
    expect(infra.api.vars.get('deployerSettings')?.text).toMatch(
      /filter\(items\(optionalAppSettings\), (\w+) => !empty\(\1\.value\)\)/,
    );
    const apiModule = infra.main.modules.find((m) => m.path === 'app/api.bicep')!;
    expect(text(prop(apiModule.body, 'params.optionalAppSettings'))).toBe('optionalAppSettings');
  });

  it.each(Object.keys(SETTINGS).filter((k) => SETTINGS[k as SettingName].requiredInAzure))(
    'required setting %s is always set, to a non-empty value',
    (name) => {
      const value = appSettings.props.get(name);
      expect(value, `${name} missing from api.bicep appSettings`).toBeDefined();
      expect(text(value)).not.toBe('');
      expect(optional.props.has(name), `${name} must not be optional`).toBe(false);
    },
  );

  it.each(
    Object.keys(SETTINGS).filter(
      (k) => !SETTINGS[k as SettingName].requiredInAzure && !(k in NOT_SET_IN_AZURE),
    ),
  )('optional setting %s is set or is a parameter passed through from azd', (name) => {
    if (appSettings.props.has(name)) return;
    const value = optional.props.get(name);
    expect(value, `${name} is neither set nor parameterised`).toBeDefined();
    // main.bicep: a param with an empty default (= not set) …
    const paramName = text(value)!;
    const param = infra.main.params.get(paramName);
    expect(param, `optionalAppSettings.${name} must be a param`).toBeDefined();
    expect(param!.type).toBe('string');
    expect(text(param!.defaultValue)).toBe('');
    // … that azd fills from the environment variable of the same name.
    expect(parameterFile.parameters[paramName]?.value).toBe(`\${${name}}`);
  });

  it.each(Object.entries(NOT_SET_IN_AZURE))('%s is not set in Azure (%s)', (name) => {
    expect(appSettings.props.has(name)).toBe(false);
    expect(optional.props.has(name)).toBe(false);
  });

  it('optional settings are only SETTINGS keys (no typos)', () => {
    for (const name of optional.props.keys()) expect(Object.keys(SETTINGS)).toContain(name);
  });

  it('no setting Flex Consumption rejects, and no plain AzureWebJobsStorage', () => {
    for (const name of FORBIDDEN_ON_FLEX) {
      expect(appSettings.props.has(name), name).toBe(false);
      expect(optional.props.has(name), name).toBe(false);
      // Not through another variable or an inline siteConfig.appSettings either.
      for (const file of infra.all) {
        expect(file.code, `${file.file}: ${name}`).not.toMatch(new RegExp(`\\b${name}\\b(?!__)`));
      }
    }
  });

  it('host storage is reached by the user-assigned identity on blob, queue and table', () => {
    const expected: Record<string, string> = {
      AzureWebJobsStorage__credential: 'managedidentity',
      AzureWebJobsStorage__clientId: 'identityClientId',
      AzureWebJobsStorage__blobServiceUri: 'storage.properties.primaryEndpoints.blob',
      AzureWebJobsStorage__queueServiceUri: 'storage.properties.primaryEndpoints.queue',
      AzureWebJobsStorage__tableServiceUri: 'storage.properties.primaryEndpoints.table',
      AZURE_CLIENT_ID: 'identityClientId',
    };
    for (const [name, value] of Object.entries(expected)) {
      expect(text(appSettings.props.get(name)), name).toBe(value);
    }
    const storage = infra.api.resources.find((r) => r.symbol === 'storage');
    expect(storage).toMatchObject({ type: 'Microsoft.Storage/storageAccounts', existing: true });
  });

  it('CLIENT_SECRET or CLIENT_CERTIFICATE is a Key Vault reference resolved with the user-assigned identity', () => {
    // The deployer's choice (clientCredentialType) references one; the other stays empty (= unset).
    expect(infra.api.vars.get('useCertificate')?.text).toBe(
      "clientCredentialType == 'certificate'",
    );
    expect(appSettings.props.get('CLIENT_SECRET')?.text).toBe(
      "useCertificate ? '' : '@Microsoft.KeyVault(SecretUri=${keyVault.properties.vaultUri}secrets/${clientSecretName})'",
    );
    // A Key Vault certificate's private key and certificate are served as its secret of the same name.
    expect(appSettings.props.get('CLIENT_CERTIFICATE')?.text).toBe(
      "useCertificate ? '@Microsoft.KeyVault(SecretUri=${keyVault.properties.vaultUri}secrets/${clientCertificateName})' : ''",
    );
    const choice = infra.main.params.get('clientCredentialType')!;
    expect(text(choice.defaultValue)).toBe('secret');
    expect(choice.decorators).toContain('allowed');
    const apiModule = infra.main.modules.find((m) => m.path === 'app/api.bicep')!;
    expect(text(prop(apiModule.body, 'params.clientCredentialType'))).toBe('clientCredentialType');
    expect(text(prop(apiModule.body, 'params.clientCertificateName'))).toBe(
      'clientCertificateName',
    );
    expect(parameterFile.parameters.clientCredentialType?.value).toBe(
      '${CLIENT_CREDENTIAL_TYPE=secret}',
    );
    expect(text(appSettings.props.get('KEY_VAULT_URL'))).toBe('keyVault.properties.vaultUri');
    const vault = infra.api.resources.find((r) => r.symbol === 'keyVault');
    expect(vault).toMatchObject({ type: 'Microsoft.KeyVault/vaults', existing: true });
    const site = declared(infra.api, 'Microsoft.Web/sites');
    expect(text(prop(site.body, 'properties.keyVaultReferenceIdentity'))).toBe('identityId');
  });

  it('the client secret value only travels as a @secure() param into a Key Vault secret', () => {
    const param = infra.main.params.get('clientSecret')!;
    expect(param.decorators).toContain('secure');
    expect(text(param.defaultValue)).toBe('');
    const secret = declared(infra.main, 'Microsoft.KeyVault/vaults/secrets');
    expect(secret.condition).toBe('!empty(clientSecret)');
    expect(text(prop(secret.body, 'name'))).toBe('clientSecretName');
    expect(text(prop(secret.body, 'properties.value'))).toBe('clientSecret');
    expect(text(prop(secret.body, 'parent'))).toBe('keyVault');
    // Neither an output nor a module param carries it.
    for (const output of infra.main.outputs.values()) {
      expect(output.value.text).not.toMatch(/\bclientSecret\b/);
    }
    for (const module of infra.main.modules) {
      expect(prop(module.body, 'params')?.text ?? '').not.toMatch(/\bclientSecret\b/);
    }
  });

  it('PUBLIC_BASE_URL is the https origin of the app, and TENANT_ID/CLIENT_ID come from params', () => {
    expect(text(appSettings.props.get('PUBLIC_BASE_URL'))).toBe('publicBaseUrl');
    expect(text(infra.api.vars.get('publicBaseUrl'))).toBe(
      "'https://${functionApp.properties.defaultHostName}'",
    );
    expect(text(appSettings.props.get('CLIENT_ID'))).toBe('clientId');
    expect(text(appSettings.props.get('TENANT_ID'))).toBe('tenantId');
    const clientId = infra.main.params.get('clientId')!;
    expect(clientId.defaultValue).toBeUndefined();
    expect(parameterFile.parameters.clientId?.value).toBe('${CLIENT_ID}');
    const apiModule = infra.main.modules.find((m) => m.path === 'app/api.bicep')!;
    expect(text(prop(apiModule.body, 'params.tenantId'))).toBe(
      'empty(tenantId) ? tenant().tenantId : tenantId',
    );
  });

  it('request bodies up to a base64-encoded 150 MiB attachment are accepted', () => {
    expect(text(appSettings.props.get('FUNCTIONS_REQUEST_BODY_SIZE_LIMIT'))).toBe(
      'string(requestBodySizeLimitBytes)',
    );
    const limit = Number(text(infra.main.params.get('requestBodySizeLimitBytes')?.defaultValue));
    expect(limit).toBeGreaterThanOrEqual(Math.ceil((150 * 1024 * 1024 * 4) / 3));
  });

  it('Application Insights is reached with Entra auth by the user-assigned identity', () => {
    expect(text(appSettings.props.get('APPLICATIONINSIGHTS_CONNECTION_STRING'))).toBe(
      'appInsights.properties.ConnectionString',
    );
    expect(text(appSettings.props.get('APPLICATIONINSIGHTS_AUTHENTICATION_STRING'))).toBe(
      "'ClientId=${identityClientId};Authorization=AAD'",
    );
  });
});
