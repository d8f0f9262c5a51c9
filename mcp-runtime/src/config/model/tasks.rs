//! `[tasks]`: how long tasks are kept, how often clients are asked to poll, and how many may run.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::duration;

/// `[tasks]`: a `tools/call` made as a task answers at once; the tool runs on, and its result is kept for
/// the task's ttl. Every count is capped: a creation beyond a cap is refused (−32012, `data.limit =
/// "tasks"`), and nothing is dropped before its ttl.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TasksConfig {
    /// How long a task is kept after its creation when the client asks for no ttl. The tool must finish
    /// within it: a task still running at its ttl is cancelled.
    #[serde(with = "duration")]
    pub ttl: Duration,
    /// The longest ttl a client may ask for; a longer one is cut to this.
    #[serde(with = "duration")]
    pub max_ttl: Duration,
    /// How often clients are asked to poll (`pollInterval`).
    #[serde(with = "duration")]
    pub poll_interval: Duration,
    /// Tasks one caller (its principal, or its network when anonymous) may have running at once.
    pub max_per_caller: usize,
    /// Tasks running at once, in all.
    pub max_running: usize,
    /// Tasks kept at once, those that ended within their ttl included.
    pub max_stored: usize,
    /// Tasks per `tasks/list` page.
    pub page_size: usize,
}

impl Default for TasksConfig {
    fn default() -> Self {
        Self {
            ttl: Duration::from_secs(3600),
            max_ttl: Duration::from_secs(24 * 3600),
            poll_interval: Duration::from_secs(1),
            max_per_caller: 16,
            max_running: 256,
            max_stored: 10_000,
            page_size: 50,
        }
    }
}

impl TasksConfig {
    pub(crate) fn check(&self) -> Result<(), String> {
        if self.ttl.is_zero() || self.poll_interval.is_zero() {
            return Err("tasks.ttl and tasks.poll_interval must be above zero".to_owned());
        }
        if self.ttl > self.max_ttl {
            return Err("tasks.ttl cannot be longer than tasks.max_ttl".to_owned());
        }
        if self.max_per_caller == 0
            || self.max_running == 0
            || self.max_stored < self.max_running
            || self.page_size == 0
        {
            return Err(
                "tasks.max_per_caller, max_running and page_size must be above zero, and max_stored at least max_running"
                    .to_owned(),
            );
        }
        Ok(())
    }
}
