use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use serde_json::Value;
use tower::Service;

use super::violations;
use crate::protocol::CallToolResult;
use crate::request::{McpRequest, McpResponse, Outcome};
use crate::server::{App, unknown_tool};

/// Validates `tools/call` arguments before calling the inner service; other methods pass through.
#[derive(Debug, Clone)]
pub struct Validate<S> {
    inner: S,
    app: App,
}

impl<S> Validate<S> {
    pub(crate) fn new(inner: S, app: App) -> Self {
        Self { inner, app }
    }

    /// The wrapped service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// The wrapped service, mutably.
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.inner
    }

    /// Unwraps the inner service.
    pub fn into_inner(self) -> S {
        self.inner
    }

    /// `Some(answer)` when the request must not reach the handler.
    fn check(&self, req: &McpRequest) -> Option<McpResponse> {
        let name = req.tool_name()?;
        let catalog = self.app.glance();
        let Some(tool) = catalog.tools().get(name) else { return Some(unknown_tool(name)) };
        let validator = &tool.validator;
        let empty = Value::Object(serde_json::Map::new());
        let arguments = match req.params.get("arguments") {
            None | Some(Value::Null) => &empty,
            Some(args) => args,
        };
        if !arguments.is_object() {
            return None; // malformed params: the router answers −32602
        }
        let report = violations(validator, arguments)?;
        let result = CallToolResult::error(format!("invalid arguments for tool `{name}`:{report}"));
        Some(self.app.format().tool_response(req.version, result, false, Outcome::InvalidArguments))
    }
}

type BoxFuture<T> = Pin<Box<dyn Future<Output = Result<T, Infallible>> + Send>>;

impl<S> Service<McpRequest> for Validate<S>
where
    S: Service<McpRequest, Response = McpResponse, Error = Infallible>,
    S::Future: Send + 'static,
{
    type Response = McpResponse;
    type Error = Infallible;
    type Future = BoxFuture<McpResponse>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: McpRequest) -> Self::Future {
        let checked = tracing::debug_span!("mcp.validate").in_scope(|| self.check(&req));
        match checked {
            Some(rejection) => Box::pin(std::future::ready(Ok(rejection))),
            None => Box::pin(self.inner.call(req)),
        }
    }
}
