//! Streamable HTTP over real sockets: both protocol eras, sessions, SSE streaming and resumption,
//! requests to the client, and the secure defaults under hostile input.

#![allow(clippy::needless_pass_by_value)] // `json!` arguments read best passed by value in tests

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use mcp_runtime::Pipeline;
use mcp_runtime::config::Config;
use mcp_runtime::prelude::*;
use mcp_runtime::transport::http::{Flavor, serve_on};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;

/// Counts the calls that reached it.
#[mcp_tool]
async fn touch(hits: State<Arc<AtomicUsize>>) -> String {
    hits.fetch_add(1, Ordering::SeqCst);
    "touched".to_owned()
}

/// Reports progress, hangs up the stream, then answers (SEP-1699 polling).
#[mcp_tool]
async fn long_job(ctx: Context) -> String {
    ctx.progress(1.0, Some(2.0), Some("halfway")).await;
    ctx.close_stream(Duration::from_millis(50)).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    "finished".to_owned()
}

/// Asks the client's model.
#[mcp_tool]
async fn ask(question: String, ctx: Context) -> Result<String, ToolError> {
    let params =
        json!({"messages": [{"role": "user", "content": {"type": "text", "text": question}}], "maxTokens": 10});
    let answer = ctx.create_message(params).await.map_err(ToolError::msg)?;
    Ok(format!("model says: {}", answer["content"]["text"].as_str().unwrap_or("?")))
}

struct Running {
    url: String,
    addr: SocketAddr,
    hits: Arc<AtomicUsize>,
    _stop: oneshot::Sender<()>,
}

async fn start(configure: impl FnOnce(&mut Config)) -> Running {
    let mut config = Config::default();
    configure(&mut config);
    let hits = Arc::new(AtomicUsize::new(0));
    let server = Server::new("http-test", "0.0.0")
        .tool(touch::SPEC)
        .tool(long_job::SPEC)
        .tool(ask::SPEC)
        .with_state(Arc::clone(&hits))
        .config(config);
    let pipeline = Pipeline::build(server).unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(serve_on(listener, pipeline, Flavor::Streamable, async move {
        let _ = stopped.await;
    }));
    Running { url: format!("http://{addr}/mcp"), addr, hits, _stop: stop }
}

fn client() -> reqwest::Client {
    reqwest::Client::builder().pool_max_idle_per_host(0).build().unwrap()
}

fn post(c: &reqwest::Client, url: &str, body: Value) -> reqwest::RequestBuilder {
    c.post(url)
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .body(body.to_string())
}

fn initialize() -> Value {
    json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
        "protocolVersion": "2025-11-25", "capabilities": {"sampling": {}}, "clientInfo": {"name": "t", "version": "0"}}})
}

async fn open_session(c: &reqwest::Client, url: &str) -> String {
    let r = post(c, url, initialize()).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let id = r.headers()["mcp-session-id"].to_str().unwrap().to_owned();
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["result"]["protocolVersion"], "2025-11-25");
    let r = post(c, url, json!({"jsonrpc": "2.0", "method": "notifications/initialized"}))
        .header("mcp-session-id", &id)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 202);
    id
}

fn call(id: i64, tool: &str, arguments: Value) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "method": "tools/call", "params": {"name": tool, "arguments": arguments}})
}

/// Reads SSE events (`id`, `data`, `retry`) until the stream ends.
async fn sse_events(response: reqwest::Response) -> Vec<(Option<String>, String, Option<String>)> {
    let mut text = String::new();
    let mut body = response.bytes_stream();
    while let Some(chunk) = tokio::time::timeout(Duration::from_secs(10), body.next()).await.expect("SSE within 10 s") {
        text.push_str(std::str::from_utf8(&chunk.unwrap()).unwrap());
    }
    text.split("\n\n")
        .filter(|e| !e.trim().is_empty() && !e.starts_with(':'))
        .map(|event| {
            let field = |name: &str| {
                event
                    .lines()
                    .filter_map(|l| l.strip_prefix(name))
                    .map(|v| v.trim_start().to_owned())
                    .collect::<Vec<_>>()
            };
            (field("id:").pop(), field("data:").join("\n"), field("retry:").pop())
        })
        .collect()
}

