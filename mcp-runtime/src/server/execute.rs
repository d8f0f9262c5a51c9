//! The corridor's *execute* step: run one handler (a tool call, a resource read, a prompt, a completion)
//! under its timeout, isolated from panics, and dropped when the client cancels.

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::time::Duration;

use futures_util::FutureExt;

use super::inject::InvocationError;
use crate::protocol::ErrorObject;
use crate::request::{McpResponse, Outcome};

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

/// How a request ended whose handler could not be invoked.
pub(crate) fn outcome_of_invocation(error: &InvocationError) -> Outcome {
    match error {
        InvocationError::InvalidArguments(_) => Outcome::InvalidArguments,
        InvocationError::MissingState(_) => Outcome::Panic,
    }
}

/// How a request ended whose handler gave no output.
pub(crate) fn outcome_of_failure(failure: Failure) -> Outcome {
    match failure {
        Failure::Panicked => Outcome::Panic,
        Failure::TimedOut => Outcome::Timeout,
    }
}
