//! Tasks (2025-11-25) as the official TypeScript SDK v1 client drives them, over stdio and Streamable HTTP:
//! `client.experimental.tasks.callToolStream` on the inventory's `recount_warehouse` (task created, status
//! with aisle progress, the result), a cancel mid-way (the task reads `cancelled`, the handler stops),
//! another principal's `tasks/get` and `tasks/cancel` (refused as an unknown task), the same tool without a
//! task (answered at once, after the whole recount), a task asked of a tool that takes none (-32601), and
//! the conformance example's `confirm_delete`, which asks the client for input inside its task.
//!
//! `tests/interop/node/tasks.mjs` bounds every wait and prints what the client saw; the assertions are
//! here. Each scenario runs once per test process and is shared by the tests that read it. Like the other
//! interop tests these need the clients `cargo xtask test` installs, so plain `cargo test` lists them as
//! ignored.

use std::process::Command;
use std::sync::OnceLock;

use mcp_tests::{NetworkServer, OPS_KEY, VIEWER_KEY, conformance_bin, interop_dir, inventory_bin, node, run_json};
use serde_json::{Value, json};

/// How long the inventory's recount takes here (`INVENTORY_RECOUNT_MS`): 400 ms an aisle, long enough to
/// cancel after the first aisle and well before the last, short enough for a quick test.
const RECOUNT_MS: u64 = 2400;
/// The revision the TypeScript SDK v1 client negotiates, the one with its experimental tasks.
const HANDSHAKE: &str = "2025-11-25";
/// What the server logs when a recount is stopped before its last aisle (examples/inventory).
const STOPPED: &str = "recount stopped before the last aisle";

/// What one run of `tasks.mjs` printed, and the server's stderr lines.
struct Run {
    out: Value,
    log: Vec<String>,
}

/// Runs `tasks.mjs SCENARIO` with `env`, at `--http URL` or against `server` over stdio.
fn tasks_script(scenario: &str, http: Option<&str>, server: &[&str], env: &[(&str, &str)]) -> Value {
    let mut command = Command::new(node());
    command.arg(interop_dir().join("node/tasks.mjs")).arg(scenario).envs(env.iter().copied());
    match http {
        Some(url) => command.args(["--http", url]),
        None => command.arg("--").args(server),
    };
    run_json(&mut command)
}

/// The lines the script kept of its child server's stderr (stdio).
fn script_log(out: &Value) -> Vec<String> {
    let lines = out["serverLog"].as_array().unwrap_or_else(|| panic!("no serverLog in {out}"));
    lines.iter().map(|l| l["line"].as_str().unwrap_or_default().to_owned()).collect()
}

fn recount_ms() -> String {
    RECOUNT_MS.to_string()
}

/// The inventory scenario over stdio (the script starts the server with the owner's key).
fn inventory_stdio() -> &'static Run {
    static RUN: OnceLock<Run> = OnceLock::new();
    RUN.get_or_init(|| {
        let inventory = inventory_bin();
        let env = [("MCP_CLIENT_KEY", OPS_KEY), ("INVENTORY_RECOUNT_MS", &recount_ms())];
        let out = tasks_script("inventory", None, &[inventory.to_str().expect("a UTF-8 path")], &env);
        let log = script_log(&out);
        Run { out, log }
    })
}

/// The inventory scenario over Streamable HTTP, with the viewer as the other principal.
fn inventory_http() -> &'static Run {
    static RUN: OnceLock<Run> = OnceLock::new();
    RUN.get_or_init(|| {
        let server = NetworkServer::start_with(&inventory_bin(), "http", &[("INVENTORY_RECOUNT_MS", &recount_ms())]);
        let env = [("MCP_CLIENT_KEY", OPS_KEY), ("MCP_OTHER_KEY", VIEWER_KEY), ("INVENTORY_RECOUNT_MS", &recount_ms())];
        let out = tasks_script("inventory", Some(&format!("{}/mcp", server.base)), &[], &env);
        // The log line is written by another thread of the server; wait for it (bounded) before reading.
        server.logged(STOPPED);
        let log = server.logs().lines().map(str::to_owned).collect();
        Run { out, log }
    })
}

/// The aisle a status message reports counted ("aisle N of 6 counted").
fn aisle(task: &Value) -> Option<u32> {
    let message = task["statusMessage"].as_str()?;
    let rest = message.strip_prefix("aisle ")?;
    let (n, tail) = rest.split_once(' ')?;
    if tail == "of 6 counted" { n.parse().ok() } else { None }
}

