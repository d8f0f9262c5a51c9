//! The outcome record of a task: written once when the task ends, beside the record of the request that
//! created it (same `request_id`, same trace), whatever ends it: its tool, `tasks/cancel`, its ttl, the
//! server's shutdown.

use std::sync::Arc;

use serde_json::Value;

use super::{AuditTask, Auditor, Marks, Unfinished};
use crate::server::ServerHandle;
use crate::tasks::{EndedHook, TaskEnded, TaskOutcome};

/// What [`Tasks::on_ended`](crate::tasks::Tasks::on_ended) calls: writes each ended task's record through
/// `auditor`, redacted with the marks of its tool as the server serves it now.
pub(crate) fn outcome_records(auditor: Arc<Auditor>, server: ServerHandle) -> EndedHook {
    // The server's handle, not its `App`: the `App` holds the tasks that hold this hook.
    Arc::new(move |ended: TaskEnded| {
        let (auditor, server) = (Arc::clone(&auditor), server.clone());
        Box::pin(async move {
            let Ok(slot) = auditor.reserve().await else {
                // `audit.on_full` refused to wait: the record is lost, and counted as such.
                auditor.count_drop();
                return;
            };
            let marks =
                server.catalogs().tools().get(&ended.origin.tool).map(|e| Marks::of(&e.tool)).unwrap_or_default();
            let result = match (&ended.outcome, auditor.results) {
                (Some(TaskOutcome::Result(result)), true) => Some(result_of(result)),
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
        })
    })
}

/// The result's structured content, else its content (as the request records keep it).
fn result_of(result: &Value) -> Value {
    result.get("structuredContent").or_else(|| result.get("content")).cloned().unwrap_or_else(|| result.clone())
}
