//! The soak's phases and when each begins: every fault in turn, each a share of the whole run.

use std::time::Duration;

/// The soak's phases, in order, each a share of the whole run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Phase {
    Baseline,
    RedisDown,
    RedisBack,
    JwksDown,
    JwksBack,
    AuditStall,
    AuditBack,
    Sigterm,
}

pub(crate) const PHASES: &[(Phase, f64)] = &[
    (Phase::Baseline, 0.14),
    (Phase::RedisDown, 0.14),
    (Phase::RedisBack, 0.12),
    (Phase::JwksDown, 0.14),
    (Phase::JwksBack, 0.12),
    (Phase::AuditStall, 0.14),
    (Phase::AuditBack, 0.15),
    (Phase::Sigterm, 0.05),
];

impl Phase {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Phase::Baseline => "baseline",
            Phase::RedisDown => "redis stopped",
            Phase::RedisBack => "redis restarted",
            Phase::JwksDown => "jwks failing",
            Phase::JwksBack => "jwks recovered",
            Phase::AuditStall => "audit sink stalled",
            Phase::AuditBack => "audit sink drained",
            Phase::Sigterm => "sigterm",
        }
    }
}

/// When each phase starts, from the soak's start.
pub(crate) struct Timeline {
    starts: Vec<(Phase, Duration)>,
    total: Duration,
}

impl Timeline {
    pub(crate) fn new(total: Duration) -> Self {
        let mut at = Duration::ZERO;
        let starts = PHASES
            .iter()
            .map(|&(phase, share)| {
                let start = at;
                at += total.mul_f64(share);
                (phase, start)
            })
            .collect();
        Self { starts, total }
    }

    pub(crate) fn start(&self, phase: Phase) -> Duration {
        self.starts.iter().find(|(p, _)| *p == phase).map(|(_, at)| *at).expect("every phase has a start")
    }

    pub(crate) fn end(&self, phase: Phase) -> Duration {
        self.starts.iter().skip_while(|(p, _)| *p != phase).nth(1).map_or(self.total, |(_, at)| *at)
    }

    pub(crate) fn phase_at(&self, t: Duration) -> Phase {
        self.starts.iter().rev().find(|(_, at)| *at <= t).map_or(Phase::Baseline, |(p, _)| *p)
    }
}
