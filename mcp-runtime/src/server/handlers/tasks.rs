//! Tasks on the wire: whether a `tools/call` becomes a task, the task's run, and `tasks/get`,
//! `tasks/result`, `tasks/list`, `tasks/cancel` (2025-11-25) and `tasks/get`, `tasks/update`, `tasks/cancel`
//! (2026-07-28, the `io.modelcontextprotocol/tasks` extension).

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use serde_json::{Map, Value, json};
use tracing::Instrument;

use crate::protocol::{CallToolResult, ErrorCode, ErrorObject, ProtocolVersion, method};
use crate::request::{McpRequest, McpResponse, Outcome};
use crate::server::App;
use crate::server::ToolEntry;
use crate::server::context::Context;
use crate::server::execute::{Failure, guarded};
use crate::server::format::{Cache, answer, empty};
use crate::server::inject::{InvocationError, InvocationParts};
use crate::server::input::InputExchange;
use crate::server::tool::ToolInvocation;
use crate::tasks::{Origin, Task, TaskOutcome, TaskRun, TaskStatus, TaskSupport, Tasks, wire};

/// How a `tools/call` runs.
pub(crate) enum Mode {
    /// Answered when the tool returns.
    Now,
    /// As a task kept this long (`None`: `tasks.ttl`).
    Task(Option<Duration>),
}

/// Whether the client declared the 2026-07-28 tasks extension (with the session, or on this request).
pub(crate) fn declares_extension(req: &McpRequest) -> bool {
    req.client.capabilities.get("extensions").and_then(|e| e.get(wire::EXTENSION)).is_some()
}

/// −32021 (HTTP 400): `what` needs the tasks extension, which the client did not declare.
pub(crate) fn missing_extension(what: &str) -> ErrorObject {
    ErrorObject::new(
        ErrorCode::MISSING_CLIENT_CAPABILITY,
        format!("{what} needs the {} extension: declare it in the client capabilities", wire::EXTENSION),
    )
    .with_data(json!({ "requiredCapabilities": { "extensions": { wire::EXTENSION: {} } } }))
}

/// Decides how a `tools/call` of a tool with `support` runs, or refuses it:
/// - 2025-11-25: as a task when the call carries `params.task` (`{ttl?}`); a task call of a tool that
///   forbids it, or a plain call of one that requires it, is refused (−32601, as the specification says).
/// - 2026-07-28: the server decides: as a task when the tool allows one and the client declared the
///   extension; a tool that requires one, called by a client that did not, is refused (−32021).
/// - Older revisions know no tasks: a tool that requires one cannot be called.
pub(crate) fn mode(app: &App, req: &mut McpRequest, support: TaskSupport) -> Result<Mode, McpResponse> {
    let version = req.version;
    let asked = req.params.remove("task");
    if version.is_stateless() {
        return match support {
            TaskSupport::Forbidden => Ok(Mode::Now),
            _ if declares_extension(req) && app.offers_tasks(version) => Ok(Mode::Task(None)),
            TaskSupport::Optional => Ok(Mode::Now),
            TaskSupport::Required => Err(McpResponse::error(
                missing_extension("this tool, which runs only as a task,"),
                Outcome::InvalidRequest,
            )),
        };
    }
    let tasks = version >= ProtocolVersion::V2025_11_25 && app.offers_tasks(version);
    match (asked, support) {
        (Some(task), TaskSupport::Optional | TaskSupport::Required) if tasks => {
            requested_ttl(&task).map(Mode::Task).map_err(|e| McpResponse::error(e, Outcome::InvalidRequest))
        }
        (Some(_), _) if tasks => Err(McpResponse::error(
            ErrorObject::new(ErrorCode::METHOD_NOT_FOUND, "this tool does not run as a task (execution.taskSupport)"),
            Outcome::InvalidRequest,
        )),
        (_, TaskSupport::Required) => Err(McpResponse::error(
            ErrorObject::new(
                ErrorCode::METHOD_NOT_FOUND,
                "this tool runs only as a task: call it with `task` (protocol revision 2025-11-25 or later)",
            ),
            Outcome::InvalidRequest,
        )),
        _ => Ok(Mode::Now),
    }
}

