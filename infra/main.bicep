// Restore automation: two Rust custom-handler function apps on Flex Consumption (intake: Service Bus queue
// trigger; tracker: timer), each with its own user-assigned identity and least-privilege roles; Service Bus
// (requests queue, results topic + subscription); storage for host state, deployment packages and the
// restore-state container; Log Analytics + Application Insights. Nothing uses keys, SAS or connection strings.
//
// Deploy with `azd up` (azure.yaml at the repo root) or `az deployment group create` (docs/deploy.md).

targetScope = 'resourceGroup'

@minLength(1)
@maxLength(40)
@description('Environment name (azd sets it); part of every resource name and the azd-env-name tag.')
param environmentName string

@description('Region for every resource; Flex Consumption must be available there.')
param location string = resourceGroup().location

@description('Backup vaults and Recovery Services vaults the intake may restore from and the tracker may read: full ARM ids, in any resource group of this subscription.')
param vaultIds array = []

@description('Object ids of the Backup vaults\' system-assigned identities. With the two lists below they get what managed-disk restores need; leave empty to manage those roles yourself.')
param backupVaultPrincipalIds array = []

@description('Resource groups (full ids) where restored disks are created: the vault identities get Disk Restore Operator there. Microsoft recommends removing it after restores; see docs/deploy.md.')
param diskRestoreTargetResourceGroupIds array = []

@description('Resource groups (full ids) holding the Backup vaults\' operational-tier snapshots: the vault identities get Disk Snapshot Contributor there (restores read the snapshots).')
param diskSnapshotResourceGroupIds array = []

@description('Resource groups (full ids) where Recovery Services VM restores create disks or VMs with the caller\'s identity: the intake gets Contributor there (what Azure Backup documents for caller-identity VM restores). Empty by default.')
param vmRestoreTargetResourceGroupIds array = []

@description('Staging storage accounts (ARM ids) that VM restore-disks requests name; the tracker may read the VM config a restore-disks job writes there (it names the restored disks).')
param stagingStorageAccountIds array = []

@description('Deploy the recovery-drill function app, its evidence account (plans, immutable evidence, overview), drill-results queue and alert rules. The function reads its plans from the drill-plans container and writes evidence to drill-evidence; with no plan uploaded it only ticks (the heartbeat) and sweeps the sandbox groups.')
param enableDrills bool = true

@description('NCRONTAB (6 fields, UTC) of the drill timer.')
param drillsSchedule string = '0 */5 * * * *'

@description('Sandbox resource groups (full ids) drills restore into and clean up: the drill identity gets Contributor there and nowhere else it can write. They must also be in the policy\'s sandbox lists.')
param drillSandboxResourceGroupIds array = []

@description('Resource groups (full ids) of the disks and VMs that tag selections read: the drill identity gets Reader there (tags and existence only).')
param drillSourceResourceGroupIds array = []

@description('Action group (resource id) the drill alert rules notify; empty creates the rules without notifications.')
param drillAlertActionGroupId string = ''

@description('Backup Reader on the subscription for both apps: Backup vault operation-status URLs are subscription/location-scoped. Needs the deployer to be allowed to assign roles at the subscription.')
param grantSubscriptionBackupReader bool = true

@description('Backup Operator on the subscription for the intake, for Cross Region Restore (a subscription/location-scoped API).')
param enableCrossRegionRestore bool = false

@description('Cloud name for the handlers (RESTORE_CLOUD). Empty: derived from the deployment\'s cloud. Custom needs restoreArmEndpoint and restoreArmAudience.')
@allowed(['', 'AzurePublic', 'AzureUSGovernment', 'AzureChina', 'Custom'])
param restoreCloud string = ''

@description('ARM endpoint for RESTORE_CLOUD=Custom only.')
param restoreArmEndpoint string = ''

@description('Token audience for RESTORE_CLOUD=Custom only.')
param restoreArmAudience string = ''

@description('Restore policy (allowed vaults, target resource groups, restore kinds, limits) as JSON; becomes RESTORE_POLICY.')
param restorePolicy object = {}

