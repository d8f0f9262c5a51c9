//! Assembles the corridor: the layers every request passes through, in order.
//!
//! ```text
//! transport ─ decode, admit (revision, per-request _meta), cancellation, concurrency limit
//!   │         authenticate: Pipeline::gate() turns credentials into a Principal (HTTP: every request,
//!   │         before its session is looked up; stdio: the client's credential from the environment)
//!   └ trace          the request's span (MCP semantic conventions; the client's traceparent when trusted)
//!      └ audit       one record per request, whatever ends it (a queue place taken before it runs;
//!         │          left out under audit.destination = "none")
//!         └ authorize    per-tool scopes → −32011 / HTTP 403 insufficient_scope
//!            └ user layers   (Server::layer; the last added runs first)
//!               └ validate   arguments against the tool's compiled input schema
//!                  └ throttle    GCRA budgets (tool, caller, global) → −32012 / HTTP 429 + Retry-After
//!                     └ execute + format   Router: timeout, panic isolation, revision-specific results
//! ```
//!
//! Requests refused before the corridor are recorded by the transports, all through `Pipeline::refused`.

use std::collections::BTreeSet;
use std::sync::Arc;

use tower::{Layer, Service, ServiceExt};

use crate::Server;
use crate::audit::{AuditLayer, Auditor, QueueFull, Refusal};
use crate::auth::{AuthorizeLayer, Gate};
use crate::config::{Config, ToolListing};
use crate::protocol::ErrorObject;
use crate::request::Outcome;
use crate::request::{McpRequest, McpResponse, McpService};
use crate::server::{App, Router, StartError};
use crate::telemetry::{Metrics, TraceLayer};
use crate::throttle::ThrottleLayer;
use crate::validate::ValidateLayer;

/// A checked server and its assembled corridor; what transports drive. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Pipeline {
    app: App,
    service: McpService,
    config: Arc<Config>,
    gate: Arc<Gate>,
    auditor: Arc<Auditor>,
    metrics: Arc<Metrics>,
    throttle: Option<ThrottleLayer>,
}

impl Pipeline {
    /// Checks the server, builds its authentication and assembles the corridor.
    ///
    /// # Errors
    /// See [`StartError`]: no tools, duplicate names, missing state, uncompilable schemas, a security
    /// configuration that cannot be used.
    pub fn build(server: Server) -> Result<Self, StartError> {
        let parts = server.into_parts()?;
        let (app, config) = (parts.app, parts.config);
        crate::server::scan_own(&app, config.security.scan_on_start)?;
        let catalog = app.catalog();
        let tool_scopes: BTreeSet<String> =
            catalog.tools().iter().flat_map(|t| t.tool.scopes().iter().map(|s| s.to_string())).collect();
        let gate = Gate::new(&config.security, parts.authenticator, &app.info().name, tool_scopes)
            .map_err(StartError::Security)?;
        let enforce = gate.enabled();
        if !enforce && catalog.tools().iter().any(|t| !t.tool.scopes().is_empty()) {
            tracing::warn!("tools declare scopes but security.strategy is \"none\": scopes are not enforced");
        }
        let filter_tools = enforce && config.security.list_tools == ToolListing::Allowed;
        // Change notifications follow the listings: a caller hears of what it may see.
        app.bus().set_scoped(filter_tools);
        let validate = ValidateLayer::new(&app);
        let throttle = ThrottleLayer::new(&app, &config.throttling, config.security.allow_inline_secrets)
            .map_err(StartError::Throttling)?;
        let throttle_limiter = throttle.as_ref().map(|t| Arc::clone(t.limiter()));
        let mut service = McpService::new(
            tower::ServiceBuilder::new()
                .layer(validate)
                .option_layer(throttle.clone())
                .service(Router::new(app.clone()).filter_tools(filter_tools)),
        );
        for layer in parts.layers {
            service = layer(service);
        }
        let service = McpService::new(AuthorizeLayer::new(&app, enforce).layer(service));
        let auditor = Arc::new(
            Auditor::new(&config.audit, config.transport.kind, config.security.allow_inline_secrets)
                .map_err(StartError::Audit)?,
        );
        let metrics = Metrics::new(
            catalog.tools().iter().map(|t| t.tool.name()),
            crate::telemetry::meter(&config.tracing, &config.metrics).as_ref(),
        );
        metrics.follow(&app); // tools added at run time get series of their own
        let dropped = Arc::clone(&auditor);
        let limiter = throttle_limiter.filter(|l| l.unavailable().is_some());
        metrics.probe(
            Arc::new(move || dropped.dropped()),
            limiter.map(|l| Arc::new(move || l.unavailable().unwrap_or(0)) as crate::telemetry::Probe),
        );
        // With `audit.destination = "none"` there is nothing to record: the stage is left out.
        // Each task that ends is counted, and recorded unless there is no audit trail (its place in the
        // queue taken when it is created).
        let record =
            auditor.enabled().then(|| crate::audit::outcome_records(Arc::clone(&auditor), app.handle().clone()));
        let counted = Arc::clone(&metrics);
        app.tasks().record_with(Arc::new(move || {
            let (record, counted) = (record.clone(), Arc::clone(&counted));
            Box::pin(async move {
                let inner = match record {
                    Some(record) => Some(record().await?),
                    None => None,
                };
                let recorder: crate::tasks::Recorder = Box::new(move |ended: crate::tasks::TaskEnded| {
                    counted.task_ended(ended.status.as_str());
                    match inner {
                        Some(inner) => inner(ended),
                        None => Box::pin(async {}),
                    }
                });
                Ok(recorder)
            })
        }));

        let service = if auditor.enabled() {
            McpService::new(AuditLayer::new(&app, Arc::clone(&auditor)).layer(service))
        } else {
            service
        };
        let trace = TraceLayer::new(config.tracing.trust_incoming).with_metrics(Arc::clone(&metrics));
        let service = McpService::new(trace.layer(service));
        Ok(Self { app, service, config: Arc::new(config), gate: Arc::new(gate), auditor, metrics, throttle })
    }

