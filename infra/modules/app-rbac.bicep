// Data-plane and telemetry role assignments for the two function apps' identities, each at the narrowest scope
// that works, and the custom role they hold on the state container. The Azure Backup roles (other resource
// groups) are in vault-rbac.bicep and subscription-rbac.bicep.

// Built-in role definition ids (the same in every Azure cloud).
var roleIds = {
  serviceBusDataReceiver: '4f6d3b9b-027b-4f4c-9142-0e5a2a2247e0' // Azure Service Bus Data Receiver
  serviceBusDataSender: '69a216fc-b8fb-44d8-bc22-1f3c2cd27a39' // Azure Service Bus Data Sender
  storageBlobDataOwner: 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b' // Storage Blob Data Owner
  monitoringMetricsPublisher: '3913510d-42f4-4e42-8a64-420c390055eb' // Monitoring Metrics Publisher
}

param intakePrincipalId string
param trackerPrincipalId string

param serviceBusNamespaceName string
param requestsQueueName string
param resultsTopicName string

param stateStorageName string
param stateContainerName string
param intakeHostStorageName string
param trackerHostStorageName string

param appInsightsName string

resource namespace 'Microsoft.ServiceBus/namespaces@2022-10-01-preview' existing = {
  name: serviceBusNamespaceName
}

resource requestsQueue 'Microsoft.ServiceBus/namespaces/queues@2022-10-01-preview' existing = {
  parent: namespace
  name: requestsQueueName
}

resource resultsTopic 'Microsoft.ServiceBus/namespaces/topics@2022-10-01-preview' existing = {
  parent: namespace
  name: resultsTopicName
}

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

// The restore-state container's role for the two apps that write operation records: Storage Blob Data
// Contributor's data actions plus blob index tags. Every record write carries the store's `due` index tag (Put Blob
// with x-ms-tags needs tags/write) and the tracker finds due records with Find Blobs by Tags (filter/action), so
// that a tick does not list every record ever stored; Contributor has neither right. Storage Blob Data Owner has
// both, and ACL, ownership and immutability rights besides. tags/read reads a record's tag back (Get Blob Tags),
// no more than blobs/read already shows. Of Contributor's control-plane actions only containers/read is kept (the
// start-up probe reads the container's properties): the apps never create, change or delete containers, the
// templates do. Role names are unique per tenant, hence the account's name in it.
resource stateRecordsRole 'Microsoft.Authorization/roleDefinitions@2022-04-01' = {
  name: guid(resourceGroup().id, stateContainer.id, 'restore-state-records')
  properties: {
    roleName: 'Restore state records (${stateStorageName})'
    description: 'Operation records in the ${stateContainerName} container of ${stateStorageName}: Storage Blob Data Contributor data actions plus blob index tags (read, write, find).'
    type: 'CustomRole'
    assignableScopes: [
      resourceGroup().id
    ]
    permissions: [
      {
        actions: [
          'Microsoft.Storage/storageAccounts/blobServices/containers/read'
        ]
        notActions: []
        dataActions: [
          'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read'
          'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/write'
          'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/delete'
          'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/add/action'
          'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/move/action'
          'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/tags/read'
          'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/tags/write'
          'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/filter/action'
        ]
        notDataActions: []
      }
    ]
  }
}

resource intakeHostStorage 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: intakeHostStorageName
}

resource trackerHostStorage 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: trackerHostStorageName
}

resource appInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: appInsightsName
}

// ---- intake ----------------------------------------------------------------------------------------------------

// Intake: Data Receiver on the requests queue only: the Service Bus trigger peek-locks, renews and completes
// (or abandons) requests. Not on the namespace, so it cannot read the results subscription.
resource intakeQueueReceiver 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(requestsQueue.id, intakePrincipalId, roleIds.serviceBusDataReceiver)
  scope: requestsQueue
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.serviceBusDataReceiver)
    principalId: intakePrincipalId
    principalType: 'ServicePrincipal'
    description: 'intake: Service Bus trigger on the restore requests queue'
  }
}