param requestsQueueName string = 'restore-requests'
param resultsTopicName string = 'restore-results'
param resultsSubscriptionName string = 'all-results'
param stateContainerName string = 'restore-state'

@description('Deliveries of a request before it dead-letters.')
param requestsMaxDeliveryCount int = 10

@description('NCRONTAB (6 fields, UTC) of the tracker timer.')
param trackerSchedule string = '0/30 * * * * *'

@description('Maximum intake instances (each runs up to maxConcurrentCalls = 8 requests at once).')
param intakeMaximumInstanceCount int = 10

@description('Maximum tracker instances; the timer is a singleton, so 1 is enough.')
param trackerMaximumInstanceCount int = 1

@description('Flex runtime version for custom handlers (confirm with `az functionapp list-flexconsumption-runtimes`).')
param customRuntimeVersion string = '1.0'

var token = toLower(uniqueString(subscription().id, resourceGroup().id, environmentName))
var prefix = 'restore-${environmentName}'
var tags = {
  'azd-env-name': environmentName
  workload: 'backup-restore-automation'
}
var deploymentContainerName = 'app-package'
var cloud = empty(restoreCloud) ? environment().name : restoreCloud

// ---- identities ------------------------------------------------------------------------------------------------

// Separate identities: the intake can restore, the tracker can only read (DESIGN.md §2).
resource intakeIdentity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: 'id-${prefix}-intake'
  location: location
  tags: tags
}

resource trackerIdentity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: 'id-${prefix}-tracker'
  location: location
  tags: tags
}

// Drills restore through the intake (they only send requests) and clean up only in the sandbox groups.
resource drillsIdentity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = if (enableDrills) {
  name: 'id-${prefix}-drills'
  location: location
  tags: tags
}

// ---- shared resources ------------------------------------------------------------------------------------------

module monitoring 'modules/monitoring.bicep' = {
  name: 'monitoring'
  params: {
    location: location
    tags: tags
    logAnalyticsName: 'log-${prefix}-${token}'
    appInsightsName: 'appi-${prefix}-${token}'
  }
}

module serviceBus 'modules/servicebus.bicep' = {
  name: 'servicebus'
  params: {
    location: location
    tags: tags
    namespaceName: 'sb-${prefix}-${token}'
    requestsQueueName: requestsQueueName
    resultsTopicName: resultsTopicName
    resultsSubscriptionName: resultsSubscriptionName
    maxDeliveryCount: requestsMaxDeliveryCount
  }
}

// The restore-state account holds nothing but operation records (one JSON blob per request).
module stateStorage 'modules/storage.bicep' = {
  name: 'state-storage'
  params: {
    location: location
    tags: tags
    name: take('strst${token}', 24)
    containers: [stateContainerName]
  }
}

// Each app has its own host storage account (AzureWebJobsStorage + its deployment package): the Functions host
// needs Blob Data Owner on host storage, and one account per app keeps one app from touching the other's timer
// lease, secrets or code. Storage accounts cost nothing when idle.
module intakeHostStorage 'modules/storage.bicep' = {
  name: 'intake-host-storage'
  params: {
    location: location
    tags: tags
    name: take('strin${token}', 24)
    containers: [deploymentContainerName]
  }
}

module trackerHostStorage 'modules/storage.bicep' = {
  name: 'tracker-host-storage'
  params: {
    location: location
    tags: tags
    name: take('strtr${token}', 24)
    containers: [deploymentContainerName]
  }
}

module drillsHostStorage 'modules/storage.bicep' = if (enableDrills) {
  name: 'drills-host-storage'
  params: {
    location: location
    tags: tags
    name: take('strdr${token}', 24)
    containers: [deploymentContainerName]
  }
}

// ---- app settings ----------------------------------------------------------------------------------------------
// Every setting the handlers and their function.json bindings read (docs/configuration.md). The platform's own
// settings (AzureWebJobsStorage__*, APPLICATIONINSIGHTS_*) are added in modules/functionapp.bicep.
// tests/tests/package.rs checks that every binding setting is set here for its app.

