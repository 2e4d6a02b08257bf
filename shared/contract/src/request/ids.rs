//! The one id type the contract needs that `restore-models` does not have: a Backup vault's backup policy.

use std::fmt;

use restore_models::arm_id::{ArmIdError, BackupVaultId, ResourceId};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A backup policy in a Backup vault
/// (`/subscriptions/{s}/resourceGroups/{rg}/providers/Microsoft.DataProtection/backupVaults/{vault}/backupPolicies/{policy}`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct BackupPolicyId(ResourceId);

impl BackupPolicyId {
    /// Human name of the resource kind, for error messages.
    pub const KIND: &'static str = "Backup vault backup policy";
    /// The shape this id must have.
    pub const SHAPE: &'static str = "/subscriptions/{s}/resourceGroups/{rg}/providers/Microsoft.DataProtection/backupVaults/{vault}/backupPolicies/{policy}";

    /// Parses `input` and checks that it names a Backup vault backup policy.
    pub fn parse(input: &str) -> Result<Self, ArmIdError> {
        let id = ResourceId::parse(input)?;
        let chain = id.chain();
        let ok = id.resource_group().is_some()
            && id.namespace().is_some_and(|n| n.eq_ignore_ascii_case("Microsoft.DataProtection"))
            && chain.len() == 2
            && chain[0].kind.eq_ignore_ascii_case("backupVaults")
            && chain[1].kind.eq_ignore_ascii_case("backupPolicies");
        if ok {
            Ok(Self(id))
        } else {
            Err(ArmIdError::WrongKind {
                id: input.chars().filter(|c| !c.is_control()).take(200).collect(),
                expected: Self::KIND,
                shape: Self::SHAPE,
            })
        }
    }

    /// The id as written.
    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }

    /// The policy name.
    pub fn name(&self) -> &str {
        self.0.name()
    }

    /// The Backup vault holding the policy.
    pub fn vault(&self) -> Result<BackupVaultId, ArmIdError> {
        // ASCII lower-casing keeps byte offsets, and Azure writes `backuppolicies` as well as `backupPolicies`.
        let lower = self.as_str().to_ascii_lowercase();
        let end = lower.rfind("/backuppolicies/").unwrap_or(lower.len());
        BackupVaultId::parse(&self.as_str()[..end])
    }
}

impl fmt::Display for BackupPolicyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl Serialize for BackupPolicyId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(s)
    }
}

impl<'de> Deserialize<'de> for BackupPolicyId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Self::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_ids_name_their_vault() {
        let p = BackupPolicyId::parse(
            "/subscriptions/s/resourceGroups/rg/providers/Microsoft.DataProtection/backupVaults/bv/backuppolicies/p1",
        )
        .unwrap();
        assert_eq!(p.name(), "p1");
        assert_eq!(p.vault().unwrap().name(), "bv");
        assert!(
            BackupPolicyId::parse("/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/disks/d").is_err()
        );
    }
}