/// The ttl a 2025-11-25 `params.task` asks for (`{"ttl": ms}`; `None`: none).
fn requested_ttl(task: &Value) -> Result<Option<Duration>, ErrorObject> {
    let Value::Object(task) = task else {
        return Err(ErrorObject::invalid_params("`task` must be an object (`{\"ttl\": ms}`)"));
    };
    match task.get("ttl") {
        None | Some(Value::Null) => Ok(None),
        Some(ttl) => ttl
            .as_u64()
            .map(|ms| Some(Duration::from_millis(ms)))
            .ok_or_else(|| ErrorObject::invalid_params("`task.ttl` must be a whole number of milliseconds")),
    }
}

/// Creates the task and starts the tool in it. Under 2025-11-25 the call is answered with the task at
/// once. Under 2026-07-28 the tool takes its first steps first, and the call is answered with its result
/// when it ends in them (the immediate-result shortcut), `input_required` when it asks for what it cannot
/// start without ([`Context::elicit_first`]), and with the task otherwise; in the first two cases no task
/// is left behind.
pub(crate) async fn start(
    app: &App,
    mut req: McpRequest,
    tool: &ToolEntry,
    arguments: Map<String, Value>,
    ttl: Option<Duration>,
    inputs: Option<Arc<InputExchange>>,
) -> McpResponse {
    let started = Instant::now();
    let name = tool.tool.name().to_owned();
    let version = req.version;
    let owner = Tasks::owner_of(&req.principal, req.session.as_ref());
    // What the tool says while it runs (progress, log messages, 2025-11-25 status notifications) goes where
    // the call came from when that outlives the answer: the connection (stdio), the session's stream
    // (legacy SSE). A Streamable HTTP POST stream ends with this answer: the task says nothing on it, so it
    // is not held open, and a client that stops reading it never slows the task.
    if !req.notifier.outlives_request() {
        req.notifier = crate::request::Notifier::discard();
    }
    let notifier = (!version.is_stateless() && req.notifier.outlives_request()).then(|| req.notifier.clone());
    let (task, run) = match app.tasks().create(owner, &name, version, ttl, notifier).await {
        Ok(created) => created,
        Err(error) => {
            // A cap, or a full audit queue that could not take the task's outcome record: refused as a limit.
            let outcome =
                if error.code == ErrorCode::RATE_LIMITED { Outcome::RateLimited } else { Outcome::InvalidRequest };
            return McpResponse::error(error, outcome);
        }
    };
    let origin = Origin {
        at: SystemTime::now() - started.elapsed(),
        request_id: req.id.clone(),
        trace: crate::telemetry::ids(&tracing::Span::current()),
        principal: Arc::clone(&req.principal),
        transport: req.transport,
        version,
        source: req.source,
        client: Arc::clone(&req.client),
        tool: name.clone(),
    };
    if version.is_stateless() {
        // 2026-07-28 has no progress notifications for tasks.
        req.meta.remove(crate::protocol::meta::PROGRESS_TOKEN);
    }
    let context =
        Context::for_task(req, Arc::clone(tool.tool.shared_name()), app.handle(), run.clone(), inputs.clone());
    let invocation = ToolInvocation {
        tool: Arc::clone(tool.tool.shared_name()),
        arguments,
        parts: InvocationParts::new(context, app.state().clone()),
    };
    // The task's span starts a trace of its own (the request's ends with the answer) and links to the
    // request's: a trace viewer goes from the call to its task.
    let span = tracing::info_span!(parent: None, "mcp.task", gen_ai.tool.name = %name, mcp.task.id = %run.id());
    span.follows_from(tracing::Span::current());
    let budget = task.ttl.saturating_sub(started.elapsed());
    let handler = tool.tool.call(invocation);
    let tool_name = name.clone();
    let mut running = Box::pin(async move { guarded("tool", &tool_name, budget, handler).await }.instrument(span));
    if let Some(inputs) = inputs {
        match futures_util::poll!(running.as_mut()) {
            std::task::Poll::Ready(ran) => {
                app.tasks().forget(&run).await;
                return match super::tools::settle(&name, ran, budget) {
                    Ok((result, outcome)) => app.format().tool_response(version, result, tool.wrap_output, outcome),
                    Err((error, outcome)) => McpResponse::error(error, outcome),
                };
            }
            std::task::Poll::Pending => {
                let needed = inputs.needed();
                if !needed.is_empty() {
                    app.tasks().forget(&run).await;
                    return inputs.answer(app, needed);
                }
            }
        }
    }
    run.mark_answered();
    let runner = run_task(app.clone(), tool.clone(), running, run, origin, started, budget);
    app.tasks().spawn(runner);
    created(app, version, &task)
}

