//! The corridor's *execute* step: run one tool call with its timeout, isolated from panics, and dropped
//! when the client cancels.

use std::panic::AssertUnwindSafe;

use futures_util::FutureExt;
use serde::Deserialize;
use serde_json::Value;

use super::builder::App;
use super::context::{Context, ContextParts};
use super::request::{McpRequest, McpResponse, Outcome};
use super::tool::{InvocationError, ToolInvocation};
use crate::protocol::{CallToolResult, ErrorObject, ProgressToken, meta};

/// The −32602 answer for a `tools/call` naming no known tool.
pub fn unknown_tool(name: &str) -> McpResponse {
    McpResponse::error(ErrorObject::invalid_params(format_args!("unknown tool: {name}")), Outcome::UnknownTool)
}

impl App {
    /// Runs a `tools/call` request to its answer.
    pub(crate) async fn call_tool(&self, req: McpRequest) -> McpResponse {
        let McpRequest { id, mut params, meta, version, client, notifier, cancel, log, .. } = req;
        let Some(Value::String(name)) = params.remove("name") else {
            let error = ErrorObject::invalid_params("tools/call needs a tool `name`");
            return McpResponse::error(error, Outcome::ProtocolError);
        };
        let arguments = match params.remove("arguments") {
            None | Some(Value::Null) => serde_json::Map::new(),
            Some(Value::Object(args)) => args,
            Some(_) => {
                return McpResponse::error(
                    ErrorObject::invalid_params("tools/call `arguments` must be an object"),
                    Outcome::ProtocolError,
                );
            }
        };
        let Some(tool) = self.registry().get(&name) else { return unknown_tool(&name) };
        let progress_token = meta.get(meta::PROGRESS_TOKEN).and_then(|t| ProgressToken::deserialize(t).ok());
        let context = Context::new(ContextParts {
            request_id: id,
            tool: tool.spec.name,
            version,
            client,
            notifier,
            progress_token,
            cancel,
            log,
        });
        let invocation = ToolInvocation { tool: tool.spec.name, arguments, context, state: self.state().clone() };
        let run = AssertUnwindSafe((tool.spec.handler)(invocation)).catch_unwind();
        let (result, outcome) = match tokio::time::timeout(tool.timeout, run).await {
            Ok(Ok(Ok(result))) => {
                let outcome = if result.is_error { Outcome::ToolError } else { Outcome::Ok };
                (result, outcome)
            }
            Ok(Ok(Err(InvocationError::InvalidArguments(reason)))) => (
                CallToolResult::error(format!("invalid arguments for tool `{name}`: {reason}")),
                Outcome::InvalidArguments,
            ),
            Ok(Ok(Err(e @ InvocationError::MissingState(_)))) => {
                tracing::error!(tool = %name, error = %e, "tool could not be invoked");
                return McpResponse::error(
                    ErrorObject::internal(format_args!("tool `{name}` is misconfigured")),
                    Outcome::Panic,
                );
            }
            Ok(Err(panic)) => {
                let message = panic
                    .downcast_ref::<&str>()
                    .map(|s| (*s).to_owned())
                    .or_else(|| panic.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "a non-string panic payload".to_owned());
                tracing::error!(tool = %name, panic = %message, "tool panicked; the server keeps serving");
                return McpResponse::error(
                    ErrorObject::internal(format_args!("tool `{name}` failed unexpectedly")),
                    Outcome::Panic,
                );
            }
            Err(_elapsed) => {
                tracing::warn!(tool = %name, timeout = ?tool.timeout, "tool timed out");
                (CallToolResult::error(format!("tool `{name}` timed out after {:?}", tool.timeout)), Outcome::Timeout)
            }
        };
        self.tool_response(version, result, tool.wrap_output, outcome)
    }
}
