//! Managed Run Command (`Microsoft.Compute/virtualMachines/{vm}/runCommands/{name}`): PUT (long-running), GET
//! (`$expand=instanceView`), list, DELETE. The script is not run: its result comes from `rules.vms[].runCommand`
//! (default: exit code 0 after 5 s pending and 20 s running), fixed when the command is created or updated.
//!
//! The conformance corpus has no Compute examples; shapes follow the public REST reference (Virtual Machine Run
//! Commands - Create Or Update / Get By Virtual Machine, `VirtualMachineRunCommandInstanceView`).
//!
//! Timeline from the PUT at `t0`: `Pending` until `t0 + pendingSeconds`, `Running` for `durationSeconds`, then
//! `Succeeded` (exit 0), `Failed` (other exit codes) or `TimedOut` (when `durationSeconds` exceeds the
//! command's `timeoutInSeconds`; it then ends at the timeout, without an exit code). The PUT's operation ends
//! when the script ends, or when it starts with `asyncExecution: true`; it fails (and `provisioningState` is
//! `Failed`) for a failed or timed-out script only with `treatFailureAsDeploymentFailure: true`, as Azure does.
//!
//! A VM whose agent is not ready (`agentNotReady`, `provisioningFailed`): the command stays `Pending` for ever
//! (no start time, no exit code) and the PUT's operation fails after 15 virtual minutes with
//! `VMAgentStatusCommunicationError`, provisioningState `Failed`. Azure behaves this way (the RunCommand
//! extension cannot be delivered without an agent) though its exact wait is not documented; the 15 minutes
//! are the emulator's choice.

use std::collections::BTreeMap;

use serde_json::{Value, json};
use time::{Duration, OffsetDateTime};

use crate::arm::Ctx;
use crate::compute::{ComputeOperation, accepted_delete, add_operation, agent_ready, delete_gate, vm_rule};
use crate::error::{ApiError, ApiResponse, Dialect};
use crate::scenario::RunCommandRule;
use crate::util::{fmt_time, key};
use crate::world::World;

/// How long the PUT of a command on a VM without a ready agent runs before it fails.
const AGENT_WAIT_SECONDS: i64 = 900;
/// Azure's run time limit when `timeoutInSeconds` is 0 or absent (90 minutes).
const DEFAULT_TIMEOUT_SECONDS: f64 = 5400.0;

/// A managed Run Command.
#[derive(Debug, Clone)]
pub struct RunCommand {
    /// ARM id.
    pub id: String,
    /// Name.
    pub name: String,
    /// The VM's id.
    pub vm_id: String,
    /// Region.
    pub location: String,
    /// The request's `properties`, echoed (without `protectedParameters` and `runAsPassword`).
    pub properties: Value,
    /// When the script starts (None: never, the agent is not ready).
    pub start: Option<OffsetDateTime>,
    /// When it ends.
    pub end: Option<OffsetDateTime>,
    /// Result once ended.
    pub result: RunCommandRule,
    /// It ends `TimedOut`.
    pub timed_out: bool,
    /// The PUT's operation ends at `start` instead of `end`.
    pub async_execution: bool,
    /// A failed script fails the PUT too.
    pub treat_failure_as_deployment_failure: bool,
    /// When it was (re)created, for the agent-wait failure.
    pub created: OffsetDateTime,
}

