//! A reference GCRA, written from its definition (the virtual scheduling algorithm of ITU-T I.371), to
//! check the runtime's limiters against: a call conforms when `now >= TAT - tolerance`, and then
//! `TAT = max(TAT, now) + interval`. Limits are checked in order; the first that refuses stops the
//! check, and the ones before it keep what they spent.

use std::collections::HashMap;
use std::time::Duration;

use mcp_runtime::config::ThrottlingConfig;
use mcp_runtime::throttle::Limit;

/// One limit of a call: its key, emission interval and delay tolerance, in any one time unit.
#[derive(Debug, Clone)]
pub struct ModelLimit {
    /// The key its state lives under.
    pub key: String,
    /// Time between two conforming calls at the steady rate.
    pub interval: u128,
    /// How far ahead of now the theoretical arrival time may run: `interval * (burst - 1)`.
    pub tolerance: u128,
}

/// Theoretical arrival times by key.
#[derive(Debug, Default)]
pub struct Model {
    tat: HashMap<String, u128>,
}

impl Model {
    /// `None` when every limit allows the call at `now`; else the refusing limit's position and the wait.
    pub fn decide(&mut self, limits: &[ModelLimit], now: u128) -> Option<(usize, u128)> {
        for (i, limit) in limits.iter().enumerate() {
            let tat = self.tat.get(&limit.key).copied().unwrap_or(now);
            let earliest = tat.saturating_sub(limit.tolerance);
            if now < earliest {
                return Some((i, earliest - now));
            }
            self.tat.insert(limit.key.clone(), tat.max(now) + limit.interval);
        }
        None
    }
}

/// The model's view of the runtime's limits, in the time unit `unit` gives (nanoseconds for governor,
/// microseconds for the Redis script).
pub fn model_limits(limits: &[Limit], unit: impl Fn(&Duration) -> u128) -> Vec<ModelLimit> {
    limits
        .iter()
        .map(|l| ModelLimit {
            key: l.key.clone(),
            interval: unit(&l.quota.interval),
            tolerance: unit(&l.quota.tolerance()),
        })
        .collect()
}

/// The limits both model tests use on top of their tools' own rates: 5 calls a second per caller, 8 in all.
pub fn model_config() -> ThrottlingConfig {
    ThrottlingConfig {
        per_principal: Some("5/s".to_owned()),
        global: Some("8/s".to_owned()),
        ..ThrottlingConfig::default()
    }
}
