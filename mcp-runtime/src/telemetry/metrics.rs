//! Metrics: what the corridor counts, served in the Prometheus text format and exported over OTLP.
//!
//! | Prometheus                                    | OTLP                                | labels / attributes |
//! |-----------------------------------------------|-------------------------------------|---------------------|
//! | `mcp_server_operation_duration_seconds` (histogram: `_bucket`, `_sum`, `_count`) | `mcp.server.operation.duration` (s) | `mcp_method_name`, `gen_ai_tool_name` (tools/call), `error_type` (absent when it succeeded) |
//! | `mcp_server_auth_failures_total`              | `mcp.server.auth.failures`          | `reason`: `unauthenticated`, `forbidden` |
//! | `mcp_server_rate_limit_rejections_total`      | `mcp.server.rate_limit.rejections`  | `limit`: `global`, `principal`, `tool`, `concurrency`, `store_unavailable` |
//! | `mcp_server_refused_total`                    | `mcp.server.refused`                | `reason`: requests refused before the corridor |
//! | `mcp_server_tasks_total`                      | `mcp.server.tasks`                  | `status`: `completed`, `failed`, `cancelled` (tasks that ended) |
//! | `mcp_server_audit_dropped_total`              | `mcp.server.audit.dropped`          | |
//! | `mcp_server_throttle_store_unavailable_total` | `mcp.server.throttle.store_unavailable` | Redis could not decide (the fallback then applied) |
//!
//! Calls per tool are the histogram's `_count`; errors per tool, its `_count` with an `error_type`. The
//! histogram follows the MCP semantic conventions (`mcp.server.operation.duration`), with finer buckets
//! below 10 ms for tools that answer in microseconds.
//!
//! Recording is a few relaxed atomic additions on series laid out when the server starts: one per (method,
//! outcome) and per (tool, outcome). A tool added at run time gets its row on its first call, when the server
//! serves a tool of that name ([`Metrics::follow`]), up to [`Metrics::MAX_RUNTIME_TOOL_SERIES`] of them; the calls of
//! any further tool share the row `gen_ai_tool_name="(other)"`. Labels come only from the server's own names
//! (an unknown method is `other`, a tool the server does not serve has no tool label), so no client can grow
//! the number of series.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock, PoisonError, RwLock};
use std::time::Duration;

use opentelemetry::KeyValue;
use opentelemetry::metrics::{BoundHistogram, Histogram, Meter};

use crate::protocol::method;
use crate::request::Outcome;

/// Upper bounds of the latency buckets, in seconds (the MCP conventions' list, with four finer bounds below it).
const BOUNDS: [f64; 18] =
    [0.0001, 0.0005, 0.001, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0];

/// The same bounds in whole microseconds, for the hot path.
const BOUNDS_US: [u64; 18] = [
    100,
    500,
    1_000,
    5_000,
    10_000,
    20_000,
    50_000,
    100_000,
    200_000,
    500_000,
    1_000_000,
    2_000_000,
    5_000_000,
    10_000_000,
    30_000_000,
    60_000_000,
    120_000_000,
    300_000_000,
];

/// Methods with series of their own; anything else is counted as `other`.
const METHODS: [&str; 19] = [
    method::INITIALIZE,
    method::PING,
    method::SERVER_DISCOVER,
    method::LOGGING_SET_LEVEL,
    method::TOOLS_LIST,
    method::RESOURCES_LIST,
    method::RESOURCES_TEMPLATES_LIST,
    method::RESOURCES_READ,
    method::RESOURCES_SUBSCRIBE,
    method::RESOURCES_UNSUBSCRIBE,
    method::PROMPTS_LIST,
    method::PROMPTS_GET,
    method::COMPLETION_COMPLETE,
    method::TASKS_GET,
    method::TASKS_RESULT,
    method::TASKS_LIST,
    method::TASKS_CANCEL,
    method::TASKS_UPDATE,
    "other",
];

