// One function app on its own Flex Consumption plan (Flex allows one app per plan), running a Rust custom
// handler (functionAppConfig.runtime.name = 'custom'), with one user-assigned identity used for everything:
// host storage, the deployment package, Application Insights, Service Bus and ARM.

param location string
param tags object
param name string
param planName string

@description('Resource id of the app\'s user-assigned identity.')
param identityId string
@description('Client id of the app\'s user-assigned identity.')
param identityClientId string

@description('The app\'s own host storage account (AzureWebJobsStorage and the deployment package container).')
param hostStorageName string
param deploymentContainerName string

param appInsightsConnectionString string

@description('Settings the handler reads, on top of the platform settings below.')
param appSettings object

@description('Flex Consumption instance size. 512 MB is plenty for a Rust handler (the tracker targets 64 MB RSS).')
@allowed([512, 2048, 4096])
param instanceMemoryMB int = 512

@description('Upper bound on instances; with maxConcurrentCalls it bounds concurrent restores and the ARM write rate.')
@minValue(1)
@maxValue(1000)
param maximumInstanceCount int

@description('Flex runtime version for custom handlers; confirm with `az functionapp list-flexconsumption-runtimes`.')
param runtimeVersion string = '1.0'

@description('Zone-redundant Flex plan (only in regions that support it for Flex Consumption).')
param zoneRedundant bool = false

resource hostStorage 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: hostStorageName
}

// Platform settings: identity-based host storage and Entra-authenticated telemetry. No connection string, key or
// SAS appears anywhere. FUNCTIONS_WORKER_RUNTIME and WEBSITE_RUN_FROM_PACKAGE are deprecated on Flex (the runtime
// is functionAppConfig.runtime and the package is functionAppConfig.deployment).
var platformAppSettings = {
  AzureWebJobsStorage__credential: 'managedidentity'
  AzureWebJobsStorage__clientId: identityClientId
  AzureWebJobsStorage__blobServiceUri: hostStorage.properties.primaryEndpoints.blob
  AzureWebJobsStorage__queueServiceUri: hostStorage.properties.primaryEndpoints.queue
  APPLICATIONINSIGHTS_CONNECTION_STRING: appInsightsConnectionString
  APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'ClientId=${identityClientId};Authorization=AAD'
}

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  //checkov:skip=CKV_AZURE_225: Flex Consumption zone redundancy exists only in some regions; it is the zoneRedundant parameter (off by default). A lost zone delays restores (messages wait on the queue), it loses nothing.
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
    zoneRedundant: zoneRedundant
  }
}

resource app 'Microsoft.Web/sites@2024-04-01' = {
  //checkov:skip=CKV_AZURE_222: the apps have no HTTP functions (Service Bus and timer triggers pull); the public endpoint is needed by azd / one-deploy publishing unless the deployer runs inside a VNet. Private access is a documented follow-up.
  //checkov:skip=CKV_AZURE_17: no HTTP triggers, so no incoming client requests to authenticate with certificates.
  //checkov:skip=CKV_AZURE_212: Flex Consumption has no minimum instance count (alwaysReady instead); scaling to zero is intended, Service Bus and timer triggers wake the app.
  //checkov:skip=CKV_AZURE_213: a health-check path needs an HTTP endpoint; the custom handler is reached only by the Functions host, which pings it itself (GET /) and restarts it.
  name: name
  location: location
  tags: tags
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
    siteConfig: {
      minTlsVersion: '1.2'
      ftpsState: 'Disabled'
      http20Enabled: true
      appSettings: [
        for setting in items(union(platformAppSettings, appSettings)): {
          name: setting.key
          value: setting.value
        }
      ]
    }
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${hostStorage.properties.primaryEndpoints.blob}${deploymentContainerName}'
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
        name: 'custom'
        version: runtimeVersion
      }
    }
  }
}

// Deployments use Entra tokens (azd, az functionapp deployment); publishing profiles (basic auth) are off.
resource ftpPolicy 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01' = {
  parent: app
  name: 'ftp'
  properties: {
    allow: false
  }
}

resource scmPolicy 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01' = {
  parent: app
  name: 'scm'
  properties: {
    allow: false
  }
}

output name string = app.name
output id string = app.id
output defaultHostName string = app.properties.defaultHostName