// Intake: Data Sender on the results topic only: the `results` output binding publishes Rejected/Accepted results.
resource intakeTopicSender 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(resultsTopic.id, intakePrincipalId, roleIds.serviceBusDataSender)
  scope: resultsTopic
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.serviceBusDataSender)
    principalId: intakePrincipalId
    principalType: 'ServicePrincipal'
    description: 'intake: results output binding'
  }
}

// Intake: the state records role on the restore-state container only (not the account): it writes the operation
// records (write-ahead, then Accepted) with conditional (ETag) writes, each with its due tag.
resource intakeStateRecords 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(stateContainer.id, intakePrincipalId, stateRecordsRole.name)
  scope: stateContainer
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', stateRecordsRole.name)
    principalId: intakePrincipalId
    principalType: 'ServicePrincipal'
    description: 'intake: operation records in the restore-state container'
  }
}

// Intake: Blob Data Owner on its OWN host storage account: what the Functions host needs for identity-based
// AzureWebJobsStorage (it creates its containers: azure-webjobs-hosts for locks/status, azure-webjobs-secrets)
// and what Flex needs to read the deployment package. Its own account, so it cannot touch the tracker's host
// state or package. No queue/table roles: no blob trigger or Durable Functions is used.
resource intakeHostOwner 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(intakeHostStorage.id, intakePrincipalId, roleIds.storageBlobDataOwner)
  scope: intakeHostStorage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.storageBlobDataOwner)
    principalId: intakePrincipalId
    principalType: 'ServicePrincipal'
    description: 'intake: Functions host storage and deployment package'
  }
}

// Intake: Monitoring Metrics Publisher on the Application Insights component: with local auth disabled, telemetry
// is accepted only with an Entra token of an identity holding this role.
resource intakeTelemetry 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(appInsights.id, intakePrincipalId, roleIds.monitoringMetricsPublisher)
  scope: appInsights
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.monitoringMetricsPublisher)
    principalId: intakePrincipalId
    principalType: 'ServicePrincipal'
    description: 'intake: Entra-authenticated Application Insights ingestion'
  }
}

// ---- tracker ---------------------------------------------------------------------------------------------------

// Tracker: Data Sender on the results topic only: it publishes every final result. It never reads the queue.
resource trackerTopicSender 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(resultsTopic.id, trackerPrincipalId, roleIds.serviceBusDataSender)
  scope: resultsTopic
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.serviceBusDataSender)
    principalId: trackerPrincipalId
    principalType: 'ServicePrincipal'
    description: 'tracker: results output binding'
  }
}

// Tracker: the state records role on the restore-state container: it finds due records by their index tag and
// advances them (Accepted -> Running -> terminal) with conditional writes.
resource trackerStateRecords 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(stateContainer.id, trackerPrincipalId, stateRecordsRole.name)
  scope: stateContainer
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', stateRecordsRole.name)
    principalId: trackerPrincipalId
    principalType: 'ServicePrincipal'
    description: 'tracker: operation records in the restore-state container'
  }
}

// Tracker: Blob Data Owner on its OWN host storage account: host storage (the timer's singleton lease and schedule
// status live in azure-webjobs-hosts) and its deployment package.
resource trackerHostOwner 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(trackerHostStorage.id, trackerPrincipalId, roleIds.storageBlobDataOwner)
  scope: trackerHostStorage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.storageBlobDataOwner)
    principalId: trackerPrincipalId
    principalType: 'ServicePrincipal'
    description: 'tracker: Functions host storage (timer lease) and deployment package'
  }
}

// Tracker: Monitoring Metrics Publisher, as for the intake.
resource trackerTelemetry 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(appInsights.id, trackerPrincipalId, roleIds.monitoringMetricsPublisher)
  scope: appInsights
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.monitoringMetricsPublisher)
    principalId: trackerPrincipalId
    principalType: 'ServicePrincipal'
    description: 'tracker: Entra-authenticated Application Insights ingestion'
  }
}
