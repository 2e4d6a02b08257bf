//! Validating and triggering an [`AzureCall`].
//!
//! Validation changes nothing in Azure, so it may be repeated freely and is followed to its end in-process
//! (Azure validates in seconds). Triggering goes through the pipeline that never retries; the caller owns the
//! write-ahead record that makes a lost answer safe.

use std::time::Duration;

use restore_engine::client::{ArmClient, CallError, Started};
use restore_engine::error::AzureError;
use restore_engine::lro::{AwaitError, Step, await_done};
use restore_models::crr::CrossRegionRestoreRequest;
use restore_models::dataprotection::ValidateForBackupRequest;
use restore_models::recoveryservices::{
    ValidateOperationRequest, ValidateOperationRequestResource, ValidateRestoreOperationRequest,
};
use time::OffsetDateTime;

use crate::plan::{AzureCall, PlanError};

/// Azure's verdict on a planned call.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    /// Azure found nothing wrong.
    Passed,
    /// Azure has no validation for this call (stop protection; Cross Region Restore, whose passive stamp has no
    /// validate operation).
    NotAvailable,
    /// Azure refused it.
    Refused(AzureError),
}

async fn follow(client: &ArmClient, started: Started, deadline: Duration) -> Result<Verdict, PlanError> {
    match started {
        Started::Done(_) => Ok(Verdict::Passed),
        Started::Pending(op) => match await_done(client, op, deadline, |_| {}).await {
            Ok(Step::Succeeded { .. }) => Ok(Verdict::Passed),
            Ok(Step::Failed(e)) => Ok(Verdict::Refused(e)),
            Ok(Step::Pending { .. }) => unreachable!("await_done returns only when the operation ended"),
            Err(AwaitError::Call(e)) => Err(e.into()),
            Err(AwaitError::TimedOut(d)) => Err(PlanError::Transient(CallError::Unexpected {
                what: "validation".into(),
                message: format!("Azure's validation did not finish within {d:?}"),
            })),
        },
    }
}

/// Whether an error answer is Azure refusing the request (a 4xx other than timeout and throttling): a verdict,
/// not a failure.
fn refuses(e: &AzureError) -> bool {
    (400..500).contains(&e.status) && e.status != 408 && e.status != 429
}

/// The verdict of a validation started as a long-running operation: followed to its end, or refused at once by
/// an error answer (validation answered 400 directly).
async fn verdict_of(
    client: &ArmClient,
    started: Result<Started, CallError>,
    deadline: Duration,
) -> Result<Verdict, PlanError> {
    match started {
        Ok(started) => follow(client, started, deadline).await,
        Err(CallError::Azure(e)) if refuses(&e) => Ok(Verdict::Refused(e)),
        Err(e) => Err(e.into()),
    }
}

/// Asks Azure to validate `call`, waiting at most `deadline` for the answer.
pub async fn validate(
    client: &ArmClient,
    ctx: &azure_core::http::Context<'_>,
    call: &AzureCall,
    now: OffsetDateTime,
    deadline: Duration,
) -> Result<Verdict, PlanError> {
    match call {
        AzureCall::DppRestore { backup_instance_id, body } => {
            verdict_of(client, client.dpp_validate_restore(ctx, backup_instance_id, body, now).await, deadline).await
        }
        AzureCall::RsvRestore { recovery_point_id, body } => {
            let request = ValidateOperationRequestResource {
                id: recovery_point_id.as_str().to_string(),
                properties: ValidateOperationRequest::ValidateIaasVMRestore(ValidateRestoreOperationRequest {
                    restore_request: Some(body.properties.clone()),
                    extra: Default::default(),
                }),
                extra: Default::default(),
            };
            let vault = recovery_point_id.protected_item().vault();
            match client.rsv_validate_restore(ctx, &vault, &request).await {
                Ok(response) => match response.failures().first() {
                    None => Ok(Verdict::Passed),
                    Some(f) => Ok(Verdict::Refused(AzureError::from_validation_error(f))),
                },
                Err(CallError::Azure(e)) if refuses(&e) => Ok(Verdict::Refused(e)),
                Err(e) => Err(e.into()),
            }
        }
        AzureCall::DppConfigureProtection { backup_instance_id, body } => {
            let request =
                ValidateForBackupRequest { backup_instance: body.properties.clone(), extra: Default::default() };
            let started = client.dpp_validate_for_backup(ctx, &backup_instance_id.vault(), &request, now).await;
            verdict_of(client, started, deadline).await
        }
        AzureCall::RsvCrossRegionRestore { .. } | AzureCall::DppStopProtection { .. } => Ok(Verdict::NotAvailable),
    }
}

