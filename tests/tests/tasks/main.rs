//! Tasks end to end, as a client sees them: a `tools/call` answered with a task the client polls, in both
//! eras (2025-11-25 `params.task`, `tasks/get|result|list|cancel`; the 2026-07-28 `io.modelcontextprotocol/
//! tasks` extension with `tasks/get|update|cancel`), over stdio (the in-process [`Harness`]) and Streamable
//! HTTP (in-process on a real socket, or the inventory example's binary), through the corridor (scopes,
//! validation, rate limits, the audit trail) and the server's shutdown.
//!
//! Here the tools every test serves and the client plumbing; one module per subject.

#![allow(clippy::needless_pass_by_value)] // `json!` arguments read best passed by value in tests

mod corridor;
mod handshake;
mod input;
mod isolation;
mod modern;
mod shutdown;

use std::time::{Duration, Instant};

use mcp_runtime::config::{ApiKeyEntry, ApiKeys, AuthStrategy, Config};
use mcp_runtime::prelude::*;
use mcp_tests::{Harness, ServedHttp, TIMEOUT, answer_of, modern_post};
use serde_json::{Value, json};

/// The 2026-07-28 tasks extension's name.
const EXTENSION: &str = "io.modelcontextprotocol/tasks";
/// The `_meta` key tying a message to its task.
const RELATED: &str = "io.modelcontextprotocol/related-task";
/// What the panicking tool says; no client may read it.
const PANIC_TEXT: &str = "the secret panic text 5c1e";

/// Works `ms` milliseconds, then says so; a task when the client asks for one. With 0 it ends in its
/// first poll (a zero sleep still yields once).
#[mcp_tool(task = "optional")]
async fn work(ms: u64) -> String {
    if ms > 0 {
        tokio::time::sleep(Duration::from_millis(ms)).await;
    }
    format!("worked {ms}ms")
}

/// Fails with a tool error after a short while; a task when the client asks for one.
#[mcp_tool(task = "optional")]
async fn fails() -> Result<String, ToolError> {
    tokio::time::sleep(Duration::from_millis(50)).await;
    Err(ToolError::msg("the job failed"))
}

/// Panics after a short while; a task when the client asks for one.
#[mcp_tool(task = "optional")]
async fn explodes() -> String {
    tokio::time::sleep(Duration::from_millis(50)).await;
    panic!("{PANIC_TEXT}")
}

/// Asks the user to confirm inside the task, then says what was answered.
#[mcp_tool(task = "optional")]
async fn asks(ctx: Context) -> Result<String, ToolError> {
    let ask = json!({"message": "Go ahead?", "requestedSchema": {"type": "object",
        "properties": {"confirm": {"type": "boolean"}}, "required": ["confirm"]}});
    let answer = ctx.elicit(ask).await.map_err(ToolError::msg)?;
    Ok(format!("confirmed: {}", answer["content"]["confirm"]))
}

/// Answers at once; never a task.
#[mcp_tool]
async fn plain() -> String {
    "plain".to_owned()
}

/// Works a little; only as a task.
#[mcp_tool(task = "required")]
async fn only_task() -> String {
    tokio::time::sleep(Duration::from_millis(100)).await;
    "done as a task".to_owned()
}

/// Works `ms` milliseconds, for callers with the scope `tasks:write` only.
#[mcp_tool(task = "optional", scopes = ["tasks:write"])]
async fn scoped_work(ms: u64) -> String {
    tokio::time::sleep(Duration::from_millis(ms)).await;
    format!("worked {ms}ms")
}

/// The server every in-process test serves (without an audit trail unless the test names one).
fn server(mut config: Config) -> Server {
    if config.audit.destination == "auto" {
        config.audit.destination = "none".to_owned();
    }
    Server::new("tasks-test", "0.0.0")
        .tool(work::SPEC)
        .tool(fails::SPEC)
        .tool(explodes::SPEC)
        .tool(asks::SPEC)
        .tool(plain::SPEC)
        .tool(only_task::SPEC)
        .tool(scoped_work::SPEC)
        .config(config)
}

/// A key with `tasks:write`, of principal `worker`.
const WORKER_KEY: &str = "tasks-test-worker-3a7f";
/// A key without it, of principal `watcher`.
const WATCHER_KEY: &str = "tasks-test-watcher-91bd";