/// Every outcome has its column (series never used stay empty and are not printed).
const OUTCOMES: [Outcome; Outcome::ALL.len()] = Outcome::ALL;

const AUTH_REASONS: [&str; 2] = ["unauthenticated", "forbidden"];
const LIMITS: [&str; 5] = ["global", "principal", "tool", "concurrency", "store_unavailable"];
const REFUSALS: [&str; 4] = ["unauthenticated", "forbidden", "rate_limited", "invalid_request"];
const TASK_ENDS: [&str; 3] = ["completed", "failed", "cancelled"];

/// The `error_type` label of an outcome: its name, except that a request the server could not serve keeps
/// the label dashboards have known since the first release (`protocol_error`).
pub(crate) fn error_type(outcome: Outcome) -> &'static str {
    match outcome {
        Outcome::InvalidRequest => "protocol_error",
        other => other.as_str(),
    }
}

/// A labelled counter family, as both exporters name it.
struct Family {
    prometheus: &'static str,
    otlp: &'static str,
    help: &'static str,
    label: &'static str,
    values: &'static [&'static str],
    counts: fn(&Metrics) -> &[AtomicU64],
}

const FAMILIES: [Family; 4] = [
    Family {
        prometheus: "mcp_server_auth_failures_total",
        otlp: "mcp.server.auth.failures",
        help: "Requests refused for their credentials or scopes.",
        label: "reason",
        values: &AUTH_REASONS,
        counts: |m| &m.auth_failures,
    },
    Family {
        prometheus: "mcp_server_rate_limit_rejections_total",
        otlp: "mcp.server.rate_limit.rejections",
        help: "Calls refused by a rate limit, by budget.",
        label: "limit",
        values: &LIMITS,
        counts: |m| &m.rejections,
    },
    Family {
        prometheus: "mcp_server_refused_total",
        otlp: "mcp.server.refused",
        help: "Requests refused before the corridor (transport edge).",
        label: "reason",
        values: &REFUSALS,
        counts: |m| &m.refused,
    },
    Family {
        prometheus: "mcp_server_tasks_total",
        otlp: "mcp.server.tasks",
        help: "Tasks that ended, by how they ended.",
        label: "status",
        values: &TASK_ENDS,
        counts: |m| &m.tasks_ended,
    },
];

/// A counter kept elsewhere and read through a [`Probe`].
struct Probed {
    prometheus: &'static str,
    otlp: &'static str,
    help: &'static str,
    probe: fn(&Metrics) -> &OnceLock<Probe>,
}

const PROBED: [Probed; 2] = [
    Probed {
        prometheus: "mcp_server_audit_dropped_total",
        otlp: "mcp.server.audit.dropped",
        help: "Audit records dropped (audit.on_full = \"drop\", or the writer gone).",
        probe: |m| &m.audit_dropped,
    },
    Probed {
        prometheus: "mcp_server_throttle_store_unavailable_total",
        otlp: "mcp.server.throttle.store_unavailable",
        help: "Rate-limit decisions Redis could not make (the fallback applied).",
        probe: |m| &m.store_unavailable,
    },
];

/// One latency histogram: request count, sum and per-bucket counts (not cumulative; rendering adds them up).
struct Series {
    count: AtomicU64,
    sum_us: AtomicU64,
    buckets: [AtomicU64; BOUNDS.len()],
    /// The OTLP histogram bound to this series' attributes, made on first use.
    otel: OnceLock<BoundHistogram<f64>>,
}

impl Series {
    fn new() -> Self {
        Self {
            count: AtomicU64::new(0),
            sum_us: AtomicU64::new(0),
            buckets: std::array::from_fn(|_| AtomicU64::new(0)),
            otel: OnceLock::new(),
        }
    }

    fn record(&self, us: u64) {
        if let Some(i) = BOUNDS_US.iter().position(|&b| us <= b) {
            self.buckets[i].fetch_add(1, Ordering::Relaxed);
        }
        self.sum_us.fetch_add(us, Ordering::Relaxed);
        self.count.fetch_add(1, Ordering::Relaxed);
    }
}

