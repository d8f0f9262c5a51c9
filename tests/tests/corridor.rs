//! The corridor in-process, through the real stdio transport code over an in-memory pipe: panics,
//! timeouts, cancellation, progress, concurrency and start-up checks, with tools written for the purpose.

#![allow(clippy::needless_pass_by_value)] // `json!` arguments read best passed by value in tests

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use mcp_runtime::Pipeline;
use mcp_runtime::prelude::*;
use mcp_tests::Harness;
use serde_json::json;
use tokio::sync::watch;

/// Counts calls that reached a handler.
#[derive(Default)]
struct Calls(AtomicUsize);

/// How many [`hang`] calls started, and how many of their futures were dropped: the events the tests wait
/// for instead of sleeping.
#[derive(Default)]
struct Probe {
    entered: watch::Sender<usize>,
    dropped: watch::Sender<usize>,
}

impl Probe {
    /// Waits until `count` reaches `n`, or fails the test naming `what`.
    async fn until(count: &watch::Sender<usize>, n: usize, what: &str) {
        let mut seen = count.subscribe();
        tokio::time::timeout(mcp_tests::TIMEOUT, seen.wait_for(|c| *c >= n))
            .await
            .unwrap_or_else(|_| panic!("{what} within {:?}", mcp_tests::TIMEOUT))
            .unwrap();
    }
}

struct DropGuard(Arc<Probe>);

impl Drop for DropGuard {
    fn drop(&mut self) {
        self.0.dropped.send_modify(|n| *n += 1);
    }
}

/// Panics.
#[mcp_tool]
async fn boom() -> String {
    panic!("the database exploded")
}

/// Counts its calls; `n` must be at least 1.
#[mcp_tool]
async fn count(#[schema(minimum = 1)] n: u32, calls: State<Arc<Calls>>) -> String {
    calls.0.0.fetch_add(1, Ordering::SeqCst);
    format!("counted {n}")
}

/// Sleeps far longer than its timeout.
#[mcp_tool(timeout = "100ms")]
async fn sleepy() -> String {
    tokio::time::sleep(Duration::from_secs(30)).await;
    "woke".to_owned()
}

/// Hangs until cancelled; records being dropped.
#[mcp_tool]
async fn hang(probe: State<Arc<Probe>>) -> String {
    let _guard = DropGuard(Arc::clone(&probe));
    probe.entered.send_modify(|n| *n += 1);
    std::future::pending::<()>().await;
    unreachable!()
}

/// Reports progress 0, 50, 100 (and a stale 40, which must be dropped).
#[mcp_tool]
async fn work(ctx: Context) -> String {
    for p in [0.0, 50.0, 40.0, 100.0] {
        ctx.progress(p, Some(100.0), None).await;
    }
    "done".to_owned()
}

/// Takes no arguments.
#[mcp_tool(name = "no.args-tool")]
async fn no_args() -> &'static str {
    "nothing needed"
}

struct Observed {
    calls: Arc<Calls>,
    probe: Arc<Probe>,
}

fn observed_server() -> (Server, Observed) {
    let observed = Observed { calls: Arc::default(), probe: Arc::default() };
    let server = server().with_state(Arc::clone(&observed.calls)).with_state(Arc::clone(&observed.probe));
    (server, observed)
}

fn server() -> Server {
    Server::new("corridor-test", "0.0.0")
        .tool(boom::SPEC)
        .tool(count::SPEC)
        .tool(sleepy::SPEC)
        .tool(hang::SPEC)
        .tool(work::SPEC)
        .tool(no_args::SPEC)
}

#[tokio::test]
async fn a_panicking_tool_is_an_internal_error_and_the_server_keeps_serving() {
    let mut h = Harness::start(observed_server().0).await;
    h.call(1, "boom", json!({})).await;
    let answer = h.recv().await;
    assert_eq!(answer["error"]["code"], -32603);
    let message = answer["error"]["message"].as_str().unwrap();
    assert!(!message.contains("database"), "the panic message stays in the server's logs: {message}");
    h.call(2, "count", json!({"n": 3})).await;
    assert_eq!(h.recv().await["result"]["content"][0]["text"], "counted 3");
}

#[tokio::test]
async fn invalid_arguments_never_reach_the_handler() {
    let mut h = Harness::start(observed_server().0).await;
    h.call(1, "count", json!({"n": 0})).await;
    let answer = h.recv().await;
    assert_eq!(answer["result"]["isError"], true);
    assert!(answer["result"]["content"][0]["text"].as_str().unwrap().contains("minimum of 1"), "{answer}");
    h.call(2, "count", json!({})).await;
    assert!(h.recv().await["result"]["content"][0]["text"].as_str().unwrap().contains("\"n\" is a required property"));
    h.call(3, "count", json!({"n": 2})).await;
    assert_eq!(h.recv().await["result"]["content"][0]["text"], "counted 2", "only this call reached the handler");
}

