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

mod built {
    //! Tools made at run time with `Tool::builder`, served beside macro tools through the same corridor.

    use std::sync::Arc;
    use std::sync::atomic::Ordering;
    use std::time::Duration;

    use mcp_runtime::Pipeline;
    use mcp_runtime::config::{ApiKeyEntry, ApiKeys, AuthStrategy, Config};
    use mcp_runtime::prelude::*;
    use mcp_runtime::server::Tool;
    use mcp_runtime::transport::http::{Flavor, serve_on};
    use mcp_tests::Harness;
    use serde_json::{Map, Value, json};
    use tokio::net::TcpListener;

    use super::{Calls, count};

    // What `tally` takes: `count`'s parameters. (Not a doc comment: it would describe the schema.)
    #[derive(serde::Deserialize, schemars::JsonSchema)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)] // described, not read: the handler takes the arguments as JSON
    struct TallyArgs {
        #[schemars(range(min = 1))]
        n: u32,
    }

    /// `count`'s twin, built: counts its calls and says which tool it is.
    fn tally(calls: Arc<Calls>) -> Tool {
        Tool::builder("tally")
            .description("Counts its calls; `n` must be at least 1.")
            .input_schema::<TallyArgs>()
            .handler(move |arguments: Map<String, Value>, ctx: Context| {
                let calls = Arc::clone(&calls);
                async move {
                    calls.0.fetch_add(1, Ordering::SeqCst);
                    format!("{} counted {}", ctx.tool_name(), arguments["n"])
                }
            })
            .build()
            .unwrap()
    }

    /// When the built tools join the server: with the builder, or through its handle once it runs.
    #[derive(Debug, Clone, Copy)]
    enum Joined {
        AtStart,
        WhileRunning,
    }

    fn built_tools(calls: &Arc<Calls>) -> Vec<Tool> {
        let sleepy = Tool::builder("sleepy_built")
            .timeout(Duration::from_millis(100))
            .handler(|_, _| async {
                tokio::time::sleep(Duration::from_secs(30)).await;
                "woke"
            })
            .build()
            .unwrap();
        let boom = Tool::builder("boom_built")
            .handler(|_, _| async {
                panic!("the built tool exploded");
                #[allow(unreachable_code)]
                ""
            })
            .build()
            .unwrap();
        let scarce = Tool::builder("scarce_built").rate("2/min").handler(|_, _| async { "ok" }).build().unwrap();
        vec![tally(Arc::clone(calls)), sleepy, boom, scarce]
    }

    /// A server with the macro tool `count` and the built tools, joined `when`; over a pipe, like stdio.
    async fn serve(calls: &Arc<Calls>, when: Joined) -> Harness {
        let mut server = Server::new("built", "0.0.0").tool(count::SPEC).with_state(Arc::clone(calls));
        let handle = server.handle();
        let tools = built_tools(calls);
        if let Joined::AtStart = when {
            for tool in tools {
                server = server.tool(tool);
            }
            return Harness::start(server).await;
        }
        let mut h = Harness::start(server).await;
        for tool in tools {
            handle.add_tool(tool).unwrap();
        }
        // Four additions in a row reach the session as one level-triggered notification.
        let note = h.recv().await;
        assert_eq!(note["method"], "notifications/tools/list_changed", "{note}");
        h
    }

    #[tokio::test]
    async fn a_built_tool_is_listed_like_its_macro_twin_and_validated_before_its_handler() {
        for when in [Joined::AtStart, Joined::WhileRunning] {
            listed_and_validated(when).await;
        }
    }

