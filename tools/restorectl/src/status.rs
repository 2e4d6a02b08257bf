//! `restorectl status REQUEST_ID`: one record from the state store, as a summary or (`--json`) the record itself.
//! Exit 1 when there is no record for the id.

use std::process::ExitCode;

use clap::Args;

use crate::exit;
use crate::render::summary;
use crate::store::StoreArgs;

/// Flags of `restorectl status`.
#[derive(Debug, Args)]
pub struct StatusArgs {
    /// The request id (the request's requestId, else the Service Bus MessageId it was sent with).
    #[arg(value_name = "REQUEST_ID")]
    pub request_id: String,
    #[command(flatten)]
    pub store: StoreArgs,
}

/// Runs `status`.
pub async fn run(args: StatusArgs, json: bool) -> Result<ExitCode, String> {
    let store = args.store.open().await?;
    match store.get(&args.request_id).await {
        Ok(Some(record)) => {
            if json {
                let text =
                    serde_json::to_string_pretty(&record).map_err(|e| format!("cannot print the record: {e}"))?;
                println!("{text}");
            } else {
                print!("{}", summary(&record));
            }
            Ok(ExitCode::SUCCESS)
        }
        Ok(None) => {
            eprintln!(
                "restorectl: no record for request id '{}' in {}; check the id (`restorectl list` shows recent ones) \
                 and that this is the store the function apps use",
                args.request_id,
                store.describe()
            );
            Ok(ExitCode::from(exit::NO))
        }
        Err(e) => {
            eprintln!("restorectl: reading '{}' from {}: {e}", args.request_id, store.describe());
            Ok(ExitCode::from(exit::SERVICE))
        }
    }
}
