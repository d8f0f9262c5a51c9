//! 2025-11-25 tasks that ask for input (`input_required`): `tasks/result` carries the task's elicitation to
//! the client, tied to the task by `_meta`, and the answer lets the task end; `notifications/tasks/status`
//! tell the stdio client of each change.

use std::time::Duration;

use mcp_runtime::config::Config;
use mcp_tests::result_text;
use serde_json::{Value, json};

use super::{RELATED, Stdio};

/// The statuses `notifications/tasks/status` reported for task `id`, in order.
fn statuses(seen: &[Value], id: &str) -> Vec<String> {
    seen.iter()
        .filter(|m| m["method"] == "notifications/tasks/status" && m["params"]["taskId"] == id)
        .map(|m| m["params"]["status"].as_str().unwrap_or("?").to_owned())
        .collect()
}

#[tokio::test]
async fn a_task_asking_for_input_gets_it_through_tasks_result_and_completes() {
    let mut s = Stdio::v2025(Config::default()).await;
    let id = s.create("asks", json!({})).await;
    let task = s.until(&id, "input_required").await;
    assert_eq!(task["taskId"], id, "{task}");
    assert!(
        s.seen.iter().all(|m| m["method"] != "elicitation/create"),
        "the elicitation waits for tasks/result: {:?}",
        s.seen
    );

    // tasks/result: the server sends the task's elicitation on this connection first.
    let result_id = s.id();
    s.h.send(json!({"jsonrpc": "2.0", "id": result_id, "method": "tasks/result", "params": {"taskId": id}})).await;
    let mut asked = None;
    let answer = loop {
        let message = s.h.recv().await;
        if message["method"] == "elicitation/create" {
            assert!(asked.is_none(), "asked once: {message}");
            assert_eq!(message["params"]["_meta"][RELATED]["taskId"], id, "tied to its task: {message}");
            assert_eq!(message["params"]["message"], "Go ahead?", "{message}");
            let reply = json!({"jsonrpc": "2.0", "id": message["id"], "result":
                {"action": "accept", "content": {"confirm": true}}});
            s.h.send(reply).await;
            asked = Some(message);
        } else if message.get("id") == Some(&json!(result_id)) {
            break message;
        } else {
            s.seen.push(message);
        }
    };
    assert!(asked.is_some(), "the elicitation came before the result");
    assert_eq!(result_text(&answer["result"]), "confirmed: true", "{answer}");
    assert_eq!(answer["result"]["_meta"][RELATED]["taskId"], id, "{answer}");
    assert_eq!(s.get(&id).await["result"]["status"], "completed");

    // Status notifications reached the stdio client: input_required, then completed.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while !statuses(&s.seen, &id).iter().any(|st| st == "completed") {
        let Ok(message) = tokio::time::timeout_at(deadline, s.h.recv()).await else { break };
        s.seen.push(message);
    }
    let reported = statuses(&s.seen, &id);
    let position = |st: &str| reported.iter().position(|r| r == st);
    let (Some(asking), Some(done)) = (position("input_required"), position("completed")) else {
        panic!("notifications/tasks/status of input_required and completed: {reported:?}");
    };
    assert!(asking < done, "in order: {reported:?}");
    let note = s.seen.iter().find(|m| m["method"] == "notifications/tasks/status").unwrap();
    assert!(note["params"]["createdAt"].is_string() && note.get("id").is_none(), "a Task, as a notification: {note}");
}

#[tokio::test]
async fn a_declined_elicitation_reaches_the_tool_and_a_task_without_input_reports_its_end() {
    let mut s = Stdio::v2025(Config::default()).await;
    let id = s.create("asks", json!({})).await;
    s.until(&id, "input_required").await;
    let result_id = s.id();
    s.h.send(json!({"jsonrpc": "2.0", "id": result_id, "method": "tasks/result", "params": {"taskId": id}})).await;
    let answer = loop {
        let message = s.h.recv().await;
        if message["method"] == "elicitation/create" {
            s.h.send(json!({"jsonrpc": "2.0", "id": message["id"], "result":
                {"action": "accept", "content": {"confirm": false}}}))
                .await;
        } else if message.get("id") == Some(&json!(result_id)) {
            break message;
        }
    };
    assert_eq!(result_text(&answer["result"]), "confirmed: false", "the tool read the answer: {answer}");

    let quick = s.create("work", json!({"ms": 0})).await;
    s.until(&quick, "completed").await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while !statuses(&s.seen, &quick).iter().any(|st| st == "completed") {
        let Ok(message) = tokio::time::timeout_at(deadline, s.h.recv()).await else { break };
        s.seen.push(message);
    }
    assert_eq!(statuses(&s.seen, &quick).last().map(String::as_str), Some("completed"), "{:?}", s.seen);
}
