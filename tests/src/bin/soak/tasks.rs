//! Tasks in the load: the task clients call `recount_warehouse` as a 2025-11-25 task (`task: {}`), poll
//! `tasks/get` until it ends, cancel a share of them on the way, and fetch `tasks/result`. Then the verdict
//! on them: every task a client was given has exactly one outcome record in the audit trail (the record
//! with `task.id`, written when the task ends), of the request that created it, saying how it ended as the
//! client saw it (`completed`, or `cancelled`: by the client, or by the shutdown grace when still running at
//! SIGTERM), and no outcome record is of a task no request created.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::time::Duration;

use serde_json::{Value, json};

use crate::load::{Kind, Outcome, Sample};
use crate::observe::TaskRecord;

/// The longest pause between two polls of a task, whatever `pollInterval` the server asks for.
const MAX_POLL: Duration = Duration::from_secs(1);

/// One task a client was given, as the client saw it.
pub(crate) struct TaskSeen {
    pub(crate) id: String,
    /// The request id of the `tools/call` that created it (its outcome record carries the same).
    pub(crate) created_by: u64,
    /// The last status the client saw (`working` when it saw no other before the server stopped).
    pub(crate) status: String,
    /// The client asked to cancel it (and was answered: it was running, or had just ended).
    pub(crate) cancel_asked: bool,
    /// `tasks/get` said it was unknown: past its ttl before the client saw it end.
    pub(crate) expired: bool,
}

/// The task a client is following: created, polled, maybe cancelled, its result fetched.
pub(crate) struct TaskFlow {
    seen: usize,
    polls: u32,
    /// Cancel once this many polls were answered (`None`: let it run to its end).
    cancel_after: Option<u32>,
    poll: Duration,
}

/// A task client's side of the tasks: what it follows now, and every task it was given.
#[derive(Default)]
pub(crate) struct TaskClient {
    flow: Option<TaskFlow>,
    pub(crate) seen: Vec<TaskSeen>,
}

fn terminal(status: &str) -> bool {
    matches!(status, "completed" | "failed" | "cancelled")
}

impl TaskClient {
    /// The next request of the task being followed, or a new task.
    pub(crate) fn next_kind(&self) -> Kind {
        let Some(flow) = &self.flow else { return Kind::TaskCreate };
        let seen = &self.seen[flow.seen];
        if terminal(&seen.status) {
            Kind::TaskResult
        } else if flow.cancel_after == Some(flow.polls) && !seen.cancel_asked {
            Kind::TaskCancel
        } else {
            Kind::TaskGet
        }
    }

    /// The method, `Mcp-Name` and params of a task request (`warehouse`: the one a new task recounts).
    pub(crate) fn request(&self, kind: Kind, warehouse: &str) -> (&'static str, Option<&'static str>, Value) {
        let task_id = self.flow.as_ref().map(|f| self.seen[f.seen].id.clone()).unwrap_or_default();
        match kind {
            Kind::TaskCreate => (
                "tools/call",
                Some("recount_warehouse"),
                json!({"name": "recount_warehouse", "arguments": {"warehouse_id": warehouse}, "task": {}}),
            ),
            Kind::TaskGet => ("tasks/get", None, json!({"taskId": task_id})),
            Kind::TaskCancel => ("tasks/cancel", None, json!({"taskId": task_id})),
            _ => ("tasks/result", None, json!({"taskId": task_id})),
        }
    }

    /// Takes in the answer to a task request (`result`: its result, when it has one), and says how long
    /// to wait before the next one. `cancel_after`: for a new task, cancel it after that many polls.
    pub(crate) fn answered(
        &mut self,
        kind: Kind,
        id: u64,
        outcome: Outcome,
        result: Option<&Value>,
        cancel_after: Option<u32>,
    ) -> Duration {
        let status = result.and_then(|r| r.get("status")).and_then(Value::as_str).map(str::to_owned);
        match (kind, outcome) {
            (Kind::TaskCreate, Outcome::Ok) => {
                let task = result.map(|r| &r["task"]);
                let Some(task_id) = task.and_then(|t| t["taskId"].as_str()) else { return Duration::ZERO };
                let poll = task.and_then(|t| t["pollInterval"].as_u64()).map_or(MAX_POLL, Duration::from_millis);
                self.seen.push(TaskSeen {
                    id: task_id.to_owned(),
                    created_by: id,
                    status: task.and_then(|t| t["status"].as_str()).unwrap_or("working").to_owned(),
                    cancel_asked: false,
                    expired: false,
                });
                let poll = poll.min(MAX_POLL);
                self.flow = Some(TaskFlow { seen: self.seen.len() - 1, polls: 0, cancel_after, poll });
                return poll;
            }
            (Kind::TaskGet | Kind::TaskCancel | Kind::TaskResult, _) => {}
            _ => return Duration::ZERO,
        }
        let Some(flow) = &mut self.flow else { return Duration::ZERO };
        let seen = &mut self.seen[flow.seen];
        match (kind, outcome) {
            (Kind::TaskGet, Outcome::Ok) => {
                flow.polls += 1;
                seen.status = status.unwrap_or_else(|| seen.status.clone());
                if !terminal(&seen.status) {
                    return flow.poll;
                }
            }
            (Kind::TaskGet, Outcome::InvalidParams) => {
                // Unknown: dropped at its ttl while the client could not poll (an outage). Its outcome
                // record is still due.
                seen.expired = true;
                self.flow = None;
            }
            (Kind::TaskCancel, Outcome::Ok) => {
                seen.cancel_asked = true;
                seen.status = status.unwrap_or_else(|| seen.status.clone());
            }
            // Ended before the cancel came: the next poll says how.
            (Kind::TaskCancel, Outcome::InvalidParams) => seen.cancel_asked = true,
            // The result (completed), or −32602 "it has no result" (cancelled): the task is done with.
            (Kind::TaskResult, Outcome::Ok | Outcome::InvalidParams | Outcome::ToolError) => self.flow = None,
            // Refused (authentication, the audit queue) or unanswered: asked again.
            _ => return flow.poll,
        }
        Duration::ZERO
    }
}