    /// The frozen server.
    pub fn app(&self) -> &App {
        &self.app
    }

    /// The configuration it runs with.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Authentication: what transports ask before they serve a request.
    pub fn gate(&self) -> &Gate {
        &self.gate
    }

    /// The audit trail: transports record the requests they refuse before the corridor here.
    pub fn auditor(&self) -> &Auditor {
        &self.auditor
    }

    /// The server's metrics (`[metrics]`: Prometheus text, OTLP).
    pub fn metrics(&self) -> &Arc<Metrics> {
        &self.metrics
    }

    /// The throttle stage, which a configuration reload gives its new `[throttling]`.
    pub(crate) fn throttle(&self) -> Option<&ThrottleLayer> {
        self.throttle.as_ref()
    }

    /// Records a request a transport refused before the corridor: its audit record and its metrics. The
    /// one place refusals are recorded, whatever the transport.
    ///
    /// # Errors
    /// The audit refusal (−32014, [`QueueFull::error`]) when `audit.on_full` refuses to wait for the full
    /// queue any longer: the record is not written, and the transport answers with this instead of its own
    /// refusal, so no request is answered without either its record or that refusal.
    pub async fn refused(&self, refusal: Refusal<'_>, outcome: Outcome) -> Result<(), ErrorObject> {
        self.metrics.refused(outcome);
        self.auditor.refused(refusal, outcome).await.map_err(QueueFull::error)
    }

    /// Records a request cancelled before it reached the corridor (it waited for a place to run in). Not a
    /// refusal, so not counted as one; a full queue that refuses the record leaves no answer to replace (a
    /// cancelled request is not answered), so the record is counted and logged as dropped.
    pub(crate) async fn cancelled(&self, refusal: Refusal<'_>) {
        if self.auditor.refused(refusal, Outcome::Cancelled).await.is_err() {
            self.auditor.count_drop();
        }
    }

    /// Spends the caller's budget (`throttling.per_principal`, `throttling.global`) for a standalone SSE
    /// stream, which opens without entering the corridor: `None` when allowed, else the refusal (−32012 with
    /// `retryAfterMs`, or −32013).
    pub(crate) async fn spend_open(
        &self,
        principal: &crate::request::Principal,
        source: Option<std::net::IpAddr>,
    ) -> Option<McpResponse> {
        match &self.throttle {
            Some(throttle) => throttle.spend_caller(&principal.budget_key(source)).await,
            None => None,
        }
    }

    /// Writes and syncs every audit record queued so far. Transports call it once in-flight requests
    /// have finished, before the process exits.
    pub async fn flush(&self) {
        self.auditor.flush().await;
    }

    /// Runs one request through the corridor.
    pub async fn call(&self, request: McpRequest) -> McpResponse {
        let mut service = self.service.clone();
        match service.ready().await {
            Ok(ready) => match ready.call(request).await {
                Ok(response) => response,
                Err(never) => match never {},
            },
            Err(never) => match never {},
        }
    }
}
