// Provisions everything the app needs in ONE resource group (targetScope resourceGroup), so the same
// file serves `azd up` (azd asks for or creates the group, AZURE_RESOURCE_GROUP) and
// `az deployment group create -f infra/main.bicep`. See docs/deploy.md.
//
// Secure by default: one user-assigned identity for everything, no storage keys or connection
// strings (allowSharedKeyAccess false), Entra-only Application Insights, an RBAC Key Vault with purge
// protection and an audit log, HTTPS/TLS 1.2 only, FTP and basic publishing credentials off.
targetScope = 'resourceGroup'

@minLength(1)
@maxLength(64)
@description('azd environment name; part of every resource name and the azd-env-name tag.')
param environmentName string

@minLength(1)
@description('Region of every resource. Must offer Flex Consumption (az functionapp list-flexconsumption-locations).')
@metadata({
  azd: {
    type: 'location'
  }
})
param location string = resourceGroup().location

@description('Object id of a developer or pipeline to grant data-plane roles (Key Vault secrets, storage data). azd fills AZURE_PRINCIPAL_ID. Empty = no grants.')
param principalId string = ''

@allowed([
  'User'
  'Group'
  'ServicePrincipal'
])
param principalType string = 'User'

@maxLength(60)
@description('Function app name (global: <name>.azurewebsites.net): 2-60 of a-z, 0-9 and -, not starting or ending with -. Empty = func-<token>. Pick one up front to know the OAuth redirect URI before provisioning.')
param functionAppName string = ''

// ---- the Entra app registration the app signs users in with (CLIENT_ID, TENANT_ID, and
// CLIENT_SECRET or CLIENT_CERTIFICATE)

@minLength(36)
@maxLength(36)
@description('CLIENT_ID: application (client) id of the Entra app registration.')
param clientId string

@description('TENANT_ID for token requests: a tenant GUID or domain, or organizations / common. Empty = the tenant of this deployment.')
param tenantId string = ''

@secure()
@description('Client secret of the app registration. Stored in Key Vault as clientSecretName; the app setting is only a Key Vault reference. Empty = set it later with az keyvault secret set.')
param clientSecret string = ''

@description('Name of the Key Vault secret holding the client secret.')
param clientSecretName string = 'graph-client-secret'

@allowed([
  'secret'
  'certificate'
])
@description('How the app registration proves itself on token requests: secret = CLIENT_SECRET (the Key Vault secret clientSecretName), certificate = CLIENT_CERTIFICATE (the Key Vault certificate clientCertificateName, content type application/x-pem-file, its public part uploaded to the app registration; Entra recommends certificates). The other app setting stays empty.')
param clientCredentialType string = 'secret'

@description('Name of the Key Vault certificate (PEM content type) signing client assertions, used when clientCredentialType is certificate. Create it with az keyvault certificate create (docs/deploy.md).')
param clientCertificateName string = 'graph-client-certificate'

// ---- platform knobs

@allowed([
  'Enabled'
  'Disabled'
])
@description('Key Vault public network access. Disabled needs VNet integration and a private endpoint, which this template does not create.')
param keyVaultPublicNetworkAccess string = 'Enabled'

@minValue(7)
@maxValue(90)
param keyVaultSoftDeleteRetentionInDays int = 90

@description('Browser origins allowed by CORS. Empty = none (server-to-server callers only).')
param corsAllowedOrigins array = []

@allowed([
  512
  2048
  4096
])
param instanceMemoryMB int = 2048

@minValue(40)
@maxValue(1000)
param maximumInstanceCount int = 100

@description('FUNCTIONS_REQUEST_BODY_SIZE_LIMIT in bytes: sends accept attachments up to 150 MiB (base64 grows them by a third).')
param requestBodySizeLimitBytes int = 209715200

// ---- optional app settings: empty = not set, the app uses its default (see API.md)

@description('GRAPH_BASE_URL (national clouds).')
param graphBaseUrl string = ''

@description('AUTHORITY_HOST (national clouds).')
param authorityHost string = ''

@description('API_KEYS: serviceId=sha256hex(key),...')
param apiKeys string = ''

@description('API_AUDIENCE: accepted aud of Bearer callers, comma-separated. Empty = api://<clientId> and <clientId>.')
param apiAudience string = ''

