//! What a task store holds of one task: [`Task`], its [`TaskStatus`] and, once it ended, its
//! [`TaskOutcome`].

use std::time::{Duration, SystemTime};

use serde::Serialize;
use serde_json::{Map, Value};

use crate::protocol::{ErrorObject, ProtocolVersion};

/// Where a task stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskStatus {
    /// The tool is running.
    Working,
    /// The tool waits for the client (an elicitation or a sampling request it made).
    InputRequired,
    /// The tool returned (its result may still be a tool error, `isError: true`).
    Completed,
    /// The tool could not give a result: it panicked, could not be invoked, or ran past its time.
    Failed,
    /// `tasks/cancel`, or the server's shutdown, stopped it.
    Cancelled,
}

impl TaskStatus {
    /// The wire name (`working`, `input_required`, …), also the audit record's `task.status`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Working => "working",
            Self::InputRequired => "input_required",
            Self::Completed => "completed",
            Self::Failed => "failed",
            Self::Cancelled => "cancelled",
        }
    }

    /// Whether the task ended: nothing changes it any more.
    pub const fn is_terminal(self) -> bool {
        matches!(self, Self::Completed | Self::Failed | Self::Cancelled)
    }
}

/// How a task ended, kept for `tasks/result` (2025-11-25) or inlined by `tasks/get` (2026-07-28).
#[derive(Debug, Clone, PartialEq)]
pub enum TaskOutcome {
    /// The tool's result, formatted for the task's revision (a `CallToolResult`).
    ToolResult(Value),
    /// The JSON-RPC error the call would have been answered with.
    RpcError(ErrorObject),
}

/// One task, as a store holds it.
#[derive(Debug, Clone, PartialEq)]
pub struct Task {
    /// The task's id: 128 random bits from the OS, URL-safe base64.
    pub id: String,
    /// Who created it ([`Tasks::owner_of`](super::Tasks::owner_of)); nobody else sees it.
    pub owner: String,
    /// The tool it runs.
    pub tool: String,
    /// The revision it was created under: what its result and its listings look like.
    pub version: ProtocolVersion,
    /// Where it stands.
    pub status: TaskStatus,
    /// The tool's last status message (`Context::progress` with a message, `Context::status`).
    pub status_message: Option<String>,
    /// When it was created.
    pub created_at: SystemTime,
    /// When its status or message last changed.
    pub updated_at: SystemTime,
    /// How long after its creation it is kept (then dropped, finished or not).
    pub ttl: Duration,
    /// How often the client is asked to poll.
    pub poll_interval: Duration,
    /// Requests to the client the tool waits on (2026-07-28 `inputRequests`), by key.
    pub input_requests: Map<String, Value>,
    /// How it ended, once it did.
    pub outcome: Option<TaskOutcome>,
}

impl Task {
    /// When the store drops it.
    pub fn expires_at(&self) -> SystemTime {
        self.created_at + self.ttl
    }

    /// Whether it is past its ttl at `now`.
    pub fn expired(&self, now: SystemTime) -> bool {
        now >= self.expires_at()
    }
}

/// A change to a task, applied by [`TaskStore::update`](super::TaskStore::update) unless the task ended.
#[derive(Debug, Clone, PartialEq)]
pub enum TaskChange {
    /// A new status message (the status stays).
    Message(String),
    /// The tool waits on these requests to the client (empty: on none any more, back to `working`).
    Inputs(Map<String, Value>),
    /// It ended.
    Finish(TaskStatus, Option<TaskOutcome>),
}
