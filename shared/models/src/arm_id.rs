//! Azure Resource Manager resource ids: parsed, validated, compared case-insensitively, rendered with their
//! original casing.
//!
//! Every id that arrives in a message is parsed here before it goes anywhere near a URL (DESIGN invariant 5):
//! the grammar is `/subscriptions/{sub}[/resourceGroups/{rg}][/providers/{Namespace}/{type}/{name}[/{type}/{name}]…]`,
//! and a segment may not be empty, `.` or `..`, nor hold `%`, `?`, `#`, `\`, quotes, angle brackets, whitespace or
//! control characters. Those are exactly the characters that could change the meaning of a URL path built from
//! the id, so an id that passes can be used as a path verbatim. Recovery Services container and item names keep
//! their `;` characters: ARM accepts them raw in a path segment (azure-backup-rest.md §3.3).
//!
//! Typed wrappers ([`BackupInstanceId`], [`ProtectedItemId`], …) additionally check the provider namespace and the
//! resource type chain, case-insensitively, because Azure itself mixes cases (`Backupvaults`, `resourcegroups`).

use std::fmt;
use std::hash::{Hash, Hasher};

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The longest id accepted; ARM ids are far shorter in practice, and a bound keeps hostile input cheap.
pub const MAX_ID_LEN: usize = 2048;

/// Why a string is not an acceptable ARM resource id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ArmIdError {
    /// The input was empty.
    #[error("the ARM id is empty; expected /subscriptions/{{subscriptionId}}/resourceGroups/{{group}}/providers/…")]
    Empty,
    /// The input exceeded [`MAX_ID_LEN`].
    #[error("the ARM id is {len} characters long; the limit is {MAX_ID_LEN}")]
    TooLong {
        /// Length of the input.
        len: usize,
    },
    /// The input did not start with `/`.
    #[error("the ARM id '{id}' must start with '/subscriptions/'")]
    NotAbsolute {
        /// The offending input (sanitised).
        id: String,
    },
    /// Two slashes in a row, or a trailing slash.
    #[error("the ARM id '{id}' has an empty path segment (a doubled or trailing '/') at segment {index}")]
    EmptySegment {
        /// The offending input (sanitised).
        id: String,
        /// 1-based segment number.
        index: usize,
    },
    /// A `.` or `..` segment.
    #[error("the ARM id '{id}' has a '{segment}' segment; relative path segments are not allowed")]
    DotSegment {
        /// The offending input (sanitised).
        id: String,
        /// `.` or `..`.
        segment: String,
    },
    /// A character that could change the meaning of a URL built from the id.
    #[error(
        "the ARM id '{id}' contains {what} at character {position}; ids may not contain '%', '?', '#', '\\', quotes, '<', '>', whitespace or control characters (give the id unencoded)"
    )]
    ForbiddenCharacter {
        /// The offending input (sanitised).
        id: String,
        /// Description of the character, e.g. `'%'` or `a control character (U+0000)`.
        what: String,
        /// 0-based character position.
        position: usize,
    },
    /// The structure does not follow the ARM grammar.
    #[error("the ARM id '{id}' is malformed: {reason}")]
    Malformed {
        /// The offending input (sanitised).
        id: String,
        /// What was expected.
        reason: String,
    },
    /// The id is well formed but names a different kind of resource than the one expected.
    #[error("the ARM id '{id}' is not a {expected} id (expected {shape})")]
    WrongKind {
        /// The offending input (sanitised).
        id: String,
        /// Human name of the expected resource kind.
        expected: &'static str,
        /// The expected shape.
        shape: &'static str,
    },
}

/// Make an input safe to echo in an error message: control characters are escaped and the text is shortened.
fn sanitise(input: &str) -> String {
    let mut out = String::new();
    for (i, c) in input.chars().enumerate() {
        if i >= 200 {
            out.push('…');
            break;
        }
        if c.is_control() {
            out.push_str(&format!("\\u{{{:04x}}}", c as u32));
        } else {
            out.push(c);
        }
    }
    out
}

fn describe(c: char) -> String {
    if c.is_control() {
        format!("a control character (U+{:04X})", c as u32)
    } else if c.is_whitespace() {
        format!("whitespace (U+{:04X})", c as u32)
    } else {
        format!("'{c}'")
    }
}