#[tokio::test]
async fn handler_calls_are_counted_only_when_valid() {
    let (server, observed) = observed_server();
    let mut h = Harness::start(server).await;
    for (id, args) in [(1, json!({"n": 0})), (2, json!({"n": "7"})), (3, json!({"n": 1, "extra": true}))] {
        h.call(id, "count", args).await;
        assert_eq!(h.recv().await["result"]["isError"], true);
    }
    assert_eq!(observed.calls.0.load(Ordering::SeqCst), 0);
    h.call(4, "count", json!({"n": 1})).await;
    assert_eq!(h.recv().await["result"]["content"][0]["text"], "counted 1");
    assert_eq!(observed.calls.0.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_tool_past_its_timeout_is_a_tool_error() {
    let mut h = Harness::start(observed_server().0).await;
    h.call(1, "sleepy", json!({})).await;
    let answer = h.recv().await;
    assert_eq!(answer["result"]["isError"], true);
    assert!(answer["result"]["content"][0]["text"].as_str().unwrap().contains("timed out after 100ms"), "{answer}");
}

#[tokio::test]
async fn cancellation_drops_the_handler_and_sends_no_answer() {
    let (server, observed) = observed_server();
    let mut h = Harness::start(server).await;
    h.call(1, "hang", json!({})).await;
    Probe::until(&observed.probe.entered, 1, "the call reached its handler").await;
    assert_eq!(*observed.probe.dropped.borrow(), 0, "still running");
    h.send(
        json!({"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": 1, "reason": "user"}}),
    )
    .await;
    h.send(json!({"jsonrpc": "2.0", "id": 2, "method": "ping"})).await;
    let next = h.recv().await;
    assert_eq!(next["id"], 2, "no answer for the cancelled request: {next}");
    Probe::until(&observed.probe.dropped, 1, "the handler's future was dropped").await;
}

#[tokio::test]
async fn progress_notifications_increase_and_precede_the_answer() {
    let mut h = Harness::start(observed_server().0).await;
    h.send(json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "work", "arguments": {}, "_meta": {"progressToken": "p1"}}})).await;
    let mut progress = Vec::new();
    loop {
        let m = h.recv().await;
        if m["method"] == "notifications/progress" {
            assert_eq!(m["params"]["progressToken"], "p1");
            assert_eq!(m["params"]["total"], 100.0);
            progress.push(m["params"]["progress"].as_f64().unwrap());
        } else {
            assert_eq!(m["id"], 1);
            break;
        }
    }
    assert_eq!(progress, [0.0, 50.0, 100.0]);
    h.call(2, "work", json!({})).await;
    assert_eq!(h.recv().await["id"], 2, "no progress without a token");
}

#[tokio::test]
async fn requests_run_concurrently_and_answers_match_ids() {
    let (server, observed) = observed_server();
    let mut h = Harness::start(server).await;
    // A call that never ends on its own is running when the fast one arrives: the fast one's answer can
    // only come first if the two run side by side.
    h.call(1, "hang", json!({})).await;
    Probe::until(&observed.probe.entered, 1, "the never-ending call reached its handler").await;
    h.call(2, "no.args-tool", json!({})).await;
    let first = h.recv().await;
    assert_eq!(first["id"], 2, "the fast call is not stuck behind the never-ending one");
    assert_eq!(first["result"]["content"][0]["text"], "nothing needed");
    h.send(json!({"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": 1}})).await;
    Probe::until(&observed.probe.dropped, 1, "the never-ending call was cancelled").await;
}

#[tokio::test]
async fn eof_finishes_in_flight_requests_then_exits_cleanly() {
    let mut h = Harness::start(observed_server().0).await;
    h.call(1, "work", json!({})).await;
    h.close_input().await;
    assert_eq!(h.recv().await["result"]["content"][0]["text"], "done");
    assert!(h.finished().await.is_ok());
}

#[test]
fn a_server_without_tools_resources_or_prompts_refuses_to_start_and_says_why() {
    let error = Pipeline::build(Server::new("empty", "0")).unwrap_err().to_string();
    assert!(error.contains("no tools, resources or prompts") && error.contains("#[mcp_resource]"), "{error}");
}

#[test]
fn a_missing_state_is_reported_at_start_up() {
    let error = Pipeline::build(Server::new("s", "0").tool(count::SPEC)).unwrap_err().to_string();
    assert!(error.contains("tool `count`") && error.contains("State<alloc::sync::Arc<corridor::Calls>>"), "{error}");
}

#[test]
fn duplicate_names_are_refused_naming_both_places() {
    let error = Pipeline::build(Server::new("s", "0").tool(no_args::SPEC).tool(no_args::SPEC)).unwrap_err().to_string();
    assert!(error.contains("no.args-tool") && error.matches("corridor.rs:").count() == 2, "{error}");
}

#[test]
fn the_annotated_function_stays_callable() {
    let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
    assert_eq!(rt.block_on(no_args()), "nothing needed");
}

#[test]
fn zero_argument_tools_have_a_closed_object_schema() {
    let app = Pipeline::build(Server::new("s", "0").tool(no_args::SPEC)).unwrap();
    let manifest = app.app().manifest();
    assert_eq!(
        manifest["tools"][0]["inputSchema"],
        json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "type": "object",
            "properties": {},
            "additionalProperties": false
        })
    );
    assert_eq!(manifest["tools"][0]["description"], "Takes no arguments.");
}
