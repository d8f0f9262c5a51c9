//! Streamable HTTP: the MCP endpoint as an axum `Router`, served by hyper with the secure defaults.
//!
//! Every request passes the Host/Origin guard first: a `Host` outside `http.allowed_hosts` or an `Origin` outside
//! `http.allowed_origins` gets 403 before anything is parsed (DNS rebinding). Bodies are capped while they
//! stream (413), headers and bodies must arrive in time, connections are capped, and shutdown drains
//! in-flight requests.

mod body;
mod forwarded;
mod headers;
mod legacy;
mod listen;

mod session;
mod shares;
mod sse;
mod streamable;

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use self::forwarded::client_address;
pub use self::listen::serve_on;
pub(crate) use self::listen::{accept, serve};
use self::session::Sessions;
use crate::audit::{QueueFull, Refusal};
use crate::auth::{AuthError, Credentials, Gate, Rejection};
use crate::config::HttpConfig;
use crate::pipeline::Pipeline;
use crate::protocol::{ErrorCode, ErrorObject, RequestId};
use crate::request::{McpRequest, TransportKind};
use crate::request::{Outcome, Principal};
use crate::Server;
use crate::server::StartError;

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
        .layer(middleware::from_fn_with_state(Arc::clone(&state), edge))
        .with_state(state)
}

/// The Prometheus path on the MCP listener: the caller needs `metrics.scope` (403 with the
/// `insufficient_scope` challenge otherwise) when the server authenticates.
async fn scrape(State(state): State<Arc<HttpState>>, axum::Extension(caller): axum::Extension<Caller>) -> Response {
    let gate = state.pipeline.gate();
    let scope = &state.pipeline.config().metrics.scope;
    if gate.enabled() && !scope.is_empty() && !caller.principal.has_scope(scope) {
        let error = ErrorObject::new(ErrorCode::FORBIDDEN, format!("scraping metrics needs the scope {scope}"));
        let mut response = streamable::rpc_error(StatusCode::FORBIDDEN, None, error);
        response.headers_mut().insert(header::WWW_AUTHENTICATE, gate.insufficient_scope(std::slice::from_ref(scope)));
        return response;
    }
    super::metrics::scrape(&state.pipeline)
}

/// Why the edge refused a request, when its status alone does not say (authentication's 503 is
/// `unauthenticated`, not an overload).
#[derive(Debug, Clone, Copy)]
struct EdgeReason(Outcome);

/// Marks a response whose request already has its audit record (the corridor, or a handler, wrote it).
#[derive(Debug, Clone, Copy)]
pub(super) struct Audited;

/// Records a request a handler refused before the corridor, and marks the response as recorded. When the
/// audit queue stays full, the answer becomes the audit refusal instead (−32014, 503): no record, said so.
pub(super) async fn refused(
    state: &HttpState,
    caller: &Caller,
    started: std::time::Instant,
    call: Option<(&str, &crate::protocol::RequestId)>,
    reason: Outcome,
    mut response: Response,
) -> Response {
    let refusal = Refusal {
        transport: state.transport,
        started,
        source: caller.source,
        principal: Some(&caller.principal),
        method: call.map(|(m, _)| m),
        request_id: call.map(|(_, id)| id),
    };
    if let Err(full) = state.pipeline.refused(refusal, reason).await {
        response = audit_refusal(call.map(|(_, id)| id.clone()), full);
    }
    response.extensions_mut().insert(Audited);
    response
}

/// The answer to a request whose refusal could not be recorded: the audit queue stayed full.
fn audit_refusal(id: Option<RequestId>, full: QueueFull) -> Response {
    let mut error = ErrorObject::new(ErrorCode::AUDIT_UNAVAILABLE, full.to_string());
    error.data = Some(serde_json::json!({ "retryAfterMs": 1000 }));
    let mut response = streamable::rpc_error(StatusCode::SERVICE_UNAVAILABLE, id, error);
    response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    response
}

