//! Whose tasks are whose, and the caps: another principal (or, anonymous, another session) cannot read,
//! cancel or list a task; `tasks.max_per_caller` bounds the live tasks of one caller; a task is gone at
//! its ttl, and a ttl is cut to `tasks.max_ttl`.

use std::time::Duration;

use mcp_runtime::config::Config;
use mcp_tests::{NetworkServer, OPS_KEY, VIEWER_KEY, inventory_bin};
use serde_json::{Value, json};

use super::{Http, Session, Stdio, WORKER_KEY, client, code, keyed, post_modern, with_extension};

fn ids(list: &Value) -> Vec<String> {
    let tasks = list["result"]["tasks"].as_array().unwrap_or_else(|| panic!("a list: {list}"));
    tasks.iter().map(|t| t["taskId"].as_str().unwrap().to_owned()).collect()
}

#[tokio::test]
async fn another_principal_cannot_see_read_or_cancel_a_task() {
    let server = NetworkServer::start_with(&inventory_bin(), "http", &[("INVENTORY_RECOUNT_MS", "20000")]);
    let url = format!("{}/mcp", server.base);
    let c = client();
    let recount = json!({"name": "recount_warehouse", "arguments": {"warehouse_id": "WH-EAST"}});
    let (status, created) = post_modern(&c, &url, Some(OPS_KEY), 1, "tools/call", recount, with_extension()).await;
    assert_eq!(status, 200, "{created}");
    assert_eq!(created["result"]["resultType"], "task", "{created}");
    let id = created["result"]["taskId"].as_str().unwrap().to_owned();

    let (_, unknown) =
        post_modern(&c, &url, Some(VIEWER_KEY), 2, "tasks/get", json!({"taskId": "no-such"}), with_extension()).await;
    assert_eq!(code(&unknown), -32602, "{unknown}");
    for method in ["tasks/get", "tasks/cancel", "tasks/update"] {
        let params = json!({"taskId": id, "inputResponses": {}});
        let (_, answer) = post_modern(&c, &url, Some(VIEWER_KEY), 3, method, params, with_extension()).await;
        assert_eq!(code(&answer), -32602, "{method} of another principal's task: {answer}");
        let shown = answer["error"]["message"].as_str().unwrap().replace(&id, "no-such");
        assert_eq!(shown, unknown["error"]["message"], "the same as an unknown task: {answer}");
    }

    let mut viewer = Session::open(&url, Some(VIEWER_KEY)).await;
    let (_, list) = viewer.req("tasks/list", json!({})).await;
    assert!(ids(&list).is_empty(), "the viewer lists none: {list}");
    for method in ["tasks/get", "tasks/result", "tasks/cancel"] {
        let (_, answer) = viewer.req(method, json!({"taskId": id})).await;
        assert_eq!(code(&answer), -32602, "{method} in the viewer's session: {answer}");
    }

    // The owner, in a session of its own, still sees it, running.
    let mut ops = Session::open(&url, Some(OPS_KEY)).await;
    let (_, list) = ops.req("tasks/list", json!({})).await;
    assert_eq!(ids(&list), std::slice::from_ref(&id), "{list}");
    let (_, task) = ops.req("tasks/get", json!({"taskId": id})).await;
    assert_eq!(task["result"]["status"], "working", "nobody else cancelled it: {task}");
    let (_, cancelled) = ops.req("tasks/cancel", json!({"taskId": id})).await;
    assert_eq!(cancelled["result"]["status"], "cancelled", "{cancelled}");
    assert!(server.logged("recount stopped before the last aisle"), "the recount stopped");
}

