//! The corridor's *format* step: a result becomes the bytes of a JSON-RPC result for the request's revision.
//!
//! Under 2026-07-28 every result carries `resultType`, names the server in `_meta`, and cacheable results
//! (the four lists, `server/discover`, `resources/read`) carry `ttlMs` and `cacheScope`. Older revisions
//! get none of these, and no `structuredContent` before 2025-06-18.

use std::time::Duration;

use serde::Serialize;
use serde_json::value::RawValue;
use serde_json::{Map, Value, json};

use crate::protocol::jsonrpc::to_raw;
use crate::protocol::{CallToolResult, ErrorObject, ProtocolVersion};
use crate::request::{McpResponse, Outcome};

/// Whether a result may be cached by 2026-07-28 clients.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Cache {
    /// Not a cacheable result.
    No,
    /// The same for every caller (lists, `server/discover`): cacheable by anyone for the configured list TTL.
    Public,
    /// May depend on the caller (`resources/read`): cacheable for this long within one authorization context.
    Private(Duration),
}

/// What formatting needs of the server: its identity (`{"io.modelcontextprotocol/serverInfo": {...}}`) for
/// 2026-07-28 `_meta`, and how long public results may be cached (`tools.list_ttl`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Format<'a> {
    pub(crate) server_info: &'a Value,
    pub(crate) list_ttl: Duration,
}

#[derive(Serialize)]
struct Envelope<'a, T> {
    #[serde(flatten)]
    body: &'a T,
    #[serde(rename = "resultType")]
    result_type: &'static str,
    #[serde(rename = "ttlMs", skip_serializing_if = "Option::is_none")]
    ttl_ms: Option<u64>,
    #[serde(rename = "cacheScope", skip_serializing_if = "Option::is_none")]
    cache_scope: Option<&'static str>,
    #[serde(rename = "_meta", skip_serializing_if = "Option::is_none")]
    meta: Option<&'a Value>,
}

impl Format<'_> {
    /// Serializes `body` as the result of a request made under `version`.
    pub(crate) fn finish<T: Serialize>(
        self,
        version: ProtocolVersion,
        body: &T,
        cache: Cache,
    ) -> Result<Box<RawValue>, ErrorObject> {
        if !version.is_stateless() {
            return to_raw(body);
        }
        let millis = |ttl: Duration| u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX);
        let (ttl_ms, cache_scope) = match cache {
            Cache::No => (None, None),
            Cache::Public => (Some(millis(self.list_ttl)), Some("public")),
            Cache::Private(ttl) => (Some(millis(ttl)), Some("private")),
        };
        to_raw(&Envelope { body, result_type: "complete", ttl_ms, cache_scope, meta: Some(self.server_info) })
    }

    /// The 2026-07-28 answer to a call that made a task: the task, `resultType: "task"`, the server in
    /// `_meta`.
    pub(crate) fn task_created<T: Serialize>(self, task: &T) -> Result<Box<RawValue>, ErrorObject> {
        to_raw(&Envelope {
            body: task,
            result_type: "task",
            ttl_ms: None,
            cache_scope: None,
            meta: Some(self.server_info),
        })
    }

    /// Formats a `tools/call` result for `version`: wraps non-object structured output when the tool's
    /// schema says so, drops structured output for revisions that predate it, and merges the server's
    /// identity into `_meta` under 2026-07-28.
    pub(crate) fn tool_response(
        self,
        version: ProtocolVersion,
        mut result: CallToolResult,
        wrap_output: bool,
        outcome: Outcome,
    ) -> McpResponse {
        if !version.has_structured_output() {
            result.structured_content = None;
        } else if wrap_output && !result.is_error {
            result.structured_content = result.structured_content.map(|v| json!({ "result": v }));
        }
        let body = if version.is_stateless() {
            let mut meta = result.meta.take().unwrap_or_default();
            if let Value::Object(info) = self.server_info {
                meta.extend(info.iter().map(|(k, v)| (k.clone(), v.clone())));
            }
            result.meta = Some(meta);
            to_raw(&Envelope { body: &result, result_type: "complete", ttl_ms: None, cache_scope: None, meta: None })
        } else {
            to_raw(&result)
        };
        McpResponse { body, outcome }
    }

    /// The 2026-07-28 answer to a handler that asked the client for input: the requests, keyed, and the
    /// sealed state the retry resumes from; the client calls again with `inputResponses` under the same
    /// keys and the state echoed.
    pub(crate) fn input_required(self, requests: Map<String, Value>, state: Option<String>) -> McpResponse {
        #[derive(Serialize)]
        struct InputRequired<'a> {
            #[serde(rename = "resultType")]
            result_type: &'static str,
            #[serde(rename = "inputRequests")]
            input_requests: Map<String, Value>,
            #[serde(rename = "requestState", skip_serializing_if = "Option::is_none")]
            request_state: Option<String>,
            #[serde(rename = "_meta")]
            meta: &'a Value,
        }
        let body = to_raw(&InputRequired {
            result_type: "input_required",
            input_requests: requests,
            request_state: state,
            meta: self.server_info,
        });
        McpResponse { body, outcome: Outcome::InputRequired }
    }
}

/// An empty result (`{}` plus the 2026-07-28 envelope).
pub(crate) fn empty() -> Map<String, Value> {
    Map::new()
}

/// A result body (or error) as the corridor's response.
pub(crate) fn answer(body: Result<Box<RawValue>, ErrorObject>) -> McpResponse {
    let outcome = if body.is_ok() { Outcome::Ok } else { Outcome::InvalidRequest };
    McpResponse { body, outcome }
}
