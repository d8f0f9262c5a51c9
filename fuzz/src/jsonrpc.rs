//! Target 1: JSON-RPC decoding of arbitrary bytes (batches, id types, huge numbers, deep nesting).
//!
//! Input: the raw frame, as a stdio line or an HTTP body. Invariants: no panic (serde_json's depth limit
//! keeps deep nesting off the stack); the verdict agrees with an independent reading of JSON-RPC 2.0 —
//! a frame is refused as a whole exactly when it is not JSON or is an empty array, a batch keeps one
//! entry per element, every message is accepted exactly when it is a well-formed request, notification
//! or response, ids are echoed byte for byte, and refusals carry −32700 or −32600.

use mcp_runtime::protocol::jsonrpc::decode;
use mcp_runtime::protocol::{ErrorCode, Frame, Message, Rejected, RequestId};
use serde_json::Value;

/// Decodes `data` and checks the verdict.
pub fn run(data: &[u8]) {
    let decoded = decode(data);
    let parsed: Result<Value, _> = serde_json::from_slice(data);
    match (decoded, parsed) {
        (Err(rejected), Err(_)) => {
            assert_eq!(rejected.error.code, ErrorCode::PARSE_ERROR, "{rejected:?}");
            assert!(rejected.id.is_none());
        }
        (Err(rejected), Ok(Value::Array(items))) if items.is_empty() => {
            assert_eq!(rejected.error.code, ErrorCode::INVALID_REQUEST, "{rejected:?}");
        }
        (Err(rejected), Ok(value)) => panic!("JSON {value} refused as a whole: {rejected:?}"),
        (Ok(frame), Err(e)) => panic!("not JSON ({e}) yet decoded: {frame:?}"),
        (Ok(Frame::Batch(messages)), Ok(Value::Array(items))) => {
            assert_eq!(messages.len(), items.len(), "one entry per batch element");
            for (message, item) in messages.iter().zip(&items) {
                check_message(message, item);
            }
        }
        (Ok(Frame::Single(message)), Ok(value)) if !value.is_array() => check_message(&message, &value),
        (Ok(frame), Ok(value)) => panic!("{value} decoded as the wrong kind of frame: {frame:?}"),
    }
}

/// What JSON-RPC 2.0 makes of one value, read independently of the runtime.
#[derive(Debug, PartialEq)]
enum Expected {
    Request,
    Notification,
    Response,
    Invalid,
}

fn expected(value: &Value) -> Expected {
    let Some(obj) = value.as_object() else { return Expected::Invalid };
    let id_ok = match obj.get("id") {
        None => true,
        Some(id) => id.is_string() || id.is_number(),
    };
    if !id_ok || obj.get("jsonrpc").and_then(Value::as_str) != Some("2.0") {
        return Expected::Invalid;
    }
    match (obj.get("method"), obj.contains_key("id")) {
        (Some(Value::String(_)), has_id) => {
            let params_ok = matches!(obj.get("params"), None | Some(Value::Null | Value::Object(_)));
            match (params_ok, has_id) {
                (false, _) => Expected::Invalid,
                (true, true) => Expected::Request,
                (true, false) => Expected::Notification,
            }
        }
        (Some(_), _) | (None, false) => Expected::Invalid,
        (None, true) => match (obj.get("result"), obj.get("error")) {
            (Some(_), None) => Expected::Response,
            (None, Some(error)) if is_error_object(error) => Expected::Response,
            _ => Expected::Invalid,
        },
    }
}

/// A JSON-RPC error object: an integer `code` that fits `i32` and a string `message`.
fn is_error_object(error: &Value) -> bool {
    let Some(obj) = error.as_object() else { return false };
    let code_ok = obj.get("code").and_then(Value::as_i64).is_some_and(|c| i32::try_from(c).is_ok());
    code_ok && obj.get("message").is_some_and(Value::is_string)
}

fn check_message(message: &Result<Message, Rejected>, value: &Value) {
    let want = expected(value);
    let id = value.get("id");
    match message {
        Ok(Message::Request(r)) => {
            assert_eq!(want, Expected::Request, "{value}");
            assert_eq!(Some(&r.method), value.get("method").and_then(Value::as_str).map(str::to_owned).as_ref());
            assert_id(&r.id, id);
        }
        Ok(Message::Notification(n)) => {
            assert_eq!(want, Expected::Notification, "{value}");
            assert_eq!(Some(n.method.as_str()), value.get("method").and_then(Value::as_str));
        }
        Ok(Message::Response(r)) => {
            assert_eq!(want, Expected::Response, "{value}");
            assert_id(&r.id, id);
            assert_eq!(r.outcome.is_ok(), value.get("result").is_some());
        }
        Err(rejected) => {
            assert_eq!(want, Expected::Invalid, "{value} refused: {rejected:?}");
            assert_eq!(rejected.error.code, ErrorCode::INVALID_REQUEST, "{rejected:?}");
            if let Some(echoed) = &rejected.id {
                assert_id(echoed, id);
            }
        }
    }
}

/// The decoded id serializes back to exactly the id that was sent.
fn assert_id(decoded: &RequestId, sent: Option<&Value>) {
    let echoed = serde_json::to_value(decoded).expect("an id serializes");
    assert_eq!(Some(&echoed), sent, "the id is echoed as sent");
}
