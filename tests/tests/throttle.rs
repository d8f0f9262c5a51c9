//! Rate limits: the in-memory limiter against a reference GCRA on a fake clock, then the inventory binary
//! over real HTTP and stdio, and in-process servers for concurrency caps, quota left untouched by refused
//! calls, and per-address budgets behind trusted proxies.

#![allow(clippy::needless_pass_by_value)] // `json!` arguments read best passed by value in tests

use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use governor::clock::FakeRelativeClock;
use mcp_runtime::Pipeline;
use mcp_runtime::config::{Config, ThrottlingConfig, ToolThrottle};
use mcp_runtime::prelude::*;
use mcp_runtime::throttle::{Decision, MemoryLimiter, Plan};
use mcp_runtime::transport::http::{Flavor, serve_on};
use mcp_tests::gcra::{Model, model_config, model_limits};
use mcp_tests::{NetworkServer, OPS_KEY, VIEWER_KEY, inventory_bin};
use proptest::prelude::*;
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::{oneshot, watch};

/// Three calls a second.
#[mcp_tool(rate = "3/s")]
async fn quick() -> &'static str {
    "quick"
}

/// Two a second, two more in a burst.
#[mcp_tool(rate = "2/s", burst = 2)]
async fn bursty() -> &'static str {
    "bursty"
}

/// Has no rate of its own.
#[mcp_tool]
async fn crunch() -> &'static str {
    "crunched"
}

/// What [`occupy`] shares with the test: how many calls entered it, and the gate that lets them finish.
#[derive(Default)]
struct Gate {
    entered: watch::Sender<usize>,
    open: watch::Sender<bool>,
}

impl Gate {
    /// Waits until `n` calls entered the tool.
    async fn until_entered(&self, n: usize) {
        let mut entered = self.entered.subscribe();
        tokio::time::timeout(mcp_tests::TIMEOUT, entered.wait_for(|e| *e >= n))
            .await
            .unwrap_or_else(|_| panic!("{n} call(s) never reached the tool"))
            .unwrap();
    }
}

/// Says it started, then holds its place until the test opens the gate.
#[mcp_tool]
async fn occupy(gate: State<Arc<Gate>>) -> &'static str {
    gate.entered.send_modify(|n| *n += 1);
    let _ = gate.open.subscribe().wait_for(|open| *open).await;
    "done"
}

/// Two a minute; `n` must be a number.
#[mcp_tool(rate = "2/min")]
async fn scarce(n: u32) -> String {
    n.to_string()
}

fn model_plan() -> Plan {
    Plan::new(&model_config(), [quick::SPEC, bursty::SPEC]).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// Every decision and every wait of the governor-backed limiter equals the reference model's, over
    /// random sequences of calls by three callers to two tools under per-tool, per-caller and global limits.
    #[test]
    fn the_memory_limiter_matches_the_reference_gcra(
        // Bursts (no time passing), dense calls and pauses long enough to refill every budget.
        steps in proptest::collection::vec((prop_oneof![Just(0u64), 0u64..150, 0u64..1500], 0usize..3, any::<bool>()), 1..120)
    ) {
        let plan = model_plan();
        let clock = FakeRelativeClock::default();
        let limiter = MemoryLimiter::with_clock(plan.quotas(), clock.clone());
        let mut model = Model::default();
        let mut now = Duration::ZERO;
        for (advance_ms, caller, first_tool) in steps {
            clock.advance(Duration::from_millis(advance_ms));
            now += Duration::from_millis(advance_ms);
            let tool = if first_tool { "quick" } else { "bursty" };
            let limits = plan.limits(&format!("caller-{caller}"), Some(tool));
            let got = limiter.decide(&limits);
            let want = model.decide(&model_limits(&limits, Duration::as_nanos), now.as_nanos());
            match (got, want) {
                (Decision::Allow, None) => {}
                (Decision::Deny { scope, retry_after }, Some((i, wait))) => {
                    prop_assert_eq!(scope, limits[i].scope);
                    prop_assert_eq!(retry_after.as_nanos(), wait);
                }
                (got, want) => prop_assert!(false, "limiter {:?}, model {:?} at {:?}", got, want, now),
            }
        }
    }
}

