// Azure Backup roles on ONE vault, deployed at the vault's resource group (which may differ from the app's).
// Works for Backup vaults (Microsoft.DataProtection/backupVaults: managed disks) and Recovery Services vaults
// (Microsoft.RecoveryServices/vaults: VMs, Cross Region Restore).

// Built-in role definition ids (the same in every Azure cloud).
var roleIds = {
  backupOperator: '00c29273-979b-4161-815c-10b084fb9324' // Backup Operator
  backupReader: 'a795c7a0-d4a2-40c1-ae25-d81f01202912' // Backup Reader
}

@description('Full ARM id of the vault.')
param vaultId string
param intakePrincipalId string
param trackerPrincipalId string

var vaultName = last(split(vaultId, '/'))
var isBackupVault = toLower(split(vaultId, '/')[6]) == 'microsoft.dataprotection'

resource backupVault 'Microsoft.DataProtection/backupVaults@2024-04-01' existing = if (isBackupVault) {
  name: vaultName
}

resource recoveryServicesVault 'Microsoft.RecoveryServices/vaults@2024-04-01' existing = if (!isBackupVault) {
  name: vaultName
}

// Intake: Backup Operator on the vault: list/get recovery points, validateRestore, trigger restore, read the
// vault's jobs (the write-ahead reconciliation lists restore jobs). It is Backup Contributor without the
// destructive actions (stop protection, delete backup data, change policies), and it cannot grant access.
resource intakeOperatorDpp 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (isBackupVault) {
  name: guid(vaultId, intakePrincipalId, roleIds.backupOperator)
  scope: backupVault
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.backupOperator)
    principalId: intakePrincipalId
    principalType: 'ServicePrincipal'
    description: 'restore intake: validate and trigger restores from this vault'
  }
}

resource intakeOperatorRsv 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!isBackupVault) {
  name: guid(vaultId, intakePrincipalId, roleIds.backupOperator)
  scope: recoveryServicesVault
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.backupOperator)
    principalId: intakePrincipalId
    principalType: 'ServicePrincipal'
    description: 'restore intake: validate and trigger restores from this vault'
  }
}

// Tracker: Backup Reader on the vault: read operation status under the vault/protected item, and backup jobs.
// Read-only: the tracker can never start or cancel anything.
resource trackerReaderDpp 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (isBackupVault) {
  name: guid(vaultId, trackerPrincipalId, roleIds.backupReader)
  scope: backupVault
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.backupReader)
    principalId: trackerPrincipalId
    principalType: 'ServicePrincipal'
    description: 'restore tracker: follow restore operations and jobs of this vault'
  }
}

resource trackerReaderRsv 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!isBackupVault) {
  name: guid(vaultId, trackerPrincipalId, roleIds.backupReader)
  scope: recoveryServicesVault
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.backupReader)
    principalId: trackerPrincipalId
    principalType: 'ServicePrincipal'
    description: 'restore tracker: follow restore operations and jobs of this vault'
  }
}