fn forbidden(c: char) -> bool {
    matches!(c, '%' | '?' | '#' | '\\' | '"' | '\'' | '<' | '>' | '`') || c.is_control() || c.is_whitespace()
}

/// One `{type}/{name}` pair below the provider namespace.
#[derive(Debug, Clone)]
pub struct TypedName {
    /// Resource type segment, e.g. `backupVaults`.
    pub kind: String,
    /// Resource name segment.
    pub name: String,
}

/// A parsed, validated ARM resource id.
///
/// Equality and hashing ignore ASCII case, as ARM does; [`fmt::Display`] and [`ResourceId::as_str`] give back
/// the id exactly as it was written.
#[derive(Debug, Clone)]
pub struct ResourceId {
    text: String,
    subscription: String,
    resource_group: Option<String>,
    namespace: Option<String>,
    /// The `{type}/{name}` chain after the namespace (may be empty for `/subscriptions/s/providers/Ns`).
    chain: Vec<TypedName>,
}

impl ResourceId {
    /// Parses and validates `input` against the ARM id grammar.
    pub fn parse(input: &str) -> Result<Self, ArmIdError> {
        if input.is_empty() {
            return Err(ArmIdError::Empty);
        }
        if input.len() > MAX_ID_LEN {
            return Err(ArmIdError::TooLong { len: input.len() });
        }
        let id = || sanitise(input);
        if let Some((position, c)) = input.chars().enumerate().find(|(_, c)| forbidden(*c)) {
            return Err(ArmIdError::ForbiddenCharacter { id: id(), what: describe(c), position });
        }
        let Some(rest) = input.strip_prefix('/') else {
            return Err(ArmIdError::NotAbsolute { id: id() });
        };
        let segments: Vec<&str> = rest.split('/').collect();
        for (i, s) in segments.iter().enumerate() {
            if s.is_empty() {
                return Err(ArmIdError::EmptySegment { id: id(), index: i + 1 });
            }
            if *s == "." || *s == ".." {
                return Err(ArmIdError::DotSegment { id: id(), segment: (*s).to_string() });
            }
        }
        let malformed = |reason: &str| ArmIdError::Malformed { id: id(), reason: reason.to_string() };

        let mut it = segments.iter().copied().peekable();
        if !it.next().is_some_and(|s| s.eq_ignore_ascii_case("subscriptions")) {
            return Err(malformed("it must start with /subscriptions/{subscriptionId}"));
        }
        let subscription = it.next().ok_or_else(|| malformed("the subscription id is missing"))?;
        if subscription.len() > 64 || !subscription.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
            return Err(malformed("the subscription id may only hold letters, digits and '-'"));
        }

        let mut resource_group = None;
        if it.peek().is_some_and(|s| s.eq_ignore_ascii_case("resourceGroups")) {
            it.next();
            let rg = it.next().ok_or_else(|| malformed("the resource group name is missing"))?;
            validate_resource_group(rg).map_err(|r| malformed(&r))?;
            resource_group = Some(rg.to_string());
        }