@description('API_TENANT_ID: tenant whose tokens Bearer callers present. Empty = TENANT_ID when it is a GUID.')
param apiTenantId string = ''

@description('API_CALLERS: Bearer callers without an app role, appId=serviceId,...')
param apiCallers string = ''

@description('GRAPH_SCOPES: delegated scopes requested when connecting a mailbox.')
param graphScopes string = ''

@description('SEND_RATE_PER_MINUTE per sending mailbox.')
param sendRatePerMinute string = ''

@description('DAILY_RECIPIENT_LIMIT per sending mailbox per rolling 24 h.')
param dailyRecipientLimit string = ''

@description('MAX_MESSAGE_SIZE_MB: the tenant MaxSendSize in decimal MB, counted on the encoded message (at most 150).')
param maxMessageSizeMb string = ''

@description('REQUEST_BUDGET_SECONDS: time budget of one HTTP invocation.')
param requestBudgetSeconds string = ''
@description('MAILBOX_SLOTS: shared (default: the 4 concurrent Graph requests per mailbox are leased from storage by every instance) or instance.')
param mailboxSlots string = ''

@description('SEND_LOST_ANSWER_SECONDS: how long a send whose answer was lost is looked for before its outcome is unknown (at most 120).')
param sendLostAnswerSeconds string = ''

@description('REPORT_SCHEDULE: NCRONTAB of the report timer.')
param reportSchedule string = ''

@description('REPORTS: JSON array of report definitions.')
param reports string = ''

@description('KEEPALIVE_SCHEDULE: NCRONTAB of the credential keep-alive timer.')
param keepaliveSchedule string = ''

@description('KEEPALIVE_IDLE_DAYS: refresh credentials unused for this many days.')
param keepaliveIdleDays string = ''

@description('LOG_LEVEL: lowest level of the process log outside invocations (debug, info, warn, error).')
param logLevel string = ''
@description('CONNECT_PROMPT: prompt of a connect link\'s sign-in, select_account (default) or consent.')
param connectPrompt string = ''

@description('SERVICE_NAMES: JSON object serviceId -> name a mailbox owner sees before confirming a connection.')
param serviceNames string = ''

@description('NOTIFICATIONS_SCHEDULE: NCRONTAB of the timer renewing Graph subscriptions and catching up folders.')
param notificationsSchedule string = ''

@description('WEBHOOK_RETRY_HOURS: hours a failing webhook delivery is retried before it is dead-lettered.')
param webhookRetryHours string = ''

var abbrs = loadJsonContent('abbreviations.json')
var resourceToken = toLower(uniqueString(subscription().id, resourceGroup().id, environmentName, location))
var tags = {
  'azd-env-name': environmentName
}
var candidateAppName = empty(functionAppName) ? '${abbrs.webSitesFunctions}${resourceToken}' : functionAppName
// Bicep has no regular expressions: the name is valid when every character is one of these
// (contains() is case-sensitive, so upper case fails) and no hyphen starts or ends it.
var appNameCharacters = 'abcdefghijklmnopqrstuvwxyz0123456789-'
var appNameIsValid = length(candidateAppName) >= 2 && !startsWith(candidateAppName, '-') && !endsWith(candidateAppName, '-') && empty(filter(range(0, length(candidateAppName)), i => !contains(appNameCharacters, substring(candidateAppName, i, 1))))
var appName = appNameIsValid ? candidateAppName : fail('functionAppName must be 2-60 characters of a-z, 0-9 and -, and must not start or end with -.')
// Container names allow single hyphens between lower-case letters and digits only: the app name
// goes in without its hyphens, so a cut never leaves one at the end or two in a row.
var deploymentContainerName = 'app-package-${take(replace(appName, '-', ''), 32)}-${take(uniqueString(appName, resourceToken), 7)}'

