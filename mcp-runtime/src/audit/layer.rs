//! [`AuditLayer`]: the outermost stage of the corridor.

use std::collections::HashMap;
use std::sync::Arc;

use tower::Layer;

use super::service::Audit;
use super::{Auditor, Marks};
use crate::server::App;

/// Records every request that enters the corridor. Cheap to clone.
#[derive(Clone)]
pub struct AuditLayer {
    pub(crate) auditor: Arc<Auditor>,
    pub(crate) marks: Arc<HashMap<Box<str>, Marks>>,
}

impl std::fmt::Debug for AuditLayer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuditLayer").field("auditor", &self.auditor).finish_non_exhaustive()
    }
}

impl AuditLayer {
    /// The layer for `app`'s tools (their `#[audit(...)]` marks), writing through `auditor`.
    pub fn new(app: &App, auditor: Arc<Auditor>) -> Self {
        let marks = app
            .registry()
            .iter()
            .map(|t| {
                (
                    t.tool.name().into(),
                    Marks { redact: t.tool.audit_redact().into(), clear: t.tool.audit_clear().into() },
                )
            })
            .collect();
        Self { auditor, marks: Arc::new(marks) }
    }
}

impl<S> Layer<S> for AuditLayer {
    type Service = Audit<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Audit { inner, layer: self.clone() }
    }
}
