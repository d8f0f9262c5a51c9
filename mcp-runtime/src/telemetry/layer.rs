//! [`TraceLayer`]: the corridor's first stage.

use tower::Layer;

use super::service::Trace;

/// Opens each request's span. Cheap to clone.
#[derive(Debug, Clone, Copy)]
pub struct TraceLayer {
    pub(crate) trust_incoming: bool,
}

impl TraceLayer {
    /// `trust_incoming`: continue the client's `traceparent` instead of starting a trace per request.
    pub fn new(trust_incoming: bool) -> Self {
        Self { trust_incoming }
    }
}

impl<S> Layer<S> for TraceLayer {
    type Service = Trace<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Trace { inner, layer: *self }
    }
}