/// Counters observed elsewhere (the audit queue, the Redis limiter), read when metrics are collected.
pub(crate) type Probe = Arc<dyn Fn() -> u64 + Send + Sync>;

/// See [`Metrics::MAX_RUNTIME_TOOL_SERIES`].
const MAX_RUNTIME_TOOL_SERIES: usize = 256;

/// See [`Metrics::OVERFLOW_TOOL`].
const OVERFLOW_TOOL: &str = "(other)";

/// The series of one tool added at run time.
struct RuntimeRow {
    name: Box<str>,
    series: Box<[Series]>,
}

/// Whether a tool name is one the server serves (set by [`Metrics::follow`]).
type Served = Box<dyn Fn(&str) -> bool + Send + Sync>;

/// The server's metrics. Built once per server; shared by the corridor, the transports and the exporters.
pub struct Metrics {
    tools: HashMap<Box<str>, usize>,
    tool_names: Vec<Box<str>>,
    /// `(METHODS.len() + tools + 2) × OUTCOMES.len()` series: methods, then the tools known at start, then
    /// "a tool we do not have", then the tools beyond the cap.
    series: Box<[Series]>,
    /// Rows of the tools added at run time, in the order they were first called; set once, never removed
    /// (a counter does not vanish when its tool does).
    runtime: Box<[OnceLock<RuntimeRow>]>,
    runtime_index: RwLock<HashMap<Box<str>, usize>>,
    served: OnceLock<Served>,
    auth_failures: [AtomicU64; AUTH_REASONS.len()],
    rejections: [AtomicU64; LIMITS.len()],
    refused: [AtomicU64; REFUSALS.len()],
    tasks_ended: [AtomicU64; TASK_ENDS.len()],
    audit_dropped: OnceLock<Probe>,
    store_unavailable: OnceLock<Probe>,
    histogram: Option<Histogram<f64>>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").field("tools", &self.tool_names).finish_non_exhaustive()
    }
}

impl Metrics {
    /// Tools added at run time that get series of their own; the calls of any beyond them are counted under
    /// [`Metrics::OVERFLOW_TOOL`].
    pub const MAX_RUNTIME_TOOL_SERIES: usize = MAX_RUNTIME_TOOL_SERIES;

    /// The `gen_ai_tool_name` of the calls of tools beyond [`Metrics::MAX_RUNTIME_TOOL_SERIES`]: parentheses
    /// are no tool-name characters, so no tool can share it.
    pub const OVERFLOW_TOOL: &str = OVERFLOW_TOOL;