// Settings the deployer may set; api.bicep drops the empty ones so the app's defaults apply.
var optionalAppSettings = {
  GRAPH_BASE_URL: graphBaseUrl
  AUTHORITY_HOST: authorityHost
  API_KEYS: apiKeys
  API_AUDIENCE: apiAudience
  API_TENANT_ID: apiTenantId
  API_CALLERS: apiCallers
  GRAPH_SCOPES: graphScopes
  SEND_RATE_PER_MINUTE: sendRatePerMinute
  DAILY_RECIPIENT_LIMIT: dailyRecipientLimit
  MAX_MESSAGE_SIZE_MB: maxMessageSizeMb
  REQUEST_BUDGET_SECONDS: requestBudgetSeconds
  MAILBOX_SLOTS: mailboxSlots
  SEND_LOST_ANSWER_SECONDS: sendLostAnswerSeconds
  REPORT_SCHEDULE: reportSchedule
  REPORTS: reports
  KEEPALIVE_SCHEDULE: keepaliveSchedule
  KEEPALIVE_IDLE_DAYS: keepaliveIdleDays
  LOG_LEVEL: logLevel
  CONNECT_PROMPT: connectPrompt
  SERVICE_NAMES: serviceNames
  NOTIFICATIONS_SCHEDULE: notificationsSchedule
  WEBHOOK_RETRY_HOURS: webhookRetryHours
}

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2024-11-30' = {
  name: '${abbrs.managedIdentityUserAssignedIdentities}${resourceToken}'
  location: location
  tags: tags
}

resource storage 'Microsoft.Storage/storageAccounts@2025-06-01' = {
  name: '${abbrs.storageStorageAccounts}${resourceToken}'
  location: location
  tags: tags
  kind: 'StorageV2'
  sku: {
    name: 'Standard_LRS'
  }
  properties: {
    accessTier: 'Hot'
    allowBlobPublicAccess: false
    allowCrossTenantReplication: false
    allowSharedKeyAccess: false
    defaultToOAuthAuthentication: true
    dnsEndpointType: 'Standard'
    minimumTlsVersion: 'TLS1_2'
    publicNetworkAccess: 'Enabled'
    supportsHttpsTrafficOnly: true
    networkAcls: {
      bypass: 'AzureServices'
      defaultAction: 'Allow'
    }
  }
}

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2025-06-01' = {
  parent: storage
  name: 'default'
}

resource queueService 'Microsoft.Storage/storageAccounts/queueServices@2025-06-01' = {
  parent: storage
  name: 'default'
}

resource tableService 'Microsoft.Storage/storageAccounts/tableServices@2025-06-01' = {
  parent: storage
  name: 'default'
}

// Flex Consumption pulls the app package from here with the identity.
resource deploymentContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2025-06-01' = {
  parent: blobService
  name: deploymentContainerName
  properties: {
    publicAccess: 'None'
  }
}

resource logAnalytics 'Microsoft.OperationalInsights/workspaces@2025-07-01' = {
  name: '${abbrs.operationalInsightsWorkspaces}${resourceToken}'
  location: location
  tags: tags
  properties: {
    retentionInDays: 30
    sku: {
      name: 'PerGB2018'
    }
  }
}

resource appInsights 'Microsoft.Insights/components@2020-02-02' = {
  name: '${abbrs.insightsComponents}${resourceToken}'
  location: location
  tags: tags
  kind: 'web'
  properties: {
    Application_Type: 'web'
    DisableLocalAuth: true
    WorkspaceResourceId: logAnalytics.id
  }
}

resource keyVault 'Microsoft.KeyVault/vaults@2024-11-01' = {
  name: '${abbrs.keyVaultVaults}${resourceToken}'
  location: location
  tags: tags
  properties: {
    tenantId: tenant().tenantId
    sku: {
      family: 'A'
      name: 'standard'
    }
    enableRbacAuthorization: true
    enableSoftDelete: true
    softDeleteRetentionInDays: keyVaultSoftDeleteRetentionInDays
    enablePurgeProtection: true
    enabledForDeployment: false
    enabledForDiskEncryption: false
    enabledForTemplateDeployment: false
    publicNetworkAccess: keyVaultPublicNetworkAccess
    networkAcls: {
      bypass: 'AzureServices'
      defaultAction: 'Allow'
    }
  }
}

resource clientSecretEntry 'Microsoft.KeyVault/vaults/secrets@2024-11-01' = if (!empty(clientSecret)) {
  parent: keyVault
  name: clientSecretName
  properties: {
    value: clientSecret
    contentType: 'Entra app registration client secret'
  }
}

// ---- audit trails in the Log Analytics workspace

