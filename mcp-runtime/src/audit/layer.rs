//! [`AuditLayer`]: the outermost stage of the corridor.

use std::sync::Arc;

use tower::Layer;

use super::Auditor;
use super::service::Audit;
use crate::server::App;

/// Records every request that enters the corridor. Cheap to clone.
#[derive(Clone)]
pub struct AuditLayer {
    pub(crate) auditor: Arc<Auditor>,
    /// What is served: each call's tool, for its `#[audit(...)]` marks.
    pub(crate) app: App,
}

impl std::fmt::Debug for AuditLayer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuditLayer").field("auditor", &self.auditor).finish_non_exhaustive()
    }
}

impl AuditLayer {
    /// The layer for `app`'s tools (their `#[audit(...)]` marks, read per call: tools come and go),
    /// writing through `auditor`.
    pub fn new(app: &App, auditor: Arc<Auditor>) -> Self {
        Self { auditor, app: app.clone() }
    }
}

impl<S> Layer<S> for AuditLayer {
    type Service = Audit<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Audit { inner, layer: self.clone() }
    }
}
