//! Streamable HTTP: the MCP endpoint as an axum `Router`, served by hyper with the secure defaults.
//!
//! Every request passes the Host/Origin guard first: a `Host` outside `http.allowed_hosts` or an `Origin` outside
//! `http.allowed_origins` gets 403 before anything is parsed (DNS rebinding). Bodies are capped while they
//! stream (413), headers and bodies must arrive in time, connections are capped, and shutdown drains
//! in-flight requests.
//!
//! Here the public face (the router, [`Flavor`]); `edge` (the guard, authentication, the record of any
//! refusal nobody recorded), `reply` (answers and refusals as responses, the one error → status mapping),
//! `streamable` and `legacy` (the handlers), `listen` (the accept loop).

mod body;
mod edge;
mod forwarded;
mod headers;
mod legacy;
mod listen;
mod reply;
mod session;
mod shares;
mod sse;
mod streamable;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::middleware;
use axum::response::Response;
use axum::routing::get;

use self::edge::Caller;
pub(crate) use self::edge::guarded;
pub use self::listen::serve_on;
pub(crate) use self::listen::{accept, serve};
use self::session::Sessions;
use crate::Server;
use crate::config::HttpConfig;
use crate::pipeline::Pipeline;
use crate::protocol::{ErrorCode, ErrorObject};
use crate::request::{Outcome, TransportKind};
use crate::server::StartError;
use crate::transport::Refused;

/// The transport's pure pieces, for the coverage-guided fuzz targets in `fuzz/` (and nothing else): not a
/// public API, no stability promise, hidden from the docs.
#[doc(hidden)]
pub mod fuzzing {
    use axum::http::HeaderMap;
    use bytes::Bytes;

    use crate::protocol::{ErrorObject, Request};

    /// Checks a 2026-07-28 request's `MCP-Protocol-Version`, `Mcp-Method` and `Mcp-Name` headers against
    /// its body, exactly as the endpoint does.
    ///
    /// # Errors
    /// −32020 naming the first header that is missing or disagrees.
    pub fn check_stateless(headers: &HeaderMap, request: &Request, version: &str) -> Result<(), ErrorObject> {
        super::headers::check_stateless(headers, request, version)
    }

    /// Encodes one server-sent event, exactly as the streams do.
    pub fn encode_event(id: &str, data: &str, event: Option<&str>) -> Bytes {
        super::sse::encode_event(id, data, event)
    }
}

/// What every handler of the HTTP transport shares.
pub(crate) struct HttpState {
    pipeline: Pipeline,
    sessions: Sessions,
    streams: Arc<shares::StreamShares>,
    config: HttpConfig,
    max_body: usize,
    trusted_proxies: Vec<ipnet::IpNet>,
    /// `Http` or `Sse`, for audit records.
    transport: TransportKind,
    /// The paths whose requests are authenticated: the endpoint's, and the Prometheus path when this router
    /// serves it.
    protected: Vec<String>,
}

impl HttpState {
    fn new(pipeline: Pipeline, flavor: Flavor) -> Self {
        let config = pipeline.config().http.clone();
        let max_body = pipeline.config().transport.max_message_bytes;
        // Checked when the configuration loaded.
        let trusted_proxies = config.trusted_proxies.iter().filter_map(|p| crate::config::parse_cidr(p).ok()).collect();
        let mut protected = match flavor {
            Flavor::Streamable => vec![pipeline.config().transport.path.clone()],
            Flavor::LegacySse => vec![legacy::SSE_PATH.to_owned(), legacy::MESSAGES_PATH.to_owned()],
        };
        let metrics = &pipeline.config().metrics;
        if metrics.prometheus && metrics.bind.is_none() {
            protected.push(metrics.path.clone());
        }
        Self {
            protected,
            sessions: Sessions::new(config.max_sessions, config.max_sessions_per_caller, config.session_idle_timeout),
            streams: shares::StreamShares::new(config.max_streams_per_caller),
            pipeline,
            config,
            max_body,
            trusted_proxies,
            transport: match flavor {
                Flavor::Streamable => TransportKind::Http,
                Flavor::LegacySse => TransportKind::Sse,
            },
        }
    }
}

