//! How a task looks on the wire in each era: the 2025-11-25 `Task` object (`ttl`, `pollInterval`, nested
//! under `task` on creation) and the 2026-07-28 flat task (`ttlMs`, `pollIntervalMs`, the outcome inlined by
//! `tasks/get`).

use std::time::Duration;

use serde_json::{Map, Value, json};

use super::record::{Task, TaskOutcome, TaskStatus};
use crate::protocol::OutgoingNotification;
use crate::protocol::rfc3339;

/// The `_meta` key that ties a message to its task (2025-11-25).
pub(crate) const RELATED_TASK: &str = "io.modelcontextprotocol/related-task";
/// The 2026-07-28 extension's name, under `capabilities.extensions`.
pub(crate) const EXTENSION: &str = "io.modelcontextprotocol/tasks";
/// 2026-07-28 `notifications/tasks`, on a `subscriptions/listen` stream.
pub(crate) const TASKS_NOTIFICATION: &str = "notifications/tasks";
/// 2025-11-25 `notifications/tasks/status`.
pub(crate) const STATUS_NOTIFICATION: &str = "notifications/tasks/status";

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// The fields both eras share, with the era's names for the durations.
fn common(task: &Task, ttl: &str, poll: &str) -> Map<String, Value> {
    let mut map = Map::new();
    map.insert("taskId".into(), json!(task.id));
    map.insert("status".into(), json!(task.status.as_str()));
    if let Some(message) = &task.status_message {
        map.insert("statusMessage".into(), json!(message));
    }
    map.insert("createdAt".into(), json!(rfc3339(task.created_at)));
    map.insert("lastUpdatedAt".into(), json!(rfc3339(task.updated_at)));
    map.insert(ttl.into(), json!(millis(task.ttl)));
    map.insert(poll.into(), json!(millis(task.poll_interval)));
    map
}

/// The 2025-11-25 `Task` object (`tasks/get`, `tasks/list`, `tasks/cancel`, the status notification).
pub(crate) fn task_2025(task: &Task) -> Map<String, Value> {
    common(task, "ttl", "pollInterval")
}

/// The 2025-11-25 `CreateTaskResult`: `{"task": Task}`.
pub(crate) fn created_2025(task: &Task) -> Value {
    json!({ "task": task_2025(task) })
}

/// The 2026-07-28 task, flat; `detailed` (`tasks/get`) inlines the outcome or the pending requests.
pub(crate) fn task_2026(task: &Task, detailed: bool) -> Map<String, Value> {
    let mut map = common(task, "ttlMs", "pollIntervalMs");
    if detailed {
        match &task.outcome {
            Some(TaskOutcome::ToolResult(result)) if task.status == TaskStatus::Completed => {
                map.insert("result".into(), result.clone());
            }
            Some(TaskOutcome::RpcError(error)) => {
                map.insert("error".into(), json!(error));
            }
            _ => {}
        }
        if task.status == TaskStatus::InputRequired && !task.input_requests.is_empty() {
            map.insert("inputRequests".into(), Value::Object(task.input_requests.clone()));
        }
    }
    map
}

/// Ties a message (a result, a request's parameters) to its task (2025-11-25): `_meta` gains the
/// related-task key. A value that is not an object is left as it is.
pub(crate) fn tag_related(message: &mut Value, id: &str) {
    if let Value::Object(message) = message
        && let Value::Object(meta) = message.entry("_meta").or_insert_with(|| json!({}))
    {
        meta.insert(RELATED_TASK.to_owned(), json!({ "taskId": id }));
    }
}

/// 2025-11-25 `notifications/tasks/status` for a task's new state.
pub(crate) fn status_notification(task: &Task) -> OutgoingNotification {
    OutgoingNotification::new(STATUS_NOTIFICATION, Value::Object(task_2025(task)))
}
