//! `restorectl validate FILE`: the intake's offline checks ([`crate::check`]) on a file, with the verdict printed
//! for a person (field, rule, problem, fix) or as JSON. Exit 0 valid, 1 invalid, 2 usage or configuration error.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Args;
use serde_json::{Value, json};

use crate::check::{Verdict, check};
use crate::exit;
use crate::policy::PolicyArgs;

/// Flags of `restorectl validate`.
#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// The request (or Azure Monitor alert) JSON file.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    #[command(flatten)]
    pub policy: PolicyArgs,
}

/// Runs `validate`.
pub fn run(args: ValidateArgs, json: bool) -> Result<ExitCode, String> {
    let body = read_message(&args.file)?;
    let (policy, policy_source) = args.policy.load()?;
    let verdict = check(&body, &policy, time::OffsetDateTime::now_utc());
    print(&args.file, &verdict, &policy_source, json);
    Ok(match verdict {
        Verdict::Rejected(_) => ExitCode::from(exit::NO),
        _ => ExitCode::SUCCESS,
    })
}

/// Reads a message file; the error names the file and the fix.
pub fn read_message(file: &Path) -> Result<Vec<u8>, String> {
    std::fs::read(file)
        .map_err(|e| format!("cannot read {}: {e}; give the path of a request JSON file", file.display()))
}

/// Prints a verdict on stdout (also used by `submit` when it refuses to send).
pub fn print(file: &Path, verdict: &Verdict, policy_source: &str, json: bool) {
    if json {
        println!("{}", serde_json::to_string_pretty(&as_json(file, verdict, policy_source)).unwrap_or_default());
    } else {
        print!("{}", as_text(verdict, policy_source));
    }
}

fn as_json(file: &Path, verdict: &Verdict, policy_source: &str) -> Value {
    let file = file.display().to_string();
    match verdict {
        Verdict::Passes { request, from_alert } => json!({
            "file": file,
            "valid": true,
            "outcome": "passes",
            "requestId": request.request_id,
            "kind": request.operation.kind().as_str(),
            "vaultId": request.operation.vault_id().as_str(),
            "validateOnly": request.options.validate_only,
            "fromAlert": from_alert,
            "requestedBy": request.source.requested_by,
            "policy": policy_source,
        }),
        Verdict::NothingToDo { request_id, message } => json!({
            "file": file,
            "valid": true,
            "outcome": "nothingToDo",
            "requestId": request_id,
            "message": message,
            "policy": policy_source,
        }),
        Verdict::Rejected(reason) => json!({
            "file": file,
            "valid": false,
            "outcome": "rejected",
            "reason": reason,
            "policy": policy_source,
        }),
    }
}

fn as_text(verdict: &Verdict, policy_source: &str) -> String {
    let mut out = String::new();
    let mut line = |label: &str, value: &str| out.push_str(&format!("  {label:<10} {value}\n"));
    let head = match verdict {
        Verdict::Passes { request, from_alert } => {
            let vault = request.operation.vault_id();
            line("vault", vault.as_str());
            match &request.request_id {
                Some(id) => line("requestId", id),
                None => line("requestId", "(none: the intake will use the Service Bus MessageId)"),
            }
            if *from_alert {
                line("from", &request.source.requested_by);
            }
            if request.options.validate_only {
                line("mode", "validateOnly: Azure validates it, nothing is restored");
            }
            line("policy", policy_source);
            line(
                "unchecked",
                "recovery point, Azure's own validation, duplicates and the vault's concurrency are checked by the intake",
            );
            format!("valid: {} request passes the contract and the policy\n", request.operation.kind().as_str())
        }
        Verdict::NothingToDo { request_id, message } => {
            line("requestId", request_id);
            line("policy", policy_source);
            format!("valid: {message}\n")
        }
        Verdict::Rejected(reason) => {
            if let Some(field) = &reason.field {
                line("field", field);
            }
            if let Some(rule) = &reason.rule {
                line("rule", rule);
            }
            line("problem", &reason.message);
            if let Some(fix) = &reason.fix {
                line("fix", fix);
            }
            line("policy", policy_source);
            format!("invalid: {} (the intake would answer Rejected)\n", reason.code)
        }
    };
    format!("{head}{out}")
}
