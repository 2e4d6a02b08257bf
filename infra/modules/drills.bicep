// Recovery drills in the app's resource group: the drill identity's data-plane rights, the drill-results queue,
// and the evidence account (plans, immutable evidence, the overview). The rights outside this resource group
// (vaults, sandbox groups, staging accounts, the sources' groups for tag selection) are granted in main.bicep
// with the modules that deploy at those scopes. docs/deploy.md justifies each.

param location string
param tags object

@description('Object id of the drill function\'s identity.')
param drillsPrincipalId string

param serviceBusNamespaceName string
param requestsQueueName string
@description('The queue drill results go to: separate from restore results, so their consumers never see drills.')
param drillResultsQueueName string = 'drill-results'

param stateStorageName string
param stateContainerName string
param drillsHostStorageName string
param appInsightsName string

@description('Name of the evidence storage account (plans, evidence, overview).')
param evidenceStorageName string

@description('Days a run\'s report page and evidence pack cannot be changed or deleted once written (time-based immutability, unlocked so the period can be extended; lock it in the portal when an auditor requires it).')
@minValue(1)
param evidenceRetentionDays int = 365

var roleIds = {
  serviceBusDataSender: '69a216fc-b8fb-44d8-bc22-1f3c2cd27a39' // Azure Service Bus Data Sender
  storageBlobDataOwner: 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b' // Storage Blob Data Owner
  storageBlobDataContributor: 'ba92f5b4-2d11-453d-a403-e96b0029c9fe' // Storage Blob Data Contributor
  storageBlobDataReader: '2a2b9908-6ea1-4ae2-8e65-a410df84e7d1' // Storage Blob Data Reader
  monitoringMetricsPublisher: '3913510d-42f4-4e42-8a64-420c390055eb' // Monitoring Metrics Publisher
}

// ---- evidence account ------------------------------------------------------------------------------------------
// plans: one JSON document per plan, read each tick (a plan changes without a redeploy; who may write here may
// run commands as root on clones of production VMs, so only the deployer's admins get write rights: none here).
// evidence: runs/<run id>.html and .json, immutable for evidenceRetentionDays. overview: index.html/.json,
// rewritten every tick, so it cannot live in the immutable container.
module evidenceStorage 'storage.bicep' = {
  name: 'drill-evidence-storage'
  params: {
    location: location
    tags: tags
    name: evidenceStorageName
    containers: ['drill-plans', 'drill-evidence', 'drill-overview']
  }
}

resource evidenceAccount 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: evidenceStorageName
}

resource evidenceBlobService 'Microsoft.Storage/storageAccounts/blobServices@2023-05-01' existing = {
  parent: evidenceAccount
  name: 'default'
}

resource plansContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' existing = {
  parent: evidenceBlobService
  name: 'drill-plans'
}

resource evidenceContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' existing = {
  parent: evidenceBlobService
  name: 'drill-evidence'
}

resource overviewContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' existing = {
  parent: evidenceBlobService
  name: 'drill-overview'
}

// Write once: a page written again by a tick that ran twice is refused (409) and the drill function treats that as
// already written. allowProtectedAppendWrites stays off: evidence is never appended to.
resource evidenceImmutability 'Microsoft.Storage/storageAccounts/blobServices/containers/immutabilityPolicies@2023-05-01' = {
  parent: evidenceContainer
  name: 'default'
  properties: {
    immutabilityPeriodSinceCreationInDays: evidenceRetentionDays
    allowProtectedAppendWrites: false
  }
  dependsOn: [evidenceStorage]
}

// ---- drill results queue ---------------------------------------------------------------------------------------

resource namespace 'Microsoft.ServiceBus/namespaces@2022-10-01-preview' existing = {
  name: serviceBusNamespaceName
}

resource requestsQueue 'Microsoft.ServiceBus/namespaces/queues@2022-10-01-preview' existing = {
  parent: namespace
  name: requestsQueueName
}

