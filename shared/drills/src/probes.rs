//! The checks that look inside a restored item, optional per plan: a managed Run Command on a new VM, and an
//! HTTPS webhook the plan's owner runs. Both come after the resource checks pass ([`crate::checks`]).
//!
//! * **Run Command.** `PUT {vm}/runCommands/{name}` with the plan's script, `asyncExecution: true` (the PUT
//!   returns once the script starts; the drill polls across ticks rather than holding an invocation open) and
//!   `timeoutInSeconds`; then `GET …?$expand=instanceView` on later ticks until `executionState` is terminal.
//!   Passed when the exit code is the expected one and, if the plan says so, the output contains the expected
//!   text. The evidence names the state, the exit code and whether the text was found, not the output itself: it
//!   comes from a clone of production data. The command is a child of the VM and goes with it.
//! * **Webhook.** `POST` of `{plan, runId, item, kind, resources, checks}` with
//!   `X-Drill-Timestamp` and `X-Drill-Signature: sha256=<hex HMAC-SHA256 of "{timestamp}.{body}">`, the key being
//!   the app setting the plan names (never the plan itself); the answer must be `{"passed": bool, "detail":
//!   "…"}`. No bearer token is ever sent: the receiver checks the signature and the timestamp's freshness.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use time::Duration;

use crate::checks::CheckResult;
use crate::item::SeamError;
use crate::plan::{RunCommandCheck, WebhookCheck};

/// Azure's own limit on a Run Command's run time, used when the plan gives none.
pub const RUN_COMMAND_DEFAULT_TIMEOUT: Duration = Duration::minutes(10);
/// How long past the command's own timeout the drill still waits for a terminal state (the extension may be
/// slow to report) before it calls the check failed.
pub const RUN_COMMAND_GRACE: Duration = Duration::minutes(15);
/// A webhook's default timeout.
pub const WEBHOOK_DEFAULT_TIMEOUT: Duration = Duration::seconds(30);

/// The Run Command resource a drill creates on a VM: one per run and item, so a resend is the same PUT.
pub fn run_command_id(vm: &str, request_id: &str) -> String {
    let suffix: String = request_id.rsplit('.').next().unwrap_or_default().chars().take(16).collect();
    format!("{vm}/runCommands/restore-drill-{suffix}")
}

/// The PUT body: the script inline, asynchronous, its timeout, and a failure that is the check's to judge (not a
/// failed deployment).
pub fn run_command_body(check: &RunCommandCheck, location: &str) -> Value {
    let timeout = check.timeout.map_or(RUN_COMMAND_DEFAULT_TIMEOUT, |t| t.to_time());
    json!({
        "location": location,
        "properties": {
            "source": { "script": check.script },
            "asyncExecution": true,
            "timeoutInSeconds": timeout.whole_seconds(),
            "treatFailureAsDeploymentFailure": false
        }
    })
}

/// What a Run Command's instance view says.
#[derive(Debug, Clone, PartialEq)]
pub enum RunCommandVerdict {
    /// Not finished yet.
    Running,
    /// Finished: the check's result.
    Done(CheckResult),
}

/// Judges a Run Command from its GET with `$expand=instanceView`. `waited`: time since the PUT.
pub fn judge_run_command(check: &RunCommandCheck, body: Option<&Value>, waited: Duration) -> RunCommandVerdict {
    let limit = check.timeout.map_or(RUN_COMMAND_DEFAULT_TIMEOUT, |t| t.to_time()) + RUN_COMMAND_GRACE;
    let Some(body) = body else {
        return RunCommandVerdict::Done(result(false, "the Run Command no longer exists".into()));
    };
    let view = &body["properties"]["instanceView"];
    let state = view["executionState"].as_str().unwrap_or("Unknown");
    let terminal = ["Succeeded", "Failed", "TimedOut", "Canceled"].iter().any(|s| s.eq_ignore_ascii_case(state));
    if !terminal {
        if waited > limit {
            return RunCommandVerdict::Done(result(
                false,
                format!(
                    "executionState still {state} after {waited}: the script never finished (is the VM agent working?)"
                ),
            ));
        }
        return RunCommandVerdict::Running;
    }
    let exit = view["exitCode"].as_i64();
    let output = view["output"].as_str().unwrap_or_default();
    let exit_ok = exit == Some(i64::from(check.expected_exit_code));
    let output_ok = check.expected_output.as_ref().is_none_or(|want| output.contains(want.as_str()));
    let found = match &check.expected_output {
        Some(_) if output_ok => "; the expected output was found",
        Some(_) => "; the expected output was NOT found",
        None => "",
    };
    let exit_text = exit.map_or_else(|| "none".to_string(), |e| e.to_string());
    RunCommandVerdict::Done(result(
        exit_ok && output_ok,
        format!("executionState {state}, exit code {exit_text} (expected {}){found}", check.expected_exit_code),
    ))
}

