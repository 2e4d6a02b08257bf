// Subscription-scoped Azure Backup roles. Some follow-up URLs Azure hands back are not under a vault:
// Backup vault (DataProtection) restores answer with Azure-AsyncOperation/Location URLs of the form
// /subscriptions/{sub}/providers/Microsoft.DataProtection/locations/{region}/operationStatus|operationResults/{id},
// and Cross Region Restore (Recovery Services) calls live under
// /subscriptions/{sub}/providers/Microsoft.RecoveryServices/locations/{region}/... (backupAadProperties,
// backupCrossRegionRestore, backupCrrOperationsStatus, backupCrrJob). A role on a vault does not cover them.

targetScope = 'subscription'

// Built-in role definition ids (the same in every Azure cloud).
var roleIds = {
  backupOperator: '00c29273-979b-4161-815c-10b084fb9324' // Backup Operator
  backupReader: 'a795c7a0-d4a2-40c1-ae25-d81f01202912' // Backup Reader
}

param intakePrincipalId string
param trackerPrincipalId string

@description('Give both apps Backup Reader on the subscription, for the location-scoped operation status reads.')
param grantBackupReader bool

@description('Give the intake Backup Operator on the subscription: Cross Region Restore is triggered through a subscription/location-scoped API.')
param grantCrossRegionRestore bool

// Intake and tracker: Backup Reader (read-only) at the subscription, because the operation-status URLs of
// Backup vault restores and validations are subscription/location-scoped. Reader would also do; Backup Reader
// is narrower (backup resources only).
resource intakeReader 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (grantBackupReader) {
  name: guid(subscription().id, intakePrincipalId, roleIds.backupReader)
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.backupReader)
    principalId: intakePrincipalId
    principalType: 'ServicePrincipal'
    description: 'restore intake: location-scoped operation status of validateRestore/restore'
  }
}

resource trackerReader 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (grantBackupReader) {
  name: guid(subscription().id, trackerPrincipalId, roleIds.backupReader)
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.backupReader)
    principalId: trackerPrincipalId
    principalType: 'ServicePrincipal'
    description: 'restore tracker: location-scoped operation status and CRR job reads'
  }
}

// Intake: Backup Operator at the subscription, only when Cross Region Restore is enabled: the CRR trigger and
// its access token are subscription/location-scoped actions (Microsoft's CRR guidance names Backup Operator on
// the subscription). This widens the intake to every vault in the subscription: turn it on only if you use CRR.
resource intakeCrrOperator 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (grantCrossRegionRestore) {
  name: guid(subscription().id, intakePrincipalId, roleIds.backupOperator)
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.backupOperator)
    principalId: intakePrincipalId
    principalType: 'ServicePrincipal'
    description: 'restore intake: Cross Region Restore (subscription/location-scoped API)'
  }
}