// Only a custom cloud sets the ARM endpoint and audience (the handlers derive them for the named clouds).
var customCloudArmSettings = {
  RESTORE_ARM_ENDPOINT: restoreArmEndpoint
  RESTORE_ARM_AUDIENCE: restoreArmAudience
}
var customCloudSettings = cloud == 'Custom' ? customCloudArmSettings : {}

var sharedAppSettings = {
  RESTORE_CLOUD: cloud
  RESTORE_CREDENTIAL: 'managed-identity'
  RESTORE_STORE: 'blob'
  RESTORE_BLOB_CONTAINER_URL: '${stateStorage.outputs.blobEndpoint}${stateContainerName}'
  RESTORE_POLICY: string(restorePolicy)
  RESTORE_RESULTS_TOPIC: resultsTopicName
  ServiceBusConnection__fullyQualifiedNamespace: serviceBus.outputs.fullyQualifiedNamespace
  ServiceBusConnection__credential: 'managedidentity'
}

var intakeAppSettings = {
  AZURE_CLIENT_ID: intakeIdentity.properties.clientId
  ServiceBusConnection__clientId: intakeIdentity.properties.clientId
  RESTORE_REQUESTS_QUEUE: requestsQueueName
}

var trackerAppSettings = {
  AZURE_CLIENT_ID: trackerIdentity.properties.clientId
  ServiceBusConnection__clientId: trackerIdentity.properties.clientId
  RESTORE_TRACKER_SCHEDULE: trackerSchedule
  // The tracker sends results itself (REST, its identity) so it knows they were delivered before marking them.
  RESTORE_SERVICEBUS_NAMESPACE: serviceBus.outputs.fullyQualifiedNamespace
}

var evidenceStorageName = take('strev${token}', 24)

var drillsAppSettings = {
  AZURE_CLIENT_ID: enableDrills ? drillsIdentity.properties.clientId : ''
  ServiceBusConnection__clientId: enableDrills ? drillsIdentity.properties.clientId : ''
  RESTORE_DRILLS_SCHEDULE: drillsSchedule
  RESTORE_SERVICEBUS_NAMESPACE: serviceBus.outputs.fullyQualifiedNamespace
  RESTORE_REQUESTS_QUEUE: requestsQueueName
  RESTORE_DRILL_RESULTS_QUEUE: 'drill-results'
  // Plans are read from drill-plans every tick (Storage Blob Data Reader: the function cannot change a plan) and
  // each run's report and evidence pack are created once in drill-evidence (Contributor, under the container's
  // immutability policy); the overview page across plans is replaced in drill-overview as runs change
  // (Contributor); modules/drills.bicep creates the three containers and grants the roles.
  RESTORE_DRILL_PLANS_CONTAINER_URL: enableDrills ? '${drills.outputs.evidenceBlobEndpoint}drill-plans' : ''
  RESTORE_DRILL_EVIDENCE_CONTAINER_URL: enableDrills ? '${drills.outputs.evidenceBlobEndpoint}drill-evidence' : ''
  RESTORE_DRILL_OVERVIEW_CONTAINER_URL: enableDrills ? '${drills.outputs.evidenceBlobEndpoint}drill-overview' : ''
}

// ---- function apps ---------------------------------------------------------------------------------------------

module intakeApp 'modules/functionapp.bicep' = {
  name: 'intake-app'
  params: {
    location: location
    tags: union(tags, { 'azd-service-name': 'intake' })
    name: 'func-${prefix}-intake-${token}'
    planName: 'plan-${prefix}-intake-${token}'
    identityId: intakeIdentity.id
    identityClientId: intakeIdentity.properties.clientId
    hostStorageName: intakeHostStorage.outputs.name
    deploymentContainerName: deploymentContainerName
    appInsightsConnectionString: monitoring.outputs.appInsightsConnectionString
    appSettings: union(sharedAppSettings, customCloudSettings, intakeAppSettings)
    maximumInstanceCount: intakeMaximumInstanceCount
    runtimeVersion: customRuntimeVersion
  }
}

