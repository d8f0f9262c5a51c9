//! The 2026-07-28 request headers: `MCP-Protocol-Version`, `Mcp-Method` and `Mcp-Name` must agree with
//! the body, so intermediaries that route on headers see the truth.

use axum::http::HeaderMap;
use base64::Engine as _;
use serde_json::Value;

use crate::protocol::{ErrorCode, ErrorObject, Request, method};

pub(crate) const PROTOCOL_VERSION: &str = "mcp-protocol-version";
pub(crate) const SESSION_ID: &str = "mcp-session-id";
pub(crate) const METHOD: &str = "mcp-method";
pub(crate) const NAME: &str = "mcp-name";
pub(crate) const LAST_EVENT_ID: &str = "last-event-id";

/// A header's value as text, with `=?base64?…?=` decoded (how non-ASCII names travel).
///
/// # Errors
/// −32020 when the header is repeated (an intermediary could route on one line and the server act on
/// another), the value is not visible ASCII or the base64 payload is malformed.
pub(crate) fn text(headers: &HeaderMap, name: &str) -> Result<Option<String>, ErrorObject> {
    let mut values = headers.get_all(name).iter();
    let Some(value) = values.next() else { return Ok(None) };
    if values.next().is_some() {
        return Err(mismatch(format_args!("header {name} is repeated")));
    }
    let value = value.to_str().map_err(|_| mismatch(format_args!("header {name} is not visible ASCII")))?;
    match value.strip_prefix("=?base64?").and_then(|v| v.strip_suffix("?=")) {
        None => Ok(Some(value.to_owned())),
        Some(encoded) => {
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(encoded)
                .map_err(|_| mismatch(format_args!("header {name} has a malformed base64 value")))?;
            String::from_utf8(bytes).map(Some).map_err(|_| mismatch(format_args!("header {name} is not UTF-8")))
        }
    }
}

fn mismatch(detail: std::fmt::Arguments<'_>) -> ErrorObject {
    ErrorObject::new(ErrorCode::HEADER_MISMATCH, format!("header mismatch: {detail}"))
}

/// The body field `Mcp-Name` must repeat, for the methods that have one.
fn named_param(method: &str) -> Option<&'static str> {
    match method {
        method::TOOLS_CALL | method::PROMPTS_GET => Some("name"),
        method::RESOURCES_READ => Some("uri"),
        method::TASKS_GET | method::TASKS_UPDATE | method::TASKS_CANCEL => Some("taskId"),
        _ => None,
    }
}

/// Checks a 2026-07-28 request's headers against its body.
///
/// # Errors
/// −32020 naming the first header that is missing or disagrees.
pub(crate) fn check_stateless(headers: &HeaderMap, request: &Request, version: &str) -> Result<(), ErrorObject> {
    match text(headers, PROTOCOL_VERSION)? {
        Some(v) if v == version => {}
        Some(v) => return Err(mismatch(format_args!("MCP-Protocol-Version is {v:?} but _meta says {version:?}"))),
        None => return Err(mismatch(format_args!("MCP-Protocol-Version is required"))),
    }
    match text(headers, METHOD)? {
        Some(m) if m == request.method => {}
        Some(m) => return Err(mismatch(format_args!("Mcp-Method is {m:?} but the body calls {:?}", request.method))),
        None => return Err(mismatch(format_args!("Mcp-Method is required"))),
    }
    if let Some(field) = named_param(&request.method) {
        let body = request.params.get(field).and_then(Value::as_str);
        match (text(headers, NAME)?, body) {
            (Some(h), Some(b)) if h == b => {}
            (None, _) => return Err(mismatch(format_args!("Mcp-Name is required for {}", request.method))),
            (Some(h), b) => return Err(mismatch(format_args!("Mcp-Name is {h:?} but the body names {b:?}"))),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;
    use serde_json::json;

    use super::*;
    use crate::protocol::RequestId;

    fn request(method: &str, params: Value) -> Request {
        let Value::Object(params) = params else { panic!() };
        Request { id: RequestId::number(1), method: method.into(), params }
    }

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn agreeing_headers_pass_and_base64_is_decoded() {
        let r = request(method::TOOLS_CALL, json!({"name": "größe"}));
        let h = headers(&[
            (PROTOCOL_VERSION, "2026-07-28"),
            (METHOD, method::TOOLS_CALL),
            (NAME, "=?base64?Z3LDtsOfZQ==?="),
        ]);
        assert_eq!(check_stateless(&h, &r, "2026-07-28"), Ok(()));
    }

    #[test]
    fn every_disagreement_is_a_header_mismatch() {
        let r = request(method::TOOLS_CALL, json!({"name": "lookup_stock"}));
        let ok = [(PROTOCOL_VERSION, "2026-07-28"), (METHOD, method::TOOLS_CALL), (NAME, "lookup_stock")];
        for drop in 0..3 {
            let partial: Vec<_> = ok.iter().enumerate().filter(|(i, _)| *i != drop).map(|(_, p)| *p).collect();
            let e = check_stateless(&headers(&partial), &r, "2026-07-28").unwrap_err();
            assert_eq!(e.code, ErrorCode::HEADER_MISMATCH);
        }
        let wrong = headers(&[(PROTOCOL_VERSION, "2026-07-28"), (METHOD, method::TOOLS_CALL), (NAME, "adjust_stock")]);
        assert!(check_stateless(&wrong, &r, "2026-07-28").unwrap_err().message.contains("adjust_stock"));
        let bad64 = headers(&[(PROTOCOL_VERSION, "2026-07-28"), (METHOD, method::TOOLS_CALL), (NAME, "=?base64?!!?=")]);
        assert_eq!(check_stateless(&bad64, &r, "2026-07-28").unwrap_err().code, ErrorCode::HEADER_MISMATCH);
        let mut twice = headers(&ok);
        twice.append(NAME, HeaderValue::from_static("adjust_stock"));
        assert!(check_stateless(&twice, &r, "2026-07-28").unwrap_err().message.contains("repeated"));
        let list = request(method::TOOLS_LIST, json!({}));
        let h = headers(&[(PROTOCOL_VERSION, "2026-07-28"), (METHOD, method::TOOLS_LIST)]);
        assert_eq!(check_stateless(&h, &list, "2026-07-28"), Ok(()), "no Mcp-Name for tools/list");
    }
}
