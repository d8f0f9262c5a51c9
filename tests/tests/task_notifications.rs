//! 2026-07-28 `notifications/tasks`: a `subscriptions/listen` naming its caller's tasks hears each change of
//! them as `tasks/get` would show it (SEP-2663 status notifications), over the real stdio transport code.

use std::time::Duration;

use mcp_runtime::prelude::*;
use mcp_tests::Harness;
use serde_json::{Value, json};

/// Works a little, then answers.
#[mcp_tool(task = "optional")]
async fn brew(ctx: Context) -> &'static str {
    tokio::time::sleep(Duration::from_millis(300)).await;
    ctx.status("steeping").await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    "tea"
}

fn meta(with_tasks: bool) -> Value {
    let extensions = if with_tasks { json!({"io.modelcontextprotocol/tasks": {}}) } else { json!({}) };
    json!({
        "io.modelcontextprotocol/protocolVersion": "2026-07-28",
        "io.modelcontextprotocol/clientCapabilities": {"extensions": extensions},
        "io.modelcontextprotocol/clientInfo": {"name": "mcp-tests", "version": "0"},
    })
}

fn request(id: i64, method: &str, mut params: Value, with_tasks: bool) -> Value {
    params["_meta"] = meta(with_tasks);
    json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params})
}

/// The next message the server writes (10 s at most).
async fn next(h: &mut Harness) -> Value {
    tokio::time::timeout(Duration::from_secs(10), h.recv()).await.expect("a message within 10 s")
}

#[tokio::test]
async fn a_listen_naming_its_task_hears_each_change_until_the_result() {
    let mut h = Harness::serve(Server::new("tea", "1.0.0").tool(brew::SPEC)).await;
    h.send(request(1, "tools/call", json!({"name": "brew", "arguments": {}}), true)).await;
    let created = next(&mut h).await;
    assert_eq!(created["result"]["resultType"], "task", "{created}");
    let task_id = created["result"]["taskId"].as_str().unwrap().to_owned();

    // Without the extension, asking for task notifications is refused.
    let refused = request(2, "subscriptions/listen", json!({"notifications": {"taskIds": [task_id]}}), false);
    h.send(refused).await;
    let refused = next(&mut h).await;
    assert_eq!(refused["error"]["code"], -32021, "{refused}");

    // An id that is not the caller's (here: made up) is left out of the acknowledgment.
    let listen = json!({"notifications": {"taskIds": [task_id, "not-a-task-of-mine"]}});
    h.send(request(3, "subscriptions/listen", listen, true)).await;
    let ack = next(&mut h).await;
    assert_eq!(ack["method"], "notifications/subscriptions/acknowledged", "{ack}");
    assert_eq!(ack["params"]["notifications"], json!({"taskIds": [task_id]}));

    let mut statuses = Vec::new();
    let last = loop {
        let note = next(&mut h).await;
        assert_eq!(note["method"], "notifications/tasks", "{note}");
        assert_eq!(note["params"]["taskId"], task_id.as_str());
        assert_eq!(note["params"]["_meta"]["io.modelcontextprotocol/subscriptionId"], 3);
        statuses.push((note["params"]["status"].clone(), note["params"]["statusMessage"].clone()));
        if note["params"]["status"] != "working" {
            break note;
        }
    };
    assert!(statuses.contains(&(json!("working"), json!("steeping"))), "the status message was told: {statuses:?}");
    assert_eq!(last["params"]["status"], "completed", "{last}");
    assert_eq!(mcp_tests::result_text(&last["params"]["result"]), "tea", "the result is inlined: {last}");

    // Cancelling the listen ends it without an answer; the connection goes on.
    h.send(json!({"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": 3}})).await;
    h.send(request(4, "tasks/get", json!({"taskId": task_id}), true)).await;
    let got = next(&mut h).await;
    assert_eq!(got["id"], 4, "{got}");
    assert_eq!(got["result"]["status"], "completed");
    h.close_input().await;
    h.finished().await.unwrap();
}
