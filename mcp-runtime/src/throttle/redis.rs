//! The Redis limiter: the same GCRA, in one atomic Lua script every replica runs against one Redis.
//!
//! The script takes the time from Redis (`TIME`, integer microseconds), so replicas with skewed clocks agree;
//! it checks the call's limits in the plan's order, spending each that allows and stopping at the first that
//! refuses — the in-memory limiter's decisions, on shared state. Every key gets a TTL (its budget's refill
//! time plus a second). The script is sent once and then run by its SHA (`EVALSHA`, reloaded on `NOSCRIPT`).
//!
//! No call waits for Redis longer than `throttling.store.timeout`. When Redis fails or is too slow, the call
//! is decided by `on_error` — `open` admits it, `closed` refuses it (503), `local` asks this process's own
//! in-memory limiter — and Redis is left alone for a second before it is tried again, so an outage costs
//! each call nothing more. Every fallback is counted ([`RedisLimiter::stats`]).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use tokio::time::Instant;

use super::memory::MemoryLimiter;
use super::{BoxFuture, Decision, Limit, Limiter, LimiterError, Quota};
use crate::config::OnRedisError;

/// GCRA over the call's keys, narrowest first. ARGV[1]: the time in µs, or 0 for Redis `TIME` (only tests pass
/// a time); then, per key, its emission interval and delay tolerance in µs. Returns {0, 0} when every limit
/// allows, else {the refusing key's position, µs until it would allow}.
const SCRIPT: &str = r"
local now = tonumber(ARGV[1])
if now == 0 then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000000 + tonumber(t[2])
end
for i, key in ipairs(KEYS) do
  local interval = tonumber(ARGV[2 * i])
  local tolerance = tonumber(ARGV[2 * i + 1])
  local tat = tonumber(redis.call('GET', key)) or now
  local earliest = tat - tolerance
  if now < earliest then
    return {i, earliest - now}
  end
  local next_tat = math.max(tat, now) + interval
  redis.call('SET', key, string.format('%d', next_tat), 'PX', math.ceil((next_tat - now) / 1000) + 1000)
end
return {0, 0}
";

/// How long Redis is left alone after it failed.
const BACKOFF: Duration = Duration::from_secs(1);

/// Counts of what happened when Redis could not decide.
#[derive(Debug, Default)]
pub struct RedisStats {
    /// Calls Redis could not decide (error or timeout), or that came while it was left alone.
    pub unavailable: AtomicU64,
    /// Calls admitted by `on_error = "open"`.
    pub fallback_open: AtomicU64,
    /// Calls refused by `on_error = "closed"`.
    pub fallback_closed: AtomicU64,
    /// Calls decided by the local limiter (`on_error = "local"`).
    pub fallback_local: AtomicU64,
}

/// GCRA limits shared by every replica through Redis.
pub struct RedisLimiter {
    client: redis::Client,
    connection: tokio::sync::Mutex<Option<ConnectionManager>>,
    script: redis::Script,
    prefix: String,
    timeout: Duration,
    on_error: OnRedisError,
    local: MemoryLimiter,
    resting_until: Mutex<Option<Instant>>,
    stats: RedisStats,
}

impl std::fmt::Debug for RedisLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisLimiter")
            .field("prefix", &self.prefix)
            .field("timeout", &self.timeout)
            .field("on_error", &self.on_error)
            .finish_non_exhaustive()
    }
}

impl RedisLimiter {
    /// A limiter on the Redis at `url` for these quotas (the local fallback needs them). Nothing connects yet.
    ///
    /// # Errors
    /// A URL Redis cannot use.
    pub fn new(
        url: &str,
        prefix: String,
        timeout: Duration,
        on_error: OnRedisError,
        quotas: impl IntoIterator<Item = Quota>,
    ) -> Result<Self, String> {
        let client = redis::Client::open(url).map_err(|e| format!("throttling.store.url: {e}"))?;
        Ok(Self {
            client,
            connection: tokio::sync::Mutex::new(None),
            script: redis::Script::new(SCRIPT),
            prefix,
            timeout,
            on_error,
            local: MemoryLimiter::new(quotas),
            resting_until: Mutex::new(None),
            stats: RedisStats::default(),
        })
    }

