//! A server served in-process over a real loopback socket through the HTTP transport code, with handlers
//! written in the test ([`ServedHttp`]), and the POST a 2026-07-28 client sends ([`modern_post`],
//! [`answer_of`]).

use mcp_runtime::Pipeline;
use mcp_runtime::prelude::Server;
use mcp_runtime::transport::http::{Flavor, serve_on};
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::{TIMEOUT, modern_meta_with};

/// A server served in-process on `127.0.0.1` (a port of its own) until stopped or dropped.
pub struct ServedHttp {
    /// The MCP endpoint (`http://127.0.0.1:PORT/mcp`).
    pub url: String,
    stop: oneshot::Sender<()>,
    served: JoinHandle<()>,
}

impl ServedHttp {
    /// Serves `server` over Streamable HTTP.
    ///
    /// # Panics
    /// When the server refuses to start or no port is free.
    pub async fn serve(server: Server) -> Self {
        Self::serve_as(server, Flavor::Streamable).await
    }

    /// Serves `server` over the HTTP transport of `flavor`.
    ///
    /// # Panics
    /// When the server refuses to start or no port is free.
    pub async fn serve_as(server: Server, flavor: Flavor) -> Self {
        let pipeline = Pipeline::build(server).expect("the server starts");
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("a loopback port");
        let addr = listener.local_addr().expect("a bound address");
        let (stop, stopped) = oneshot::channel::<()>();
        let served = tokio::spawn(async move {
            serve_on(listener, pipeline, flavor, async move {
                let _ = stopped.await;
            })
            .await
            .expect("the server serves until stopped");
        });
        Self { url: format!("http://{addr}/mcp"), stop, served }
    }

    /// Stops the server as SIGTERM does (drain, flush the audit trail) and waits for it.
    ///
    /// # Panics
    /// When it does not stop within [`TIMEOUT`] or its task panicked.
    pub async fn stop(self) {
        let _ = self.stop.send(());
        tokio::time::timeout(TIMEOUT, self.served).await.expect("the server stops").expect("no panic");
    }
}

/// A POST of request `id` as a 2026-07-28 client sends it: `params` with `_meta` declaring `capabilities`
/// ([`modern_meta_with`]), and the headers `MCP-Protocol-Version`, `Mcp-Method` and, for the methods that have
/// one, `Mcp-Name` (the body's `name`, `uri` or `taskId`). Add a bearer token or other headers to it.
#[allow(clippy::needless_pass_by_value)] // `json!` arguments read best passed by value at call sites
pub fn modern_post(
    c: &reqwest::Client,
    url: &str,
    id: Value,
    method: &str,
    params: Value,
    capabilities: Value,
) -> reqwest::RequestBuilder {
    let mut params = params;
    params["_meta"] = modern_meta_with(capabilities);
    let name = ["name", "uri", "taskId"].iter().find_map(|k| params.get(*k).and_then(Value::as_str)).map(str::to_owned);
    let body = json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params});
    let mut r = c
        .post(url)
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .header("mcp-protocol-version", "2026-07-28")
        .header("mcp-method", method)
        .body(body.to_string());
    if let Some(name) = name {
        r = r.header("mcp-name", name);
    }
    r
}

/// The HTTP status and the answer to request `id` in a response: its JSON body, or the SSE event that
/// carries it.
///
/// # Panics
/// When the body is neither.
pub async fn answer_of(response: reqwest::Response, id: &Value) -> (u16, Value) {
    let status = response.status().as_u16();
    let sse = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/event-stream"));
    let text = response.text().await.expect("a readable body");
    if !sse {
        return (status, serde_json::from_str(&text).unwrap_or_else(|e| panic!("a JSON body ({e}): {text}")));
    }
    let found = text
        .lines()
        .filter_map(|l| l.strip_prefix("data:"))
        .filter_map(|d| serde_json::from_str::<Value>(d.trim()).ok())
        .find(|m| m.get("id") == Some(id));
    (status, found.unwrap_or_else(|| panic!("the answer to {id} on the stream: {text}")))
}
