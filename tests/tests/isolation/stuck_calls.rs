//! Tools that panic, time out or never end, clients that hang up, a tool's concurrency cap, and an id
//! reused while in flight: none of them holds up or disturbs another call.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use mcp_runtime::config::ToolThrottle;
use mcp_runtime::prelude::*;
use mcp_tests::{modern_meta, result_text};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::watch;

use super::{
    Gate, HEAVY, Pipe, Probe, call, explode, hang, hang_streaming, open_session, quick, quiet, serve, slot, stall,
    stateless, until,
};

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