/// A configuration asking for one of the two API keys.
fn keyed() -> Config {
    let mut config = Config::default();
    config.security.strategy = AuthStrategy::ApiKey;
    config.security.keys = ApiKeys::Inline(vec![
        ApiKeyEntry {
            id: "worker".into(),
            hash: mcp_runtime::auth::key_digest(WORKER_KEY),
            scopes: vec!["tasks:write".into()],
        },
        ApiKeyEntry { id: "watcher".into(), hash: mcp_runtime::auth::key_digest(WATCHER_KEY), scopes: vec![] },
    ]);
    config
}

/// Whether a status is terminal.
fn terminal(status: &Value) -> bool {
    ["completed", "failed", "cancelled"].iter().any(|s| status == s)
}

/// The JSON-RPC error code of an answer (panics when it is a result).
#[track_caller]
fn code(answer: &Value) -> i64 {
    match answer["error"]["code"].as_i64() {
        Some(code) => code,
        None => panic!("an error: {answer}"),
    }
}

// ---- stdio (in-process) ------------------------------------------------------------------------------------

/// A client of a server served in-process over the stdio transport, numbering its requests.
struct Stdio {
    h: Harness,
    next: i64,
    /// The messages read while waiting for answers (notifications, the server's requests).
    seen: Vec<Value>,
}

impl Stdio {
    /// Serves `server` with `config` without a handshake (2026-07-28 needs none).
    async fn serve(config: Config) -> Self {
        Self { h: Harness::serve(server(config)).await, next: 100, seen: Vec::new() }
    }

    /// Serves and runs the handshake under `version`, declaring `capabilities`; returns the initialize
    /// result too.
    async fn open(config: Config, version: &str, capabilities: Value) -> (Self, Value) {
        let mut s = Self::serve(config).await;
        let params = json!({"protocolVersion": version, "capabilities": capabilities,
            "clientInfo": {"name": "tasks-test", "version": "0"}});
        let init = s.req("initialize", params).await;
        s.h.send(json!({"jsonrpc": "2.0", "method": "notifications/initialized"})).await;
        (s, init["result"].clone())
    }

    /// A 2025-11-25 client declaring elicitation.
    async fn v2025(config: Config) -> Self {
        let (s, init) = Self::open(config, "2025-11-25", json!({"elicitation": {}})).await;
        assert_eq!(init["protocolVersion"], "2025-11-25", "{init}");
        s
    }

    /// The id the next request gets.
    fn id(&mut self) -> i64 {
        self.next += 1;
        self.next
    }