/// The edge every HTTP request crosses, in this order: the Host/Origin guard (and CORS), authentication of
/// the protected paths, then the route. Every request to an MCP endpoint that gets a refusal (4xx, 5xx)
/// without a record gets one here: the guard's 403, the authentication's 401/400/429/503, unreadable
/// bodies, unknown sessions. Requests that reached the corridor, or whose handler recorded them, are marked
/// [`Audited`]; 2xx answers without a mark are not requests (a notification's 202, a GET stream, a DELETE).
///
/// One middleware rather than one per concern: each axum middleware boxes a future and clones the routes
/// under it on every request.
async fn edge(State(state): State<Arc<HttpState>>, request: Request, next: Next) -> Response {
    let path = request.uri().path();
    let endpoint =
        path == state.pipeline.config().transport.path || path == legacy::SSE_PATH || path == legacy::MESSAGES_PATH;
    let protected = state.protected.iter().any(|p| p == path);
    let peer = request.extensions().get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip());
    let source = peer.map(|peer| client_address(peer, request.headers(), &state.trusted_proxies));
    if !endpoint || request.method() == Method::OPTIONS {
        return pass(&state, request, source, protected, next).await;
    }
    let started = std::time::Instant::now();
    let response = pass(&state, request, source, protected, next).await;
    let status = response.status();
    if response.extensions().get::<Audited>().is_some() || status.is_success() {
        return response;
    }
    let reason = if let Some(EdgeReason(reason)) = response.extensions().get::<EdgeReason>() {
        *reason
    } else if response.headers().contains_key(header::WWW_AUTHENTICATE) || status == StatusCode::UNAUTHORIZED {
        Outcome::Unauthenticated
    } else {
        match status {
            StatusCode::FORBIDDEN => Outcome::Forbidden,
            StatusCode::TOO_MANY_REQUESTS | StatusCode::SERVICE_UNAVAILABLE => Outcome::RateLimited,
            _ => Outcome::InvalidRequest,
        }
    };
    let refusal =
        Refusal { transport: state.transport, started, source, principal: None, method: None, request_id: None };
    match state.pipeline.refused(refusal, reason).await {
        Ok(()) => response,
        Err(full) => audit_refusal(None, full),
    }
}

/// The guard, authentication (of a protected path) and the route, with CORS headers for allowed browsers.
async fn pass(
    state: &HttpState,
    mut request: Request,
    source: Option<IpAddr>,
    protected: bool,
    next: Next,
) -> Response {
    let cors = match guard(state, request.headers()) {
        Ok(cors) => cors,
        Err(refused) => return *refused,
    };
    if request.method() == Method::OPTIONS {
        let mut response = StatusCode::NO_CONTENT.into_response();
        if let Some(origin) = &cors {
            add_cors(response.headers_mut(), origin);
        }
        return response;
    }
    if protected {
        let caller = match authenticate(state, request.headers(), request.uri().query(), source).await {
            Ok(caller) => caller,
            Err(refused) => return refused,
        };
        request.extensions_mut().insert(caller);
    }
    let mut response = next.run(request).await;
    if let Some(origin) = &cors {
        add_cors(response.headers_mut(), origin);
    }
    response
}

/// Host and Origin checks, before anything else: the origin to answer CORS for, if it is one of
/// `http.cors_origins`, or the 403.
fn guard(state: &HttpState, headers: &HeaderMap) -> Result<Option<String>, Box<Response>> {
    if let Err(why) = check_host(headers, &state.config.allowed_hosts) {
        return Err(Box::new(forbidden(&why)));
    }
    let Some(origin) = headers.get(header::ORIGIN).map(|o| o.to_str().unwrap_or("\u{fffd}")) else {
        return Ok(None);
    };
    let cors = state.config.cors_origins.iter().any(|c| c == origin);
    if !cors && !origin_allowed(origin, &state.config.allowed_origins) {
        return Err(Box::new(forbidden(&format!("origin {origin:?} is not allowed"))));
    }
    Ok(cors.then(|| origin.to_owned()))
}

/// Authenticates a request to a protected path (after the Host/Origin guard, before anything is read): the
/// [`Caller`] rides in the request's extensions to the handlers, which bind sessions to it.
async fn authenticate(
    state: &HttpState,
    headers: &HeaderMap,
    query: Option<&str>,
    source: Option<IpAddr>,
) -> Result<Caller, Response> {
    let gate = state.pipeline.gate();
    let principal = if gate.enabled() {
        if query.is_some_and(|q| carries_credentials(q, gate.header().as_str())) {
            let error = AuthError::Malformed(
                format!("credentials in the query string are refused: send them in the {} header", gate.header())
                    .into(),
            );
            return Err(reject(gate, &Rejection::Unauthenticated(error)));
        }
        let credentials = match Credentials::from_http(headers, gate.header(), source) {
            Ok(credentials) => credentials,
            Err(error) => return Err(reject(gate, &Rejection::Unauthenticated(error))),
        };
        match gate.authenticate(&credentials).await {
            Ok(principal) => principal,
            Err(rejection) => return Err(reject(gate, &rejection)),
        }
    } else {
        crate::request::anonymous()
    };
    let trace = crate::telemetry::w3c_headers(|k| headers.get(k).and_then(|v| v.to_str().ok()).map(str::to_owned));
    Ok(Caller { principal, source, trace })
}

