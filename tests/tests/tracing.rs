//! OpenTelemetry: span shape and W3C propagation with the SDK's in-memory exporter, then the inventory
//! binary exporting over OTLP/HTTP to a receiver in the test that decodes the protobuf it gets.

#![allow(clippy::needless_pass_by_value)] // `json!` arguments read best passed by value in tests

use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use mcp_runtime::Pipeline;
use mcp_runtime::config::Config;
use mcp_runtime::prelude::*;
use mcp_runtime::protocol::{Request, RequestId};
use mcp_runtime::server::{Notifier, Session, TransportKind};
use mcp_tests::{NetworkServer, OPS_KEY, inventory_bin, modern_meta};
use opentelemetry::trace::{SpanId, TraceId, TracerProvider as _};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider, SpanData};
use prost::Message;
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;
use tracing::Instrument;
use tracing_subscriber::layer::SubscriberExt;

const TRACE: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const PARENT: &str = "00f067aa0ba902b7";

/// Does its work in a task it starts through the context.
#[mcp_tool]
async fn traced(ctx: Context) -> String {
    let work = ctx.spawn(async { "done".to_owned() }.instrument(tracing::info_span!("spawned.work")));
    work.await.unwrap()
}

async fn call_with_traceparent(trust_incoming: bool) -> (Vec<SpanData>, Value) {
    let exporter = InMemorySpanExporter::default();
    let provider = SdkTracerProvider::builder().with_simple_exporter(exporter.clone()).build();
    let subscriber =
        tracing_subscriber::registry().with(tracing_opentelemetry::layer().with_tracer(provider.tracer("test")));
    let _guard = tracing::subscriber::set_default(subscriber);

    let dir = std::env::temp_dir().join(format!("mcp-tracing-{}-{trust_incoming}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let audit = dir.join("audit.log");
    let _ = std::fs::remove_file(&audit);
    let mut config = Config::default();
    config.tracing.trust_incoming = trust_incoming;
    config.audit.destination = format!("file:{}", audit.display());
    let pipeline = Pipeline::build(Server::new("traced", "0").tool(traced::SPEC).config(config)).unwrap();

    let mut meta = modern_meta();
    meta["traceparent"] = json!(format!("00-{TRACE}-{PARENT}-01"));
    let params = json!({"name": "traced", "arguments": {}, "_meta": meta});
    let request = Request {
        id: RequestId::Number(7.into()),
        method: "tools/call".into(),
        params: params.as_object().unwrap().clone(),
    };
    let request =
        Session::new().admit(request, Notifier::discard(), CancellationToken::new(), TransportKind::InProcess).unwrap();
    let response = pipeline.call(request).await;
    assert!(response.body.is_ok());
    pipeline.flush().await;
    provider.force_flush().unwrap();
    let record: Value = serde_json::from_str(std::fs::read_to_string(&audit).unwrap().lines().next().unwrap()).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    (exporter.get_finished_spans().unwrap(), record)
}

fn attribute(span: &SpanData, key: &str) -> Option<String> {
    span.attributes.iter().find(|kv| kv.key.as_str() == key).map(|kv| kv.value.to_string())
}

#[tokio::test(flavor = "current_thread")]
async fn a_trusted_traceparent_parents_the_request_and_the_tools_spawned_work() {
    let (spans, record) = call_with_traceparent(true).await;
    let by_name =
        |name: &str| spans.iter().find(|s| s.name == name).unwrap_or_else(|| panic!("no span {name}: {spans:#?}"));
    let request = by_name("tools/call traced");
    let trace = TraceId::from_hex(TRACE).unwrap();
    assert_eq!(request.span_context.trace_id(), trace);
    assert_eq!(request.parent_span_id, SpanId::from_hex(PARENT).unwrap(), "the client's span is the parent");
    assert_eq!(request.span_kind, opentelemetry::trace::SpanKind::Server);
    assert_eq!(attribute(request, "mcp.method.name").as_deref(), Some("tools/call"));
    assert_eq!(attribute(request, "gen_ai.tool.name").as_deref(), Some("traced"));
    assert_eq!(attribute(request, "mcp.protocol.version").as_deref(), Some("2026-07-28"));
    assert_eq!(attribute(request, "jsonrpc.request.id").as_deref(), Some("7"));
    let tool = by_name("mcp.tool");
    assert_eq!(tool.parent_span_id, request.span_context.span_id());
    assert_eq!(by_name("mcp.validate").parent_span_id, request.span_context.span_id());
    let spawned = by_name("spawned.work");
    assert_eq!(spawned.span_context.trace_id(), trace, "the tool's spawned work shares the trace");
    assert_eq!(spawned.parent_span_id, tool.span_context.span_id());
    assert_eq!(record["trace_id"], TRACE, "the audit record names the trace: {record}");
    assert_eq!(record["span_id"], request.span_context.span_id().to_string());
}

#[tokio::test(flavor = "current_thread")]
async fn an_untrusted_traceparent_starts_a_trace_of_its_own() {
    let (spans, record) = call_with_traceparent(false).await;
    let request = spans.iter().find(|s| s.name == "tools/call traced").unwrap();
    assert_ne!(request.span_context.trace_id(), TraceId::from_hex(TRACE).unwrap());
    assert_eq!(request.parent_span_id, SpanId::INVALID);
    assert_eq!(record["trace_id"], request.span_context.trace_id().to_string());
}

#[tokio::test]
async fn the_binary_exports_over_otlp_http() {
    let received: Arc<Mutex<Vec<Bytes>>> = Arc::default();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let collector = format!("http://{}", listener.local_addr().unwrap());
    let sink = Arc::clone(&received);
    let app = axum::Router::new().route(
        "/v1/traces",
        axum::routing::post(move |body: Bytes| {
            let sink = Arc::clone(&sink);
            async move {
                sink.lock().unwrap().push(body);
                axum::http::StatusCode::OK
            }
        }),
    );
    tokio::spawn(async move { axum::serve(listener, app).await });

    let env = [
        ("MCP_TRACING__EXPORTER", "otlp"),
        ("MCP_TRACING__ENDPOINT", collector.as_str()),
        ("MCP_TRACING__TRUST_INCOMING", "true"),
    ];
    let mut server = NetworkServer::start_with(&inventory_bin(), "http", &env);
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {
        "name": "lookup_stock", "arguments": {"sku": "ABC123"}, "_meta": modern_meta()}});
    let r = reqwest::Client::new()
        .post(format!("{}/mcp", server.base))
        .bearer_auth(OPS_KEY)
        .header("accept", "application/json")
        .header("mcp-protocol-version", "2026-07-28")
        .header("mcp-method", "tools/call")
        .header("mcp-name", "lookup_stock")
        .header("traceparent", format!("00-{TRACE}-{PARENT}-01"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let status = tokio::task::spawn_blocking(move || server.terminate()).await.unwrap();
    assert!(status.success(), "{status}");

    let received = received.lock().unwrap().clone();
    assert!(!received.is_empty(), "the spans were exported before the process exited");
    let mut spans = Vec::new();
    for body in &received {
        assert!(!body.windows(OPS_KEY.len()).any(|w| w == OPS_KEY.as_bytes()), "the key is in an exported span");
        let export = ExportTraceServiceRequest::decode(body.as_ref()).expect("OTLP protobuf");
        for resource in export.resource_spans {
            let service = resource
                .resource
                .as_ref()
                .and_then(|r| r.attributes.iter().find(|kv| kv.key == "service.name").and_then(|kv| kv.value.clone()));
            for scope in resource.scope_spans {
                for span in scope.spans {
                    spans.push((format!("{service:?}"), span));
                }
            }
        }
    }
    let (service, request) =
        spans.iter().find(|(_, s)| s.name == "tools/call lookup_stock").unwrap_or_else(|| panic!("{spans:#?}"));
    assert!(service.contains("inventory-gateway"), "{service}");
    assert_eq!(hex(&request.trace_id), TRACE, "the HTTP traceparent header was continued");
    assert_eq!(hex(&request.parent_span_id), PARENT);
    let tool = request.attributes.iter().find(|kv| kv.key == "gen_ai.tool.name").map(|kv| format!("{:?}", kv.value));
    assert!(tool.is_some_and(|t| t.contains("lookup_stock")));
    assert!(spans.iter().any(|(_, s)| s.name == "mcp.tool" && s.parent_span_id == request.span_id));
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
