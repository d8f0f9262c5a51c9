//! [`Trace`]: the service [`TraceLayer`](super::TraceLayer) wraps around the corridor.

use std::convert::Infallible;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use futures_util::future::BoxFuture;
use tower::Service;
use tracing::Instrument;
use tracing::field::Empty;

use super::layer::TraceLayer;
use crate::protocol::ErrorCode;
use crate::request::{McpRequest, McpResponse, Outcome};

/// Runs each request inside its span, and marks the span with the outcome.
#[derive(Debug, Clone)]
pub struct Trace<S> {
    pub(crate) inner: S,
    pub(crate) layer: TraceLayer,
}

impl<S> Service<McpRequest> for Trace<S>
where
    S: Service<McpRequest, Response = McpResponse, Error = Infallible>,
    S::Future: Send + 'static,
{
    type Response = McpResponse;
    type Error = Infallible;
    type Future = BoxFuture<'static, Result<McpResponse, Infallible>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: McpRequest) -> Self::Future {
        // Field values are formatted only when a subscriber takes the span: nothing is allocated here for them.
        let tool = request.tool_name();
        let span = tracing::info_span!(
            "mcp.request",
            otel.name = %format_args!("{}{}{}", request.method, if tool.is_some() { " " } else { "" }, tool.unwrap_or_default()),
            otel.kind = "server",
            mcp.method.name = %request.method,
            mcp.protocol.version = request.version.as_str(),
            jsonrpc.request.id = %request.id,
            gen_ai.tool.name = tool.unwrap_or_default(),
            mcp.session.id = request.session.as_ref().and_then(|s| s.id()),
            client.address = request.source.map(tracing::field::display),
            otel.status_code = Empty,
            error.type = Empty,
        );
        if self.layer.trust_incoming {
            super::continue_trace(&span, &request.meta);
        }
        let observed =
            self.layer.metrics.as_ref().map(|m| (Arc::clone(m), m.row(&request.method, tool), Instant::now()));
        // Entered while the inner stages are called, so they (and the audit record) see this span.
        let future = span.in_scope(|| self.inner.call(request));
        let recorded = span.clone();
        Box::pin(
            async move {
                let response = future.await?;
                if !matches!(response.outcome, Outcome::Ok | Outcome::InputRequired) {
                    recorded.record("otel.status_code", "ERROR");
                    recorded.record("error.type", super::metrics::error_type(response.outcome));
                }
                if let Some((metrics, row, started)) = observed {
                    metrics.observe(row, response.outcome, started.elapsed());
                    if let Some(limit) = rejection(&response) {
                        metrics.rejected(limit);
                    }
                }
                Ok(response)
            }
            .instrument(span),
        )
    }
}

/// The budget that refused a rate-limited call (`data.limit`), or `store_unavailable` when the limiter
/// could not decide. `None` for anything else (a full audit queue is counted by the audit trail).
fn rejection(response: &McpResponse) -> Option<&str> {
    let error = response.body.as_ref().err().filter(|_| response.outcome == Outcome::RateLimited)?;
    match error.code {
        ErrorCode::RATE_LIMITED => error.data.as_ref()?.get("limit")?.as_str(),
        ErrorCode::THROTTLE_UNAVAILABLE => Some("store_unavailable"),
        _ => None,
    }
}
