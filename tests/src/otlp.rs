//! An OpenTelemetry collector over OTLP/HTTP (protobuf), for a server under test to export to.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use axum::body::Bytes;
use axum::http::StatusCode;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use prost::Message as _;
use tokio::net::TcpListener;

/// A collector that decodes what is posted to `/v1/traces` and counts its spans, and accepts
/// `/v1/metrics`; made with [`OtlpReceiver::keeping`], it also keeps every body for the test to decode.
#[derive(Clone, Default)]
pub struct OtlpReceiver {
    spans: Arc<AtomicU64>,
    kept: Option<Arc<Mutex<Posted>>>,
}

/// The bodies posted, per signal.
#[derive(Default)]
struct Posted {
    traces: Vec<Bytes>,
    metrics: Vec<Bytes>,
}

impl OtlpReceiver {
    /// One that counts spans and keeps nothing (a long run exports more than memory holds).
    pub fn counting() -> Self {
        Self::default()
    }

    /// One that also keeps every body posted.
    pub fn keeping() -> Self {
        Self { kept: Some(Arc::default()), ..Self::default() }
    }

    /// Serves it on a loopback port of its own, until the runtime ends; returns its endpoint
    /// (`http://127.0.0.1:PORT`, under which the exporter posts to `/v1/traces` and `/v1/metrics`).
    ///
    /// # Panics
    /// When no loopback port can be bound.
    pub async fn start(&self) -> String {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("a loopback port");
        let endpoint = format!("http://{}", listener.local_addr().expect("a bound address"));
        let (traces, metrics) = (self.clone(), self.clone());
        let app = axum::Router::new()
            .route("/v1/traces", axum::routing::post(move |body: Bytes| async move { traces.traces_posted(body) }))
            .route("/v1/metrics", axum::routing::post(move |body: Bytes| async move { metrics.metrics_posted(body) }));
        tokio::spawn(async move { axum::serve(listener, app).await });
        endpoint
    }

    fn traces_posted(&self, body: Bytes) -> StatusCode {
        if let Some(kept) = &self.kept {
            // Kept before it is decoded: a test that decodes what it got sees a malformed body too.
            kept.lock().unwrap_or_else(PoisonError::into_inner).traces.push(body.clone());
        }
        let Ok(request) = ExportTraceServiceRequest::decode(body) else { return StatusCode::BAD_REQUEST };
        let spans: usize = request.resource_spans.iter().flat_map(|r| &r.scope_spans).map(|s| s.spans.len()).sum();
        self.spans.fetch_add(spans as u64, Ordering::SeqCst);
        StatusCode::OK
    }

    fn metrics_posted(&self, body: Bytes) -> StatusCode {
        if let Some(kept) = &self.kept {
            kept.lock().unwrap_or_else(PoisonError::into_inner).metrics.push(body);
        }
        StatusCode::OK
    }

    /// How many spans it received so far.
    pub fn spans(&self) -> u64 {
        self.spans.load(Ordering::SeqCst)
    }

    /// The bodies posted to `/v1/traces` so far (none unless [`OtlpReceiver::keeping`]).
    pub fn traces(&self) -> Vec<Bytes> {
        self.kept.as_ref().map(|k| k.lock().unwrap_or_else(PoisonError::into_inner).traces.clone()).unwrap_or_default()
    }

    /// The bodies posted to `/v1/metrics` so far (none unless [`OtlpReceiver::keeping`]).
    pub fn metrics(&self) -> Vec<Bytes> {
        self.kept.as_ref().map(|k| k.lock().unwrap_or_else(PoisonError::into_inner).metrics.clone()).unwrap_or_default()
    }
}
