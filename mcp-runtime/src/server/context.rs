//! [`Context`]: what a tool knows about the request it serves, and how it talks back while it runs.

use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::Deserialize;
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

use super::handle::ServerHandle;
use super::input::InputExchange;
use crate::protocol::method;
use crate::protocol::{LogLevel, OutgoingNotification, ProgressToken, ProtocolVersion, RequestId, meta};
use crate::request::{ClientInfo, LogGate, McpRequest, Notifier, PeerError, Principal};
use crate::tasks::TaskRun;

/// The request a tool is serving: ids, the client, progress, cancellation and logging to the client.
///
/// Take it as a parameter of a `#[mcp_tool]` function (`ctx: Context`); it is not part of the input schema.
/// Cloning is cheap.
#[derive(Clone)]
pub struct Context {
    inner: Arc<Inner>,
}

struct Inner {
    request_id: RequestId,
    tool: Arc<str>,
    version: ProtocolVersion,
    client: Arc<ClientInfo>,
    notifier: Notifier,
    progress_token: Option<ProgressToken>,
    last_progress: Mutex<Option<f64>>,
    cancel: CancellationToken,
    log: LogGate,
    inputs: Option<Arc<InputExchange>>,
    principal: Arc<Principal>,
    server: ServerHandle,
    task: Option<TaskRun>,
}

impl fmt::Debug for Context {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Context")
            .field("request_id", &self.inner.request_id)
            .field("tool", &self.inner.tool)
            .field("version", &self.inner.version)
            .finish_non_exhaustive()
    }
}

/// The parts of a request a [`Context`] is made of.
#[derive(Debug)]
pub(crate) struct ContextParts {
    pub(crate) request_id: RequestId,
    pub(crate) tool: Arc<str>,
    pub(crate) version: ProtocolVersion,
    pub(crate) client: Arc<ClientInfo>,
    pub(crate) notifier: Notifier,
    pub(crate) progress_token: Option<ProgressToken>,
    pub(crate) cancel: CancellationToken,
    pub(crate) log: LogGate,
    /// 2026-07-28 `tools/call`: where requests to the client are answered from `inputResponses`.
    pub(crate) inputs: Option<Arc<InputExchange>>,
    pub(crate) principal: Arc<Principal>,
    /// The server the request is served by.
    pub(crate) server: ServerHandle,
    /// The task the tool runs as, when the call made one.
    pub(crate) task: Option<TaskRun>,
}

impl Context {
    /// The context of the handler that serves `req`; `target` names the tool, resource or prompt, and
    /// `inputs` is the 2026-07-28 input exchange of a request that may ask the client for input
    /// ([`InputExchange::open`]). The one place a request becomes a handler's context.
    pub(crate) fn for_request(
        req: McpRequest,
        target: impl Into<Arc<str>>,
        server: &ServerHandle,
        inputs: Option<Arc<InputExchange>>,
    ) -> Self {
        Self::for_call(req, target, server, None, inputs)
    }

    /// The context of a tool run as `task`: its requests to the client go through the task, its
    /// cancellation is the task's, and its status messages are the task's.
    pub(crate) fn for_task(
        req: McpRequest,
        target: impl Into<Arc<str>>,
        server: &ServerHandle,
        task: TaskRun,
        inputs: Option<Arc<InputExchange>>,
    ) -> Self {
        Self::for_call(req, target, server, Some(task), inputs)
    }

    fn for_call(
        req: McpRequest,
        target: impl Into<Arc<str>>,
        server: &ServerHandle,
        task: Option<TaskRun>,
        inputs: Option<Arc<InputExchange>>,
    ) -> Self {
        let progress_token = req.meta.get(meta::PROGRESS_TOKEN).and_then(|t| ProgressToken::deserialize(t).ok());
        let cancel = task.as_ref().map_or(req.cancel, |t| t.cancel.clone());
        Self::new(ContextParts {
            request_id: req.id,
            tool: target.into(),
            version: req.version,
            client: req.client,
            notifier: req.notifier,
            progress_token,
            cancel,
            log: req.log,
            inputs,
            principal: req.principal,
            server: server.clone(),
            task,
        })
    }

