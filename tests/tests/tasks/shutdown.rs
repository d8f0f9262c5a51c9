//! A server shutting down with tasks running (the inventory example's `recount_warehouse`): a task that
//! ends within `transport.shutdown_grace` completes; one that does not is cancelled at the grace's end, and
//! either way the audit trail has its outcome record before the process exits.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use mcp_tests::{NetworkServer, OPS_KEY, StdioServer, inventory_bin};
use serde_json::{Value, json};

use super::{client, post_modern, with_extension};

fn audit_file(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("mcp-tasks-shutdown-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir.join("audit.log")
}

/// The outcome records of task `id` in an audit file.
fn outcomes(path: &Path, id: &str) -> Vec<Value> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    text.lines().filter_map(|l| serde_json::from_str::<Value>(l).ok()).filter(|r| r["task"]["id"] == id).collect()
}

/// Starts the inventory over stdio, recounting in `recount_ms` with a grace of `grace`, and creates a
/// recount task (2025-11-25); the server, its task's id and the audit file.
fn recounting(name: &str, recount_ms: &str, grace: &str) -> (StdioServer, String, PathBuf) {
    let file = audit_file(name);
    let destination = format!("file:{}", file.display());
    let mut s = StdioServer::inventory(&[
        ("MCP_AUDIT__DESTINATION", destination.as_str()),
        ("MCP_TRANSPORT__SHUTDOWN_GRACE", grace),
        ("INVENTORY_RECOUNT_MS", recount_ms),
    ]);
    assert_eq!(s.initialize("2025-11-25")["protocolVersion"], "2025-11-25");
    let call = json!({"name": "recount_warehouse", "arguments": {"warehouse_id": "WH-EAST"}, "task": {}});
    let answer = s.request(1, "tools/call", call);
    assert_eq!(answer["result"]["task"]["status"], "working", "{answer}");
    let id = answer["result"]["task"]["taskId"].as_str().unwrap().to_owned();
    (s, id, file)
}

#[test]
fn a_task_running_past_the_grace_is_cancelled_when_stdin_closes() {
    let (s, id, file) = recounting("stdio-cancel", "20000", "1s");
    let closed = Instant::now();
    let status = s.close();
    let took = closed.elapsed();
    assert!(status.success(), "{status:?}");
    assert!(took >= Duration::from_millis(900), "the task had its grace: {took:?}");
    assert!(took < Duration::from_secs(5), "the grace (1 s) and a little: {took:?}");
    let records = outcomes(&file, &id);
    assert_eq!(records.len(), 1, "{records:?}");
    assert_eq!(records[0]["task"]["status"], "cancelled", "{records:?}");
    assert_eq!(records[0]["reason"], "cancelled", "{records:?}");
    assert_eq!(records[0]["request_id"], 1, "{records:?}");
}

#[test]
fn a_task_ending_within_the_grace_completes_when_stdin_closes() {
    let (s, id, file) = recounting("stdio-complete", "1200", "8s");
    let closed = Instant::now();
    let status = s.close();
    let took = closed.elapsed();
    assert!(status.success(), "{status:?}");
    assert!(took >= Duration::from_millis(900), "it waited for the task: {took:?}");
    assert!(took < Duration::from_secs(6), "not for the whole grace: {took:?}");
    let records = outcomes(&file, &id);
    assert_eq!(records.len(), 1, "{records:?}");
    assert_eq!(records[0]["task"]["status"], "completed", "{records:?}");
    assert_eq!(records[0]["reason"], "ok", "{records:?}");
}

#[tokio::test]
async fn a_task_running_past_the_grace_is_cancelled_on_sigterm_over_http() {
    let file = audit_file("http-cancel");
    let destination = format!("file:{}", file.display());
    let mut server = NetworkServer::start_with(
        &inventory_bin(),
        "http",
        &[
            ("MCP_AUDIT__DESTINATION", destination.as_str()),
            ("MCP_TRANSPORT__SHUTDOWN_GRACE", "1s"),
            ("INVENTORY_RECOUNT_MS", "20000"),
        ],
    );
    let url = format!("{}/mcp", server.base);
    let recount = json!({"name": "recount_warehouse", "arguments": {"warehouse_id": "WH-WEST"}});
    let (_, created) = post_modern(&client(), &url, Some(OPS_KEY), 9, "tools/call", recount, with_extension()).await;
    assert_eq!(created["result"]["resultType"], "task", "{created}");
    let id = created["result"]["taskId"].as_str().unwrap().to_owned();
    let signalled = Instant::now();
    server.signal("-TERM").unwrap();
    let status = server.exit_within(Duration::from_secs(6)).await;
    let took = signalled.elapsed();
    assert!(status.is_some(), "the server exits within the grace (1 s) and a few seconds: {took:?}");
    assert!(took >= Duration::from_millis(900), "the task had its grace: {took:?}");
    let records = outcomes(&file, &id);
    assert_eq!(records.len(), 1, "{records:?}");
    assert_eq!(records[0]["task"]["status"], "cancelled", "{records:?}");
    assert!(server.logged("recount stopped before the last aisle"), "the recount was stopped");
}
