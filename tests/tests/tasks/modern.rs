//! 2026-07-28 tasks (the `io.modelcontextprotocol/tasks` extension) over stdio and Streamable HTTP: the
//! extension in `server/discover`, the flat creation answer, `tasks/get` with the result, error or input
//! requests inlined, input through `tasks/update`, the cancel ack, the removed methods, and the per-request
//! opt-in (−32021 without it, HTTP 400).

use mcp_runtime::config::Config;
use mcp_tests::result_text;
use serde_json::{Value, json};

use super::{EXTENSION, Http, PANIC_TEXT, RELATED, Stdio, code, modern, terminal, with_extension};

/// A 2026-07-28 client of one transport.
enum Peer {
    Stdio(Stdio),
    Http(Http),
}

impl Peer {
    /// Sends `method` declaring `caps`; the HTTP status (over HTTP) and the answer.
    async fn call(&mut self, method: &str, params: Value, caps: Value) -> (Option<u16>, Value) {
        match self {
            Self::Stdio(s) => {
                let id = s.id();
                s.h.send(modern(json!(id), method, params, caps)).await;
                loop {
                    let message = s.h.recv().await;
                    if message.get("id") == Some(&json!(id)) {
                        return (None, message);
                    }
                }
            }
            Self::Http(h) => {
                let (status, answer) = h.modern(None, 7, method, params, caps).await;
                (Some(status), answer)
            }
        }
    }

    /// Sends `method` declaring the extension; the answer.
    async fn ext(&mut self, method: &str, params: Value) -> Value {
        self.call(method, params, with_extension()).await.1
    }

    /// A task of `tool` (asserting the call was answered with one); its id.
    async fn create(&mut self, tool: &str, arguments: Value) -> String {
        let answer = self.ext("tools/call", json!({"name": tool, "arguments": arguments})).await;
        assert_eq!(answer["result"]["resultType"], "task", "{answer}");
        answer["result"]["taskId"].as_str().unwrap_or_else(|| panic!("{answer}")).to_owned()
    }