/// Who sent an HTTP request: the authenticated principal and the client's address. The `authenticate`
/// middleware puts it in the request's extensions; handlers bind sessions to it and stamp it on requests.
#[derive(Debug, Clone)]
pub(super) struct Caller {
    principal: Arc<Principal>,
    source: Option<IpAddr>,
    /// W3C `traceparent` / `tracestate` headers, copied into `_meta` where the request has none.
    trace: std::collections::HashMap<&'static str, String>,
}

impl Caller {
    /// The session owner: `None` when nobody is authenticated.
    fn owner(&self) -> Option<String> {
        let p = &self.principal;
        (!p.is_anonymous()).then(|| format!("{}:{}", p.method.as_str(), p.id))
    }

    /// Whose shares and budgets this request spends: the principal, or the address when anonymous.
    fn key(&self) -> String {
        self.principal.budget_key(self.source)
    }

    /// Gives an admitted request its principal and source.
    fn stamp(&self, request: &mut McpRequest) {
        request.principal = Arc::clone(&self.principal);
        request.source = self.source;
        for (key, value) in &self.trace {
            request.meta.entry(*key).or_insert_with(|| serde_json::Value::String(value.clone()));
        }
    }
}

/// A refused request: 401 with the challenge, 400 (malformed), 429 or 503 with `Retry-After`.
fn reject(gate: &Gate, rejection: &Rejection) -> Response {
    let mut response = streamable::rpc_error(rejection.status(), None, rejection.error());
    let headers = response.headers_mut();
    match rejection {
        Rejection::Throttled(wait) => {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(wait.as_secs().max(1)));
        }
        Rejection::Unauthenticated(AuthError::Unavailable(_)) => {
            headers.insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
        }
        _ => {
            headers.insert(header::WWW_AUTHENTICATE, gate.challenge(rejection));
        }
    }
    let reason = match rejection {
        Rejection::Throttled(_) => Outcome::RateLimited,
        Rejection::Unauthenticated(_) => Outcome::Unauthenticated,
    };
    response.extensions_mut().insert(EdgeReason(reason));
    response
}

/// Whether a query string holds something that looks like a credential (RFC 6750 §2.3 `access_token`, API
/// key parameters, the credential header's name): such requests are refused, whatever the credential.
fn carries_credentials(query: &str, header: &str) -> bool {
    query.split('&').filter_map(|pair| pair.split('=').next()).any(|name| {
        let name = name.replace("%5F", "_").replace("%5f", "_").replace("%2D", "-").replace("%2d", "-");
        let name = name.to_ascii_lowercase();
        matches!(name.as_str(), "access_token" | "token" | "api_key" | "apikey" | "api-key" | "id_token")
            || name == header
    })
}

fn add_cors(headers: &mut HeaderMap, origin: &str) {
    if let Ok(origin) = HeaderValue::from_str(origin) {
        headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
        headers.insert(header::VARY, HeaderValue::from_static("Origin"));
        headers.insert(header::ACCESS_CONTROL_ALLOW_METHODS, HeaderValue::from_static("GET, POST, DELETE, OPTIONS"));
        headers.insert(
            header::ACCESS_CONTROL_ALLOW_HEADERS,
            HeaderValue::from_static(
                "content-type, accept, authorization, mcp-session-id, mcp-protocol-version, mcp-method, mcp-name, last-event-id",
            ),
        );
        headers.insert(
            header::ACCESS_CONTROL_EXPOSE_HEADERS,
            HeaderValue::from_static("mcp-session-id, www-authenticate, retry-after"),
        );
    }
}