    async fn listed_and_validated(when: Joined) {
        let calls = Arc::new(Calls::default());
        let mut h = serve(&calls, when).await;
        let listed = h.request(1, "tools/list", json!({})).await;
        let mut twins = listed["result"]["tools"].as_array().unwrap().iter().filter_map(|t| {
            let name = t["name"].as_str()?;
            let mut t = t.as_object()?.clone();
            t.remove("name");
            ["count", "tally"].contains(&name).then_some(t)
        });
        let (made, built) = (twins.next().unwrap(), twins.next().expect("tally is listed"));
        assert_eq!(made, built, "{when:?}: the same JSON shape, names apart");

        for (id, args) in [(2, json!({"n": 0})), (3, json!({"n": "7"})), (4, json!({"n": 1, "extra": true}))] {
            h.call(id, "tally", args).await;
            let answer = h.recv().await;
            assert_eq!(answer["result"]["isError"], true, "{when:?}: {answer}");
        }
        h.call(5, "tally", json!({"n": 0})).await;
        let text = h.recv().await["result"]["content"][0]["text"].as_str().unwrap().to_owned();
        assert!(text.contains("minimum of 1"), "{when:?}: the violation is named: {text}");
        assert_eq!(calls.0.load(Ordering::SeqCst), 0, "{when:?}: no invalid call reached the handler");
        h.call(6, "tally", json!({"n": 2})).await;
        assert_eq!(h.recv().await["result"]["content"][0]["text"], "tally counted 2");
        assert_eq!(calls.0.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn a_built_tool_times_out_panics_in_isolation_and_is_rate_limited() {
        for when in [Joined::AtStart, Joined::WhileRunning] {
            isolated_and_limited(when).await;
        }
    }

    async fn isolated_and_limited(when: Joined) {
        let mut h = serve(&Arc::default(), when).await;
        h.call(1, "sleepy_built", json!({})).await;
        let answer = h.recv().await;
        assert_eq!(answer["result"]["isError"], true, "{when:?}");
        assert!(answer["result"]["content"][0]["text"].as_str().unwrap().contains("timed out after 100ms"), "{answer}");

        h.call(2, "boom_built", json!({})).await;
        let answer = h.recv().await;
        assert_eq!(answer["error"]["code"], -32603, "{when:?}");
        assert!(!answer["error"]["message"].as_str().unwrap().contains("exploded"), "{answer}");

        for id in 3..=4 {
            h.call(id, "scarce_built", json!({})).await;
            assert_eq!(h.recv().await["result"]["content"][0]["text"], "ok", "{when:?}: within its rate");
        }
        h.call(5, "scarce_built", json!({})).await;
        assert_eq!(h.recv().await["error"]["code"], -32012, "{when:?}: the third call in a minute is refused");
        h.call(6, "count", json!({"n": 1})).await;
        assert_eq!(h.recv().await["result"]["content"][0]["text"], "counted 1", "the server keeps serving");
    }

    #[tokio::test]
    async fn a_built_tool_with_scopes_is_hidden_from_and_refused_to_a_caller_without_them() {
        const OPS: &str = "built-ops-key-5f1a";
        const PLAIN: &str = "built-plain-key-88c3";
        let mut config = Config::default();
        config.security.strategy = AuthStrategy::ApiKey;
        let key = |id: &str, key: &str, scopes: &[&str]| ApiKeyEntry {
            id: id.into(),
            hash: mcp_runtime::auth::key_digest(key),
            scopes: scopes.iter().map(|s| (*s).to_owned()).collect(),
        };
        config.security.keys = ApiKeys::Inline(vec![key("ops", OPS, &["vault:write"]), key("plain", PLAIN, &[])]);
        let guarded =
            Tool::builder("guarded").scopes(["vault:write"]).handler(|_, _| async { "opened" }).build().unwrap();
        let open = Tool::builder("open").handler(|_, _| async { "open" }).build().unwrap();
        let server = Server::new("scoped-built", "0.0.0").config(config).tool(guarded).tool(open);
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/mcp", listener.local_addr().unwrap());
        tokio::spawn(serve_on(listener, Pipeline::build(server).unwrap(), Flavor::Streamable, std::future::pending()));

        let http = reqwest::Client::new();
        let post = |key: &'static str, method: &'static str, params: Value| {
            let mut params = params;
            params["_meta"] = mcp_tests::modern_meta();
            let mut request = http
                .post(&url)
                .bearer_auth(key)
                .header("accept", "application/json, text/event-stream")
                .header("mcp-protocol-version", "2026-07-28")
                .header("mcp-method", method);
            if let Some(name) = params["name"].as_str() {
                request = request.header("mcp-name", name);
            }
            let body = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params});
            async move { request.json(&body).send().await.unwrap().json::<Value>().await.unwrap() }
        };
        let names = |listed: &Value| -> Vec<String> {
            listed["result"]["tools"]
                .as_array()
                .unwrap()
                .iter()
                .map(|t| t["name"].as_str().unwrap().to_owned())
                .collect()
        };
        assert_eq!(names(&post(OPS, "tools/list", json!({})).await), ["guarded", "open"]);
        assert_eq!(names(&post(PLAIN, "tools/list", json!({})).await), ["open"]);
        let refused = post(PLAIN, "tools/call", json!({"name": "guarded", "arguments": {}})).await;
        assert_eq!(refused["error"]["code"], -32011, "{refused}");
        assert_eq!(refused["error"]["data"]["missingScopes"], json!(["vault:write"]));
        let allowed = post(OPS, "tools/call", json!({"name": "guarded", "arguments": {}})).await;
        assert_eq!(allowed["result"]["content"][0]["text"], "opened", "{allowed}");
    }

    #[test]
    fn build_names_every_problem_at_once() {
        let error = Tool::builder("has space")
            .input_schema_json(json!({"type": "array"}))
            .rate("often")
            .scopes(["a b"])
            .build()
            .unwrap_err()
            .to_string();
        for part in [
            "tool `has space`",
            "corridor.rs:",
            "1-128 characters",
            "\"type\": \"object\"",
            "`often` is not a rate",
            "scope `a b`",
            "no handler",
        ] {
            assert!(error.contains(part), "{part}: {error}");
        }
    }

    #[test]
    fn a_built_tool_named_like_a_macro_tool_is_refused_naming_both_places() {
        let twin = Tool::builder("count").handler(|_, _| async { "" }).build().unwrap();
        let server = Server::new("s", "0").tool(count::SPEC).tool(twin).with_state(Arc::new(Calls::default()));
        let error = Pipeline::build(server).unwrap_err().to_string();
        assert!(error.contains("two tools are named `count`") && error.matches("corridor.rs:").count() == 2, "{error}");
    }
}
