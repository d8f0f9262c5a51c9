//! OpenTelemetry: span shape and W3C propagation with the SDK's in-memory exporter, then the inventory
//! binary exporting traces and metrics over OTLP/HTTP to a receiver in the test that decodes the protobuf it
//! gets, and over OTLP/gRPC to a tonic collector, and serving the same metrics to Prometheus.

#![allow(clippy::needless_pass_by_value)] // `json!` arguments read best passed by value in tests

use std::sync::{Arc, Mutex};

use mcp_runtime::Pipeline;
use mcp_runtime::config::Config;
use mcp_runtime::prelude::*;
use mcp_runtime::protocol::{Request, RequestId};
use mcp_runtime::request::{Notifier, Session, TransportKind};
use mcp_tests::{NetworkServer, OPS_KEY, OtlpReceiver, VIEWER_KEY, inventory_bin, modern_meta};
use opentelemetry::trace::{SpanId, TraceId, TracerProvider as _};
use opentelemetry_proto::tonic::collector::metrics::v1::metrics_service_server::{
    MetricsService, MetricsServiceServer,
};
use opentelemetry_proto::tonic::collector::metrics::v1::{ExportMetricsServiceRequest, ExportMetricsServiceResponse};
use opentelemetry_proto::tonic::collector::trace::v1::trace_service_server::{TraceService, TraceServiceServer};
use opentelemetry_proto::tonic::collector::trace::v1::{ExportTraceServiceRequest, ExportTraceServiceResponse};
use opentelemetry_proto::tonic::metrics::v1::metric::Data;
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

/// A 2026-07-28 call of `traced`, admitted in-process.
fn call_traced(id: i64, meta: Value) -> mcp_runtime::request::McpRequest {
    let params = json!({"name": "traced", "arguments": {}, "_meta": meta});
    let request = Request {
        id: RequestId::Number(id.into()),
        method: "tools/call".into(),
        params: params.as_object().unwrap().clone(),
    };
    let session = Session::new();
    mcp_runtime::transport::admit(
        &session,
        request,
        Notifier::discard(),
        CancellationToken::new(),
        TransportKind::InProcess,
    )
    .unwrap()
}

