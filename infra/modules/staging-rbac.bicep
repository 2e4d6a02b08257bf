// Storage Blob Data Reader on one staging storage account for one principal. The tracker reads the VM
// configuration a Recovery Services restore-disks job writes there, because that file (not the job) names the
// restored disks; it needs no write right and no right on any other account. Deployed at the account's
// resource group.

@description('Name of the staging storage account (in this module\'s resource group).')
param storageAccountName string
@description('Object id of the principal (the tracker\'s identity).')
param principalId string

resource staging 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: storageAccountName
}

var storageBlobDataReader = '2a2b9908-6ea1-4ae2-8e65-a410df84e7d1'

resource reader 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(staging.id, principalId, storageBlobDataReader)
  scope: staging
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', storageBlobDataReader)
    principalId: principalId
    principalType: 'ServicePrincipal'
    description: 'tracker: read restore-disks configs (the restored disks\' names) from the staging account'
  }
}
