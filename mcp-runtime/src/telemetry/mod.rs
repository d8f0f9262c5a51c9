//! Logs, traces and metrics: the `tracing` subscriber every `#[mcp_server]` binary installs, OpenTelemetry
//! export over OTLP (HTTP/protobuf or gRPC; spans through [`SpanBatcher`]), W3C trace-context propagation,
//! [`Metrics`] (Prometheus text and OTLP), and [`TraceLayer`], the corridor's first stage.
//!
//! Each request gets a span named after the MCP semantic conventions (`tools/call lookup_stock`, kind
//! server) with `mcp.method.name`, `mcp.protocol.version`, `jsonrpc.request.id`, `gen_ai.tool.name`,
//! `mcp.session.id` (handshake-era HTTP sessions), `client.address`, and `error.type` with an error status
//! when it failed; the tool's span (`mcp.tool`) is its child, and so are the tool's own spans and the tasks
//! it starts with `Context::spawn`. The corridor's stages (`mcp.authorize`, `mcp.validate`, `mcp.throttle`)
//! are debug spans, exported with `tracing.level = "debug"`. With
//! `tracing.trust_incoming`, the span continues the client's trace (`traceparent` from the HTTP header or
//! `params._meta`); otherwise every request starts its own. The audit record carries the trace and span ids.

mod escape;
mod export;
mod layer;
mod metrics;
mod service;

use std::collections::HashMap;

use opentelemetry::propagation::{Extractor, TextMapPropagator};
use opentelemetry::trace::{TraceContextExt, TracerProvider as _};
use opentelemetry_otlp::WithExportConfig;
use opentelemetry_sdk::metrics::SdkMeterProvider;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::{Sampler, SdkTracerProvider};
use serde_json::{Map, Value};
use tracing_opentelemetry::OpenTelemetrySpanExt;
use tracing_subscriber::Layer;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

pub use export::SpanBatcher;
pub use layer::TraceLayer;
pub use metrics::Metrics;
pub(crate) use metrics::Probe;
pub use service::Trace;

use crate::config::{LogConfig, LogFormat, MetricsConfig, OtlpProtocol, SpanLevel, TraceExporter, TracingConfig};

/// What `#[mcp_server]` set up: shut it down last, so the spans of the final requests are exported.
#[derive(Debug)]
pub struct Telemetry {
    provider: Option<SdkTracerProvider>,
    meters: Option<SdkMeterProvider>,
}

impl Telemetry {
    /// Installs the global subscriber: logs on stderr (`[log]`), and spans exported over OTLP when
    /// `tracing.exporter = "otlp"` (call it inside a Tokio runtime then: the exporter runs on it); with
    /// `metrics.otlp`, also the global meter provider that exports [`Metrics`] to the same collector.
    ///
    /// # Errors
    /// An exporter that cannot be built (a malformed endpoint).
    pub fn init(
        log: &LogConfig,
        tracing: &TracingConfig,
        metrics: &MetricsConfig,
        server_name: &str,
    ) -> Result<Self, String> {
        use tracing_subscriber::EnvFilter;
        let filter = EnvFilter::try_new(&log.level).unwrap_or_else(|e| {
            eprintln!("warning: log.level `{}` is not a valid filter ({e}); using `info`", log.level);
            EnvFilter::new("info")
        });
        let fmt = log_layer(log.format, std::io::stderr).with_filter(filter);
        let provider = match tracing.exporter {
            TraceExporter::None => None,
            TraceExporter::Otlp => Some(provider(tracing, server_name)?),
        };
        // Spans are exported at `tracing.level` whatever the log level: a quiet log must not blind the traces.
        // Without an exporter, the subscriber has the log layer alone: an absent layer would still make every
        // span be created (an `Option` layer that is `None` takes an interest in everything).
        let _ = match &provider {
            Some(p) => {
                let otel = span_layer(p.tracer("mcp-runtime"), tracing.level);
                tracing_subscriber::registry().with(fmt).with(otel).try_init()
            }
            None => tracing_subscriber::registry().with(fmt).try_init(),
        };
        let meters = match tracing.exporter {
            TraceExporter::Otlp if metrics.otlp => {
                let meters = meter_provider(tracing, metrics, server_name)?;
                opentelemetry::global::set_meter_provider(meters.clone());
                Some(meters)
            }
            _ => None,
        };
        Ok(Self { provider, meters })
    }

