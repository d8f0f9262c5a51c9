//! The edge every HTTP request crosses before its route: the Host/Origin guard (and CORS), authentication of
//! the protected paths, and, on the way back, the audit record of any refusal nobody recorded.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};

use super::forwarded::client_address;
use super::reply::{self, Audited};
use super::{HttpState, legacy};
use crate::audit::Refusal;
use crate::auth::{AuthError, Credentials, Gate, Rejection};
use crate::config::HttpConfig;
use crate::protocol::{Answer, ErrorCode, ErrorObject, RequestId};
use crate::request::{McpRequest, Outcome, Principal};
use crate::transport::Refused;

/// The edge, in this order: the Host/Origin guard (and CORS), authentication of the protected paths, then
/// the route. Every request to an MCP endpoint that gets a refusal (4xx, 5xx) without a record gets one
/// here, with the [`Outcome`] its builder attached (`invalid_request` when none was): the guard's 403, the
/// authentication's 401/400/429/503, unreadable bodies, unknown sessions. Requests that reached the
/// corridor, or whose handler recorded them, are marked [`Audited`]; 2xx answers without a mark are not
/// requests (a notification's 202, a GET stream, a DELETE).
///
/// One middleware rather than one per concern: each axum middleware boxes a future and clones the routes
/// under it on every request.
pub(super) async fn edge(State(state): State<Arc<HttpState>>, request: Request, next: Next) -> Response {
    let path = request.uri().path();
    let endpoint =
        path == state.pipeline.config().transport.path || path == legacy::SSE_PATH || path == legacy::MESSAGES_PATH;
    let protected = state.protected.iter().any(|p| p == path);
    let peer = request.extensions().get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip());
    let source = peer.map(|peer| client_address(peer, request.headers(), &state.trusted_proxies));
    if !endpoint || request.method() == Method::OPTIONS {
        return pass(&state, request, source, protected, next).await;
    }
    let started = Instant::now();
    let response = pass(&state, request, source, protected, next).await;
    if response.extensions().get::<Audited>().is_some() || response.status().is_success() {
        return response;
    }
    let outcome = response.extensions().get::<Outcome>().copied().unwrap_or(Outcome::InvalidRequest);
    let refusal =
        Refusal { transport: state.transport, started, source, principal: None, method: None, request_id: None };
    match state.pipeline.refused(refusal, outcome).await {
        Ok(()) => response,
        Err(audit) => reply::answer(&state, Answer { id: None, body: Err(audit) }, false),
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

/// Who sent an HTTP request: the authenticated principal and the client's address. The edge puts it in the
/// request's extensions; handlers bind sessions to it and stamp it on requests.
#[derive(Debug, Clone)]
pub(super) struct Caller {
    pub(super) principal: Arc<Principal>,
    pub(super) source: Option<IpAddr>,
    /// W3C `traceparent` / `tracestate` headers, copied into `_meta` where the request has none.
    trace: std::collections::HashMap<&'static str, String>,
}

impl Caller {
    /// The session owner: `None` when nobody is authenticated.
    pub(super) fn owner(&self) -> Option<String> {
        let p = &self.principal;
        (!p.is_anonymous()).then(|| format!("{}:{}", p.method.as_str(), p.id))
    }

    /// Whose shares and budgets this request spends: the principal, or the address when anonymous.
    pub(super) fn key(&self) -> String {
        self.principal.budget_key(self.source)
    }

    /// Gives an admitted request its principal and source.
    pub(super) fn stamp(&self, request: &mut McpRequest) {
        request.principal = Arc::clone(&self.principal);
        request.source = self.source;
        for (key, value) in &self.trace {
            request.meta.entry(*key).or_insert_with(|| serde_json::Value::String(value.clone()));
        }
    }

    /// What the audit record of a request it sent, refused before the corridor, says of it: `call` is the
    /// request's method and id, when its body was read.
    pub(super) fn refusal<'a>(
        &'a self,
        state: &HttpState,
        started: Instant,
        call: Option<(&'a str, &'a RequestId)>,
    ) -> Refusal<'a> {
        Refusal {
            transport: state.transport,
            started,
            source: self.source,
            principal: Some(&self.principal),
            method: call.map(|(m, _)| m),
            request_id: call.map(|(_, id)| id),
        }
    }
}

/// A refused request: 401 with the challenge, 400 (malformed), 429 or 503 with `Retry-After`.
fn reject(gate: &Gate, rejection: &Rejection) -> Response {
    let mut response = reply::refusal(rejection.status(), None, Refused::rejected(rejection));
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

/// The guard's 403.
fn forbidden(why: &str) -> Response {
    tracing::warn!(reason = why, "request refused by the Host/Origin guard");
    let error = ErrorObject::new(ErrorCode(-32000), format!("forbidden: {why}"));
    reply::refusal(StatusCode::FORBIDDEN, None, Refused::new(error, Outcome::Forbidden))
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

    #[test]
    fn refusals_carry_their_outcome() {
        let outcome = |r: &Response| r.extensions().get::<Outcome>().copied();
        assert_eq!(outcome(&forbidden("host")), Some(Outcome::Forbidden));
        let throttled = Refused::rejected(&Rejection::Throttled(std::time::Duration::from_secs(3)));
        assert_eq!(throttled.outcome, Outcome::RateLimited);
        assert_eq!(
            Refused::rejected(&Rejection::Unauthenticated(AuthError::Missing)).outcome,
            Outcome::Unauthenticated
        );
    }
}
