// Example parameters for `az deployment group create --template-file infra/main.bicep --parameters infra/main.example.bicepparam`.
// (azd uses main.parameters.json, which reads AZURE_ENV_NAME / AZURE_LOCATION from the azd environment.)
using 'main.bicep'

param environmentName = 'prod'
param vaultIds = [
  '/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-backup/providers/Microsoft.DataProtection/backupVaults/bv-disks'
  '/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-backup/providers/Microsoft.RecoveryServices/vaults/rsv-vms'
]
// Object ids of the Backup vaults' system-assigned identities (az dataprotection backup-vault show --query identity.principalId).
param backupVaultPrincipalIds = [
  '11111111-1111-1111-1111-111111111111'
]
param diskRestoreTargetResourceGroupIds = [
  '/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-restored'
]
param diskSnapshotResourceGroupIds = [
  '/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-snapshots'
]
// The restore policy (RESTORE_POLICY) in the engine's policy format; {} rejects every request.
param restorePolicy = {}