    /// What happened when Redis could not decide.
    pub fn stats(&self) -> &RedisStats {
        &self.stats
    }

    /// Runs the script with an explicit time in µs (tests compare it with a reference model).
    ///
    /// # Errors
    /// Redis failed or timed out.
    pub async fn decide_at(&self, limits: &[Limit], now_us: u64) -> Result<Decision, String> {
        tokio::time::timeout(self.timeout, self.run(limits, now_us))
            .await
            .map_err(|_| format!("Redis did not answer within {:?}", self.timeout))?
    }

    async fn run(&self, limits: &[Limit], now_us: u64) -> Result<Decision, String> {
        let mut connection = self.connection().await?;
        let mut invocation = self.script.prepare_invoke();
        invocation.arg(now_us);
        for limit in limits {
            invocation.key(format!("{}{}", self.prefix, limit.key));
            invocation.arg(micros(limit.quota.interval)).arg(micros(limit.quota.tolerance()));
        }
        let (position, wait_us): (usize, u64) =
            invocation.invoke_async(&mut connection).await.map_err(|e| format!("Redis: {e}"))?;
        Ok(match position.checked_sub(1).and_then(|i| limits.get(i)) {
            None => Decision::Allow,
            Some(limit) => Decision::Deny { scope: limit.scope, retry_after: Duration::from_micros(wait_us) },
        })
    }

    async fn connection(&self) -> Result<ConnectionManager, String> {
        let mut slot = self.connection.lock().await;
        if let Some(connection) = slot.as_ref() {
            return Ok(connection.clone());
        }
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(self.timeout))
            .set_response_timeout(Some(self.timeout))
            .set_number_of_retries(1);
        let connection = ConnectionManager::new_with_config(self.client.clone(), config)
            .await
            .map_err(|e| format!("cannot connect to Redis: {e}"))?;
        *slot = Some(connection.clone());
        Ok(connection)
    }

    fn resting(&self) -> bool {
        self.resting_until.lock().unwrap_or_else(PoisonError::into_inner).is_some_and(|until| Instant::now() < until)
    }

    fn fallback(&self, limits: &[Limit]) -> Result<Decision, LimiterError> {
        self.stats.unavailable.fetch_add(1, Ordering::Relaxed);
        match self.on_error {
            OnRedisError::Open => {
                self.stats.fallback_open.fetch_add(1, Ordering::Relaxed);
                Ok(Decision::Allow)
            }
            OnRedisError::Closed => {
                self.stats.fallback_closed.fetch_add(1, Ordering::Relaxed);
                Err(LimiterError::Unavailable)
            }
            OnRedisError::Local => {
                self.stats.fallback_local.fetch_add(1, Ordering::Relaxed);
                Ok(self.local.decide(limits))
            }
        }
    }
}

fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}

impl Limiter for RedisLimiter {
    fn unavailable(&self) -> Option<u64> {
        Some(self.stats.unavailable.load(std::sync::atomic::Ordering::Relaxed))
    }

    fn check<'a>(&'a self, limits: &'a [Limit]) -> BoxFuture<'a, Result<Decision, LimiterError>> {
        Box::pin(async move {
            if limits.is_empty() {
                return Ok(Decision::Allow);
            }
            if self.resting() {
                return self.fallback(limits);
            }
            match self.decide_at(limits, 0).await {
                Ok(decision) => Ok(decision),
                Err(e) => {
                    // At most one attempt (and one warning) per BACKOFF while Redis is down.
                    *self.resting_until.lock().unwrap_or_else(PoisonError::into_inner) = Some(Instant::now() + BACKOFF);
                    tracing::warn!(error = %e, on_error = ?self.on_error, "the Redis rate limiter cannot decide: falling back");
                    self.fallback(limits)
                }
            }
        })
    }

    fn retain(&self) {
        self.local.retain();
    }
}
