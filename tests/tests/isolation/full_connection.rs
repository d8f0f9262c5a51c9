//! A stdio connection at `transport.max_in_flight` keeps reading: cancellations free places at once,
//! waiting requests run or are cancelled unanswered, and requests beyond the waiting ones are refused,
//! batches alike, each request with one audit record.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use mcp_runtime::config::Config;
use mcp_runtime::prelude::*;
use mcp_tests::result_text;
use serde_json::{Value, json};

use super::{Pipe, Probe, call, hang, quick, until};

/// `notifications/cancelled` for the request `id`.
fn cancel(id: i64) -> Value {
    json!({"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": id, "reason": "test"}})
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
