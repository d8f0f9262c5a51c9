//! A task's trace and records: its span (`mcp.task`) starts a trace of its own linked to the creating
//! request's span, and the audit trail has the creating call's record and one outcome record naming the
//! same request and trace; the metrics count the task's end and label its polls.

use std::time::Duration;

use mcp_runtime::Pipeline;
use mcp_runtime::config::Config;
use mcp_runtime::prelude::*;
use mcp_runtime::protocol::{Request, RequestId};
use mcp_runtime::request::{Notifier, Session, TransportKind};
use opentelemetry::trace::{SpanId, TraceId, TracerProvider as _};
use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider};
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;
use tracing_subscriber::layer::SubscriberExt;

const TRACE: &str = "5bf92f3577b34da6a3ce929d0e0e4736";
const PARENT: &str = "10f067aa0ba902b7";

/// Takes a moment.
#[mcp_tool(task = "optional")]
async fn slow_echo(text: String) -> String {
    tokio::time::sleep(Duration::from_millis(50)).await;
    text
}

fn request(id: i64, method: &str, mut params: Value) -> mcp_runtime::request::McpRequest {
    let mut meta = mcp_tests::modern_meta();
    meta["io.modelcontextprotocol/clientCapabilities"] = json!({"extensions": {"io.modelcontextprotocol/tasks": {}}});
    meta["traceparent"] = json!(format!("00-{TRACE}-{PARENT}-01"));
    params["_meta"] = meta;
    let request = Request {
        id: RequestId::Number(id.into()),
        method: method.into(),
        params: params.as_object().unwrap().clone(),
    };
    mcp_runtime::transport::admit(
        &Session::new(),
        request,
        Notifier::discard(),
        CancellationToken::new(),
        TransportKind::InProcess,
    )
    .unwrap()
}

fn body(response: &mcp_runtime::request::McpResponse) -> Value {
    serde_json::from_str(response.body.as_ref().expect("a result").get()).unwrap()
}

#[tokio::test(flavor = "current_thread")]
async fn the_task_span_links_to_the_creating_request_and_its_outcome_is_recorded_once() {
    mcp_tests::global_registry();
    let exporter = InMemorySpanExporter::default();
    let provider = SdkTracerProvider::builder().with_simple_exporter(exporter.clone()).build();
    let subscriber =
        tracing_subscriber::registry().with(tracing_opentelemetry::layer().with_tracer(provider.tracer("test")));
    let _guard = tracing::subscriber::set_default(subscriber);

    let dir = std::env::temp_dir().join(format!("mcp-task-tracing-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let audit = dir.join("audit.log");
    let mut config = Config::default();
    config.tracing.trust_incoming = true;
    config.audit.destination = format!("file:{}", audit.display());
    let pipeline = Pipeline::build(Server::new("traced", "0").tool(slow_echo::SPEC).config(config)).unwrap();

    let created =
        body(&pipeline.call(request(1, "tools/call", json!({"name": "slow_echo", "arguments": {"text": "hi"}}))).await);
    assert_eq!(created["resultType"], "task", "{created}");
    let task_id = created["taskId"].as_str().unwrap().to_owned();
    let done = mcp_tests::eventually("the task completes", || {
        let pipeline = pipeline.clone();
        let task_id = task_id.clone();
        async move {
            let got = body(&pipeline.call(request(2, "tasks/get", json!({"taskId": task_id}))).await);
            (got["status"] == "completed").then_some(got)
        }
    })
    .await;
    assert_eq!(mcp_tests::result_text(&done["result"]), "hi");
    pipeline.flush().await;
    provider.force_flush().unwrap();

    let spans = exporter.get_finished_spans().unwrap();
    let by_name =
        |name: &str| spans.iter().find(|s| s.name == name).unwrap_or_else(|| panic!("no span {name}: {spans:#?}"));
    let call = by_name("tools/call slow_echo");
    assert_eq!(call.span_context.trace_id(), TraceId::from_hex(TRACE).unwrap());
    assert_eq!(call.parent_span_id, SpanId::from_hex(PARENT).unwrap());
    let task = by_name("mcp.task");
    assert_ne!(task.span_context.trace_id(), call.span_context.trace_id(), "a trace of its own");
    let linked: Vec<_> = task.links.iter().map(|l| (l.span_context.trace_id(), l.span_context.span_id())).collect();
    assert_eq!(linked, [(call.span_context.trace_id(), call.span_context.span_id())], "linked to the call");

    let records: Vec<Value> = std::fs::read_to_string(&audit)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .filter(|r: &Value| r["method"] == "tools/call")
        .collect();
    assert_eq!(records.len(), 2, "the creating call and the task's outcome: {records:#?}");
    let (creation, outcome) = (&records[0], &records[1]);
    assert!(creation.get("task").is_none(), "{creation}");
    assert_eq!(outcome["task"], json!({"id": task_id, "status": "completed"}), "{outcome}");
    assert_eq!(outcome["request_id"], creation["request_id"]);
    assert_eq!(outcome["trace_id"], TRACE, "the outcome names the creating request's trace");
    assert_eq!(outcome["reason"], "ok");
    assert!(outcome["latency_us"].as_u64().unwrap() >= 50_000, "from creation to the end: {outcome}");
    let metrics = pipeline.metrics().render();
    assert!(
        metrics.contains("mcp_server_tasks_total{status=\"completed\"} 1"),
        "the ended task is counted:\n{metrics}"
    );
    assert!(metrics.contains("mcp_method_name=\"tasks/get\""), "polls have their own series");
    std::fs::remove_dir_all(&dir).unwrap();
}
