//! Tasks: a `tools/call` that answers at once with a task the client polls, while the tool runs on.
//!
//! A tool that allows it (`#[mcp_tool(task = "optional")]`) may be called as a task: under 2025-11-25 when
//! the call carries `params.task` (experimental tasks, SEP-1686), under 2026-07-28 when the client declares
//! the `io.modelcontextprotocol/tasks` extension (SEP-2663). The call passes the whole corridor like any
//! other (a refused one creates nothing), is answered with the task, and the tool's future runs on in a
//! task of the server's own, whatever becomes of the connection that created it, until it returns, is
//! cancelled (`tasks/cancel`), runs past the task's ttl, or the server shuts down
//! (`transport.shutdown_grace`, then cancelled).
//!
//! [`Tasks`] is the one place tasks are created, changed and read: it keeps them in a [`TaskStore`]
//! (memory here, shared between replicas when configured), binds each to the caller that created it
//! (anyone else is told the id is unknown), caps them (`[tasks]`), and hands a finished one's outcome to
//! the audit trail (one record per task, beside the creating request's own).

mod inputs;
mod record;
mod store;
pub(crate) mod wire;

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::{Duration, Instant, SystemTime};

use base64::Engine;
use futures_util::future::BoxFuture;
use serde_json::{Map, Value};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

pub(crate) use self::inputs::TaskInputs;
pub use self::record::{Task, TaskChange, TaskOutcome, TaskStatus};
pub use self::store::{MemoryTaskStore, StoreError, TaskLimits, TaskPage, TaskStore};
use crate::config::TasksConfig;
use crate::protocol::{ErrorCode, ErrorObject, ProtocolVersion, RequestId};
use crate::request::{
    Audience, Bus, Change, ClientInfo, Notifier, Outcome, PeerError, Principal, Session, TransportKind,
};

/// Whether a tool may be called as a task: `#[mcp_tool(task = "optional")]`,
/// [`ToolBuilder::task`](crate::server::ToolBuilder::task). Listed as the tool's `execution.taskSupport`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum TaskSupport {
    /// Never as a task (the default): a call that asks for one is refused.
    #[default]
    Forbidden,
    /// Either way: the client chooses.
    Optional,
    /// Only as a task: a call that is not one is refused.
    Required,
}

impl TaskSupport {
    /// The wire name: `forbidden`, `optional`, `required`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Forbidden => "forbidden",
            Self::Optional => "optional",
            Self::Required => "required",
        }
    }
}

/// The request that created a task, as its outcome record names it.
#[derive(Debug, Clone)]
pub struct Origin {
    /// When the creating request arrived.
    pub at: SystemTime,
    /// The creating request's JSON-RPC id.
    pub request_id: RequestId,
    /// The creating request's trace and span, when tracing is on: the task's span links to them.
    pub trace: Option<(opentelemetry::trace::TraceId, opentelemetry::trace::SpanId)>,
    /// Who created it.
    pub principal: Arc<Principal>,
    /// The transport it came on.
    pub transport: TransportKind,
    /// Its revision.
    pub version: ProtocolVersion,
    /// The client's address.
    pub source: Option<std::net::IpAddr>,
    /// The client.
    pub client: Arc<ClientInfo>,
    /// The tool.
    pub tool: String,
}

/// A task that ended, for its outcome record.
#[derive(Debug)]
pub struct TaskEnded {
    /// The task's id.
    pub id: String,
    /// How it ended: `completed`, `failed` or `cancelled`.
    pub status: TaskStatus,
    /// Its result or error, when it has one.
    pub outcome: Option<TaskOutcome>,
    /// The request that created it.
    pub origin: Origin,
    /// How it ended, in the corridor's vocabulary (`ok`, `tool_error`, `panic`, `timeout`, `cancelled`).
    pub reason: Outcome,
    /// From the creating request's arrival to the end.
    pub latency: Duration,
}

/// What records one task's end, made when the task is: called once, when it ends.
pub type Recorder = Box<dyn FnOnce(TaskEnded) -> BoxFuture<'static, ()> + Send>;