module trackerApp 'modules/functionapp.bicep' = {
  name: 'tracker-app'
  params: {
    location: location
    tags: union(tags, { 'azd-service-name': 'tracker' })
    name: 'func-${prefix}-tracker-${token}'
    planName: 'plan-${prefix}-tracker-${token}'
    identityId: trackerIdentity.id
    identityClientId: trackerIdentity.properties.clientId
    hostStorageName: trackerHostStorage.outputs.name
    deploymentContainerName: deploymentContainerName
    appInsightsConnectionString: monitoring.outputs.appInsightsConnectionString
    appSettings: union(sharedAppSettings, customCloudSettings, trackerAppSettings)
    maximumInstanceCount: trackerMaximumInstanceCount
    runtimeVersion: customRuntimeVersion
  }
}

module drillsApp 'modules/functionapp.bicep' = if (enableDrills) {
  name: 'drills-app'
  params: {
    location: location
    tags: union(tags, { 'azd-service-name': 'drills' })
    name: 'func-${prefix}-drills-${token}'
    planName: 'plan-${prefix}-drills-${token}'
    identityId: enableDrills ? drillsIdentity.id : ''
    identityClientId: enableDrills ? drillsIdentity.properties.clientId : ''
    hostStorageName: take('strdr${token}', 24)
    deploymentContainerName: deploymentContainerName
    appInsightsConnectionString: monitoring.outputs.appInsightsConnectionString
    appSettings: union(sharedAppSettings, customCloudSettings, drillsAppSettings)
    maximumInstanceCount: 1
    runtimeVersion: customRuntimeVersion
  }
  dependsOn: [drillsHostStorage]
}

module drills 'modules/drills.bicep' = if (enableDrills) {
  name: 'drills'
  params: {
    location: location
    tags: tags
    drillsPrincipalId: enableDrills ? drillsIdentity.properties.principalId : ''
    serviceBusNamespaceName: serviceBus.outputs.namespaceName
    requestsQueueName: serviceBus.outputs.requestsQueueName
    stateStorageName: stateStorage.outputs.name
    stateContainerName: stateContainerName
    drillsHostStorageName: take('strdr${token}', 24)
    appInsightsName: monitoring.outputs.appInsightsName
    evidenceStorageName: evidenceStorageName
  }
  dependsOn: [drillsHostStorage]
}

module drillAlerts 'modules/drill-alerts.bicep' = if (enableDrills) {
  name: 'drill-alerts'
  params: {
    location: location
    tags: tags
    appInsightsId: monitoring.outputs.appInsightsId
    actionGroupId: drillAlertActionGroupId
  }
}

// ---- role assignments ------------------------------------------------------------------------------------------

module appRbac 'modules/app-rbac.bicep' = {
  name: 'app-rbac'
  params: {
    intakePrincipalId: intakeIdentity.properties.principalId
    trackerPrincipalId: trackerIdentity.properties.principalId
    serviceBusNamespaceName: serviceBus.outputs.namespaceName
    requestsQueueName: serviceBus.outputs.requestsQueueName
    resultsTopicName: serviceBus.outputs.resultsTopicName
    stateStorageName: stateStorage.outputs.name
    stateContainerName: stateContainerName
    intakeHostStorageName: intakeHostStorage.outputs.name
    trackerHostStorageName: trackerHostStorage.outputs.name
    appInsightsName: monitoring.outputs.appInsightsName
  }
}

// One module per vault, deployed at the vault's own resource group.
module vaultRbac 'modules/vault-rbac.bicep' = [
  for (vaultId, i) in vaultIds: {
    name: 'vault-rbac-${i}'
    scope: resourceGroup(split(vaultId, '/')[2], split(vaultId, '/')[4])
    params: {
      vaultId: vaultId
      intakePrincipalId: intakeIdentity.properties.principalId
      trackerPrincipalId: trackerIdentity.properties.principalId
    }
  }
]

