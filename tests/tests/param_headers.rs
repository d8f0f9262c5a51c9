//! `x-mcp-header` (SEP-2243) over real sockets: `#[schema(header = "...")]` and builder schemas annotate
//! arguments; a 2026-07-28 `tools/call` over Streamable HTTP must mirror each into its `Mcp-Param-{Name}`
//! header, checked before the tool runs (400, −32020 otherwise); the handshake era checks nothing; a tool
//! whose annotations break the rules is refused at start.

#![allow(clippy::needless_pass_by_value)] // `json!` arguments read best passed by value in tests

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use mcp_runtime::Pipeline;
use mcp_runtime::prelude::*;
use mcp_runtime::server::Tool;
use mcp_tests::{ServedHttp, modern_post};
use reqwest::header::HeaderValue;
use serde_json::{Value, json};

/// Routes a query to a region.
#[mcp_tool]
async fn route(
    /// Where to run it.
    #[schema(header = "Region")]
    region: String,
    /// How urgent it is.
    #[schema(header = "Priority")]
    priority: Option<i64>,
    /// Only plan it.
    #[schema(header = "DryRun")]
    dry_run: Option<bool>,
    /// The query itself, not mirrored.
    query: String,
    hits: State<Arc<AtomicUsize>>,
) -> String {
    hits.fetch_add(1, Ordering::SeqCst);
    format!("{query} in {region} at {priority:?}, dry run {dry_run:?}")
}

/// Counts its calls; mirrors nothing.
#[mcp_tool]
async fn plain(region: String, hits: State<Arc<AtomicUsize>>) -> String {
    hits.fetch_add(1, Ordering::SeqCst);
    region
}

/// A built tool whose annotated argument sits in a nested object.
fn nested(hits: Arc<AtomicUsize>) -> Tool {
    Tool::builder("nested")
        .input_schema_json(json!({"type": "object", "properties": {
            "target": {"type": "object", "properties": {"tenant": {"type": "string", "x-mcp-header": "Tenant"}}}
        }}))
        .handler(move |_args, _ctx| {
            let hits = Arc::clone(&hits);
            async move { hits.fetch_add(1, Ordering::SeqCst).to_string() }
        })
        .build()
        .expect("a valid tool")
}

struct Running {
    _served: ServedHttp,
    url: String,
    hits: Arc<AtomicUsize>,
}

async fn start() -> Running {
    let hits = Arc::new(AtomicUsize::new(0));
    let server = Server::new("param-headers", "0.0.0")
        .tool(route::SPEC)
        .tool(plain::SPEC)
        .tool(nested(Arc::clone(&hits)))
        .with_state(Arc::clone(&hits));
    let served = ServedHttp::serve(server).await;
    Running { url: served.url.clone(), _served: served, hits }
}

/// A 2026-07-28 request with its standard headers (`Mcp-Name` for a call), plus `extra`.
fn modern(url: &str, method: &str, params: Value, extra: &[(&str, HeaderValue)]) -> reqwest::RequestBuilder {
    let mut request = modern_post(&reqwest::Client::new(), url, json!(1), method, params, json!({}));
    for (header, value) in extra {
        request = request.header(*header, value.clone());
    }
    request
}

/// Calls `tool` with `arguments` and the headers `extra`: the status and the body.
async fn call(s: &Running, tool: &str, arguments: Value, extra: &[(&str, &str)]) -> (u16, Value) {
    let extra: Vec<_> = extra.iter().map(|(h, v)| (*h, HeaderValue::from_str(v).unwrap())).collect();
    call_raw(s, tool, arguments, &extra).await
}

async fn call_raw(s: &Running, tool: &str, arguments: Value, extra: &[(&str, HeaderValue)]) -> (u16, Value) {
    let params = json!({"name": tool, "arguments": arguments});
    let response = modern(&s.url, "tools/call", params, extra).send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

/// Asserts a refusal before the tool: 400, −32020, a message mentioning `needle`.
fn refused((status, body): (u16, Value), needle: &str) {
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"]["code"], -32020, "{body}");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.contains(needle), "{needle:?} not in {message:?}");
}

/// Asserts the tool answered with this text.
fn answered((status, body): (u16, Value), text: &str) {
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["result"]["content"][0]["text"], text, "{body}");
}