#[tokio::test]
async fn a_handshake_session_lists_calls_and_ends() {
    let s = start(|_| {}).await;
    let c = client();
    let id = open_session(&c, &s.url).await;
    assert_eq!(id.len(), 48, "192 random bits, hex");
    let list: Value = post(&c, &s.url, json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list"}))
        .header("mcp-session-id", &id)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list["result"]["tools"].as_array().unwrap().len(), 3);
    let r = post(&c, &s.url, call(2, "touch", json!({}))).header("mcp-session-id", &id).send().await.unwrap();
    assert_eq!(r.headers()["content-type"], "application/json", "an answer with nothing before it is plain JSON");
    assert_eq!(r.json::<Value>().await.unwrap()["result"]["content"][0]["text"], "touched");

    let missing = post(&c, &s.url, call(3, "touch", json!({}))).send().await.unwrap();
    assert_eq!(missing.status(), 400);
    let unknown =
        post(&c, &s.url, call(4, "touch", json!({}))).header("mcp-session-id", "feedface").send().await.unwrap();
    assert_eq!(unknown.status(), 404);
    let bad_version = post(&c, &s.url, call(5, "touch", json!({})))
        .header("mcp-session-id", &id)
        .header("mcp-protocol-version", "1999-01-01")
        .send()
        .await
        .unwrap();
    assert_eq!(bad_version.status(), 400);

    assert_eq!(c.delete(&s.url).header("mcp-session-id", &id).send().await.unwrap().status(), 200);
    let after = post(&c, &s.url, call(6, "touch", json!({}))).header("mcp-session-id", &id).send().await.unwrap();
    assert_eq!(after.status(), 404, "a deleted session is gone");
    assert_eq!(s.hits.load(Ordering::SeqCst), 1);
}

fn modern(method: &str, params: Value) -> Value {
    let mut params = params;
    params["_meta"] = json!({
        "io.modelcontextprotocol/protocolVersion": "2026-07-28",
        "io.modelcontextprotocol/clientCapabilities": {}
    });
    json!({"jsonrpc": "2.0", "id": 7, "method": method, "params": params})
}

#[tokio::test]
async fn stateless_2026_requests_check_their_headers() {
    let s = start(|_| {}).await;
    let c = client();
    let ok = post(&c, &s.url, modern("tools/call", json!({"name": "touch"})))
        .header("mcp-protocol-version", "2026-07-28")
        .header("mcp-method", "tools/call")
        .header("mcp-name", "touch")
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
    assert!(ok.headers().get("mcp-session-id").is_none(), "no sessions in 2026-07-28");
    let body: Value = ok.json().await.unwrap();
    assert_eq!(body["result"]["resultType"], "complete");

    let cases = [
        (Some("2026-07-28"), Some("tools/call"), Some("other"), 400, -32020),
        (Some("2026-07-28"), Some("tools/list"), Some("touch"), 400, -32020),
        (None, Some("tools/call"), Some("touch"), 400, -32020),
        (Some("2026-07-28"), None, Some("touch"), 400, -32020),
        (Some("2026-07-28"), Some("tools/call"), Some("=?base64?dG91Y2g=?="), 200, 0),
    ];
    for (version, method, name, status, code) in cases {
        let mut r = post(&c, &s.url, modern("tools/call", json!({"name": "touch"})));
        for (h, v) in [("mcp-protocol-version", version), ("mcp-method", method), ("mcp-name", name)] {
            if let Some(v) = v {
                r = r.header(h, v);
            }
        }
        let r = r.send().await.unwrap();
        assert_eq!(r.status(), status, "{version:?} {method:?} {name:?}");
        if code != 0 {
            assert_eq!(r.json::<Value>().await.unwrap()["error"]["code"], code);
        }
    }
    assert_eq!(s.hits.load(Ordering::SeqCst), 2, "only the agreeing requests ran");

    let unknown = post(&c, &s.url, modern("no/such", json!({})))
        .header("mcp-protocol-version", "2026-07-28")
        .header("mcp-method", "no/such")
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 404);
    let mut old = modern("tools/list", json!({}));
    old["params"]["_meta"]["io.modelcontextprotocol/protocolVersion"] = json!("1999-01-01");
    let unsupported = post(&c, &s.url, old)
        .header("mcp-protocol-version", "1999-01-01")
        .header("mcp-method", "tools/list")
        .send()
        .await
        .unwrap();
    assert_eq!(unsupported.status(), 400);
    assert_eq!(unsupported.json::<Value>().await.unwrap()["error"]["code"], -32022);
    for method in [reqwest::Method::GET, reqwest::Method::DELETE] {
        let r = c.request(method, &s.url).header("mcp-protocol-version", "2026-07-28").send().await.unwrap();
        assert_eq!(r.status(), 405);
    }
    let note =
        post(&c, &s.url, json!({"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": 1}}))
            .header("mcp-protocol-version", "2026-07-28")
            .send()
            .await
            .unwrap();
    assert_eq!(note.status(), 202);
}