#[test]
fn a_burst_is_refused_by_both_the_limiter_and_the_model() {
    // The property above compares refusals too: make sure a plain burst produces some.
    let plan = model_plan();
    let limiter = MemoryLimiter::with_clock(plan.quotas(), FakeRelativeClock::default());
    let mut model = Model::default();
    let mut refused = 0;
    for _ in 0..10 {
        let limits = plan.limits("caller-0", Some("quick"));
        let got = limiter.decide(&limits);
        let want = model.decide(&model_limits(&limits, Duration::as_nanos), 0);
        assert_eq!(matches!(got, Decision::Allow), want.is_none());
        refused += usize::from(want.is_some());
    }
    assert_eq!(refused, 7, "3/s admits a burst of 3");
}

#[test]
fn the_plan_resolves_overrides_even_for_tools_added_later() {
    let mut config = ThrottlingConfig { default_tool: Some("60/min".to_owned()), ..ThrottlingConfig::default() };
    config.tools.insert("quick".to_owned(), ToolThrottle::Rate("10/min".to_owned()));
    config
        .tools
        .insert("bursty".to_owned(), ToolThrottle::Detailed { rate: None, burst: Some(5), max_concurrent: Some(2) });
    let plan = Plan::new(&config, [quick::SPEC, bursty::SPEC, crunch::SPEC]).unwrap();
    let quota = |t: &str| plan.tool(t).unwrap().quota.unwrap();
    assert_eq!((quota("quick").interval, quota("quick").burst), (Duration::from_secs(6), 10), "config over attribute");
    assert_eq!(
        (quota("bursty").interval, quota("bursty").burst),
        (Duration::from_millis(500), 7),
        "attribute rate, config burst"
    );
    assert_eq!(plan.tool("bursty").unwrap().max_concurrent, Some(2));
    assert_eq!(quota("crunch").interval, Duration::from_secs(1), "default_tool for tools without a rate");
    // An override may name a tool the server does not have (yet): it applies to one added later.
    let mut later = ThrottlingConfig::default();
    later.tools.insert("later".to_owned(), ToolThrottle::Rate("1/s".to_owned()));
    let plan = Plan::new(&later, [quick::SPEC]).unwrap();
    assert_eq!(plan.resolve("later", None, None).quota.unwrap().interval, Duration::from_secs(1));
}

const ACCEPT: &str = "application/json, text/event-stream";

fn client() -> reqwest::Client {
    reqwest::Client::builder().timeout(Duration::from_secs(30)).build().unwrap()
}

fn call(id: i64, tool: &str, arguments: Value) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "method": "tools/call", "params": {"name": tool, "arguments": arguments}})
}

async fn open_session(c: &reqwest::Client, url: &str, key: &str) -> String {
    let init = json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
        "protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "throttle-test", "version": "0"}}});
    let r = c.post(url).bearer_auth(key).header("accept", ACCEPT).json(&init).send().await.unwrap();
    assert_eq!(r.status(), 200);
    r.headers()["mcp-session-id"].to_str().unwrap().to_owned()
}

async fn post(c: &reqwest::Client, url: &str, key: &str, session: &str, body: &Value) -> reqwest::Response {
    c.post(url)
        .bearer_auth(key)
        .header("accept", ACCEPT)
        .header("mcp-session-id", session)
        .json(body)
        .send()
        .await
        .unwrap()
}

/// `lookup_stock` at 30 an hour instead of the example's 30/min: one call's share comes back only after
/// 2 minutes, so how long the calls take cannot change how many are admitted.
const SLOW_REFILL: (&str, &str) = ("MCP_THROTTLING__TOOLS__LOOKUP_STOCK", "30/h");

