//! Target 2: a whole HTTP request (method, path, headers, body) through the in-process router of the
//! inventory example, with its API-key security and the audit log off.
//!
//! Input: a request line `METHOD PATH`, then `Name: value` header lines, an empty line and the body.
//! Invariants: no panic; the status is one the transport documents (200, 202, 204, 400, 401, 403, 404,
//! 405, 406, 408, 413, 415, 429, 503: never a 5xx the client did not cause, nor an extractor's 422); a
//! JSON response is JSON.

use std::sync::OnceLock;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode, Uri, header};
use http_body_util::BodyExt as _;
use mcp_runtime::config::Config;
use tower::ServiceExt as _;

use crate::text::{first_line, headers_and_body};

/// The statuses the Streamable HTTP transport answers with.
const ALLOWED: &[u16] = &[200, 202, 204, 400, 401, 403, 404, 405, 406, 408, 413, 415, 429, 503];

/// How long a JSON answer may take to arrive (a tool call takes milliseconds).
const ANSWER_TIME: Duration = Duration::from_secs(10);

fn router() -> &'static Router {
    static ROUTER: OnceLock<Router> = OnceLock::new();
    ROUTER.get_or_init(|| {
        let mut config: Config =
            toml::from_str(include_str!("../../examples/inventory/mcp.toml")).expect("the example's mcp.toml loads");
        "none".clone_into(&mut config.audit.destination);
        // Inside the runtime: the router starts its session-expiry task.
        let _entered = crate::runtime().enter();
        inventory::server().config(config).into_router().expect("the inventory server starts")
    })
}

/// Sends the request of `data` through the router and checks the answer.
pub fn run(data: &[u8]) {
    let (request_line, rest) = first_line(data);
    let Ok(request_line) = std::str::from_utf8(request_line) else { return };
    let Some((method, path)) = request_line.split_once(' ') else { return };
    let (Ok(method), Ok(uri)) = (Method::from_bytes(method.as_bytes()), path.parse::<Uri>()) else { return };
    let Some((headers, body)) = headers_and_body(rest) else { return };
    let mut request =
        Request::builder().method(method).uri(uri).body(Body::from(body.to_vec())).expect("parts are valid");
    *request.headers_mut() = headers;
    let router = router().clone();
    crate::runtime().block_on(async move {
        let response = router.oneshot(request).await.unwrap_or_else(|never| match never {});
        let status = response.status();
        assert!(ALLOWED.contains(&status.as_u16()), "status {status} for {request_line:?}");
        let json =
            response.headers().get(header::CONTENT_TYPE).is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
        if json && status != StatusCode::NO_CONTENT {
            let collected = tokio::time::timeout(ANSWER_TIME, response.into_body().collect()).await;
            let bytes = collected.expect("the answer arrives in time").expect("the body reads").to_bytes();
            assert!(serde_json::from_slice::<serde_json::Value>(&bytes).is_ok(), "not JSON: {bytes:?}");
        }
    });
}
