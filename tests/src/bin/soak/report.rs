//! The verdict: every request judged by its phase and matched to its audit record, then the shutdown,
//! Redis, the JWKS, the metrics and the memory, written as a markdown report.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::process::ExitStatus;
use std::time::Duration;

use crate::load::{Kind, Outcome, Role, Sample};
use crate::observe::AuditSeen;
use crate::tasks::TaskSeen;
use crate::timeline::{PHASES, Phase, Timeline};
use crate::{HANG_LIMIT, Options, SHUTDOWN_GRACE};

/// What the run saw, to be judged.
pub(crate) struct Report<'a> {
    pub(crate) options: &'a Options,
    pub(crate) timeline: &'a Timeline,
    pub(crate) samples: &'a [Sample],
    pub(crate) tasks: &'a [TaskSeen],
    pub(crate) audit: &'a AuditSeen,
    pub(crate) rss: &'a [(Duration, u64)],
    pub(crate) events: &'a [(Duration, String)],
    pub(crate) exit: Option<ExitStatus>,
    pub(crate) exit_after: Duration,
    pub(crate) redis_keys: u64,
    pub(crate) verify: (bool, String),
    pub(crate) spans: u64,
    pub(crate) metrics: BTreeMap<String, f64>,
    pub(crate) jwks: (Duration, Duration, usize),
}

