//! Isolation between clients under load and hostile input: a thousand concurrent HTTP clients reusing the
//! same JSON-RPC ids each get only their own answers (and notifications); panicking, timing-out and
//! never-ending tools do not hold up anyone else, and a client that hangs up cancels its handler; a tool's
//! concurrency cap refuses the call over it while the others are still running, and a hang-up gives the
//! slot back; an id reused while in flight is refused without disturbing the first call. Over stdio: a
//! 100 MiB line is refused without being held in memory; a stream of requests cut at random byte
//! boundaries, interleaved with invalid UTF-8, broken JSON and blank lines, then ended mid-line, has every
//! complete request answered before a clean exit; a shutdown is honoured while a full connection holds a
//! request back; a full connection (`transport.max_in_flight`) keeps reading: a cancellation frees a place
//! at once, a request cancelled while it waits is never answered, one beyond the waiting ones is refused
//! (−32012), batches alike, each request with one audit record.
//!
//! `main.rs` holds the tools, the servers and the clients every topic shares; `crowd.rs` the thousand
//! clients, `stuck_calls.rs` the tools that panic, time out or never end, the concurrency cap and reused
//! ids, `stdio_input.rs` hostile stdio input, and `full_connection.rs` a stdio connection at
//! `transport.max_in_flight`.

#![allow(clippy::needless_pass_by_value)] // `json!` arguments read best passed by value in tests

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use mcp_runtime::Pipeline;
use mcp_runtime::config::Config;
use mcp_runtime::prelude::*;
use mcp_runtime::transport::http::{Flavor, serve_on};
use mcp_runtime::transport::serve_io;
use mcp_tests::modern_meta;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::{oneshot, watch};

mod crowd;
mod full_connection;
mod stdio_input;
mod stuck_calls;

/// How many calls are inside [`echo`] and [`slow_echo`] at once, and the most there ever were.
#[derive(Default)]
struct Load {
    now: AtomicUsize,
    peak: AtomicUsize,
}

/// Counts a handler's entry at once and its exit when dropped, finished or not.
struct Inside<'a>(&'a Load);

impl<'a> Inside<'a> {
    fn enter(load: &'a Load) -> Self {
        let now = load.now.fetch_add(1, Ordering::SeqCst) + 1;
        load.peak.fetch_max(now, Ordering::SeqCst);
        Self(load)
    }
}

impl Drop for Inside<'_> {
    fn drop(&mut self) {
        self.0.now.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Handlers that started, and those whose future was dropped (finished or cancelled).
#[derive(Default)]
struct Probe {
    entered: AtomicUsize,
    dropped: AtomicUsize,
    finished: AtomicUsize,
}

struct Dropped(Arc<Probe>);

impl Drop for Dropped {
    fn drop(&mut self) {
        self.0.dropped.fetch_add(1, Ordering::SeqCst);
    }
}

/// Opened by the test to let [`slot`] calls finish.
struct Gate {
    open: watch::Sender<bool>,
}

/// Answers with its caller's data, after a pause long enough for calls to overlap; reports progress
/// carrying the same data when the caller asked for it.
#[mcp_tool]
async fn echo(client: u32, seq: u32, ctx: Context, load: State<Arc<Load>>) -> String {
    let _inside = Inside::enter(&load);
    let text = format!("client {client} call {seq}");
    if ctx.wants_progress() {
        ctx.progress(1.0, Some(2.0), Some(&text)).await;
    }
    tokio::time::sleep(Duration::from_millis(25)).await;
    text
}

/// Answers at once.
#[mcp_tool]
async fn quick() -> &'static str {
    "quick"
}

/// Panics.
#[mcp_tool]
async fn explode() -> String {
    panic!("the tool fell over")
}

/// Never ends, but has a short timeout.
#[mcp_tool(timeout = "200ms")]
async fn stall() -> String {
    std::future::pending::<()>().await;
    unreachable!()
}