        let mut namespace = None;
        let mut chain = Vec::new();
        match it.next() {
            None => {}
            Some(s) if s.eq_ignore_ascii_case("providers") => {
                let ns = it.next().ok_or_else(|| malformed("the provider namespace after /providers/ is missing"))?;
                if !valid_namespace(ns) {
                    return Err(malformed("the provider namespace must look like Microsoft.Compute"));
                }
                namespace = Some(ns.to_string());
                while let Some(kind) = it.next() {
                    if kind.eq_ignore_ascii_case("providers") {
                        return Err(malformed("nested /providers/ (extension resources) are not supported"));
                    }
                    let name = it
                        .next()
                        .ok_or_else(|| malformed(&format!("the resource type '{kind}' has no name after it")))?;
                    if !kind.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
                        return Err(malformed(&format!("'{kind}' is not a resource type name")));
                    }
                    chain.push(TypedName { kind: kind.to_string(), name: name.to_string() });
                }
            }
            Some(other) => {
                return Err(malformed(&format!(
                    "expected 'resourceGroups' or 'providers' but found '{}'",
                    sanitise(other)
                )));
            }
        }

        Ok(ResourceId {
            text: input.to_string(),
            subscription: subscription.to_string(),
            resource_group,
            namespace,
            chain,
        })
    }

    /// The id as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The subscription id segment.
    pub fn subscription(&self) -> &str {
        &self.subscription
    }

    /// The resource group name, if the id is inside one.
    pub fn resource_group(&self) -> Option<&str> {
        self.resource_group.as_deref()
    }

    /// The provider namespace, e.g. `Microsoft.DataProtection`.
    pub fn namespace(&self) -> Option<&str> {
        self.namespace.as_deref()
    }

    /// The `{type}/{name}` chain below the namespace.
    pub fn chain(&self) -> &[TypedName] {
        &self.chain
    }

    /// The last name segment (the resource's own name).
    pub fn name(&self) -> &str {
        self.chain.last().map(|t| t.name.as_str()).or(self.resource_group.as_deref()).unwrap_or(&self.subscription)
    }

    /// `/subscriptions/{sub}/resourceGroups/{rg}` of this id, if it has a resource group.
    pub fn resource_group_id(&self) -> Option<ResourceGroupId> {
        let rg = self.resource_group.as_ref()?;
        // Rebuilt from validated segments, so parsing cannot fail; the error path is unreachable in practice.
        ResourceGroupId::parse(&format!("/subscriptions/{}/resourceGroups/{}", self.subscription, rg)).ok()
    }

    /// Whether the id has exactly this namespace and type chain (case-insensitive), and a resource group.
    fn has_shape(&self, namespace: &str, kinds: &[&str]) -> bool {
        self.resource_group.is_some()
            && self.namespace.as_deref().is_some_and(|n| n.eq_ignore_ascii_case(namespace))
            && self.chain.len() == kinds.len()
            && self.chain.iter().zip(kinds).all(|(t, k)| t.kind.eq_ignore_ascii_case(k))
    }

    /// The lower-cased form used for comparison.
    fn key(&self) -> String {
        self.text.to_ascii_lowercase()
    }
}

fn validate_resource_group(rg: &str) -> Result<(), String> {
    let len = rg.chars().count();
    if !(1..=90).contains(&len) {
        return Err("a resource group name is 1 to 90 characters".into());
    }
    if rg.ends_with('.') {
        return Err("a resource group name may not end with '.'".into());
    }
    if !rg.chars().all(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | '.' | '(' | ')')) {
        return Err(format!(
            "the resource group name '{}' may only hold letters, digits, '-', '_', '.', '(' and ')'",
            sanitise(rg)
        ));
    }
    Ok(())
}

fn valid_namespace(ns: &str) -> bool {
    let mut parts = ns.split('.');
    parts.clone().count() >= 2
        && parts.all(|p| {
            p.chars().next().is_some_and(|c| c.is_ascii_alphabetic()) && p.chars().all(|c| c.is_ascii_alphanumeric())
        })
}

impl PartialEq for ResourceId {
    fn eq(&self, other: &Self) -> bool {
        self.text.eq_ignore_ascii_case(&other.text)
    }
}
impl Eq for ResourceId {}
impl Hash for ResourceId {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.key().hash(state);
    }
}
impl fmt::Display for ResourceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}
impl std::str::FromStr for ResourceId {
    type Err = ArmIdError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}
