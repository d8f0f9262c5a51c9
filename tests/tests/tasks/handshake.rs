//! 2025-11-25 tasks over stdio: creation with `params.task`, `tasks/get`, `tasks/result`, `tasks/list`
//! (paginated), `tasks/cancel`, tool errors and panics, the tool-level negotiation, and the capability offered
//! only to sessions of 2025-11-25.

use std::collections::BTreeSet;

use mcp_runtime::config::Config;
use mcp_tests::result_text;
use serde_json::{Value, json};

use super::{PANIC_TEXT, RELATED, Stdio, code};

#[tokio::test]
async fn a_task_is_created_polled_to_completed_and_its_result_read() {
    let mut s = Stdio::v2025(Config::default()).await;
    let answer = s.call_task("work", json!({"ms": 300}), json!({"ttl": 60_000})).await;
    let task = &answer["result"]["task"];
    assert_eq!(task["status"], "working", "{answer}");
    assert_eq!(task["ttl"], 60_000, "the ttl asked for: {answer}");
    assert_eq!(task["pollInterval"], 1000, "tasks.poll_interval: {answer}");
    for field in ["createdAt", "lastUpdatedAt"] {
        assert!(task[field].as_str().is_some_and(|t| t.contains('T')), "{field}: {answer}");
    }
    assert!(answer["result"].get("content").is_none(), "answered before the tool ended: {answer}");
    let id = task["taskId"].as_str().unwrap().to_owned();

    let now = s.get(&id).await;
    assert_eq!(now["result"]["taskId"], id, "{now}");
    assert_eq!(now["result"]["status"], "working", "still running: {now}");
    let done = s.until(&id, "completed").await;
    assert_eq!(done["ttl"], 60_000, "{done}");

    let result = s.req("tasks/result", json!({"taskId": id})).await;
    assert_eq!(result_text(&result["result"]), "worked 300ms", "{result}");
    assert_eq!(result["result"]["_meta"][RELATED]["taskId"], id, "{result}");
    assert_ne!(result["result"]["isError"], true, "{result}");
}

#[tokio::test]
async fn tasks_list_shows_own_tasks_page_by_page() {
    let mut config = Config::default();
    config.tasks.page_size = 2;
    let mut s = Stdio::v2025(config).await;
    let mut created = BTreeSet::new();
    for _ in 0..5 {
        created.insert(s.create("work", json!({"ms": 0})).await);
    }
    let mut seen = Vec::new();
    let mut sizes = Vec::new();
    let mut cursor: Option<Value> = None;
    for page in 0.. {
        assert!(page < 5, "the pages end");
        let params = cursor.as_ref().map_or_else(|| json!({}), |c| json!({"cursor": c}));
        let answer = s.req("tasks/list", params).await;
        let tasks = answer["result"]["tasks"].as_array().unwrap_or_else(|| panic!("tasks: {answer}")).clone();
        sizes.push(tasks.len());
        seen.extend(tasks.iter().map(|t| t["taskId"].as_str().unwrap().to_owned()));
        for t in &tasks {
            assert!(t["status"].is_string() && t["createdAt"].is_string(), "a whole task: {t}");
        }
        match answer["result"].get("nextCursor") {
            Some(next) => cursor = Some(next.clone()),
            None => break,
        }
    }
    assert_eq!(sizes, [2, 2, 1], "5 tasks, 2 a page");
    assert_eq!(seen.len(), 5, "no task twice: {seen:?}");
    assert_eq!(seen.into_iter().collect::<BTreeSet<_>>(), created);
}

#[tokio::test]
async fn a_tool_error_fails_the_task_and_its_result_says_so() {
    let mut s = Stdio::v2025(Config::default()).await;
    let id = s.create("fails", json!({})).await;
    let task = s.until(&id, "terminal").await;
    assert_eq!(task["status"], "failed", "a tool error fails a 2025-11-25 task: {task}");
    let result = s.req("tasks/result", json!({"taskId": id})).await;
    assert_eq!(result["result"]["isError"], true, "{result}");
    assert!(result_text(&result["result"]).contains("the job failed"), "{result}");
    assert_eq!(result["result"]["_meta"][RELATED]["taskId"], id, "{result}");
}

