//! Tasks through the corridor: a creation refused for a missing scope or invalid arguments leaves no task;
//! `tasks/*` polls spend the caller's budget; the audit trail has one record for the creating call, one
//! outcome record when the task ends, and one per `tasks/get`.

use std::path::Path;

use serde_json::{Value, json};

use super::{Http, Session, WATCHER_KEY, WORKER_KEY, code, keyed, with_extension};

#[tokio::test]
async fn a_creation_without_the_scope_is_refused_and_creates_nothing() {
    let s = Http::serve(keyed()).await;
    let call = json!({"name": "scoped_work", "arguments": {"ms": 10}});
    let (status, refused) = s.modern(Some(WATCHER_KEY), 1, "tools/call", call, with_extension()).await;
    assert_eq!(status, 403, "{refused}");
    assert_eq!(code(&refused), -32011, "{refused}");

    let mut watcher = Session::open(&s.url, Some(WATCHER_KEY)).await;
    let call = json!({"name": "scoped_work", "arguments": {"ms": 10}, "task": {}});
    let (_, refused) = watcher.req("tools/call", call.clone()).await;
    assert_eq!(code(&refused), -32011, "{refused}");
    let (_, list) = watcher.req("tasks/list", json!({})).await;
    assert_eq!(list["result"]["tasks"], json!([]), "nothing was created: {list}");

    // The same call with the scope makes a task, which the worker lists.
    let mut worker = Session::open(&s.url, Some(WORKER_KEY)).await;
    let (_, created) = worker.req("tools/call", call).await;
    assert_eq!(created["result"]["task"]["status"], "working", "{created}");
    let (_, list) = worker.req("tasks/list", json!({})).await;
    assert_eq!(list["result"]["tasks"].as_array().map(Vec::len), Some(1), "{list}");
    s.stop().await;
}

#[tokio::test]
async fn invalid_arguments_answer_a_tool_error_and_create_no_task() {
    let s = Http::serve(keyed()).await;
    let mut worker = Session::open(&s.url, Some(WORKER_KEY)).await;
    let (_, answer) = worker.req("tools/call", json!({"name": "work", "arguments": {"ms": "soon"}, "task": {}})).await;
    assert_eq!(answer["result"]["isError"], true, "{answer}");
    assert!(answer["result"].get("task").is_none(), "no task: {answer}");
    let (_, list) = worker.req("tasks/list", json!({})).await;
    assert_eq!(list["result"]["tasks"], json!([]), "{list}");

    let call = json!({"name": "work", "arguments": {"ms": "soon"}});
    let (_, answer) = s.modern(Some(WORKER_KEY), 2, "tools/call", call, with_extension()).await;
    assert_eq!(answer["result"]["isError"], true, "{answer}");
    assert!(answer["result"].get("taskId").is_none(), "no task: {answer}");
    assert_ne!(answer["result"]["resultType"], "task", "{answer}");
    s.stop().await;
}

#[tokio::test]
async fn tasks_get_polls_spend_the_callers_budget() {
    let mut config = keyed();
    config.throttling.per_principal = Some("4/min".to_owned());
    let s = Http::serve(config).await;
    let call = json!({"name": "work", "arguments": {"ms": 30_000}});
    let (_, created) = s.modern(Some(WORKER_KEY), 1, "tools/call", call, with_extension()).await;
    let id = created["result"]["taskId"].as_str().unwrap_or_else(|| panic!("{created}")).to_owned();
    let mut served = 0;
    let refused = loop {
        let (status, answer) =
            s.modern(Some(WORKER_KEY), 2, "tasks/get", json!({"taskId": id}), with_extension()).await;
        if answer.get("error").is_some() {
            break (status, answer);
        }
        assert_eq!(answer["result"]["status"], "working", "{answer}");
        served += 1;
        assert!(served <= 10, "polls are never refused");
    };
    assert_eq!(served, 3, "4 a minute: the creation, then 3 polls");
    assert_eq!(refused.0, 429, "{:?}", refused.1);
    assert_eq!(code(&refused.1), -32012, "{:?}", refused.1);
    assert_eq!(refused.1["error"]["data"]["limit"], "principal", "{:?}", refused.1);
    // Another caller has its own budget.
    let (status, other) = s.modern(Some(WATCHER_KEY), 3, "tasks/get", json!({"taskId": id}), with_extension()).await;
    assert_eq!((status, code(&other)), (200, -32602), "{other}");
    s.stop().await;
}

/// The request records of an audit file.
fn records(path: &Path) -> Vec<Value> {
    let text = std::fs::read_to_string(path).unwrap();
    text.lines().map(|l| serde_json::from_str::<Value>(l).unwrap()).filter(|r| r.get("checkpoint").is_none()).collect()
}

#[tokio::test]
async fn the_audit_trail_has_the_call_the_outcome_and_each_poll() {
    let dir = std::env::temp_dir().join(format!("mcp-tasks-audit-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("audit.log");
    let mut config = keyed();
    config.audit.destination = format!("file:{}", file.display());
    let s = Http::serve(config).await;
    let call = json!({"name": "work", "arguments": {"ms": 300}});
    let (_, created) = s.modern(Some(WORKER_KEY), 41, "tools/call", call, with_extension()).await;
    let id = created["result"]["taskId"].as_str().unwrap_or_else(|| panic!("{created}")).to_owned();
    let mut polls = 0;
    loop {
        polls += 1;
        let (_, task) = s.modern(Some(WORKER_KEY), 42, "tasks/get", json!({"taskId": id}), with_extension()).await;
        if task["result"]["status"] == "completed" {
            break;
        }
        assert!(polls < 200, "{task}");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    s.stop().await;

    let all = records(&file);
    let of_call: Vec<&Value> = all.iter().filter(|r| r["request_id"] == 41).collect();
    let (outcomes, calls): (Vec<&Value>, Vec<&Value>) = of_call.iter().partition(|r| r.get("task").is_some());
    assert_eq!(calls.len(), 1, "one record for the creating call: {of_call:?}");
    assert_eq!(outcomes.len(), 1, "one outcome record: {of_call:?}");
    let (call, outcome) = (calls[0], outcomes[0]);
    assert_eq!(call["method"], "tools/call", "{call}");
    assert_eq!(call["reason"], "ok", "{call}");
    assert_eq!(outcome["method"], "tools/call", "{outcome}");
    assert_eq!(outcome["tool"], "work", "{outcome}");
    assert_eq!(outcome["principal"], call["principal"], "{outcome}");
    assert_eq!(outcome["task"], json!({"id": id, "status": "completed"}), "{outcome}");
    assert_eq!(outcome["reason"], "ok", "{outcome}");
    assert!(outcome.get("arguments").is_none(), "no arguments in the outcome: {outcome}");
    if call["trace_id"].is_string() {
        assert_eq!(outcome["trace_id"], call["trace_id"], "the same trace: {outcome}");
    }
    let latency = outcome["latency_us"].as_u64().unwrap();
    assert!(latency >= 300_000, "creation to end, at least the tool's 300 ms: {latency}");
    assert!(call["latency_us"].as_u64().unwrap() < latency, "the call was answered before the task ended");
    let gets = all.iter().filter(|r| r["method"] == "tasks/get").count();
    assert_eq!(gets, polls, "one record per tasks/get");
    assert!(all.iter().filter(|r| r["method"] == "tasks/get").all(|r| r.get("task").is_none() && r["reason"] == "ok"));
}
