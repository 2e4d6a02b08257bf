//! The fuzz targets: every decoder a queue message or an Azure response reaches, called the way production calls
//! it, followed by what production does next with a decoded value (policy check, alert mapping, accessors,
//! re-serialisation). A target must never panic or hang, whatever the bytes; a few invariants the product
//! promises are asserted too (every refusal has a message and a fix; an ARM id that parses re-parses to itself).

use std::sync::OnceLock;

use custom_handler::{FromInvocation, HttpRequest, Invocation, InvocationRequest, ServiceBusMessage, TimerInfo};
use restore_contract::RequestErrorKind as K;
use restore_contract::policy::PolicyOrigin;
use restore_contract::{AlertOutcome, Incoming, Policy, RequestError, classify_with_limit, map_alert};
use restore_models::arm_id::{
    BackupInstanceId, BackupVaultId, DppRecoveryPointId, ProtectedItemId, RecoveryServicesVaultId, ResourceGroupId,
    ResourceId, RsvRecoveryPointId, SubnetId, parse_native_vm_name,
};
use restore_models::wire::{JobState, OperationState, ResourceList, Timestamp, job_guid};
use restore_models::{crr, dataprotection as dpp, error as arm_error, recoveryservices as rsv};
use restore_test_support::catalogue::EXAMPLE_POLICY;
use serde::Serialize;
use serde::de::DeserializeOwned;

/// Which seed corpus a target starts from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Corpus {
    /// Queue message bodies: requests, alerts, the bad-input catalogue.
    Messages,
    /// The host's invocation envelopes carrying those messages (and timer and HTTP triggers).
    Envelopes,
    /// ARM resource ids (every string starting with `/`).
    ArmIds,
    /// Other short strings Azure writes: statuses, timestamps, job ids, names.
    Strings,
    /// Azure response bodies from the REST API spec examples.
    Responses,
}

/// One fuzz target.
#[derive(Debug, Clone, Copy)]
pub struct Target {
    /// Name used on the command line and in reports.
    pub name: &'static str,
    /// Seed corpus.
    pub corpus: Corpus,
    /// Runs one input; true when the input got past the parser into the typed decoder (a response model
    /// decoded; an ARM id parsed; a message accepted or refused by a field-level check), so the report can show
    /// how deep the generated inputs reach.
    pub run: fn(&[u8]) -> bool,
}

/// Every target, in report order.
pub fn all() -> Vec<Target> {
    use Corpus::*;
    let t = |name, corpus, run| Target { name, corpus, run };
    vec![
        t("host-envelope", Envelopes, envelope),
        t("contract-classify", Messages, classify),
        t("arm-id", ArmIds, arm_id),
        t("wire-strings", Strings, wire_strings),
        t("arm-cloud-error", Responses, cloud_error),
        t("dpp-operation-status", Responses, model::<dpp::OperationResource>),
        t("dpp-operation-extended-info", Responses, model::<dpp::OperationExtendedInfo>),
        t("dpp-job", Responses, model::<dpp::AzureBackupJobResource>),
        t("dpp-job-list", Responses, model::<dpp::AzureBackupJobResourceList>),
        t("dpp-recovery-point", Responses, model::<dpp::AzureBackupRecoveryPointResource>),
        t("dpp-recovery-point-list", Responses, model::<dpp::AzureBackupRecoveryPointResourceList>),
        t("dpp-backup-instance", Responses, model::<dpp::BackupInstanceResource>),
        t("dpp-backup-instance-list", Responses, model::<dpp::BackupInstanceResourceList>),
        t("dpp-backup-vault", Responses, model::<dpp::BackupVaultResource>),
        t("dpp-restorable-time-ranges", Responses, model::<dpp::AzureBackupFindRestorableTimeRangesResponseResource>),
        t("rsv-operation-status", Responses, model::<rsv::OperationStatus>),
        t("rsv-job", Responses, model::<rsv::JobResource>),
        t("rsv-job-list", Responses, model::<rsv::JobResourceList>),
        t("rsv-protected-item", Responses, model::<rsv::ProtectedItemResource>),
        t("rsv-protected-item-list", Responses, model::<rsv::ProtectedItemResourceList>),
        t("rsv-recovery-point", Responses, model::<rsv::RecoveryPointResource>),
        t("rsv-recovery-point-list", Responses, model::<rsv::RecoveryPointResourceList>),
        t("rsv-validate-operations", Responses, model::<rsv::ValidateOperationsResponse>),
        t("rsv-backup-resource-config", Responses, model::<rsv::BackupResourceConfigResource>),
        t("crr-aad-properties", Responses, model::<crr::AadPropertiesResource>),
        t("crr-access-token", Responses, crr_access_token),
        t("crr-job", Responses, model::<crr::JobResource>),
        t("crr-job-list", Responses, model::<crr::JobResourceList>),
        t("crr-operation-status", Responses, model::<crr::OperationStatus>),
        t("crr-recovery-point-list", Responses, model::<crr::RecoveryPointResourceList>),
        t("crr-protected-item-list", Responses, model::<crr::ProtectedItemResourceList>),
        t("arm-list-envelope", Responses, model::<ResourceList<serde_json::Value>>),
    ]
}

