//! The 2026-07-28 request headers: `MCP-Protocol-Version`, `Mcp-Method` and `Mcp-Name` must agree with
//! the body, and so must the `Mcp-Param-{Name}` headers of a `tools/call` whose tool annotates arguments
//! with `x-mcp-header`, so intermediaries that route on headers see the truth.
//!
//! Only Streamable HTTP under 2026-07-28 carries these headers: stdio, legacy HTTP+SSE and the handshake
//! era have none, and nothing is checked there.

use axum::http::HeaderMap;
use base64::Engine as _;
use serde_json::Value;

use crate::protocol::{ErrorCode, ErrorObject, Request, method};
use crate::server::App;

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

/// Checks a 2026-07-28 `tools/call`'s `Mcp-Param-{Name}` headers against the arguments its tool
/// mirrors into them (`x-mcp-header`, read once when the tool registered): each header decoded as
/// [`text`] decodes it and equal to the argument rendered as text (a string as it is, a boolean as
/// `true`/`false`, an integer compared as a number, so `42.0` is `42`); a header present exactly when the
/// argument is (neither for an absent or `null` one). Other methods, unknown tools and `Mcp-Param-*`
/// headers no annotation names are not checked here.
///
/// # Errors
/// −32020 naming the first header that is repeated, malformed, missing or disagrees.
pub(crate) fn check_params(headers: &HeaderMap, request: &Request, app: &App) -> Result<(), ErrorObject> {
    if request.method != method::TOOLS_CALL {
        return Ok(());
    }
    let Some(name) = request.params.get("name").and_then(Value::as_str) else { return Ok(()) };
    let catalog = app.catalog();
    let Some(tool) = catalog.tools().get(name) else { return Ok(()) };
    let arguments = request.params.get("arguments");
    for param in tool.param_headers.iter() {
        let body = arguments.and_then(|a| param.path.iter().try_fold(a, |v, key| v.get(&**key)));
        let body = body.filter(|v| !v.is_null());
        let header = &param.name;
        match (text(headers, &param.field)?, body) {
            (None, None) => {}
            (Some(h), Some(b)) if agrees(&h, b) => {}
            (None, Some(b)) => {
                return Err(mismatch(format_args!(
                    "Mcp-Param-{header} is required: the body's `{}` is {b}",
                    param.dotted()
                )));
            }
            (Some(h), None) => {
                return Err(mismatch(format_args!(
                    "Mcp-Param-{header} is {h:?} but the body has no `{}`",
                    param.dotted()
                )));
            }
            (Some(h), Some(b)) => {
                return Err(mismatch(format_args!(
                    "Mcp-Param-{header} is {h:?} but the body's `{}` is {b}",
                    param.dotted()
                )));
            }
        }
    }
    Ok(())
}

/// Whether a decoded `Mcp-Param-*` value stands for the body's value: strings equal, booleans as
/// `true`/`false`, numbers equal as numbers (exactly for integers); an object or array never.
fn agrees(header: &str, body: &Value) -> bool {
    match body {
        Value::String(s) => header == s,
        Value::Bool(b) => header == if *b { "true" } else { "false" },
        Value::Number(n) => {
            if let (Some(b), Ok(h)) = (n.as_i64(), header.parse::<i64>()) {
                b == h
            } else if let (Some(b), Ok(h)) = (n.as_u64(), header.parse::<u64>()) {
                b == h
            } else {
                header.parse::<f64>().is_ok_and(|h| h.is_finite() && n.as_f64() == Some(h))
            }
        }
        Value::Null | Value::Array(_) | Value::Object(_) => false,
    }
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

    #[test]
    fn param_values_agree_as_text_booleans_and_numbers() {
        assert!(agrees("us-west1", &json!("us-west1")));
        assert!(!agrees("US-WEST1", &json!("us-west1")), "values are case-sensitive");
        assert!(agrees("", &json!("")));
        assert!(agrees("true", &json!(true)) && agrees("false", &json!(false)));
        assert!(!agrees("True", &json!(true)) && !agrees("1", &json!(true)));
        assert!(agrees("42", &json!(42)) && agrees("42.0", &json!(42)) && agrees("-7", &json!(-7)));
        assert!(agrees("18446744073709551615", &json!(u64::MAX)));
        assert!(!agrees("9007199254740992", &json!(9_007_199_254_740_993_i64)), "integers compare exactly");
        assert!(!agrees("43", &json!(42)) && !agrees("forty-two", &json!(42)) && !agrees("NaN", &json!(42)));
        assert!(!agrees("42", &json!("42.0")), "a string compares as text");
        assert!(!agrees("[]", &json!([])) && !agrees("{}", &json!({})) && !agrees("null", &Value::Null));
    }
}
