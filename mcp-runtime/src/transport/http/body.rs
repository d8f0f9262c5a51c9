//! Request bodies: read within their size limit and deadline, without trusting `Content-Length`, then
//! decoded as one JSON-RPC message.

use std::time::Duration;

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use http_body_util::BodyExt;
use tokio::time::Instant;

use super::HttpState;
use super::reply::{refusal, with_outcome};
use crate::protocol::{ErrorObject, Frame, Message};
use crate::request::Outcome;
use crate::transport::Refused;

/// Reads the body up to `max` bytes within the body timeout, whether or not `Content-Length` is sent.
///
/// A body over the limit is refused with 413, but not at once: what the client is still sending is read
/// and dropped (up to four times the limit, for at most two seconds) so the client reads a clean 413
/// instead of a reset. Nothing past the limit is kept, so memory stays flat.
async fn read_body(state: &HttpState, headers: &HeaderMap, mut body: Body) -> Result<Bytes, Response> {
    const DRAIN_TIME: Duration = Duration::from_secs(2);
    let max = state.max_body;
    let too_large = || {
        let error =
            ErrorObject::invalid_request(format_args!("the body exceeds {max} bytes (transport.max_message_bytes)"));
        let mut response = refusal(StatusCode::PAYLOAD_TOO_LARGE, None, Refused::invalid(error));
        response.headers_mut().insert(header::CONNECTION, HeaderValue::from_static("close"));
        response
    };
    let declared =
        headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    let mut over = declared.is_some_and(|n| n > max as u64);
    let mut deadline = Instant::now() + if over { DRAIN_TIME } else { state.config.body_read_timeout };
    let drain_budget = (max as u64).saturating_mul(4);
    let mut kept = Vec::with_capacity(first_reserve(declared, max));
    let mut seen = 0u64;
    loop {
        // A body already in hyper's buffer (most are) is read without arming the timer.
        let ready = futures_util::FutureExt::now_or_never(body.frame());
        let frame = match ready.map(Ok) {
            Some(read) => read,
            None => tokio::time::timeout_at(deadline, body.frame()).await,
        };
        let frame = match frame {
            Err(_) if over => break,
            Err(_) => {
                let error = ErrorObject::invalid_request("the body took too long to arrive");
                return Err(refusal(StatusCode::REQUEST_TIMEOUT, None, Refused::invalid(error)));
            }
            Ok(None) => break,
            Ok(Some(Err(_))) if over => break,
            Ok(Some(Err(_))) => {
                return Err(with_outcome(StatusCode::BAD_REQUEST.into_response(), Outcome::InvalidRequest));
            }
            Ok(Some(Ok(frame))) => frame,
        };
        let Ok(data) = frame.into_data() else { continue };
        seen += data.len() as u64;
        if !over && kept.len() + data.len() > max {
            over = true;
            kept = Vec::new();
            deadline = Instant::now() + DRAIN_TIME;
        }
        if over {
            if seen > drain_budget {
                break;
            }
        } else {
            kept.extend_from_slice(&data);
        }
    }
    if over { Err(too_large()) } else { Ok(Bytes::from(kept)) }
}

/// What a body's buffer reserves before any byte has arrived: what `Content-Length` declares, but never more
/// than 64 KiB. A declared length is the client's word; reserving all of it up front would let a client
/// that sends headers only make the server hold `max_message_bytes` per connection.
fn first_reserve(declared: Option<u64>, max: usize) -> usize {
    const FIRST_RESERVE: usize = 64 * 1024;
    declared.map_or(0, |n| usize::try_from(n).unwrap_or(usize::MAX)).min(max).min(FIRST_RESERVE)
}

/// Checks the media type, reads the body within its limits, and decodes one JSON-RPC message.
pub(super) async fn read_json_message(state: &HttpState, headers: &HeaderMap, body: Body) -> Result<Message, Response> {
    let json_body = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(';').next().is_some_and(|m| m.trim().eq_ignore_ascii_case("application/json")));
    if !json_body {
        let error = ErrorObject::invalid_request("Content-Type must be application/json");
        return Err(refusal(StatusCode::UNSUPPORTED_MEDIA_TYPE, None, Refused::invalid(error)));
    }
    let bytes = read_body(state, headers, body).await?;
    match crate::protocol::jsonrpc::decode(&bytes) {
        Err(rejected) | Ok(Frame::Single(Err(rejected))) => {
            Err(refusal(StatusCode::BAD_REQUEST, rejected.id, Refused::invalid(rejected.error)))
        }
        Ok(Frame::Batch(_)) => {
            let error =
                ErrorObject::invalid_request("JSON-RPC batches are not accepted over HTTP: send one message per POST");
            Err(refusal(StatusCode::BAD_REQUEST, None, Refused::invalid(error)))
        }
        Ok(Frame::Single(Ok(message))) => Ok(message),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_declared_length_reserves_at_most_64_kib() {
        assert_eq!(first_reserve(None, 4 << 20), 0);
        assert_eq!(first_reserve(Some(300), 4 << 20), 300);
        assert_eq!(first_reserve(Some(4 << 20), 4 << 20), 64 * 1024, "the client's word reserves little");
        assert_eq!(first_reserve(Some(u64::MAX), 4 << 20), 64 * 1024);
        assert_eq!(first_reserve(Some(1000), 100), 100);
    }
}
