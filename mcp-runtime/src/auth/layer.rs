//! [`AuthorizeLayer`]: per-tool scopes, checked on every `tools/call`.

use std::collections::HashMap;
use std::sync::Arc;

use tower::Layer;

use super::service::Authorize;
use crate::server::App;

/// Refuses a `tools/call` whose principal lacks a scope the tool requires (`#[mcp_tool(scopes = [...])]`):
/// −32011 naming every required and every missing scope (HTTP 403 `insufficient_scope`). Does nothing
/// when the server authenticates nobody. Cheap to clone.
#[derive(Debug, Clone)]
pub struct AuthorizeLayer {
    pub(crate) scopes: Arc<HashMap<&'static str, &'static [&'static str]>>,
    pub(crate) enforce: bool,
}

impl AuthorizeLayer {
    /// The layer for a server's tools; `enforce` is false when nobody is authenticated.
    pub fn new(app: &App, enforce: bool) -> Self {
        let scopes =
            app.registry().iter().filter(|t| !t.spec.scopes.is_empty()).map(|t| (t.spec.name, t.spec.scopes)).collect();
        Self { scopes: Arc::new(scopes), enforce }
    }
}

impl<S> Layer<S> for AuthorizeLayer {
    type Service = Authorize<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Authorize { inner, layer: self.clone() }
    }
}
