//! [`TraceLayer`]: the corridor's first stage.

use std::sync::Arc;

use tower::Layer;

use super::metrics::Metrics;
use super::service::Trace;

/// Opens each request's span and records its metrics. Cheap to clone.
#[derive(Debug, Clone)]
pub struct TraceLayer {
    pub(crate) trust_incoming: bool,
    pub(crate) metrics: Option<Arc<Metrics>>,
}

impl TraceLayer {
    /// `trust_incoming`: continue the client's `traceparent` instead of starting a trace per request.
    pub fn new(trust_incoming: bool) -> Self {
        Self { trust_incoming, metrics: None }
    }

    /// Also records every request's duration and outcome in `metrics`.
    #[must_use]
    pub fn with_metrics(mut self, metrics: Arc<Metrics>) -> Self {
        self.metrics = Some(metrics);
        self
    }
}

impl<S> Layer<S> for TraceLayer {
    type Service = Trace<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Trace { inner, layer: self.clone() }
    }
}
