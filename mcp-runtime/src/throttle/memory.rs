//! The in-memory limiter: GCRA through `governor`, one keyed limiter per distinct quota.
//!
//! Keyed state grows with the callers seen; `retain` (run on a timer by the throttle layer,
//! `throttling.retain_interval`) drops every key whose budget is full again, so memory stays bounded by the
//! callers active within a window.

use std::collections::HashMap;
use std::num::NonZeroU32;

use governor::clock::{Clock, DefaultClock};
use governor::middleware::NoOpMiddleware;
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Quota as GovernorQuota, RateLimiter};

use super::{BoxFuture, Decision, Limit, Limiter, LimiterError, Quota};

type Keyed<C> = RateLimiter<String, DefaultKeyedStateStore<String>, C, NoOpMiddleware<<C as Clock>::Instant>>;

/// GCRA limits in this process's memory.
pub struct MemoryLimiter<C: Clock = DefaultClock> {
    limiters: HashMap<Quota, Keyed<C>>,
    clock: C,
}

impl<C: Clock> std::fmt::Debug for MemoryLimiter<C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryLimiter").field("quotas", &self.limiters.keys().collect::<Vec<_>>()).finish()
    }
}

impl MemoryLimiter {
    /// A limiter for these quotas, on the monotonic clock.
    pub fn new(quotas: impl IntoIterator<Item = Quota>) -> Self {
        Self::with_clock(quotas, DefaultClock::default())
    }
}

impl<C: Clock + Clone> MemoryLimiter<C> {
    /// A limiter for these quotas on `clock` (tests use governor's `FakeRelativeClock`).
    pub fn with_clock(quotas: impl IntoIterator<Item = Quota>, clock: C) -> Self {
        let limiters = quotas
            .into_iter()
            .map(|q| {
                let burst = NonZeroU32::new(q.burst).unwrap_or(NonZeroU32::MIN);
                let quota = GovernorQuota::with_period(q.interval)
                    .unwrap_or_else(|| GovernorQuota::per_second(NonZeroU32::MAX))
                    .allow_burst(burst);
                (q, RateLimiter::new(quota, DefaultKeyedStateStore::default(), clock.clone()))
            })
            .collect();
        Self { limiters, clock }
    }

    /// Checks the limits in order, spending each that allows, and stops at the first that refuses.
    pub fn decide(&self, limits: &[Limit]) -> Decision {
        for limit in limits {
            let Some(limiter) = self.limiters.get(&limit.quota) else {
                // A quota the plan did not announce: nothing to count it in, so it cannot refuse.
                debug_assert!(false, "unknown quota {:?}", limit.quota);
                continue;
            };
            if let Err(not_until) = limiter.check_key(&limit.key) {
                return Decision::Deny { scope: limit.scope, retry_after: not_until.wait_time_from(self.clock.now()) };
            }
        }
        Decision::Allow
    }

    /// Drops the state of every key whose budget is full again.
    pub fn retain(&self) {
        for limiter in self.limiters.values() {
            limiter.retain_recent();
            limiter.shrink_to_fit();
        }
    }

    /// Keys held in memory, over every quota.
    pub fn len(&self) -> usize {
        self.limiters.values().map(RateLimiter::len).sum()
    }

    /// Whether no key is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl<C: Clock + Clone + Send + Sync + 'static> Limiter for MemoryLimiter<C>
where
    C::Instant: Send + Sync,
{
    fn check<'a>(&'a self, limits: &'a [Limit]) -> BoxFuture<'a, Result<Decision, LimiterError>> {
        Box::pin(std::future::ready(Ok(self.decide(limits))))
    }

    fn retain(&self) {
        MemoryLimiter::retain(self);
    }
}