#[tokio::test]
async fn anonymous_sessions_do_not_see_each_others_tasks() {
    let s = Http::serve(Config::default()).await;
    let mut a = Session::open(&s.url, None).await;
    let mut b = Session::open(&s.url, None).await;
    let (_, created) = a.req("tools/call", json!({"name": "work", "arguments": {"ms": 30_000}, "task": {}})).await;
    let id = created["result"]["task"]["taskId"].as_str().unwrap_or_else(|| panic!("{created}")).to_owned();
    let (_, list) = b.req("tasks/list", json!({})).await;
    assert!(ids(&list).is_empty(), "{list}");
    for method in ["tasks/get", "tasks/result", "tasks/cancel"] {
        let (_, answer) = b.req(method, json!({"taskId": id})).await;
        assert_eq!(code(&answer), -32602, "{method} from another session: {answer}");
    }
    let (_, list) = a.req("tasks/list", json!({})).await;
    assert_eq!(ids(&list), std::slice::from_ref(&id), "{list}");
    let (_, task) = a.req("tasks/get", json!({"taskId": id})).await;
    assert_eq!(task["result"]["status"], "working", "{task}");
    s.stop().await;
}

#[tokio::test]
async fn one_caller_has_at_most_max_per_caller_live_tasks() {
    let mut config = keyed();
    config.tasks.max_per_caller = 1;
    let s = Http::serve(config).await;
    let call = json!({"name": "work", "arguments": {"ms": 600}});
    let (status, first) = s.modern(Some(WORKER_KEY), 1, "tools/call", call.clone(), with_extension()).await;
    assert_eq!((status, &first["result"]["resultType"]), (200, &json!("task")), "{first}");
    let id = first["result"]["taskId"].as_str().unwrap().to_owned();

    let (status, second) = s.modern(Some(WORKER_KEY), 2, "tools/call", call.clone(), with_extension()).await;
    assert_eq!(code(&second), -32012, "{second}");
    assert_eq!(second["error"]["data"]["limit"], "tasks", "{second}");
    assert_eq!(status, 429, "{second}");

    // Once the first ends, a new one is admitted.
    let deadline = std::time::Instant::now() + mcp_tests::TIMEOUT;
    loop {
        let (_, task) = s.modern(Some(WORKER_KEY), 3, "tasks/get", json!({"taskId": id}), with_extension()).await;
        if task["result"]["status"] == "completed" {
            break;
        }
        assert_eq!(task["result"]["status"], "working", "{task}");
        assert!(std::time::Instant::now() < deadline, "{task}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let (status, third) = s.modern(Some(WORKER_KEY), 4, "tools/call", call, with_extension()).await;
    assert_eq!((status, &third["result"]["resultType"]), (200, &json!("task")), "{third}");
    s.stop().await;
}

#[tokio::test]
async fn a_task_is_gone_after_its_ttl() {
    let mut s = Stdio::v2025(Config::default()).await;
    let answer = s.call_task("work", json!({"ms": 0}), json!({"ttl": 300})).await;
    assert_eq!(answer["result"]["task"]["ttl"], 300, "{answer}");
    let id = answer["result"]["task"]["taskId"].as_str().unwrap().to_owned();
    let before = s.get(&id).await;
    assert_eq!(before["result"]["taskId"], id, "kept within its ttl: {before}");
    tokio::time::sleep(Duration::from_millis(700)).await;
    let after = s.get(&id).await;
    assert_eq!(code(&after), -32602, "gone after its ttl: {after}");
    let list = s.req("tasks/list", json!({})).await;
    assert!(ids(&list).is_empty(), "{list}");
}

#[tokio::test]
async fn a_ttl_above_max_ttl_is_cut_to_it() {
    let mut config = Config::default();
    config.tasks.ttl = Duration::from_secs(1);
    config.tasks.max_ttl = Duration::from_secs(2);
    let mut s = Stdio::v2025(config).await;
    let answer = s.call_task("work", json!({"ms": 0}), json!({"ttl": 60_000})).await;
    assert_eq!(answer["result"]["task"]["ttl"], 2000, "cut to tasks.max_ttl: {answer}");
    let id = answer["result"]["task"]["taskId"].as_str().unwrap().to_owned();
    assert_eq!(s.get(&id).await["result"]["ttl"], 2000);
    let answer = s.call_task("work", json!({"ms": 0}), json!({})).await;
    assert_eq!(answer["result"]["task"]["ttl"], 1000, "tasks.ttl when none is asked for: {answer}");
}
