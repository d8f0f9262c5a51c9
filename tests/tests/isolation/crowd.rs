//! A thousand concurrent HTTP clients reusing the same JSON-RPC ids, each answered only with its own data.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use mcp_runtime::prelude::*;
use mcp_tests::result_text;
use serde_json::{Value, json};

use super::{HEAVY, Load, echo, quiet, serve, sse_messages, stateless};

/// The soft limit on open files of this process (`/proc/self/limits`).
fn open_files_limit() -> Option<usize> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    line.split_whitespace().nth(3)?.parse().ok()
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