impl Serialize for ResourceId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.text)
    }
}
impl<'de> Deserialize<'de> for ResourceId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Self::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// Declares a typed id: a [`ResourceId`] known to have one namespace and type chain.
macro_rules! typed_id {
    ($(#[$doc:meta])* $name:ident, $human:literal, $shape:literal, $ns:literal, [$($kind:literal),*]) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        pub struct $name(ResourceId);

        impl $name {
            /// Human name of the resource kind, for error messages.
            pub const KIND: &'static str = $human;
            /// The shape this id must have.
            pub const SHAPE: &'static str = $shape;

            /// Parses `input` and checks that it names this kind of resource.
            pub fn parse(input: &str) -> Result<Self, ArmIdError> {
                Self::try_from(ResourceId::parse(input)?)
            }

            /// The id as written.
            pub fn as_str(&self) -> &str {
                self.0.as_str()
            }

            /// The untyped id.
            pub fn resource_id(&self) -> &ResourceId {
                &self.0
            }

            /// The subscription id.
            pub fn subscription(&self) -> &str {
                self.0.subscription()
            }

            /// The resource group name.
            pub fn resource_group(&self) -> &str {
                // The shape check guarantees a resource group.
                self.0.resource_group().unwrap_or_default()
            }

            /// The resource group containing this resource.
            pub fn resource_group_id(&self) -> ResourceGroupId {
                ResourceGroupId(ResourceId {
                    text: format!("/subscriptions/{}/resourceGroups/{}", self.subscription(), self.resource_group()),
                    subscription: self.subscription().to_string(),
                    resource_group: Some(self.resource_group().to_string()),
                    namespace: None,
                    chain: Vec::new(),
                })
            }

            /// The resource's own name (last segment).
            pub fn name(&self) -> &str {
                self.0.name()
            }
        }

        impl TryFrom<ResourceId> for $name {
            type Error = ArmIdError;
            fn try_from(id: ResourceId) -> Result<Self, ArmIdError> {
                if id.has_shape($ns, &[$($kind),*]) {
                    Ok(Self(id))
                } else {
                    Err(ArmIdError::WrongKind { id: sanitise(id.as_str()), expected: $human, shape: $shape })
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl std::str::FromStr for $name {
            type Err = ArmIdError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::parse(s)
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                self.0.serialize(s)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                Self::parse(&s).map_err(serde::de::Error::custom)
            }
        }
    };
}

typed_id!(
    /// A Backup vault (`Microsoft.DataProtection/backupVaults`).
    BackupVaultId, "Backup vault",
    "/subscriptions/{s}/resourceGroups/{rg}/providers/Microsoft.DataProtection/backupVaults/{vault}",
    "Microsoft.DataProtection", ["backupVaults"]
);
typed_id!(
    /// A backup instance in a Backup vault (a protected disk).
    BackupInstanceId, "backup instance",
    "/subscriptions/{s}/resourceGroups/{rg}/providers/Microsoft.DataProtection/backupVaults/{vault}/backupInstances/{instance}",
    "Microsoft.DataProtection", ["backupVaults", "backupInstances"]
);
typed_id!(
    /// A recovery point of a backup instance (Backup vault).
    DppRecoveryPointId, "Backup vault recovery point",
    "/subscriptions/{s}/resourceGroups/{rg}/providers/Microsoft.DataProtection/backupVaults/{vault}/backupInstances/{instance}/recoveryPoints/{rp}",
    "Microsoft.DataProtection", ["backupVaults", "backupInstances", "recoveryPoints"]
);
typed_id!(
    /// A job in a Backup vault.
    DppJobId, "Backup vault job",
    "/subscriptions/{s}/resourceGroups/{rg}/providers/Microsoft.DataProtection/backupVaults/{vault}/backupJobs/{jobId}",
    "Microsoft.DataProtection", ["backupVaults", "backupJobs"]
);
typed_id!(
    /// A Recovery Services vault (`Microsoft.RecoveryServices/vaults`).
    RecoveryServicesVaultId, "Recovery Services vault",
    "/subscriptions/{s}/resourceGroups/{rg}/providers/Microsoft.RecoveryServices/vaults/{vault}",
    "Microsoft.RecoveryServices", ["vaults"]
);
typed_id!(
    /// A protected item (a backed-up VM) in a Recovery Services vault.
    ProtectedItemId, "Recovery Services protected item",
    "/subscriptions/{s}/resourceGroups/{rg}/providers/Microsoft.RecoveryServices/vaults/{vault}/backupFabrics/Azure/protectionContainers/{container}/protectedItems/{item}",
    "Microsoft.RecoveryServices", ["vaults", "backupFabrics", "protectionContainers", "protectedItems"]
);
typed_id!(
    /// A recovery point of a protected item (Recovery Services vault).
    RsvRecoveryPointId, "Recovery Services recovery point",
    "/subscriptions/{s}/resourceGroups/{rg}/providers/Microsoft.RecoveryServices/vaults/{vault}/backupFabrics/Azure/protectionContainers/{container}/protectedItems/{item}/recoveryPoints/{rp}",
    "Microsoft.RecoveryServices", ["vaults", "backupFabrics", "protectionContainers", "protectedItems", "recoveryPoints"]
);
typed_id!(
    /// A managed disk.
    DiskId, "managed disk",
    "/subscriptions/{s}/resourceGroups/{rg}/providers/Microsoft.Compute/disks/{disk}",
    "Microsoft.Compute", ["disks"]
);
typed_id!(
    /// A virtual machine.
    VirtualMachineId, "virtual machine",
    "/subscriptions/{s}/resourceGroups/{rg}/providers/Microsoft.Compute/virtualMachines/{vm}",
    "Microsoft.Compute", ["virtualMachines"]
);
typed_id!(
    /// A storage account (the staging account of a VM restore).
    StorageAccountId, "storage account",
    "/subscriptions/{s}/resourceGroups/{rg}/providers/Microsoft.Storage/storageAccounts/{account}",
    "Microsoft.Storage", ["storageAccounts"]
);
typed_id!(
    /// A virtual network.
    VirtualNetworkId, "virtual network",
    "/subscriptions/{s}/resourceGroups/{rg}/providers/Microsoft.Network/virtualNetworks/{vnet}",
    "Microsoft.Network", ["virtualNetworks"]
);
typed_id!(
    /// A subnet of a virtual network.
    SubnetId, "subnet",
    "/subscriptions/{s}/resourceGroups/{rg}/providers/Microsoft.Network/virtualNetworks/{vnet}/subnets/{subnet}",
    "Microsoft.Network", ["virtualNetworks", "subnets"]
);
typed_id!(
    /// A disk encryption set.
    DiskEncryptionSetId, "disk encryption set",
    "/subscriptions/{s}/resourceGroups/{rg}/providers/Microsoft.Compute/diskEncryptionSets/{set}",
    "Microsoft.Compute", ["diskEncryptionSets"]
);
typed_id!(
    /// A user-assigned managed identity.
    UserAssignedIdentityId, "user-assigned identity",
    "/subscriptions/{s}/resourceGroups/{rg}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{name}",
    "Microsoft.ManagedIdentity", ["userAssignedIdentities"]
);

/// A resource group (`/subscriptions/{s}/resourceGroups/{rg}`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ResourceGroupId(ResourceId);

impl ResourceGroupId {
    /// Parses `input` and checks that it is exactly a resource group id.
    pub fn parse(input: &str) -> Result<Self, ArmIdError> {
        let id = ResourceId::parse(input)?;
        if id.resource_group.is_some() && id.namespace.is_none() {
            Ok(Self(id))
        } else {
            Err(ArmIdError::WrongKind {
                id: sanitise(input),
                expected: "resource group",
                shape: "/subscriptions/{s}/resourceGroups/{rg}",
            })
        }
    }
    /// The id as written.
    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }
    /// The subscription id.
    pub fn subscription(&self) -> &str {
        self.0.subscription()
    }
    /// The resource group name.
    pub fn name(&self) -> &str {
        self.0.resource_group().unwrap_or_default()
    }
    /// Whether `other` lives in this resource group (case-insensitive).
    pub fn contains(&self, other: &ResourceId) -> bool {
        other.subscription().eq_ignore_ascii_case(self.subscription())
            && other.resource_group().is_some_and(|rg| rg.eq_ignore_ascii_case(self.name()))
    }
}
impl fmt::Display for ResourceGroupId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}
impl Serialize for ResourceGroupId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(s)
    }
}
impl<'de> Deserialize<'de> for ResourceGroupId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Self::parse(&s).map_err(serde::de::Error::custom)
    }
}

