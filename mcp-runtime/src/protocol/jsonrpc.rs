//! JSON-RPC 2.0 framing: decoding one wire message (or a batch) into typed parts, and encoding answers.
//!
//! Decoding is strict where the specification is strict (`"jsonrpc": "2.0"`, ids are strings or numbers and
//! never `null`) and tells the peer exactly what was wrong. Nothing here does I/O.

use std::fmt;
use std::sync::Arc;

use serde::de::{self, Deserializer};
use serde::ser::{SerializeMap, Serializer};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::{Map, Value};

/// A JSON-RPC request id: a string or a number, never `null`.
///
/// Numbers are kept as written (`serde_json::Number`) so the answer echoes the id byte for byte.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum RequestId {
    /// A numeric id.
    Number(serde_json::Number),
    /// A string id.
    String(Arc<str>),
}

impl RequestId {
    /// An id from an integer, as test clients and servers number their requests.
    pub fn number(n: i64) -> Self {
        Self::Number(n.into())
    }
}

impl fmt::Display for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Number(n) => write!(f, "{n}"),
            Self::String(s) => write!(f, "{s:?}"),
        }
    }
}

impl Serialize for RequestId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Number(n) => n.serialize(s),
            Self::String(v) => s.serialize_str(v),
        }
    }
}

impl<'de> Deserialize<'de> for RequestId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match Value::deserialize(d)? {
            Value::Number(n) => Ok(Self::Number(n)),
            Value::String(s) => Ok(Self::String(s.into())),
            other => Err(de::Error::custom(format_args!(
                "a request id must be a string or a number, not {}",
                kind_of(&other)
            ))),
        }
    }
}

/// The error codes this runtime answers with. JSON-RPC reserves −32768..−32000; MCP assigns some of the
/// server range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ErrorCode(pub i32);

impl ErrorCode {
    /// Invalid JSON was received.
    pub const PARSE_ERROR: Self = Self(-32700);
    /// The JSON sent is not a valid request object.
    pub const INVALID_REQUEST: Self = Self(-32600);
    /// The method does not exist or is not available.
    pub const METHOD_NOT_FOUND: Self = Self(-32601);
    /// Invalid method parameters (including an unknown tool name).
    pub const INVALID_PARAMS: Self = Self(-32602);
    /// Internal error (a tool panicked, say). Never carries a backtrace.
    pub const INTERNAL_ERROR: Self = Self(-32603);
    /// MCP: a resource was not found (handshake-era revisions).
    pub const RESOURCE_NOT_FOUND: Self = Self(-32002);
    /// mcp-runtime: no credentials, or credentials refused (HTTP 401).
    pub const UNAUTHENTICATED: Self = Self(-32010);
    /// mcp-runtime: the caller lacks a scope the tool requires (HTTP 403 `insufficient_scope`).
    pub const FORBIDDEN: Self = Self(-32011);
    /// mcp-runtime: too many requests (or failed authentications); `data.retryAfterMs` says when to retry
    /// (HTTP 429).
    pub const RATE_LIMITED: Self = Self(-32012);
    /// mcp-runtime: the rate limiter's shared store cannot decide and `on_error = "closed"` (HTTP 503).
    pub const THROTTLE_UNAVAILABLE: Self = Self(-32013);
    /// mcp-runtime: the audit queue is full and `audit.on_full` refuses the request before it runs (HTTP 503).
    pub const AUDIT_UNAVAILABLE: Self = Self(-32014);
    /// MCP 2026-07-28: the `Mcp-Method` / `Mcp-Name` headers disagree with the body.
    pub const HEADER_MISMATCH: Self = Self(-32020);
    /// MCP 2026-07-28: the request needs a client capability (or extension) the client did not declare.
    pub const MISSING_CLIENT_CAPABILITY: Self = Self(-32021);
    /// MCP 2026-07-28: the request's protocol version is missing or not supported.
    pub const UNSUPPORTED_PROTOCOL_VERSION: Self = Self(-32022);
}

/// A JSON-RPC error object: `{code, message, data?}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorObject {
    /// The error code.
    pub code: ErrorCode,
    /// A short, human-readable message. Never a backtrace or a secret.
    pub message: String,
    /// Structured details, when there are any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<Value>,
}