async fn call_with_traceparent(trust_incoming: bool) -> (Vec<SpanData>, Value) {
    mcp_tests::global_registry();
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
    let response = pipeline.call(call_traced(7, meta)).await;
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

/// The spans `span_layer` (the layer `Telemetry::init` installs) exports for one call at `level`.
async fn names_at(level: mcp_runtime::config::SpanLevel) -> Vec<String> {
    mcp_tests::global_registry();
    let exporter = InMemorySpanExporter::default();
    let provider = SdkTracerProvider::builder().with_simple_exporter(exporter.clone()).build();
    let subscriber =
        tracing_subscriber::registry().with(mcp_runtime::telemetry::span_layer(provider.tracer("test"), level));
    let _guard = tracing::subscriber::set_default(subscriber);
    let mut config = Config::default();
    config.audit.destination = "none".to_owned();
    let pipeline = Pipeline::build(Server::new("traced", "0").tool(traced::SPEC).config(config)).unwrap();
    assert!(pipeline.call(call_traced(1, modern_meta())).await.body.is_ok());
    provider.force_flush().unwrap();
    exporter.get_finished_spans().unwrap().into_iter().map(|s| s.name.into_owned()).collect()
}

#[tokio::test(flavor = "current_thread")]
async fn the_corridors_stages_are_exported_at_debug_only() {
    use mcp_runtime::config::SpanLevel;
    let info = names_at(SpanLevel::Info).await;
    assert!(info.iter().any(|n| n == "tools/call traced") && info.iter().any(|n| n == "mcp.tool"), "{info:?}");
    assert!(!info.iter().any(|n| n == "mcp.validate"), "{info:?}");
    let debug = names_at(SpanLevel::Debug).await;
    assert!(debug.iter().any(|n| n == "mcp.validate"), "{debug:?}");
}

fn post(c: &reqwest::Client, url: &str, body: &Value) -> reqwest::RequestBuilder {
    c.post(url).bearer_auth(OPS_KEY).header("accept", "application/json, text/event-stream").json(body)
}

#[tokio::test]
async fn the_binary_exports_traces_and_metrics_over_otlp_http() {
    let receiver = OtlpReceiver::keeping();
    let collector = receiver.start().await;

    let env = [
        ("MCP_TRACING__EXPORTER", "otlp"),
        ("MCP_TRACING__ENDPOINT", collector.as_str()),
        ("MCP_TRACING__TRUST_INCOMING", "true"),
        ("MCP_LOG__LEVEL", "debug"),
    ];
    let mut server = NetworkServer::start_with(&inventory_bin(), "http", &env);
    let url = format!("{}/mcp", server.base);
    let c = reqwest::Client::new();
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {
        "name": "lookup_stock", "arguments": {"sku": "ABC123"}, "_meta": modern_meta()}});
    let r = post(&c, &url, &body)
        .header("mcp-protocol-version", "2026-07-28")
        .header("mcp-method", "tools/call")
        .header("mcp-name", "lookup_stock")
        .header("traceparent", format!("00-{TRACE}-{PARENT}-01"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    // A handshake-era session: its requests' spans carry mcp.session.id.
    let init = json!({"jsonrpc": "2.0", "id": 2, "method": "initialize", "params": {
        "protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "0"}}});
    let r = post(&c, &url, &init).send().await.unwrap();
    let session = r.headers()["mcp-session-id"].to_str().unwrap().to_owned();
    let list = json!({"jsonrpc": "2.0", "id": 3, "method": "tools/list"});
    let r = post(&c, &url, &list)
        .header("mcp-session-id", &session)
        .header("mcp-protocol-version", "2025-11-25")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);

    // Prometheus, on the same listener and behind the same key.
    let scrape = |key: Option<&str>| {
        let mut r = c.get(format!("{}/metrics", server.base));
        if let Some(key) = key {
            r = r.bearer_auth(key);
        }
        r.send()
    };
    assert_eq!(scrape(None).await.unwrap().status(), 401);
    // A key that may call tools but lacks `metrics.scope` (mcp:metrics) does not read them.
    let refused = scrape(Some(VIEWER_KEY)).await.unwrap();
    assert_eq!(refused.status(), 403);
    let challenge = refused.headers()["www-authenticate"].to_str().unwrap();
    assert!(challenge.contains("insufficient_scope") && challenge.contains("mcp:metrics"), "{challenge}");
    let r = scrape(Some(OPS_KEY)).await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers()["content-type"].to_str().unwrap().starts_with("text/plain; version=0.0.4"));
    let text = r.text().await.unwrap();
    let series = r#"mcp_server_operation_duration_seconds_count{mcp_method_name="tools/call",gen_ai_tool_name="lookup_stock"} 1"#;
    assert!(text.contains(series), "{text}");
    assert!(text.contains(r#"mcp_server_operation_duration_seconds_count{mcp_method_name="tools/list"} 1"#), "{text}");

    let status = tokio::task::spawn_blocking(move || {
        let status = server.terminate();
        (status, server.logs())
    })
    .await
    .unwrap();
    let (status, logs) = status;
    assert!(status.success(), "{status}");
    assert!(!logs.contains(OPS_KEY), "the key is in the logs");

    let traces = receiver.traces();
    assert!(!traces.is_empty(), "the spans were exported before the process exited");
    let mut spans = Vec::new();
    for body in &traces {
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
    let attribute = |span: &opentelemetry_proto::tonic::trace::v1::Span, key: &str| {
        span.attributes.iter().find(|kv| kv.key == key).map(|kv| format!("{:?}", kv.value))
    };
    assert!(attribute(request, "gen_ai.tool.name").is_some_and(|t| t.contains("lookup_stock")));
    assert_eq!(attribute(request, "mcp.session.id"), None, "a stateless request has no session");
    assert!(spans.iter().any(|(_, s)| s.name == "mcp.tool" && s.parent_span_id == request.span_id));
    let (_, listed) = spans.iter().find(|(_, s)| s.name == "tools/list").unwrap_or_else(|| panic!("{spans:#?}"));
    assert!(attribute(listed, "mcp.session.id").is_some_and(|id| id.contains(&session)), "{listed:?}");

    // The same duration histogram over OTLP, exported at the latest when the process shut down.
    let metrics = receiver.metrics();
    let mut points = Vec::new();
    for body in &metrics {
        let export = ExportMetricsServiceRequest::decode(body.as_ref()).expect("OTLP protobuf");
        for scope in export.resource_metrics.into_iter().flat_map(|r| r.scope_metrics) {
            for metric in scope.metrics {
                if metric.name != "mcp.server.operation.duration" {
                    continue;
                }
                let Some(Data::Histogram(histogram)) = metric.data else { panic!("{metric:?}") };
                points.extend(histogram.data_points);
            }
        }
    }
    let tool_point = points
        .iter()
        .filter(|p| {
            p.attributes
                .iter()
                .any(|kv| kv.key == "gen_ai.tool.name" && format!("{:?}", kv.value).contains("lookup_stock"))
        })
        .max_by_key(|p| p.count)
        .unwrap_or_else(|| panic!("no lookup_stock histogram among {points:#?}"));
    assert_eq!(tool_point.count, 1);
    assert!(tool_point.explicit_bounds.contains(&0.005), "{tool_point:?}");
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[tokio::test]
async fn metrics_on_a_listener_of_their_own_need_no_key() {
    let env = [("MCP_METRICS__BIND", "127.0.0.1:0")];
    let mut server = NetworkServer::start_with(&inventory_bin(), "http", &env);
    let logs = server.logs();
    let address = logs
        .split_whitespace()
        .find_map(|w| w.strip_prefix("metrics_address="))
        .unwrap_or_else(|| panic!("the metrics address is logged: {logs}"));
    let c = reqwest::Client::new();
    let r = c.get(format!("http://{address}/metrics")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    // The metrics listener has the main one's Host/Origin guard (DNS rebinding).
    let rebound = c.get(format!("http://{address}/metrics")).header("host", "evil.example").send().await.unwrap();
    assert_eq!(rebound.status(), 403);
    let cross =
        c.get(format!("http://{address}/metrics")).header("origin", "https://evil.example").send().await.unwrap();
    assert_eq!(cross.status(), 403);
    assert!(r.text().await.unwrap().contains("# TYPE mcp_server_operation_duration_seconds histogram"));
    let on_main = c.get(format!("{}/metrics", server.base)).bearer_auth(OPS_KEY).send().await.unwrap();
    assert_eq!(on_main.status(), 404, "served on its own listener only");
    let status = tokio::task::spawn_blocking(move || server.terminate()).await.unwrap();
    assert!(status.success(), "{status}");
}

/// An OTLP/gRPC collector: keeps every export request it gets.
#[derive(Clone, Default)]
struct GrpcCollector {
    traces: Arc<Mutex<Vec<ExportTraceServiceRequest>>>,
    metrics: Arc<Mutex<Vec<ExportMetricsServiceRequest>>>,
}

#[tonic::async_trait]
impl TraceService for GrpcCollector {
    async fn export(
        &self,
        request: tonic::Request<ExportTraceServiceRequest>,
    ) -> Result<tonic::Response<ExportTraceServiceResponse>, tonic::Status> {
        self.traces.lock().unwrap().push(request.into_inner());
        Ok(tonic::Response::new(ExportTraceServiceResponse { partial_success: None }))
    }
}

#[tonic::async_trait]
impl MetricsService for GrpcCollector {
    async fn export(
        &self,
        request: tonic::Request<ExportMetricsServiceRequest>,
    ) -> Result<tonic::Response<ExportMetricsServiceResponse>, tonic::Status> {
        self.metrics.lock().unwrap().push(request.into_inner());
        Ok(tonic::Response::new(ExportMetricsServiceResponse { partial_success: None }))
    }
}

#[tokio::test]
async fn the_binary_exports_traces_and_metrics_over_otlp_grpc() {
    let collector = GrpcCollector::default();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    let server = tonic::transport::Server::builder()
        .add_service(TraceServiceServer::new(collector.clone()))
        .add_service(MetricsServiceServer::new(collector.clone()));
    tokio::spawn(server.serve_with_incoming(tonic::transport::server::TcpIncoming::from(listener)));

    let env = [
        ("MCP_TRACING__EXPORTER", "otlp"),
        ("MCP_TRACING__PROTOCOL", "grpc"),
        ("MCP_TRACING__ENDPOINT", endpoint.as_str()),
    ];
    let mut server = NetworkServer::start_with(&inventory_bin(), "http", &env);
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {
        "name": "lookup_stock", "arguments": {"sku": "ABC123"}, "_meta": modern_meta()}});
    let r = post(&reqwest::Client::new(), &format!("{}/mcp", server.base), &body)
        .header("mcp-protocol-version", "2026-07-28")
        .header("mcp-method", "tools/call")
        .header("mcp-name", "lookup_stock")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let status = tokio::task::spawn_blocking(move || server.terminate()).await.unwrap();
    assert!(status.success(), "{status}");

    let traces = collector.traces.lock().unwrap().clone();
    let names: Vec<String> = traces
        .iter()
        .flat_map(|t| &t.resource_spans)
        .flat_map(|r| &r.scope_spans)
        .flat_map(|s| &s.spans)
        .map(|s| s.name.clone())
        .collect();
    assert!(names.iter().any(|n| n == "tools/call lookup_stock"), "{names:?}");
    assert!(names.iter().any(|n| n == "mcp.tool"), "{names:?}");
    // The corridor's stages are debug spans: not exported under the default tracing.level.
    assert!(!names.iter().any(|n| n == "mcp.validate" || n == "mcp.throttle"), "{names:?}");
    let metrics = collector.metrics.lock().unwrap().clone();
    let names: Vec<String> = metrics
        .iter()
        .flat_map(|m| &m.resource_metrics)
        .flat_map(|r| &r.scope_metrics)
        .flat_map(|s| &s.metrics)
        .map(|m| m.name.clone())
        .collect();
    assert!(names.iter().any(|n| n == "mcp.server.operation.duration"), "{names:?}");
    assert!(names.iter().any(|n| n == "mcp.server.auth.failures"), "{names:?}");
}