fn forbidden(why: &str) -> Response {
    tracing::warn!(reason = why, "request refused by the Host/Origin guard");
    streamable::rpc_error(
        StatusCode::FORBIDDEN,
        None,
        ErrorObject::new(crate::protocol::ErrorCode(-32000), format!("forbidden: {why}")),
    )
}

/// The host of a `Host` header without its port: `localhost:8080` → `localhost`, `[::1]:80` → `[::1]`.
fn strip_port(host: &str) -> &str {
    if host.starts_with('[') {
        return host.find(']').map_or(host, |end| &host[..=end]);
    }
    host.rsplit_once(':').filter(|(_, port)| port.bytes().all(|b| b.is_ascii_digit())).map_or(host, |(h, _)| h)
}

fn check_host(headers: &HeaderMap, allowed: &[String]) -> Result<(), String> {
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok()).ok_or("the Host header is missing")?;
    let host = host.trim().to_ascii_lowercase();
    let bare = strip_port(&host);
    if allowed.iter().any(|a| a.eq_ignore_ascii_case(&host) || a.eq_ignore_ascii_case(bare)) {
        Ok(())
    } else {
        Err(format!("host {host:?} is not allowed"))
    }
}

/// `scheme://host[:port]` against the allow-list; an entry without a port allows every port.
fn origin_allowed(origin: &str, allowed: &[String]) -> bool {
    let origin = origin.trim().to_ascii_lowercase();
    let Some((scheme, rest)) = origin.split_once("://") else { return false };
    let bare = format!("{scheme}://{}", strip_port(rest));
    allowed.iter().any(|a| a.eq_ignore_ascii_case(&origin) || a.eq_ignore_ascii_case(&bare))
}

/// The Host/Origin guard alone, for a listener that serves no MCP endpoint (the Prometheus listener of
/// `metrics.bind`): the same 403 before anything else is done.
pub(crate) fn guarded(routes: Router, config: HttpConfig) -> Router {
    let config = Arc::new(config);
    routes.layer(middleware::from_fn(move |request: Request, next: Next| {
        let config = Arc::clone(&config);
        async move {
            if let Err(why) = check_host(request.headers(), &config.allowed_hosts) {
                return forbidden(&why);
            }
            if let Some(origin) = request.headers().get(header::ORIGIN) {
                let origin = origin.to_str().unwrap_or("\u{fffd}");
                if !origin_allowed(origin, &config.allowed_origins) {
                    return forbidden(&format!("origin {origin:?} is not allowed"));
                }
            }
            next.run(request).await
        }
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hosts() -> Vec<String> {
        HttpConfig::default().allowed_hosts
    }

    fn host(value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::HOST, HeaderValue::from_str(value).unwrap());
        h
    }

    #[test]
    fn loopback_hosts_pass_with_or_without_a_port() {
        for ok in ["localhost", "localhost:8080", "127.0.0.1:3000", "[::1]:80", "[::1]", "LOCALHOST:1"] {
            assert!(check_host(&host(ok), &hosts()).is_ok(), "{ok}");
        }
        for bad in ["evil.example", "evil.example:8080", "localhost.evil.example", "127.0.0.1.nip.io", "[::2]:80"] {
            assert!(check_host(&host(bad), &hosts()).is_err(), "{bad}");
        }
        assert!(check_host(&HeaderMap::new(), &hosts()).is_err());
    }

    #[test]
    fn query_credentials_are_spotted() {
        for bad in ["access_token=x", "a=1&ACCESS%5FTOKEN=x", "api_key=1", "x-enterprise-token=k", "token"] {
            assert!(carries_credentials(bad, "x-enterprise-token"), "{bad}");
        }
        for ok in ["sessionId=abc", "a=access_token", ""] {
            assert!(!carries_credentials(ok, "authorization"), "{ok}");
        }
    }

    #[test]
    fn origins_match_scheme_host_and_port() {
        let allowed = HttpConfig::default().allowed_origins;
        assert!(origin_allowed("http://localhost:6274", &allowed));
        assert!(origin_allowed("http://127.0.0.1", &allowed));
        assert!(!origin_allowed("https://evil.example", &allowed));
        assert!(!origin_allowed("http://localhost.evil.example", &allowed));
        assert!(!origin_allowed("null", &allowed));
        assert!(origin_allowed("https://app.example:8443", &["https://app.example:8443".to_owned()]));
        assert!(!origin_allowed("https://app.example:9999", &["https://app.example:8443".to_owned()]));
    }
}