impl ErrorObject {
    /// An error with a code and a message.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self { code, message: message.into(), data: None }
    }

    /// Adds structured details.
    #[must_use]
    pub fn with_data(mut self, data: Value) -> Self {
        self.data = Some(data);
        self
    }

    /// −32700: the bytes were not JSON.
    pub fn parse_error(detail: impl fmt::Display) -> Self {
        Self::new(ErrorCode::PARSE_ERROR, format!("parse error: {detail}"))
    }

    /// −32600: JSON, but not a JSON-RPC 2.0 message.
    pub fn invalid_request(detail: impl fmt::Display) -> Self {
        Self::new(ErrorCode::INVALID_REQUEST, format!("invalid request: {detail}"))
    }

    /// −32601: no such method.
    pub fn method_not_found(method: &str) -> Self {
        Self::new(ErrorCode::METHOD_NOT_FOUND, format!("method not found: {method}"))
    }

    /// −32602: the parameters do not fit the method.
    pub fn invalid_params(detail: impl fmt::Display) -> Self {
        Self::new(ErrorCode::INVALID_PARAMS, format!("invalid params: {detail}"))
    }

    /// −32603: something failed inside the server. The message must not leak internals.
    pub fn internal(detail: impl fmt::Display) -> Self {
        Self::new(ErrorCode::INTERNAL_ERROR, format!("internal error: {detail}"))
    }
}

impl fmt::Display for ErrorObject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.message, self.code.0)
    }
}

/// A request: it has an id and wants exactly one answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    /// The id the answer must carry.
    pub id: RequestId,
    /// The method name, e.g. `tools/call`.
    pub method: String,
    /// The parameters, always an object (absent parameters decode as an empty object).
    pub params: Map<String, Value>,
}

/// A notification: no id, no answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Notification {
    /// The method name, e.g. `notifications/cancelled`.
    pub method: String,
    /// The parameters, always an object.
    pub params: Map<String, Value>,
}

/// A response from the peer to a request this side sent.
#[derive(Debug, Clone, PartialEq)]
pub struct Response {
    /// The id of the request it answers.
    pub id: RequestId,
    /// The result or the error.
    pub outcome: Result<Value, ErrorObject>,
}

/// One decoded JSON-RPC message.
#[derive(Debug, Clone, PartialEq)]
pub enum Message {
    /// A request.
    Request(Request),
    /// A notification.
    Notification(Notification),
    /// A response to a server-initiated request.
    Response(Response),
}

/// A message that could not be used, with what to answer (when an answer is owed).
#[derive(Debug, Clone, PartialEq)]
pub struct Rejected {
    /// The id to answer with, when one could be read; `None` answers with `"id": null`.
    pub id: Option<RequestId>,
    /// The error to send.
    pub error: ErrorObject,
}

/// What a wire frame held.
#[derive(Debug, Clone, PartialEq)]
pub enum Frame {
    /// One message.
    Single(Result<Message, Rejected>),
    /// A JSON array of messages (allowed only by revisions 2024-11-05 and 2025-03-26).
    Batch(Vec<Result<Message, Rejected>>),
}

/// Decodes one frame (a line on stdio, a body over HTTP).
///
/// # Errors
/// A frame that is not JSON at all, or an empty batch, is rejected as a whole.
pub fn decode(bytes: &[u8]) -> Result<Frame, Rejected> {
    if let Some(request) = plain_request(bytes) {
        return Ok(Frame::Single(Ok(Message::Request(request))));
    }
    let value: Value = serde_json::from_slice(bytes)
        .map_err(|e| Rejected { id: None, error: ErrorObject::parse_error(describe_json_error(&e, bytes)) })?;
    match value {
        Value::Array(items) if items.is_empty() => {
            Err(Rejected { id: None, error: ErrorObject::invalid_request("an empty batch") })
        }
        Value::Array(items) => Ok(Frame::Batch(items.into_iter().map(decode_value).collect())),
        other => Ok(Frame::Single(decode_value(other))),
    }
}