fn result(passed: bool, evidence: String) -> CheckResult {
    CheckResult { name: "runCommand".into(), passed, duration_ms: 0, evidence }
}

/// What the webhook check sends.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WebhookPayload<'a> {
    /// The plan.
    pub plan: &'a str,
    /// The run.
    pub run_id: &'a str,
    /// The item drilled.
    pub item: &'a str,
    /// `disk` or `vm`.
    pub kind: &'a str,
    /// The resources the restore created (ARM ids).
    pub resources: Vec<&'a str>,
    /// The checks so far, each with its result.
    pub checks: &'a [CheckResult],
}

/// The webhook's answer.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct WebhookAnswer {
    passed: bool,
    #[serde(default)]
    detail: String,
}

/// The signature header's value for `body` sent at `timestamp`: `sha256=<hex HMAC-SHA256(secret,
/// "{timestamp}.{body}")>`. The timestamp is signed too, so a captured request cannot be replayed later.
pub fn signature(secret: &[u8], timestamp: &str, body: &[u8]) -> String {
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, secret);
    let mut ctx = ring::hmac::Context::with_key(&key);
    ctx.update(timestamp.as_bytes());
    ctx.update(b".");
    ctx.update(body);
    let tag = ctx.sign();
    let hex: String = tag.as_ref().iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256={hex}")
}

/// Sending the webhook: the production side reads the secret from the app setting and POSTs over HTTPS.
#[async_trait]
pub trait WebhookClient: Send + Sync + std::fmt::Debug {
    /// The signing secret held by app setting `name`, if set.
    fn secret(&self, name: &str) -> Option<Vec<u8>>;
    /// POSTs `body` with the given headers; the status and the body of the answer.
    async fn post(
        &self,
        url: &str,
        headers: &[(&str, String)],
        body: Vec<u8>,
        timeout: Duration,
    ) -> Result<(u16, Vec<u8>), SeamError>;
}

/// Runs the webhook check: never a seam error (an unreachable or misbehaving webhook is a failed check, with the
/// reason as evidence), except that a missing secret setting fails without sending anything.
pub async fn webhook_check(
    check: &WebhookCheck,
    payload: &WebhookPayload<'_>,
    client: &dyn WebhookClient,
    timestamp: &str,
) -> CheckResult {
    let fail = |evidence: String| CheckResult { name: "webhook".into(), passed: false, duration_ms: 0, evidence };
    let Some(secret) = client.secret(&check.secret_setting) else {
        return fail(format!(
            "app setting {} (the webhook's signing secret) is not set: nothing sent",
            check.secret_setting
        ));
    };
    let body = match serde_json::to_vec(payload) {
        Ok(b) => b,
        Err(e) => return fail(format!("cannot encode the payload: {e}")),
    };
    let headers = [
        ("Content-Type", "application/json".to_string()),
        ("X-Drill-Timestamp", timestamp.to_string()),
        ("X-Drill-Signature", signature(&secret, timestamp, &body)),
    ];
    let timeout = check.timeout.map_or(WEBHOOK_DEFAULT_TIMEOUT, |t| t.to_time());
    match client.post(&check.url, &headers, body, timeout).await {
        Err(e) => fail(format!("POST {} failed: {e}", check.url)),
        Ok((status, _)) if !(200..300).contains(&status) => fail(format!("POST {} answered {status}", check.url)),
        Ok((status, answer)) => match serde_json::from_slice::<WebhookAnswer>(&answer) {
            Ok(a) => CheckResult {
                name: "webhook".into(),
                passed: a.passed,
                duration_ms: 0,
                evidence: format!(
                    "POST {} answered {status}: passed {}; {}",
                    check.url,
                    a.passed,
                    printable(&a.detail)
                ),
            },
            Err(e) => {
                fail(format!("POST {} answered {status} without {{\"passed\": bool, \"detail\": …}}: {e}", check.url))
            }
        },
    }
}

/// At most 500 characters, control characters replaced: the detail is the webhook's text, shown in reports.
fn printable(s: &str) -> String {
    s.chars().take(500).map(|c| if c.is_control() { ' ' } else { c }).collect()
}