module subscriptionRbac 'modules/subscription-rbac.bicep' = if (grantSubscriptionBackupReader || enableCrossRegionRestore) {
  name: 'subscription-rbac-${token}'
  scope: subscription()
  params: {
    intakePrincipalId: intakeIdentity.properties.principalId
    trackerPrincipalId: trackerIdentity.properties.principalId
    grantBackupReader: grantSubscriptionBackupReader
    grantCrossRegionRestore: enableCrossRegionRestore
  }
}

// Backup vaults' identities: Disk Restore Operator where restored disks are created.
module diskRestoreRbac 'modules/rg-rbac.bicep' = [
  for (rgId, i) in diskRestoreTargetResourceGroupIds: if (!empty(backupVaultPrincipalIds)) {
    name: 'disk-restore-rbac-${i}'
    scope: resourceGroup(split(rgId, '/')[2], split(rgId, '/')[4])
    params: {
      roleDefinitionId: 'b50d9833-a0cb-478e-945f-707fcc997c13' // Disk Restore Operator
      principalIds: backupVaultPrincipalIds
      purpose: 'Backup vault identity: create restored managed disks here'
    }
  }
]

// Tracker: Tag Contributor where restores create resources. It puts the request's and the policy's tags on them
// once the job has ended (Azure's restore requests take no tags). Tags only: it cannot create, change or delete.
module restoreTagRbac 'modules/rg-rbac.bicep' = [
  for (rgId, i) in union(diskRestoreTargetResourceGroupIds, vmRestoreTargetResourceGroupIds): {
    name: 'restore-tag-rbac-${i}'
    scope: resourceGroup(split(rgId, '/')[2], split(rgId, '/')[4])
    params: {
      roleDefinitionId: '4a9ae827-6dc8-4573-8ac7-8239d42aa03f' // Tag Contributor
      principalIds: [trackerIdentity.properties.principalId]
      purpose: 'tracker: tags on restored resources'
    }
  }
]

// Tracker: Storage Blob Data Reader on each staging account, to read the VM config a restore-disks job writes
// (Azure's job names the file but not the restored disks; the file does).
module stagingReaderRbac 'modules/staging-rbac.bicep' = [
  for (saId, i) in stagingStorageAccountIds: {
    name: 'staging-reader-rbac-${i}'
    scope: resourceGroup(split(saId, '/')[2], split(saId, '/')[4])
    params: {
      storageAccountName: last(split(saId, '/'))
      principalId: trackerIdentity.properties.principalId
    }
  }
]

// Drills: Backup Reader on each vault (recovery points and protected items to choose from; restores go through the
// intake), Contributor on the sandbox groups only (tag, run commands on and delete what drills created there; the
// three-part guard in code refuses anything not recorded on a run and tagged by it), Reader on the sources' groups
// for tag selection, and Storage Blob Data Contributor on the staging accounts to delete restore-disks files.
module drillVaultRbac 'modules/rg-rbac.bicep' = [
  for (vaultId, i) in vaultIds: if (enableDrills) {
    name: 'drill-vault-rbac-${i}'
    scope: resourceGroup(split(vaultId, '/')[2], split(vaultId, '/')[4])
    params: {
      roleDefinitionId: 'a795c7a0-d4a2-40c1-ae25-d81f01202912' // Backup Reader
      principalIds: enableDrills ? [drillsIdentity.properties.principalId] : []
      purpose: 'drills: read recovery points and protected items'
    }
  }
]

module drillSandboxRbac 'modules/rg-rbac.bicep' = [
  for (rgId, i) in drillSandboxResourceGroupIds: if (enableDrills) {
    name: 'drill-sandbox-rbac-${i}'
    scope: resourceGroup(split(rgId, '/')[2], split(rgId, '/')[4])
    params: {
      roleDefinitionId: 'b24988ac-6180-42a0-ab88-20f7382dd24c' // Contributor
      principalIds: enableDrills ? [drillsIdentity.properties.principalId] : []
      purpose: 'drills: check, tag and delete what drills restored into this sandbox'
    }
  }
]

