//! What the HTTP transport answers: JSON-RPC answers and refusals as responses, the one mapping from an
//! answer's error to its HTTP status, the refusals a handler records itself, and SSE responses.
//!
//! A refusal response carries its [`Outcome`] in its extensions, attached by whoever built it, so the edge
//! records exactly that (a refusal without one, axum's own 405 say, is `invalid_request`); a response
//! whose request already has its record carries [`Audited`].

use std::time::Instant;

use axum::body::Body;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::session::Full;
use super::{Caller, HttpState};
use crate::protocol::{Answer, ErrorCode, ErrorObject, Outgoing, RequestId};
use crate::request::Outcome;
use crate::transport::Refused;

/// Marks a response whose request already has its audit record (the corridor, or a handler, wrote it).
#[derive(Debug, Clone, Copy)]
pub(super) struct Audited;

/// A refusal as an HTTP response: `status`, the JSON-RPC error as the body, and the refusal's [`Outcome`]
/// for the edge to record.
pub(super) fn refusal(status: StatusCode, id: Option<RequestId>, refused: Refused) -> Response {
    let mut response = json_response(status, &Outgoing::Answer(Answer { id, body: Err(refused.error) }));
    response.extensions_mut().insert(refused.outcome);
    response
}

/// Attaches how a request ended to a response built without [`refusal`], for the edge to record.
pub(super) fn with_outcome(mut response: Response, outcome: Outcome) -> Response {
    response.extensions_mut().insert(outcome);
    response
}

/// Records a request a handler refused before the corridor (it knows the method and id the edge does not),
/// and answers it with `status` and the refusal, marked [`Audited`]. When the audit queue stays full, the
/// answer is the audit refusal instead (−32014, 503): no record, said so.
pub(super) async fn refused(
    state: &HttpState,
    caller: &Caller,
    started: Instant,
    call: Option<(&str, &RequestId)>,
    status: StatusCode,
    refused: Refused,
) -> Response {
    let id = call.map(|(_, id)| id.clone());
    let mut response = match state.pipeline.refused(caller.refusal(state, started, call), refused.outcome).await {
        Ok(()) => refusal(status, id, refused),
        Err(audit) => answer(state, Answer { id, body: Err(audit) }, false),
    };
    response.extensions_mut().insert(Audited);
    response
}

/// The HTTP status of an answer that is an error: 429 for a rate limit (−32012); 503 for a limiter or an
/// audit trail that cannot keep up (−32013, −32014); 403 for a missing scope (−32011); 404 for an unknown
/// method and 400 for a client capability the request needs but did not declare (−32021) under
/// 2026-07-28; else 200, the error in the body.
fn status(error: &ErrorObject, stateless: bool) -> StatusCode {
    match error.code {
        ErrorCode::RATE_LIMITED => StatusCode::TOO_MANY_REQUESTS,
        ErrorCode::THROTTLE_UNAVAILABLE | ErrorCode::AUDIT_UNAVAILABLE => StatusCode::SERVICE_UNAVAILABLE,
        ErrorCode::METHOD_NOT_FOUND if stateless => StatusCode::NOT_FOUND,
        ErrorCode::MISSING_CLIENT_CAPABILITY => StatusCode::BAD_REQUEST,
        ErrorCode::FORBIDDEN => StatusCode::FORBIDDEN,
        _ => StatusCode::OK,
    }
}

/// An answer as a JSON response, with [`status`]: 429 and 503 carry `Retry-After` (whole seconds, rounded
/// up from `data.retryAfterMs`), 403 the `insufficient_scope` challenge naming `data.requiredScopes`.
pub(super) fn answer(state: &HttpState, answer: Answer, stateless: bool) -> Response {
    let (status, data) = match &answer.body {
        Err(e) => (status(e, stateless), e.data.as_ref()),
        Ok(_) => (StatusCode::OK, None),
    };
    let mut challenge = None;
    let mut retry_after = None;
    match status {
        StatusCode::TOO_MANY_REQUESTS | StatusCode::SERVICE_UNAVAILABLE => {
            let ms = data.and_then(|d| d.get("retryAfterMs")).and_then(serde_json::Value::as_u64);
            retry_after = Some(ms.unwrap_or(1000).div_ceil(1000).max(1));
        }
        StatusCode::FORBIDDEN => {
            let required: Vec<String> = data
                .and_then(|d| d.get("requiredScopes"))
                .and_then(|r| serde::Deserialize::deserialize(r).ok())
                .unwrap_or_default();
            challenge = Some(state.pipeline.gate().insufficient_scope(&required));
        }
        _ => {}
    }
    let mut response = json_response(status, &Outgoing::Answer(answer));
    if let Some(challenge) = challenge {
        response.headers_mut().insert(header::WWW_AUTHENTICATE, challenge);
    }
    if let Some(seconds) = retry_after {
        response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(seconds));
    }
    response
}