/// The messages of one `callToolStream`.
fn messages<'a>(stream: &'a Value, what: &str) -> &'a Vec<Value> {
    stream.as_array().filter(|m| !m.is_empty()).unwrap_or_else(|| panic!("{what}: no stream messages: {stream}"))
}

/// The id of the task a stream created: its first message is `taskCreated`, working, with an id.
fn created(messages: &[Value]) -> String {
    let first = &messages[0];
    assert_eq!(first["type"], "taskCreated", "the first message is taskCreated: {messages:?}");
    assert_eq!(first["task"]["status"], "working", "a task starts working: {first}");
    let id = first["task"]["taskId"].as_str().unwrap_or_default();
    assert!(!id.is_empty(), "the created task has an id: {first}");
    id.to_owned()
}

/// The stream's taskStatus messages, each about task `id`.
fn statuses<'a>(messages: &'a [Value], id: &str) -> Vec<&'a Value> {
    let statuses: Vec<&Value> = messages.iter().filter(|m| m["type"] == "taskStatus").map(|m| &m["task"]).collect();
    assert!(!statuses.is_empty(), "at least one taskStatus: {messages:?}");
    assert!(statuses.iter().all(|t| t["taskId"] == id), "every status is of task {id}: {statuses:?}");
    statuses
}

/// Checks a streamed recount of WH-EAST from creation to its result; returns the task's id.
fn check_streamed_recount(stream: &Value, what: &str) -> String {
    let messages = messages(stream, what);
    let id = created(messages);
    let statuses = statuses(messages, &id);
    let progress: Vec<u32> = statuses.iter().filter_map(|t| aisle(t)).collect();
    assert!(
        statuses.iter().any(|t| t["status"] == "working" && aisle(t).is_some_and(|n| (1..6).contains(&n))),
        "{what}: a status shows the recount in progress (\"aisle N of 6 counted\", N < 6): {statuses:?}"
    );
    assert!(progress.windows(2).all(|w| w[0] <= w[1]), "{what}: the aisles counted never go back: {progress:?}");
    assert_eq!(statuses.last().unwrap()["status"], "completed", "{what}: the last status is completed: {statuses:?}");

    let last = messages.last().unwrap();
    assert_eq!(last["type"], "result", "{what}: the stream ends with the result: {messages:?}");
    let result = &last["result"];
    assert_eq!(result["structuredContent"]["aisles"], 6, "{what}: {result}");
    assert_eq!(result["structuredContent"]["warehouse_id"], "WH-EAST", "{what}: {result}");
    assert_ne!(result["isError"], true, "{what}: {result}");
    assert_eq!(result["_meta"]["io.modelcontextprotocol/related-task"]["taskId"], id.as_str(), "{what}: {result}");
    id
}

