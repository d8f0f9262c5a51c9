//! The errors of a 2026-07-28 (stateless) request, code and HTTP status, as the `server-stateless` scenario
//! (SEP-2575) checks them: a request that says it is 2026-07-28 but lacks its `_meta` fields (−32602,
//! 400); the methods and notifications the revision removed (−32601, 404); a request whose handler fails
//! for want of a client capability the client did not declare (−32021, 400, `data.requiredCapabilities`;
//! a handler that does without it is answered as usual); no log messages
//! without `_meta` `logLevel`. Over Streamable HTTP, then what of it applies over stdio.

#![allow(clippy::needless_pass_by_value)] // `json!` arguments read best passed by value in tests

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use mcp_runtime::prelude::*;
use mcp_tests::{Harness, ServedHttp};
use serde_json::{Value, json};

const VERSION: &str = "io.modelcontextprotocol/protocolVersion";
const CAPABILITIES: &str = "io.modelcontextprotocol/clientCapabilities";

/// Asks the client's model; counts the calls that got past the question.
#[mcp_tool]
async fn ask_model(ctx: Context, answered: State<Arc<AtomicUsize>>) -> Result<String, ToolError> {
    let params = json!({"messages": [{"role": "user", "content": {"type": "text", "text": "hi"}}], "maxTokens": 5});
    let answer = ctx.create_message(params).await.map_err(ToolError::msg)?;
    answered.fetch_add(1, Ordering::SeqCst);
    Ok(format!("model says {}", answer["content"]["text"]))
}

/// Asks the user.
#[mcp_tool]
async fn ask_user(ctx: Context) -> Result<String, ToolError> {
    let params = json!({"message": "ok?", "requestedSchema": {"type": "object", "properties": {}}});
    let answer = ctx.elicit(params).await.map_err(ToolError::msg)?;
    Ok(format!("user says {}", answer["action"]))
}

/// Asks the user, and does without an answer when it cannot ask.
#[mcp_tool]
async fn ask_or_guess(ctx: Context) -> String {
    let params = json!({"message": "colour?", "requestedSchema": {"type": "object", "properties": {}}});
    match ctx.elicit(params).await {
        Ok(answer) => format!("user says {}", answer["action"]),
        Err(e) => format!("guessed blue ({e})"),
    }
}

/// Logs twice, then answers.
#[mcp_tool]
async fn chatty(ctx: Context) -> &'static str {
    ctx.info("first").await;
    ctx.log(LogLevel::Error, "second").await;
    "done"
}

/// A prompt that needs the client's roots.
#[mcp_prompt]
async fn rooted(ctx: Context) -> Result<String, ToolError> {
    let roots = ctx.list_roots().await.map_err(ToolError::msg)?;
    Ok(format!("roots: {roots}"))
}

fn server(answered: &Arc<AtomicUsize>) -> Server {
    Server::new("stateless-errors", "0.0.0")
        .tool(ask_model::SPEC)
        .tool(ask_user::SPEC)
        .tool(ask_or_guess::SPEC)
        .tool(chatty::SPEC)
        .prompt(rooted::SPEC)
        .with_state(Arc::clone(answered))
}

struct Running {
    _served: ServedHttp,
    url: String,
    answered: Arc<AtomicUsize>,
}

async fn start() -> Running {
    let answered = Arc::new(AtomicUsize::new(0));
    let served = ServedHttp::serve(server(&answered)).await;
    Running { url: served.url.clone(), _served: served, answered }
}

/// The `_meta` of a 2026-07-28 request declaring `capabilities`.
fn meta(capabilities: Value) -> Value {
    json!({VERSION: "2026-07-28", CAPABILITIES: capabilities})
}

/// A POST as a 2026-07-28 client sends it: the body as given, `MCP-Protocol-Version: 2026-07-28`,
/// `Mcp-Method` and (for the methods that have one) `Mcp-Name` from the body.
async fn post(url: &str, body: Value) -> (u16, Value) {
    let method = body["method"].as_str().unwrap_or_default().to_owned();
    let mut request = reqwest::Client::new()
        .post(url)
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .header("mcp-protocol-version", "2026-07-28")
        .header("mcp-method", &method);
    if let Some(name) = body["params"]["name"].as_str() {
        request = request.header("mcp-name", name);
    }
    let response = request.body(body.to_string()).send().await.unwrap();
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    (status, if text.is_empty() { Value::Null } else { serde_json::from_str(&text).expect("a JSON body") })
}

fn request(id: i64, method: &str, params: Value) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params})
}

