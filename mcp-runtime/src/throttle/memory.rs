//! The in-memory limiter: GCRA through `governor`, one keyed limiter per distinct quota, made when a call
//! first meets that quota (a tool added at run time, a reload that changes a rate).
//!
//! Keyed state grows with the callers seen; `retain` (run on a timer by the throttle layer,
//! `throttling.retain_interval`) drops every key whose budget is full again, and then every quota's limiter
//! left without keys, so memory stays bounded by the callers and quotas active within a window.

use std::collections::BTreeMap;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex, PoisonError};

use arc_swap::ArcSwap;
use governor::clock::{Clock, DefaultClock};
use governor::middleware::NoOpMiddleware;
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Quota as GovernorQuota, RateLimiter};

use super::{BoxFuture, Decision, Limit, Limiter, LimiterError, Quota};

type Keyed<C> = RateLimiter<String, DefaultKeyedStateStore<String>, C, NoOpMiddleware<<C as Clock>::Instant>>;
/// By quota: a few at most in practice, found in a couple of comparisons (cheaper than hashing one).
type Limiters<C> = BTreeMap<Quota, Arc<Keyed<C>>>;

/// GCRA limits in this process's memory.
pub struct MemoryLimiter<C: Clock = DefaultClock> {
    /// Read on every call without a lock; replaced whole (rarely) when a quota is added or dropped.
    limiters: ArcSwap<Limiters<C>>,
    /// Serialises the replacements.
    writing: Mutex<()>,
    clock: C,
}

impl<C: Clock> std::fmt::Debug for MemoryLimiter<C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryLimiter").field("quotas", &self.limiters.load().keys().collect::<Vec<_>>()).finish()
    }
}

impl MemoryLimiter {
    /// A limiter, on the monotonic clock, with limiters for these quotas made at once (any other quota gets
    /// its limiter when a call first meets it).
    pub fn new(quotas: impl IntoIterator<Item = Quota>) -> Self {
        Self::with_clock(quotas, DefaultClock::default())
    }
}

impl<C: Clock + Clone> MemoryLimiter<C> {
    /// A limiter on `clock` (tests use governor's `FakeRelativeClock`), with limiters for these quotas made
    /// at once.
    pub fn with_clock(quotas: impl IntoIterator<Item = Quota>, clock: C) -> Self {
        let limiters = quotas.into_iter().map(|q| (q, Arc::new(keyed(q, &clock)))).collect();
        Self { limiters: ArcSwap::from_pointee(limiters), writing: Mutex::new(()), clock }
    }

    /// Checks the limits in order, spending each that allows, and stops at the first that refuses.
    pub fn decide(&self, limits: &[Limit]) -> Decision {
        let mut limiters = self.limiters.load();
        for limit in limits {
            if !limiters.contains_key(&limit.quota) {
                self.add(limit.quota);
                limiters = self.limiters.load();
            }
            let Some(limiter) = limiters.get(&limit.quota) else {
                debug_assert!(false, "the limiter of {:?} was just made", limit.quota);
                continue;
            };
            if let Err(not_until) = limiter.check_key(&limit.key) {
                return Decision::Deny { scope: limit.scope, retry_after: not_until.wait_time_from(self.clock.now()) };
            }
        }
        Decision::Allow
    }

    /// Makes the limiter of `quota` (unless another call just did).
    fn add(&self, quota: Quota) {
        let _writing = self.writing.lock().unwrap_or_else(PoisonError::into_inner);
        let current = self.limiters.load();
        if current.contains_key(&quota) {
            return;
        }
        let mut next = Limiters::clone(&current);
        next.insert(quota, Arc::new(keyed(quota, &self.clock)));
        self.limiters.store(Arc::new(next));
    }

    /// Drops the state of every key whose budget is full again, then the limiters left without keys. A
    /// call that read the limiters just before one is dropped spends on the dropped one: at most one call
    /// per idle quota and sweep goes uncounted, and only on a quota nobody had used for a whole sweep.
    pub fn retain(&self) {
        let _writing = self.writing.lock().unwrap_or_else(PoisonError::into_inner);
        let current = self.limiters.load_full();
        for limiter in current.values() {
            limiter.retain_recent();
            limiter.shrink_to_fit();
        }
        if current.values().any(|l| l.is_empty()) {
            let kept = current.iter().filter(|(_, l)| !l.is_empty()).map(|(q, l)| (*q, Arc::clone(l))).collect();
            self.limiters.store(Arc::new(kept));
        }
    }

    /// Keys held in memory, over every quota.
    pub fn len(&self) -> usize {
        self.limiters.load().values().map(|l| l.len()).sum()
    }

    /// Whether no key is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// How many quotas have a limiter now.
    pub fn quotas(&self) -> usize {
        self.limiters.load().len()
    }
}

fn keyed<C: Clock + Clone>(q: Quota, clock: &C) -> Keyed<C> {
    let burst = NonZeroU32::new(q.burst).unwrap_or(NonZeroU32::MIN);
    let quota = GovernorQuota::with_period(q.interval)
        .unwrap_or_else(|| GovernorQuota::per_second(NonZeroU32::MAX))
        .allow_burst(burst);
    RateLimiter::new(quota, DefaultKeyedStateStore::default(), clock.clone())
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

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use governor::clock::FakeRelativeClock;

    use super::*;
    use crate::throttle::Scope;

    fn limit(key: &str, per_second: u32) -> Limit {
        let quota = Quota { interval: Duration::from_secs(1) / per_second, burst: per_second };
        Limit { scope: Scope::Tool, key: key.to_owned(), quota }
    }

    #[test]
    fn quotas_appear_when_first_met_and_go_when_idle() {
        let clock = FakeRelativeClock::default();
        let limiter = MemoryLimiter::with_clock([], clock.clone());
        assert_eq!(limiter.quotas(), 0);
        let two = [limit("a", 2)];
        assert_eq!(limiter.decide(&two), Decision::Allow);
        assert_eq!(limiter.decide(&two), Decision::Allow);
        assert!(matches!(limiter.decide(&two), Decision::Deny { scope: Scope::Tool, .. }), "the new quota counts");
        assert_eq!(limiter.decide(&[limit("a", 5)]), Decision::Allow, "another quota, another limiter");
        assert_eq!(limiter.quotas(), 2);
        limiter.retain();
        assert_eq!(limiter.quotas(), 2, "budgets still refilling keep their limiter");
        clock.advance(Duration::from_secs(2));
        limiter.retain();
        assert_eq!((limiter.quotas(), limiter.len()), (0, 0), "full budgets and idle quotas are dropped");
        assert_eq!(limiter.decide(&two), Decision::Allow, "and come back when met again");
    }
}
