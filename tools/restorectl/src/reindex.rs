//! `restorectl reindex`: the one-off upgrade step of the Blob state store's due index. Records written by a build
//! without the due tag are never due (the tracker would not follow them); this re-saves every record that can be
//! due so that it carries the tag. Safe to repeat and to run while the apps work; run it once every app runs a
//! build that writes the tag. On SQLite there is nothing to do.

use std::process::ExitCode;

use clap::Args;

use crate::exit;
use crate::store::StoreArgs;

/// Flags of `restorectl reindex`.
#[derive(Debug, Args)]
pub struct ReindexArgs {
    #[command(flatten)]
    pub store: StoreArgs,
}

/// Runs `reindex`.
pub async fn run(args: ReindexArgs, json: bool) -> Result<ExitCode, String> {
    let store = args.store.open().await?;
    match store.reindex().await {
        Ok(saved) => {
            if json {
                println!("{}", serde_json::json!({ "store": store.describe(), "resaved": saved }));
            } else {
                println!("re-saved {saved} record(s) that can be due in {}", store.describe());
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            eprintln!("restorectl: reindexing {}: {e}", store.describe());
            Ok(ExitCode::from(exit::SERVICE))
        }
    }
}