impl BackupInstanceId {
    /// The Backup vault holding this instance.
    pub fn vault(&self) -> BackupVaultId {
        let c = &self.0.chain;
        let text = format!(
            "/subscriptions/{}/resourceGroups/{}/providers/{}/{}/{}",
            self.subscription(),
            self.resource_group(),
            self.0.namespace().unwrap_or_default(),
            c[0].kind,
            c[0].name
        );
        BackupVaultId(ResourceId { text, chain: c[..1].to_vec(), ..self.0.clone() })
    }
    /// The recovery point `rp` of this instance. `rp` must be a single, valid path segment.
    pub fn recovery_point(&self, rp: &str) -> Result<DppRecoveryPointId, ArmIdError> {
        DppRecoveryPointId::parse(&format!("{}/recoveryPoints/{rp}", self.as_str()))
    }
}

impl DppRecoveryPointId {
    /// The backup instance this point belongs to.
    pub fn backup_instance(&self) -> BackupInstanceId {
        let c = &self.0.chain;
        let text = self.as_str().rsplitn(3, '/').nth(2).unwrap_or_default().to_string();
        BackupInstanceId(ResourceId { text, chain: c[..2].to_vec(), ..self.0.clone() })
    }
}

impl BackupVaultId {
    /// The job `job` of this vault. `job` must be a single, valid path segment.
    pub fn job(&self, job: &str) -> Result<DppJobId, ArmIdError> {
        DppJobId::parse(&format!("{}/backupJobs/{job}", self.as_str()))
    }
}

