//! The Redis limiter against a real `redis-server`: its script against the reference GCRA, three inventory
//! replicas sharing one budget, and each `on_error` policy when Redis freezes or dies.
//!
//! These need the redis-server `cargo xtask test` provides, so plain `cargo test` lists them as ignored.

#![allow(clippy::needless_pass_by_value)] // `json!` arguments read best passed by value in tests

use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use mcp_runtime::config::OnRedisError;
use mcp_runtime::prelude::*;
use mcp_runtime::throttle::{Decision, Plan, RedisLimiter};
use mcp_tests::gcra::{Model, model_config, model_limits};
use mcp_tests::{NetworkServer, OPS_KEY, RedisServer, inventory_bin};
use proptest::prelude::*;
use serde_json::{Value, json};

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

fn plan() -> Plan {
    Plan::new(&model_config(), [quick::SPEC, bursty::SPEC]).unwrap()
}

#[test]
#[ignore = "needs redis-server: run `cargo xtask test`"]
fn the_redis_script_matches_the_reference_gcra() {
    let redis = RedisServer::start();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let plan = plan();
    let case = AtomicU32::new(0);
    let refusals = AtomicUsize::new(0);
    proptest!(ProptestConfig::with_cases(64), |(steps in proptest::collection::vec((prop_oneof![Just(0u64), 0u64..150, 0u64..1500], 0usize..3, any::<bool>()), 1..80))| {
        let case = case.fetch_add(1, Ordering::Relaxed);
        // Each case gets its own keys; times are explicit (the script reads Redis TIME only when given 0).
        let limiter = RedisLimiter::new(&redis.url(), format!("case{case}:"), Duration::from_secs(5), OnRedisError::Closed, plan.quotas()).unwrap();
        let mut model = Model::default();
        let mut now_us = 1_000_000_000_000u64;
        for (advance_ms, caller, first_tool) in steps {
            now_us += advance_ms * 1000;
            let tool = if first_tool { "quick" } else { "bursty" };
            let limits = plan.limits(&format!("caller-{caller}"), Some(tool));
            let got = runtime.block_on(limiter.decide_at(&limits, now_us)).unwrap();
            let want = model.decide(&model_limits(&limits, Duration::as_micros), u128::from(now_us));
            match (got, want) {
                (Decision::Allow, None) => {}
                (Decision::Deny { scope, retry_after }, Some((i, wait))) => {
                    refusals.fetch_add(1, Ordering::Relaxed);
                    prop_assert_eq!(scope, limits[i].scope);
                    prop_assert_eq!(retry_after.as_micros(), wait);
                }
                (got, want) => prop_assert!(false, "script {:?}, model {:?} at {}", got, want, now_us),
            }
        }
    });
    let refusals = refusals.load(Ordering::Relaxed);
    eprintln!("{} cases, {refusals} refusals", case.load(Ordering::Relaxed));
    assert!(refusals > 0, "the sequences exercised refusals");
}

const ACCEPT: &str = "application/json, text/event-stream";

/// One stateless lookup (2026-07-28: no session to carry between replicas).
async fn lookup(c: &reqwest::Client, base: &str) -> (u16, Duration) {
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {
        "name": "lookup_stock", "arguments": {"sku": "ABC123"}, "_meta": mcp_tests::modern_meta()}});
    let started = Instant::now();
    let r = c
        .post(format!("{base}/mcp"))
        .bearer_auth(OPS_KEY)
        .header("accept", ACCEPT)
        .header("mcp-protocol-version", "2026-07-28")
        .header("mcp-method", "tools/call")
        .header("mcp-name", "lookup_stock")
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let _: Value = r.json().await.unwrap();
    (status, started.elapsed())
}

/// An inventory replica on `redis`. `lookup_stock` runs at 30 an hour instead of the example's 30/min:
/// one call's share comes back only after 2 minutes, so how long the calls take (a frozen Redis costs
/// each its timeout) cannot change how many are admitted.
fn replica(redis: &RedisServer, on_error: &str, timeout: &str) -> NetworkServer {
    let url = redis.url();
    NetworkServer::start_with(
        &inventory_bin(),
        "http",
        &[
            ("MCP_THROTTLING__TOOLS__LOOKUP_STOCK", "30/h"),
            ("MCP_THROTTLING__STORE__KIND", "redis"),
            ("MCP_THROTTLING__STORE__URL", url.as_str()),
            ("MCP_THROTTLING__STORE__ON_ERROR", on_error),
            ("MCP_THROTTLING__STORE__TIMEOUT", timeout),
        ],
    )
}

#[tokio::test]
#[ignore = "needs redis-server: run `cargo xtask test`"]
async fn three_replicas_share_one_budget() {
    let redis = RedisServer::start();
    let replicas: Vec<NetworkServer> = (0..3).map(|_| replica(&redis, "closed", "500ms")).collect();
    let c = reqwest::Client::new();
    let mut admitted = 0;
    for i in 0..40 {
        if i == 20 {
            // Redis forgets the script (a restart, a failover): EVALSHA gets NOSCRIPT and it is sent again.
            assert_eq!(redis.command(&["SCRIPT", "FLUSH"]), "+OK\r\n");
        }
        let (status, _) = lookup(&c, &replicas[i % 3].base).await;
        assert!(status == 200 || status == 429, "{status}");
        admitted += usize::from(status == 200);
    }
    assert_eq!(admitted, 30, "lookup_stock is 30/h per key, whichever replica answers");
}

#[tokio::test]
#[ignore = "needs redis-server: run `cargo xtask test`"]
async fn when_redis_fails_each_policy_holds_and_no_call_waits_for_it() {
    // Not a latency figure: a bound far above the 200 ms Redis timeout that a call waiting on a frozen
    // Redis (for ever, until SIGCONT) would cross, and that a loaded 2-core machine does not.
    let hang = Duration::from_secs(10);
    for (policy, expected) in [("open", 200), ("closed", 503), ("local", 200)] {
        let mut redis = RedisServer::start();
        let server = replica(&redis, policy, "200ms");
        let c = reqwest::Client::new();
        for _ in 0..3 {
            assert_eq!(lookup(&c, &server.base).await.0, 200, "{policy}: Redis up");
        }
        for (what, stop) in [("frozen", false), ("dead", true)] {
            if stop {
                redis.kill();
            } else {
                redis.pause();
            }
            let mut slowest = Duration::ZERO;
            for _ in 0..5 {
                let (status, took) = tokio::time::timeout(hang, lookup(&c, &server.base))
                    .await
                    .unwrap_or_else(|_| panic!("{policy}, Redis {what}: a call waited {hang:?} for Redis"));
                assert_eq!(status, expected, "{policy}, Redis {what}");
                slowest = slowest.max(took);
            }
            eprintln!("{policy}, Redis {what}: slowest call {slowest:?}");
        }
        if policy == "local" {
            // The local limiter now decides alone, with the same 30/h for this key in this process; its
            // budget started full when Redis went away, and the ten calls above spent ten of it.
            let mut admitted = 10;
            for _ in 0..25 {
                admitted += usize::from(lookup(&c, &server.base).await.0 == 200);
            }
            assert_eq!(admitted, 30, "the local limiter keeps the 30/h budget");
        }
    }
}