    /// Exports what is left and stops the exporters.
    pub fn shutdown(self) {
        if let Some(meters) = self.meters
            && let Err(e) = meters.shutdown()
        {
            eprintln!("warning: the metrics exporter did not shut down cleanly: {e}");
        }
        if let Some(provider) = self.provider
            && let Err(e) = provider.shutdown()
        {
            eprintln!("warning: the trace exporter did not shut down cleanly: {e}");
        }
    }
}

/// The log layer: text lines with every field value escaped ([`escape`]: what clients and tokens send
/// cannot forge a line or drive a terminal), or JSON objects, written to `writer`.
fn log_layer<S, W>(format: LogFormat, writer: W) -> Box<dyn Layer<S> + Send + Sync>
where
    S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
    W: for<'w> tracing_subscriber::fmt::MakeWriter<'w> + Send + Sync + 'static,
{
    let fmt = tracing_subscriber::fmt::layer().with_writer(writer).with_ansi(false);
    match format {
        LogFormat::Text => fmt.fmt_fields(escape::EscapedFields).boxed(),
        LogFormat::Json => fmt.json().boxed(),
    }
}

/// The OpenTelemetry layer as [`Telemetry::init`] installs it, for a subscriber of your own: spans at
/// `level` and above go to `tracer`. Spans carry no busy/idle timings and no thread, source-location or
/// target attributes: those cost every span on every poll and say nothing its name and duration do not.
pub fn span_layer<S>(tracer: opentelemetry_sdk::trace::SdkTracer, level: SpanLevel) -> impl Layer<S>
where
    S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
{
    let level = match level {
        SpanLevel::Info => tracing_subscriber::filter::LevelFilter::INFO,
        SpanLevel::Debug => tracing_subscriber::filter::LevelFilter::DEBUG,
        SpanLevel::Trace => tracing_subscriber::filter::LevelFilter::TRACE,
    };
    tracing_opentelemetry::layer()
        .with_tracer(tracer)
        .with_tracked_inactivity(false)
        .with_threads(false)
        .with_location(false)
        .with_target(false)
        .with_filter(level)
}

/// The meter [`Metrics`] reports to when `Telemetry` exports metrics over OTLP (`None`: Prometheus only).
pub(crate) fn meter(tracing: &TracingConfig, metrics: &MetricsConfig) -> Option<opentelemetry::metrics::Meter> {
    (tracing.exporter == TraceExporter::Otlp && metrics.otlp).then(|| opentelemetry::global::meter("mcp-runtime"))
}

fn resource(config: &TracingConfig, server_name: &str) -> opentelemetry_sdk::Resource {
    let name = config.service_name.clone().unwrap_or_else(|| server_name.to_owned());
    opentelemetry_sdk::Resource::builder().with_service_name(name).build()
}

/// Where `signal` (`traces`, `metrics`) is exported: OTLP/HTTP appends the signal's path to the collector's
/// address, gRPC takes the address as it is.
fn collector(config: &TracingConfig, signal: &str) -> String {
    match config.protocol {
        OtlpProtocol::Http => {
            let base = config.endpoint.as_deref().unwrap_or("http://127.0.0.1:4318").trim_end_matches('/');
            format!("{base}/v1/{signal}")
        }
        OtlpProtocol::Grpc => config.endpoint.clone().unwrap_or_else(|| "http://127.0.0.1:4317".to_owned()),
    }
}

fn meter_provider(
    config: &TracingConfig,
    metrics: &MetricsConfig,
    server_name: &str,
) -> Result<SdkMeterProvider, String> {
    let endpoint = collector(config, "metrics");
    let exporter = match config.protocol {
        OtlpProtocol::Http => opentelemetry_otlp::MetricExporter::builder()
            .with_http()
            .with_protocol(opentelemetry_otlp::Protocol::HttpBinary)
            .with_endpoint(endpoint)
            .build(),
        OtlpProtocol::Grpc => {
            opentelemetry_otlp::MetricExporter::builder().with_tonic().with_endpoint(endpoint).build()
        }
    }
    .map_err(|e| format!("metrics: cannot build the OTLP exporter: {e}"))?;
    let reader = opentelemetry_sdk::metrics::periodic_reader_with_async_runtime::PeriodicReader::builder(
        exporter,
        opentelemetry_sdk::runtime::Tokio,
    )
    .with_interval(metrics.export_interval.max(std::time::Duration::from_millis(100)))
    .build();
    Ok(SdkMeterProvider::builder().with_reader(reader).with_resource(resource(config, server_name)).build())
}