/// The workload parts encoded in a Recovery Services container or item name, e.g.
/// `VM;iaasvmcontainerv2;rg;vm` → resource group `rg`, VM `vm`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NativeVmName {
    /// Resource group of the protected VM (as written; Azure lower-cases it in newer names).
    pub resource_group: String,
    /// Name of the protected VM.
    pub vm_name: String,
}

/// Parses the `;`-separated native name of an IaaS VM container (`IaasVMContainer;iaasvmcontainerv2;rg;vm`) or
/// protected item (`VM;iaasvmcontainerv2;rg;vm`, or the older `vm;rg;vm`). Prefixes compare case-insensitively.
pub fn parse_native_vm_name(name: &str) -> Option<NativeVmName> {
    let parts: Vec<&str> = name.split(';').collect();
    let (rg, vm) = match parts.as_slice() {
        [prefix, v2, rg, vm]
            if (prefix.eq_ignore_ascii_case("vm") || prefix.eq_ignore_ascii_case("iaasvmcontainer"))
                && (v2.eq_ignore_ascii_case("iaasvmcontainerv2") || v2.eq_ignore_ascii_case("iaasvmcontainer")) =>
        {
            (*rg, *vm)
        }
        [prefix, rg, vm] if prefix.eq_ignore_ascii_case("vm") || prefix.eq_ignore_ascii_case("iaasvmcontainerv2") => {
            (*rg, *vm)
        }
        _ => return None,
    };
    (!rg.is_empty() && !vm.is_empty()).then(|| NativeVmName { resource_group: rg.to_string(), vm_name: vm.to_string() })
}

impl RecoveryServicesVaultId {
    /// The job `job` of this vault, as an id string for messages (RSV job ids are GUIDs).
    pub fn job_path(&self, job: &str) -> Result<ResourceId, ArmIdError> {
        ResourceId::parse(&format!("{}/backupJobs/{job}", self.as_str()))
    }
}

impl ProtectedItemId {
    fn part(&self, i: usize) -> &str {
        &self.0.chain[i].name
    }
    /// The Recovery Services vault holding this item.
    pub fn vault(&self) -> RecoveryServicesVaultId {
        let c = &self.0.chain;
        let text = format!(
            "/subscriptions/{}/resourceGroups/{}/providers/{}/{}/{}",
            self.subscription(),
            self.resource_group(),
            self.0.namespace().unwrap_or_default(),
            c[0].kind,
            c[0].name
        );
        RecoveryServicesVaultId(ResourceId { text, chain: c[..1].to_vec(), ..self.0.clone() })
    }
    /// The backup fabric (always `Azure` for IaaS VMs).
    pub fn fabric(&self) -> &str {
        self.part(1)
    }
    /// The protection container name, exactly as written (e.g. `IaasVMContainer;iaasvmcontainerv2;rg;vm`).
    pub fn container_name(&self) -> &str {
        self.part(2)
    }
    /// The protected item name, exactly as written (e.g. `VM;iaasvmcontainerv2;rg;vm`).
    pub fn item_name(&self) -> &str {
        self.part(3)
    }
    /// The VM's resource group and name, decoded from the item name when it is a native (`;`) name.
    pub fn native_vm(&self) -> Option<NativeVmName> {
        parse_native_vm_name(self.item_name()).or_else(|| parse_native_vm_name(self.container_name()))
    }
    /// The recovery point `rp` of this item. `rp` must be a single, valid path segment.
    pub fn recovery_point(&self, rp: &str) -> Result<RsvRecoveryPointId, ArmIdError> {
        RsvRecoveryPointId::parse(&format!("{}/recoveryPoints/{rp}", self.as_str()))
    }
}

