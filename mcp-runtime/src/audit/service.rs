//! [`Audit`]: the service [`AuditLayer`](super::AuditLayer) wraps around the corridor.

use std::convert::Infallible;
use std::net::IpAddr;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Instant, SystemTime};

use futures_util::future::BoxFuture;
use serde_json::Value;
use tower::Service;

use super::layer::AuditLayer;
use opentelemetry::trace::{SpanId, TraceId};

use super::{Marks, Slot, Unfinished};
use crate::protocol::method;
use crate::protocol::{ProtocolVersion, RequestId};
use crate::request::Principal;
use crate::request::{ClientInfo, McpRequest, McpResponse, Outcome, TransportKind};

/// Takes a place in the audit queue, runs the request, and writes its record (or `cancelled`).
#[derive(Clone)]
pub struct Audit<S> {
    pub(crate) inner: S,
    pub(crate) layer: AuditLayer,
}

impl<S> std::fmt::Debug for Audit<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Audit").finish_non_exhaustive()
    }
}

impl<S> Service<McpRequest> for Audit<S>
where
    S: Service<McpRequest, Response = McpResponse, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    type Response = McpResponse;
    type Error = Infallible;
    type Future = BoxFuture<'static, Result<McpResponse, Infallible>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: McpRequest) -> Self::Future {
        let marks = request
            .tool_name()
            .and_then(|t| self.layer.app.glance().tools().get(t).map(|entry| Marks::of(&entry.tool)))
            .unwrap_or_default();
        let pending = Pending::begin(&request, marks);
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let layer = self.layer.clone();
        Box::pin(async move {
            let slot = match layer.auditor.reserve().await {
                Ok(slot) => slot,
                Err(full) => return Ok(McpResponse::error(full.error(), Outcome::RateLimited)),
            };
            let mut recording = Recording { slot: Some(slot), pending: Some(pending) };
            let response = inner.call(request).await?;
            let result = (layer.auditor.results && response.body.is_ok()).then(|| result_of(&response)).flatten();
            recording.finish(response.outcome, result);
            Ok(response)
        })
    }
}

/// What is known of a request when it starts: kept raw (cheap clones); the writer thread formats it.
struct Pending {
    at: SystemTime,
    started: Instant,
    request_id: RequestId,
    trace: Option<(TraceId, SpanId)>,
    principal: Arc<Principal>,
    transport: TransportKind,
    version: ProtocolVersion,
    source: Option<IpAddr>,
    method: String,
    tool: Option<String>,
    client: Arc<ClientInfo>,
    arguments: Option<Value>,
    marks: Marks,
}

impl Pending {
    fn begin(request: &McpRequest, marks: Marks) -> Self {
        let arguments = match request.method.as_str() {
            method::TOOLS_CALL | method::PROMPTS_GET => request.params.get("arguments").cloned(),
            _ => None,
        };
        Self {
            at: SystemTime::now(),
            started: Instant::now(),
            request_id: request.id.clone(),
            // The audit layer runs inside the request's span (TraceLayer enters it while calling inward).
            trace: crate::telemetry::ids(&tracing::Span::current()),
            principal: Arc::clone(&request.principal),
            transport: request.transport,
            version: request.version,
            source: request.source,
            method: request.method.clone(),
            tool: request.tool_name().map(str::to_owned),
            client: Arc::clone(&request.client),
            arguments,
            marks,
        }
    }

    fn finish(self, reason: Outcome, result: Option<Value>) -> Unfinished {
        Unfinished {
            at: self.at,
            request_id: self.request_id,
            trace: self.trace,
            principal: self.principal,
            transport: self.transport,
            version: self.version,
            source: self.source,
            method: self.method,
            tool: self.tool,
            client: self.client,
            reason,
            latency_us: u64::try_from(self.started.elapsed().as_micros()).unwrap_or(u64::MAX),
            arguments: self.arguments,
            result,
            marks: self.marks,
            task: None,
        }
    }
}

/// The record in the making; dropped before it is finished, it records `cancelled`.
struct Recording {
    slot: Option<Slot>,
    pending: Option<Pending>,
}

impl Recording {
    fn finish(&mut self, reason: Outcome, result: Option<Value>) {
        if let (Some(slot), Some(pending)) = (self.slot.take(), self.pending.take()) {
            slot.send_unfinished(pending.finish(reason, result));
        }
    }
}

impl Drop for Recording {
    fn drop(&mut self) {
        self.finish(Outcome::Cancelled, None);
    }
}

/// The result's structured content (else its content); the writer redacts it like the arguments.
fn result_of(response: &McpResponse) -> Option<Value> {
    let mut body: Value = serde_json::from_str(response.body.as_ref().ok()?.get()).ok()?;
    let key = if body.get("structuredContent").is_some() { "structuredContent" } else { "content" };
    Some(body.get_mut(key).map(Value::take).unwrap_or(body))
}
