// One storage account with blob containers, reachable only with Entra identities (no account keys, no SAS, no
// anonymous blobs). Used three times: each function app's own host storage (AzureWebJobsStorage + its deployment
// package container), and the shared restore-state account.

param location string
param tags object
param name string

@description('Blob containers to create (private).')
param containers array

@description('Replication. Zone-redundant by default: operation records must survive a zone outage (nothing accepted may be lost). Use Standard_GRS where the region has no ZRS.')
@allowed(['Standard_ZRS', 'Standard_GRS', 'Standard_GZRS', 'Standard_RAGRS', 'Standard_RAGZRS'])
param skuName string = 'Standard_ZRS'

@description('Days a deleted blob (and container) stays recoverable.')
param deleteRetentionDays int = 7

resource account 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  //checkov:skip=CKV_AZURE_35: Flex Consumption apps without VNet integration reach storage over public endpoints; access is Entra-only (shared keys off, no anonymous blobs). Network isolation = VNet integration + private endpoints, a documented follow-up (docs/deploy.md).
  //checkov:skip=CKV_AZURE_206: replication is the skuName parameter, zone-redundant (ZRS) by default. Geo-replication of host state and operation records would not help: the function apps are regional. Pass Standard_GZRS if you want it.
  //checkov:skip=CKV_AZURE_59: same reason as CKV_AZURE_35: the public endpoint stays reachable, but only Entra identities with data roles get in.
  name: name
  location: location
  tags: tags
  kind: 'StorageV2'
  sku: {
    name: skuName
  }
  properties: {
    accessTier: 'Hot'
    allowSharedKeyAccess: false
    allowBlobPublicAccess: false
    allowCrossTenantReplication: false
    defaultToOAuthAuthentication: true
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
    publicNetworkAccess: 'Enabled'
    networkAcls: {
      bypass: 'AzureServices'
      defaultAction: 'Allow'
    }
    encryption: {
      keySource: 'Microsoft.Storage'
      requireInfrastructureEncryption: true
      services: {
        blob: {
          enabled: true
          keyType: 'Account'
        }
        file: {
          enabled: true
          keyType: 'Account'
        }
      }
    }
  }
}

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2023-05-01' = {
  parent: account
  name: 'default'
  properties: {
    deleteRetentionPolicy: {
      enabled: true
      days: deleteRetentionDays
    }
    containerDeleteRetentionPolicy: {
      enabled: true
      days: deleteRetentionDays
    }
  }
}

resource blobContainers 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = [
  for container in containers: {
    parent: blobService
    name: container
    properties: {
      publicAccess: 'None'
    }
  }
]

output name string = account.name
output id string = account.id
output blobEndpoint string = account.properties.primaryEndpoints.blob
output queueEndpoint string = account.properties.primaryEndpoints.queue
output tableEndpoint string = account.properties.primaryEndpoints.table
