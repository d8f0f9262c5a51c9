//! Assembles the corridor: the layers every request passes through, in order.
//!
//! ```text
//! transport ─ decode, admit (revision, per-request _meta), cancellation, concurrency limit
//!   └ trace          (arrives with the observability issue)
//!      └ audit       (arrives with the audit issue: one record per request, whatever ends it)
//!         └ authenticate / authorize   (arrive with the authentication issue)
//!            └ user layers   (Server::layer; the last added runs first)
//!               └ validate   arguments against the tool's compiled input schema
//!                  └ throttle    (arrives with the rate-limiting issue)
//!                     └ execute + format   Router: timeout, panic isolation, revision-specific results
//! ```
//!
//! The missing stages are not stubbed: nothing in this build authenticates, throttles, audits or traces.

use tower::{Service, ServiceExt};

use crate::config::Config;
use crate::server::{App, McpRequest, McpResponse, McpService, Router, Server, StartError};
use crate::validate::ValidateLayer;

/// A checked server and its assembled corridor; what transports drive. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Pipeline {
    app: App,
    service: McpService,
    config: std::sync::Arc<Config>,
}

impl Pipeline {
    /// Checks the server and assembles the corridor.
    ///
    /// # Errors
    /// See [`StartError`]: no tools, duplicate names, missing state, uncompilable schemas.
    pub fn build(server: Server) -> Result<Self, StartError> {
        let (app, layers, config) = server.into_parts()?;
        let validate = ValidateLayer::new(&app)?;
        let mut service =
            McpService::new(tower::ServiceBuilder::new().layer(validate).service(Router::new(app.clone())));
        for layer in layers {
            service = layer(service);
        }
        Ok(Self { app, service, config: std::sync::Arc::new(config) })
    }

    /// The frozen server.
    pub fn app(&self) -> &App {
        &self.app
    }

    /// The configuration it runs with.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Runs one request through the corridor.
    pub async fn call(&self, request: McpRequest) -> McpResponse {
        let mut service = self.service.clone();
        match service.ready().await {
            Ok(ready) => match ready.call(request).await {
                Ok(response) => response,
                Err(never) => match never {},
            },
            Err(never) => match never {},
        }
    }
}