/// The verdict on the tasks: counts for the report and the failures.
pub(crate) fn judge(
    seen: &[TaskSeen],
    records: &HashMap<String, Vec<TaskRecord>>,
    samples: &[Sample],
) -> (String, Vec<String>) {
    let mut failures = Vec::new();
    let mut by_status: BTreeMap<String, usize> = BTreeMap::new();
    let (mut running_at_end, mut cancelled_by_client, mut cancelled_at_shutdown, mut expired) = (0, 0, 0, 0);
    let sent_at: HashMap<u64, Duration> = samples.iter().map(|s| (s.id, s.sent)).collect();
    let mut missing = Vec::new();
    let mut duplicated = Vec::new();
    let mut wrong = Vec::new();
    for task in seen {
        let outcome = records.get(&task.id).map_or(&[][..], Vec::as_slice);
        let record = match outcome {
            [record] => record,
            [] => {
                let at = sent_at.get(&task.created_by).map_or(0.0, Duration::as_secs_f64);
                missing.push(format!("{} created by request {} at {at:.1} s", task.id, task.created_by));
                continue;
            }
            _ => {
                duplicated.push(task.id.as_str());
                continue;
            }
        };
        *by_status.entry(record.status.clone()).or_default() += 1;
        expired += usize::from(task.expired);
        let still_running = !terminal(&task.status) && !task.expired;
        running_at_end += usize::from(still_running);
        let reason_fits = matches!(
            (record.status.as_str(), record.reason.as_str()),
            ("completed", "ok") | ("cancelled", "cancelled")
        );
        // What the client saw last must be how the record says it ended; a task the client last saw
        // running ended after that (completed, or cancelled by the client's cancel or the shutdown).
        let status_fits = if terminal(&task.status) {
            record.status == task.status
        } else {
            matches!(record.status.as_str(), "completed" | "cancelled")
        };
        if record.status == "cancelled" {
            if task.cancel_asked {
                cancelled_by_client += 1;
            } else if still_running {
                cancelled_at_shutdown += 1;
            } else {
                wrong.push(format!("{} cancelled though no one cancelled it", task.id));
            }
        }
        if record.request_id != Some(task.created_by) || !reason_fits || !status_fits {
            wrong.push(format!(
                "{}: created by request {}, last seen {}; recorded for request {:?} as {} (reason {})",
                task.id, task.created_by, task.status, record.request_id, record.status, record.reason
            ));
        }
    }
    // Records of tasks no client was given: only of a creating call whose answer was lost at SIGTERM.
    let unanswered: std::collections::HashSet<u64> = samples
        .iter()
        .filter(|s| s.kind == Kind::TaskCreate && matches!(s.outcome, Outcome::Transport | Outcome::Hung))
        .map(|s| s.id)
        .collect();
    let known: std::collections::HashSet<&str> = seen.iter().map(|t| t.id.as_str()).collect();
    let (mut unseen, mut strangers) = (0, Vec::new());
    for (id, list) in records.iter().filter(|(id, _)| !known.contains(id.as_str())) {
        if list.len() == 1 && list[0].request_id.is_some_and(|r| unanswered.contains(&r)) {
            unseen += 1;
        } else {
            strangers.push(id.as_str());
        }
    }
    if seen.is_empty() && samples.iter().any(|s| s.kind == Kind::TaskCreate) {
        failures.push("no recount_warehouse call with `task` was answered with a task".to_owned());
    }
    let mut text = String::new();
    let statuses = by_status.iter().map(|(k, v)| format!("{k} {v}")).collect::<Vec<_>>().join(", ");
    let _ = writeln!(
        text,
        "\nTasks (recount_warehouse, 2025-11-25): {} created and answered; outcome records: {}. Cancelled by \
         their client {cancelled_by_client}, by the shutdown {cancelled_at_shutdown}; still running when the \
         server stopped {running_at_end}; past their ttl before their client saw them end {expired}. Missing \
         outcome records {}, duplicated {}, disagreeing {}, of tasks no client was given {} (and {unseen} of \
         creating calls unanswered at SIGTERM).",
        seen.len(),
        if statuses.is_empty() { "none".to_owned() } else { statuses },
        missing.len(),
        duplicated.len(),
        wrong.len(),
        strangers.len()
    );
    if !missing.is_empty() || !duplicated.is_empty() || !wrong.is_empty() || !strangers.is_empty() {
        failures.push(format!(
            "task outcome records: {} missing (first: {:?}), {} duplicated (first: {:?}), {} disagreeing (first: \
             {:?}), {} of tasks no client was given (first: {:?})",
            missing.len(),
            missing.first(),
            duplicated.len(),
            duplicated.first(),
            wrong.len(),
            wrong.first(),
            strangers.len(),
            strangers.first()
        ));
    }
    (text, failures)
}