#[tokio::test]
async fn a_stream_closed_mid_call_resumes_with_last_event_id() {
    let s = start(|_| {}).await;
    let c = client();
    let id = open_session(&c, &s.url).await;
    let r = post(&c, &s.url, call(1, "long_job", json!({})).tap_meta(json!({"progressToken": "job"})))
        .header("mcp-session-id", &id)
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["content-type"], "text/event-stream");
    let events = sse_events(r).await;
    assert_eq!(events[0].1, "", "a priming event with an id and empty data comes first: {events:?}");
    assert!(events.iter().any(|e| e.1.contains("notifications/progress")), "{events:?}");
    assert_eq!(events.last().unwrap().2.as_deref(), Some("50"), "the server says when to come back: {events:?}");
    assert!(!events.iter().any(|e| e.1.contains("finished")), "the answer comes after the hang-up");
    let last_id = events.iter().rev().find_map(|e| e.0.clone()).unwrap();

    let resumed = c
        .get(&s.url)
        .header("accept", "text/event-stream")
        .header("mcp-session-id", &id)
        .header("last-event-id", &last_id)
        .send()
        .await
        .unwrap();
    assert_eq!(resumed.status(), 200);
    let rest = sse_events(resumed).await;
    let answer: Value = serde_json::from_str(&rest.iter().find(|e| e.1.contains("\"result\"")).unwrap().1).unwrap();
    assert_eq!(answer["id"], 1);
    assert_eq!(answer["result"]["content"][0]["text"], "finished");
    assert!(!rest.iter().any(|e| e.1.contains("notifications/progress")), "nothing already seen is replayed");
}

#[tokio::test]
async fn a_tool_asks_the_client_through_the_request_stream() {
    let s = start(|_| {}).await;
    let c = client();
    let id = open_session(&c, &s.url).await;
    let r = post(&c, &s.url, call(1, "ask", json!({"question": "2+2?"})))
        .header("mcp-session-id", &id)
        .send()
        .await
        .unwrap();
    let mut body = r.bytes_stream();
    let mut seen = String::new();
    let request: Value = loop {
        seen.push_str(std::str::from_utf8(&body.next().await.unwrap().unwrap()).unwrap());
        if let Some(line) = seen.lines().find(|l| l.contains("sampling/createMessage")) {
            break serde_json::from_str(line.trim_start_matches("data:").trim()).unwrap();
        }
    };
    assert_eq!(request["params"]["messages"][0]["content"]["text"], "2+2?");
    let reply = json!({"jsonrpc": "2.0", "id": request["id"], "result": {"role": "assistant", "content": {"type": "text", "text": "4"}, "model": "m"}});
    assert_eq!(post(&c, &s.url, reply).header("mcp-session-id", &id).send().await.unwrap().status(), 202);
    let mut rest = String::new();
    while let Some(chunk) = body.next().await {
        rest.push_str(std::str::from_utf8(&chunk.unwrap()).unwrap());
    }
    assert!(rest.contains("model says: 4"), "{rest}");
}