/// The common case read straight into a [`Request`]: one well-formed request, without the generic
/// JSON tree of its envelope. Anything else (a batch, a notification, a response, a member besides the
/// four, a duplicate member, an escaped `jsonrpc`, any error) is `None` and takes the general path,
/// which decides and words it. The four members are read in full (serde would only skim others, without
/// checking their numbers or, from bytes, their UTF-8), and the bytes must be UTF-8 first.
fn plain_request(bytes: &[u8]) -> Option<Request> {
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Plain<'a> {
        #[serde(borrow)]
        jsonrpc: &'a str,
        id: RequestId,
        method: String,
        #[serde(default)]
        params: Option<Map<String, Value>>,
    }
    // An object only: a derived struct would take an array of its members in order too.
    if bytes.iter().find(|b| !matches!(b, b' ' | b'\t' | b'\n' | b'\r')) != Some(&b'{') {
        return None;
    }
    let plain: Plain<'_> = serde_json::from_str(std::str::from_utf8(bytes).ok()?).ok()?;
    (plain.jsonrpc == "2.0").then(|| Request {
        id: plain.id,
        method: plain.method,
        params: plain.params.unwrap_or_default(),
    })
}

fn describe_json_error(e: &serde_json::Error, bytes: &[u8]) -> String {
    if std::str::from_utf8(bytes).is_err() {
        return "the message is not valid UTF-8".to_owned();
    }
    format!("{e}")
}

/// Decodes one message from an already parsed JSON value.
///
/// # Errors
/// A value that is not a JSON-RPC 2.0 message, with the id when one could be read.
pub fn decode_value(value: Value) -> Result<Message, Rejected> {
    let Value::Object(mut obj) = value else {
        return Err(Rejected {
            id: None,
            error: ErrorObject::invalid_request(format_args!("a message must be an object, not {}", kind_of(&value))),
        });
    };
    let id = match obj.remove("id") {
        None => None,
        Some(Value::Null) => {
            return Err(Rejected { id: None, error: ErrorObject::invalid_request("the id must not be null") });
        }
        Some(v) => {
            Some(RequestId::deserialize(v).map_err(|e| Rejected { id: None, error: ErrorObject::invalid_request(e) })?)
        }
    };
    let reject = |msg: String| Rejected { id: id.clone(), error: ErrorObject::invalid_request(msg) };
    let version_ok = matches!(obj.get("jsonrpc"), Some(Value::String(v)) if v == "2.0");
    if !version_ok {
        return Err(reject(match obj.get("jsonrpc") {
            Some(other) => format!("\"jsonrpc\" must be \"2.0\", not {other}"),
            None => "the \"jsonrpc\": \"2.0\" member is missing".to_owned(),
        }));
    }
    match obj.remove("method") {
        Some(Value::String(method)) => {
            let params = match obj.remove("params") {
                None | Some(Value::Null) => Map::new(),
                Some(Value::Object(p)) => p,
                Some(other) => {
                    return Err(reject(format!("params must be an object, not {}", kind_of(&other))));
                }
            };
            Ok(match id {
                Some(id) => Message::Request(Request { id, method, params }),
                None => Message::Notification(Notification { method, params }),
            })
        }
        Some(other) => Err(reject(format!("the method must be a string, not {}", kind_of(&other)))),
        None => {
            let Some(id) = id.clone() else {
                return Err(reject("a message needs a method, or an id with a result or an error".to_owned()));
            };
            let outcome = match (obj.remove("result"), obj.remove("error")) {
                (Some(result), None) => Ok(result),
                (None, Some(error)) => {
                    Err(ErrorObject::deserialize(error).map_err(|e| reject(format!("malformed error object: {e}")))?)
                }
                _ => return Err(reject("a response needs exactly one of result and error".to_owned())),
            };
            Ok(Message::Response(Response { id, outcome }))
        }
    }
}

pub(crate) fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// An outgoing answer to one request: the id and the pre-serialized result, or an error.
///
/// Results are carried as [`RawValue`] so a result is serialized exactly once on its way out.
#[derive(Debug, Clone)]
pub struct Answer {
    /// The id being answered (`None` for errors about frames whose id could not be read).
    pub id: Option<RequestId>,
    /// The result or the error.
    pub body: Result<Box<RawValue>, ErrorObject>,
}

