//! Change notifications delivered over real pipes and sockets: a change made through the `ServerHandle`
//! reaches the client as the right notification on every transport and in both eras (the handshake
//! session's outbound stream; the 2026-07-28 `subscriptions/listen` stream), with the filter, the
//! subscriptions, the scopes and the listener caps honoured, and listen streams ended by a shutdown.
//!
//! Here the server they all serve and the HTTP plumbing; one module per transport, and one for scopes.

#![allow(clippy::needless_pass_by_value)] // `json!` arguments read best passed by value in tests

mod http;
mod legacy;
mod scopes;
mod stdio;

use std::net::SocketAddr;
use std::pin::Pin;
use std::time::Duration;

use futures_util::{Stream, StreamExt};
use mcp_runtime::Pipeline;
use mcp_runtime::config::Config;
use mcp_runtime::prelude::*;
use mcp_runtime::transport::http::{Flavor, serve_on};
use mcp_tests::TIMEOUT;
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::oneshot;

/// Says `text` back.
#[mcp_tool]
async fn echo(text: String) -> String {
    text
}

/// Only for administrators.
#[mcp_tool(scopes = ["live:admin"])]
async fn admin_only() -> String {
    "secret".to_owned()
}

/// A stock level.
#[mcp_resource(uri = "stock://{sku}", mime_type = "text/plain")]
async fn stock(sku: String) -> String {
    format!("{sku}: 7")
}

/// Says hello.
#[mcp_prompt]
async fn greet() -> &'static str {
    "Hello."
}

/// The server every test serves: two tools (one scoped), a resource template, a prompt.
fn server(config: Config) -> Server {
    Server::new("live-test", "0.0.0")
        .tool(echo::SPEC)
        .tool(admin_only::SPEC)
        .resource(stock::SPEC)
        .prompt(greet::SPEC)
        .config(config)
}

/// How long a test waits to be sure something does not arrive.
const QUIET: Duration = Duration::from_millis(400);

/// A server served in-process on a real socket, until `stop`.
struct Running {
    url: String,
    addr: SocketAddr,
    handle: ServerHandle,
    stop: Option<oneshot::Sender<()>>,
    served: tokio::task::JoinHandle<()>,
}

impl Running {
    async fn start(flavor: Flavor, config: Config) -> Self {
        let server = server(config);
        let handle = server.handle();
        let pipeline = Pipeline::build(server).expect("the server starts");
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = oneshot::channel::<()>();
        let served = tokio::spawn(async move {
            serve_on(listener, pipeline, flavor, async move {
                let _ = stopped.await;
            })
            .await
            .unwrap();
        });
        Self { url: format!("http://{addr}/mcp"), addr, handle, stop: Some(stop), served }
    }

    /// Starts the server's shutdown (its grace then runs).
    fn shut_down(&mut self) {
        let _ = self.stop.take().expect("once").send(());
    }

    /// Waits for the server to have stopped.
    async fn stopped(self) {
        tokio::time::timeout(TIMEOUT, self.served).await.expect("the server stops").expect("no panic");
    }
}

fn client() -> reqwest::Client {
    reqwest::Client::builder().pool_max_idle_per_host(0).build().unwrap()
}

fn post(c: &reqwest::Client, url: &str, body: &Value) -> reqwest::RequestBuilder {
    c.post(url)
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .body(body.to_string())
}

/// A 2026-07-28 request (with its `_meta`).
fn modern(id: Value, method: &str, params: Value) -> Value {
    let mut params = params;
    params["_meta"] = mcp_tests::modern_meta();
    json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params})
}

/// A `subscriptions/listen` request.
fn listen(id: &str, notifications: Value) -> Value {
    modern(json!(id), "subscriptions/listen", json!({"notifications": notifications}))
}

/// POSTs a 2026-07-28 `subscriptions/listen` with its headers, `key` as the bearer token when given.
fn post_listen(c: &reqwest::Client, url: &str, key: Option<&str>, body: &Value) -> reqwest::RequestBuilder {
    let r =
        post(c, url, body).header("mcp-protocol-version", "2026-07-28").header("mcp-method", "subscriptions/listen");
    match key {
        Some(key) => r.bearer_auth(key),
        None => r,
    }
}