#[tokio::test]
async fn evil_host_or_origin_is_refused_before_any_handler_runs() {
    let s = start(|_| {}).await;
    let c = client();
    let id = open_session(&c, &s.url).await;
    let evil_origin = post(&c, &s.url, call(1, "touch", json!({})))
        .header("mcp-session-id", &id)
        .header("origin", "https://evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(evil_origin.status(), 403);
    // reqwest sets Host from the URL: write the evil Host by hand.
    let body = call(2, "touch", json!({})).to_string();
    let raw = format!(
        "POST /mcp HTTP/1.1\r\nHost: evil.example\r\nContent-Type: application/json\r\nAccept: application/json, text/event-stream\r\nMcp-Session-Id: {id}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let mut stream = TcpStream::connect(s.addr).await.unwrap();
    stream.write_all(raw.as_bytes()).await.unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).await.unwrap();
    assert!(answer.starts_with("HTTP/1.1 403"), "{answer}");
    assert_eq!(s.hits.load(Ordering::SeqCst), 0, "no handler ran");
    let fine = post(&c, &s.url, call(3, "touch", json!({})))
        .header("mcp-session-id", &id)
        .header("origin", "http://localhost:6274")
        .send()
        .await
        .unwrap();
    assert_eq!(fine.status(), 200);
}

#[tokio::test]
async fn oversized_bodies_get_413_with_or_without_content_length() {
    let s = start(|_| {}).await;
    let c = client();
    let big = vec![b' '; 10 * 1024 * 1024];
    let r = c.post(&s.url).header("content-type", "application/json").body(big.clone()).send().await.unwrap();
    assert_eq!(r.status(), 413);
    let chunks = futures_util::stream::iter(
        big.chunks(64 * 1024).map(|c| Ok::<_, std::io::Error>(c.to_vec())).collect::<Vec<_>>(),
    );
    let r = c
        .post(&s.url)
        .header("content-type", "application/json")
        .body(reqwest::Body::wrap_stream(chunks))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 413, "chunked, no Content-Length");
    let id = open_session(&c, &s.url).await;
    assert!(!id.is_empty(), "the server still serves");
}

#[tokio::test]
async fn stalled_connections_are_closed_while_a_normal_client_is_served() {
    let s = start(|c| c.http.header_read_timeout = Duration::from_secs(1)).await;
    let mut stalled = Vec::new();
    for _ in 0..500 {
        let mut stream = TcpStream::connect(s.addr).await.unwrap();
        stream.write_all(b"POST /mcp HTTP/1.1\r\nHost: localhost\r\n").await.unwrap(); // never finishes
        stalled.push(stream);
    }
    let c = client();
    let started = Instant::now();
    let id = open_session(&c, &s.url).await;
    assert!(!id.is_empty());
    assert!(started.elapsed() < Duration::from_secs(1), "served while 500 connections stall");
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let mut closed = 0;
    for stream in &mut stalled {
        let mut buf = [0u8; 256];
        match tokio::time::timeout(Duration::from_millis(200), stream.read(&mut buf)).await {
            Ok(Ok(_)) | Ok(Err(_)) => closed += 1, // EOF, a 408, or a reset: the server let go
            Err(_) => {}
        }
    }
    assert_eq!(closed, 500, "every stalled connection was closed by the header timeout");
}