impl Report<'_> {
    /// Whether an answer is one the request's phase allows.
    fn allowed(&self, s: &Sample) -> bool {
        let t = &self.timeline;
        let end = s.sent + s.latency;
        let after_sigterm = end >= t.start(Phase::Sigterm);
        // A request the audit stall could touch: sent while it lasted, or soon after (the queue drains).
        let stalled = s.sent + s.latency >= t.start(Phase::AuditStall)
            && s.sent <= t.start(Phase::AuditBack) + Duration::from_secs(3);
        // The JWKS outage, and one refresh interval after it (the cache learns of `k2` at its next fetch).
        let (refresh, max_stale, _) = self.jwks;
        let jwks_out = end >= t.start(Phase::JwksDown) && s.sent <= t.start(Phase::JwksBack) + refresh * 2;
        // Keys go stale `max_stale` after the last good fetch. A fetch is due only once a request finds the
        // keys older than `refresh`, and it runs in a task of its own: the last good one may have ended up
        // to about two intervals before the outage began.
        let stale = end >= t.start(Phase::JwksDown) + max_stale.saturating_sub(refresh * 2);
        match s.outcome {
            Outcome::Transport => after_sigterm,
            Outcome::Hung => false,
            Outcome::AuditFull => stalled,
            // −32014 with an HTTP 503 is the audit queue; other 503s are the server going away.
            Outcome::Http(503) => after_sigterm,
            _ if s.role == Role::Attacker => {
                matches!(s.outcome, Outcome::Unauthenticated | Outcome::RateLimited)
                    || (jwks_out && stale && s.outcome == Outcome::AuthUnavailable)
            }
            Outcome::Unauthenticated => jwks_out && s.k2,
            // A key the cache could not learn of (`k2`) is "unavailable" at once; every key once stale.
            Outcome::AuthUnavailable => jwks_out && (s.k2 || stale),
            Outcome::Ok => !matches!(s.kind, Kind::BadArguments | Kind::UnknownTool),
            // A stock adjustment over its budget; a task whose outcome record found no place in the stalled
            // audit queue (−32012, `limit: audit_queue`: the creating call is recorded, refused).
            Outcome::RateLimited => s.kind == Kind::Adjust || (s.kind == Kind::TaskCreate && stalled),
            // A task's result when it was cancelled, a cancel that came after its end, a poll after its ttl.
            Outcome::InvalidParams if matches!(s.kind, Kind::TaskResult | Kind::TaskCancel | Kind::TaskGet) => true,
            Outcome::InvalidParams | Outcome::ToolError => matches!(s.kind, Kind::BadArguments | Kind::UnknownTool),
            _ => false,
        }
    }

    pub(crate) fn render(&self) -> (String, bool) {
        let mut out = String::new();
        let mut failures: Vec<String> = Vec::new();
        let total = self.samples.len();
        let answered = self.samples.iter().filter(|s| !matches!(s.outcome, Outcome::Transport | Outcome::Hung)).count();
        let _ = writeln!(
            out,
            "## Soak: {:.1} min, {} clients ({} well-behaved, 2 attackers), inventory example ({})\n",
            self.options.total.as_secs_f64() / 60.0,
            self.options.concurrency,
            self.options.concurrency - 2,
            self.options.server.display()
        );
        let _ = writeln!(out, "| at | event |\n|---|---|");
        for (at, what) in self.events {
            let _ = writeln!(out, "| {:.1} s | {what} |", at.as_secs_f64());
        }

        // Per phase: throughput, latency, outcomes.
        let _ = writeln!(
            out,
            "\n| phase | span | requests | req/s | p50 ms | p99 ms | max ms | outcomes |\n|---|---|---|---|---|---|---|---|"
        );
        let mut phases: BTreeMap<Phase, Vec<&Sample>> = BTreeMap::new();
        for s in self.samples {
            phases.entry(self.timeline.phase_at(s.sent)).or_default().push(s);
        }
        for &(phase, _) in PHASES {
            let Some(list) = phases.get(&phase) else { continue };
            let start = self.timeline.start(phase);
            let end = if phase == Phase::Sigterm {
                list.iter().map(|s| s.sent + s.latency).max().unwrap_or(start)
            } else {
                self.timeline.end(phase)
            };
            let span = end.saturating_sub(start).as_secs_f64().max(0.001);
            let mut latencies: Vec<Duration> = list
                .iter()
                .filter(|s| !matches!(s.outcome, Outcome::Transport | Outcome::Hung))
                .map(|s| s.latency)
                .collect();
            latencies.sort();
            let pct =
                |p: f64| latencies.get(((latencies.len() as f64 * p) as usize).min(latencies.len().saturating_sub(1)));
            let ms =
                |d: Option<&Duration>| d.map_or_else(|| "-".to_owned(), |d| format!("{:.1}", d.as_secs_f64() * 1e3));
            let mut outcomes: BTreeMap<String, usize> = BTreeMap::new();
            for s in list {
                *outcomes.entry(s.outcome.name()).or_default() += 1;
            }
            let outcomes = outcomes.iter().map(|(k, v)| format!("{k} {v}")).collect::<Vec<_>>().join(", ");
            let _ = writeln!(
                out,
                "| {} | {:.0}–{:.0} s | {} | {:.0} | {} | {} | {} | {outcomes} |",
                phase.name(),
                start.as_secs_f64(),
                end.as_secs_f64(),
                list.len(),
                latencies.len() as f64 / span,
                ms(pct(0.50)),
                ms(pct(0.99)),
                ms(latencies.last()),
            );
        }

        // Answers the phase does not allow.
        let unexpected: Vec<&Sample> = self.samples.iter().filter(|s| !self.allowed(s)).collect();
        let mut by_what: BTreeMap<(String, Kind, String), usize> = BTreeMap::new();
        for s in &unexpected {
            let phase = self.timeline.phase_at(s.sent).name().to_owned();
            *by_what.entry((phase, s.kind, s.outcome.name())).or_default() += 1;
        }
        if !unexpected.is_empty() {
            failures.push(format!(
                "{} request(s) got an answer their phase does not allow: {}",
                unexpected.len(),
                by_what.iter().map(|((p, k, o), n)| format!("{n} × {k:?} → {o} in {p}")).collect::<Vec<_>>().join("; ")
            ));
        }

        // Hangs.
        let slowest = self.samples.iter().filter(|s| s.outcome != Outcome::Transport).map(|s| s.latency).max();
        if let Some(slowest) = slowest
            && slowest > HANG_LIMIT
        {
            failures.push(format!("a request waited {slowest:.2?}, longer than the longest timeout ({HANG_LIMIT:?})"));
        }

        // Audit records against requests. A request refused at the HTTP edge (authentication, the lockout)
        // is recorded before its body is read, so without its id: those are matched by address and reason.
        let mut missing = 0;
        let mut duplicated = 0;
        let mut disagreeing = Vec::new();
        let mut refused_recorded = 0;
        let mut refused_unrecorded = 0;
        let mut unanswered_recorded = 0;
        let mut unanswered = 0;
        let mut accepted = 0;
        let mut matched = 0;
        let mut at_edge: HashMap<(String, String), usize> = HashMap::new();
        for s in self.samples {
            let records = self.audit.by_id.get(&s.id).map_or(&[][..], Vec::as_slice);
            let edge = match s.outcome {
                Outcome::Unauthenticated | Outcome::AuthUnavailable => Some("unauthenticated"),
                Outcome::RateLimited if s.role == Role::Attacker => Some("rate_limited"),
                _ => None,
            };
            match s.outcome {
                Outcome::AuditFull => {
                    if records.is_empty() {
                        refused_unrecorded += 1
                    } else {
                        refused_recorded += 1
                    }
                }
                Outcome::Transport | Outcome::Hung | Outcome::Http(_) => {
                    unanswered += 1;
                    unanswered_recorded += usize::from(!records.is_empty());
                    duplicated += usize::from(records.len() > 1);
                }
                _ if edge.is_some() => {
                    accepted += 1;
                    *at_edge.entry((s.source.to_string(), edge.unwrap_or_default().to_owned())).or_default() += 1;
                    duplicated += usize::from(!records.is_empty());
                }
                outcome => {
                    accepted += 1;
                    match records {
                        [] => missing += 1,
                        [reason] if outcome.audit_reasons(s.kind).contains(&reason.as_str()) => matched += 1,
                        [reason] => disagreeing.push(format!("{:?} {} recorded as {reason}", s.kind, outcome.name())),
                        _ => duplicated += 1,
                    }
                }
            }
        }
        // Edge records: as many per address and reason as edge refusals the clients saw.
        let mut edge_mismatch = Vec::new();
        let mut edge_matched = 0;
        let mut keys: Vec<&(String, String)> = at_edge.keys().chain(self.audit.without_id.keys()).collect();
        keys.sort();
        keys.dedup();
        for key in keys {
            let (want, got) =
                (at_edge.get(key).copied().unwrap_or(0), self.audit.without_id.get(key).copied().unwrap_or(0));
            edge_matched += want.min(got);
            if want != got {
                edge_mismatch.push(format!("{} {}: {want} refusals, {got} records", key.0, key.1));
            }
        }
        let sent: std::collections::HashSet<u64> = self.samples.iter().map(|s| s.id).collect();
        let strangers = self.audit.by_id.keys().filter(|id| !sent.contains(id)).count();
        let _ = writeln!(
            out,
            "\nAudit: {} records for {total} requests ({answered} answered). Accepted (answered, not refused for \
             a full audit queue): {accepted}; matched to exactly one record of the same outcome: {} (by request \
             id), {} (refused at the HTTP edge before the body was read: by address and reason). Missing {missing}, \
             duplicated {duplicated}, disagreeing with the answer {}, edge counts that differ {}, records of \
             requests never sent {strangers}, unparsable lines {}. Refused with −32014 (audit queue full): \
             {refused_unrecorded} without a record, {refused_recorded} with one. Unanswered (SIGTERM): \
             {unanswered}, of which {unanswered_recorded} ran and were recorded. Hash chain: {}.",
            self.audit.records,
            matched,
            edge_matched,
            disagreeing.len(),
            edge_mismatch.len(),
            self.audit.unparsable,
            if self.verify.0 { format!("verified ({})", self.verify.1) } else { format!("BROKEN ({})", self.verify.1) },
        );
        if missing + duplicated + strangers + refused_recorded + self.audit.unparsable > 0
            || !disagreeing.is_empty()
            || !edge_mismatch.is_empty()
        {
            failures.push(format!(
                "audit trail: {missing} missing, {duplicated} duplicated, {strangers} strangers, {refused_recorded} \
                 records of refused requests, {} unparsable, {} disagreeing (first: {:?}), edge mismatches: {}",
                self.audit.unparsable,
                disagreeing.len(),
                disagreeing.first(),
                edge_mismatch.join("; ")
            ));
        }
        if !self.verify.0 {
            failures.push(format!("the audit hash chain does not verify: {}", self.verify.1));
        }

        // Tasks: one outcome record each.
        let (text, task_failures) = crate::tasks::judge(self.tasks, &self.audit.task_outcomes, self.samples);
        out.push_str(&text);
        if let Some(dropped) = self.metrics.get("mcp_server_audit_dropped_total").filter(|n| **n > 0.0) {
            let _ = writeln!(
                out,
                "The server counted {dropped} audit records dropped by then (`mcp_server_audit_dropped_total`, \
                 scraped before SIGTERM)."
            );
        }
        failures.extend(task_failures);

        // Shutdown.
        let exit = match self.exit {
            Some(status) if status.success() => format!("exit 0, {:.2?} after SIGTERM", self.exit_after),
            Some(status) => {
                failures.push(format!("the server exited with {status} after SIGTERM"));
                format!("{status}")
            }
            None => {
                failures.push("the server did not exit after SIGTERM".into());
                "did not exit".into()
            }
        };
        if self.exit_after > SHUTDOWN_GRACE + Duration::from_secs(2) {
            failures.push(format!("the server took {:.2?} to exit (grace {SHUTDOWN_GRACE:?})", self.exit_after));
        }
        let _ = writeln!(out, "\nShutdown: {exit} (grace {SHUTDOWN_GRACE:?}).");

        // Redis back in use.
        let _ = writeln!(
            out,
            "Redis after its restart: {} limiter keys at the end of the recovery phase (an empty Redis was \
             started: keys mean the server uses it again).",
            self.redis_keys
        );
        if self.redis_keys == 0 {
            failures.push("Redis held no limiter keys after its restart: the server did not go back to it".into());
        }
        let (refresh, max_stale, fetches) = self.jwks;
        let _ = writeln!(
            out,
            "JWKS: refresh {refresh:.1?}, max stale {max_stale:.1?}, {fetches} fetches in all. Spans received by \
             the OTLP sink: {}.",
            self.spans
        );
        if !self.metrics.is_empty() {
            let list = self.metrics.iter().map(|(k, v)| format!("`{k}` {v}")).collect::<Vec<_>>().join(", ");
            let _ = writeln!(out, "Metrics scraped just before SIGTERM: {list}.");
        }

        // Memory.
        let rss_in = |from: Duration, to: Duration| -> Vec<u64> {
            self.rss.iter().filter(|(t, _)| *t >= from && *t < to).map(|(_, kib)| *kib).collect()
        };
        let mib = |kib: u64| kib as f64 / 1024.0;
        let _ = writeln!(out, "\n| phase | RSS min MiB | RSS max MiB |\n|---|---|---|");
        for &(phase, _) in PHASES {
            let values = rss_in(self.timeline.start(phase), self.timeline.end(phase));
            if let (Some(min), Some(max)) = (values.iter().min(), values.iter().max()) {
                let _ = writeln!(out, "| {} | {:.1} | {:.1} |", phase.name(), mib(*min), mib(*max));
            }
        }
        // Flat memory: after the first recovery phase (allocator pools and caches warmed up, Redis restarted),
        // the last steady phase peaks no higher than the first steady one, within 10 % and 2 MiB.
        let first = rss_in(self.timeline.start(Phase::RedisBack), self.timeline.end(Phase::RedisBack));
        let last = rss_in(self.timeline.start(Phase::AuditBack), self.timeline.end(Phase::AuditBack));
        if let (Some(&first), Some(&last)) = (first.iter().max(), last.iter().max()) {
            let bound = first + first / 10 + 2048;
            let _ = writeln!(
                out,
                "\nMemory: peak {:.1} MiB after Redis came back, {:.1} MiB after the audit stall (bound {:.1} MiB).",
                mib(first),
                mib(last),
                mib(bound)
            );
            if last > bound {
                failures.push(format!(
                    "resident memory grew: {:.1} MiB in the last steady phase against {:.1} MiB earlier",
                    mib(last),
                    mib(first)
                ));
            }
        } else {
            failures.push("no memory samples".into());
        }

        let passed = failures.is_empty();
        if passed {
            let _ = writeln!(out, "\n**Verdict: passed.**");
        } else {
            let _ = writeln!(out, "\n**Verdict: FAILED.**");
            for failure in &failures {
                let _ = writeln!(out, "- {failure}");
            }
        }
        (out, passed)
    }
}