/// Makes each task's [`Recorder`] when the task is created, so that whatever the record needs (its place in
/// the audit queue) is taken then: a creation it cannot be taken for is refused with this error (a limit,
/// −32012), and no task ends without its record.
pub type RecorderHook = Arc<dyn Fn() -> BoxFuture<'static, Result<Recorder, ErrorObject>> + Send + Sync>;

/// The server's tasks. Cheap to clone.
#[derive(Clone)]
pub struct Tasks(Arc<Inner>);

struct Inner {
    config: TasksConfig,
    store: Arc<dyn TaskStore>,
    running: Mutex<HashMap<Arc<str>, Running>>,
    tracker: TaskTracker,
    closing: CancellationToken,
    recorder: OnceLock<RecorderHook>,
    /// Where changes are published for 2026-07-28 `subscriptions/listen` streams that named a task.
    bus: OnceLock<Bus>,
}

#[derive(Clone)]
struct Running {
    cancel: CancellationToken,
    inputs: Arc<TaskInputs>,
    changed: Arc<watch::Sender<u64>>,
    /// Where 2025-11-25 `notifications/tasks/status` go: the connection or session that created it.
    notifier: Option<Notifier>,
    /// What records its end, taken by whoever ends it.
    recorder: Arc<Mutex<Option<Recorder>>>,
}

impl fmt::Debug for Tasks {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tasks").field("store", &self.0.store).field("running", &self.running_count()).finish()
    }
}

/// A task being run: what its tool's [`Context`](crate::Context) reaches it by.
#[derive(Clone)]
pub(crate) struct TaskRun {
    tasks: Tasks,
    pub(crate) id: Arc<str>,
    inputs: Arc<TaskInputs>,
    pub(crate) cancel: CancellationToken,
    /// Whether the call was answered with the task. A 2026-07-28 call runs its tool's first steps before
    /// it is (it may end at once, or ask for input first: then no task is made).
    answered: Arc<std::sync::atomic::AtomicBool>,
}

impl fmt::Debug for TaskRun {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TaskRun").field("id", &self.id).finish_non_exhaustive()
    }
}

impl Tasks {
    /// Tasks configured by `[tasks]`, kept in `store`.
    pub fn new(config: TasksConfig, store: Arc<dyn TaskStore>) -> Self {
        Self(Arc::new(Inner {
            config,
            store,
            running: Mutex::new(HashMap::new()),
            tracker: TaskTracker::new(),
            closing: CancellationToken::new(),
            recorder: OnceLock::new(),
            bus: OnceLock::new(),
        }))
    }

    /// `[tasks]`.
    pub fn config(&self) -> &TasksConfig {
        &self.0.config
    }

    /// Publishes each task's changes on `bus` (the server's), for listeners that named the task; the first
    /// call wins.
    pub fn publish_on(&self, bus: Bus) {
        let _ = self.0.bus.set(bus);
    }

    /// Tells the listeners that named the task that it changed.
    fn changed(&self, id: &str) {
        if let Some(bus) = self.0.bus.get() {
            bus.publish(&Change::Task(Arc::from(id)), &Audience::Everyone);
        }
    }

    /// Sets what makes each task's recorder (the pipeline's: metrics and the audit trail); the first call
    /// wins.
    pub fn record_with(&self, hook: RecorderHook) {
        let _ = self.0.recorder.set(hook);
    }

    /// Whose a task is: an authenticated principal's (by how and as whom it authenticated), or, when
    /// nobody is authenticated, the handshake session's that created it (so one anonymous client never
    /// sees another's), else everyone's anonymous one.
    pub fn owner_of(principal: &Principal, session: Option<&Session>) -> String {
        match (principal.is_anonymous(), session.and_then(Session::id)) {
            (false, _) => format!("{}:{}", principal.method.as_str(), principal.id),
            (true, Some(session)) => format!("session:{session}"),
            (true, None) => "anonymous".to_owned(),
        }
    }

    /// How many tasks run in this process now.
    pub fn running_count(&self) -> usize {
        self.running().len()
    }

