//! The corridor's *execute* step: run one handler (a tool call, a resource read, a prompt, a completion)
//! under its timeout, isolated from panics, and dropped when the client cancels.

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::time::Duration;
use tracing::Instrument;

use futures_util::FutureExt;
use serde_json::Value;

use super::builder::App;
use super::context::Context;
use super::inject::{InvocationError, InvocationParts};
use super::tool::ToolInvocation;
use crate::protocol::{CallToolResult, ErrorObject};
use crate::request::{McpRequest, McpResponse, Outcome};

/// The −32602 answer for a `tools/call` naming no known tool.
pub fn unknown_tool(name: &str) -> McpResponse {
    McpResponse::error(ErrorObject::invalid_params(format_args!("unknown tool: {name}")), Outcome::UnknownTool)
}

/// Why a handler gave no output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Failure {
    /// It panicked (the message went to the server's log only).
    Panicked,
    /// It ran past its timeout and was dropped.
    TimedOut,
}

/// Runs a handler's future under `timeout`, catching a panic. `kind` and `name` (`"tool"`, `lookup_stock`)
/// are for the log, where a panic's message goes; it is never sent to the client.
pub(crate) async fn guarded<F: Future>(
    kind: &'static str,
    name: &str,
    timeout: Duration,
    handler: F,
) -> Result<F::Output, Failure> {
    match tokio::time::timeout(timeout, AssertUnwindSafe(handler).catch_unwind()).await {
        Ok(Ok(output)) => Ok(output),
        Ok(Err(panic)) => {
            let message = panic
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "a non-string panic payload".to_owned());
            tracing::error!(kind, name, panic = %message, "handler panicked; the server keeps serving");
            Err(Failure::Panicked)
        }
        Err(_elapsed) => {
            tracing::warn!(kind, name, ?timeout, "handler timed out");
            Err(Failure::TimedOut)
        }
    }
}

/// The −32603 answer for a resource, prompt or completion handler that gave no output. No internals.
pub(crate) fn failed(kind: &'static str, name: &str, failure: Failure) -> ErrorObject {
    match failure {
        Failure::Panicked => ErrorObject::internal(format_args!("{kind} `{name}` failed unexpectedly")),
        Failure::TimedOut => ErrorObject::internal(format_args!("{kind} `{name}` timed out")),
    }
}

/// The answer for a handler that could not be invoked: a missing argument is the client's to fix
/// (−32602); missing state is the server's (logged, −32603 without details).
pub(crate) fn not_invoked(kind: &'static str, name: &str, error: InvocationError) -> ErrorObject {
    match error {
        InvocationError::InvalidArguments(reason) => {
            ErrorObject::invalid_params(format_args!("{kind} `{name}`: {reason}"))
        }
        e @ InvocationError::MissingState(_) => {
            tracing::error!(kind, name, error = %e, "handler could not be invoked");
            ErrorObject::internal(format_args!("{kind} `{name}` is misconfigured"))
        }
    }
}

impl Outcome {
    pub(crate) fn of_invocation(error: &InvocationError) -> Self {
        match error {
            InvocationError::InvalidArguments(_) => Self::InvalidArguments,
            InvocationError::MissingState(_) => Self::Panic,
        }
    }

    pub(crate) fn of_failure(failure: Failure) -> Self {
        match failure {
            Failure::Panicked => Self::Panic,
            Failure::TimedOut => Self::Timeout,
        }
    }
}

impl App {
    /// The timeout of resource reads, prompts and completions: `tools.default_timeout`.
    pub(crate) fn handler_timeout(&self) -> Duration {
        self.tools_config().default_timeout
    }

    /// Runs a `tools/call` request to its answer.
    pub(crate) async fn call_tool(&self, mut req: McpRequest) -> McpResponse {
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
        let Some(tool) = self.registry().get(&name) else { return unknown_tool(&name) };
        let version = req.version;
        let context = Context::for_request(req, tool.spec.name);
        let inputs = context.input_exchange();
        let parts = InvocationParts::new(context, self.state().clone());
        let invocation = ToolInvocation { tool: tool.spec.name, arguments, parts };
        // The tool's own spans, and the tasks it starts with Context::spawn, are children of this one.
        let span = tracing::info_span!("mcp.tool", gen_ai.tool.name = tool.spec.name);
        let run = guarded("tool", &name, tool.timeout, (tool.spec.handler)(invocation)).instrument(span);
        let ran = match inputs {
            None => run.await,
            // 2026-07-28: a request to the client ends this attempt (the tool's future is dropped).
            Some(inputs) => tokio::select! {
                ran = run => ran,
                needed = inputs.input_required() => return self.input_required(needed),
            },
        };
        let (result, outcome) = match ran {
            Ok(Ok(result)) => {
                let outcome = if result.is_error { Outcome::ToolError } else { Outcome::Ok };
                (result, outcome)
            }
            Ok(Err(InvocationError::InvalidArguments(reason))) => (
                CallToolResult::error(format!("invalid arguments for tool `{name}`: {reason}")),
                Outcome::InvalidArguments,
            ),
            Ok(Err(e @ InvocationError::MissingState(_))) => {
                return McpResponse::error(not_invoked("tool", &name, e), Outcome::Panic);
            }
            Err(Failure::Panicked) => {
                return McpResponse::error(failed("tool", &name, Failure::Panicked), Outcome::Panic);
            }
            Err(Failure::TimedOut) => {
                (CallToolResult::error(format!("tool `{name}` timed out after {:?}", tool.timeout)), Outcome::Timeout)
            }
        };
        self.tool_response(version, result, tool.wrap_output, outcome)
    }
}
