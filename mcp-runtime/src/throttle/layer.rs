//! [`ThrottleLayer`]: the rate-limit stage of the corridor.

use std::collections::HashMap;
use std::sync::{Arc, Weak};
use std::time::Duration;

use arc_swap::ArcSwap;
use tokio::sync::Semaphore;
use tower::Layer;

use super::service::Throttle;
use super::{Limiter, MemoryLimiter, Plan, Quota, RedisLimiter};
use crate::config::{StoreConfig, ThrottlingConfig};
use crate::server::{App, Tool};

/// Applies a server's [`Plan`] with its limiter. Cheap to clone; every clone (and every service it made)
/// sees a [`ThrottleLayer::reload`] at once.
#[derive(Clone)]
pub struct ThrottleLayer {
    pub(crate) shared: Arc<Shared>,
}

pub(crate) struct Shared {
    /// The rules in force: read without a lock on every call, replaced whole by a reload.
    pub(crate) rules: ArcSwap<Rules>,
    pub(crate) limiter: Arc<dyn Limiter>,
    /// Where tools are found when they are called; without it, the tools the plan resolved ahead.
    app: Option<App>,
}

/// One generation of the rules: the plan, the concurrency caps it sets, how often idle state is dropped.
pub(crate) struct Rules {
    pub(crate) plan: Arc<Plan>,
    /// Each capped tool's cap and the semaphore counting its running calls.
    pub(crate) concurrency: HashMap<String, (usize, Arc<Semaphore>)>,
    retain_every: Duration,
}

impl std::fmt::Debug for ThrottleLayer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ThrottleLayer").field("plan", &self.shared.rules.load().plan).finish_non_exhaustive()
    }
}

impl ThrottleLayer {
    /// The limiter the layer spends budgets with.
    pub fn limiter(&self) -> &Arc<dyn Limiter> {
        &self.shared.limiter
    }

    /// The layer `[throttling]` describes for `app`, whose tools are looked up when they are called (a tool
    /// added at run time is limited by its own rate, or by `throttling.tools.<name>`). Starts the timer that
    /// drops idle limiter state (inside a Tokio runtime).
    ///
    /// Always `Some`, even when nothing is limited at start: a reload, or a tool added later, may bring
    /// limits, and the stage costs a call nothing more than a look at the plan while none apply.
    ///
    /// # Errors
    /// A malformed rate, an unusable Redis URL.
    pub fn new(app: &App, config: &ThrottlingConfig, allow_inline_secrets: bool) -> Result<Option<Self>, String> {
        let plan = Plan::new(config, std::iter::empty::<Tool>())?;
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
        let layer = Self::build(plan, limiter, Some(app.clone()), config.retain_interval);
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(retain(Arc::downgrade(&layer.shared)));
        }
        Ok(Some(layer))
    }

    /// A layer over an explicit limiter (your own store, or a limiter on a fake clock in tests); the tools
    /// it limits are those `plan` resolved ahead. Starts no timer.
    pub fn with_limiter(plan: Plan, limiter: Arc<dyn Limiter>) -> Self {
        Self::build(plan, limiter, None, ThrottlingConfig::default().retain_interval)
    }

    fn build(plan: Plan, limiter: Arc<dyn Limiter>, app: Option<App>, retain_every: Duration) -> Self {
        let rules = Rules::new(plan, retain_every, None);
        Self { shared: Arc::new(Shared { rules: ArcSwap::from_pointee(rules), limiter, app }) }
    }

    /// The limits it applies now.
    pub fn plan(&self) -> Arc<Plan> {
        Arc::clone(&self.shared.rules.load().plan)
    }

    /// Applies a new `[throttling]` to every call from now on: the rates (`global`, `per_principal`,
    /// `default_tool`, `tools.*`), `tool_scope`, `methods`, the concurrency caps and `retain_interval`. The
    /// limiter and its state stay (budgets already spent under an unchanged quota stay spent), and a cap
    /// that did not change keeps counting the calls running under it. `store` is not read: a change of
    /// store needs a restart.
    ///
    /// # Errors
    /// A malformed rate; the rules in force then stay.
    pub fn reload(&self, config: &ThrottlingConfig) -> Result<(), String> {
        let plan = Plan::new(config, std::iter::empty::<Tool>())?;
        let current = self.shared.rules.load_full();
        self.shared.rules.store(Arc::new(Rules::new(plan, config.retain_interval, Some(&current))));
        Ok(())
    }

    /// Spends `caller`'s own budget and the global one for something that opens without entering the
    /// corridor (a standalone SSE stream): `None` when allowed, else the refusal to send.
    pub(crate) async fn spend_caller(&self, caller: &str) -> Option<crate::request::McpResponse> {
        let limits = self.shared.rules.load().plan.limits_for(caller, None);
        if limits.is_empty() {
            return None;
        }
        super::service::refusal(self.shared.limiter.check(&limits).await)
    }
}

impl Rules {
    /// The rules of `plan`; the semaphores of `previous` are kept for the caps that did not change.
    fn new(plan: Plan, retain_every: Duration, previous: Option<&Rules>) -> Self {
        let concurrency = plan
            .concurrency_caps()
            .map(|(name, cap)| {
                let kept = previous.and_then(|p| p.concurrency.get(name)).filter(|(was, _)| *was == cap);
                let semaphore = kept.map_or_else(|| Arc::new(Semaphore::new(cap)), |(_, s)| Arc::clone(s));
                (name.to_owned(), (cap, semaphore))
            })
            .collect();
        Self { plan: Arc::new(plan), concurrency, retain_every }
    }
}

impl Shared {
    /// The quota of the tool called `name` as the server serves it now: found in the live catalogue (or
    /// among the tools the plan resolved ahead). `None` for a tool without a rate, or no such tool.
    pub(crate) fn tool_quota(&self, plan: &Plan, name: &str) -> Option<Quota> {
        match &self.app {
            Some(app) => {
                let catalog = app.glance();
                plan.tool_limits(&catalog.tools().get(name)?.tool).quota
            }
            None => plan.tool(name)?.quota,
        }
    }
}

/// Drops idle limiter state every `retain_interval` (read again after each sweep: a reload may change it),
/// for as long as the layer lives.
async fn retain(shared: Weak<Shared>) {
    loop {
        let Some(every) = shared.upgrade().map(|s| s.rules.load().retain_every) else { return };
        tokio::time::sleep(every.max(Duration::from_secs(1))).await;
        let Some(shared) = shared.upgrade() else { return };
        shared.limiter.retain();
    }
}

impl<S> Layer<S> for ThrottleLayer {
    type Service = Throttle<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Throttle { inner, shared: Arc::clone(&self.shared) }
    }
}
