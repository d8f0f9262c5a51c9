//! What corridor stages add to a call, each around a service that answers at once, against that service
//! alone: the in-memory rate limiter (a call meeting three limits: the tool's per-caller budget, the
//! caller's budget and the global one), and the audit + trace stages with a file sink and OpenTelemetry
//! traces and metrics exported; argument validation; the audit writer's work on one record.
//! `cargo bench -p mcp-runtime --bench corridor`.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use mcp_runtime::config::ThrottlingConfig;
use mcp_runtime::protocol::{Request, RequestId};
use mcp_runtime::request::{McpRequest, McpResponse, Notifier, Outcome, Session, TransportKind};
use mcp_runtime::server::ToolSpec;
use mcp_runtime::throttle::{MemoryLimiter, Plan, ThrottleLayer};
use serde_json::json;
use tokio_util::sync::CancellationToken;
use tower::{Layer, ServiceExt, service_fn};

// The allocator every `#[mcp_server]` binary gets (mimalloc, the runtime's default feature).
mcp_runtime::__mcp_default_allocator!();

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
    let session = Session::new();
    let mut admitted = mcp_runtime::transport::admit(
        &session,
        request,
        Notifier::discard(),
        CancellationToken::new(),
        TransportKind::InProcess,
    )
    .expect("admitted");
    admitted.source = Some(std::net::IpAddr::from([10, 0, 0, (caller % 200) as u8]));
    admitted
}

fn answer() -> McpResponse {
    McpResponse { body: Ok(serde_json::value::to_raw_value(&json!({})).unwrap()), outcome: Outcome::Ok }
}

/// Times `service` answering one call at a time, each from one of 200 client addresses.
fn stage<S>(
    group: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    runtime: &tokio::runtime::Runtime,
    name: &str,
    service: &S,
) where
    S: tower::Service<McpRequest, Response = McpResponse, Error = Infallible> + Clone,
{
    calls(group, name, None, on(runtime, service));
}

/// One call of `service`, on `runtime`.
fn on<'a, S>(runtime: &'a tokio::runtime::Runtime, service: &'a S) -> impl FnMut(McpRequest) -> McpResponse + 'a
where
    S: tower::Service<McpRequest, Response = McpResponse, Error = Infallible> + Clone,
{
    move |req| runtime.block_on(service.clone().oneshot(req)).unwrap()
}

/// Times `call` on one request at a time, each from one of 200 client addresses; with `dispatch`, spans go
/// to that subscriber (the OpenTelemetry layer), else to none.
fn calls(
    group: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    name: &str,
    dispatch: Option<&tracing::Dispatch>,
    mut call: impl FnMut(McpRequest) -> McpResponse,
) {
    let none = tracing::Dispatch::none();
    let dispatch = dispatch.unwrap_or(&none);
    let mut caller = 0usize;
    group.bench_function(name, |b| {
        b.iter_batched(
            || {
                caller += 1;
                request(caller)
            },
            |req| tracing::dispatcher::with_default(dispatch, || call(req)),
            criterion::BatchSize::SmallInput,
        );
    });
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
    stage(&mut group, &runtime, "without the throttle layer", &inner);
    stage(&mut group, &runtime, "with the throttle layer (memory, 3 limits)", &throttled);
    group.finish();
}