#[tokio::test]
async fn a_2026_request_without_its_meta_fields_is_invalid_params() {
    let s = start().await;
    let cases = [
        ("no _meta", json!({})),
        ("_meta without the protocol version", json!({"_meta": {CAPABILITIES: {}}})),
        ("_meta without the client capabilities", json!({"_meta": {VERSION: "2026-07-28"}})),
        ("_meta not an object", json!({"_meta": "2026-07-28"})),
        ("a protocol version that is no string", json!({"_meta": {VERSION: 20260728, CAPABILITIES: {}}})),
    ];
    for (id, (case, params)) in (1..).zip(cases) {
        let (status, body) = post(&s.url, request(id, "server/discover", params)).await;
        assert_eq!(status, 400, "{case}: {body}");
        assert_eq!(body["error"]["code"], -32602, "{case}: {body}");
        assert_eq!(body["id"], id, "{case}: the error carries the request's id");
    }
    // The same request complete is served.
    let (status, body) = post(&s.url, request(9, "server/discover", json!({"_meta": meta(json!({}))}))).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["result"]["supportedVersions"][0], "2026-07-28");
}

#[tokio::test]
async fn without_the_header_or_meta_a_request_is_of_the_handshake_era() {
    let s = start().await;
    let plain = |body: Value| {
        reqwest::Client::new()
            .post(&s.url)
            .header("content-type", "application/json")
            .header("accept", "application/json, text/event-stream")
            .body(body.to_string())
            .send()
    };
    // No session yet: the handshake era asks for one (not the −32602 of a 2026-07-28 request).
    let r = plain(request(1, "tools/list", json!({}))).await.unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(r.json::<Value>().await.unwrap()["error"]["code"], -32600);
    let init =
        json!({"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "0"}});
    let r = plain(request(2, "initialize", init)).await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers().contains_key("mcp-session-id"), "initialize without 2026-07-28 opens a session");
    assert_eq!(r.json::<Value>().await.unwrap()["result"]["protocolVersion"], "2025-11-25");
    // A header naming a revision this server does not speak, without `_meta`: −32022, as before.
    let r = reqwest::Client::new()
        .post(&s.url)
        .header("content-type", "application/json")
        .header("accept", "application/json")
        .header("mcp-protocol-version", "1999-01-01")
        .body(request(3, "tools/list", json!({})).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(r.json::<Value>().await.unwrap()["error"]["code"], -32022);
}

#[tokio::test]
async fn methods_the_revision_removed_are_not_found() {
    let s = start().await;
    let removed = [
        "initialize",
        "ping",
        "logging/setLevel",
        "resources/subscribe",
        "resources/unsubscribe",
        "tasks/result",
        "tasks/list",
        "no/such/method",
    ];
    for (id, method) in (100..).zip(removed) {
        let mut params = json!({"_meta": meta(json!({}))});
        if method == "initialize" {
            params["protocolVersion"] = json!("2026-07-28");
            params["capabilities"] = json!({});
            params["clientInfo"] = json!({"name": "t", "version": "0"});
        }
        let (status, body) = post(&s.url, request(id, method, params)).await;
        assert_eq!(status, 404, "{method}: {body}");
        assert_eq!(body["error"]["code"], -32601, "{method}: {body}");
        assert_eq!(body["id"], id, "{method}");
    }
    for note in ["notifications/initialized", "notifications/roots/list_changed"] {
        let (status, body) = post(&s.url, json!({"jsonrpc": "2.0", "method": note})).await;
        assert_eq!(status, 404, "{note}: {body}");
        assert_eq!(body["error"]["code"], -32601, "{note}: {body}");
        assert!(body["id"].is_null(), "a notification has no id to echo: {body}");
    }
    let cancelled = json!({"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": 1}});
    assert_eq!(post(&s.url, cancelled).await.0, 202);
}

#[tokio::test]
async fn a_request_needing_an_undeclared_capability_is_refused_32021() {
    let s = start().await;
    let call = |id: i64, tool: &str, capabilities: Value| {
        request(id, "tools/call", json!({"name": tool, "arguments": {}, "_meta": meta(capabilities)}))
    };
    let (status, body) = post(&s.url, call(1, "ask_model", json!({}))).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["id"], 1);
    assert_eq!(body["error"]["code"], -32021, "{body}");
    assert_eq!(body["error"]["data"]["requiredCapabilities"], json!({"sampling": {}}), "{body}");
    assert_eq!(s.answered.load(Ordering::SeqCst), 0, "the tool went no further than its question");

    let (status, body) = post(&s.url, call(2, "ask_user", json!({"sampling": {}}))).await;
    assert_eq!((status, &body["error"]["code"]), (400, &json!(-32021)), "{body}");
    assert_eq!(body["error"]["data"]["requiredCapabilities"], json!({"elicitation": {}}), "{body}");

    // Prompts too.
    let get = request(3, "prompts/get", json!({"name": "rooted", "_meta": meta(json!({"sampling": {}}))}));
    let (status, body) = post(&s.url, get).await;
    assert_eq!((status, &body["error"]["code"]), (400, &json!(-32021)), "{body}");
    assert_eq!(body["error"]["data"]["requiredCapabilities"], json!({"roots": {}}), "{body}");

    // A tool that does without what it was refused is answered as usual.
    let (status, body) = post(&s.url, call(5, "ask_or_guess", json!({}))).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["result"]["resultType"], "complete", "{body}");
    assert!(body["result"]["content"][0]["text"].as_str().unwrap().starts_with("guessed blue"), "{body}");

    // Declared, the same call asks the client (input_required) instead.
    let (status, body) = post(&s.url, call(4, "ask_model", json!({"sampling": {}}))).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["result"]["resultType"], "input_required", "{body}");
}