impl RsvRecoveryPointId {
    /// The protected item this point belongs to.
    pub fn protected_item(&self) -> ProtectedItemId {
        let c = &self.0.chain;
        let text = self.as_str().rsplitn(3, '/').nth(2).unwrap_or_default().to_string();
        ProtectedItemId(ResourceId { text, chain: c[..4].to_vec(), ..self.0.clone() })
    }
    /// The recovery point name (a numeric string for VMs).
    pub fn point(&self) -> &str {
        self.name()
    }
}

impl SubnetId {
    /// The virtual network holding this subnet.
    pub fn virtual_network(&self) -> VirtualNetworkId {
        let c = &self.0.chain;
        let text = self.as_str().rsplitn(3, '/').nth(2).unwrap_or_default().to_string();
        VirtualNetworkId(ResourceId { text, chain: c[..1].to_vec(), ..self.0.clone() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BI: &str = "/subscriptions/04cf684a-d41f-4550-9f70-7708a3a2283b/resourceGroups/TestBkpVaultRG/providers/Microsoft.DataProtection/backupVaults/testBkpVault/backupInstances/msdiskbackup-2dc6eb5b";
    const PI: &str = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/netsdktestrg/providers/Microsoft.RecoveryServices/vaults/testVault/backupFabrics/Azure/protectionContainers/IaasVMContainer;iaasvmcontainerv2;netsdktestrg;netvmtestv2vm1/protectedItems/VM;iaasvmcontainerv2;netsdktestrg;netvmtestv2vm1";

    #[test]
    fn parses_and_renders_with_original_casing() {
        let id = BackupInstanceId::parse(BI).unwrap();
        assert_eq!(id.to_string(), BI);
        assert_eq!(id.subscription(), "04cf684a-d41f-4550-9f70-7708a3a2283b");
        assert_eq!(id.resource_group(), "TestBkpVaultRG");
        assert_eq!(id.name(), "msdiskbackup-2dc6eb5b");
        assert_eq!(
            id.vault().as_str(),
            "/subscriptions/04cf684a-d41f-4550-9f70-7708a3a2283b/resourceGroups/TestBkpVaultRG/providers/Microsoft.DataProtection/backupVaults/testBkpVault"
        );
        let rp = id.recovery_point("a3d02fc3ab8a4c3a8cc26688c26d3356").unwrap();
        assert_eq!(rp.backup_instance(), id);
    }

    #[test]
    fn compares_case_insensitively() {
        let a = ResourceId::parse(BI).unwrap();
        let b = ResourceId::parse(&BI.to_uppercase().replace("/SUBSCRIPTIONS/", "/subscriptions/")).unwrap();
        assert_eq!(a, b);
        let mut set = std::collections::HashSet::new();
        set.insert(a);
        assert!(set.contains(&b));
        // Azure's own mixed casing of keywords and types is accepted by the typed parser.
        let mixed = BI.replace("resourceGroups", "resourcegroups").replace("backupVaults", "Backupvaults");
        assert!(BackupInstanceId::parse(&mixed).is_ok());
    }

    #[test]
    fn protected_item_names_keep_semicolons() {
        let id = ProtectedItemId::parse(PI).unwrap();
        assert_eq!(id.container_name(), "IaasVMContainer;iaasvmcontainerv2;netsdktestrg;netvmtestv2vm1");
        assert_eq!(id.item_name(), "VM;iaasvmcontainerv2;netsdktestrg;netvmtestv2vm1");
        assert_eq!(id.fabric(), "Azure");
        assert_eq!(
            id.native_vm(),
            Some(NativeVmName { resource_group: "netsdktestrg".into(), vm_name: "netvmtestv2vm1".into() })
        );
        assert_eq!(id.vault().name(), "testVault");
        let rp = id.recovery_point("348916168024334").unwrap();
        assert_eq!(rp.protected_item(), id);
        assert_eq!(rp.point(), "348916168024334");
    }

    #[test]
    fn legacy_native_names() {
        assert_eq!(
            parse_native_vm_name("vm;testRG;testVM"),
            Some(NativeVmName { resource_group: "testRG".into(), vm_name: "testVM".into() })
        );
        assert_eq!(parse_native_vm_name("myvm"), None);
        assert_eq!(parse_native_vm_name("VM;iaasvmcontainerv2;;vm"), None);
    }

    #[test]
    fn rejects_injection_and_malformed_ids() {
        let cases = [
            ("", "empty"),
            ("subscriptions/s/resourceGroups/rg", "must start with"),
            ("/subscriptions/s//resourceGroups/rg", "empty path segment"),
            ("/subscriptions/s/resourceGroups/rg/", "empty path segment"),
            ("/subscriptions/s/resourceGroups/../providers/Microsoft.Compute/disks/d", "'..' segment"),
            ("/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/disks/d%2f..", "'%'"),
            ("/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/disks/d?api-version=1", "'?'"),
            ("/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/disks/d#x", "'#'"),
            ("/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/disks/d\u{0}", "control character"),
            ("/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/disks/a b", "whitespace"),
            ("/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/disks", "has no name"),
            ("/subscriptions/s/resourcegroups/rg/things/x", "expected 'resourceGroups' or 'providers'"),
            ("/subscriptions/s!/resourceGroups/rg", "subscription id"),
            ("/subscriptions/s/resourceGroups/rg./providers/Microsoft.Compute/disks/d", "may not end with '.'"),
            ("/subscriptions/s/resourceGroups/rg/providers/Compute/disks/d", "namespace"),
        ];
        for (input, needle) in cases {
            let err = ResourceId::parse(input).expect_err(input).to_string();
            assert!(err.contains(needle), "{input:?}: error {err:?} should mention {needle:?}");
        }
        let long = format!("/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/disks/{}", "a".repeat(3000));
        assert!(matches!(ResourceId::parse(&long), Err(ArmIdError::TooLong { .. })));
    }

    #[test]
    fn typed_ids_check_provider_and_type() {
        let disk = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/disks/d1";
        assert!(DiskId::parse(disk).is_ok());
        let err = BackupInstanceId::parse(disk).unwrap_err();
        assert!(matches!(err, ArmIdError::WrongKind { expected: "backup instance", .. }), "{err}");
        assert!(err.to_string().contains("backupInstances/{instance}"));
        assert!(VirtualMachineId::parse(disk).is_err());
        // Right provider, wrong depth.
        assert!(BackupVaultId::parse(BI).is_err());
        assert!(ResourceGroupId::parse("/subscriptions/s/resourceGroups/rg").is_ok());
        assert!(ResourceGroupId::parse(disk).is_err());
        let subnet = SubnetId::parse(
            "/subscriptions/s/resourceGroups/net/providers/Microsoft.Network/virtualNetworks/vnet1/subnets/default",
        )
        .unwrap();
        assert_eq!(subnet.virtual_network().name(), "vnet1");
    }

    #[test]
    fn resource_group_contains() {
        let rg = ResourceGroupId::parse("/subscriptions/S1/resourceGroups/Target").unwrap();
        let disk =
            ResourceId::parse("/subscriptions/s1/resourceGroups/target/providers/Microsoft.Compute/disks/d").unwrap();
        assert!(rg.contains(&disk));
        let other =
            ResourceId::parse("/subscriptions/s2/resourceGroups/target/providers/Microsoft.Compute/disks/d").unwrap();
        assert!(!rg.contains(&other));
        assert_eq!(DiskId::try_from(disk).unwrap().resource_group_id(), rg);
    }

    #[test]
    fn serde_round_trip_validates() {
        let id: ProtectedItemId = serde_json::from_value(serde_json::Value::String(PI.into())).unwrap();
        assert_eq!(serde_json::to_value(&id).unwrap(), serde_json::Value::String(PI.into()));
        let bad: Result<DiskId, _> = serde_json::from_value(serde_json::json!("/subscriptions/s/../x"));
        assert!(bad.is_err());
    }

    #[test]
    fn error_messages_do_not_echo_control_characters() {
        let err = ResourceId::parse("/subscriptions/s/resourceGroups/r\u{1b}[31m").unwrap_err().to_string();
        assert!(!err.contains('\u{1b}'), "{err}");
        assert!(err.contains("U+001B"), "{err}");
    }
}
