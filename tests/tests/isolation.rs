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

#![allow(clippy::needless_pass_by_value)] // `json!` arguments read best passed by value in tests

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use mcp_runtime::Pipeline;
use mcp_runtime::config::{Config, ToolThrottle};
use mcp_runtime::prelude::*;
use mcp_runtime::transport::http::{Flavor, serve_on};
use mcp_runtime::transport::serve_io;
use mcp_tests::{OPS_KEY, inventory_bin, modern_meta, result_text};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{oneshot, watch};

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

/// The soft limit on open files of this process (`/proc/self/limits`).
fn open_files_limit() -> Option<usize> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    line.split_whitespace().nth(3)?.parse().ok()
}

/// Whether the server's end of the TCP connection from `client` is still open (`/proc/net/tcp`: listed with
/// the server's port as local and the client's as remote, ESTABLISHED or, once the client's FIN arrived,
/// CLOSE_WAIT).
fn server_end_open(server: std::net::SocketAddr, client: std::net::SocketAddr) -> bool {
    let port = |address: &str| address.rsplit(':').next().and_then(|p| u16::from_str_radix(p, 16).ok());
    let table = std::fs::read_to_string("/proc/net/tcp").expect("/proc/net/tcp is readable");
    table.lines().skip(1).any(|line| {
        let fields: Vec<&str> = line.split_whitespace().collect();
        fields.len() > 3
            && port(fields[1]) == Some(server.port())
            && port(fields[2]) == Some(client.port())
            && matches!(fields[3], "01" | "08")
    })
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

/// One handshake-era client: its own session, three calls with ids 1, 2, 3 in flight at once, each asking
/// for progress. Every message on each call's stream must be that call's.
async fn session_client(c: reqwest::Client, url: String, client: u32) -> Result<(), String> {
    let post = |body: Value| {
        c.post(&url)
            .header("content-type", "application/json")
            .header("accept", "application/json, text/event-stream")
            .body(body.to_string())
    };
    let init = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": format!("c{client}"), "version": "0"}}});
    let r = post(init).send().await.map_err(|e| e.to_string())?;
    if r.status() != 200 {
        return Err(format!("initialize: {}", r.status()));
    }
    let session = r.headers()["mcp-session-id"].to_str().unwrap().to_owned();
    let _ = r.bytes().await;
    let initialized = json!({"jsonrpc": "2.0", "method": "notifications/initialized"});
    let r = post(initialized).header("mcp-session-id", &session).send().await.map_err(|e| e.to_string())?;
    if r.status() != 202 {
        return Err(format!("initialized: {}", r.status()));
    }
    let calls = (1..=3u32).map(|seq| {
        let token = format!("c{client}-s{seq}");
        let body = json!({"jsonrpc": "2.0", "id": seq, "method": "tools/call", "params": {
            "name": "echo", "arguments": {"client": client, "seq": seq}, "_meta": {"progressToken": token}}});
        let sent = post(body).header("mcp-session-id", &session).send();
        async move {
            let r = sent.await.map_err(|e| e.to_string())?;
            let text = r.text().await.map_err(|e| e.to_string())?;
            let messages = sse_messages(&text);
            let expected = format!("client {client} call {seq}");
            let (progress, answers): (Vec<&Value>, Vec<&Value>) =
                messages.iter().partition(|m| m["method"] == "notifications/progress");
            let ok = progress.len() == 1
                && progress[0]["params"]["progressToken"] == token
                && progress[0]["params"]["message"] == expected
                && answers.len() == 1
                && answers[0]["id"] == seq
                && result_text(&answers[0]["result"]) == expected;
            if ok { Ok(()) } else { Err(format!("client {client} call {seq} got {text}")) }
        }
    });
    futures_util::future::try_join_all(calls).await?;
    let r = c.delete(&url).header("mcp-session-id", &session).send().await.map_err(|e| e.to_string())?;
    if r.status() != 200 {
        return Err(format!("delete: {}", r.status()));
    }
    Ok(())
}

/// One 2026-07-28 client: ids 1, 2, 3 one after another, each carrying the client's own numbers.
async fn stateless_client(c: reqwest::Client, url: String, client: u32) -> Result<(), String> {
    for seq in 1..=3u32 {
        let r = stateless(&c, &url, i64::from(seq), "echo", json!({"client": client, "seq": seq}))
            .send()
            .await
            .map_err(|e| e.to_string())?;
        let status = r.status();
        let body: Value = r.json().await.map_err(|e| e.to_string())?;
        let expected = format!("client {client} call {seq}");
        if status != 200 || body["id"] != seq || result_text(&body["result"]) != expected {
            return Err(format!("client {client} call {seq} got {status} {body}"));
        }
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_clients_with_colliding_ids_each_get_only_their_own_answers() {
    let _heavy = HEAVY.lock().await;
    // A stateless client holds one connection at a time, a session client three (its calls run at once),
    // and both ends of each are in this process.
    let limit = open_files_limit().unwrap_or(1024);
    let clients: u32 = 1000;
    let session_clients: u32 = 100;
    // Measured: 2700 to 3600 at most (up to 1200 connections at once, both ends, some of them closing).
    let needed = clients as usize * 4 + 512;
    assert!(
        limit >= needed,
        "this test opens about {needed} descriptors and the soft limit is {limit}: raise it (`ulimit -n 8192`)"
    );
    let load = Arc::new(Load::default());
    let mut config = quiet();
    config.http.max_sessions = session_clients as usize + 16;
    let s = serve(Server::new("many", "0").tool(echo::SPEC).with_state(Arc::clone(&load)).config(config)).await;
    // One client with a connection pool shared by 1000 tasks: the tasks are the protocol-level clients
    // (their own session, or their own stateless calls), the pool only saves sockets between calls.
    let c = reqwest::Client::builder().pool_max_idle_per_host(clients as usize).build().unwrap();
    // How many descriptors the process holds at most during the run (both ends of every connection).
    let sampling = Arc::new(std::sync::atomic::AtomicBool::new(true));
    let sampler = tokio::spawn({
        let sampling = Arc::clone(&sampling);
        async move {
            let mut most = 0;
            while sampling.load(Ordering::SeqCst) {
                most = most.max(std::fs::read_dir("/proc/self/fd").map_or(0, Iterator::count));
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            most
        }
    });
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for client in 0..clients {
        let (c, url) = (c.clone(), s.url.clone());
        if client % (clients / session_clients) == 0 {
            tasks.spawn(session_client(c, url, client));
        } else {
            tasks.spawn(stateless_client(c, url, client));
        }
    }
    let mut failures = Vec::new();
    while let Some(done) = tasks.join_next().await {
        if let Err(e) = done.unwrap() {
            failures.push(e);
        }
    }
    let elapsed = started.elapsed();
    sampling.store(false, Ordering::SeqCst);
    let descriptors = sampler.await.unwrap();
    let peak = load.peak.load(Ordering::SeqCst);
    eprintln!(
        "{clients} clients ({session_clients} with sessions), {} calls in {elapsed:?}; at most {peak} calls in the \
         tool at once; at most {descriptors} descriptors open (soft limit {limit})",
        clients * 3
    );
    assert!(failures.is_empty(), "{} of {clients} clients got someone else's answer or none: {:?}", failures.len(), {
        failures.truncate(5);
        failures
    });
    // The ids collided for real: many calls with ids 1, 2 and 3 were in the server at the same time.
    assert!(peak >= 50, "only {peak} calls overlapped");
    assert_eq!(load.now.load(Ordering::SeqCst), 0);
}

/// Sends a call to `tool` over a raw socket (2026-07-28, or in the handshake `session` when given), waits
/// until its handler runs, and returns the socket: dropping it is the client hanging up.
async fn hanging_call(
    addr: std::net::SocketAddr,
    probe: &Probe,
    tool: &str,
    id: i64,
    session: Option<&str>,
) -> TcpStream {
    let before = probe.entered.load(Ordering::SeqCst);
    let mut params = json!({"name": tool, "arguments": {}, "_meta": {}});
    let headers = match session {
        None => {
            params["_meta"] = modern_meta();
            format!("mcp-protocol-version: 2026-07-28\r\nmcp-method: tools/call\r\nmcp-name: {tool}\r\n")
        }
        Some(session) => format!("mcp-protocol-version: 2025-11-25\r\nmcp-session-id: {session}\r\n"),
    };
    if tool == "hang_streaming" {
        params["_meta"]["progressToken"] = json!("p");
    }
    let body = json!({"jsonrpc": "2.0", "id": id, "method": "tools/call", "params": params}).to_string();
    let request = format!(
        "POST /mcp HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\n\
         accept: application/json, text/event-stream\r\n{headers}content-length: {}\r\n\r\n{body}",
        body.len()
    );
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream.write_all(request.as_bytes()).await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while probe.entered.load(Ordering::SeqCst) == before {
        assert!(Instant::now() < deadline, "the hanging call never reached its handler");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    stream
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn panicking_and_never_ending_tools_do_not_hold_up_other_clients() {
    let _heavy = HEAVY.lock().await;
    let probe = Arc::new(Probe::default());
    let server = Server::new("hostile", "0")
        .tool(quick::SPEC)
        .tool(explode::SPEC)
        .tool(stall::SPEC)
        .tool(hang::SPEC)
        .tool(hang_streaming::SPEC)
        .with_state(Arc::clone(&probe))
        .config(quiet());
    let s = serve(server).await;
    let c = reqwest::Client::new();

    // 20 calls that never end, each from a client that will hang up.
    let mut hanging = Vec::new();
    for id in 0..20 {
        hanging.push(hanging_call(s.addr, &probe, "hang", id, None).await);
    }
    assert_eq!(probe.entered.load(Ordering::SeqCst), 20);
    assert_eq!(probe.dropped.load(Ordering::SeqCst), 0, "nothing cancels them while their clients wait");

    // Clients calling a panicking tool and a tool that times out, over and over.
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut hostile = tokio::task::JoinSet::new();
    // One panics every 100 ms (each panic prints its message, and a backtrace under RUST_BACKTRACE, on
    // stderr: no flood), six keep a stalled call running all the time.
    for n in 0..7 {
        let (c, url, stop) = (c.clone(), s.url.clone(), Arc::clone(&stop));
        let tool = if n == 0 { "explode" } else { "stall" };
        hostile.spawn(async move {
            let mut calls = 0u32;
            while !stop.load(Ordering::SeqCst) {
                let body: Value = stateless(&c, &url, 1, tool, json!({})).send().await.unwrap().json().await.unwrap();
                if tool == "explode" {
                    assert_eq!(body["error"]["code"], -32603, "{body}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                } else {
                    assert_eq!(body["result"]["isError"], true, "{body}");
                    assert!(result_text(&body["result"]).contains("timed out after 200ms"), "{body}");
                }
                calls += 1;
            }
            (tool, calls)
        });
    }

    // Meanwhile another client's calls are answered promptly, one after another.
    let mut latencies = Vec::new();
    let measuring = Instant::now();
    while latencies.len() < 200 || measuring.elapsed() < Duration::from_millis(800) {
        let sent = Instant::now();
        let r = stateless(&c, &s.url, 1, "quick", json!({})).send().await.unwrap();
        assert_eq!(r.status(), 200);
        let body: Value = r.json().await.unwrap();
        latencies.push(sent.elapsed());
        assert_eq!(result_text(&body["result"]), "quick", "{body}");
    }
    stop.store(true, Ordering::SeqCst);
    let mut hostile_calls = BTreeMap::new();
    while let Some(done) = hostile.join_next().await {
        let (tool, calls) = done.unwrap();
        *hostile_calls.entry(tool).or_insert(0) += calls;
    }
    latencies.sort();
    let at = |q: f64| latencies[((latencies.len() - 1) as f64 * q) as usize];
    eprintln!(
        "quick calls answered while 20 calls hung and {hostile_calls:?} panicked or timed out: {} calls, p50 {:?}, \
         p99 {:?}, max {:?}",
        latencies.len(),
        at(0.5),
        at(0.99),
        at(1.0)
    );
    // Expected: a few milliseconds. A call queued behind a stalled one would wait for its 200 ms timeout,
    // behind a hanging one for ever: bounds far above the noise of a loaded 2-core machine.
    assert!(at(0.5) < Duration::from_millis(200), "half the calls waited {:?} or more", at(0.5));
    assert!(at(1.0) < Duration::from_secs(5), "a call waited {:?} behind the hostile ones", at(1.0));
    assert!(hostile_calls.values().all(|n| *n > 0), "{hostile_calls:?}");
    assert_eq!(probe.dropped.load(Ordering::SeqCst), 0, "the hanging handlers are still running");

    // The clients of the hanging calls hang up: each handler is dropped.
    let hung_up = Instant::now();
    drop(hanging);
    let deadline = hung_up + Duration::from_secs(10);
    while probe.dropped.load(Ordering::SeqCst) < 20 {
        assert!(
            Instant::now() < deadline,
            "{} of 20 handlers were cancelled 10 s after their clients hung up",
            probe.dropped.load(Ordering::SeqCst)
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    eprintln!("20 hanging handlers cancelled {:?} after their clients hung up", hung_up.elapsed());

    // In the handshake era a hang-up is not a cancellation (the client may come back for the answer):
    // the handler runs on until the client sends notifications/cancelled.
    let session = open_session(&c, &s.url).await;
    let hanging = hanging_call(s.addr, &probe, "hang", 7, Some(&session)).await;
    let client = hanging.local_addr().unwrap();
    assert!(server_end_open(s.addr, client), "the server's end of the connection is listed while it is open");
    drop(hanging);
    // The server's end closes once the server has dropped the request's handler future: it has seen the
    // hang-up, and a hang-up that cancels would have dropped the call by then.
    until(|| !server_end_open(s.addr, client), "the server closed its end of the hung-up connection").await;
    assert_eq!(probe.dropped.load(Ordering::SeqCst), 20, "a handshake-era hang-up cancelled the call");
    let cancel = json!({"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": 7}});
    let r = c
        .post(&s.url)
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .header("mcp-session-id", &session)
        .body(cancel.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 202);
    let deadline = Instant::now() + Duration::from_secs(10);
    while probe.dropped.load(Ordering::SeqCst) < 21 {
        assert!(Instant::now() < deadline, "notifications/cancelled did not stop the handshake-era call");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }

    // A 2026-07-28 call answered as an SSE stream (it reports progress first): hanging up cancels it too.
    let mut streaming = Vec::new();
    for id in 0..5 {
        let mut stream = hanging_call(s.addr, &probe, "hang_streaming", id, None).await;
        let mut head = vec![0u8; 4096];
        let mut got = 0;
        while !String::from_utf8_lossy(&head[..got]).contains("started") {
            let n =
                tokio::time::timeout(Duration::from_secs(10), stream.read(&mut head[got..])).await.unwrap().unwrap();
            assert!(n > 0, "the stream ended");
            got += n;
        }
        assert!(String::from_utf8_lossy(&head[..got]).contains("text/event-stream"));
        streaming.push(stream);
    }
    let hung_up = Instant::now();
    drop(streaming);
    let deadline = hung_up + Duration::from_secs(10);
    while probe.dropped.load(Ordering::SeqCst) < 26 {
        assert!(
            Instant::now() < deadline,
            "{} of 5 streaming handlers were cancelled 10 s after their clients hung up",
            probe.dropped.load(Ordering::SeqCst) - 21
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    eprintln!("5 streaming handlers cancelled {:?} after their clients hung up", hung_up.elapsed());
    let r = stateless(&c, &s.url, 1, "quick", json!({})).send().await.unwrap();
    assert_eq!(r.status(), 200, "the server still serves");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tool_concurrency_cap_refuses_the_call_over_it_while_the_others_run() {
    let _heavy = HEAVY.lock().await;
    let probe = Arc::new(Probe::default());
    let gate = Arc::new(Gate { open: watch::channel(false).0 });
    let mut config = quiet();
    config.throttling.tools.insert(
        "slot".to_owned(),
        ToolThrottle::Detailed { rate: Some("100/s".to_owned()), burst: None, max_concurrent: Some(2) },
    );
    let server = Server::new("capped", "0")
        .tool(slot::SPEC)
        .with_state(Arc::clone(&probe))
        .with_state(Arc::clone(&gate))
        .config(config.clone());
    let s = serve(server).await;
    let c = reqwest::Client::new();

    // Two calls take the two slots: one from a client that stays, one from a client that will hang up.
    let staying = tokio::spawn(stateless(&c, &s.url, 1, "slot", json!({})).send());
    let leaving = hanging_call(s.addr, &probe, "slot", 2, None).await;
    let deadline = Instant::now() + Duration::from_secs(10);
    while probe.entered.load(Ordering::SeqCst) < 2 {
        assert!(Instant::now() < deadline, "the two calls never reached the handler");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let asked = Instant::now();
    let third = stateless(&c, &s.url, 3, "slot", json!({})).send().await.unwrap();
    let refused_in = asked.elapsed();
    assert_eq!(third.status(), 429);
    assert!(third.headers().contains_key("retry-after"));
    let body: Value = third.json().await.unwrap();
    assert_eq!((body["id"].clone(), body["error"]["code"].clone()), (json!(3), json!(-32012)), "{body}");
    assert_eq!(body["error"]["data"]["limit"], "concurrency", "{body}");
    // The two calls it was refused for are still inside their handler: the refusal did not wait for them.
    assert_eq!(probe.finished.load(Ordering::SeqCst), 0);
    assert_eq!(probe.entered.load(Ordering::SeqCst), 2, "the refused call never reached the handler");
    eprintln!("the call over the cap was refused in {refused_in:?} while two calls held their slots");
    assert!(refused_in < Duration::from_secs(2), "refused after {refused_in:?}");

    // One caller hangs up: its handler is cancelled and its slot comes back while the other call still runs.
    drop(leaving);
    let deadline = Instant::now() + Duration::from_secs(10);
    while probe.dropped.load(Ordering::SeqCst) < 1 {
        assert!(Instant::now() < deadline, "the hung-up call was not cancelled");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let taking_over = tokio::spawn(stateless(&c, &s.url, 4, "slot", json!({})).send());
    let deadline = Instant::now() + Duration::from_secs(10);
    while probe.entered.load(Ordering::SeqCst) < 3 {
        assert!(!taking_over.is_finished(), "the freed slot was not given to the next call");
        assert!(Instant::now() < deadline, "the next call never reached the handler");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let full_again = stateless(&c, &s.url, 5, "slot", json!({})).send().await.unwrap();
    assert_eq!(full_again.status(), 429, "two slots taken again");
    assert_eq!(probe.finished.load(Ordering::SeqCst), 0);

    gate.open.send_replace(true);
    for call in [staying, taking_over] {
        let r = call.await.unwrap().unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(result_text(&r.json::<Value>().await.unwrap()["result"]), "done");
    }
    assert_eq!(probe.finished.load(Ordering::SeqCst), 2, "the hung-up call never finished");
    let r = stateless(&c, &s.url, 6, "slot", json!({})).send().await.unwrap();
    assert_eq!(r.status(), 200, "the slots came back");

    // The same cap over stdio, where a connection's calls run side by side: −32012 for the third.
    gate.open.send_replace(false);
    let probe = Arc::new(Probe::default());
    let server = Server::new("capped", "0")
        .tool(slot::SPEC)
        .with_state(Arc::clone(&probe))
        .with_state(Arc::clone(&gate))
        .config(config);
    let mut p = Pipe::start(server).await;
    for id in 1..=2 {
        p.line(&call(id, "slot", json!({}))).await;
    }
    until(|| probe.entered.load(Ordering::SeqCst) >= 2, "the two calls never reached the handler").await;
    p.line(&call(3, "slot", json!({}))).await;
    let refused = p.recv().await;
    assert_eq!((refused["id"].clone(), refused["error"]["code"].clone()), (json!(3), json!(-32012)), "{refused}");
    assert_eq!(probe.finished.load(Ordering::SeqCst), 0);
    gate.open.send_replace(true);
    let mut ids = vec![p.recv().await["id"].clone(), p.recv().await["id"].clone()];
    ids.sort_by_key(|id| id.as_i64());
    assert_eq!(ids, [json!(1), json!(2)]);
}

#[tokio::test]
async fn an_id_reused_while_in_flight_is_refused_without_disturbing_the_first_call() {
    let probe = Arc::new(Probe::default());
    let gate = Arc::new(Gate { open: watch::channel(false).0 });
    let server = || {
        Server::new("ids", "0")
            .tool(slot::SPEC)
            .with_state(Arc::clone(&probe))
            .with_state(Arc::clone(&gate))
            .config(quiet())
    };
    let s = serve(server()).await;
    let c = reqwest::Client::new();
    let in_session = |session: &str, id: i64| {
        c.post(&s.url)
            .header("content-type", "application/json")
            .header("accept", "application/json")
            .header("mcp-session-id", session)
            .body(call(id, "slot", json!({})).to_string())
            .send()
    };
    let (a, b) = (open_session(&c, &s.url).await, open_session(&c, &s.url).await);
    let first = tokio::spawn(in_session(&a, 1));
    let wait_entered = |n: usize| {
        let probe = Arc::clone(&probe);
        async move {
            let deadline = Instant::now() + Duration::from_secs(10);
            while probe.entered.load(Ordering::SeqCst) < n {
                assert!(Instant::now() < deadline, "{n} calls never reached the handler");
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        }
    };
    wait_entered(1).await;
    // The same id in the same session while the first is running: refused.
    let reused = in_session(&a, 1).await.unwrap();
    assert_eq!(reused.status(), 400);
    let body: Value = reused.json().await.unwrap();
    assert_eq!(body["error"]["code"], -32600, "{body}");
    assert!(body["error"]["message"].as_str().unwrap().contains("already in use"), "{body}");
    // The same id in another session, and in a stateless call: each its own.
    let other = tokio::spawn(in_session(&b, 1));
    let stateless_one = tokio::spawn(stateless(&c, &s.url, 1, "slot", json!({})).send());
    wait_entered(3).await;
    assert_eq!(probe.finished.load(Ordering::SeqCst), 0);
    gate.open.send_replace(true);
    for call in [first, other, stateless_one] {
        let r = call.await.unwrap().unwrap();
        assert_eq!(r.status(), 200);
        let body: Value = r.json().await.unwrap();
        assert_eq!((body["id"].clone(), result_text(&body["result"])), (json!(1), "done".to_owned()), "{body}");
    }
    assert_eq!(probe.entered.load(Ordering::SeqCst), 3, "the refused call never ran");

    // Over stdio: the refusal is answered at once, the first call's answer comes when it finishes.
    gate.open.send_replace(false);
    let mut p = Pipe::start(server()).await;
    p.line(&call(1, "slot", json!({}))).await;
    wait_entered(4).await;
    p.line(&call(1, "slot", json!({}))).await;
    let refused = p.recv().await;
    assert_eq!((refused["id"].clone(), refused["error"]["code"].clone()), (json!(1), json!(-32600)), "{refused}");
    gate.open.send_replace(true);
    let answer = p.recv().await;
    assert_eq!((answer["id"].clone(), result_text(&answer["result"])), (json!(1), "done".to_owned()), "{answer}");
    p.line(&call(1, "slot", json!({}))).await;
    assert_eq!(p.recv().await["id"], 1, "once answered, the id is free again");
    assert_eq!(probe.entered.load(Ordering::SeqCst), 5);
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

/// Deterministic pseudo-random numbers (a 64-bit LCG): the same cuts on every run.
struct Lcg(u64);

impl Lcg {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self.0.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % n
    }
}

#[tokio::test]
async fn a_request_written_a_byte_at_a_time_is_answered_once_its_line_ends() {
    let mut p = Pipe::start(
        Server::new("slow", "0").tool(slow_echo::SPEC).with_state(Arc::new(Load::default())).config(quiet()),
    )
    .await;
    let message = call(1, "slow_echo", json!({"text": "naïve café ☕ 𝄞", "ms": 0})).to_string();
    for byte in message.as_bytes() {
        p.write(std::slice::from_ref(byte)).await;
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    assert!(
        tokio::time::timeout(Duration::from_millis(200), p.lines.next_line()).await.is_err(),
        "nothing is answered before the line ends"
    );
    p.write(b"\r\n").await;
    let answer = p.recv().await;
    assert_eq!(answer["id"], 1);
    assert_eq!(result_text(&answer["result"]), "naïve café ☕ 𝄞", "split multi-byte characters were joined");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn interleaved_partial_lines_and_garbage_then_eof_leave_every_complete_request_answered() {
    let load = Arc::new(Load::default());
    let p =
        Pipe::start(Server::new("cut", "0").tool(slow_echo::SPEC).with_state(Arc::clone(&load)).config(quiet())).await;
    // Complete requests (ids 1..=12), each carrying its own text with multi-byte characters, between lines
    // that must each get a parse error with id null and leave the next line served.
    let garbage: [&[u8]; 7] = [
        b"\xff\xfe\xfd", // not UTF-8 at all
        b"{\"jsonrpc\":\"2.0\",\"id\":90,\"method\":\"ping\",\"params\":{\"s\":\"\xc0\xaf\"}}", // overlong '/'
        b"{\"jsonrpc\":\"2.0\",\"id\":91,\"method\":\"ping\",\"params\":{\"s\":\"\xed\xa0\x80\"}}", // a surrogate
        b"{\"jsonrpc\":\"2.0\",\"id\":92,\"method\":\"ping\",\"params\":{\"s\":\"\xe2\x82\"}}", // cut character
        b"{\"jsonrpc\":\"2.0\",\"id\":93,\"meth", // cut JSON
        b"]]]",
        b"\x00\x01\x02",
    ];
    let mut stream = Vec::new();
    let mut expected = BTreeMap::new();
    for id in 1..=12i64 {
        let text = format!("request {id}: žluťoučký kůň 🐎 {}", "é".repeat(id as usize * 7));
        expected.insert(id, text.clone());
        // The later requests are slow: they are still running when the input ends.
        let ms = if id > 9 { 300 } else { 20 };
        stream.extend_from_slice(call(id, "slow_echo", json!({"text": text, "ms": ms})).to_string().as_bytes());
        stream.extend_from_slice(if id % 3 == 0 { b"\r\n" } else { b"\n" });
        if let Some(junk) = garbage.get(id as usize - 1) {
            stream.extend_from_slice(junk);
            stream.push(b'\n');
        }
        if id % 4 == 0 {
            stream.extend_from_slice(b"\n   \t \n"); // blank lines are skipped, not answered
            stream.extend_from_slice(
                br#"{"jsonrpc":"2.0","method":"notifications/progress","params":{"progressToken":"x","progress":1}}"#,
            );
            stream.push(b'\n');
        }
    }
    // The input ends in the middle of a request: it cannot be answered as one, only as a parse error.
    stream.extend_from_slice(br#"{"jsonrpc":"2.0","id":99,"method":"tools/call","params":{"name":"slow_"#);

    // Everything the server writes is collected while the input trickles in, cut at random places (inside
    // multi-byte characters and between \r and \n too) with pauses.
    let Pipe { mut writer, mut lines, mut served, _stop } = p;
    let collector = tokio::spawn(async move {
        let mut out = Vec::new();
        while let Some(line) =
            tokio::time::timeout(Duration::from_secs(10), lines.next_line()).await.expect("the server ends").unwrap()
        {
            out.push((Instant::now(), serde_json::from_str::<Value>(&line).expect("every line is JSON")));
        }
        out
    });
    let mut rng = Lcg(0x5eed_1234);
    let mut rest = stream.as_slice();
    let mut writes = 0;
    while !rest.is_empty() {
        let n = (1 + rng.below(24) as usize).min(rest.len());
        writer.write_all(&rest[..n]).await.unwrap();
        rest = &rest[n..];
        writes += 1;
        match rng.below(10) {
            0 => tokio::time::sleep(Duration::from_millis(1)).await,
            1..=3 => tokio::task::yield_now().await,
            _ => {}
        }
    }
    writer.shutdown().await.unwrap();
    let eof = Instant::now();
    let in_flight_at_eof = load.now.load(Ordering::SeqCst);
    let served = tokio::time::timeout(Duration::from_secs(10), &mut served).await.expect("the server stops").unwrap();
    assert!(served.is_ok(), "EOF is a clean end: {served:?}");
    let out = collector.await.unwrap();
    eprintln!("{} bytes in {writes} writes; {in_flight_at_eof} requests in flight at EOF", stream.len());

    let mut answered = BTreeMap::new();
    let mut parse_errors = 0;
    for (at, message) in &out {
        if message["id"].is_null() {
            assert_eq!(message["error"]["code"], -32700, "{message}");
            parse_errors += 1;
        } else {
            let id = message["id"].as_i64().unwrap();
            assert!(answered.insert(id, (result_text(&message["result"]), *at)).is_none(), "{id} answered twice");
        }
    }
    assert_eq!(parse_errors, garbage.len() + 1, "one per garbage line and one for the cut last line: {out:?}");
    assert_eq!(answered.keys().copied().collect::<Vec<_>>(), expected.keys().copied().collect::<Vec<_>>());
    for (id, text) in &expected {
        assert_eq!(&answered[id].0, text, "request {id} got its own text back");
    }
    assert!(in_flight_at_eof > 0, "some requests were still running at EOF");
    assert!(answered[&12].1 > eof, "the slow last request was answered after EOF, before the exit");
}

/// `VmHWM` (peak resident memory) of a process, in KiB.
fn peak_rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM is reported")
}

#[test]
fn a_100_mib_line_is_refused_without_being_held_and_the_next_line_is_served() {
    let _heavy = HEAVY.blocking_lock();
    let mut child = Command::new(inventory_bin())
        .env("MCP_CLIENT_KEY", OPS_KEY)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let pid = child.id();
    let mut stdin = child.stdin.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel::<String>();
    let stdout = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let recv = || -> Value {
        let line = rx.recv_timeout(Duration::from_secs(60)).expect("an answer within 60 s");
        serde_json::from_str(&line).unwrap()
    };
    writeln!(stdin, r#"{{"jsonrpc":"2.0","id":1,"method":"ping"}}"#).unwrap();
    assert_eq!(recv()["id"], 1);
    let before = peak_rss_kib(pid);

    // A well-formed request 100 MiB long, written 1 MiB at a time from one buffer.
    let started = Instant::now();
    let chunk = vec![b'x'; 1 << 20];
    stdin.write_all(br#"{"jsonrpc":"2.0","id":2,"method":"ping","params":{"pad":""#).unwrap();
    for _ in 0..100 {
        stdin.write_all(&chunk).unwrap();
    }
    stdin.write_all(b"\"}}\n").unwrap();
    writeln!(stdin, r#"{{"jsonrpc":"2.0","id":3,"method":"ping"}}"#).unwrap();
    stdin.flush().unwrap();
    let refused = recv();
    let took = started.elapsed();
    assert_eq!(refused["id"], Value::Null, "{refused}");
    assert_eq!(refused["error"]["code"], -32600, "{refused}");
    assert!(refused["error"]["message"].as_str().unwrap().contains("4194304 bytes"), "{refused}");
    assert_eq!(recv(), json!({"jsonrpc": "2.0", "id": 3, "result": {}}), "the next line is served");
    let after = peak_rss_kib(pid);
    eprintln!("100 MiB line refused in {took:?}; peak RSS {before} KiB before, {after} KiB after");
    // It holds at most transport.max_message_bytes (4 MiB) of the line, never the whole of it.
    assert!(after < before + 32 * 1024, "peak RSS grew from {before} KiB to {after} KiB");

    // Another 100 MiB, with no newline: the input ends inside it. It is refused the same way, then the
    // server exits cleanly.
    for _ in 0..100 {
        stdin.write_all(&chunk).unwrap();
    }
    drop(stdin);
    let refused = recv();
    assert_eq!((refused["id"].clone(), refused["error"]["code"].clone()), (Value::Null, json!(-32600)), "{refused}");
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline, "no exit after EOF");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(status.success(), "EOF is a clean exit: {status}");
    assert!(rx.recv_timeout(Duration::from_secs(5)).is_err(), "nothing else was written");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shutdown_is_honoured_while_a_full_connection_holds_a_request_back() {
    // Two never-ending calls take both of transport.max_in_flight's places; a third request waits for one.
    // The shutdown signal must still end the connection after shutdown_grace, not after the calls' timeout:
    // the calls are cancelled, and so is the request still waiting.
    let probe = Arc::new(Probe::default());
    let mut config = quiet();
    config.transport.max_in_flight = 2;
    config.transport.shutdown_grace = Duration::from_millis(200);
    config.tools.default_timeout = Duration::from_secs(30);
    let server =
        Server::new("full", "0").tool(hang::SPEC).tool(quick::SPEC).with_state(Arc::clone(&probe)).config(config);
    let Pipe { mut writer, lines, served, _stop: stop } = Pipe::start(server).await;
    for (id, tool) in [(1, "hang"), (2, "hang"), (3, "quick")] {
        writer.write_all(format!("{}\n", call(id, tool, json!({}))).as_bytes()).await.unwrap();
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    while probe.entered.load(Ordering::SeqCst) < 2 {
        assert!(Instant::now() < deadline, "the two calls never reached the handler");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let signalled = Instant::now();
    drop(stop); // the shutdown signal
    let served = tokio::time::timeout(Duration::from_secs(15), served)
        .await
        .expect("the connection ended long before the calls' 30 s timeout")
        .unwrap();
    assert!(served.is_ok(), "{served:?}");
    eprintln!("a full connection ended {:?} after the shutdown signal", signalled.elapsed());
    assert_eq!(probe.dropped.load(Ordering::SeqCst), 2, "the never-ending calls were cancelled after the grace");
    drop((writer, lines));
}

/// `notifications/cancelled` for the request `id`.
fn cancel(id: i64) -> Value {
    json!({"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": id, "reason": "test"}})
}

/// Waits (10 s at most) until `done` holds; `what` names it.
async fn until(done: impl Fn() -> bool, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !done() {
        assert!(Instant::now() < deadline, "{what}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// A quiet configuration whose audit records go to a file of a fresh folder, returned with it.
fn audited(name: &str) -> (Config, std::path::PathBuf) {
    let dir = std::env::temp_dir().join(format!("mcp-isolation-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let mut config = Config::default();
    config.audit.destination = format!("file:{}", dir.join("audit.log").display());
    (config, dir)
}

/// Each request id's audit reasons, in the order they were written.
fn audit_reasons(dir: &std::path::Path) -> BTreeMap<i64, Vec<String>> {
    let mut reasons = BTreeMap::<i64, Vec<String>>::new();
    for line in std::fs::read_to_string(dir.join("audit.log")).unwrap().lines() {
        let record: Value = serde_json::from_str(line).unwrap();
        let id = record["request_id"].as_i64().unwrap_or_else(|| panic!("a record without a request id: {record}"));
        reasons.entry(id).or_default().push(record["reason"].as_str().unwrap().to_owned());
    }
    reasons
}

/// How long a cancellation may take to free a place: far below the calls' 30 s timeout.
const PROMPTLY: Duration = Duration::from_secs(5);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_connection_still_reads_cancellations_and_its_waiting_requests_run() {
    // Both of transport.max_in_flight's places are taken by calls that end only when cancelled; the next
    // request waits for a place, and the reader reads on: a cancellation written after it frees a place at
    // once, and a request cancelled while it waits is never answered and gives its place back.
    let probe = Arc::new(Probe::default());
    let (mut config, dir) = audited("full-reads");
    config.transport.max_in_flight = 2;
    config.tools.default_timeout = Duration::from_secs(30);
    let server =
        Server::new("full", "0").tool(hang::SPEC).tool(quick::SPEC).with_state(Arc::clone(&probe)).config(config);
    let mut p = Pipe::start(server).await;
    for id in [1, 2] {
        p.line(&call(id, "hang", json!({}))).await;
    }
    until(|| probe.entered.load(Ordering::SeqCst) == 2, "the two calls never reached the handler").await;
    p.line(&call(3, "quick", json!({}))).await; // no place: it waits
    let cancelled = Instant::now();
    p.line(&cancel(1)).await;
    let answer = p.recv_within(PROMPTLY, "the waiting request after a running one was cancelled").await;
    assert_eq!((answer["id"].clone(), result_text(&answer["result"])), (json!(3), "quick".to_owned()), "{answer}");
    eprintln!("a waiting request answered {:?} after the cancellation of a running one", cancelled.elapsed());
    assert_eq!(probe.dropped.load(Ordering::SeqCst), 1, "the cancelled call's handler was dropped");

    // Full again (2 and 4 running); 5 waits and is cancelled while it waits.
    p.line(&call(4, "hang", json!({}))).await;
    until(|| probe.entered.load(Ordering::SeqCst) == 3, "the call taking the freed place never ran").await;
    p.line(&call(5, "quick", json!({}))).await;
    p.line(&cancel(5)).await;
    // Two more wait: both fit only if 5 gave its place back (as many wait as run).
    for id in [6, 7] {
        p.line(&call(id, "quick", json!({}))).await;
    }
    p.line(&cancel(2)).await;
    let answers = [p.recv_within(PROMPTLY, "6").await, p.recv_within(PROMPTLY, "7").await];
    for (answer, id) in answers.iter().zip([6, 7]) {
        assert_eq!((answer["id"].clone(), result_text(&answer["result"])), (json!(id), "quick".to_owned()), "{answer}");
    }
    p.line(&cancel(4)).await;
    assert_eq!(p.finish().await, Vec::<Value>::new(), "cancelled requests are never answered");
    assert_eq!(probe.dropped.load(Ordering::SeqCst), 3);

    // One record each: the cancelled ones (running or waiting) say so.
    let reasons = audit_reasons(&dir);
    let expected = [(0, "ok"), (1, "cancelled"), (2, "cancelled"), (3, "ok"), (4, "cancelled"), (5, "cancelled")]
        .into_iter()
        .chain([(6, "ok"), (7, "ok")])
        .map(|(id, reason)| (id, vec![reason.to_owned()]))
        .collect::<BTreeMap<_, _>>();
    assert_eq!(reasons, expected);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_connection_refuses_requests_beyond_those_it_lets_wait() {
    // max_in_flight = 2 running and 2 waiting: the fifth request is refused at once with −32012, and the
    // connection keeps serving the others.
    let probe = Arc::new(Probe::default());
    let (mut config, dir) = audited("full-refuses");
    config.transport.max_in_flight = 2;
    config.tools.default_timeout = Duration::from_secs(30);
    let server =
        Server::new("busy", "0").tool(hang::SPEC).tool(quick::SPEC).with_state(Arc::clone(&probe)).config(config);
    let mut p = Pipe::start(server).await;
    for id in [1, 2] {
        p.line(&call(id, "hang", json!({}))).await;
    }
    until(|| probe.entered.load(Ordering::SeqCst) == 2, "the two calls never reached the handler").await;
    for id in [3, 4, 5] {
        p.line(&call(id, "quick", json!({}))).await;
    }
    let refused = p.recv_within(PROMPTLY, "the request beyond the waiting ones").await;
    assert_eq!((refused["id"].clone(), refused["error"]["code"].clone()), (json!(5), json!(-32012)), "{refused}");
    assert_eq!(refused["error"]["data"]["limit"], "concurrency", "{refused}");
    let message = refused["error"]["message"].as_str().unwrap();
    assert!(message.contains("server busy: 2 requests running and 2 waiting"), "{refused}");
    for (cancelled, answered) in [(1, 3), (2, 4)] {
        p.line(&cancel(cancelled)).await;
        let answer = p.recv_within(PROMPTLY, "a waiting request after a cancellation").await;
        assert_eq!((answer["id"].clone(), result_text(&answer["result"])), (json!(answered), "quick".to_owned()));
    }
    p.line(&call(6, "quick", json!({}))).await;
    assert_eq!(p.recv_within(PROMPTLY, "a request once places are free").await["id"], 6);
    assert_eq!(p.finish().await, Vec::<Value>::new());

    let reasons = audit_reasons(&dir);
    let expected = [(0, "ok"), (1, "cancelled"), (2, "cancelled"), (3, "ok"), (4, "ok"), (5, "rate_limited")]
        .into_iter()
        .chain([(6, "ok")])
        .map(|(id, reason)| (id, vec![reason.to_owned()]))
        .collect::<BTreeMap<_, _>>();
    assert_eq!(reasons, expected, "one record per request");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_connection_reads_batches_on_and_refuses_their_requests_beyond_the_waiting_ones() {
    // Under 2025-03-26 (batches allowed), max_in_flight = 1: a batch holding a never-ending call takes the
    // place, the next batch waits, and a third batch, holding a request and the cancellation of the running
    // call, is read at once: its request is refused (no place left to wait in), its cancellation lets the
    // waiting batch run.
    let probe = Arc::new(Probe::default());
    let (mut config, dir) = audited("full-batches");
    config.transport.max_in_flight = 1;
    config.tools.default_timeout = Duration::from_secs(30);
    let server =
        Server::new("batches", "0").tool(hang::SPEC).tool(quick::SPEC).with_state(Arc::clone(&probe)).config(config);
    let mut p = Pipe::start_as(server, "2025-03-26").await;
    p.line(&json!([call(1, "hang", json!({}))])).await;
    until(|| probe.entered.load(Ordering::SeqCst) == 1, "the batch's call never reached the handler").await;
    p.line(&json!([call(2, "quick", json!({}))])).await; // waits
    p.line(&json!([call(3, "quick", json!({})), cancel(1)])).await;
    let mut batches =
        [p.recv_within(PROMPTLY, "the third batch").await, p.recv_within(PROMPTLY, "the second batch").await];
    batches.sort_by_key(|b| b[0]["id"].as_i64());
    let [waited, refused] = batches;
    assert_eq!(waited.as_array().map(Vec::len), Some(1), "{waited}");
    assert_eq!((waited[0]["id"].clone(), result_text(&waited[0]["result"])), (json!(2), "quick".to_owned()));
    assert_eq!(refused.as_array().map(Vec::len), Some(1), "{refused}");
    assert_eq!((refused[0]["id"].clone(), refused[0]["error"]["code"].clone()), (json!(3), json!(-32012)));
    assert_eq!(probe.dropped.load(Ordering::SeqCst), 1, "the running call was cancelled");
    assert_eq!(p.finish().await, Vec::<Value>::new());

    let reasons = audit_reasons(&dir);
    let expected = [(0, "ok"), (1, "cancelled"), (2, "ok"), (3, "rate_limited")]
        .map(|(id, reason)| (id, vec![reason.to_owned()]))
        .into_iter()
        .collect::<BTreeMap<_, _>>();
    assert_eq!(reasons, expected, "one record per request");
    std::fs::remove_dir_all(&dir).unwrap();
}