#[tokio::test]
async fn forty_lookups_at_once_admit_thirty_per_key() {
    let server = NetworkServer::start_with(&inventory_bin(), "http", &[SLOW_REFILL]);
    let url = format!("{}/mcp", server.base);
    let c = client();
    let session = open_session(&c, &url, OPS_KEY).await;
    let lookup = call(1, "lookup_stock", json!({"sku": "ABC123"}));
    let calls: Vec<Value> = (100..140).map(|id| call(id, "lookup_stock", json!({"sku": "ABC123"}))).collect();
    let answers =
        futures_util::future::join_all(calls.iter().map(|body| post(&c, &url, OPS_KEY, &session, body))).await;
    let mut admitted = 0;
    let mut refusals = Vec::new();
    for r in answers {
        match r.status().as_u16() {
            200 => admitted += 1,
            429 => {
                let retry_after: u64 = r.headers()["retry-after"].to_str().unwrap().parse().unwrap();
                let body: Value = r.json().await.unwrap();
                assert_eq!(body["error"]["code"], -32012, "{body}");
                assert_eq!(body["error"]["data"]["limit"], "tool");
                refusals.push((retry_after, body["error"]["data"]["retryAfterMs"].as_u64().unwrap()));
            }
            other => panic!("unexpected {other}"),
        }
    }
    assert_eq!((admitted, refusals.len()), (30, 10), "30/h with a full budget admits exactly 30");
    for (retry_after, ms) in &refusals {
        // 30/h: one call's share comes back every 2 minutes after the first call.
        assert!(*ms > 0 && *ms <= 120_000, "{ms}");
        assert!(retry_after * 1000 >= *ms, "Retry-After {retry_after}s is never shorter than {ms} ms");
    }

    let list = call(2, "list_warehouses", json!({}));
    assert_eq!(post(&c, &url, OPS_KEY, &session, &list).await.status(), 200, "other tools are unaffected");
    let viewer = open_session(&c, &url, VIEWER_KEY).await;
    assert_eq!(post(&c, &url, VIEWER_KEY, &viewer, &lookup).await.status(), 200, "another key has its own budget");
}

#[test]
fn over_stdio_a_refusal_is_a_json_rpc_error_with_the_wait() {
    let mut input = json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
        "protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "0"}}})
    .to_string();
    for id in 1..=32 {
        input += "\n";
        input += &call(id, "lookup_stock", json!({"sku": "ABC123"})).to_string();
    }
    input += "\n";
    let mut child = Command::new(inventory_bin())
        .env("MCP_CLIENT_KEY", OPS_KEY)
        .env(SLOW_REFILL.0, SLOW_REFILL.1)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(child.stdin.as_mut().unwrap(), input.as_bytes()).unwrap();
    drop(child.stdin.take());
    let out = child.wait_with_output().unwrap();
    let answers: Vec<Value> =
        String::from_utf8(out.stdout).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let refused: Vec<&Value> = answers.iter().filter(|a| a["error"]["code"] == -32012).collect();
    let admitted = answers.iter().filter(|a| a["result"]["structuredContent"]["sku"] == "ABC123").count();
    assert_eq!((admitted, refused.len()), (30, 2), "{answers:?}");
    assert!(refused[0]["error"]["data"]["retryAfterMs"].as_u64().unwrap() > 0);
}

struct Running {
    url: String,
    _stop: oneshot::Sender<()>,
}

async fn serve(server: Server) -> Running {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let pipeline = Pipeline::build(server).expect("the server starts");
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(serve_on(listener, pipeline, Flavor::Streamable, async move {
        let _ = stopped.await;
    }));
    Running { url: format!("http://{addr}/mcp"), _stop: stop }
}

/// A stateless (2026-07-28) call, optionally from a forwarded address.
async fn stateless(
    c: &reqwest::Client,
    url: &str,
    method: &str,
    params: Value,
    forwarded: Option<&str>,
) -> reqwest::Response {
    let mut params = params;
    params["_meta"] = mcp_tests::modern_meta();
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params});
    let mut r = c
        .post(url)
        .header("accept", ACCEPT)
        .header("mcp-protocol-version", "2026-07-28")
        .header("mcp-method", method)
        .json(&body);
    if let Some(name) = body["params"]["name"].as_str() {
        r = r.header("mcp-name", name);
    }
    if let Some(ip) = forwarded {
        r = r.header("x-forwarded-for", ip);
    }
    r.send().await.unwrap()
}

#[tokio::test]
async fn a_concurrency_cap_refuses_at_once() {
    let mut config = Config::default();
    config
        .throttling
        .tools
        .insert("occupy".to_owned(), ToolThrottle::Detailed { rate: None, burst: None, max_concurrent: Some(1) });
    let gate = Arc::new(Gate::default());
    let server = Server::new("cap", "0").tool(occupy::SPEC).with_state(Arc::clone(&gate)).config(config);
    let s = serve(server).await;
    let c = client();
    let occupy_call = || stateless(&c, &s.url, "tools/call", json!({"name": "occupy", "arguments": {}}), None);
    let first = tokio::spawn({
        let (c, url) = (c.clone(), s.url.clone());
        async move { stateless(&c, &url, "tools/call", json!({"name": "occupy", "arguments": {}}), None).await.status() }
    });
    gate.until_entered(1).await;
    // The first call holds its slot until the gate opens, and the gate opens only after the second call is
    // answered: an answer at all means the refusal did not wait for the running call.
    let second = tokio::time::timeout(mcp_tests::TIMEOUT, occupy_call())
        .await
        .expect("the call over the cap is refused while the running call still holds its slot");
    assert_eq!(second.status(), 429);
    let body: Value = second.json().await.unwrap();
    assert_eq!(body["error"]["data"]["limit"], "concurrency");
    assert_eq!(*gate.entered.borrow(), 1, "the refused call never reached the tool");
    gate.open.send_replace(true);
    assert_eq!(first.await.unwrap(), 200);
    assert_eq!(occupy_call().await.status(), 200, "the slot came back");
}

