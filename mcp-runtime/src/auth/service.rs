//! [`Authorize`]: the service [`AuthorizeLayer`](super::AuthorizeLayer) wraps around the rest of the corridor.

use std::convert::Infallible;
use std::task::{Context, Poll};

use futures_util::future::{Either, Ready, ready};
use serde_json::json;
use tower::Service;

use super::layer::{AuthorizeLayer, Required};
use crate::protocol::{ErrorCode, ErrorObject};
use crate::request::{McpRequest, McpResponse, Outcome};

/// Checks the principal's scopes against those of the tool, resource or prompt the request names, before
/// anything else runs.
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
        let catalog = self.layer.enforce.then(|| self.layer.app.glance());
        if let Some(catalog) = &catalog
            && let Some(required) = AuthorizeLayer::required(&request, catalog)
        {
            let missing = request.principal.missing_scopes(&required.scopes);
            if !missing.is_empty() {
                tracing::info!(principal = %request.principal.id, kind = required.kind, name = required.name, missing = ?missing, "request refused: insufficient scope");
                let error = forbidden(&required, &missing);
                return Either::Left(ready(Ok(McpResponse::error(error, Outcome::Forbidden))));
            }
        }
        Either::Right(self.inner.call(request))
    }
}

fn forbidden(required: &Required<'_>, missing: &[&str]) -> ErrorObject {
    let Required { kind, name, scopes } = required;
    let mut error = ErrorObject::new(
        ErrorCode::FORBIDDEN,
        format!("insufficient scope: {kind} `{name}` requires {}; missing {}", scopes.join(", "), missing.join(", ")),
    );
    error.data = Some(json!({
        "error": "insufficient_scope",
        "requiredScopes": scopes,
        "missingScopes": missing,
    }));
    error
}