resource drillResultsQueue 'Microsoft.ServiceBus/namespaces/queues@2022-10-01-preview' = {
  parent: namespace
  name: drillResultsQueueName
  properties: {
    lockDuration: 'PT1M'
    maxDeliveryCount: 10
    deadLetteringOnMessageExpiration: true
    defaultMessageTimeToLive: 'P14D'
    requiresDuplicateDetection: true
    duplicateDetectionHistoryTimeWindow: 'P1D'
    requiresSession: false
    enablePartitioning: false
    maxSizeInMegabytes: 1024
  }
}

// ---- role assignments in this resource group -------------------------------------------------------------------

resource stateStorage 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: stateStorageName
}

resource stateBlobService 'Microsoft.Storage/storageAccounts/blobServices@2023-05-01' existing = {
  parent: stateStorage
  name: 'default'
}

resource stateContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' existing = {
  parent: stateBlobService
  name: stateContainerName
}

resource drillsHostStorage 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: drillsHostStorageName
}

resource appInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: appInsightsName
}

// Drills send restore requests like any requester: through the intake's queue, so the exactly-once core handles
// them. Restore rights stay with the intake's identity.
resource requestsSender 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(requestsQueue.id, drillsPrincipalId, roleIds.serviceBusDataSender)
  scope: requestsQueue
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.serviceBusDataSender)
    principalId: drillsPrincipalId
    principalType: 'ServicePrincipal'
    description: 'drills: send restore requests to the intake'
  }
}

resource drillResultsSender 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(drillResultsQueue.id, drillsPrincipalId, roleIds.serviceBusDataSender)
  scope: drillResultsQueue
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.serviceBusDataSender)
    principalId: drillsPrincipalId
    principalType: 'ServicePrincipal'
    description: 'drills: publish drill results'
  }
}

// Run records live in the state store beside restore records (compare-and-swap like them); the drill function
// also reads its restores' records there.
resource stateContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(stateContainer.id, drillsPrincipalId, roleIds.storageBlobDataContributor)
  scope: stateContainer
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.storageBlobDataContributor)
    principalId: drillsPrincipalId
    principalType: 'ServicePrincipal'
    description: 'drills: run records, and the restore records of their requests'
  }
}

resource plansReader 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(plansContainer.id, drillsPrincipalId, roleIds.storageBlobDataReader)
  scope: plansContainer
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.storageBlobDataReader)
    principalId: drillsPrincipalId
    principalType: 'ServicePrincipal'
    description: 'drills: read plans (never write them)'
  }
  dependsOn: [evidenceStorage]
}

resource evidenceWriter 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(evidenceContainer.id, drillsPrincipalId, roleIds.storageBlobDataContributor)
  scope: evidenceContainer
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.storageBlobDataContributor)
    principalId: drillsPrincipalId
    principalType: 'ServicePrincipal'
    description: 'drills: write run reports and evidence packs (the immutability policy refuses changes)'
  }
  dependsOn: [evidenceStorage]
}

resource overviewWriter 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(overviewContainer.id, drillsPrincipalId, roleIds.storageBlobDataContributor)
  scope: overviewContainer
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.storageBlobDataContributor)
    principalId: drillsPrincipalId
    principalType: 'ServicePrincipal'
    description: 'drills: rewrite the overview page'
  }
  dependsOn: [evidenceStorage]
}

resource hostOwner 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(drillsHostStorage.id, drillsPrincipalId, roleIds.storageBlobDataOwner)
  scope: drillsHostStorage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.storageBlobDataOwner)
    principalId: drillsPrincipalId
    principalType: 'ServicePrincipal'
    description: 'drills: Functions host storage and package'
  }
}

resource telemetry 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(appInsights.id, drillsPrincipalId, roleIds.monitoringMetricsPublisher)
  scope: appInsights
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.monitoringMetricsPublisher)
    principalId: drillsPrincipalId
    principalType: 'ServicePrincipal'
    description: 'drills: Entra-authenticated telemetry'
  }
}

output drillResultsQueueName string = drillResultsQueue.name
output evidenceBlobEndpoint string = evidenceStorage.outputs.blobEndpoint
