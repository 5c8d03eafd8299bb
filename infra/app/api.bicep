// The Flex Consumption plan and function app, with every app setting the code reads (src/config.ts
// SETTINGS). All access to storage, Key Vault and Application Insights goes through the one
// user-assigned identity.

param name string
param planName string
param location string
param tags object

@description('Resource id of the user-assigned identity.')
param identityId string

@description('Client id of the user-assigned identity.')
param identityClientId string

param storageAccountName string
param deploymentContainerName string
param appInsightsName string
param keyVaultName string
@description('Key Vault key that wraps the data keys of credential records (KEY_VAULT_KEY_NAME).')
param keyVaultKeyName string

param clientId string
param tenantId string
param clientSecretName string
@allowed([
  'secret'
  'certificate'
])
param clientCredentialType string
@description('Key Vault certificate (PEM content type) whose secret CLIENT_CERTIFICATE references.')
param clientCertificateName string

param corsAllowedOrigins array
param instanceMemoryMB int
param maximumInstanceCount int
param requestBodySizeLimitBytes int

@description('SETTING_NAME: value pairs; entries whose value is empty are not set.')
param optionalAppSettings object

resource storage 'Microsoft.Storage/storageAccounts@2025-06-01' existing = {
  name: storageAccountName
}

resource appInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: appInsightsName
}

resource keyVault 'Microsoft.KeyVault/vaults@2024-11-01' existing = {
  name: keyVaultName
}

resource plan 'Microsoft.Web/serverfarms@2025-03-01' = {
  name: planName
  location: location
  tags: tags
  kind: 'functionapp'
  sku: {
    name: 'FC1'
    tier: 'FlexConsumption'
  }
  properties: {
    reserved: true
  }
}

resource functionApp 'Microsoft.Web/sites@2025-03-01' = {
  name: name
  location: location
  tags: union(tags, {
    'azd-service-name': 'api'
  })
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identityId}': {}
    }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    clientCertEnabled: false
    keyVaultReferenceIdentity: identityId
    // Flex Consumption rejects the site properties it manages itself (ftpsState, http20Enabled,
    // alwaysOn, use32BitWorkerProcess, linuxFxVersion…: ARM error 51021); FTP is off through the
    // ftp publishing-credentials policy below, the runtime is set in functionAppConfig.
    siteConfig: {
      minTlsVersion: '1.2'
      scmMinTlsVersion: '1.2'
      cors: {
        allowedOrigins: corsAllowedOrigins
        supportCredentials: false
      }
    }
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${storage.properties.primaryEndpoints.blob}${deploymentContainerName}'
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: identityId
          }
        }
      }
      scaleAndConcurrency: {
        instanceMemoryMB: instanceMemoryMB
        maximumInstanceCount: maximumInstanceCount
      }
      runtime: {
        name: 'node'
        version: '22'
      }
    }
  }
}

// No FTP and no basic-auth (publishing profile) deployments; azd deploys with Entra tokens.
resource ftpCredentials 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2025-03-01' = {
  parent: functionApp
  name: 'ftp'
  properties: {
    allow: false
  }
}

resource scmCredentials 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2025-03-01' = {
  parent: functionApp
  name: 'scm'
  properties: {
    allow: false
  }
}

var publicBaseUrl = 'https://${functionApp.properties.defaultHostName}'

var useCertificate = clientCredentialType == 'certificate'

var appSettings = {
  // Host storage by identity: no AzureWebJobsStorage connection string. The app also uses the
  // queue and table endpoints (bulk jobs, idempotency keys, templates).
  AzureWebJobsStorage__credential: 'managedidentity'
  AzureWebJobsStorage__clientId: identityClientId
  AzureWebJobsStorage__blobServiceUri: storage.properties.primaryEndpoints.blob
  AzureWebJobsStorage__queueServiceUri: storage.properties.primaryEndpoints.queue
  AzureWebJobsStorage__tableServiceUri: storage.properties.primaryEndpoints.table
  // @azure/identity picks the user-assigned identity, not a (non-existent) system one.
  AZURE_CLIENT_ID: identityClientId
  AZURE_FUNCTIONS_ENVIRONMENT: 'Production'
  APPLICATIONINSIGHTS_CONNECTION_STRING: appInsights.properties.ConnectionString
  APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'ClientId=${identityClientId};Authorization=AAD'
  // Default is 100 MB; sends take attachments up to 150 MiB.
  FUNCTIONS_REQUEST_BODY_SIZE_LIMIT: string(requestBodySizeLimitBytes)
  TENANT_ID: tenantId
  CLIENT_ID: clientId
  // One credential is referenced, the other left empty (= unset for the app). A Key Vault
  // certificate's key and certificate are read through its secret of the same name.
  CLIENT_SECRET: useCertificate ? '' : '@Microsoft.KeyVault(SecretUri=${keyVault.properties.vaultUri}secrets/${clientSecretName})'
  CLIENT_CERTIFICATE: useCertificate ? '@Microsoft.KeyVault(SecretUri=${keyVault.properties.vaultUri}secrets/${clientCertificateName})' : ''
  KEY_VAULT_URL: keyVault.properties.vaultUri
  KEY_VAULT_KEY_NAME: keyVaultKeyName
  PUBLIC_BASE_URL: publicBaseUrl
}

var deployerSettings = toObject(
  filter(items(optionalAppSettings), setting => !empty(setting.value)),
  setting => setting.key,
  setting => setting.value
)

resource appSettingsConfig 'Microsoft.Web/sites/config@2025-03-01' = {
  parent: functionApp
  name: 'appsettings'
  properties: union(deployerSettings, appSettings)
}

output name string = functionApp.name
output defaultHostName string = functionApp.properties.defaultHostName
output publicBaseUrl string = publicBaseUrl