    fn running(&self) -> std::sync::MutexGuard<'_, HashMap<Arc<str>, Running>> {
        self.0.running.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Creates a task for `owner` running `tool`, kept `ttl` (the client's wish, cut to `tasks.max_ttl`;
    /// `tasks.ttl` without one).
    ///
    /// # Errors
    /// −32012 (`data.limit = "tasks"`) beyond a cap; −32603 when the server is shutting down or the store
    /// fails.
    pub(crate) async fn create(
        &self,
        owner: String,
        tool: &str,
        version: ProtocolVersion,
        ttl: Option<Duration>,
        notifier: Option<Notifier>,
    ) -> Result<(Task, TaskRun), ErrorObject> {
        if self.is_closing() {
            return Err(ErrorObject::internal("the server is shutting down: no task can start"));
        }
        let config = &self.0.config;
        let now = SystemTime::now();
        let task = Task {
            id: new_task_id(),
            owner,
            tool: tool.to_owned(),
            version,
            status: TaskStatus::Working,
            status_message: None,
            created_at: now,
            updated_at: now,
            ttl: ttl.unwrap_or(config.ttl).min(config.max_ttl).max(Duration::from_millis(1)),
            poll_interval: config.poll_interval,
            input_requests: Map::new(),
            outcome: None,
        };
        let limits = TaskLimits {
            max_live_per_owner: config.max_per_caller,
            max_live: config.max_running,
            max_stored: config.max_stored,
        };
        let recorder = match self.0.recorder.get() {
            Some(hook) => Some(hook().await?),
            None => None,
        };
        self.0.store.create(task.clone(), limits).await.map_err(|e| refusal(&e))?;
        let id: Arc<str> = Arc::from(task.id.as_str());
        let running = Running {
            cancel: self.0.closing.child_token(),
            inputs: Arc::new(TaskInputs::default()),
            changed: Arc::new(watch::channel(0).0),
            notifier,
            recorder: Arc::new(Mutex::new(recorder)),
        };
        let run = TaskRun {
            tasks: self.clone(),
            id: Arc::clone(&id),
            inputs: Arc::clone(&running.inputs),
            cancel: running.cancel.clone(),
            answered: Arc::new(std::sync::atomic::AtomicBool::new(false)),
        };
        self.running().insert(id, running);
        Ok((task, run))
    }

    /// Runs a task's future on the server's tracker: shutdown waits for it (`transport.shutdown_grace`),
    /// then cancels it.
    pub(crate) fn spawn(&self, future: impl Future<Output = ()> + Send + 'static) {
        self.0.tracker.spawn(future);
    }

    /// Forgets a task its call did not answer with: the tool ended, or asked for input, before the task
    /// was shown. No outcome record: the call's own record tells how it ended.
    pub(crate) async fn forget(&self, run: &TaskRun) {
        self.running().remove(&run.id);
        if let Err(e) = self.0.store.remove(&run.id).await {
            tracing::warn!(error = %e, "a task that was never shown could not be removed; it expires with its ttl");
        }
    }

    /// Ends a task (unless `tasks/cancel` ended it first), tells its waiters and its client, and records
    /// its outcome. Returns the task as it ended.
    pub(crate) async fn finish(
        &self,
        run: &TaskRun,
        status: TaskStatus,
        outcome: Option<TaskOutcome>,
        reason: Outcome,
        origin: Origin,
        started: Instant,
    ) -> Option<Task> {
        let change = TaskChange::Finish(status, outcome.clone());
        let stored = self.0.store.update(&run.id, change).await;
        let ended = stored.as_ref().ok().cloned().flatten();
        let running = self.running().remove(&run.id);
        if let (Some(task), Some(running)) = (&ended, &running) {
            running.changed.send_modify(|v| *v += 1);
            self.changed(&run.id);
            self.tell(running, task).await;
        }
        let recorder = running.and_then(|r| r.recorder.lock().unwrap_or_else(PoisonError::into_inner).take());
        if let Err(e) = &stored {
            tracing::warn!(error = %e, task = %run.id, "the task store failed as the task ended");
        }
        if let Some(recorder) = recorder {
            // The status the store kept wins: a task cancelled while its tool was returning stays cancelled.
            // A task the store no longer has (its ttl passed as it ended; the store failed) is recorded as
            // its runner saw it end: every task has its outcome record.
            let (status, outcome, reason) = match &ended {
                Some(task) if task.status != status => (task.status, task.outcome.clone(), reason_of(task.status)),
                _ => (status, outcome, reason),
            };
            let id = run.id.to_string();
            recorder(TaskEnded { id, status, outcome, origin, reason, latency: started.elapsed() }).await;
        }
        ended
    }

    /// Sends `notifications/tasks/status` to the client that created the task (2025-11-25), when it can
    /// hear it; a client that does not read is not waited for beyond a second.
    async fn tell(&self, running: &Running, task: &Task) {
        if let Some(notifier) = &running.notifier {
            let notification = wire::status_notification(task);
            let _ = tokio::time::timeout(Duration::from_secs(1), notifier.notify(notification)).await;
        }
    }

    /// The task `id` as `owner` may see it.
    ///
    /// # Errors
    /// −32602 for an id that is unknown, expired or another caller's (the same answer for each).
    pub async fn get(&self, owner: &str, id: &str) -> Result<Task, ErrorObject> {
        match self.0.store.get(id).await.map_err(|e| refusal(&e))? {
            Some(task) if task.owner == owner => Ok(self.with_inputs(task)),
            _ => Err(unknown(id)),
        }
    }

    /// A running task's requests to the client are held by its runner; the store has the keys too.
    fn with_inputs(&self, mut task: Task) -> Task {
        if task.status == TaskStatus::InputRequired
            && let Some(running) = self.running().get(task.id.as_str())
        {
            task.input_requests = running.inputs.requests();
        }
        task
    }

    /// One page of `owner`'s tasks (`tasks/list`): `cursor` is a previous page's `nextCursor`.
    ///
    /// # Errors
    /// −32603 when the store fails.
    pub async fn list(&self, owner: &str, cursor: Option<&str>) -> Result<TaskPage, ErrorObject> {
        self.0.store.list(owner, cursor, self.0.config.page_size).await.map_err(|e| refusal(&e))
    }

    /// Cancels `owner`'s task `id` (`tasks/cancel`): it reads `cancelled` at once and its tool is stopped at
    /// its next `.await`. Returns the task, and whether it was still live (a task that already ended is
    /// returned as it is: 2026-07-28 acknowledges that, 2025-11-25 refuses it).
    ///
    /// # Errors
    /// As [`Tasks::get`].
    pub async fn cancel(&self, owner: &str, id: &str) -> Result<(Task, bool), ErrorObject> {
        let task = self.get(owner, id).await?;
        if task.status.is_terminal() {
            return Ok((task, false));
        }
        let cancelled = self
            .0
            .store
            .update(id, TaskChange::Finish(TaskStatus::Cancelled, None))
            .await
            .map_err(|e| refusal(&e))?
            .ok_or_else(|| unknown(id))?;
        let running = self.running().get(id).cloned();
        if let Some(running) = running {
            running.cancel.cancel();
            running.changed.send_modify(|v| *v += 1);
        }
        self.changed(id);
        // The tool may have ended just before: then the store kept its status, and nothing was cancelled.
        let live = cancelled.status == TaskStatus::Cancelled;
        Ok((cancelled, live))
    }

    /// Answers `owner`'s task's requests to the client (2026-07-28 `tasks/update`).
    ///
    /// # Errors
    /// As [`Tasks::get`].
    pub(crate) async fn respond(
        &self,
        owner: &str,
        id: &str,
        responses: Map<String, Value>,
    ) -> Result<usize, ErrorObject> {
        self.get(owner, id).await?;
        let running = self.running().get(id).cloned();
        Ok(running.map_or(0, |r| r.inputs.respond(responses)))
    }

    /// What a waiter on `id` watches in this process: a change counter and the task's requests to the
    /// client. `None` when the task does not run here (it ended, or runs on another replica).
    pub(crate) fn watch(&self, id: &str) -> Option<(watch::Receiver<u64>, Arc<TaskInputs>)> {
        self.running().get(id).map(|r| (r.changed.subscribe(), Arc::clone(&r.inputs)))
    }

    /// Stops taking tasks, gives the running ones `grace` to finish, then cancels the rest and waits for
    /// their runners to record them `cancelled`.
    pub async fn shutdown(&self, grace: Duration) {
        self.0.tracker.close();
        if self.0.tracker.is_empty() {
            self.0.closing.cancel();
            return;
        }
        let running = self.running_count();
        tracing::info!(running, ?grace, "shutting down: waiting for running tasks");
        if tokio::time::timeout(grace, self.0.tracker.wait()).await.is_err() {
            tracing::warn!(running = self.running_count(), "shutdown grace elapsed: cancelling the running tasks");
        }
        self.0.closing.cancel();
        self.0.tracker.wait().await;
    }

    /// Whether shutdown began: no task is created any more.
    pub fn is_closing(&self) -> bool {
        self.0.closing.is_cancelled() || self.0.tracker.is_closed()
    }
}

impl TaskRun {
    /// The task's id.
    pub(crate) fn id(&self) -> &str {
        &self.id
    }

