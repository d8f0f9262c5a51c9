//! [`Audit`]: the service [`AuditLayer`](super::AuditLayer) wraps around the corridor.

use std::convert::Infallible;
use std::task::{Context, Poll};
use std::time::{Instant, SystemTime};

use futures_util::future::BoxFuture;
use serde_json::{Value, json};
use tower::Service;

use super::layer::AuditLayer;
use super::record::{AuditClient, AuditReason, AuditRecord, rfc3339};
use super::{Marks, Slot, reason};
use crate::protocol::{ErrorCode, ErrorObject};
use crate::server::{McpRequest, McpResponse, Outcome};

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
        let marks = request.tool_name().and_then(|t| self.layer.marks.get(t)).copied().unwrap_or_default();
        let pending = Pending::begin(&request, &self.layer, marks);
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let layer = self.layer.clone();
        Box::pin(async move {
            let slot = match layer.auditor.reserve().await {
                Ok(slot) => slot,
                Err(full) => {
                    let mut error = ErrorObject::new(ErrorCode::AUDIT_UNAVAILABLE, full.to_string());
                    error.data = Some(json!({ "retryAfterMs": 1000 }));
                    return Ok(McpResponse::error(error, Outcome::RateLimited));
                }
            };
            let mut recording = Recording { slot: Some(slot), pending: Some(pending) };
            let response = inner.call(request).await?;
            let result =
                (layer.auditor.results && response.body.is_ok()).then(|| result_of(&response, &layer, marks)).flatten();
            recording.finish(reason(response.outcome), result);
            Ok(response)
        })
    }
}

/// What is known of a request when it starts.
struct Pending {
    record: AuditRecord,
    started: Instant,
}

impl Pending {
    fn begin(request: &McpRequest, layer: &AuditLayer, marks: Marks) -> Self {
        let arguments = match request.method.as_str() {
            "tools/call" | "prompts/get" => request.params.get("arguments"),
            _ => None,
        };
        let (arguments, arguments_sha256) = layer.auditor.redactor.arguments(arguments, marks);
        let client = request
            .client
            .implementation
            .as_ref()
            .map(|i| AuditClient { name: i.name.clone(), version: i.version.clone() });
        let record = AuditRecord {
            ts: rfc3339(SystemTime::now()),
            request_id: serde_json::to_value(&request.id).ok(),
            trace_id: None,
            span_id: None,
            principal: request.principal.id.clone(),
            auth_method: request.principal.method.as_str().to_owned(),
            transport: request.transport.as_str(),
            protocol_version: Some(request.version.as_str()),
            source: request.source.map(|ip| ip.to_string()),
            method: Some(request.method.clone()),
            tool: request.tool_name().map(str::to_owned),
            decision: AuditReason::Ok.decision(),
            reason: AuditReason::Ok,
            latency_us: 0,
            arguments,
            arguments_sha256,
            result: None,
            client,
        };
        Self { record, started: Instant::now() }
    }

    fn finish(mut self, reason: AuditReason, result: Option<Value>) -> AuditRecord {
        self.record.reason = reason;
        self.record.decision = reason.decision();
        self.record.latency_us = u64::try_from(self.started.elapsed().as_micros()).unwrap_or(u64::MAX);
        self.record.result = result;
        self.record
    }
}

/// The record in the making; dropped before it is finished, it records `cancelled`.
struct Recording {
    slot: Option<Slot>,
    pending: Option<Pending>,
}

impl Recording {
    fn finish(&mut self, reason: AuditReason, result: Option<Value>) {
        if let (Some(slot), Some(pending)) = (self.slot.take(), self.pending.take()) {
            slot.send(pending.finish(reason, result));
        }
    }
}

impl Drop for Recording {
    fn drop(&mut self) {
        self.finish(AuditReason::Cancelled, None);
    }
}

/// The result's structured content (else its content), redacted like the arguments.
fn result_of(response: &McpResponse, layer: &AuditLayer, marks: Marks) -> Option<Value> {
    let body: Value = serde_json::from_str(response.body.as_ref().ok()?.get()).ok()?;
    let shown = body.get("structuredContent").or_else(|| body.get("content")).unwrap_or(&body);
    Some(layer.auditor.redactor.redact(shown, Marks { redact: marks.redact, clear: &[] }))
}