    pub(crate) fn new(p: ContextParts) -> Self {
        Self {
            inner: Arc::new(Inner {
                request_id: p.request_id,
                tool: p.tool,
                version: p.version,
                client: p.client,
                notifier: p.notifier,
                progress_token: p.progress_token,
                last_progress: Mutex::new(None),
                cancel: p.cancel,
                log: p.log,
                inputs: p.inputs,
                principal: p.principal,
                server: p.server,
                task: p.task,
            }),
        }
    }

    /// The server serving this request: change what it serves (take a tool off during maintenance, add
    /// one a plugin brought) or say that a resource changed (`ctx.server().notify_resource_updated(uri)`).
    pub fn server(&self) -> &ServerHandle {
        &self.inner.server
    }

    /// The JSON-RPC id of the request.
    pub fn request_id(&self) -> &RequestId {
        &self.inner.request_id
    }

    /// The name of the tool being called.
    pub fn tool_name(&self) -> &str {
        &self.inner.tool
    }

    /// The protocol revision the request was made under.
    pub fn protocol_version(&self) -> ProtocolVersion {
        self.inner.version
    }

    /// Starts a task that belongs to this call's trace: its spans are children of the tool's span. (A plain
    /// `tokio::spawn` starts a task outside any trace.)
    pub fn spawn<F>(&self, task: F) -> tokio::task::JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        use tracing::Instrument;
        tokio::spawn(task.in_current_span())
    }

    /// Who is calling: the authenticated principal (its id, scopes and claims), or the anonymous principal
    /// when the server authenticates nobody.
    pub fn principal(&self) -> &Principal {
        &self.inner.principal
    }

    /// The client: its name, version and capabilities.
    pub fn client(&self) -> &ClientInfo {
        &self.inner.client
    }

    /// Whether the client asked for progress (`_meta.progressToken`).
    pub fn wants_progress(&self) -> bool {
        self.inner.progress_token.is_some()
    }

    /// Reports progress (`notifications/progress`) when the client asked for it. In a task, a `message`
    /// also becomes the task's status message, which `tasks/get` shows.
    ///
    /// Progress must increase with every report: a value not above the last one is dropped, as the
    /// specification requires.
    pub async fn progress(&self, progress: f64, total: Option<f64>, message: Option<&str>) {
        if let (Some(task), Some(message)) = (&self.inner.task, message) {
            task.message(message).await;
        }
        let Some(token) = &self.inner.progress_token else { return };
        {
            let mut last = self.inner.last_progress.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            if last.is_some_and(|l| progress <= l) || !progress.is_finite() {
                return;
            }
            *last = Some(progress);
        }
        let mut params = json!({ "progressToken": token, "progress": progress });
        if let Some(total) = total {
            params["total"] = json!(total);
        }
        if let Some(message) = message {
            params["message"] = json!(message);
        }
        self.inner.notifier.notify(OutgoingNotification::new(method::NOTIFICATION_PROGRESS, params)).await;
    }

    /// The id of the task this tool runs as, when the client called it as one.
    pub fn task_id(&self) -> Option<&str> {
        self.inner.task.as_ref().map(TaskRun::id)
    }

    /// Sets the status message of the task this tool runs as (what `tasks/get` shows the client polling
    /// it); outside a task, does nothing.
    pub async fn status(&self, message: &str) {
        if let Some(task) = &self.inner.task {
            task.message(message).await;
        }
    }

    /// Sends a log message to the client (`notifications/message`) when its level allows it: the level
    /// set with `logging/setLevel` in the handshake era (info by default), or the request's
    /// `io.modelcontextprotocol/logLevel` under 2026-07-28 (nothing without one). Never log secrets.
    pub async fn log(&self, level: LogLevel, data: impl Into<Value>) {
        if !self.inner.log.allows(level) {
            return;
        }
        let params = json!({ "level": level, "logger": &*self.inner.tool, "data": data.into() });
        self.inner.notifier.notify(OutgoingNotification::new(method::NOTIFICATION_MESSAGE, params)).await;
    }

    /// Shorthand for [`Context::log`] at info level.
    pub async fn info(&self, message: impl Into<Value>) {
        self.log(LogLevel::Info, message).await;
    }

    /// Whether the client cancelled the request (in a task: `tasks/cancel`, the task's ttl, or the server's
    /// shutdown). A cancelled handler's future is dropped at its next `.await`; check this only in code
    /// that must stop work it spawned elsewhere.
    pub fn is_cancelled(&self) -> bool {
        self.inner.cancel.is_cancelled()
    }

    /// A token cancelled when the client cancels the request, to hand to work the tool spawns.
    pub fn cancellation_token(&self) -> CancellationToken {
        self.inner.cancel.clone()
    }

    /// Asks the client's model for a completion (`sampling/createMessage`); `params` as the specification
    /// defines them (`messages`, `maxTokens`, …). Waits up to [`Context::PEER_TIMEOUT`].
    ///
    /// Under 2026-07-28 the client cannot be called back: the call is answered `input_required` with this
    /// request, and when the client calls again with its answer the tool runs again from the start and
    /// this call returns the answer (answers of earlier rounds travel in the sealed `requestState`, so a
    /// tool may ask over several rounds). Make the requests in the same order on every run, or name them
    /// with [`Context::ask`]. In a task (either era) the tool waits instead, the task reading
    /// `input_required` until the client answers. Under 2026-07-28, outside a task, a tool that fails
    /// after being refused a request for a capability the client did not declare is answered −32021
    /// (MissingRequiredClientCapability, HTTP 400) naming it; one that does without it is answered as usual.
    ///
    /// # Errors
    /// [`PeerError::Unsupported`] when the client did not declare `sampling`; see [`PeerError`].
    pub async fn create_message(&self, params: Value) -> Result<Value, PeerError> {
        self.peer_request(None, InputRequest::CreateMessage(params)).await
    }

    /// Asks the user for input through the client (`elicitation/create`); `params` as the specification
    /// defines them (`message`, `requestedSchema`, or URL mode). Waits up to [`Context::PEER_TIMEOUT`];
    /// under 2026-07-28 as [`Context::create_message`] says.
    ///
    /// # Errors
    /// [`PeerError::Unsupported`] when the client did not declare `elicitation`; see [`PeerError`].
    pub async fn elicit(&self, params: Value) -> Result<Value, PeerError> {
        self.peer_request(None, InputRequest::Elicit(params)).await
    }

    /// Asks the user for input before the work of a call made as a task begins: under 2026-07-28 the call
    /// is answered `input_required` with this request (no task is made), and the client calls again with
    /// the answer, when the tool runs again from the start and this returns the answer. Elsewhere (the
    /// handshake era, a call that is not a task, a task already shown to the client) the same as
    /// [`Context::elicit`]. Ask this way for what the work cannot start without.
    ///
    /// # Errors
    /// As [`Context::elicit`].
    pub async fn elicit_first(&self, params: Value) -> Result<Value, PeerError> {
        if let (Some(task), Some(inputs)) = (&self.inner.task, &self.inner.inputs)
            && !task.is_answered()
        {
            self.declared("elicitation")?;
            return Ok(inputs.request(None, method::ELICITATION_CREATE, params).await);
        }
        self.elicit(params).await
    }

    /// Asks the client for its roots (`roots/list`).
    ///
    /// # Errors
    /// [`PeerError::Unsupported`] when the client did not declare `roots`; see [`PeerError`].
    pub async fn list_roots(&self) -> Result<Value, PeerError> {
        self.peer_request(None, InputRequest::ListRoots).await
    }

    /// Asks the client for `request` under `key`, a name of the handler's choosing, unique within the
    /// request (`"user_name"`, `"confirm"`). Under 2026-07-28 the key is the request's key in
    /// `inputRequests` and the client answers under it in `inputResponses`; elsewhere the key is not sent
    /// and this is [`Context::create_message`], [`Context::elicit`] or [`Context::list_roots`]. Works in
    /// tools, prompts and resources alike (`input_required` is allowed on `tools/call`, `prompts/get` and
    /// `resources/read`). Several requests awaited together (`tokio::join!`) are asked in one round.
    ///
    /// ```no_run
    /// # use mcp_runtime::prelude::*;
    /// # use serde_json::json;
    /// # async fn f(ctx: Context) -> Result<(), mcp_runtime::request::PeerError> {
    /// let name = ctx
    ///     .ask("user_name", InputRequest::Elicit(json!({
    ///         "message": "What is your name?",
    ///         "requestedSchema": {"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]}
    ///     })))
    ///     .await?;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`PeerError::Unsupported`] when the client did not declare the capability the request needs (a
    /// server must not ask for it, SEP-2322; see [`Context::create_message`] for the −32021 it may lead to);
    /// see [`PeerError`].
    pub async fn ask(&self, key: &str, request: InputRequest) -> Result<Value, PeerError> {
        self.peer_request(Some(key), request).await
    }

    /// The value `step` gives, computed once across the rounds of a 2026-07-28 request that asks the client
    /// for input: the first round runs `step` and the value travels to the next rounds in the sealed
    /// `requestState`, so work done before a question is not done again after it. Elsewhere `step` simply
    /// runs. The value is encrypted in the state but reaches the client's memory: keep it small (the
    /// state is capped by `[request_state].max_bytes`).
    pub async fn remember<T, F>(&self, key: &str, step: F) -> T
    where
        T: serde::Serialize + serde::de::DeserializeOwned,
        F: std::future::Future<Output = T>,
    {
        let Some(inputs) = &self.inner.inputs else { return step.await };
        if let Some(value) = inputs.recall(key).and_then(|v| serde_json::from_value(v).ok()) {
            return value;
        }
        let value = step.await;
        if let Ok(kept) = serde_json::to_value(&value) {
            inputs.keep(key, kept);
        }
        value
    }

    /// Over Streamable HTTP, ends the SSE stream this request's messages travel on, telling the client to
    /// reconnect after `retry`; the request goes on, and its remaining messages (the answer included)
    /// reach the client when it resumes with `Last-Event-ID` (SEP-1699 polling, for long calls behind
    /// proxies that cut idle connections). Other transports ignore it.
    pub async fn close_stream(&self, retry: Duration) {
        self.inner.notifier.close_stream(retry).await;
    }

    /// How long a request to the client may wait for its answer.
    pub const PEER_TIMEOUT: Duration = Duration::from_secs(300);

    async fn peer_request(&self, key: Option<&str>, request: InputRequest) -> Result<Value, PeerError> {
        let (capability, method, params) = request.into_parts();
        if let Err(unsupported) = self.declared(capability) {
            // 2026-07-28 (not in a task): should the handler fail now, the request is answered −32021.
            if let (None, Some(inputs)) = (&self.inner.task, &self.inner.inputs) {
                inputs.refuse(capability);
            }
            return Err(unsupported);
        }
        // A task asks through itself: it reads `input_required` until the client answers.
        if let Some(task) = &self.inner.task {
            return task.request(method, params, Self::PEER_TIMEOUT).await;
        }
        if self.inner.version.is_stateless() {
            return match &self.inner.inputs {
                Some(inputs) => Ok(inputs.request(key, method, params).await),
                None => Err(PeerError::Unavailable(
                    "under 2026-07-28 only tools/call, prompts/get and resources/read can ask the client",
                )),
            };
        }
        self.inner.notifier.request(method, params, Self::PEER_TIMEOUT).await
    }

    /// `Ok` when the client declared `capability`, else [`PeerError::Unsupported`].
    fn declared(&self, capability: &'static str) -> Result<(), PeerError> {
        if self.inner.client.capabilities.contains_key(capability) {
            Ok(())
        } else {
            Err(PeerError::Unsupported(capability))
        }
    }
}

/// A request to the client, for [`Context::ask`].
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum InputRequest {
    /// `sampling/createMessage`, with its params (`messages`, `maxTokens`, …); needs the client's `sampling`.
    CreateMessage(Value),
    /// `elicitation/create`, with its params (`message`, `requestedSchema`, or URL mode); needs the
    /// client's `elicitation`.
    Elicit(Value),
    /// `roots/list`; needs the client's `roots`.
    ListRoots,
}

impl InputRequest {
    /// The capability it needs, its method and its params.
    fn into_parts(self) -> (&'static str, &'static str, Value) {
        match self {
            Self::CreateMessage(params) => ("sampling", method::SAMPLING_CREATE_MESSAGE, params),
            Self::Elicit(params) => ("elicitation", method::ELICITATION_CREATE, params),
            Self::ListRoots => ("roots", method::ROOTS_LIST, json!({})),
        }
    }
}