impl Serialize for Answer {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(3))?;
        map.serialize_entry("jsonrpc", "2.0")?;
        map.serialize_entry("id", &self.id)?;
        match &self.body {
            Ok(result) => map.serialize_entry("result", result)?,
            Err(error) => map.serialize_entry("error", error)?,
        }
        map.end()
    }
}

/// An outgoing notification (`notifications/progress`, `notifications/message`, …).
#[derive(Debug, Clone, Serialize)]
pub struct OutgoingNotification {
    jsonrpc: JsonRpcVersion,
    /// The method.
    pub method: &'static str,
    /// The parameters.
    pub params: Value,
}

impl OutgoingNotification {
    /// A notification with its parameters.
    pub fn new(method: &'static str, params: Value) -> Self {
        Self { jsonrpc: JsonRpcVersion, method, params }
    }
}

#[derive(Debug, Clone, Copy)]
struct JsonRpcVersion;

impl Serialize for JsonRpcVersion {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str("2.0")
    }
}

/// A request this server sends to the client (`sampling/createMessage`, `elicitation/create`, …).
#[derive(Debug, Clone, Serialize)]
pub struct OutgoingRequest {
    jsonrpc: JsonRpcVersion,
    /// The id the client's response will carry.
    pub id: RequestId,
    /// The method.
    pub method: &'static str,
    /// The parameters.
    pub params: Value,
}

impl OutgoingRequest {
    /// A request with its id and parameters.
    pub fn new(id: RequestId, method: &'static str, params: Value) -> Self {
        Self { jsonrpc: JsonRpcVersion, id, method, params }
    }
}

/// A message this server sends: an answer, a notification, or a request to the client.
#[derive(Debug, Clone)]
pub enum Outgoing {
    /// The one answer to a request.
    Answer(Answer),
    /// A notification (progress, log message).
    Notification(OutgoingNotification),
    /// The answers to a JSON-RPC batch, as one array (revisions 2024-11-05 and 2025-03-26).
    Batch(Vec<Answer>),
    /// A request to the client.
    Request(OutgoingRequest),
    /// Not a message: asks an SSE transport to end the request's current stream after telling the
    /// client to reconnect in `retry` (SEP-1699 polling); the request goes on and its remaining messages
    /// wait for the client's `Last-Event-ID` resumption. Other transports ignore it.
    CloseStream {
        /// How long the client should wait before reconnecting.
        retry: std::time::Duration,
    },
}

impl Serialize for Outgoing {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Answer(a) => a.serialize(s),
            Self::Notification(n) => n.serialize(s),
            Self::Batch(answers) => answers.serialize(s),
            Self::Request(r) => r.serialize(s),
            Self::CloseStream { .. } => s.serialize_unit(),
        }
    }
}