/// Runs the tool to the task's end: its result, a failure, cancellation, or its ttl.
async fn run_task(
    app: App,
    tool: ToolEntry,
    running: impl Future<Output = Result<Result<CallToolResult, InvocationError>, Failure>>,
    run: TaskRun,
    origin: Origin,
    started: Instant,
    budget: Duration,
) {
    let name = tool.tool.name().to_owned();
    let ran = tokio::select! {
        ran = running => Some(ran),
        () = run.cancel.cancelled() => None,
    };
    let version = origin.version;
    // A 2026-07-28 task's result is inlined by `tasks/get` without the envelope of a response.
    let shape = if version.is_stateless() { ProtocolVersion::LATEST_HANDSHAKE } else { version };
    let (status, outcome, reason) = match ran.map(|ran| super::tools::settle(&name, ran, budget)) {
        None => (TaskStatus::Cancelled, None, Outcome::Cancelled),
        Some(Ok((result, reason))) => {
            // A tool error is `failed` under 2025-11-25, `completed` (with `isError`) under 2026-07-28.
            let status =
                if result.is_error && !version.is_stateless() { TaskStatus::Failed } else { TaskStatus::Completed };
            let response = app.format().tool_response(shape, result, tool.wrap_output, reason);
            let value = response.body.ok().and_then(|raw| serde_json::from_str::<Value>(raw.get()).ok());
            (status, value.map(TaskOutcome::ToolResult), reason)
        }
        Some(Err((error, reason))) => (TaskStatus::Failed, Some(TaskOutcome::RpcError(error)), reason),
    };
    app.tasks().finish(&run, status, outcome, reason, origin, started).await;
}

/// The answer to the call that created `task`.
fn created(app: &App, version: ProtocolVersion, task: &Task) -> McpResponse {
    let body = if version.is_stateless() {
        app.format().task_created(&wire::task_2026(task, false))
    } else {
        crate::protocol::jsonrpc::to_raw(&wire::created_2025(task))
    };
    McpResponse { body, outcome: Outcome::Ok }
}

/// Answers `tasks/*`: what each era has, to a client that was offered tasks (2026-07-28: one that
/// declares the extension, else −32021); −32601 otherwise.
pub(crate) async fn handle(app: &App, req: McpRequest) -> McpResponse {
    let version = req.version;
    let stateless = version.is_stateless();
    let method = req.method.as_str();
    let known = match method {
        method::TASKS_GET | method::TASKS_CANCEL => true,
        method::TASKS_RESULT | method::TASKS_LIST => !stateless,
        method::TASKS_UPDATE => stateless,
        _ => false,
    };
    if !known || !app.offers_tasks(version) {
        return McpResponse::error(ErrorObject::method_not_found(method), Outcome::InvalidRequest);
    }
    if stateless && !declares_extension(&req) {
        return McpResponse::error(missing_extension(method), Outcome::InvalidRequest);
    }
    let owner = Tasks::owner_of(&req.principal, req.session.as_ref());
    if method == method::TASKS_LIST {
        let cursor = req.params.get("cursor").and_then(Value::as_str);
        return answer(list(app, &owner, cursor, version).await);
    }
    let Some(id) = req.params.get("taskId").and_then(Value::as_str).map(str::to_owned) else {
        return McpResponse::error(
            ErrorObject::invalid_params(format_args!("{method} needs a `taskId`")),
            Outcome::InvalidRequest,
        );
    };
    let tasks = app.tasks();
    let answered = match method {
        method::TASKS_GET => tasks.get(&owner, &id).await.and_then(|task| shown(app, version, &task)),
        method::TASKS_CANCEL => match tasks.cancel(&owner, &id).await {
            // 2026-07-28 acknowledges a cancel, whatever the task's state (idempotent).
            Ok(_) if stateless => app.format().finish(version, &empty(), Cache::No),
            Ok((task, true)) => shown(app, version, &task),
            // 2025-11-25 refuses to cancel a task that ended.
            Ok((task, false)) => Err(ErrorObject::invalid_params(format_args!(
                "cannot cancel task {id}: it is already {}",
                task.status.as_str()
            ))),
            Err(e) => Err(e),
        },
        method::TASKS_UPDATE => update(app, &req, &owner, &id).await,
        _ => return result(app, req, &owner, &id).await,
    };
    answer(answered)
}

