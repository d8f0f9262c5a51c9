//! The outcome record of a task: written once when the task ends, beside the record of the request that
//! created it (same `request_id`, same trace), whatever ends it: its tool, `tasks/cancel`, its ttl, the
//! server's shutdown. Its place in the audit queue is taken when the task is created, so a full queue
//! refuses the creation (−32012, `data.limit = "audit_queue"`) rather than lose the record of a task that
//! ran.

use std::sync::Arc;

use serde_json::{Value, json};

use super::{AuditTask, Auditor, Marks, QueueFull, Unfinished};
use crate::protocol::{ErrorCode, ErrorObject};
use crate::server::ServerHandle;
use crate::tasks::{Recorder, RecorderHook, TaskEnded, TaskOutcome};

/// What [`Tasks::record_with`](crate::tasks::Tasks::record_with) calls for each new task: a place in
/// `auditor`'s queue, and the recorder that writes the task's outcome record in it, redacted with the marks
/// of its tool as the server serves it then.
pub(crate) fn outcome_records(auditor: Arc<Auditor>, server: ServerHandle) -> RecorderHook {
    // The server's handle, not its `App`: the `App` holds the tasks that hold this hook.
    Arc::new(move || {
        let (auditor, server) = (Arc::clone(&auditor), server.clone());
        Box::pin(async move {
            let slot = auditor.reserve().await.map_err(no_place)?;
            let recorder: Recorder = Box::new(move |ended: TaskEnded| {
                let marks =
                    server.catalogs().tools().get(&ended.origin.tool).map(|e| Marks::of(&e.tool)).unwrap_or_default();
                let result = match (&ended.outcome, auditor.results) {
                    (Some(TaskOutcome::ToolResult(result)), true) => Some(result_of(result)),
                    _ => None,
                };
                let origin = ended.origin;
                slot.send_unfinished(Unfinished {
                    at: origin.at,
                    request_id: origin.request_id,
                    trace: origin.trace,
                    principal: origin.principal,
                    transport: origin.transport,
                    version: origin.version,
                    source: origin.source,
                    method: crate::protocol::method::TOOLS_CALL.to_owned(),
                    tool: Some(origin.tool),
                    client: origin.client,
                    reason: ended.reason,
                    latency_us: u64::try_from(ended.latency.as_micros()).unwrap_or(u64::MAX),
                    arguments: None,
                    result,
                    marks,
                    task: Some(AuditTask { id: ended.id, status: ended.status.as_str() }),
                });
                Box::pin(async {})
            });
            Ok(recorder)
        })
    })
}

/// The refusal of a task whose outcome record finds no place in the full queue: a limit (−32012,
/// `data.limit = "audit_queue"`, retry in a second). Not −32014, which says a request went unrecorded: the
/// creating call itself is recorded, refused.
fn no_place(full: QueueFull) -> ErrorObject {
    ErrorObject::new(
        ErrorCode::RATE_LIMITED,
        format!("no task can start now: {full}; the task's outcome record would have no place"),
    )
    .with_data(json!({ "limit": "audit_queue", "retryAfterMs": 1000 }))
}

/// The result's structured content, else its content (as the request records keep it).
fn result_of(result: &Value) -> Value {
    result.get("structuredContent").or_else(|| result.get("content")).cloned().unwrap_or_else(|| result.clone())
}