/// Serializes a result value once, for [`Answer::body`].
///
/// # Errors
/// Only if `T`'s `Serialize` implementation fails (a map with non-string keys, say).
pub fn to_raw<T: Serialize + ?Sized>(value: &T) -> Result<Box<RawValue>, ErrorObject> {
    serde_json::value::to_raw_value(value)
        .map_err(|e| ErrorObject::internal(format_args!("unserializable result: {e}")))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn single(bytes: &str) -> Result<Message, Rejected> {
        match decode(bytes.as_bytes()) {
            Ok(Frame::Single(m)) => m,
            other => panic!("expected a single message, got {other:?}"),
        }
    }

    #[test]
    fn decodes_request_notification_and_response() {
        let m = single(r#"{"jsonrpc":"2.0","id":7,"method":"ping"}"#).unwrap();
        assert_eq!(
            m,
            Message::Request(Request { id: RequestId::number(7), method: "ping".into(), params: Map::new() })
        );
        let m = single(r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#).unwrap();
        assert!(matches!(m, Message::Notification(n) if n.method == "notifications/initialized"));
        let m = single(r#"{"jsonrpc":"2.0","id":"a","result":{}}"#).unwrap();
        assert!(matches!(m, Message::Response(r) if r.outcome == Ok(json!({}))));
    }

    #[test]
    fn plain_requests_decode_as_the_general_path_does() {
        for text in [
            r#"{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"echo","arguments":{"m":"x"}}}"#,
            r#"{"method":"ping","id":"a b","jsonrpc":"2.0"}"#,
            r#"{"jsonrpc":"2.0","id":1.50,"method":"ping","params":null}"#,
            r#"{"jsonrpc":"2.0","id":12345678901234567890,"method":"ping","params":{}}"#,
        ] {
            let value: Value = serde_json::from_str(text).unwrap();
            let general = decode_value(value).unwrap();
            assert_eq!(plain_request(text.as_bytes()).map(Message::Request), Some(general), "{text}");
        }
        // Everything else is left to the general path.
        for text in [
            r#"{"jsonrpc":"2.0","id":null,"method":"ping"}"#,
            r#"{"jsonrpc":"1.0","id":1,"method":"ping"}"#,
            r#"{"jsonrpc":"2\u002e0","id":1,"method":"ping"}"#,
            r#"{"jsonrpc":"2.0","id":1,"method":"ping","params":[1]}"#,
            r#"{"jsonrpc":"2.0","id":1,"id":2,"method":"ping"}"#,
            r#"{"jsonrpc":"2.0","id":1,"method":"ping","extra":1e999}"#,
            r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#,
            r#"{"jsonrpc":"2.0","id":1,"result":{}}"#,
            r#"[{"jsonrpc":"2.0","id":1,"method":"ping"}]"#,
            r#"["2.0",6,"method"]"#,
        ] {
            assert_eq!(plain_request(text.as_bytes()), None, "{text}");
        }
    }

    #[test]
    fn rejects_null_id_bad_version_and_bad_params_with_the_id_when_known() {
        let r = single(r#"{"jsonrpc":"2.0","id":null,"method":"ping"}"#).unwrap_err();
        assert_eq!((r.id, r.error.code), (None, ErrorCode::INVALID_REQUEST));
        let r = single(r#"{"jsonrpc":"1.0","id":3,"method":"ping"}"#).unwrap_err();
        assert_eq!(r.id, Some(RequestId::number(3)));
        let r = single(r#"{"jsonrpc":"2.0","id":"x","method":"ping","params":[1]}"#).unwrap_err();
        assert_eq!(r.id, Some(RequestId::String("x".into())));
        assert!(r.error.message.contains("params must be an object"), "{}", r.error.message);
        let r = single(r#"{"jsonrpc":"2.0","id":{"a":1},"method":"ping"}"#).unwrap_err();
        assert!(r.error.message.contains("string or a number"));
    }

    #[test]
    fn parse_errors_name_utf8_and_json() {
        let r = decode(b"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"\xff\"}").unwrap_err();
        assert_eq!(r.error.code, ErrorCode::PARSE_ERROR);
        assert!(r.error.message.contains("UTF-8"));
        let r = decode(b"{not json").unwrap_err();
        assert_eq!(r.error.code, ErrorCode::PARSE_ERROR);
        assert_eq!(decode(b"[]").unwrap_err().error.code, ErrorCode::INVALID_REQUEST);
    }

    #[test]
    fn batches_decode_item_by_item() {
        let Frame::Batch(items) = decode(br#"[{"jsonrpc":"2.0","id":1,"method":"ping"}, 5]"#).unwrap() else {
            panic!("not a batch")
        };
        assert!(items[0].is_ok());
        assert!(items[1].is_err());
    }

    #[test]
    fn answers_echo_ids_exactly() {
        let id = single(r#"{"jsonrpc":"2.0","id":18446744073709551615,"method":"ping"}"#).unwrap();
        let Message::Request(req) = id else { panic!() };
        let a = Answer { id: Some(req.id), body: Ok(to_raw(&json!({})).unwrap()) };
        assert_eq!(serde_json::to_string(&a).unwrap(), r#"{"jsonrpc":"2.0","id":18446744073709551615,"result":{}}"#);
        let a = Answer { id: None, body: Err(ErrorObject::parse_error("x")) };
        assert_eq!(
            serde_json::to_value(&a).unwrap(),
            json!({"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"parse error: x"}})
        );
    }
}
