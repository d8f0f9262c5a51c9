//! Rate limiting: GCRA budgets per caller, per tool and for everyone, in memory or shared through Redis.
//!
//! A call meets, narrowest first: its tool's budget (each caller's own under `tool_scope = "principal"`,
//! the default), its caller's budget (`throttling.per_principal`), its tool's shared budget (under
//! `tool_scope = "global"`) and the global budget (`throttling.global`). The caller is the authenticated
//! principal, or the client's address when nobody is authenticated (never a session: the 2026-07-28
//! revision has none). Only `tools/call` spends quota unless `throttling.methods` adds `resources/read` or
//! `prompts/get`; the layer sits after authentication, authorization and validation, so a call refused by
//! any of them spends nothing. A tool's `max_concurrent` refuses a call at once rather than queueing it.
//!
//! The limits follow the server as it changes: a tool's own are resolved when it is called, from the tool
//! the server serves at that moment (so a tool added at run time brings its rate, and
//! `throttling.tools.<name>` applies to it too), and a configuration reload swaps the whole plan for the calls
//! that come after it ([`ThrottleLayer::reload`]) while the limiter keeps the budgets it holds.
//!
//! A refusal is −32012 with `data.retryAfterMs` (HTTP 429 + `Retry-After`, in whole seconds rounded up, so
//! never shorter than the true wait); a Redis store that cannot decide under `on_error = "closed"` is −32013
//! (HTTP 503).

mod layer;
mod memory;
mod plan;
mod redis;
mod service;

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

pub use layer::ThrottleLayer;
pub use memory::MemoryLimiter;
pub use plan::{Limit, Plan, Quota, Scope, ToolLimits};
pub use redis::{RedisLimiter, RedisStats};
pub use service::Throttle;

/// A boxed future, as [`Limiter::check`] returns.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// What a limiter decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Every limit allows the call; its budgets are spent.
    Allow,
    /// A limit refuses it.
    Deny {
        /// Which limit.
        scope: Scope,
        /// How long until that limit would allow it.
        retry_after: Duration,
    },
}

/// A limiter that cannot decide (Redis down under `on_error = "closed"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LimiterError {
    /// The store is unavailable.
    #[error("the rate limiter's store is unavailable")]
    Unavailable,
}

/// Where GCRA state lives: [`MemoryLimiter`] or [`RedisLimiter`].
pub trait Limiter: Send + Sync + 'static {
    /// Checks `limits` in order, spending the budget of each that allows, and stops at the first that refuses.
    fn check<'a>(&'a self, limits: &'a [Limit]) -> BoxFuture<'a, Result<Decision, LimiterError>>;

    /// Drops state that no longer matters (full budgets); called on a timer.
    fn retain(&self) {}

    /// Decisions the store could not make so far (its fallback applied instead); `None` for a store that
    /// cannot fail. Exported as `mcp_server_throttle_store_unavailable_total`.
    fn unavailable(&self) -> Option<u64> {
        None
    }
}