impl Server {
    /// The MCP endpoint (at `transport.path`, default `/mcp`) plus `/healthz`, `/readyz`, the Prometheus
    /// `metrics.path` (unless `metrics.bind` gives it a listener of its own; authenticated like the
    /// endpoint) and the RFC 9728 metadata under `security.strategy = "oauth"`, as an axum `Router` to serve yourself or nest in your
    /// own application under your own layers. The Host/Origin guard and authentication are part of the
    /// router. Serve it with `into_make_service_with_connect_info::<SocketAddr>()` so repeated
    /// authentication failures are throttled per client address (without it they are not throttled).
    /// Call it inside a Tokio runtime: it starts the task that expires idle sessions.
    ///
    /// # Errors
    /// See [`StartError`].
    pub fn into_router(self) -> Result<Router, StartError> {
        let pipeline = Pipeline::build(self)?;
        Ok(router(Arc::new(HttpState::new(pipeline, Flavor::Streamable)), Flavor::Streamable))
    }
}

/// Which HTTP transport a router serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavor {
    /// Streamable HTTP at `transport.path`.
    Streamable,
    /// The legacy HTTP+SSE transport at `/sse` and `/messages` (protocol 2024-11-05).
    LegacySse,
}

fn router(state: Arc<HttpState>, flavor: Flavor) -> Router {
    let path = state.pipeline.config().transport.path.clone();
    let expiry = Arc::downgrade(&state);
    let every = (state.config.session_idle_timeout / 4).max(Duration::from_secs(1));
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        loop {
            tick.tick().await;
            let Some(state) = expiry.upgrade() else { return };
            state.sessions.expire();
        }
    });
    let routes = match flavor {
        Flavor::Streamable => Router::new()
            .route(&path, axum::routing::post(streamable::post).get(streamable::get).delete(streamable::delete)),
        Flavor::LegacySse => Router::new()
            .route(legacy::SSE_PATH, get(legacy::open))
            .route(legacy::MESSAGES_PATH, axum::routing::post(legacy::message)),
    };
    let metrics = &state.pipeline.config().metrics;
    let routes = if metrics.prometheus && metrics.bind.is_none() {
        // Behind the same authentication as the MCP endpoint, and a scope of its own (`metrics.scope`).
        routes.route(&metrics.path, get(scrape))
    } else {
        routes
    };
    let mut routes = routes;
    if let Some(metadata) = state.pipeline.gate().metadata() {
        let document = axum::Json(serde_json::to_value(metadata).expect("plain JSON"));
        for metadata_path in metadata.paths() {
            let document = document.clone();
            routes = routes.route(&metadata_path, get(move || std::future::ready(document.clone())));
        }
    }
    routes
        .route("/healthz", get(|| async { axum::Json(serde_json::json!({"status": "ok"})) }))
        .route("/readyz", get(|| async { axum::Json(serde_json::json!({"status": "ready"})) }))
        .layer(middleware::from_fn_with_state(Arc::clone(&state), edge::edge))
        .with_state(state)
}

/// The Prometheus path on the MCP listener: the caller needs `metrics.scope` (403 with the
/// `insufficient_scope` challenge otherwise) when the server authenticates.
async fn scrape(State(state): State<Arc<HttpState>>, axum::Extension(caller): axum::Extension<Caller>) -> Response {
    let gate = state.pipeline.gate();
    let scope = &state.pipeline.config().metrics.scope;
    if gate.enabled() && !scope.is_empty() && !caller.principal.has_scope(scope) {
        let error = ErrorObject::new(ErrorCode::FORBIDDEN, format!("scraping metrics needs the scope {scope}"));
        let mut response = reply::refusal(StatusCode::FORBIDDEN, None, Refused::new(error, Outcome::Forbidden));
        response.headers_mut().insert(header::WWW_AUTHENTICATE, gate.insufficient_scope(std::slice::from_ref(scope)));
        return response;
    }
    super::metrics::scrape(&state.pipeline)
}
