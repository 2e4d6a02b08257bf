//! `restorectl schema [--which request|result]`: the JSON Schemas generated from the contract's Rust types, the
//! same text as the committed `schemas/*.json` (both are produced by `restore_contract::schema`).

use std::process::ExitCode;

use clap::{Args, ValueEnum};
use restore_contract::schema::{render, request_schema, result_schema};

/// Which schema to print.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Which {
    /// The restore request (schemas/restore-request.v1.json).
    Request,
    /// The restore result (schemas/restore-result.v1.json).
    Result,
}

/// Flags of `restorectl schema`.
#[derive(Debug, Args)]
pub struct SchemaArgs {
    /// Print only this schema, exactly as the committed file. Default: both, as one JSON object keyed by file
    /// name.
    #[arg(long, value_enum)]
    pub which: Option<Which>,
}

/// Runs `schema`. The output is JSON whether or not `--json` is given: a schema has no other form.
pub fn run(args: SchemaArgs) -> Result<ExitCode, String> {
    let text = match args.which {
        Some(Which::Request) => render(&request_schema()),
        Some(Which::Result) => render(&result_schema()),
        None => render(&serde_json::json!({
            "restore-request.v1.json": request_schema(),
            "restore-result.v1.json": result_schema(),
        })),
    };
    print!("{text}");
    Ok(ExitCode::SUCCESS)
}
