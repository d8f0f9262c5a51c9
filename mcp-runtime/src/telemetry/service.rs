//! [`Trace`]: the service [`TraceLayer`](super::TraceLayer) wraps around the corridor.

use std::convert::Infallible;
use std::task::{Context, Poll};

use futures_util::future::BoxFuture;
use tower::Service;
use tracing::Instrument;
use tracing::field::Empty;

use super::layer::TraceLayer;
use crate::server::{McpRequest, McpResponse, Outcome};

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
            client.address = request.source.map(tracing::field::display),
            otel.status_code = Empty,
            error.type = Empty,
        );
        if self.layer.trust_incoming {
            super::continue_trace(&span, &request.meta);
        }
        // Entered while the inner stages are called, so they (and the audit record) see this span.
        let future = span.in_scope(|| self.inner.call(request));
        let recorded = span.clone();
        Box::pin(
            async move {
                let response = future.await?;
                if !matches!(response.outcome, Outcome::Ok | Outcome::InputRequired) {
                    recorded.record("otel.status_code", "ERROR");
                    recorded.record("error.type", response.outcome.as_str());
                }
                Ok(response)
            }
            .instrument(span),
        )
    }
}