// Every data-plane call on the vault that holds the refresh tokens: who read or changed which secret.
resource keyVaultDiagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'audit-to-log-analytics'
  scope: keyVault
  properties: {
    workspaceId: logAnalytics.id
    logs: [
      {
        category: 'AuditEvent'
        enabled: true
      }
    ]
  }
}

// Reads, writes and deletes on the app's blobs (leases, packages), queues (bulk jobs) and tables.
var storageLogs = [
  {
    category: 'StorageRead'
    enabled: true
  }
  {
    category: 'StorageWrite'
    enabled: true
  }
  {
    category: 'StorageDelete'
    enabled: true
  }
]

resource blobDiagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'storage-to-log-analytics'
  scope: blobService
  properties: {
    workspaceId: logAnalytics.id
    logs: storageLogs
  }
}

resource queueDiagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'storage-to-log-analytics'
  scope: queueService
  properties: {
    workspaceId: logAnalytics.id
    logs: storageLogs
  }
}

resource tableDiagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'storage-to-log-analytics'
  scope: tableService
  properties: {
    workspaceId: logAnalytics.id
    logs: storageLogs
  }
}

// Wraps the data keys of credential records (RSA-OAEP-256): reading secrets alone decrypts nothing.
resource dataKeyWrap 'Microsoft.KeyVault/vaults/keys@2024-11-01' = {
  parent: keyVault
  name: 'credential-data-keys'
  properties: {
    kty: 'RSA'
    keySize: 3072
    keyOps: [
      'wrapKey'
      'unwrapKey'
    ]
  }
}

module rbac 'app/rbac.bicep' = {
  name: 'rbac'
  params: {
    storageAccountName: storage.name
    keyVaultName: keyVault.name
    keyVaultKeyName: dataKeyWrap.name
    appInsightsName: appInsights.name
    identityPrincipalId: identity.properties.principalId
    principalId: principalId
    principalType: principalType
  }
}

module api 'app/api.bicep' = {
  name: 'api'
  // The site resolves the CLIENT_SECRET Key Vault reference as soon as its app settings are
  // written: the secret and the identity's role on the vault must exist by then, or the reference
  // stays unresolved until the next refresh (up to 24 hours) or a restart. The host also needs its
  // storage roles and the package container at start.
  dependsOn: [
    rbac
    clientSecretEntry
    deploymentContainer
  ]
  params: {
    name: appName
    planName: '${abbrs.webServerFarms}${resourceToken}'
    location: location
    tags: tags
    identityId: identity.id
    identityClientId: identity.properties.clientId
    storageAccountName: storage.name
    deploymentContainerName: deploymentContainerName
    appInsightsName: appInsights.name
    keyVaultName: keyVault.name
    keyVaultKeyName: dataKeyWrap.name
    clientId: clientId
    tenantId: empty(tenantId) ? tenant().tenantId : tenantId
    clientSecretName: clientSecretName
    clientCredentialType: clientCredentialType
    clientCertificateName: clientCertificateName
    corsAllowedOrigins: corsAllowedOrigins
    instanceMemoryMB: instanceMemoryMB
    maximumInstanceCount: maximumInstanceCount
    requestBodySizeLimitBytes: requestBodySizeLimitBytes
    optionalAppSettings: optionalAppSettings
  }
}

// UPPER_SNAKE outputs land in the azd environment (.azure/<env>/.env).
output AZURE_LOCATION string = location
output AZURE_TENANT_ID string = tenant().tenantId
output AZURE_RESOURCE_GROUP string = resourceGroup().name
output AZURE_FUNCTION_NAME string = api.outputs.name
output SERVICE_API_NAME string = api.outputs.name
output SERVICE_API_URI string = api.outputs.publicBaseUrl
output PUBLIC_BASE_URL string = api.outputs.publicBaseUrl
output OAUTH_REDIRECT_URI string = '${api.outputs.publicBaseUrl}/api/oauth/callback'
output KEY_VAULT_NAME string = keyVault.name
output KEY_VAULT_URL string = keyVault.properties.vaultUri
output AZURE_STORAGE_ACCOUNT_NAME string = storage.name
output AZURE_USER_ASSIGNED_IDENTITY_CLIENT_ID string = identity.properties.clientId
output APPLICATIONINSIGHTS_NAME string = appInsights.name