#[tokio::test]
async fn the_wait_a_refusal_names_is_enough() {
    let s = serve(Server::new("quick", "0").tool(quick::SPEC)).await;
    let c = client();
    let quick_call = || stateless(&c, &s.url, "tools/call", json!({"name": "quick", "arguments": {}}), None);
    // Calls until the 3/s budget refuses one, however long each call takes.
    let mut refusal = None;
    for _ in 0..1000 {
        let r = quick_call().await;
        if r.status() == 429 {
            refusal = Some(r.json::<Value>().await.unwrap());
            break;
        }
        assert_eq!(r.status(), 200);
    }
    let refusal = refusal.expect("a 3/s budget refuses one of 1000 calls in a row");
    let wait = refusal["error"]["data"]["retryAfterMs"].as_u64().unwrap();
    assert!(wait > 0 && wait <= 334, "3/s: a share comes back within a third of a second, not {wait} ms");
    // Waiting is the subject here: after the wait the server named, the call is admitted.
    tokio::time::sleep(Duration::from_millis(wait)).await;
    assert_eq!(quick_call().await.status(), 200, "admitted after the {wait} ms the refusal named");
}

#[tokio::test]
async fn refused_calls_spend_no_quota_and_lists_are_exempt() {
    let s = serve(Server::new("scarce", "0").tool(scarce::SPEC)).await;
    let c = client();
    for _ in 0..5 {
        let r = stateless(&c, &s.url, "tools/call", json!({"name": "scarce", "arguments": {"n": "x"}}), None).await;
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["result"]["isError"], true, "invalid arguments: {body}");
    }
    for _ in 0..2 {
        let r = stateless(&c, &s.url, "tools/call", json!({"name": "scarce", "arguments": {"n": 1}}), None).await;
        assert_eq!(r.status(), 200, "the invalid calls spent nothing");
    }
    let r = stateless(&c, &s.url, "tools/call", json!({"name": "scarce", "arguments": {"n": 1}}), None).await;
    assert_eq!(r.status(), 429);
    for _ in 0..10 {
        assert_eq!(stateless(&c, &s.url, "tools/list", json!({}), None).await.status(), 200);
    }
}

#[tokio::test]
async fn unauthenticated_callers_are_counted_by_address_behind_trusted_proxies() {
    let mut config = Config::default();
    config.throttling.per_principal = Some("2/min".to_owned());
    config.http.trusted_proxies = vec!["127.0.0.1".to_owned()];
    let s = serve(Server::new("proxied", "0").tool(quick::SPEC).config(config)).await;
    let c = client();
    let quick_call = json!({"name": "quick", "arguments": {}});
    for _ in 0..2 {
        assert_eq!(stateless(&c, &s.url, "tools/call", quick_call.clone(), Some("198.51.100.1")).await.status(), 200);
    }
    let r = stateless(&c, &s.url, "tools/call", quick_call.clone(), Some("198.51.100.1")).await;
    assert_eq!(r.status(), 429);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["data"]["limit"], "principal");
    assert_eq!(
        stateless(&c, &s.url, "tools/call", quick_call.clone(), Some("203.0.113.7, 198.51.100.2")).await.status(),
        200,
        "another client behind the same proxy has its own budget"
    );

    let mut config = Config::default();
    config.throttling.per_principal = Some("2/min".to_owned());
    let s = serve(Server::new("direct", "0").tool(quick::SPEC).config(config)).await;
    for ip in ["198.51.100.1", "198.51.100.2"] {
        assert_eq!(stateless(&c, &s.url, "tools/call", quick_call.clone(), Some(ip)).await.status(), 200);
    }
    let r = stateless(&c, &s.url, "tools/call", quick_call.clone(), Some("198.51.100.3")).await;
    assert_eq!(r.status(), 429, "without trusted proxies, X-Forwarded-For is not believed");
}