    /// Sends a request; its answer (other messages are kept in `seen`).
    async fn req(&mut self, method: &str, params: Value) -> Value {
        let id = self.id();
        self.h.send(json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params})).await;
        loop {
            let message = self.h.recv().await;
            if message.get("id") == Some(&json!(id)) && message.get("method").is_none() {
                return message;
            }
            self.seen.push(message);
        }
    }

    /// `tools/call` with `params.task = task`; the whole answer.
    async fn call_task(&mut self, tool: &str, arguments: Value, task: Value) -> Value {
        self.req("tools/call", json!({"name": tool, "arguments": arguments, "task": task})).await
    }

    /// Creates a task of `tool` (2025-11-25); its id.
    async fn create(&mut self, tool: &str, arguments: Value) -> String {
        let answer = self.call_task(tool, arguments, json!({})).await;
        let task = &answer["result"]["task"];
        assert_eq!(task["status"], "working", "a new task works: {answer}");
        task["taskId"].as_str().unwrap_or_else(|| panic!("a task id: {answer}")).to_owned()
    }

    /// `tasks/get` of `id`; the whole answer.
    async fn get(&mut self, id: &str) -> Value {
        self.req("tasks/get", json!({"taskId": id})).await
    }

    /// Polls `tasks/get` until the task's status is `status` (or, with `"terminal"`, any terminal one);
    /// the task then.
    async fn until(&mut self, id: &str, status: &str) -> Value {
        let deadline = Instant::now() + TIMEOUT;
        loop {
            let answer = self.get(id).await;
            let task = answer["result"].clone();
            assert!(task.is_object(), "tasks/get answers: {answer}");
            if task["status"] == status || (status == "terminal" && terminal(&task["status"])) {
                return task;
            }
            assert!(!terminal(&task["status"]), "the task ended {task} before reaching {status}");
            assert!(Instant::now() < deadline, "task {id} not {status} within {TIMEOUT:?}: {task}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

// ---- 2026-07-28 messages -----------------------------------------------------------------------------------

/// Client capabilities declaring the tasks extension (and elicitation).
fn with_extension() -> Value {
    json!({"elicitation": {}, "extensions": {EXTENSION: {}}})
}

/// A 2026-07-28 request whose `_meta` declares `capabilities`.
fn modern(id: Value, method: &str, params: Value, capabilities: Value) -> Value {
    let mut params = params;
    params["_meta"] = mcp_tests::modern_meta_with(capabilities);
    json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params})
}

// ---- Streamable HTTP ---------------------------------------------------------------------------------------

/// A server served in-process over Streamable HTTP on a real socket, until stopped.
struct Http {
    url: String,
    c: reqwest::Client,
    served: ServedHttp,
}

impl Http {
    async fn serve(config: Config) -> Self {
        let served = ServedHttp::serve(server(config)).await;
        Self { url: served.url.clone(), c: client(), served }
    }

    /// Stops the server as SIGTERM does (drain, flush the audit trail) and waits for it.
    async fn stop(self) {
        self.served.stop().await;
    }

    /// A 2026-07-28 request (see [`post_modern`]).
    async fn modern(&self, key: Option<&str>, id: i64, method: &str, params: Value, caps: Value) -> (u16, Value) {
        post_modern(&self.c, &self.url, key, id, method, params, caps).await
    }
}

fn client() -> reqwest::Client {
    reqwest::Client::builder().pool_max_idle_per_host(0).build().unwrap()
}

/// POSTs a 2026-07-28 request with its headers (`Mcp-Name`: the tool or the task), `key` as the bearer
/// token when given; the HTTP status and the JSON-RPC answer.
async fn post_modern(
    c: &reqwest::Client,
    url: &str,
    key: Option<&str>,
    id: i64,
    method: &str,
    params: Value,
    caps: Value,
) -> (u16, Value) {
    let mut r = modern_post(c, url, json!(id), method, params, caps);
    if let Some(key) = key {
        r = r.bearer_auth(key);
    }
    answer_of(r.send().await.unwrap(), &json!(id)).await
}

/// A 2025-11-25 session over Streamable HTTP, `key` as the bearer token when given.
struct Session {
    c: reqwest::Client,
    url: String,
    key: Option<String>,
    id: String,
    next: i64,
}

impl Session {
    /// Runs the handshake; the initialize result is checked to offer tasks.
    async fn open(url: &str, key: Option<&str>) -> Self {
        let c = client();
        let body = json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {"protocolVersion": "2025-11-25",
            "capabilities": {}, "clientInfo": {"name": "tasks-test", "version": "0"}}});
        let mut r = c
            .post(url)
            .header("content-type", "application/json")
            .header("accept", "application/json, text/event-stream")
            .body(body.to_string());
        if let Some(key) = key {
            r = r.bearer_auth(key);
        }
        let response = r.send().await.unwrap();
        let id = response.headers()["mcp-session-id"].to_str().unwrap().to_owned();
        let (status, init) = answer_of(response, &json!(0)).await;
        assert_eq!(status, 200, "{init}");
        assert!(init["result"]["capabilities"]["tasks"].is_object(), "tasks are offered: {init}");
        let mut s = Self { c, url: url.to_owned(), key: key.map(str::to_owned), id, next: 0 };
        let (status, _) = s.post(json!({"jsonrpc": "2.0", "method": "notifications/initialized"})).await;
        assert_eq!(status, 202);
        s
    }

    async fn post(&mut self, body: Value) -> (u16, reqwest::Response) {
        let mut r = self
            .c
            .post(&self.url)
            .header("content-type", "application/json")
            .header("accept", "application/json, text/event-stream")
            .header("mcp-protocol-version", "2025-11-25")
            .header("mcp-session-id", &self.id)
            .body(body.to_string());
        if let Some(key) = &self.key {
            r = r.bearer_auth(key);
        }
        let response = r.send().await.unwrap();
        (response.status().as_u16(), response)
    }

    /// A request in the session; the HTTP status and the answer.
    async fn req(&mut self, method: &str, params: Value) -> (u16, Value) {
        self.next += 1;
        let id = json!(self.next);
        let (_, response) = self.post(json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params})).await;
        answer_of(response, &id).await
    }
}
