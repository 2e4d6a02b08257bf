// One data role on one staging storage account for one principal, deployed at the account's resource group. The
// tracker gets Storage Blob Data Reader: it reads the VM configuration a Recovery Services restore-disks job
// writes there, because that file (not the job) names the restored disks. Drills get Storage Blob Data
// Contributor: they also delete the files their restores left.

@description('Name of the staging storage account (in this module\'s resource group).')
param storageAccountName string
@description('Object id of the principal (the tracker\'s identity).')
param principalId string

resource staging 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: storageAccountName
}

@description('Built-in role id; Storage Blob Data Reader by default.')
param roleDefinitionId string = '2a2b9908-6ea1-4ae2-8e65-a410df84e7d1'
param purpose string = 'tracker: read restore-disks configs (the restored disks\' names) from the staging account'

resource assignment 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(staging.id, principalId, roleDefinitionId)
  scope: staging
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleDefinitionId)
    principalId: principalId
    principalType: 'ServicePrincipal'
    description: purpose
  }
}
