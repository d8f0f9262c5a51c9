//! Repeated authentication failures from one source are throttled before the credential store is touched.
//!
//! A fixed window per source address (IPv6 by /64, since one host holds a whole prefix): after
//! `security.max_failures` failures within `security.failure_window`, the source gets 429 until the window
//! ends. The table is bounded; expired windows are dropped when it fills.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use tokio::time::Instant;

/// Sources tracked at most.
const MAX_SOURCES: usize = 100_000;

#[derive(Debug)]
pub(crate) struct Failures {
    max: u32,
    window: Duration,
    sources: Mutex<HashMap<u128, (Instant, u32)>>,
}

impl Failures {
    pub(crate) fn new(max: u32, window: Duration) -> Self {
        Self { max, window, sources: Mutex::default() }
    }

    fn key(ip: IpAddr) -> u128 {
        match ip {
            IpAddr::V4(v4) => u128::from(v4.to_bits()),
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => u128::from(v4.to_bits()),
                None => v6.to_bits() & !u128::from(u64::MAX),
            },
        }
    }

    /// `Err(wait)` when the source is throttled.
    pub(crate) fn check(&self, ip: IpAddr) -> Result<(), Duration> {
        if self.max == 0 {
            return Ok(());
        }
        let sources = self.sources.lock().unwrap_or_else(PoisonError::into_inner);
        match sources.get(&Self::key(ip)) {
            Some((start, count)) if *count >= self.max && start.elapsed() < self.window => {
                Err(self.window.saturating_sub(start.elapsed()).max(Duration::from_secs(1)))
            }
            _ => Ok(()),
        }
    }

    /// Counts one failure of the source.
    pub(crate) fn record(&self, ip: IpAddr) {
        if self.max == 0 {
            return;
        }
        let now = Instant::now();
        let mut sources = self.sources.lock().unwrap_or_else(PoisonError::into_inner);
        if sources.len() >= MAX_SOURCES {
            sources.retain(|_, (start, _)| now.duration_since(*start) < self.window);
            if sources.len() >= MAX_SOURCES {
                return;
            }
        }
        let entry = sources.entry(Self::key(ip)).or_insert((now, 0));
        if now.duration_since(entry.0) >= self.window {
            *entry = (now, 0);
        }
        entry.1 = entry.1.saturating_add(1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_source_is_throttled_for_the_rest_of_its_window() {
        let f = Failures::new(3, Duration::from_secs(60));
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        let b: IpAddr = "2001:db8::1".parse().unwrap();
        let b_neighbour: IpAddr = "2001:db8::ffff".parse().unwrap();
        for _ in 0..3 {
            assert!(f.check(a).is_ok());
            f.record(a);
        }
        assert!(f.check(a).is_err());
        assert!(f.check(b).is_ok());
        for _ in 0..3 {
            f.record(b);
        }
        assert!(f.check(b_neighbour).is_err(), "one /64 is one source");
        tokio::time::advance(Duration::from_secs(61)).await;
        assert!(f.check(a).is_ok());
    }
}
