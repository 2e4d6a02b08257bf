//! `restorectl list [--state STATE]... [--vault ID] [--limit N]`: records from the state store, newest first, as a
//! table or (`--json`) a JSON array of records.

use std::process::ExitCode;

use clap::Args;
use restore_store::{ListFilter, State};

use crate::exit;
use crate::render::table;
use crate::store::StoreArgs;

/// Flags of `restorectl list`.
#[derive(Debug, Args)]
pub struct ListArgs {
    /// Only records in this state (repeatable): Received, Planned, Triggering, Accepted, Running, Succeeded,
    /// Failed, Rejected, TimedOut, Cancelled, NeedsAttention (any case).
    #[arg(long = "state", value_name = "STATE", value_parser = parse_state)]
    pub states: Vec<State>,
    /// Only records of this vault (its full ARM id, as in the record).
    #[arg(long, value_name = "ID")]
    pub vault: Option<String>,
    /// At most this many records.
    #[arg(long, value_name = "N", default_value_t = 50, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub limit: u32,
    #[command(flatten)]
    pub store: StoreArgs,
}

fn parse_state(text: &str) -> Result<State, String> {
    State::ALL.into_iter().find(|s| s.as_str().eq_ignore_ascii_case(text.trim())).ok_or_else(|| {
        let names: Vec<&str> = State::ALL.iter().map(|s| s.as_str()).collect();
        format!("'{text}' is not a state; use one of {}", names.join(", "))
    })
}

/// Runs `list`.
pub async fn run(args: ListArgs, json: bool) -> Result<ExitCode, String> {
    let store = args.store.open().await?;
    let filter = ListFilter { states: args.states.clone(), vault_id: args.vault.clone(), oldest_first: false };
    let limit = args.limit as usize;
    let records = match store.list(&filter, limit).await {
        Ok(records) => records,
        Err(e) => {
            eprintln!("restorectl: listing records in {}: {e}", store.describe());
            return Ok(ExitCode::from(exit::SERVICE));
        }
    };
    if json {
        let text = serde_json::to_string_pretty(&records).map_err(|e| format!("cannot print the records: {e}"))?;
        println!("{text}");
    } else if records.is_empty() {
        println!("no records match in {}", store.describe());
    } else {
        print!("{}", table(&records));
        if records.len() == limit {
            println!("(first {limit}; there may be more: raise --limit)");
        }
    }
    Ok(ExitCode::SUCCESS)
}