/// Everything the owner saw over either transport: the offer, a streamed task, a cancel, a call without a
/// task, a task asked of a tool that takes none.
fn check_inventory(run: &Run, transport: &str) {
    let out = &run.out;
    assert_eq!(out["transport"], transport, "{out}");
    assert_eq!(out["protocolVersion"], HANDSHAKE, "the version the client negotiated");

    // Tasks offered: the capability at initialize, and the tool's execution.taskSupport.
    assert_eq!(
        out["capabilities"]["tasks"],
        json!({"list": {}, "cancel": {}, "requests": {"tools": {"call": {}}}}),
        "initialize offers tasks: {}",
        out["capabilities"]
    );
    let tools = out["tools"].as_array().expect("tools");
    let tool = |name: &str| tools.iter().find(|t| t["name"] == name).unwrap_or_else(|| panic!("no {name}: {tools:?}"));
    assert_eq!(tool("recount_warehouse")["execution"]["taskSupport"], "optional", "{}", tool("recount_warehouse"));
    let lookup = &tool("lookup_stock")["execution"]["taskSupport"];
    assert!(lookup.is_null() || *lookup == "forbidden", "lookup_stock takes no task: {lookup}");

    // A streamed task, from taskCreated through statuses to the result.
    check_streamed_recount(&out["stream"], "the streamed recount");

    // Cancelled mid-way.
    let cancel = &out["cancel"];
    let id = cancel["taskId"].as_str().expect("the cancelled task's id");
    let before = &cancel["before"];
    assert_eq!(before["status"], "working", "cancelled while working: {cancel}");
    assert!(aisle(before).is_some_and(|n| (1..6).contains(&n)), "cancelled after an aisle, before the last: {before}");
    assert!(cancel["answerError"].is_null(), "tasks/cancel answered: {cancel}");
    assert_eq!(cancel["answer"]["taskId"], id, "tasks/cancel answers with the task: {cancel}");
    assert_eq!(cancel["answer"]["status"], "cancelled", "tasks/cancel answers with the task cancelled: {cancel}");
    assert_eq!(cancel["after"]["status"], "cancelled", "tasks/get reads cancelled: {cancel}");
    let later = &cancel["later"];
    assert_eq!(later["status"], "cancelled", "still cancelled after the recount's whole time: {later}");
    assert_eq!(later["lastUpdatedAt"], cancel["after"]["lastUpdatedAt"], "nothing changed the task since: {cancel}");
    assert!(aisle(later).is_some_and(|n| n < 6), "no aisle counted after the cancel: {later}");

    let stream = messages(&cancel["stream"], "the cancelled stream");
    assert_eq!(created(stream), id);
    assert_eq!(statuses(stream, id).last().unwrap()["status"], "cancelled", "{stream:?}");
    let end = stream.last().unwrap();
    assert_eq!(end["type"], "error", "the stream of a cancelled task ends in an error: {stream:?}");
    assert!(end["error"]["message"].as_str().unwrap_or_default().contains("was cancelled"), "{end}");

    // The handler stopped: the inventory logs it for that task, before the last aisle.
    let stopped: Vec<&String> = run.log.iter().filter(|l| l.contains(STOPPED)).collect();
    assert_eq!(stopped.len(), 1, "one recount was stopped ({STOPPED:?}), the cancelled one: {stopped:?}");
    assert!(stopped[0].contains(id), "the log line names the task {id}: {}", stopped[0]);
    assert!(!stopped[0].contains("aisle=6"), "stopped before the last aisle: {}", stopped[0]);
    // Status notifications (stdio; none on a Streamable HTTP POST stream) after the cancel say cancelled.
    let notified = out["notifications"].as_array().expect("notifications");
    let of_task: Vec<&Value> = notified.iter().filter(|n| n["params"]["taskId"] == id).collect();
    assert!(
        of_task.iter().all(|n| n["params"]["status"] == "cancelled" && aisle(&n["params"]).is_none_or(|n| n < 6)),
        "nothing but cancelled is announced of the cancelled task: {of_task:?}"
    );

    // Without a task: the plain result, once the whole recount is done.
    let sync = &out["sync"];
    assert!(sync["error"].is_null(), "{sync}");
    assert_eq!(sync["result"]["structuredContent"]["aisles"], 6, "{sync}");
    assert!(sync["result"].get("task").is_none(), "no task: {sync}");
    assert!(sync["result"]["_meta"]["io.modelcontextprotocol/related-task"].is_null(), "no related task: {sync}");
    let elapsed = sync["elapsedMs"].as_u64().expect("elapsedMs");
    assert!(elapsed >= RECOUNT_MS, "answered after the recount ({elapsed} ms of {RECOUNT_MS}): {sync}");

    // A task asked of a tool that takes none: -32601, through the SDK's stream and raw.
    let refused = messages(&out["forbidden"]["stream"], "the refused stream");
    assert_eq!(refused.len(), 1, "no task is created: {refused:?}");
    assert_eq!(refused[0]["type"], "error", "{refused:?}");
    assert_eq!(refused[0]["error"]["code"], -32601, "{refused:?}");
    assert_eq!(out["forbidden"]["raw"]["error"]["code"], -32601, "{}", out["forbidden"]);
}

#[test]
#[ignore = "needs the Node clients: run `cargo xtask test`"]
fn typescript_sdk_streams_and_cancels_a_task_over_stdio() {
    check_inventory(inventory_stdio(), "stdio");
}

#[test]
#[ignore = "needs the Node clients: run `cargo xtask test`"]
fn typescript_sdk_streams_and_cancels_a_task_over_streamable_http() {
    check_inventory(inventory_http(), "streamable-http");
}