impl RunCommand {
    /// `executionState` at `now`.
    pub fn execution_state(&self, now: OffsetDateTime) -> &'static str {
        match (self.start, self.end) {
            (Some(s), Some(e)) if now >= s => {
                if now < e {
                    "Running"
                } else if self.timed_out {
                    "TimedOut"
                } else if self.result.exit_code != 0 {
                    "Failed"
                } else {
                    "Succeeded"
                }
            }
            _ => "Pending",
        }
    }

    /// `provisioningState` at `now` (see the module comment).
    pub fn provisioning_state(&self, now: OffsetDateTime) -> &'static str {
        let Some(start) = self.start else {
            return if now >= self.created + Duration::seconds(AGENT_WAIT_SECONDS) { "Failed" } else { "Creating" };
        };
        if self.async_execution {
            return if now >= start { "Succeeded" } else { "Creating" };
        }
        match self.execution_state(now) {
            "Pending" | "Running" => "Creating",
            "Failed" | "TimedOut" if self.treat_failure_as_deployment_failure => "Failed",
            _ => "Succeeded",
        }
    }

    /// `properties.instanceView` at `now`: `{executionState, executionMessage, exitCode, output, error,
    /// startTime, endTime, statuses}`; exit code, output and end time only once the script ended (no exit code
    /// after a timeout), start time once it started.
    pub fn instance_view(&self, now: OffsetDateTime) -> Value {
        let state = self.execution_state(now);
        let mut v = json!({"executionState": state, "executionMessage": "", "output": "", "error": "", "statuses": []});
        if let Some(s) = self.start.filter(|s| now >= *s) {
            v["startTime"] = json!(fmt_time(s));
        }
        match state {
            "Succeeded" | "Failed" => {
                v["exitCode"] = json!(self.result.exit_code);
                v["output"] = json!(self.result.output);
                v["error"] = json!(self.result.error);
                v["endTime"] = json!(self.end.map(fmt_time));
                if state == "Failed" {
                    v["executionMessage"] =
                        json!(format!("Execution completed with exit code {}", self.result.exit_code));
                }
            }
            "TimedOut" => {
                v["output"] = json!(self.result.output);
                v["endTime"] = json!(self.end.map(fmt_time));
                v["executionMessage"] = json!("Execution timed out");
            }
            _ => {}
        }
        v
    }

    /// The resource body; `instance_view` adds `properties.instanceView`.
    pub fn body(&self, now: OffsetDateTime, instance_view: bool) -> Value {
        let mut props = self.properties.clone();
        props["provisioningState"] = json!(self.provisioning_state(now));
        if instance_view {
            props["instanceView"] = self.instance_view(now);
        }
        json!({
            "id": self.id,
            "name": self.name,
            "type": "Microsoft.Compute/virtualMachines/runCommands",
            "location": self.location,
            "properties": props
        })
    }
}

/// Removes the Run Commands of a deleted VM (they are child resources).
pub fn remove_for_vm(world: &mut World, vm_id: &str) {
    let prefix = key(&format!("{vm_id}/runCommands/"));
    world.run_commands.retain(|k, _| !k.starts_with(&prefix));
}

fn vm_id(ctx: &Ctx) -> String {
    format!(
        "/subscriptions/{}/resourceGroups/{}/providers/Microsoft.Compute/virtualMachines/{}",
        ctx.p("sub"),
        ctx.p("rg"),
        ctx.p("vm")
    )
}

fn bad(field: &str, message: String) -> ApiError {
    let mut e = ApiError::arm(400, "InvalidParameter", message);
    e.message = format!("{} (target: '{field}')", e.message);
    e
}

/// PUT run command: 201 (new) / 200 (update: the command runs again) with `provisioningState` `Creating` /
/// `Updating` and an `Azure-AsyncOperation` header (Retry-After 10). Needs `location` and one of
/// `properties.source.script` / `scriptUri` / `commandId`.
pub fn put(ctx: &mut Ctx) -> Result<ApiResponse, ApiError> {
    let vm_id = vm_id(ctx);
    let vm = ctx.world.vms.get(&key(&vm_id)).cloned().ok_or_else(|| {
        ApiError::not_found(Dialect::Arm, &format!("Microsoft.Compute/virtualMachines/{}", ctx.p("vm")))
    })?;
    if vm.deleting {
        return Err(ApiError::arm(409, "OperationNotAllowed", format!("VM {} is being deleted.", vm.name)));
    }
    let req = ctx.json(Dialect::Arm)?;
    let location = req
        .get("location")
        .and_then(Value::as_str)
        .ok_or_else(|| {
            ApiError::arm(400, "LocationRequired", "The location property is required for this definition.")
        })?
        .to_string();
    let mut props = req.get("properties").cloned().unwrap_or_else(|| json!({}));
    let source = props.get("source").cloned().unwrap_or(Value::Null);
    if ["script", "scriptUri", "commandId"].iter().all(|k| source.get(k).and_then(Value::as_str).is_none()) {
        return Err(bad(
            "properties.source",
            "Run Command needs properties.source with one of script, scriptUri or commandId.".into(),
        ));
    }
    let flag = |p: &Value, k: &str| p.get(k).and_then(Value::as_bool).unwrap_or(false);
    let async_execution = flag(&props, "asyncExecution");
    let treat = flag(&props, "treatFailureAsDeploymentFailure");
    let timeout = match props.get("timeoutInSeconds").and_then(Value::as_f64) {
        Some(t) if t > 0.0 => t,
        _ => DEFAULT_TIMEOUT_SECONDS,
    };
    if let Some(p) = props.as_object_mut() {
        p.remove("protectedParameters");
        p.remove("runAsPassword");
        p.entry("asyncExecution").or_insert(json!(false));
        p.entry("timeoutInSeconds").or_insert(json!(0));
        p.entry("treatFailureAsDeploymentFailure").or_insert(json!(false));
    }
    let result = vm_rule(ctx.world, &vm.name).and_then(|r| r.run_command.clone()).unwrap_or_default();
    let ready = agent_ready(ctx.world, &vm);
    let now = ctx.now;
    let start = ready.then(|| now + Duration::seconds_f64(result.pending_seconds));
    let timed_out = result.duration_seconds > timeout;
    let end = start.map(|s| s + Duration::seconds_f64(result.duration_seconds.min(timeout)));
    let id = format!("{vm_id}/runCommands/{}", ctx.p("name"));
    let rc = RunCommand {
        id: id.clone(),
        name: ctx.p("name").to_string(),
        vm_id,
        location: location.clone(),
        properties: props,
        start,
        end,
        result,
        timed_out,
        async_execution,
        treat_failure_as_deployment_failure: treat,
        created: now,
    };
    let op = match (start, end) {
        (None, _) | (_, None) => ComputeOperation {
            start: now,
            done_at: Some(now + Duration::seconds(AGENT_WAIT_SECONDS)),
            error: Some((
                "VMAgentStatusCommunicationError".into(),
                format!(
                    "VM '{}' has not reported status for VM agent or extensions. Verify that the VM has a running VM agent and can establish outbound connections to Azure storage.",
                    vm.name
                ),
            )),
        },
        (Some(s), Some(e)) => {
            let done_at = if async_execution { s } else { e };
            let failed = !async_execution && treat && (timed_out || rc.result.exit_code != 0);
            ComputeOperation {
                start: now,
                done_at: Some(done_at),
                error: failed.then(|| {
                    (
                        "VMExtensionProvisioningError".into(),
                        format!("VM has reported a failure when processing extension 'RunCommand {}'.", rc.name),
                    )
                }),
            }
        }
    };
    let existed = ctx.world.run_commands.insert(key(&id), rc.clone()).is_some();
    let mut body = rc.body(now, false);
    body["properties"]["provisioningState"] = json!(if existed { "Updating" } else { "Creating" });
    let aao = add_operation(ctx, &location, op);
    let version = ctx.api_version;
    let mut r = ApiResponse::ok(body)
        .header("Azure-AsyncOperation", format!("{aao}?api-version={version}"))
        .header("Retry-After", "10");
    r.status = if existed { 200 } else { 201 };
    Ok(r)
}

