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
        let tool = request.tool_name().map(str::to_owned);
        let name = match &tool {
            Some(tool) => format!("{} {tool}", request.method),
            None => request.method.clone(),
        };
        let span = tracing::info_span!(
            "mcp.request",
            otel.name = %name,
            otel.kind = "server",
            mcp.method.name = %request.method,
            mcp.protocol.version = request.version.as_str(),
            jsonrpc.request.id = %request.id,
            gen_ai.tool.name = tool.as_deref().unwrap_or_default(),
            client.address = Empty,
            otel.status_code = Empty,
            error.type = Empty,
        );
        if let Some(ip) = request.source {
            span.record("client.address", ip.to_string());
        }
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