#[tokio::test]
async fn the_listed_schema_carries_each_annotation() {
    let s = start().await;
    let list = modern(&s.url, "tools/list", json!({}), &[]).send().await.unwrap();
    let list: Value = list.json().await.unwrap();
    let tools = list["result"]["tools"].as_array().unwrap();
    let schema = |name: &str| tools.iter().find(|t| t["name"] == name).unwrap()["inputSchema"].clone();
    let route = schema("route");
    assert_eq!(route["properties"]["region"]["x-mcp-header"], "Region");
    assert_eq!(route["properties"]["region"]["type"], "string");
    assert_eq!(route["properties"]["priority"]["x-mcp-header"], "Priority");
    assert_eq!(route["properties"]["dry_run"]["x-mcp-header"], "DryRun");
    assert!(route["properties"]["query"].get("x-mcp-header").is_none());
    assert!(schema("plain")["properties"]["region"].get("x-mcp-header").is_none());
    assert_eq!(schema("nested")["properties"]["target"]["properties"]["tenant"]["x-mcp-header"], "Tenant");
}

#[tokio::test]
async fn agreeing_headers_are_accepted_plain_or_base64() {
    let s = start().await;
    let args = json!({"region": "us-west1", "query": "q"});
    answered(call(&s, "route", args, &[("Mcp-Param-Region", "us-west1")]).await, "q in us-west1 at None, dry run None");
    let args = json!({"region": "Zürich ", "query": "q"});
    let encoded = "=?base64?WsO8cmljaCA=?="; // "Zürich " (non-ASCII and a trailing space)
    answered(call(&s, "route", args, &[("mcp-param-region", encoded)]).await, "q in Zürich  at None, dry run None");
    // Without both markers (or with them in another case) a value is literal, as the body says it.
    for literal in ["=?base64?SGVsbG8=", "SGVsbG8=", "=?BASE64?SGVsbG8=?="] {
        let args = json!({"region": literal, "query": "q"});
        let (status, body) = call(&s, "route", args, &[("Mcp-Param-Region", literal)]).await;
        assert_eq!(status, 200, "{literal}: {body}");
    }
    // Integers compare as numbers, booleans as true/false; header names in any case.
    let args = json!({"region": "eu", "priority": 42, "dry_run": true, "query": "q"});
    let headers = [("MCP-PARAM-REGION", "eu"), ("Mcp-Param-Priority", "42.0"), ("mcp-param-dryrun", "true")];
    answered(call(&s, "route", args, &headers).await, "q in eu at Some(42), dry run Some(true)");
    // An absent or null argument has no header.
    let args = json!({"region": "eu", "priority": null, "query": "q"});
    answered(call(&s, "route", args, &[("Mcp-Param-Region", "eu")]).await, "q in eu at None, dry run None");
    assert_eq!(s.hits.load(Ordering::SeqCst), 7);
}

#[tokio::test]
async fn every_disagreement_is_refused_before_the_tool_runs() {
    let s = start().await;
    let args = || json!({"region": "us-west1", "priority": 7, "dry_run": false, "query": "q"});
    let all = [("Mcp-Param-Region", "us-west1"), ("Mcp-Param-Priority", "7"), ("Mcp-Param-DryRun", "false")];
    answered(call(&s, "route", args(), &all).await, "q in us-west1 at Some(7), dry run Some(false)");
    // Each header left out in turn.
    for drop in 0..all.len() {
        let partial: Vec<_> = all.iter().enumerate().filter(|(i, _)| *i != drop).map(|(_, h)| *h).collect();
        refused(call(&s, "route", args(), &partial).await, &format!("{} is required", all[drop].0));
    }
    let with = |header: &'static str, value: &'static str| {
        let mut headers = all.to_vec();
        headers.retain(|(h, _)| *h != header);
        headers.push((header, value));
        headers
    };
    refused(call(&s, "route", args(), &with("Mcp-Param-Region", "eu-west1")).await, "\"eu-west1\" but the body's");
    refused(call(&s, "route", args(), &with("Mcp-Param-Region", "US-WEST1")).await, "but the body's `region`");
    refused(call(&s, "route", args(), &with("Mcp-Param-Priority", "8")).await, "Mcp-Param-Priority is \"8\"");
    refused(call(&s, "route", args(), &with("Mcp-Param-DryRun", "False")).await, "Mcp-Param-DryRun");
    refused(call(&s, "route", args(), &with("Mcp-Param-Region", "=?base64?dXMtd2VzdDE?=")).await, "malformed base64");
    refused(
        call(&s, "route", args(), &with("Mcp-Param-Region", "=?base64?dXMt!!!d2VzdDE=?=")).await,
        "malformed base64",
    );
    // A header for an argument the body does not give.
    let no_priority = json!({"region": "us-west1", "query": "q"});
    let headers = [("Mcp-Param-Region", "us-west1"), ("Mcp-Param-Priority", "7")];
    refused(call(&s, "route", no_priority, &headers).await, "the body has no `priority`");
    // Raw bytes outside visible ASCII (the client should have used Base64).
    let raw = HeaderValue::from_bytes("Zürich".as_bytes()).unwrap();
    let args = json!({"region": "Zürich", "query": "q"});
    refused(call_raw(&s, "route", args, &[("mcp-param-region", raw)]).await, "not visible ASCII");
    // The same header twice: an intermediary could route on one line and the server act on the other.
    let twice = [
        ("Mcp-Param-Region", HeaderValue::from_static("us-west1")),
        ("Mcp-Param-Region", HeaderValue::from_static("eu")),
    ];
    refused(call_raw(&s, "route", json!({"region": "us-west1", "query": "q"}), &twice).await, "repeated");
    // The nested argument is found at its path.
    let tenant = json!({"target": {"tenant": "acme"}});
    refused(call(&s, "nested", tenant.clone(), &[]).await, "`target.tenant`");
    let (status, body) = call(&s, "nested", tenant, &[("Mcp-Param-Tenant", "acme")]).await;
    assert_eq!((status, &body["result"]["content"][0]["text"]), (200, &json!("1")), "{body}");
    assert_eq!(s.hits.load(Ordering::SeqCst), 2, "only the agreeing calls ran");
}

