//! `tools/call`: the named tool's handler run under its timeout, its result formatted for the revision; or,
//! for a call made as a task, the task (`super::tasks`).

use std::time::Duration;

use serde_json::Value;
use tracing::Instrument;

use super::tasks::{self, Mode};
use crate::protocol::{CallToolResult, ErrorObject};
use crate::request::{McpRequest, McpResponse, Outcome};
use crate::server::App;
use crate::server::context::Context;
use crate::server::execute::{Failure, failed, guarded, not_invoked, unknown_tool};
use crate::server::inject::{InvocationError, InvocationParts};
use crate::server::input::{InputExchange, attempt};
use crate::server::tool::ToolInvocation;

/// Runs a `tools/call` request to its answer.
pub(crate) async fn call(app: &App, mut req: McpRequest) -> McpResponse {
    let Some(Value::String(name)) = req.params.remove("name") else {
        let error = ErrorObject::invalid_params("tools/call needs a tool `name`");
        return McpResponse::error(error, Outcome::InvalidRequest);
    };
    let arguments = match req.params.remove("arguments") {
        None | Some(Value::Null) => serde_json::Map::new(),
        Some(Value::Object(args)) => args,
        Some(_) => {
            return McpResponse::error(
                ErrorObject::invalid_params("tools/call `arguments` must be an object"),
                Outcome::InvalidRequest,
            );
        }
    };
    let catalog = app.catalog();
    let Some(tool) = catalog.tools().get(&name) else { return unknown_tool(&name) };
    let inputs = match InputExchange::open(app, &mut req, &name, Some(&arguments)) {
        Ok(inputs) => inputs,
        Err(error) => return McpResponse::error(error, Outcome::InvalidRequest),
    };
    match tasks::mode(app, &mut req, tool.tool.task_support()) {
        Ok(Mode::Now) => {}
        Ok(Mode::Task(ttl)) => return tasks::start(app, req, tool, arguments, ttl, inputs).await,
        Err(refused) => return refused,
    }
    let timeout = tool.timeout(app.handler_timeout());
    let version = req.version;
    let context =
        Context::for_request(req, std::sync::Arc::clone(tool.tool.shared_name()), app.handle(), inputs.clone());
    let parts = InvocationParts::new(context, app.state().clone());
    let invocation = ToolInvocation { tool: std::sync::Arc::clone(tool.tool.shared_name()), arguments, parts };
    // The tool's own spans, and the tasks it starts with Context::spawn, are children of this one.
    let span = tracing::info_span!("mcp.tool", gen_ai.tool.name = tool.tool.name());
    let run = guarded("tool", &name, timeout, tool.tool.call(invocation)).instrument(span);
    // 2026-07-28: a request to the client ends this attempt (the tool's future is dropped).
    let ran = match attempt(app, inputs.as_deref(), run).await {
        Ok(ran) => ran,
        Err(input_required) => return input_required,
    };
    match settle(&name, ran, timeout) {
        Ok((result, outcome)) => app.format().tool_response(version, result, tool.wrap_output, outcome),
        Err((error, outcome)) => McpResponse::error(error, outcome),
    }
}

/// What a tool's run comes to: the result to answer with (a tool error, invalid arguments and a timeout
/// are results with `isError`), or the JSON-RPC error when the tool gave none; and how the call ended.
pub(crate) fn settle(
    name: &str,
    ran: Result<Result<CallToolResult, InvocationError>, Failure>,
    timeout: Duration,
) -> Result<(CallToolResult, Outcome), (ErrorObject, Outcome)> {
    match ran {
        Ok(Ok(result)) => {
            let outcome = if result.is_error { Outcome::ToolError } else { Outcome::Ok };
            Ok((result, outcome))
        }
        Ok(Err(InvocationError::InvalidArguments(reason))) => Ok((
            CallToolResult::error(format!("invalid arguments for tool `{name}`: {reason}")),
            Outcome::InvalidArguments,
        )),
        Ok(Err(e @ InvocationError::MissingState(_))) => Err((not_invoked("tool", name, e), Outcome::Panic)),
        Err(Failure::Panicked) => Err((failed("tool", name, Failure::Panicked), Outcome::Panic)),
        Err(Failure::TimedOut) => {
            Ok((CallToolResult::error(format!("tool `{name}` timed out after {timeout:?}")), Outcome::Timeout))
        }
    }
}