fn provider(config: &TracingConfig, server_name: &str) -> Result<SdkTracerProvider, String> {
    let endpoint = collector(config, "traces");
    let exporter = match config.protocol {
        OtlpProtocol::Http => opentelemetry_otlp::SpanExporter::builder()
            .with_http()
            .with_protocol(opentelemetry_otlp::Protocol::HttpBinary)
            .with_endpoint(endpoint)
            .build(),
        OtlpProtocol::Grpc => opentelemetry_otlp::SpanExporter::builder().with_tonic().with_endpoint(endpoint).build(),
    }
    .map_err(|e| format!("tracing: cannot build the OTLP exporter: {e}"))?;
    let resource = resource(config, server_name);
    let mut exporter = exporter;
    opentelemetry_sdk::trace::SpanExporter::set_resource(&mut exporter, &resource);
    Ok(SdkTracerProvider::builder()
        .with_span_processor(SpanBatcher::start(exporter, config.export_interval))
        .with_sampler(Sampler::ParentBased(Box::new(Sampler::TraceIdRatioBased(config.sample_ratio.clamp(0.0, 1.0)))))
        .with_resource(resource)
        .build())
}

/// `params._meta` (or HTTP headers copied into it) as a propagation carrier.
struct Meta<'a>(&'a Map<String, Value>);

impl Extractor for Meta<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(Value::as_str)
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(String::as_str).collect()
    }
}

/// Makes `span` continue the trace named by `traceparent` (and `tracestate`) in `meta`, when there is one.
pub(crate) fn continue_trace(span: &tracing::Span, meta: &Map<String, Value>) {
    if !meta.contains_key("traceparent") {
        return;
    }
    let cx = TraceContextPropagator::new().extract(&Meta(meta));
    if cx.span().span_context().is_valid() {
        let _ = span.set_parent(cx);
    }
}

/// The W3C trace and span ids of a span, when it is exported.
pub(crate) fn ids(span: &tracing::Span) -> Option<(opentelemetry::trace::TraceId, opentelemetry::trace::SpanId)> {
    let cx = span.context();
    let span_ref = cx.span();
    let sc = span_ref.span_context();
    sc.is_valid().then(|| (sc.trace_id(), sc.span_id()))
}

/// W3C headers from a map of HTTP header values (lower-case names), for copying into `_meta`.
pub(crate) fn w3c_headers(get: impl Fn(&str) -> Option<String>) -> HashMap<&'static str, String> {
    ["traceparent", "tracestate"].into_iter().filter_map(|k| get(k).map(|v| (k, v))).collect()
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex, PoisonError};

    use super::*;

    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Captured {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap_or_else(PoisonError::into_inner).extend_from_slice(bytes);
            Ok(bytes.len())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn text_logs_escape_what_clients_and_tokens_send() {
        let captured = Captured::default();
        let writer = captured.clone();
        let subscriber = tracing_subscriber::registry().with(log_layer(LogFormat::Text, move || writer.clone()));
        let forged = "agent-7\n2030-01-01T00:00:00Z  INFO forged: admin logged in \x1b[2J";
        tracing::subscriber::with_default(subscriber, || {
            let span = tracing::info_span!("request", method = %"tools/call\r\nX", tool = %"t\u{1b}[31m");
            let _entered = span.enter();
            tracing::info!(principal = %forged, "tool call refused: insufficient scope");
            tracing::error!(kind = "tool", name = "t", panic = %"boom\nforged line", "handler panicked");
            tracing::warn!("a message\nwith a break: {}", forged);
        });
        let out = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
        assert_eq!(out.lines().count(), 3, "one line per event:\n{out}");
        assert!(!out.contains('\x1b') && !out.contains('\r'), "{out:?}");
        assert!(
            out.contains(r"principal=agent-7\n2030-01-01T00:00:00Z  INFO forged: admin logged in \u{1b}[2J"),
            "{out}"
        );
        assert!(out.contains(r"method=tools/call\r\nX") && out.contains(r"tool=t\u{1b}[31m"), "span fields: {out}");
        assert!(out.contains(r"panic=boom\nforged line"), "{out}");
        assert!(out.contains(r"a message\nwith a break"), "{out}");
    }
}