    /// Polls `tasks/get` until `status` (or any terminal one with `"terminal"`); the detailed task.
    async fn until(&mut self, id: &str, status: &str) -> Value {
        let deadline = std::time::Instant::now() + mcp_tests::TIMEOUT;
        loop {
            let answer = self.ext("tasks/get", json!({"taskId": id})).await;
            let task = answer["result"].clone();
            assert_eq!(task["resultType"], "complete", "{answer}");
            assert_eq!(task["taskId"], id, "{answer}");
            if task["status"] == status || (status == "terminal" && terminal(&task["status"])) {
                return task;
            }
            assert!(!terminal(&task["status"]), "ended {task} before {status}");
            assert!(std::time::Instant::now() < deadline, "not {status} in time: {task}");
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }
}

async fn discovers_and_creates(p: &mut Peer) {
    let (status, discover) = p.call("server/discover", json!({}), json!({})).await;
    assert!(status.is_none_or(|s| s == 200), "{discover}");
    let capabilities = &discover["result"]["capabilities"];
    assert_eq!(capabilities["extensions"][EXTENSION], json!({}), "{discover}");
    assert!(capabilities.get("tasks").is_none(), "no 2025 capability: {discover}");

    let answer = p.ext("tools/call", json!({"name": "work", "arguments": {"ms": 400}})).await;
    let created = &answer["result"];
    assert_eq!(created["resultType"], "task", "{answer}");
    assert_eq!(created["status"], "working", "{answer}");
    assert_eq!(created["ttlMs"], 3_600_000, "tasks.ttl: {answer}");
    assert_eq!(created["pollIntervalMs"], 1000, "{answer}");
    for absent in ["task", "ttl", "pollInterval", "result", "content", "inputRequests"] {
        assert!(created.get(absent).is_none(), "no `{absent}` on a 2026-07-28 creation: {answer}");
    }
    assert!(created["createdAt"].as_str().is_some_and(|t| t.contains('T')), "{answer}");
    let id = created["taskId"].as_str().unwrap().to_owned();

    let now = p.ext("tasks/get", json!({"taskId": id})).await;
    assert_eq!(now["result"]["status"], "working", "durable at once: {now}");
    assert!(now["result"].get("result").is_none(), "{now}");
    let done = p.until(&id, "completed").await;
    assert_eq!(result_text(&done["result"]), "worked 400ms", "the result inlined: {done}");
    assert!(done["result"]["_meta"].get(RELATED).is_none(), "no related-task meta inlined: {done}");
    assert_eq!(done["ttlMs"], 3_600_000, "{done}");

    // A tool that ends in its first steps answers at once: no task.
    let now = p.ext("tools/call", json!({"name": "work", "arguments": {"ms": 0}})).await;
    assert_eq!(now["result"]["resultType"], "complete", "{now}");
    assert!(now["result"].get("taskId").is_none(), "{now}");
    assert_eq!(result_text(&now["result"]), "worked 0ms", "{now}");
}

async fn errors_and_panics(p: &mut Peer) {
    let id = p.create("fails", json!({})).await;
    let task = p.until(&id, "terminal").await;
    assert_eq!(task["status"], "completed", "a tool error completes a 2026-07-28 task: {task}");
    assert_eq!(task["result"]["isError"], true, "{task}");

    let id = p.create("explodes", json!({})).await;
    let task = p.until(&id, "terminal").await;
    assert_eq!(task["status"], "failed", "{task}");
    assert_eq!(task["error"]["code"], -32603, "{task}");
    assert!(task.get("result").is_none(), "{task}");
    assert!(!task.to_string().contains(PANIC_TEXT), "{task}");
}

async fn input_and_cancel(p: &mut Peer) {
    let id = p.create("asks", json!({})).await;
    let task = p.until(&id, "input_required").await;
    let requests = task["inputRequests"].as_object().unwrap_or_else(|| panic!("inputRequests: {task}"));
    assert_eq!(requests.len(), 1, "{task}");
    let (key, request) = requests.iter().next().unwrap();
    assert_eq!(request["method"], "elicitation/create", "{task}");
    assert_eq!(request["params"]["message"], "Go ahead?", "{task}");
    let responses = json!({key: {"action": "accept", "content": {"confirm": true}}, "no-such-key": {"ignored": true}});
    let ack = p.ext("tasks/update", json!({"taskId": id, "inputResponses": responses})).await;
    assert_eq!(ack["result"]["resultType"], "complete", "{ack}");
    assert!(ack["result"].get("taskId").is_none() && ack["result"].get("status").is_none(), "an ack: {ack}");
    let done = p.until(&id, "terminal").await;
    assert_eq!(done["status"], "completed", "{done}");
    assert_eq!(result_text(&done["result"]), "confirmed: true", "{done}");
    assert!(done.get("inputRequests").is_none(), "{done}");

    let id = p.create("work", json!({"ms": 30_000})).await;
    for round in 0..2 {
        let ack = p.ext("tasks/cancel", json!({"taskId": id})).await;
        assert_eq!(ack["result"]["resultType"], "complete", "cancel {round}: {ack}");
        assert!(ack["result"].get("status").is_none(), "an ack, not the task: {ack}");
    }
    assert_eq!(p.until(&id, "terminal").await["status"], "cancelled");
    let unknown = p.ext("tasks/get", json!({"taskId": "no-such-task"})).await;
    assert_eq!(code(&unknown), -32602, "{unknown}");
}

async fn removed_methods_and_the_opt_in(p: &mut Peer, http: bool) {
    for method in ["tasks/result", "tasks/list"] {
        let answer = p.ext(method, json!({"taskId": "x"})).await;
        assert_eq!(code(&answer), -32601, "{method} is gone in 2026-07-28: {answer}");
    }
    let id = p.create("work", json!({"ms": 30_000})).await;
    for method in ["tasks/get", "tasks/cancel", "tasks/update"] {
        let (status, answer) = p.call(method, json!({"taskId": id, "inputResponses": {}}), json!({})).await;
        assert_eq!(code(&answer), -32021, "{method} without the extension: {answer}");
        assert_eq!(answer["error"]["data"]["requiredCapabilities"]["extensions"][EXTENSION], json!({}), "{answer}");
        assert_eq!(status, http.then_some(400), "{answer}");
    }
    assert_eq!(p.until(&id, "working").await["status"], "working", "a refused cancel cancels nothing");
    p.ext("tasks/cancel", json!({"taskId": id})).await;

    let (status, answer) = p.call("tools/call", json!({"name": "only_task", "arguments": {}}), json!({})).await;
    assert_eq!(code(&answer), -32021, "{answer}");
    assert_eq!(answer["error"]["data"]["requiredCapabilities"]["extensions"][EXTENSION], json!({}), "{answer}");
    assert_eq!(status, http.then_some(400), "{answer}");
    let (_, answer) = p.call("tools/call", json!({"name": "work", "arguments": {"ms": 200}}), json!({})).await;
    assert!(answer["result"].get("taskId").is_none(), "no task without the extension: {answer}");
    assert_eq!(result_text(&answer["result"]), "worked 200ms", "{answer}");
    let legacy = json!({"name": "work", "arguments": {"ms": 200}, "task": {"ttl": 1000}});
    let (_, answer) = p.call("tools/call", legacy, json!({})).await;
    assert_eq!(result_text(&answer["result"]), "worked 200ms", "`params.task` is ignored: {answer}");
}

#[tokio::test]
async fn over_stdio() {
    let mut p = Peer::Stdio(Stdio::serve(Config::default()).await);
    discovers_and_creates(&mut p).await;
    errors_and_panics(&mut p).await;
    input_and_cancel(&mut p).await;
    removed_methods_and_the_opt_in(&mut p, false).await;
}

#[tokio::test]
async fn over_streamable_http() {
    let mut p = Peer::Http(Http::serve(Config::default()).await);
    discovers_and_creates(&mut p).await;
    errors_and_panics(&mut p).await;
    input_and_cancel(&mut p).await;
    removed_methods_and_the_opt_in(&mut p, true).await;
}