    /// Series for these tools (those the server has at start). With a `meter`, durations are also recorded
    /// for OTLP and the counters are observed by it. Tools added later get series once [`Metrics::follow`]
    /// says where to look them up.
    pub fn new<'a>(tools: impl IntoIterator<Item = &'a str>, meter: Option<&Meter>) -> Arc<Self> {
        let tool_names: Vec<Box<str>> = tools.into_iter().map(Box::from).collect();
        let tools = tool_names.iter().enumerate().map(|(i, t)| (t.clone(), i)).collect();
        let rows = METHODS.len() + tool_names.len() + 2;
        let metrics = Arc::new(Self {
            tools,
            series: (0..rows * OUTCOMES.len()).map(|_| Series::new()).collect(),
            tool_names,
            runtime: (0..MAX_RUNTIME_TOOL_SERIES).map(|_| OnceLock::new()).collect(),
            runtime_index: RwLock::new(HashMap::new()),
            served: OnceLock::new(),
            auth_failures: Default::default(),
            rejections: Default::default(),
            refused: Default::default(),
            tasks_ended: Default::default(),
            audit_dropped: OnceLock::new(),
            store_unavailable: OnceLock::new(),
            histogram: meter.map(|m| {
                m.f64_histogram("mcp.server.operation.duration")
                    .with_unit("s")
                    .with_description("MCP request duration as observed on the server")
                    .with_boundaries(BOUNDS.to_vec())
                    .build()
            }),
        });
        if let Some(meter) = meter {
            observe_counters(&metrics, meter);
        }
        metrics
    }

    /// Gives tools added at run time series of their own: a call of a tool unknown at start gets a row
    /// when `app` serves a tool of that name (a name a client made up stays without a label), up to
    /// [`Metrics::MAX_RUNTIME_TOOL_SERIES`] of them. Only the first call counts.
    pub fn follow(&self, app: &crate::server::App) {
        // The server's handle, not its `App`: the `App` holds the tasks whose recorder holds these metrics.
        let served = app.handle().clone();
        self.follow_with(move |name| served.glance().tools().get(name).is_some());
    }

    fn follow_with(&self, served: impl Fn(&str) -> bool + Send + Sync + 'static) {
        let _ = self.served.set(Box::new(served));
    }

    /// Where the audit trail's and the limiter's own counters are read from.
    pub(crate) fn probe(&self, audit_dropped: Probe, store_unavailable: Option<Probe>) {
        let _ = self.audit_dropped.set(audit_dropped);
        if let Some(probe) = store_unavailable {
            let _ = self.store_unavailable.set(probe);
        }
    }

    /// The row of "a tool we do not have", then the overflow row.
    fn unknown_row(&self) -> usize {
        METHODS.len() + self.tool_names.len()
    }

    fn static_rows(&self) -> usize {
        METHODS.len() + self.tool_names.len() + 2
    }

    /// The series row of a request: found before it runs, so nothing of the request is kept for later.
    pub(crate) fn row(&self, method: &str, tool: Option<&str>) -> usize {
        if method == method::TOOLS_CALL {
            match tool {
                Some(tool) => match self.tools.get(tool) {
                    Some(&i) => METHODS.len() + i,
                    None => self.runtime_row(tool),
                },
                None => self.unknown_row(),
            }
        } else {
            METHODS.iter().position(|m| *m == method).unwrap_or(METHODS.len() - 1)
        }
    }

    /// The row of a tool unknown at start: its own when the server serves it (made on its first call while
    /// there is room), the overflow row beyond the cap, the unknown row for a name the server does not serve.
    fn runtime_row(&self, tool: &str) -> usize {
        let Some(served) = self.served.get() else { return self.unknown_row() };
        if let Some(&i) = self.runtime_index.read().unwrap_or_else(PoisonError::into_inner).get(tool) {
            return self.static_rows() + i;
        }
        if !served(tool) {
            return self.unknown_row();
        }
        let mut index = self.runtime_index.write().unwrap_or_else(PoisonError::into_inner);
        if let Some(&i) = index.get(tool) {
            return self.static_rows() + i;
        }
        let i = index.len();
        let Some(slot) = self.runtime.get(i) else {
            return self.unknown_row() + 1;
        };
        let _ =
            slot.set(RuntimeRow { name: tool.into(), series: (0..OUTCOMES.len()).map(|_| Series::new()).collect() });
        index.insert(tool.into(), i);
        if i + 1 == self.runtime.len() {
            tracing::warn!(
                cap = MAX_RUNTIME_TOOL_SERIES,
                "tools added at run time fill every metrics series kept for them: calls of any further tool are \
                 counted under gen_ai_tool_name=\"{OVERFLOW_TOOL}\""
            );
        }
        self.static_rows() + i
    }

    /// A row's series (one per outcome) and its labels: method and tool.
    fn row_series(&self, row: usize) -> Option<(&[Series], &str, Option<&str>)> {
        let width = OUTCOMES.len();
        if row >= self.static_rows() {
            let runtime = self.runtime.get(row - self.static_rows())?.get()?;
            return Some((&runtime.series, method::TOOLS_CALL, Some(&runtime.name)));
        }
        let series = self.series.get(row * width..(row + 1) * width)?;
        let (method, tool) = match row.checked_sub(METHODS.len()) {
            None => (METHODS[row], None),
            Some(i) if i < self.tool_names.len() => (method::TOOLS_CALL, Some(&*self.tool_names[i])),
            Some(i) if i == self.tool_names.len() => (method::TOOLS_CALL, None),
            Some(_) => (method::TOOLS_CALL, Some(OVERFLOW_TOOL)),
        };
        Some((series, method, tool))
    }

    /// Records one request that went through the corridor (`row` from [`Metrics::row`]).
    pub(crate) fn observe(&self, row: usize, outcome: Outcome, elapsed: Duration) {
        let Some((series, method, tool)) = self.row_series(row) else { return };
        let series = &series[outcome as usize];
        let us = u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX);
        series.record(us);
        if let Some(histogram) = &self.histogram {
            series
                .otel
                .get_or_init(|| histogram.bind(&attributes(method, tool, outcome)))
                .record(elapsed.as_secs_f64());
        }
        match outcome {
            Outcome::Unauthenticated => self.auth_failures[0].fetch_add(1, Ordering::Relaxed),
            Outcome::Forbidden => self.auth_failures[1].fetch_add(1, Ordering::Relaxed),
            _ => 0,
        };
    }

    /// Records a call a rate limit refused: `limit` is the budget (`global`, `principal`, `tool`,
    /// `concurrency`) or `store_unavailable`.
    pub(crate) fn rejected(&self, limit: &str) {
        if let Some(i) = LIMITS.iter().position(|l| *l == limit) {
            self.rejections[i].fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Records a task that ended, by its status (`completed`, `failed`, `cancelled`).
    pub(crate) fn task_ended(&self, status: &str) {
        if let Some(i) = TASK_ENDS.iter().position(|s| *s == status) {
            self.tasks_ended[i].fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Records a request refused before the corridor.
    pub(crate) fn refused(&self, reason: Outcome) {
        let i = match reason {
            Outcome::Unauthenticated => 0,
            Outcome::Forbidden => 1,
            Outcome::RateLimited => 2,
            _ => 3,
        };
        self.refused[i].fetch_add(1, Ordering::Relaxed);
        if i < AUTH_REASONS.len() {
            self.auth_failures[i].fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Requests of `tool` recorded so far, by outcome (`ok`, `tool_error`, …): what tests and health checks
    /// read. A tool added at run time counts once it has series of its own.
    pub fn tool_calls(&self, tool: &str) -> Vec<(&'static str, u64)> {
        let row = match self.tools.get(tool) {
            Some(&i) => METHODS.len() + i,
            None => match self.runtime_index.read().unwrap_or_else(PoisonError::into_inner).get(tool) {
                Some(&i) => self.static_rows() + i,
                None => return Vec::new(),
            },
        };
        let Some((series, ..)) = self.row_series(row) else { return Vec::new() };
        OUTCOMES
            .iter()
            .zip(series)
            .map(|(outcome, series)| (outcome.as_str(), series.count.load(Ordering::Relaxed)))
            .filter(|(_, n)| *n > 0)
            .collect()
    }

    /// Everything, in the Prometheus text exposition format (version 0.0.4).
    pub fn render(&self) -> String {
        let mut out = String::with_capacity(4096);
        out.push_str(
            "# HELP mcp_server_operation_duration_seconds MCP request duration as observed on the server.\n\
             # TYPE mcp_server_operation_duration_seconds histogram\n",
        );
        let rows = self.static_rows() + self.runtime.len();
        for (series, method, tool) in (0..rows).filter_map(|row| self.row_series(row)) {
            for (outcome, series) in OUTCOMES.iter().zip(series) {
                render_series(&mut out, series, method, tool, *outcome);
            }
        }
        for family in &FAMILIES {
            let (name, label) = (family.prometheus, family.label);
            let _ = writeln!(out, "# HELP {name} {}\n# TYPE {name} counter", family.help);
            for (value, count) in family.values.iter().zip((family.counts)(self)) {
                let _ = writeln!(out, "{name}{{{label}=\"{value}\"}} {}", count.load(Ordering::Relaxed));
            }
        }
        for probed in &PROBED {
            let name = probed.prometheus;
            let value = (probed.probe)(self).get().map_or(0, |p| p());
            let _ = writeln!(out, "# HELP {name} {}\n# TYPE {name} counter\n{name} {value}", probed.help);
        }
        out
    }
}

/// The `error_type` of a series' outcome: none when it succeeded.
fn error_label(outcome: Outcome) -> Option<&'static str> {
    (!matches!(outcome, Outcome::Ok | Outcome::InputRequired)).then(|| error_type(outcome))
}

fn attributes(method: &str, tool: Option<&str>, outcome: Outcome) -> Vec<KeyValue> {
    let mut attributes = vec![KeyValue::new("mcp.method.name", method.to_owned())];
    if let Some(tool) = tool {
        attributes.push(KeyValue::new("gen_ai.tool.name", tool.to_owned()));
    }
    if let Some(error) = error_label(outcome) {
        attributes.push(KeyValue::new("error.type", error));
    }
    attributes
}

/// One histogram series in the exposition format; nothing for a series never used.
fn render_series(out: &mut String, series: &Series, method: &str, tool: Option<&str>, outcome: Outcome) {
    let count = series.count.load(Ordering::Relaxed);
    if count == 0 {
        return;
    }
    let mut labels = format!("mcp_method_name=\"{method}\"");
    if let Some(tool) = tool {
        let _ = write!(labels, ",gen_ai_tool_name=\"{}\"", escape(tool));
    }
    if let Some(error) = error_label(outcome) {
        let _ = write!(labels, ",error_type=\"{error}\"");
    }
    let mut cumulative = 0;
    for (bound, bucket) in BOUNDS.iter().zip(&series.buckets) {
        cumulative += bucket.load(Ordering::Relaxed);
        let _ = writeln!(out, "mcp_server_operation_duration_seconds_bucket{{{labels},le=\"{bound}\"}} {cumulative}");
    }
    let _ = writeln!(out, "mcp_server_operation_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {count}");
    let sum = Duration::from_micros(series.sum_us.load(Ordering::Relaxed)).as_secs_f64();
    let _ = writeln!(out, "mcp_server_operation_duration_seconds_sum{{{labels}}} {sum}");
    let _ = writeln!(out, "mcp_server_operation_duration_seconds_count{{{labels}}} {count}");
}

/// A label value as the exposition format wants it (tool names are plain, but a name is not ours to trust).
fn escape(value: &str) -> String {
    value.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

/// The counters, observed by the OTLP reader at each export (cumulative, like Prometheus'). The callbacks
/// keep the metrics alive: the last export, at shutdown, comes after the server (and its pipeline) is gone.
fn observe_counters(metrics: &Arc<Metrics>, meter: &Meter) {
    for family in &FAMILIES {
        let metrics = Arc::clone(metrics);
        let (label, values, counts) = (family.label, family.values, family.counts);
        let _ = meter
            .u64_observable_counter(family.otlp)
            .with_description(family.help)
            .with_callback(move |observer| {
                for (value, count) in values.iter().zip(counts(&metrics)) {
                    observer.observe(count.load(Ordering::Relaxed), &[KeyValue::new(label, *value)]);
                }
            })
            .build();
    }
    for probed in &PROBED {
        let metrics = Arc::clone(metrics);
        let probe = probed.probe;
        let _ = meter
            .u64_observable_counter(probed.otlp)
            .with_description(probed.help)
            .with_callback(move |observer| {
                if let Some(value) = probe(&metrics).get().map(|p| p()) {
                    observer.observe(value, &[]);
                }
            })
            .build();
    }
}

#[cfg(test)]
mod tests;