/// Never ends and has no timeout of its own: only a cancellation stops it.
#[mcp_tool]
async fn hang(probe: State<Arc<Probe>>) -> String {
    let _dropped = Dropped(Arc::clone(&probe));
    probe.entered.fetch_add(1, Ordering::SeqCst);
    std::future::pending::<()>().await;
    unreachable!()
}

/// Reports progress, then never ends: its answer is an SSE stream.
#[mcp_tool]
async fn hang_streaming(ctx: Context, probe: State<Arc<Probe>>) -> String {
    let _dropped = Dropped(Arc::clone(&probe));
    ctx.progress(1.0, None, Some("started")).await;
    probe.entered.fetch_add(1, Ordering::SeqCst);
    std::future::pending::<()>().await;
    unreachable!()
}

/// Holds its place until the test opens the gate.
#[mcp_tool]
async fn slot(probe: State<Arc<Probe>>, gate: State<Arc<Gate>>) -> &'static str {
    let _dropped = Dropped(Arc::clone(&probe));
    probe.entered.fetch_add(1, Ordering::SeqCst);
    let mut open = gate.open.subscribe();
    let _ = open.wait_for(|open| *open).await;
    probe.finished.fetch_add(1, Ordering::SeqCst);
    "done"
}

/// Echoes `text` after `ms` milliseconds.
#[mcp_tool]
async fn slow_echo(text: String, ms: u64, load: State<Arc<Load>>) -> String {
    let _inside = Inside::enter(&load);
    tokio::time::sleep(Duration::from_millis(ms)).await;
    text
}

/// Held by the tests that load the machine (or time something), so that they do not run side by side and
/// their figures are their own; the light stdio tests run beside them.
static HEAVY: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// A configuration whose audit records go to `tracing` (no subscriber here): the audit layer runs, quietly.
fn quiet() -> Config {
    let mut config = Config::default();
    config.audit.destination = "tracing".to_owned();
    config
}

struct Running {
    url: String,
    addr: std::net::SocketAddr,
    _stop: oneshot::Sender<()>,
}

async fn serve(server: Server) -> Running {
    let pipeline = Pipeline::build(server).expect("the server starts");
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(serve_on(listener, pipeline, Flavor::Streamable, async move {
        let _ = stopped.await;
    }));
    Running { url: format!("http://{addr}/mcp"), addr, _stop: stop }
}

/// A 2026-07-28 (stateless) `tools/call`, answered as JSON.
fn stateless(c: &reqwest::Client, url: &str, id: i64, tool: &str, arguments: Value) -> reqwest::RequestBuilder {
    let body = json!({"jsonrpc": "2.0", "id": id, "method": "tools/call",
        "params": {"name": tool, "arguments": arguments, "_meta": modern_meta()}});
    c.post(url)
        .header("content-type", "application/json")
        .header("accept", "application/json")
        .header("mcp-protocol-version", "2026-07-28")
        .header("mcp-method", "tools/call")
        .header("mcp-name", tool)
        .body(body.to_string())
}

/// The JSON messages of an SSE body.
fn sse_messages(text: &str) -> Vec<Value> {
    text.split("\n\n")
        .filter_map(|event| {
            let data: Vec<&str> = event.lines().filter_map(|l| l.strip_prefix("data:")).map(str::trim_start).collect();
            (!data.is_empty() && !data.concat().is_empty()).then(|| serde_json::from_str(&data.join("\n")).unwrap())
        })
        .collect()
}

/// Opens a handshake-era (2025-11-25) session; returns its id.
async fn open_session(c: &reqwest::Client, url: &str) -> String {
    let post = |body: Value| {
        c.post(url)
            .header("content-type", "application/json")
            .header("accept", "application/json, text/event-stream")
            .body(body.to_string())
    };
    let init = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "0"}}});
    let r = post(init).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let session = r.headers()["mcp-session-id"].to_str().unwrap().to_owned();
    let _ = r.bytes().await;
    let initialized = json!({"jsonrpc": "2.0", "method": "notifications/initialized"});
    assert_eq!(post(initialized).header("mcp-session-id", &session).send().await.unwrap().status(), 202);
    session
}