/// Another principal (the viewer) neither reads nor cancels the owner's (ops) tasks, running or
/// cancelled: -32602, as for an unknown task. The owner's running task completes; the cancelled one stays so.
#[test]
#[ignore = "needs the Node clients: run `cargo xtask test`"]
fn another_principal_cannot_read_or_cancel_a_task_over_streamable_http() {
    let out = &inventory_http().out;
    let other = &out["other"];
    let running = other["taskId"].as_str().unwrap_or_else(|| panic!("no other-principal step: {other}"));
    let cancelled = other["cancelledId"].as_str().expect("the cancelled task's id");
    for step in ["get", "cancel", "getCancelled", "cancelCancelled"] {
        assert!(other[step]["ok"].is_null(), "{step}: the viewer got an answer: {other}");
        assert_eq!(other[step]["error"]["code"], -32602, "{step}: {other}");
    }
    assert_eq!(other["list"]["ok"], json!([]), "the viewer lists none of the owner's tasks: {other}");

    let owner_stream = &other["ownerStream"];
    assert_eq!(check_streamed_recount(owner_stream, "the owner's task"), running);
    assert_eq!(other["ownerCancelled"]["status"], "cancelled", "{other}");
    let listed: Vec<&Value> = other["ownerList"].as_array().expect("ownerList").iter().map(|t| &t["taskId"]).collect();
    assert!(listed.contains(&&json!(running)) && listed.contains(&&json!(cancelled)), "the owner lists both: {other}");
}

/// A task already terminal (completed, or cancelled) cannot be cancelled: -32602 (2025-11-25, "Task
/// Cancellation"), and it keeps its status.
#[test]
#[ignore = "needs the Node clients: run `cargo xtask test`"]
fn cancelling_a_finished_task_is_refused() {
    for (transport, run) in [("stdio", inventory_stdio()), ("streamable-http", inventory_http())] {
        let out = &run.out;
        assert_eq!(out["completedAfter"]["status"], "completed", "{transport}: {}", out["completedAfter"]);
        assert_eq!(out["cancelCompleted"]["error"]["code"], -32602, "{transport}: {}", out["cancelCompleted"]);
        let again = &out["cancel"]["cancelAgain"];
        assert_eq!(again["error"]["code"], -32602, "{transport}: a cancelled task cancelled again: {again}");
    }
}

/// A task that needs input: `confirm_delete` asks (the task reads input_required), the client's
/// elicitation handler accepts through `tasks/result`, and the stream ends with the result.
fn check_confirm(out: &Value) {
    assert_eq!(out["protocolVersion"], HANDSHAKE, "{out}");
    let tools = out["tools"].as_array().expect("tools");
    let confirm = tools.iter().find(|t| t["name"] == "confirm_delete").expect("confirm_delete is listed");
    assert_eq!(confirm["execution"]["taskSupport"], "optional", "{confirm}");

    let messages = messages(&out["stream"], "confirm_delete");
    let id = created(messages);
    assert!(
        statuses(messages, &id).iter().any(|t| t["status"] == "input_required"),
        "the task waited for input: {messages:?}"
    );
    let last = messages.last().unwrap();
    assert_eq!(last["type"], "result", "{messages:?}");
    assert_eq!(last["result"]["content"][0]["text"], "deleted report.txt", "the answer was accept: {last}");
    assert_eq!(last["result"]["_meta"]["io.modelcontextprotocol/related-task"]["taskId"], id.as_str(), "{last}");

    let asked = out["elicitations"].as_array().expect("elicitations");
    assert_eq!(asked.len(), 1, "asked once: {asked:?}");
    assert_eq!(asked[0]["params"]["message"], "Delete report.txt?", "{asked:?}");
    assert_eq!(asked[0]["params"]["_meta"]["io.modelcontextprotocol/related-task"]["taskId"], id.as_str(), "{asked:?}");
}

#[test]
#[ignore = "needs the Node clients: run `cargo xtask test`"]
fn typescript_sdk_answers_a_tasks_elicitation_over_stdio() {
    let conformance = conformance_bin();
    let server = [conformance.to_str().expect("a UTF-8 path"), "--transport", "stdio"];
    check_confirm(&tasks_script("confirm", None, &server, &[]));
}

#[test]
#[ignore = "needs the Node clients: run `cargo xtask test`"]
fn typescript_sdk_answers_a_tasks_elicitation_over_streamable_http() {
    let server = NetworkServer::start(&conformance_bin(), "http");
    check_confirm(&tasks_script("confirm", Some(&format!("{}/mcp", server.base)), &[], &[]));
}