module drillSourceRbac 'modules/rg-rbac.bicep' = [
  for (rgId, i) in drillSourceResourceGroupIds: if (enableDrills) {
    name: 'drill-source-rbac-${i}'
    scope: resourceGroup(split(rgId, '/')[2], split(rgId, '/')[4])
    params: {
      roleDefinitionId: 'acdd72a7-3385-48ef-bd42-f606fba81ae7' // Reader
      principalIds: enableDrills ? [drillsIdentity.properties.principalId] : []
      purpose: 'drills: read source disks and VMs (tags, existence, properties to compare)'
    }
  }
]

module drillStagingRbac 'modules/staging-rbac.bicep' = [
  for (saId, i) in stagingStorageAccountIds: if (enableDrills) {
    name: 'drill-staging-rbac-${i}'
    scope: resourceGroup(split(saId, '/')[2], split(saId, '/')[4])
    params: {
      storageAccountName: last(split(saId, '/'))
      principalId: enableDrills ? drillsIdentity.properties.principalId : ''
      roleDefinitionId: 'ba92f5b4-2d11-453d-a403-e96b0029c9fe' // Storage Blob Data Contributor
      purpose: 'drills: read and delete the config and template files restore-disks drills leave'
    }
  }
]

// Backup vaults' identities: Disk Snapshot Contributor on the snapshot resource groups (restores read them).
module diskSnapshotRbac 'modules/rg-rbac.bicep' = [
  for (rgId, i) in diskSnapshotResourceGroupIds: if (!empty(backupVaultPrincipalIds)) {
    name: 'disk-snapshot-rbac-${i}'
    scope: resourceGroup(split(rgId, '/')[2], split(rgId, '/')[4])
    params: {
      roleDefinitionId: '7efff54f-a5b4-42b5-a1c5-5411624893ce' // Disk Snapshot Contributor
      principalIds: backupVaultPrincipalIds
      purpose: 'Backup vault identity: operational-tier snapshots used by restores'
    }
  }
]

// Intake: Contributor on VM restore targets (only those listed), as Azure Backup documents for caller-identity
// Recovery Services restores (restore disks, new VM). Prefer restores that use the vault's managed identity.
module vmRestoreRbac 'modules/rg-rbac.bicep' = [
  for (rgId, i) in vmRestoreTargetResourceGroupIds: {
    name: 'vm-restore-rbac-${i}'
    scope: resourceGroup(split(rgId, '/')[2], split(rgId, '/')[4])
    params: {
      roleDefinitionId: 'b24988ac-6180-42a0-ab88-20f7382dd24c' // Contributor
      principalIds: [intakeIdentity.properties.principalId]
      purpose: 'restore intake: Recovery Services VM restore target'
    }
  }
]

// ---- outputs (azd writes them to .azure/<env>/.env; restorectl submit reads them) ------------------------------

output AZURE_LOCATION string = location
output SERVICE_BUS_NAMESPACE string = serviceBus.outputs.fullyQualifiedNamespace
output RESTORE_REQUESTS_QUEUE string = serviceBus.outputs.requestsQueueName
output RESTORE_RESULTS_TOPIC string = serviceBus.outputs.resultsTopicName
output RESTORE_RESULTS_SUBSCRIPTION string = serviceBus.outputs.resultsSubscriptionName
output RESTORE_BLOB_CONTAINER_URL string = '${stateStorage.outputs.blobEndpoint}${stateContainerName}'
output INTAKE_FUNCTION_APP_NAME string = intakeApp.outputs.name
output TRACKER_FUNCTION_APP_NAME string = trackerApp.outputs.name
output INTAKE_IDENTITY_PRINCIPAL_ID string = intakeIdentity.properties.principalId
output TRACKER_IDENTITY_PRINCIPAL_ID string = trackerIdentity.properties.principalId
output APPLICATIONINSIGHTS_NAME string = monitoring.outputs.appInsightsName
output DRILLS_FUNCTION_APP_NAME string = enableDrills ? drillsApp.outputs.name : ''
output DRILL_EVIDENCE_URL string = enableDrills ? '${drills.outputs.evidenceBlobEndpoint}drill-evidence' : ''