fn call(id: i64, tool: &str, arguments: Value) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "method": "tools/call", "params": {"name": tool, "arguments": arguments}})
}

/// A server on the real stdio transport code (`serve_io`) over an in-memory pipe, written to byte by byte
/// when the test wants.
struct Pipe {
    writer: tokio::io::WriteHalf<tokio::io::DuplexStream>,
    lines: tokio::io::Lines<tokio::io::BufReader<tokio::io::ReadHalf<tokio::io::DuplexStream>>>,
    served: tokio::task::JoinHandle<std::io::Result<()>>,
    _stop: oneshot::Sender<()>,
}

impl Pipe {
    /// Serves `server` and runs the handshake.
    async fn start(server: Server) -> Self {
        Self::start_as(server, "2025-11-25").await
    }

    /// Serves `server` and runs the handshake under protocol revision `version`.
    async fn start_as(server: Server, version: &str) -> Self {
        let pipeline = Pipeline::build(server).expect("the server starts");
        let (client, server_side) = tokio::io::duplex(1 << 16);
        let (read, write) = tokio::io::split(server_side);
        let (stop, stopped) = oneshot::channel::<()>();
        let served = tokio::spawn(serve_io(pipeline, read, write, async move {
            let _ = stopped.await;
        }));
        let (read, writer) = tokio::io::split(client);
        let mut p = Self { writer, lines: tokio::io::BufReader::new(read).lines(), served, _stop: stop };
        let params =
            json!({"protocolVersion": version, "capabilities": {}, "clientInfo": {"name": "t", "version": "0"}});
        p.line(&json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": params})).await;
        assert_eq!(p.recv().await["result"]["protocolVersion"], version);
        p.line(&json!({"jsonrpc": "2.0", "method": "notifications/initialized"})).await;
        p
    }

    async fn write(&mut self, bytes: &[u8]) {
        self.writer.write_all(bytes).await.expect("the server reads");
    }

    async fn line(&mut self, message: &Value) {
        self.write(format!("{message}\n").as_bytes()).await;
    }

    /// The next line the server writes, or `None` once it closed its output.
    async fn next(&mut self) -> Option<Value> {
        let line = tokio::time::timeout(Duration::from_secs(10), self.lines.next_line())
            .await
            .expect("a line or the end within 10 s")
            .expect("the pipe works")?;
        Some(serde_json::from_str(&line).unwrap_or_else(|e| panic!("a line that is not JSON ({e}): {line}")))
    }

    async fn recv(&mut self) -> Value {
        self.next().await.expect("the server is still writing")
    }

    /// The next line, which must come within `within`: `what` says what was awaited.
    async fn recv_within(&mut self, within: Duration, what: &str) -> Value {
        tokio::time::timeout(within, self.recv()).await.unwrap_or_else(|_| panic!("{what}: nothing within {within:?}"))
    }

    /// Ends the input (EOF), and returns what the server still wrote before it exited cleanly.
    async fn finish(self) -> Vec<Value> {
        let Self { mut writer, mut lines, served, _stop } = self;
        writer.shutdown().await.expect("the pipe closes");
        let rest = tokio::time::timeout(Duration::from_secs(10), async {
            let mut rest = Vec::new();
            while let Some(line) = lines.next_line().await.expect("the pipe works") {
                rest.push(serde_json::from_str(&line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}")));
            }
            rest
        })
        .await
        .expect("the server closes its output within 10 s of EOF");
        let served = tokio::time::timeout(Duration::from_secs(10), served).await.expect("an exit after EOF").unwrap();
        assert!(served.is_ok(), "{served:?}");
        rest
    }
}

/// Waits (10 s at most) until `done` holds; `what` names it.
async fn until(done: impl Fn() -> bool, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !done() {
        assert!(Instant::now() < deadline, "{what}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}
