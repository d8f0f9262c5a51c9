//! Repeated authentication failures from one source are throttled before the credential store is touched.
//!
//! A fixed window per source address (IPv6 by /64, since one host holds a whole prefix): after
//! `security.max_failures` failures within `security.failure_window`, the source gets 429 until the window
//! ends. The table is bounded, and it never stops counting: when it fills, expired windows are dropped, then
//! the oldest eighth of the rest (sources under the limit before throttled ones), so a flood of new sources
//! makes room for itself instead of going uncounted.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use tokio::time::Instant;

use crate::request::client_network;

/// Sources tracked at most.
const MAX_SOURCES: usize = 100_000;

#[derive(Debug)]
pub(crate) struct Failures {
    max: u32,
    window: Duration,
    capacity: usize,
    sources: Mutex<HashMap<IpAddr, (Instant, u32)>>,
}

impl Failures {
    pub(crate) fn new(max: u32, window: Duration) -> Self {
        Self::with_capacity(max, window, MAX_SOURCES)
    }

    fn with_capacity(max: u32, window: Duration, capacity: usize) -> Self {
        Self { max, window, capacity: capacity.max(1), sources: Mutex::default() }
    }

    /// `Err(wait)` when the source is throttled.
    pub(crate) fn check(&self, ip: IpAddr) -> Result<(), Duration> {
        if self.max == 0 {
            return Ok(());
        }
        let sources = self.sources.lock().unwrap_or_else(PoisonError::into_inner);
        match sources.get(&client_network(ip)) {
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
        let key = client_network(ip);
        let mut sources = self.sources.lock().unwrap_or_else(PoisonError::into_inner);
        if sources.len() >= self.capacity && !sources.contains_key(&key) {
            self.make_room(&mut sources, now);
        }
        let entry = sources.entry(key).or_insert((now, 0));
        if now.duration_since(entry.0) >= self.window {
            *entry = (now, 0);
        }
        entry.1 = entry.1.saturating_add(1);
    }

    /// Drops expired windows, then, if the table is still full, the oldest eighth: a batch, so a flood of
    /// new sources costs one sort per `capacity / 8` of them rather than a scan each.
    fn make_room(&self, sources: &mut HashMap<IpAddr, (Instant, u32)>, now: Instant) {
        sources.retain(|_, (start, _)| now.duration_since(*start) < self.window);
        if sources.len() < self.capacity {
            return;
        }
        // Sources under the limit go first: evicting a throttled one would let it start over.
        let mut order: Vec<(bool, Instant)> =
            sources.values().map(|(start, count)| (*count >= self.max, *start)).collect();
        let evict = (self.capacity / 8).max(1).min(order.len());
        order.select_nth_unstable(evict - 1);
        let cutoff = order[evict - 1];
        let mut left = evict;
        sources.retain(|_, (start, count)| {
            let drop = left > 0 && (*count >= self.max, *start) <= cutoff;
            left -= usize::from(drop);
            !drop
        });
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

    #[tokio::test(start_paused = true)]
    async fn a_full_table_keeps_counting_new_sources() {
        let f = Failures::with_capacity(2, Duration::from_secs(60), 4);
        let throttled: IpAddr = "10.0.0.1".parse().unwrap();
        f.record(throttled);
        f.record(throttled);
        for i in 2..=4 {
            tokio::time::advance(Duration::from_secs(1)).await;
            f.record(IpAddr::from([10, 0, 0, i]));
        }
        let newcomer: IpAddr = "192.0.2.1".parse().unwrap();
        f.record(newcomer);
        f.record(newcomer);
        assert!(f.check(newcomer).is_err(), "a source that arrives when the table is full is still counted");
        assert!(f.check(throttled).is_err(), "sources under the limit are evicted before throttled ones");
        assert!(f.sources.lock().unwrap().len() <= 4, "the table stays bounded");
    }
}
