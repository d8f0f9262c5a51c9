//! [`ThrottleLayer`]: the rate-limit stage of the corridor.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Semaphore;
use tower::Layer;

use super::service::Throttle;
use super::{Limiter, MemoryLimiter, Plan, RedisLimiter};
use crate::config::{StoreConfig, ThrottlingConfig};
use crate::server::App;

/// Applies a server's [`Plan`] with its limiter. Cheap to clone.
#[derive(Clone)]
pub struct ThrottleLayer {
    pub(crate) shared: Arc<Shared>,
}

pub(crate) struct Shared {
    pub(crate) plan: Plan,
    pub(crate) limiter: Arc<dyn Limiter>,
    pub(crate) concurrency: HashMap<String, Arc<Semaphore>>,
}

impl std::fmt::Debug for ThrottleLayer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ThrottleLayer").field("plan", &self.shared.plan).finish_non_exhaustive()
    }
}

impl ThrottleLayer {
    /// The limiter the layer spends budgets with.
    pub fn limiter(&self) -> &Arc<dyn Limiter> {
        &self.shared.limiter
    }

    /// The layer `[throttling]` describes for `app`'s tools; `None` when nothing is limited. Starts the timer
    /// that drops idle limiter state (inside a Tokio runtime).
    ///
    /// # Errors
    /// A malformed rate, an unknown tool under `throttling.tools`, an unusable Redis URL.
    pub fn new(app: &App, config: &ThrottlingConfig, allow_inline_secrets: bool) -> Result<Option<Self>, String> {
        let plan = Plan::new(config, app.catalog().tools().iter().map(|t| t.tool.clone()))?;
        if plan.is_empty() {
            return Ok(None);
        }
        let limiter: Arc<dyn Limiter> = match &config.store {
            StoreConfig::Memory => Arc::new(MemoryLimiter::new(plan.quotas())),
            StoreConfig::Redis { url, on_error, timeout, prefix } => {
                // A URL without credentials is no secret; one with a password must come by reference.
                let inline_ok =
                    allow_inline_secrets || !matches!(url, crate::config::SecretRef::Inline(u) if u.contains('@'));
                let url = url.resolve(inline_ok).map_err(|e| format!("throttling.store.url: {e}"))?;
                Arc::new(RedisLimiter::new(url.expose(), prefix.clone(), *timeout, *on_error, plan.quotas())?)
            }
        };
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(retain(Arc::downgrade(&limiter), config.retain_interval));
        }
        Ok(Some(Self::with_limiter(plan, limiter)))
    }

    /// A layer over an explicit limiter (your own store, or a limiter on a fake clock in tests).
    pub fn with_limiter(plan: Plan, limiter: Arc<dyn Limiter>) -> Self {
        let concurrency = plan
            .tools()
            .filter_map(|(name, limits)| limits.max_concurrent.map(|n| (name.to_owned(), Arc::new(Semaphore::new(n)))))
            .collect();
        Self { shared: Arc::new(Shared { plan, limiter, concurrency }) }
    }

    /// The limits it applies.
    pub fn plan(&self) -> &Plan {
        &self.shared.plan
    }

    /// Spends `caller`'s own budget and the global one for something that opens without entering the
    /// corridor (a standalone SSE stream): `None` when allowed, else the refusal to send.
    pub(crate) async fn spend_caller(&self, caller: &str) -> Option<crate::request::McpResponse> {
        let limits = self.shared.plan.limits(caller, None);
        if limits.is_empty() {
            return None;
        }
        super::service::refusal(self.shared.limiter.check(&limits).await)
    }
}

async fn retain(limiter: std::sync::Weak<dyn Limiter>, every: Duration) {
    let mut tick = tokio::time::interval(every.max(Duration::from_secs(1)));
    tick.tick().await;
    loop {
        tick.tick().await;
        let Some(limiter) = limiter.upgrade() else { return };
        limiter.retain();
    }
}

impl<S> Layer<S> for ThrottleLayer {
    type Service = Throttle<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Throttle { inner, shared: Arc::clone(&self.shared) }
    }
}