/// An SSE response read event by event, as the events arrive.
struct Sse {
    body: Pin<Box<dyn Stream<Item = reqwest::Result<Vec<u8>>> + Send>>,
    buf: String,
}

impl Sse {
    fn new(response: reqwest::Response) -> Self {
        assert_eq!(response.status(), 200);
        let content_type = response.headers()["content-type"].to_str().unwrap().to_owned();
        assert!(content_type.starts_with("text/event-stream"), "{content_type}");
        Self { body: Box::pin(response.bytes_stream().map(|chunk| chunk.map(|b| b.to_vec()))), buf: String::new() }
    }

    /// The next event with data (`event` name, `data`), skipping comments and priming events, within
    /// `wait`; `Err(())` when the wait ran out, `Ok(None)` when the stream ended.
    async fn event_within(&mut self, wait: Duration) -> Result<Option<(Option<String>, String)>, ()> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            while let Some(end) = self.buf.find("\n\n") {
                let raw: String = self.buf.drain(..end + 2).collect();
                let field = |name: &str| {
                    raw.lines()
                        .filter_map(|l| l.strip_prefix(name))
                        .map(|v| v.trim_start().to_owned())
                        .collect::<Vec<_>>()
                };
                let data = field("data:").join("\n");
                if !data.is_empty() {
                    return Ok(Some((field("event:").pop(), data)));
                }
            }
            match tokio::time::timeout_at(deadline, self.body.next()).await {
                Err(_) => return Err(()),
                Ok(None) => return Ok(None),
                Ok(Some(chunk)) => self.buf.push_str(std::str::from_utf8(&chunk.expect("the stream reads")).unwrap()),
            }
        }
    }

    /// The next named event's data (the legacy transport's `endpoint`).
    async fn named(&mut self, name: &str) -> String {
        match self.event_within(TIMEOUT).await {
            Ok(Some((Some(event), data))) if event == name => data,
            other => panic!("expected a `{name}` event, got {other:?}"),
        }
    }

    /// The next JSON-RPC message, within `wait`; `None` when none came or the stream ended.
    async fn message_within(&mut self, wait: Duration) -> Option<Value> {
        match self.event_within(wait).await {
            Ok(Some((_, data))) => Some(serde_json::from_str(&data).expect("every message is JSON")),
            Ok(None) | Err(()) => None,
        }
    }

    /// The next JSON-RPC message; fails the test when none comes within [`TIMEOUT`].
    async fn message(&mut self) -> Value {
        self.message_within(TIMEOUT).await.expect("a message on the stream")
    }

    /// Whether the stream ends (after nothing more) within [`TIMEOUT`].
    async fn ends(&mut self) -> bool {
        matches!(self.event_within(TIMEOUT).await, Ok(None))
    }
}

/// Asserts `message` is the notification `method` (and, when given, tagged with subscription `id`).
#[track_caller]
fn assert_note(message: &Value, method: &str, id: Option<&str>) {
    assert_eq!(message["method"], method, "{message}");
    assert!(message.get("id").is_none(), "a notification: {message}");
    if let Some(id) = id {
        assert_eq!(message["params"]["_meta"]["io.modelcontextprotocol/subscriptionId"], id, "{message}");
    }
}

/// Asserts `message` is the acknowledgment of listen `id` with the honoured filter `honoured`.
#[track_caller]
fn assert_ack(message: &Value, id: &str, honoured: Value) {
    assert_note(message, "notifications/subscriptions/acknowledged", Some(id));
    assert_eq!(message["params"]["notifications"], honoured, "{message}");
}

/// Asserts `message` is the result that ends listen `id`: `{}` in the 2026-07-28 envelope, its `_meta`
/// naming the server and the subscription.
#[track_caller]
fn assert_ended(message: &Value, id: &str) {
    assert_eq!(message["id"], id, "{message}");
    let result = &message["result"];
    assert_eq!(result["resultType"], "complete", "{message}");
    assert_eq!(result["_meta"]["io.modelcontextprotocol/subscriptionId"], id, "{message}");
    assert_eq!(result["_meta"]["io.modelcontextprotocol/serverInfo"]["name"], "live-test", "{message}");
}