    /// Marks the task as shown to the client: from now on it is the only way the tool's result arrives.
    pub(crate) fn mark_answered(&self) {
        self.answered.store(true, std::sync::atomic::Ordering::Release);
    }

    /// Whether the client was answered with the task.
    pub(crate) fn is_answered(&self) -> bool {
        self.answered.load(std::sync::atomic::Ordering::Acquire)
    }

    /// Asks the client through the task: the task reads `input_required` until the answer comes (through
    /// `tasks/result` under 2025-11-25, `tasks/update` under 2026-07-28), or `timeout` passes.
    pub(crate) async fn request(
        &self,
        method: &'static str,
        params: Value,
        timeout: Duration,
    ) -> Result<Value, PeerError> {
        let (key, answer) = self.inputs.raise(method, params);
        self.inputs_changed().await;
        let answered = tokio::time::timeout(timeout, answer).await;
        self.inputs.settle(&key);
        self.inputs_changed().await;
        match answered {
            Ok(Ok(answer)) => answer,
            Ok(Err(_)) => Err(PeerError::Closed),
            Err(_) => Err(PeerError::Timeout(timeout)),
        }
    }

    async fn inputs_changed(&self) {
        let requests = self.inputs.requests();
        let updated = self.tasks.0.store.update(&self.id, TaskChange::Inputs(requests)).await.ok().flatten();
        let running = self.tasks.running().get(&*self.id).cloned();
        if let (Some(task), Some(running)) = (updated, running) {
            running.changed.send_modify(|v| *v += 1);
            self.tasks.changed(&self.id);
            self.tasks.tell(&running, &task).await;
        }
    }

