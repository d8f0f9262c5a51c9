//! What the in-memory rate limiter adds to a call: the throttle layer around a service that answers at once,
//! against that service alone, for a call that meets three limits (the tool's per-caller budget, the
//! caller's budget and the global one). `cargo bench -p mcp-runtime --bench throttle`.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use mcp_runtime::config::ThrottlingConfig;
use mcp_runtime::protocol::{Request, RequestId};
use mcp_runtime::server::{McpRequest, McpResponse, Notifier, Outcome, Session, ToolSpec, TransportKind};
use mcp_runtime::throttle::{MemoryLimiter, Plan, ThrottleLayer};
use serde_json::json;
use tokio_util::sync::CancellationToken;
use tower::{Layer, ServiceExt, service_fn};

/// Never limited in practice: a budget far above what the benchmark spends.
#[mcp_runtime::mcp_tool(rate = "1000000000/s")]
async fn fast() -> &'static str {
    "fast"
}

fn request(caller: usize) -> McpRequest {
    let params = json!({"name": "fast", "arguments": {}, "_meta": {
        "io.modelcontextprotocol/protocolVersion": "2026-07-28",
        "io.modelcontextprotocol/clientCapabilities": {}}});
    let request = Request {
        id: RequestId::Number(1.into()),
        method: "tools/call".to_owned(),
        params: params.as_object().unwrap().clone(),
    };
    let mut admitted = Session::new()
        .admit(request, Notifier::discard(), CancellationToken::new(), TransportKind::InProcess)
        .expect("admitted");
    admitted.source = Some(std::net::IpAddr::from([10, 0, 0, (caller % 200) as u8]));
    admitted
}

fn answer() -> McpResponse {
    McpResponse { body: Ok(serde_json::value::to_raw_value(&json!({})).unwrap()), outcome: Outcome::Ok }
}

fn bench(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
    let config = ThrottlingConfig {
        per_principal: Some("1000000000/s".to_owned()),
        global: Some("1000000000/s".to_owned()),
        ..ThrottlingConfig::default()
    };
    let specs: [&ToolSpec; 1] = [fast::SPEC];
    let plan = Plan::new(&config, specs).unwrap();
    let limiter = Arc::new(MemoryLimiter::new(plan.quotas()));
    let inner = service_fn(|_: McpRequest| async { Ok::<_, Infallible>(answer()) });
    let throttled = ThrottleLayer::with_limiter(plan, limiter).layer(inner);

    let mut group = c.benchmark_group("call");
    group.measurement_time(Duration::from_secs(5));
    let mut caller = 0usize;
    group.bench_function("without the throttle layer", |b| {
        b.iter_batched(
            || {
                caller += 1;
                request(caller)
            },
            |req| runtime.block_on(inner.oneshot(req)).unwrap(),
            criterion::BatchSize::SmallInput,
        );
    });
    group.bench_function("with the throttle layer (memory, 3 limits)", |b| {
        b.iter_batched(
            || {
                caller += 1;
                request(caller)
            },
            |req| runtime.block_on(throttled.clone().oneshot(req)).unwrap(),
            criterion::BatchSize::SmallInput,
        );
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