fn json_response(status: StatusCode, message: &Outgoing) -> Response {
    match serde_json::to_vec(message) {
        Ok(body) => {
            (status, [(header::CONTENT_TYPE, HeaderValue::from_static("application/json"))], body).into_response()
        }
        Err(e) => {
            tracing::error!(error = %e, "a response could not be encoded");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

/// A session that could not be opened: 503 when every session is taken, 429 when the caller holds its
/// whole share (`http.max_sessions_per_caller`) while others may still open theirs.
pub(super) fn session_refused(state: &HttpState, full: Full, id: Option<RequestId>) -> Response {
    match full {
        Full::Server => {
            let error = ErrorObject::new(ErrorCode(-32000), "too many open sessions: try again later");
            let mut response = refusal(StatusCode::SERVICE_UNAVAILABLE, id, Refused::new(error, Outcome::RateLimited));
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
            response
        }
        Full::Caller => share_refused(
            state,
            id,
            "sessions",
            "this caller holds its whole share of sessions: close one (DELETE) or let one expire",
        ),
    }
}

/// 429 with `Retry-After`: the caller holds its whole share of `limit` (`sessions`, `streams`).
pub(super) fn share_refused(state: &HttpState, id: Option<RequestId>, limit: &str, what: &str) -> Response {
    let error = ErrorObject::new(ErrorCode::RATE_LIMITED, what)
        .with_data(serde_json::json!({ "retryAfterMs": 5000, "limit": limit }));
    with_outcome(answer(state, Answer { id, body: Err(error) }, false), Outcome::RateLimited)
}

/// 405 for what 2026-07-28 does not have (GET streams, DELETE of a session): only POST.
pub(super) fn method_not_allowed() -> Response {
    let response = (StatusCode::METHOD_NOT_ALLOWED, [(header::ALLOW, HeaderValue::from_static("POST"))]);
    with_outcome(response.into_response(), Outcome::InvalidRequest)
}

/// A stream of server-sent events. `X-Accel-Buffering: no` asks reverse proxies (nginx and those that
/// follow it) not to buffer the stream, so events reach the client as they are written (a SHOULD of
/// 2026-07-28's Streamable HTTP).
pub(super) fn sse_response(body: Body) -> Response {
    (
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, HeaderValue::from_static("text/event-stream")),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
            (header::HeaderName::from_static("x-accel-buffering"), HeaderValue::from_static("no")),
        ],
        body,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_streams_are_not_buffered_by_proxies() {
        let response = sse_response(Body::empty());
        assert_eq!(response.headers()["x-accel-buffering"], "no");
        assert_eq!(response.headers()["cache-control"], "no-cache");
    }

    #[test]
    fn errors_map_to_their_status() {
        let e = |code| ErrorObject::new(code, "x");
        assert_eq!(status(&e(ErrorCode::RATE_LIMITED), false), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(status(&e(ErrorCode::THROTTLE_UNAVAILABLE), false), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(status(&e(ErrorCode::AUDIT_UNAVAILABLE), true), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(status(&e(ErrorCode::FORBIDDEN), false), StatusCode::FORBIDDEN);
        assert_eq!(status(&e(ErrorCode::METHOD_NOT_FOUND), true), StatusCode::NOT_FOUND);
        assert_eq!(status(&e(ErrorCode::METHOD_NOT_FOUND), false), StatusCode::OK);
        assert_eq!(status(&e(ErrorCode::MISSING_CLIENT_CAPABILITY), true), StatusCode::BAD_REQUEST);
        assert_eq!(status(&e(ErrorCode::INVALID_PARAMS), true), StatusCode::OK);
    }
}