    /// Sets the task's status message (what `tasks/get` shows).
    pub(crate) async fn message(&self, message: &str) {
        if let Ok(Some(_)) = self.tasks.0.store.update(&self.id, TaskChange::Message(message.to_owned())).await {
            self.tasks.changed(&self.id);
        }
    }
}

/// 128 bits from the operating system's CSPRNG, URL-safe base64 without padding (22 characters).
fn new_task_id() -> String {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).expect("the operating system's random source works");
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// The answer for an id the caller may not see: unknown, expired and another's read alike.
fn unknown(id: &str) -> ErrorObject {
    let shown: String = id.chars().take(64).collect();
    ErrorObject::invalid_params(format_args!("unknown task: {shown}"))
}

fn refusal(error: &StoreError) -> ErrorObject {
    match error {
        StoreError::Unavailable(_) => {
            tracing::warn!(error = %error, "task store unavailable");
            ErrorObject::internal("the task store is unavailable")
        }
        StoreError::BadCursor => ErrorObject::invalid_params(error),
        _ => ErrorObject::new(ErrorCode::RATE_LIMITED, error.to_string())
            .with_data(serde_json::json!({ "limit": "tasks" })),
    }
}

/// The corridor's word for how a task ended, when only its status is known.
fn reason_of(status: TaskStatus) -> Outcome {
    match status {
        TaskStatus::Completed => Outcome::Ok,
        TaskStatus::Failed => Outcome::Panic,
        TaskStatus::Cancelled | TaskStatus::Working | TaskStatus::InputRequired => Outcome::Cancelled,
    }
}

#[cfg(test)]
mod tests;