/// What a trigger needs that may take time to get: fetched before the write-ahead, so nothing but the POST
/// itself remains between the write-ahead and the send window's end.
#[derive(Debug, Clone)]
pub enum Prepared {
    /// Nothing to fetch.
    Ready,
    /// Cross Region Restore: the body with a fresh access token for the recovery point. A credential: kept in
    /// memory for this attempt only, never stored.
    CrossRegion {
        /// The subscription.
        subscription: String,
        /// The CRR body.
        body: Box<CrossRegionRestoreRequest>,
    },
}

/// Fetches what the trigger needs (the CRR AAD properties and access token), before the write-ahead.
pub async fn prepare(
    client: &ArmClient,
    ctx: &azure_core::http::Context<'_>,
    call: &AzureCall,
) -> Result<Prepared, CallError> {
    let AzureCall::RsvCrossRegionRestore { recovery_point_id, secondary_region, restore_request } = call else {
        return Ok(Prepared::Ready);
    };
    let subscription = recovery_point_id.protected_item().subscription().to_string();
    let aad = client.crr_aad_properties(ctx, &subscription, secondary_region).await?;
    let token = client.crr_access_token(ctx, recovery_point_id, &aad).await?;
    let body = CrossRegionRestoreRequest {
        cross_region_restore_access_details: token.properties,
        restore_request: restore_request.clone(),
        extra: Default::default(),
    };
    Ok(Prepared::CrossRegion { subscription, body: Box::new(body) })
}

/// Sends the call that starts work in Azure. Exactly one POST/PUT/DELETE leaves per invocation; the caller has
/// written `Triggering` first and put a [`restore_engine::pipeline::SendWindow`] in `ctx`.
pub async fn trigger(
    client: &ArmClient,
    ctx: &azure_core::http::Context<'_>,
    call: &AzureCall,
    prepared: &Prepared,
    now: OffsetDateTime,
) -> Result<Started, CallError> {
    match (call, prepared) {
        (AzureCall::DppRestore { backup_instance_id, body }, _) => {
            client.dpp_trigger_restore(ctx, backup_instance_id, body, now).await
        }
        (AzureCall::RsvRestore { recovery_point_id, body }, _) => {
            client.rsv_trigger_restore(ctx, recovery_point_id, body, now).await
        }
        (AzureCall::RsvCrossRegionRestore { secondary_region, .. }, Prepared::CrossRegion { subscription, body }) => {
            client.crr_trigger_restore(ctx, subscription, secondary_region, body, now).await
        }
        (AzureCall::RsvCrossRegionRestore { .. }, Prepared::Ready) => Err(CallError::Unexpected {
            what: "cross region restore".into(),
            message: "the access token was not fetched before the trigger".into(),
        }),
        (AzureCall::DppConfigureProtection { backup_instance_id, body }, _) => {
            client.dpp_put_backup_instance(ctx, backup_instance_id, body, now).await
        }
        (AzureCall::DppStopProtection { backup_instance_id, delete_data: false }, _) => {
            client.dpp_stop_protection(ctx, backup_instance_id, now).await
        }
        (AzureCall::DppStopProtection { backup_instance_id, delete_data: true }, _) => {
            client.dpp_delete_backup_instance(ctx, backup_instance_id, now).await
        }
    }
}