fn find<'a>(ctx: &'a Ctx) -> Result<&'a RunCommand, ApiError> {
    let id = format!("{}/runCommands/{}", vm_id(ctx), ctx.p("name"));
    ctx.world.run_commands.get(&key(&id)).ok_or_else(|| {
        ApiError::not_found(Dialect::Arm, &format!("Microsoft.Compute/virtualMachines/runCommands/{}", ctx.p("name")))
    })
}

fn wants_instance_view(ctx: &Ctx) -> bool {
    ctx.q("$expand").is_some_and(|e| e.eq_ignore_ascii_case("instanceView"))
}

/// GET run command (`$expand=instanceView` for the execution state).
pub fn get(ctx: &mut Ctx) -> Result<ApiResponse, ApiError> {
    let rc = find(ctx)?;
    Ok(ApiResponse::ok(rc.body(ctx.now, wants_instance_view(ctx))))
}

/// GET the run commands of a VM (404 when the VM does not exist).
pub fn list(ctx: &mut Ctx) -> Result<ApiResponse, ApiError> {
    let vm_id = vm_id(ctx);
    if !ctx.world.vms.contains_key(&key(&vm_id)) {
        return Err(ApiError::not_found(Dialect::Arm, &format!("Microsoft.Compute/virtualMachines/{}", ctx.p("vm"))));
    }
    let prefix = key(&format!("{vm_id}/runCommands/"));
    let expand = wants_instance_view(ctx);
    let items: Vec<Value> = ctx
        .world
        .run_commands
        .iter()
        .filter(|(k, _)| k.starts_with(&prefix))
        .map(|(_, rc)| rc.body(ctx.now, expand))
        .collect();
    Ok(ApiResponse::ok(ctx.page(items, Dialect::Arm)?))
}

/// DELETE run command: 202 + Location/Azure-AsyncOperation (then GET 404), 204 when absent.
pub fn delete(ctx: &mut Ctx) -> Result<ApiResponse, ApiError> {
    let Ok(rc) = find(ctx).cloned() else {
        return Ok(ApiResponse::empty(204));
    };
    if delete_gate(ctx, &rc.id, &rc.name)? {
        return Ok(accepted_delete(ctx, &rc.location, true));
    }
    ctx.world.run_commands.remove(&key(&rc.id));
    Ok(accepted_delete(ctx, &rc.location, false))
}

/// Run commands by lower-case id.
pub type RunCommands = BTreeMap<String, RunCommand>;