#[tokio::test]
async fn a_tool_without_annotations_and_the_handshake_era_are_unaffected() {
    let s = start().await;
    answered(call(&s, "plain", json!({"region": "us-west1"}), &[]).await, "us-west1");
    // An `Mcp-Param-*` header no annotation names is not the server's business.
    answered(call(&s, "plain", json!({"region": "us-west1"}), &[("Mcp-Param-Region", "elsewhere")]).await, "us-west1");

    // 2025-11-25 has no such headers: a session's call runs without them.
    let c = reqwest::Client::new();
    let post = |body: Value| {
        c.post(&s.url)
            .header("content-type", "application/json")
            .header("accept", "application/json, text/event-stream")
            .body(body.to_string())
    };
    let init = json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
        "protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "0"}}});
    let opened = post(init).send().await.unwrap();
    let session = opened.headers()["mcp-session-id"].to_str().unwrap().to_owned();
    let done = json!({"jsonrpc": "2.0", "method": "notifications/initialized"});
    assert_eq!(post(done).header("mcp-session-id", &session).send().await.unwrap().status(), 202);
    let call = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call",
        "params": {"name": "route", "arguments": {"region": "us-west1", "query": "q"}}});
    let answer: Value = post(call).header("mcp-session-id", &session).send().await.unwrap().json().await.unwrap();
    assert_eq!(answer["result"]["content"][0]["text"], "q in us-west1 at None, dry run None", "{answer}");
    assert_eq!(s.hits.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn a_tool_whose_annotations_break_the_rules_is_refused_at_start() {
    let built = |properties: Value| {
        Tool::builder("bad")
            .input_schema_json(json!({"type": "object", "properties": properties}))
            .handler(|_args, _ctx| async move {})
            .build()
            .expect("the builder leaves x-mcp-header to registration")
    };
    let cases = [
        (json!({"score": {"type": "number", "x-mcp-header": "Score"}}), "\"type\" must be"),
        (json!({"v": {"type": "string", "x-mcp-header": "My Region"}}), "not an HTTP field name"),
        (
            json!({"a": {"type": "string", "x-mcp-header": "Region"}, "b": {"type": "string", "x-mcp-header": "REGION"}}),
            "unique regardless of case",
        ),
        (
            json!({"l": {"type": "array", "items": {"type": "string", "x-mcp-header": "Item"}}}),
            "other than `properties`",
        ),
    ];
    for (properties, reason) in cases {
        let Err(error) = Pipeline::build(Server::new("bad", "0.0.0").tool(built(properties.clone()))) else {
            panic!("{properties} was accepted");
        };
        let message = error.to_string();
        assert!(message.contains("tool `bad`") && message.contains(reason), "{reason:?} not in {message}");
    }
}
