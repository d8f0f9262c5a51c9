//! The servers under load: their configurations, each started as a process pinned to its core.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use anyhow::{Context, Result};

use super::KEY;

pub(super) const BARE: &str = r#"# cargo xtask bench: the bare corridor (no authentication, audit, limits or export).
[security]
strategy = "none"

[audit]
destination = "none"

[log]
level = "warn,mcp_runtime::transport=info"   # the listening address is logged at info
"#;

pub(super) fn full_config(digest: &str, sink: &str, dir: &Path) -> String {
    format!(
        r#"# cargo xtask bench: the full production pipeline.
[security]
strategy = "api-key"
keys = [{{ id = "bench", hash = "{digest}", scopes = [] }}]

[throttling]
global = "1000000000/s"
per_principal = "1000000000/s"
tools = {{ echo = "1000000000/s" }}

[audit]
destination = "file:{audit}"
redact_fields = ["message"]
redact_key = "${{env:BENCH_HMAC_KEY}}"
hash_chain = true
max_file_bytes = 67108864
keep_files = 1

[tracing]
exporter = "otlp"
protocol = "http"
endpoint = "http://{sink}"
sample_ratio = 1.0

[metrics]
otlp = true

[log]
level = "warn,mcp_runtime::transport=info"   # the listening address is logged at info
"#,
        audit = dir.join("audit.log").display()
    )
}

/// Core pinning: servers on core 1, the load generator on core 0, when there are two cores and `taskset`.
pub(super) struct Pin {
    taskset: Option<PathBuf>,
}

impl Pin {
    pub(super) fn detect() -> Self {
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        let taskset = crate::which("taskset").ok().filter(|_| cores >= 2);
        Self { taskset }
    }

    pub(super) fn command(&self, core: usize, program: &Path) -> Command {
        match &self.taskset {
            Some(taskset) => {
                let mut command = Command::new(taskset);
                command.arg("-c").arg(core.to_string()).arg(program);
                command
            }
            None => Command::new(program),
        }
    }

    pub(super) fn describe(&self) -> &'static str {
        if self.taskset.is_some() { "servers on core 1, wrk and the stdio driver on core 0" } else { "not pinned" }
    }
}

/// A server process, killed when dropped.
pub(super) struct Process {
    child: Child,
    pub(super) address: String,
}

impl Process {
    pub(super) fn start(pin: &Pin, program: &Path, args: &[String], dir: &Path, name: &str) -> Result<Self> {
        let log = std::fs::File::create(dir.join(format!("{name}.log")))?;
        let mut child = pin
            .command(1, program)
            .args(args)
            .env("BENCH_HMAC_KEY", "bench-hmac-key-not-a-secret")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .with_context(|| format!("cannot start {}", program.display()))?;
        let stderr = child.stderr.take().context("piped stderr")?;
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut log = log;
            let mut tx = Some(tx);
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(addr) = line.split_whitespace().find_map(|w| w.strip_prefix("address="))
                    && let Some(tx) = tx.take()
                {
                    let _ = tx.send(addr.to_owned());
                }
                let _ = writeln!(log, "{line}");
            }
        });
        let address = rx.recv_timeout(Duration::from_secs(30)).with_context(|| format!("{name} did not start"))?;
        Ok(Self { child, address })
    }

    /// A `/proc/PID/status` field in KiB.
    pub(super) fn status_kib(&self, field: &str) -> Result<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))?;
        status
            .lines()
            .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .with_context(|| format!("no {field} in /proc/{}/status", self.child.id()))
    }

    /// User + system CPU time so far, in µs.
    pub(super) fn cpu_us(&self) -> Result<f64> {
        cpu_us(self.child.id())
    }

    /// Resets `VmHWM` to the current RSS.
    pub(super) fn reset_peak(&self) {
        let _ = std::fs::write(format!("/proc/{}/clear_refs", self.child.id()), "5");
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub(super) fn cpu_us(pid: u32) -> Result<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    // Fields after the command name (which may hold spaces): state is field 3, utime 14, stime 15.
    let rest = stat.rsplit_once(')').map(|(_, r)| r).context("malformed /proc stat")?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: f64 = fields[11].parse::<f64>()? + fields[12].parse::<f64>()?;
    Ok(ticks * 10_000.0) // USER_HZ is 100 on Linux
}

/// The digest of [`KEY`], from the server binary itself (`--hash-key`).
pub(super) fn hash_key(runtime: &Path) -> Result<String> {
    let mut child = Command::new(runtime).arg("--hash-key").stdin(Stdio::piped()).stdout(Stdio::piped()).spawn()?;
    child.stdin.take().context("piped stdin")?.write_all(KEY.as_bytes())?;
    let output = child.wait_with_output()?;
    let text = String::from_utf8_lossy(&output.stdout);
    text.split_whitespace()
        .find(|w| w.starts_with("sha256:"))
        .map(str::to_owned)
        .context("--hash-key printed no digest")
}
