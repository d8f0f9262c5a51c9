//! What the soak reads from the server under test: its audit trail (on its stdout, which it can stop
//! reading: a stalled log shipper), its resident memory, and its metrics.

use std::collections::{BTreeMap, HashMap};
use std::io::{BufRead, BufReader, Write as _};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::Result;
use mcp_tests::rss_kib;
use serde_json::Value;

/// Reads the server's audit trail from its stdout into a file, noting each record's request id and
/// reason. While `stalled` is set it reads nothing: the pipe fills, then the server's audit queue.
pub(crate) struct AuditReader {
    pub(crate) stalled: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<AuditSeen>>,
}

#[derive(Default)]
pub(crate) struct AuditSeen {
    /// Per request id: the reasons of its records, in order.
    pub(crate) by_id: HashMap<u64, Vec<String>>,
    /// Records without a request id (refused at the HTTP edge, before the body was read), counted by
    /// (source address, reason).
    pub(crate) without_id: HashMap<(String, String), usize>,
    /// The outcome records of tasks (those with `task`, written when a task ends), by task id.
    pub(crate) task_outcomes: HashMap<String, Vec<TaskRecord>>,
    pub(crate) records: usize,
    pub(crate) unparsable: usize,
}

/// A task's outcome record: the request that created the task, how the task ended, and the reason.
pub(crate) struct TaskRecord {
    pub(crate) request_id: Option<u64>,
    pub(crate) status: String,
    pub(crate) reason: String,
}

impl AuditReader {
    pub(crate) fn start(stdout: std::process::ChildStdout, file: &Path) -> Result<Self> {
        let stalled = Arc::new(AtomicBool::new(false));
        let mut out = std::io::BufWriter::new(std::fs::File::create(file)?);
        let paused = Arc::clone(&stalled);
        let thread = std::thread::spawn(move || {
            let mut seen = AuditSeen::default();
            let mut reader = BufReader::with_capacity(4096, stdout);
            let mut line = String::new();
            loop {
                while paused.load(Ordering::SeqCst) {
                    std::thread::sleep(Duration::from_millis(20));
                }
                line.clear();
                match reader.read_line(&mut line) {
                    Ok(0) | Err(_) => break,
                    Ok(_) => {}
                }
                let _ = out.write_all(line.as_bytes());
                if line.starts_with("{\"checkpoint\"") {
                    continue; // the chain's signed checkpoint (at shutdown), not a request's record
                }
                seen.records += 1;
                match serde_json::from_str::<Value>(&line) {
                    Ok(record) => {
                        let reason = record["reason"].as_str().unwrap_or("?").to_owned();
                        if let Some(task) = record["task"]["id"].as_str() {
                            // Beside the creating request's own record, with the same request id.
                            let status = record["task"]["status"].as_str().unwrap_or("?").to_owned();
                            let request_id = record["request_id"].as_u64();
                            let outcome = TaskRecord { request_id, status, reason };
                            seen.task_outcomes.entry(task.to_owned()).or_default().push(outcome);
                            continue;
                        }
                        match record["request_id"].as_u64() {
                            Some(id) => seen.by_id.entry(id).or_default().push(reason),
                            None => {
                                let source = record["source"].as_str().unwrap_or("?").to_owned();
                                *seen.without_id.entry((source, reason)).or_default() += 1;
                            }
                        }
                    }
                    Err(_) => seen.unparsable += 1,
                }
            }
            let _ = out.flush();
            seen
        });
        Ok(Self { stalled, thread: Some(thread) })
    }

    /// Reads to the end (the server has exited) and returns what was read.
    pub(crate) fn finish(&mut self) -> AuditSeen {
        self.stalled.store(false, Ordering::SeqCst);
        self.thread.take().and_then(|t| t.join().ok()).unwrap_or_default()
    }
}

/// Samples the server's resident memory once a second.
pub(crate) struct RssSampler {
    stop: Arc<AtomicBool>,
    thread: std::thread::JoinHandle<Vec<(Duration, u64)>>,
}

impl RssSampler {
    pub(crate) fn start(pid: u32, started: Instant) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = Arc::clone(&stop);
        let thread = std::thread::spawn(move || {
            let mut samples = Vec::new();
            while !stopped.load(Ordering::SeqCst) {
                let Some(kib) = rss_kib(pid) else { break };
                samples.push((started.elapsed(), kib));
                std::thread::sleep(Duration::from_secs(1));
            }
            samples
        });
        Self { stop, thread }
    }

    pub(crate) fn finish(self) -> Vec<(Duration, u64)> {
        self.stop.store(true, Ordering::SeqCst);
        self.thread.join().unwrap_or_default()
    }
}

/// The server's totals of the series the report shows, from its Prometheus endpoint.
pub(crate) async fn scrape_metrics(url: &str, token: &str) -> BTreeMap<String, f64> {
    let metrics_url = url.trim_end_matches("/mcp").to_owned() + "/metrics";
    let Ok(response) =
        reqwest::Client::new().get(metrics_url).bearer_auth(token).header("x-forwarded-for", "10.99.0.1").send().await
    else {
        return BTreeMap::new();
    };
    let text = response.text().await.unwrap_or_default();
    let mut totals = BTreeMap::new();
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        let Some((series, value)) = line.rsplit_once(' ') else { continue };
        let name = series.split('{').next().unwrap_or(series);
        let wanted = [
            "mcp_server_auth_failures_total",
            "mcp_server_rate_limit_rejections_total",
            "mcp_server_refused_total",
            "mcp_server_audit_dropped_total",
            "mcp_server_throttle_store_unavailable_total",
            "mcp_server_operation_duration_seconds_count",
        ];
        if wanted.contains(&name)
            && let Ok(value) = value.parse::<f64>()
        {
            let key = if name == "mcp_server_rate_limit_rejections_total" || name == "mcp_server_refused_total" {
                series.to_owned()
            } else {
                name.to_owned()
            };
            *totals.entry(key).or_default() += value;
        }
    }
    totals
}
