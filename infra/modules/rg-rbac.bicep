// One built-in role for a list of service principals at the scope of the resource group this module is deployed
// to. Used to give Backup vaults' system-assigned identities what managed-disk restores need on the target and
// snapshot resource groups (the vault, not our apps, creates the disk).

param roleDefinitionId string
@description('Object ids of the principals (Backup vaults\' system-assigned identities).')
param principalIds array
param purpose string

resource assignments 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for principalId in principalIds: {
    name: guid(resourceGroup().id, principalId, roleDefinitionId)
    properties: {
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleDefinitionId)
      principalId: principalId
      principalType: 'ServicePrincipal'
      description: purpose
    }
  }
]