#[tokio::test]
async fn a_handshake_client_without_the_capability_gets_a_tool_error() {
    let mut h = Harness::start(server(&Arc::new(AtomicUsize::new(0)))).await;
    h.call(1, "ask_model", json!({})).await;
    let answer = h.recv().await;
    assert_eq!(answer["result"]["isError"], true, "{answer}");
    let text = answer["result"]["content"][0]["text"].as_str().unwrap();
    assert!(text.contains("sampling"), "the tool read PeerError::Unsupported: {text}");
}

#[tokio::test]
async fn log_messages_go_only_to_requests_that_set_a_level() {
    let s = start().await;
    let call = |id: i64, meta: Value| request(id, "tools/call", json!({"name": "chatty", "_meta": meta}));
    // Without `logLevel`: the answer alone, as JSON.
    let (status, body) = post(&s.url, call(1, meta(json!({})))).await;
    assert_eq!(status, 200);
    assert_eq!(body["result"]["content"][0]["text"], "done", "{body}");

    // With `logLevel: error`: the error message comes first, on the request's stream.
    let mut with_level = meta(json!({}));
    with_level["io.modelcontextprotocol/logLevel"] = json!("error");
    let body = call(2, with_level);
    let response = reqwest::Client::new()
        .post(&s.url)
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .header("mcp-protocol-version", "2026-07-28")
        .header("mcp-method", "tools/call")
        .header("mcp-name", "chatty")
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["content-type"], "text/event-stream");
    let text = response.text().await.unwrap();
    let messages: Vec<Value> = text
        .lines()
        .filter_map(|l| l.strip_prefix("data:"))
        .filter_map(|d| serde_json::from_str(d.trim()).ok())
        .collect();
    let logs: Vec<&Value> = messages.iter().filter(|m| m["method"] == "notifications/message").collect();
    assert_eq!(logs.len(), 1, "only the message at the level or above: {messages:?}");
    assert_eq!(logs[0]["params"]["data"], "second");
    assert_eq!(messages.last().unwrap()["result"]["content"][0]["text"], "done");
}

#[tokio::test]
async fn over_stdio_the_same_codes_apply() {
    let mut h = Harness::serve(server(&Arc::new(AtomicUsize::new(0)))).await;
    // Neither a handshake nor `_meta`: −32602, send initialize first.
    assert_eq!(h.request(1, "tools/list", json!({})).await["error"]["code"], -32602);
    // `_meta` without the client capabilities: −32602.
    let partial = json!({"_meta": {VERSION: "2026-07-28"}});
    assert_eq!(h.request(2, "tools/list", partial).await["error"]["code"], -32602);
    // `initialize` and `ping` carrying the 2026-07-28 `_meta` are removed methods, and open no session.
    let init = json!({"protocolVersion": "2026-07-28", "capabilities": {}, "clientInfo": {"name": "t", "version": "0"},
        "_meta": meta(json!({}))});
    assert_eq!(h.request(3, "initialize", init).await["error"]["code"], -32601);
    assert_eq!(h.request(4, "ping", json!({"_meta": meta(json!({}))})).await["error"]["code"], -32601);
    assert_eq!(h.request(5, "tools/list", json!({})).await["error"]["code"], -32602, "still no session");
    // A tool needing an undeclared capability: −32021 with the capability named.
    let call = json!({"name": "ask_model", "arguments": {}, "_meta": meta(json!({}))});
    let answer = h.request(6, "tools/call", call).await;
    assert_eq!(answer["error"]["code"], -32021, "{answer}");
    assert_eq!(answer["error"]["data"]["requiredCapabilities"], json!({"sampling": {}}));
    // And a complete 2026-07-28 request is served.
    let listed = h.request(7, "tools/list", json!({"_meta": meta(json!({}))})).await;
    assert_eq!(listed["result"]["tools"].as_array().map(Vec::len), Some(4), "{listed}");
}