fn bench_audit_and_trace(c: &mut Criterion) {
    use mcp_runtime::audit::{AuditLayer, Auditor};
    use mcp_runtime::config::{Config, TransportKindConfig};
    use mcp_runtime::telemetry::{Metrics, TraceLayer};
    use opentelemetry::trace::TracerProvider as _;
    use tracing_subscriber::layer::SubscriberExt;

    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    // The exporter on, as `Telemetry` sets it up: its span batcher on the Tokio runtime, exporting to memory.
    let exporter = opentelemetry_sdk::trace::InMemorySpanExporter::default();
    let processor = runtime
        .block_on(async { mcp_runtime::telemetry::SpanBatcher::start(exporter.clone(), Duration::from_secs(1)) });
    let provider = opentelemetry_sdk::trace::SdkTracerProvider::builder().with_span_processor(processor).build();
    let subscriber = tracing_subscriber::registry()
        .with(mcp_runtime::telemetry::span_layer(provider.tracer("bench"), mcp_runtime::config::SpanLevel::Info));
    let traced = tracing::Dispatch::new(subscriber);

    // The file sink rotates (`audit.log.1` …): the whole directory goes when the bench ends, even on a panic.
    let dir = ScratchDir::new(std::env::temp_dir().join(format!("mcp-bench-audit-{}", std::process::id())));
    let mut config = Config::default();
    config.audit.destination = format!("file:{}", dir.0.join("audit.log").display());
    config.audit.fsync = mcp_runtime::config::AuditFsync::Interval;
    // Metrics exported too: OTLP's histogram bound per series, read by a reader that exports to memory.
    let metrics_exporter = opentelemetry_sdk::metrics::InMemoryMetricExporter::default();
    let meters = opentelemetry_sdk::metrics::SdkMeterProvider::builder()
        .with_reader(opentelemetry_sdk::metrics::PeriodicReader::builder(metrics_exporter).build())
        .build();
    let metrics = Metrics::new(["fast"], Some(&opentelemetry::metrics::MeterProvider::meter(&meters, "bench")));
    let pipeline = runtime.block_on(async {
        mcp_runtime::Pipeline::build(mcp_runtime::Server::new("bench", "0").tool(fast::SPEC).config(config.clone()))
    });
    let pipeline = pipeline.unwrap();
    let auditor =
        Arc::new(runtime.block_on(async { Auditor::new(&config.audit, TransportKindConfig::Http, false) }).unwrap());
    let inner = service_fn(|_: McpRequest| async { Ok::<_, Infallible>(answer()) });
    let observe = TraceLayer::new(true).with_metrics(metrics);
    let stages = observe.layer(AuditLayer::new(pipeline.app(), Arc::clone(&auditor)).layer(inner));
    let audit_only = AuditLayer::new(pipeline.app(), auditor).layer(inner);
    let trace_only = observe.layer(inner);

    let mut group = c.benchmark_group("observed call");
    group.measurement_time(Duration::from_secs(5));
    calls(&mut group, "without the audit and trace stages", None, on(&runtime, &inner));
    calls(&mut group, "with the audit stage alone (file sink)", None, on(&runtime, &audit_only));
    calls(
        &mut group,
        "with the trace stage alone (OTel traces + metrics on)",
        Some(&traced),
        on(&runtime, &trace_only),
    );
    let name = "with the audit and trace stages (file sink, OTel traces + metrics on)";
    calls(&mut group, name, Some(&traced), on(&runtime, &stages));
    group.finish();

    // The whole corridor (trace, audit, authorize, validate, throttle, the tool), as `Pipeline::call` runs
    // it: bare (no audit sink, no subscriber) and observed (file sink, spans exported, metrics over OTLP).
    let mut bare = Config::default();
    bare.audit.destination = "none".to_owned();
    let build = |config: Config| {
        runtime.block_on(async {
            mcp_runtime::Pipeline::build(mcp_runtime::Server::new("bench", "0").tool(fast::SPEC).config(config))
                .unwrap()
        })
    };
    let (bare, observed) = (build(bare), build(config));
    let mut group = c.benchmark_group("whole corridor");
    group.measurement_time(Duration::from_secs(5));
    calls(&mut group, "bare", None, |req| runtime.block_on(bare.call(req)));
    calls(&mut group, "observed (audit file, OTel traces + metrics)", Some(&traced), |req| {
        runtime.block_on(observed.call(req))
    });
    group.finish();
    let _ = provider.shutdown();
    let _ = meters.shutdown();
    exporter.reset();
}

/// A scratch directory, removed with everything in it when dropped.
struct ScratchDir(std::path::PathBuf);

impl ScratchDir {
    fn new(path: std::path::PathBuf) -> Self {
        std::fs::create_dir_all(&path).unwrap();
        Self(path)
    }
}

impl Drop for ScratchDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Argument validation against a tool's compiled schema (a constrained string and an integer range, as the
/// inventory tools have), and the audit writer's work on one record with redaction and the hash chain.
fn bench_validation_and_audit_record(c: &mut Criterion) {
    let schema = json!({"type": "object", "additionalProperties": false, "required": ["sku", "quantity"],
        "properties": {"sku": {"type": "string", "pattern": "^[A-Z]{3}[0-9]{3}$"},
            "quantity": {"type": "integer", "minimum": 1, "maximum": 1000}}});
    let validator = mcp_runtime::validate::compile(&schema).unwrap();
    let valid = json!({"sku": "ABC123", "quantity": 12});
    let invalid = json!({"sku": "abc", "quantity": 0, "extra": true});
    assert!(mcp_runtime::validate::violations(&validator, &valid).is_none());
    assert!(mcp_runtime::validate::violations(&validator, &invalid).is_some());
    let mut group = c.benchmark_group("validation");
    group.bench_function("valid arguments", |b| b.iter(|| mcp_runtime::validate::violations(&validator, &valid)));
    group.bench_function("three violations, reported", |b| {
        b.iter(|| mcp_runtime::validate::violations(&validator, &invalid));
    });
    group.finish();

    let config: mcp_runtime::config::AuditConfig = serde_json::from_value(json!({
        "redact_fields": ["message"], "redact_key": "bench-hmac-key-not-a-secret", "hash_chain": true}))
    .unwrap();
    let mut encoder = mcp_runtime::audit::Encoder::new(&config).unwrap();
    let arguments = json!({"message": "hello, bench", "sku": "ABC123", "quantity": 12});
    let mut line = Vec::new();
    encoder.call("echo", arguments.clone(), &mut line);
    let text = String::from_utf8(line.clone()).unwrap();
    assert!(!text.contains("hello, bench") && text.contains("\"hash\""), "{text}");
    let mut group = c.benchmark_group("audit record");
    group.bench_function("finished, redacted (HMAC) and chained (SHA-256)", |b| {
        b.iter_batched(
            || arguments.clone(),
            |arguments| {
                line.clear();
                encoder.call("echo", arguments, &mut line);
            },
            criterion::BatchSize::SmallInput,
        );
    });
    group.finish();
}

criterion_group!(benches, bench, bench_audit_and_trace, bench_validation_and_audit_record);
criterion_main!(benches);