#[tokio::test]
async fn a_panicking_tool_fails_the_task_with_an_internal_error_that_hides_the_panic() {
    let mut s = Stdio::v2025(Config::default()).await;
    let id = s.create("explodes", json!({})).await;
    let task = s.until(&id, "terminal").await;
    assert_eq!(task["status"], "failed", "{task}");
    assert!(!task.to_string().contains(PANIC_TEXT), "{task}");
    let result = s.req("tasks/result", json!({"taskId": id})).await;
    assert_eq!(code(&result), -32603, "{result}");
    assert!(result.get("result").is_none(), "{result}");
    assert!(!result.to_string().contains(PANIC_TEXT), "the panic's text stays in the server: {result}");

    let after = s.req("tools/call", json!({"name": "plain", "arguments": {}})).await;
    assert_eq!(result_text(&after["result"]), "plain", "the server still serves: {after}");
    let again = s.create("work", json!({"ms": 0})).await;
    assert_eq!(s.until(&again, "terminal").await["status"], "completed");
}

#[tokio::test]
async fn a_cancelled_task_reads_cancelled_and_cannot_be_cancelled_again() {
    let mut s = Stdio::v2025(Config::default()).await;
    let id = s.create("work", json!({"ms": 30_000})).await;
    let cancelled = s.req("tasks/cancel", json!({"taskId": id})).await;
    assert_eq!(cancelled["result"]["taskId"], id, "{cancelled}");
    assert_eq!(cancelled["result"]["status"], "cancelled", "{cancelled}");
    assert_eq!(s.get(&id).await["result"]["status"], "cancelled");
    let unknown = s.req("tasks/cancel", json!({"taskId": "no-such-task"})).await;
    assert_eq!(code(&unknown), -32602, "{unknown}");
    let unknown = s.get("no-such-task").await;
    assert_eq!(code(&unknown), -32602, "{unknown}");
}

#[tokio::test]
async fn cancelling_an_ended_task_is_refused() {
    let mut s = Stdio::v2025(Config::default()).await;
    let id = s.create("work", json!({"ms": 30_000})).await;
    assert_eq!(s.req("tasks/cancel", json!({"taskId": id})).await["result"]["status"], "cancelled");
    let again = s.req("tasks/cancel", json!({"taskId": id})).await;
    assert_eq!(code(&again), -32602, "a cancelled task: {again}");
    let done = s.create("work", json!({"ms": 0})).await;
    s.until(&done, "completed").await;
    let late = s.req("tasks/cancel", json!({"taskId": done})).await;
    assert_eq!(code(&late), -32602, "a completed task: {late}");
    assert_eq!(s.get(&done).await["result"]["status"], "completed", "it stays completed");
}

#[tokio::test]
async fn the_tools_task_setting_is_enforced() {
    let mut s = Stdio::v2025(Config::default()).await;
    let forbidden = s.call_task("plain", json!({}), json!({})).await;
    assert_eq!(code(&forbidden), -32601, "a task of a tool that forbids one: {forbidden}");
    let required = s.req("tools/call", json!({"name": "only_task", "arguments": {}})).await;
    assert_eq!(code(&required), -32601, "a plain call of a tool that requires a task: {required}");
    let id = s.create("only_task", json!({})).await;
    assert_eq!(s.until(&id, "terminal").await["status"], "completed");
    let plain = s.req("tools/call", json!({"name": "work", "arguments": {"ms": 0}})).await;
    assert_eq!(result_text(&plain["result"]), "worked 0ms", "an optional tool without `task` answers: {plain}");
    let listed = s.req("tools/list", json!({})).await;
    let support = |name: &str| {
        let tools = listed["result"]["tools"].as_array().unwrap();
        let tool = tools.iter().find(|t| t["name"] == name).unwrap();
        tool["execution"]["taskSupport"].clone()
    };
    assert_eq!(support("work"), "optional", "{listed}");
    assert_eq!(support("only_task"), "required", "{listed}");
}

#[tokio::test]
async fn tasks_are_offered_to_2025_11_25_sessions_only() {
    let (_, init) = Stdio::open(Config::default(), "2025-11-25", json!({})).await;
    assert_eq!(
        init["capabilities"]["tasks"],
        json!({"list": {}, "cancel": {}, "requests": {"tools": {"call": {}}}}),
        "{init}"
    );

    let (mut old, init) = Stdio::open(Config::default(), "2025-06-18", json!({})).await;
    assert_eq!(init["protocolVersion"], "2025-06-18", "{init}");
    assert!(init["capabilities"].get("tasks").is_none(), "no tasks before 2025-11-25: {init}");
    let answer = old.call_task("work", json!({"ms": 100}), json!({})).await;
    assert!(answer["result"].get("task").is_none(), "2025-06-18 knows no task: {answer}");
    assert_eq!(result_text(&answer["result"]), "worked 100ms", "it runs at once: {answer}");
    let get = old.req("tasks/get", json!({"taskId": "x"})).await;
    assert_eq!(code(&get), -32601, "{get}");
}
