//! `restorectl submit FILE`: the offline checks first (the same as `validate`: nothing invalid is sent), then one
//! message to the requests queue through the Service Bus REST API ([`crate::servicebus`]).
//!
//! The MessageId is the request id the intake will use (the request's `requestId`, or for an alert the id its
//! rule gives), so Service Bus duplicate detection and the intake agree. A request without `requestId` gets a
//! new random MessageId, which then becomes its request id; it is printed so the request can be followed.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use serde_json::json;
use url::Url;

use crate::check::{Verdict, check};
use crate::exit;
use crate::policy::PolicyArgs;
use crate::validate::{print, read_message};
use restore_servicebus::{Sender, check_endpoint, check_namespace, check_queue, messages_url};

/// Flags of `restorectl submit`.
#[derive(Debug, Args)]
pub struct SubmitArgs {
    /// The request (or Azure Monitor alert) JSON file.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// The Service Bus namespace host, e.g. mybus.servicebus.windows.net.
    #[arg(long, value_name = "HOST", env = "RESTORE_SERVICEBUS_NAMESPACE")]
    pub namespace: Option<String>,
    /// The requests queue.
    #[arg(long, value_name = "NAME", env = "RESTORE_REQUESTS_QUEUE")]
    pub queue: Option<String>,
    /// Send to https://host[:port] instead of https://{namespace}: for tests against a local endpoint and for
    /// endpoints that are not the namespace's own host name. https only.
    #[arg(long, value_name = "URL")]
    pub endpoint: Option<String>,
    #[command(flatten)]
    pub policy: PolicyArgs,
}

/// Runs `submit`.
pub async fn run(args: SubmitArgs, json: bool) -> Result<ExitCode, String> {
    let body = read_message(&args.file)?;
    let (policy, policy_source) = args.policy.load()?;
    let verdict = check(&body, &policy, time::OffsetDateTime::now_utc());
    let known_id = match &verdict {
        Verdict::Rejected(_) => {
            print(&args.file, &verdict, &policy_source, json);
            eprintln!("restorectl: not sent: the intake would reject it (see above)");
            return Ok(ExitCode::from(exit::NO));
        }
        Verdict::Passes { request, .. } => request.request_id.clone(),
        Verdict::NothingToDo { request_id, .. } => Some(request_id.clone()),
    };
    let url = destination(&args)?;
    let message_id = known_id.clone().unwrap_or_else(|| uuid::Uuid::new_v4().to_string());

    let (source, credential) = restore_engine::credential::from_env(true).map_err(|e| e.to_string())?;
    let options = restore_engine::config::pipeline_options_from_env().map_err(|e| e.to_string())?;
    let transport = restore_engine::transport::transport(&options.transport).map_err(|e| e.to_string())?;
    let sender = Sender::new(credential, transport);
    if let Err(e) = sender.send(&url, body, &message_id).await {
        eprintln!("restorectl: not sent to {url}: {e}");
        if known_id.is_none() {
            eprintln!(
                "restorectl: the request has no requestId; before sending it again, add \"requestId\": \"{message_id}\" \
                 so a message that did arrive cannot start a second restore"
            );
        }
        return Ok(ExitCode::from(exit::SERVICE));
    }
    if json {
        let out = json!({ "messageId": message_id, "url": url.as_str(), "credential": source.to_string() });
        println!("{}", serde_json::to_string_pretty(&out).unwrap_or_default());
    } else {
        println!("sent: message {message_id} to {url}");
        if known_id.is_none() {
            println!("  the request had no requestId: the intake will use {message_id}");
        }
        println!("  credential: {source}");
        println!("  follow it:  restorectl status {message_id}");
    }
    Ok(ExitCode::SUCCESS)
}

/// The queue's send URL from the flags and settings; the errors name them.
fn destination(args: &SubmitArgs) -> Result<Url, String> {
    let set = |v: &Option<String>| v.as_deref().map(str::trim).filter(|v| !v.is_empty()).map(str::to_string);
    let queue = set(&args.queue).ok_or(
        "no queue: give --queue or set RESTORE_REQUESTS_QUEUE (the intake's queue, e.g. restore-requests)".to_string(),
    )?;
    let queue = check_queue(&queue)?;
    let base = match (set(&args.endpoint), set(&args.namespace)) {
        (Some(endpoint), _) => check_endpoint(&endpoint)?,
        (None, Some(namespace)) => {
            let host = check_namespace(&namespace)?;
            Url::parse(&format!("https://{host}/")).map_err(|e| format!("namespace '{host}': {e}"))?
        }
        (None, None) => {
            return Err("no namespace: give --namespace or set RESTORE_SERVICEBUS_NAMESPACE (e.g. \
                        mybus.servicebus.windows.net)"
                .into());
        }
    };
    Ok(messages_url(&base, &queue))
}
