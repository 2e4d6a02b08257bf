//! The reason codes a result carries (`reason.code`), as a type: the product's own codes are variants whose
//! string forms are the documented ones (docs/contract.md, "The codes"), the contract's and the policy's refusals
//! keep their `request.*` / `policy.*` codes, and Azure's own error codes pass through as they came.
//!
//! On the wire a code is a plain string, so results keep their shape; reading one back (a stored record, a
//! result) never fails: a string that is none of ours is Azure's.

use std::borrow::Cow;
use std::fmt;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

macro_rules! codes {
    ($($(#[$doc:meta])* $variant:ident,)*) => {
        /// Why a request ended as it did, or needs a person.
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        pub enum ReasonCode {
            /// The message itself was refused: `request.*` (the contract's code for the error kind).
            Request(String),
            /// The policy refused it: `policy.*`.
            Policy(String),
            /// Azure's own error code, as Azure gave it (e.g. `UserErrorSameNameDiskAlreadyExists`).
            Azure(String),
            $($(#[$doc])* $variant,)*
        }

        impl ReasonCode {
            /// The product's own codes, each with its string form.
            const OWN: &'static [(&'static str, ReasonCode)] = &[$((stringify!($variant), ReasonCode::$variant),)*];

            /// The string form.
            pub fn as_str(&self) -> &str {
                match self {
                    ReasonCode::Request(s) | ReasonCode::Policy(s) | ReasonCode::Azure(s) => s,
                    $(ReasonCode::$variant => stringify!($variant),)*
                }
            }
        }
    };
}

codes! {
    /// `options.deadline` had passed (before anything was sent, or while waiting for the job).
    DeadlinePassed,
    /// `recoveryPoint.time` is in the future.
    RecoveryPointTimeInFuture,
    /// No recovery point matches the request.
    NoUsableRecoveryPoint,
    /// The recovery point id the request names does not exist for the item.
    InvalidRecoveryPointId,
    /// A generated resource name is not a valid ARM name.
    InvalidDiskName,
    /// Azure reported no usable region.
    UnknownRegion,
    /// The item Azure holds for a VM operation is not a virtual machine.
    NotAVirtualMachine,
    /// Cross Region Restore asked for a region without a paired region.
    NoPairedRegion,
    /// Azure sent a URL for another host while planning.
    UnsafeUrl,
    /// An alert that was resolved: nothing to restore.
    AlertResolved,
    /// An alert no rule matched.
    AlertUnmatched,
    /// An alert whose rule could not build a request.
    AlertRuleFailed,
    /// The last delivery still met transient failures before any write-ahead: nothing was restored.
    TransientFailuresExhausted,
    /// The intake stopped before its write-ahead and the message did not come back: nothing was restored.
    IntakeStopped,
    /// The job was cancelled.
    JobCancelled,
    /// The job failed without an error of its own.
    JobFailed,
    /// Azure did not turn the operation into a job in time.
    OperationTimedOut,
    /// The job ran past its timeout.
    JobTimedOut,
    /// A write-ahead with several candidate jobs.
    AmbiguousWriteAhead,
    /// A write-ahead that could not be reconciled (a job started before it, or the last delivery).
    UndecidedWriteAhead,
    /// A write-ahead record that cannot be read.
    UnreadableWriteAhead,
    /// The intake stopped after its write-ahead and Azure shows no job.
    IntakeStoppedBeforeTrigger,
    /// Azure accepted a restore after another delivery had taken the request over: both jobs are named.
    ExtraRestoreStarted,
    /// An accepted restore whose job cannot be found.
    JobNotFound,
    /// An accepted restore with several candidate jobs.
    AmbiguousJob,
    /// A record missing what identifies its job.
    RecordIncomplete,
    /// Reads of the job failed too many times in a row.
    JobUnreadable,
    /// Reads of the operation failed too many times in a row, or its status URL was on another host.
    OperationUnreadable,
    /// Azure accepted the restore but named a status URL on another host (followed through the job list).
    UnsafeOperationUrl,
    /// A `validateOnly` request passed: nothing was triggered.
    ValidateOnly,
}

impl ReasonCode {
    /// Reads a code: `request.*` and `policy.*` keep their prefix, one of ours is its variant, anything else is
    /// Azure's.
    pub fn parse(text: &str) -> ReasonCode {
        if text.starts_with("request.") {
            return ReasonCode::Request(text.to_string());
        }
        if text.starts_with("policy.") {
            return ReasonCode::Policy(text.to_string());
        }
        match ReasonCode::OWN.iter().find(|(name, _)| *name == text) {
            Some((_, code)) => code.clone(),
            None => ReasonCode::Azure(text.to_string()),
        }
    }

    /// Azure's own code (an empty one is [`ReasonCode::JobFailed`]: the job gave no error).
    pub fn azure(code: impl Into<String>) -> ReasonCode {
        let code = code.into();
        if code.is_empty() { ReasonCode::JobFailed } else { ReasonCode::Azure(code) }
    }

    /// Every code of our own, with its string form (for docs and tests).
    pub fn own() -> impl Iterator<Item = &'static str> {
        ReasonCode::OWN.iter().map(|(name, _)| *name)
    }
}

impl fmt::Display for ReasonCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl PartialEq<&str> for ReasonCode {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl Serialize for ReasonCode {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for ReasonCode {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = Cow::<str>::deserialize(d)?;
        Ok(ReasonCode::parse(&text))
    }
}

impl JsonSchema for ReasonCode {
    fn schema_name() -> Cow<'static, str> {
        "ReasonCode".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "string",
            "minLength": 1,
            "description": "`request.*` (the message), `policy.*` (the policy), one of the product's own codes (docs/contract.md), or Azure's own error code as Azure gave it."
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_reads_back_as_itself() {
        for text in ReasonCode::own().chain([
            "request.duplicateKey",
            "policy.vaultNotAllowed",
            "UserErrorSameNameDiskAlreadyExists",
        ]) {
            let code = ReasonCode::parse(text);
            assert_eq!(code.as_str(), text);
            let json = serde_json::to_string(&code).unwrap();
            assert_eq!(serde_json::from_str::<ReasonCode>(&json).unwrap(), code);
        }
        assert_eq!(ReasonCode::parse("JobTimedOut"), ReasonCode::JobTimedOut);
        assert!(matches!(ReasonCode::parse("BMSUserErrorSomething"), ReasonCode::Azure(_)));
        assert_eq!(ReasonCode::azure(""), ReasonCode::JobFailed);
    }

    #[test]
    fn the_contract_doc_lists_every_code_of_ours() {
        let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/contract.md")).unwrap();
        let missing: Vec<&str> = ReasonCode::own().filter(|c| !doc.contains(&format!("`{c}`"))).collect();
        assert!(missing.is_empty(), "docs/contract.md does not name {missing:?}");
    }
}