#[tokio::test]
async fn a_flood_of_session_openings_stays_within_the_cap() {
    let s = start(|c| c.http.max_sessions = 100).await;
    let c = reqwest::Client::new();
    let opened = Arc::new(AtomicUsize::new(0));
    let refused = Arc::new(AtomicUsize::new(0));
    let tasks: Vec<_> = (0..16)
        .map(|_| {
            let (c, url, opened, refused) = (c.clone(), s.url.clone(), Arc::clone(&opened), Arc::clone(&refused));
            tokio::spawn(async move {
                for _ in 0..625 {
                    let r = post(&c, &url, initialize()).send().await.unwrap();
                    match r.status().as_u16() {
                        200 => opened.fetch_add(1, Ordering::SeqCst),
                        503 => refused.fetch_add(1, Ordering::SeqCst),
                        other => panic!("unexpected status {other}"),
                    };
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    assert_eq!(opened.load(Ordering::SeqCst), 100);
    assert_eq!(refused.load(Ordering::SeqCst), 9_900);
}

#[tokio::test]
async fn health_endpoints_reveal_nothing() {
    let s = start(|_| {}).await;
    let c = client();
    let id = open_session(&c, &s.url).await;
    for path in ["/healthz", "/readyz"] {
        let body = c.get(format!("http://{}{path}", s.addr)).send().await.unwrap().text().await.unwrap();
        assert!(!body.contains(&id), "{body}");
    }
}

trait TapMeta {
    fn tap_meta(self, meta: Value) -> Self;
}

impl TapMeta for Value {
    fn tap_meta(mut self, meta: Value) -> Self {
        self["params"]["_meta"] = meta;
        self
    }
}

#[tokio::test]
async fn the_endpoint_nests_in_an_application_under_its_own_layers() {
    let hits = Arc::new(AtomicUsize::new(0));
    let mcp = Server::new("nested", "0").tool(touch::SPEC).with_state(Arc::clone(&hits)).into_router().unwrap();
    let seen = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&seen);
    let app = axum::Router::new().nest("/api", mcp).layer(axum::middleware::from_fn(
        move |request: axum::extract::Request, next: axum::middleware::Next| {
            let counter = Arc::clone(&counter);
            async move {
                counter.fetch_add(1, Ordering::SeqCst);
                next.run(request).await
            }
        },
    ));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/api/mcp", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    let c = client();
    let id = open_session(&c, &url).await;
    let r = post(&c, &url, call(1, "touch", json!({}))).header("mcp-session-id", &id).send().await.unwrap();
    assert_eq!(r.json::<Value>().await.unwrap()["result"]["content"][0]["text"], "touched");
    assert_eq!(hits.load(Ordering::SeqCst), 1);
    assert_eq!(seen.load(Ordering::SeqCst), 3, "the application's own layer saw every request");
}

#[tokio::test]
async fn oversized_bodies_leave_the_server_memory_flat() {
    let server = mcp_tests::NetworkServer::inventory("http");
    let url = format!("{}/mcp", server.base);
    let c = client();
    let chunked = || {
        let chunk = vec![b' '; 256 * 1024];
        futures_util::stream::iter((0..40).map(move |_| Ok::<_, std::io::Error>(chunk.clone())))
    };
    let refuse = |rounds: usize| {
        let (c, url) = (c.clone(), url.clone());
        async move {
            for _ in 0..rounds {
                let r = c
                    .post(&url)
                    .bearer_auth(mcp_tests::OPS_KEY)
                    .header("content-type", "application/json")
                    .body(reqwest::Body::wrap_stream(chunked()))
                    .send()
                    .await;
                assert_eq!(r.unwrap().status(), 413, "10 MiB, chunked, no Content-Length");
            }
        }
    };
    // The allocator keeps some of what it freed for reuse (mimalloc, the default, more than glibc, and per
    // worker thread): what must hold is that refused bodies do not accumulate. After a first round fills
    // those caches, 40 more refused 10 MiB bodies may move RSS by allocator noise, not by what a leak of
    // even a tenth of each body would add (40 MiB).
    refuse(40).await;
    let before = server.rss_kib();
    refuse(40).await;
    let after = server.rss_kib();
    eprintln!("server RSS around 400 MiB of refused bodies: {before} KiB before, {after} KiB after");
    assert!(after < before + 24 * 1024, "400 MiB of refused bodies grew the server from {before} KiB to {after} KiB");
}

#[tokio::test]
async fn under_2026_a_tool_asks_the_client_through_input_required() {
    let s = start(|_| {}).await;
    let c = client();
    let request = |extra: Value| {
        let mut body = modern("tools/call", json!({"name": "ask", "arguments": {"question": "2+2?"}}));
        body["params"]["_meta"]["io.modelcontextprotocol/clientCapabilities"] = json!({"sampling": {}});
        if let Value::Object(extra) = extra {
            body["params"].as_object_mut().unwrap().extend(extra);
        }
        post(&c, &s.url, body)
            .header("mcp-protocol-version", "2026-07-28")
            .header("mcp-method", "tools/call")
            .header("mcp-name", "ask")
    };
    let first: Value = request(Value::Null).send().await.unwrap().json().await.unwrap();
    assert_eq!(first["result"]["resultType"], "input_required", "{first}");
    let asked = &first["result"]["inputRequests"]["sampling/createMessage:0"];
    assert_eq!(asked["method"], "sampling/createMessage");
    assert_eq!(asked["params"]["messages"][0]["content"]["text"], "2+2?");
    let answer = json!({"inputResponses": {"sampling/createMessage:0": {
        "role": "assistant", "content": {"type": "text", "text": "4"}, "model": "m"}}});
    let second: Value = request(answer).send().await.unwrap().json().await.unwrap();
    assert_eq!(second["result"]["resultType"], "complete", "{second}");
    assert_eq!(second["result"]["content"][0]["text"], "model says: 4");
}