fn policy() -> Option<&'static Policy> {
    static POLICY: OnceLock<Option<Policy>> = OnceLock::new();
    POLICY.get_or_init(|| Policy::from_json(EXAMPLE_POLICY, PolicyOrigin::Inline).ok()).as_ref()
}

/// The product promises that every refusal says what is wrong and how to fix it.
fn check_refusal(e: &RequestError) {
    assert!(!e.message.is_empty() && !e.fix.is_empty(), "a refusal without a message or a fix: {e:?}");
    let _ = e.to_string();
}

/// A queue message body, as the intake reads it: classify, then policy check or alert mapping.
fn classify(bytes: &[u8]) -> bool {
    let limit = policy().map_or(restore_contract::request::DEFAULT_MAX_MESSAGE_BYTES, |p| p.max_message_bytes);
    match classify_with_limit(bytes, limit) {
        Ok(Incoming::Request(request)) => {
            if let Some(policy) = policy() {
                let _ = policy.check(&request, 0).map_err(|refusal| refusal.to_string());
            }
            let _ = serde_json::to_vec(&request);
            true
        }
        Ok(Incoming::Alert(alert)) => {
            if let Some(policy) = policy()
                && let AlertOutcome::Restore(request) = map_alert(&alert, &policy.alert_rules)
            {
                let _ = policy.check(&request, 0).map_err(|refusal| refusal.to_string());
            }
            true
        }
        Err(e) => {
            check_refusal(&e);
            // Refused by the field-level checks still counts as reaching the typed decoder; refused as a whole
            // message (not JSON, too large, not an object, a duplicated key) does not.
            !matches!(e.kind, K::MalformedJson | K::TooLarge | K::NotAnObject | K::DuplicateKey)
        }
    }
}

/// The host's envelope, as the runtime reads it, then each trigger decoder and the contract on the message body.
fn envelope(bytes: &[u8]) -> bool {
    let Ok(request) = InvocationRequest::parse(bytes) else {
        return false;
    };
    let ctx = Invocation::new("RestoreIntake", Some("00000000-0000-0000-0000-000000000000".into()), &request);
    let _ = format!("{ctx:?}");
    if let Ok(message) = ServiceBusMessage::from_invocation("message", &request) {
        let _ = message.is_ambiguous();
        let _ = message.body_str();
        classify(&message.body);
    }
    let _ = TimerInfo::from_invocation("timer", &request);
    if let Ok(http) = HttpRequest::from_invocation("req", &request) {
        let _ = format!("{http:?}");
    }
    true
}