/// A task as `tasks/get` (and 2025-11-25 `tasks/cancel`) show it.
fn shown(app: &App, version: ProtocolVersion, task: &Task) -> Result<Box<serde_json::value::RawValue>, ErrorObject> {
    if version.is_stateless() {
        app.format().finish(version, &wire::task_2026(task, true), Cache::No)
    } else {
        crate::protocol::jsonrpc::to_raw(&wire::task_2025(task))
    }
}

async fn list(
    app: &App,
    owner: &str,
    cursor: Option<&str>,
    version: ProtocolVersion,
) -> Result<Box<serde_json::value::RawValue>, ErrorObject> {
    let page = app.tasks().list(owner, cursor).await?;
    let tasks: Vec<Value> = page.tasks.iter().map(|t| Value::Object(wire::task_2025(t))).collect();
    let mut body = Map::from_iter([("tasks".to_owned(), Value::Array(tasks))]);
    if let Some(next) = page.next {
        body.insert("nextCursor".into(), json!(next));
    }
    app.format().finish(version, &body, Cache::No)
}

/// 2026-07-28 `tasks/update`: the client's answers to the task's requests (`inputResponses`).
async fn update(
    app: &App,
    req: &McpRequest,
    owner: &str,
    id: &str,
) -> Result<Box<serde_json::value::RawValue>, ErrorObject> {
    let Some(Value::Object(responses)) = req.params.get("inputResponses") else {
        return Err(ErrorObject::invalid_params("tasks/update needs `inputResponses`, an object keyed by request"));
    };
    app.tasks().respond(owner, id, responses.clone()).await?;
    app.format().finish(req.version, &empty(), Cache::No)
}

/// 2025-11-25 `tasks/result`: waits until the task ended, carrying its requests to the client on this
/// request's stream meanwhile, then answers what the call would have, tied to the task by `_meta`.
async fn result(app: &App, req: McpRequest, owner: &str, id: &str) -> McpResponse {
    let tasks = app.tasks();
    loop {
        let task = match tasks.get(owner, id).await {
            Ok(task) => task,
            Err(e) => return McpResponse::error(e, Outcome::InvalidRequest),
        };
        if task.status.is_terminal() {
            return ended(&task);
        }
        let poll = tokio::time::sleep(task.poll_interval);
        match tasks.watch(id) {
            Some((mut changed, inputs)) => {
                for forward in inputs.take_unforwarded() {
                    let notifier = req.notifier.clone();
                    let mut params = forward.params;
                    wire::tag_related(&mut params, id);
                    tokio::spawn(async move {
                        let answer = notifier.request(forward.method, params, Context::PEER_TIMEOUT).await;
                        let _ = forward.answer.send(answer);
                    });
                }
                tokio::select! {
                    _ = changed.changed() => {}
                    () = poll => {}
                    () = req.cancel.cancelled() => return McpResponse::error(ErrorObject::internal("cancelled"), Outcome::Cancelled),
                }
            }
            None => tokio::select! {
                () = poll => {}
                () = req.cancel.cancelled() => return McpResponse::error(ErrorObject::internal("cancelled"), Outcome::Cancelled),
            },
        }
    }
}

/// What `tasks/result` answers for an ended task: its result, or the error the call would have had.
fn ended(task: &Task) -> McpResponse {
    match &task.outcome {
        Some(TaskOutcome::ToolResult(result)) => {
            let mut result = result.clone();
            wire::tag_related(&mut result, &task.id);
            McpResponse { body: crate::protocol::jsonrpc::to_raw(&result), outcome: Outcome::Ok }
        }
        Some(TaskOutcome::RpcError(error)) => McpResponse::error(error.clone(), Outcome::Ok),
        None => McpResponse::error(
            ErrorObject::invalid_params(format_args!(
                "task {} was {}: it has no result",
                task.id,
                task.status.as_str()
            )),
            Outcome::InvalidRequest,
        ),
    }
}
