//! [`Authorize`]: the service [`AuthorizeLayer`](super::AuthorizeLayer) wraps around the rest of the corridor.

use std::convert::Infallible;
use std::task::{Context, Poll};

use futures_util::future::{Either, Ready, ready};
use serde_json::json;
use tower::Service;

use super::layer::AuthorizeLayer;
use crate::protocol::{ErrorCode, ErrorObject};
use crate::server::{McpRequest, McpResponse, Outcome};

/// Checks the principal's scopes against the called tool's before anything else runs.
#[derive(Debug, Clone)]
pub struct Authorize<S> {
    pub(crate) inner: S,
    pub(crate) layer: AuthorizeLayer,
}

impl<S> Service<McpRequest> for Authorize<S>
where
    S: Service<McpRequest, Response = McpResponse, Error = Infallible>,
{
    type Response = McpResponse;
    type Error = Infallible;
    type Future = Either<Ready<Result<McpResponse, Infallible>>, S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: McpRequest) -> Self::Future {
        let _span = self.layer.enforce.then(|| tracing::debug_span!("mcp.authorize").entered());
        if self.layer.enforce
            && let Some(tool) = request.tool_name()
            && let Some(required) = self.layer.scopes.get(tool)
        {
            let missing = request.principal.missing_scopes(required);
            if !missing.is_empty() {
                tracing::info!(principal = %request.principal.id, tool, missing = ?missing, "tool call refused: insufficient scope");
                return Either::Left(ready(Ok(McpResponse::error(
                    forbidden(tool, required, &missing),
                    Outcome::Forbidden,
                ))));
            }
        }
        Either::Right(self.inner.call(request))
    }
}

fn forbidden(tool: &str, required: &[&str], missing: &[&str]) -> ErrorObject {
    let mut error = ErrorObject::new(
        ErrorCode::FORBIDDEN,
        format!("insufficient scope: tool `{tool}` requires {}; missing {}", required.join(", "), missing.join(", ")),
    );
    error.data = Some(json!({
        "error": "insufficient_scope",
        "requiredScopes": required,
        "missingScopes": missing,
    }));
    error
}
