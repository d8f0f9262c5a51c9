//! Target 3: the 2026-07-28 `MCP-Protocol-Version` / `Mcp-Method` / `Mcp-Name` headers against bodies.
//!
//! Input: `Name: value` header lines, an empty line, then a JSON-RPC body. Invariant: the runtime accepts
//! exactly when each required header appears once and, decoded (`=?base64?…?=` to UTF-8) independently
//! here, agrees with the body; `Mcp-Param-*` headers, which this check does not read (a tool's
//! `x-mcp-header` arguments are checked apart, against its schema), never change the verdict; a refusal
//! is always −32020.

use axum::http::{HeaderMap, HeaderValue};
use base64::Engine as _;
use mcp_runtime::protocol::jsonrpc::decode;
use mcp_runtime::protocol::{ErrorCode, Frame, Message, Request};
use mcp_runtime::transport::http::fuzzing::check_stateless;
use serde_json::Value;

use crate::text::headers_and_body;

/// The revision whose requests carry the headers.
const VERSION: &str = "2026-07-28";

/// Checks the headers of `data` against its body.
pub fn run(data: &[u8]) {
    let Some((headers, body)) = headers_and_body(data) else { return };
    let Ok(Frame::Single(Ok(Message::Request(request)))) = decode(body) else { return };
    let verdict = check_stateless(&headers, &request, VERSION);
    if let Err(e) = &verdict {
        assert_eq!(e.code, ErrorCode::HEADER_MISMATCH, "{e:?}");
    }
    let agree = agrees(&headers, &request);
    assert_eq!(
        verdict.is_ok(),
        agree,
        "runtime said {verdict:?}; the headers {} the body",
        if agree { "agree with" } else { "disagree with" }
    );
    let mut without_params = headers.clone();
    let params: Vec<_> = headers.keys().filter(|k| k.as_str().starts_with("mcp-param-")).cloned().collect();
    for name in params {
        without_params.remove(name);
    }
    assert_eq!(check_stateless(&without_params, &request, VERSION).is_ok(), verdict.is_ok(), "Mcp-Param-* changed it");
}

/// Whether the headers agree with the body, read without the runtime.
fn agrees(headers: &HeaderMap, request: &Request) -> bool {
    let named = match request.method.as_str() {
        "tools/call" | "prompts/get" => Some("name"),
        "resources/read" => Some("uri"),
        _ => None,
    };
    let name_ok = match named {
        None => true,
        Some(field) => match request.params.get(field).and_then(Value::as_str) {
            Some(body) => header_is(headers, "mcp-name", body),
            None => false,
        },
    };
    header_is(headers, "mcp-protocol-version", VERSION) && header_is(headers, "mcp-method", &request.method) && name_ok
}

/// Whether `name` is present exactly once and decodes to `expected`: a header repeated (with another
/// value) would let an intermediary route on one line and the server act on the other.
fn header_is(headers: &HeaderMap, name: &str, expected: &str) -> bool {
    let mut values = headers.get_all(name).iter();
    match (values.next(), values.next()) {
        (Some(value), None) => decoded(value).as_deref() == Some(expected),
        _ => false,
    }
}

/// A value as text: visible ASCII (spaces and tabs included), with `=?base64?…?=` holding standard,
/// padded base64 of UTF-8.
fn decoded(value: &HeaderValue) -> Option<String> {
    let bytes = value.as_bytes();
    if !bytes.iter().all(|&b| b == b'\t' || (b' '..=b'~').contains(&b)) {
        return None;
    }
    let text = std::str::from_utf8(bytes).ok()?;
    match text.strip_prefix("=?base64?").and_then(|t| t.strip_suffix("?=")) {
        None => Some(text.to_owned()),
        Some(encoded) => String::from_utf8(base64::engine::general_purpose::STANDARD.decode(encoded).ok()?).ok(),
    }
}