/// An ARM id, through every parser and accessor the engine and the contract use.
fn arm_id(bytes: &[u8]) -> bool {
    let text = String::from_utf8_lossy(bytes);
    let parsed = ResourceId::parse(&text);
    if let Ok(id) = &parsed {
        let (_, _, _, _) = (id.subscription(), id.resource_group(), id.namespace(), id.name());
        let _ = id.chain().len();
        let _ = id.resource_group_id();
        let again = ResourceId::parse(id.as_str());
        assert!(
            again.as_ref().is_ok_and(|a| a == id),
            "an ARM id that parsed does not re-parse to itself: {id:?} → {again:?}"
        );
        let _ = id.to_string();
    }
    if let Ok(g) = ResourceGroupId::parse(&text) {
        let _ = (g.subscription(), g.name());
        if let Ok(id) = ResourceId::parse(&text) {
            let _ = g.contains(&id);
        }
    }
    if let Ok(bi) = BackupInstanceId::parse(&text) {
        let vault = bi.vault();
        let _ = vault.job("00000000-0000-0000-0000-000000000000");
        let _ = vault.job(&text);
        let _ = bi.recovery_point(&text);
        let _ = (bi.subscription(), bi.resource_group(), bi.name(), bi.resource_group_id());
    }
    if let Ok(rp) = DppRecoveryPointId::parse(&text) {
        let _ = rp.backup_instance();
    }
    if let Ok(v) = BackupVaultId::parse(&text) {
        let _ = v.job(&text);
    }
    if let Ok(v) = RecoveryServicesVaultId::parse(&text) {
        let _ = v.job_path(&text);
    }
    if let Ok(item) = ProtectedItemId::parse(&text) {
        let _ = (item.vault(), item.fabric(), item.container_name(), item.item_name(), item.native_vm());
        let _ = item.recovery_point(&text);
    }
    if let Ok(rp) = RsvRecoveryPointId::parse(&text) {
        let _ = (rp.protected_item(), rp.point());
    }
    if let Ok(subnet) = SubnetId::parse(&text) {
        let _ = subnet.virtual_network();
    }
    let _ = parse_native_vm_name(&text);
    // As the contract reads ids: a JSON string through Deserialize.
    let _ = serde_json::from_slice::<ResourceId>(bytes);
    let _ = serde_json::from_slice::<BackupInstanceId>(bytes);
    parsed.is_ok()
}

/// The tolerant string readers of `wire`: statuses, job ids and timestamps as Azure writes them.
fn wire_strings(bytes: &[u8]) -> bool {
    let text = String::from_utf8_lossy(bytes);
    let op = OperationState::from_wire(&text);
    let _ = (op.is_terminal(), op.is_success());
    let job = JobState::from_wire(&text);
    let _ = (job.is_terminal(), job.is_success());
    let _ = job_guid(&text);
    let stamp = Timestamp::new(text.as_ref());
    let _ = (stamp.is_unset_sentinel(), stamp.datetime());
    let _ = serde_json::from_slice::<Timestamp>(bytes).map(|t| t.datetime());
    stamp.datetime().is_some() || !matches!(op, OperationState::Other(_))
}

/// A response model: decode, then re-serialise (the engine stores some of them on records).
fn model<T: DeserializeOwned + Serialize>(bytes: &[u8]) -> bool {
    let Ok(value) = serde_json::from_slice::<T>(bytes) else {
        return false;
    };
    let _ = serde_json::to_vec(&value);
    true
}

/// ARM's error body, with the helpers the engine classifies errors by.
fn cloud_error(bytes: &[u8]) -> bool {
    let Ok(e) = serde_json::from_slice::<arm_error::CloudError>(bytes) else {
        return false;
    };
    let _ = e.error.is_retryable();
    if let Some(user) = e.error.user_facing() {
        let _ = user.detailed_message();
    }
    let _ = serde_json::to_vec(&e);
    true
}

/// The CRR access token, whose fields the engine reads before the restore POST.
fn crr_access_token(bytes: &[u8]) -> bool {
    let Ok(token) = serde_json::from_slice::<crr::CrrAccessTokenResource>(bytes) else {
        return false;
    };
    let _ = token.properties.fields();
    let _ = serde_json::to_vec(&token);
    true
}
