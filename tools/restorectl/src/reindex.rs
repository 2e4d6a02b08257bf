//! `restorectl reindex`: the one-off upgrade step for records an older build wrote.
//!
//! * Records an older intake left in `Received`, `Planned` or `Triggering` carry no `next_poll_at`, so the
//!   tracker's `due` read would never find them if that intake crashed: each gets `next_poll_at` = its last write,
//!   due at once (the tracker still takes one over only once it is stale and its lease has lapsed). Both stores.
//! * Records written by a build without the Blob store's due tag are never due (the tracker would not follow
//!   them): every record that can be due is re-saved so that it carries the tag. On SQLite there is nothing to do.
//!
//! Safe to repeat and to run while the apps work; run it once every app runs the new build.

use std::process::ExitCode;

use clap::Args;

use restore_store::{ListFilter, State, StateStore, StoreError, write};

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
    let stamped = match stamp_left_behind(store.as_ref()).await {
        Ok(n) => n,
        Err(e) => {
            eprintln!("restorectl: stamping intake-held records in {}: {e}", store.describe());
            return Ok(ExitCode::from(exit::SERVICE));
        }
    };
    match store.reindex().await {
        Ok(saved) => {
            if json {
                println!("{}", serde_json::json!({ "store": store.describe(), "stamped": stamped, "resaved": saved }));
            } else {
                println!(
                    "made {stamped} intake-held record(s) findable by the tracker and re-saved {saved} record(s) that can be due in {}",
                    store.describe()
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            eprintln!("restorectl: reindexing {}: {e}", store.describe());
            Ok(ExitCode::from(exit::SERVICE))
        }
    }
}

/// Gives every `Received`/`Planned`/`Triggering` record without a `next_poll_at` one (its last write), so the
/// tracker's `due` read finds it; returns how many. A record another writer changed meanwhile is left alone: that
/// writer is a current intake, which stamps it itself.
async fn stamp_left_behind(store: &dyn StateStore) -> Result<usize, StoreError> {
    // More than this many records held by intakes at once would be an incident; run the command again.
    const MAX: usize = 100_000;
    let held = [State::Received, State::Planned, State::Triggering];
    let mut stamped = 0;
    for mut record in store.list(&ListFilter::states(held), MAX).await? {
        if record.next_poll_at.is_some() {
            continue;
        }
        record.next_poll_at = Some(record.updated_at);
        match write::update(store, &record).await {
            Ok(_) => stamped += 1,
            Err(StoreError::Conflict { .. } | StoreError::NotFound { .. }) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(stamped)
}
