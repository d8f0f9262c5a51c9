//! The soak: sustained load on the inventory example under a production configuration while, in turn,
//! Redis is stopped and restarted, the JWKS endpoint fails and recovers, the audit sink stalls, and SIGTERM
//! arrives. `cargo xtask soak [--minutes N]` builds and runs it; `cargo xtask test` runs a one-minute
//! version.
//!
//! Everything is real and on loopback: a `redis-server` the soak starts (and kills, and starts again on the
//! same port), the inventory binary on Streamable HTTP with JWT authentication against a JWKS endpoint this
//! process serves, limits shared through Redis, an audit trail on its stdout (read by this process, which
//! can stop reading — a stalled log shipper; kept in `<out>/audit.jsonl` when the run fails), and spans
//! exported over OTLP to a sink this process serves.
//!
//! The load is closed-loop: `--concurrency` clients, each sending its next request when the last one is
//! answered. Most clients are well behaved (2026-07-28 stateless requests, some in handshake-era sessions);
//! the last two are attackers sending no or forged tokens from their own addresses (`X-Forwarded-For`, a
//! trusted proxy), so the failed-authentication lockout hits them and no one else. Every request carries an
//! id no other request has, so the audit trail can be checked request by request.
//!
//! The verdict fails (exit 1) when: a request got an answer its phase does not allow; an accepted request
//! has no audit record, or more than one, or a record disagrees with the answer; a record names a request
//! never sent; the hash chain does not verify; a request waited longer than the longest configured timeout;
//! the server took longer than its shutdown grace to exit after SIGTERM, or did not exit cleanly; Redis was
//! not used again after its restart; or the resident memory kept growing.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::io::{BufRead, BufReader, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use jsonwebtoken::jwk::{Jwk, JwkSet};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use prost::Message as _;
use serde_json::{Value, json};

/// The audience and issuer of the soak's tokens.
const AUDIENCE: &str = "inventory-gateway";
const ISSUER: &str = "https://idp.soak.test";
/// The longest timeout a request can meet under the soak's configuration (`tools.default_timeout`); the
/// others are shorter (audit `block_timeout` 1 s, Redis `timeout` 100 ms). A request answered later hung.
const HANG_LIMIT: Duration = Duration::from_secs(5);
/// `transport.shutdown_grace` of the soak's configuration.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);
/// Queue of the audit writer: small, so a stalled sink fills it within seconds even in a debug build.
const AUDIT_QUEUE: usize = 512;
/// How long a client waits for an answer before it counts the request as hung (above [`HANG_LIMIT`], so a
/// hang is measured rather than cut short).
const CLIENT_TIMEOUT: Duration = Duration::from_secs(20);
/// What an attacker waits between its requests (about 50 a second each).
const ATTACKER_PAUSE: Duration = Duration::from_millis(20);
/// The seeded SKUs of the inventory example, and its warehouses.
const SKUS: &[&str] = &["ABC123", "WIDGET9", "GADGET42", "SPROCKET7", "BOLT00001"];
const WAREHOUSES: &[&str] = &["WH-EAST", "WH-WEST"];

fn main() -> Result<()> {
    let options = Options::parse()?;
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build()?;
    let passed = runtime.block_on(soak(options))?;
    if !passed {
        std::process::exit(1);
    }
    Ok(())
}

struct Options {
    server: PathBuf,
    redis: PathBuf,
    redis_libs: Option<PathBuf>,
    fixtures: PathBuf,
    out: PathBuf,
    total: Duration,
    concurrency: usize,
}

impl Options {
    fn parse() -> Result<Self> {
        let mut server = None;
        let mut redis = None;
        let mut redis_libs = None;
        let mut fixtures = None;
        let mut out = None;
        let mut minutes = 10.0_f64;
        let mut concurrency = 16;
        let mut args = std::env::args().skip(1);
        while let Some(arg) = args.next() {
            let mut value = || args.next().with_context(|| format!("{arg} needs a value"));
            match arg.as_str() {
                "--server" => server = Some(PathBuf::from(value()?)),
                "--redis-server" => redis = Some(PathBuf::from(value()?)),
                "--redis-libs" => redis_libs = Some(PathBuf::from(value()?)).filter(|p| !p.as_os_str().is_empty()),
                "--fixtures" => fixtures = Some(PathBuf::from(value()?)),
                "--out" => out = Some(PathBuf::from(value()?)),
                "--minutes" => minutes = value()?.parse().context("--minutes: a number")?,
                "--concurrency" => concurrency = value()?.parse().context("--concurrency: a number")?,
                other => bail!(
                    "unknown argument {other}\nusage: soak --server BIN --redis-server BIN [--redis-libs DIR] \
                     --fixtures DIR --out DIR [--minutes N] [--concurrency N]"
                ),
            }
        }
        if !(0.25..=240.0).contains(&minutes) {
            bail!("--minutes must be between 0.25 and 240");
        }
        if concurrency < 4 {
            bail!("--concurrency must be at least 4 (two of the clients are attackers)");
        }
        Ok(Self {
            server: server.context("--server is required")?,
            redis: redis.context("--redis-server is required")?,
            redis_libs,
            fixtures: fixtures.context("--fixtures is required")?,
            out: out.context("--out is required")?,
            total: Duration::from_secs_f64(minutes * 60.0),
            concurrency,
        })
    }
}

// ---------------------------------------------------------------------------------------------------------
// The timeline

/// The soak's phases, in order, each a share of the whole run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Phase {
    Baseline,
    RedisDown,
    RedisBack,
    JwksDown,
    JwksBack,
    AuditStall,
    AuditBack,
    Sigterm,
}

const PHASES: &[(Phase, f64)] = &[
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
    fn name(self) -> &'static str {
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
struct Timeline {
    starts: Vec<(Phase, Duration)>,
    total: Duration,
}

impl Timeline {
    fn new(total: Duration) -> Self {
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

    fn start(&self, phase: Phase) -> Duration {
        self.starts.iter().find(|(p, _)| *p == phase).map(|(_, at)| *at).expect("every phase has a start")
    }

    fn end(&self, phase: Phase) -> Duration {
        self.starts.iter().skip_while(|(p, _)| *p != phase).nth(1).map_or(self.total, |(_, at)| *at)
    }

    fn phase_at(&self, t: Duration) -> Phase {
        self.starts.iter().rev().find(|(_, at)| *at <= t).map_or(Phase::Baseline, |(p, _)| *p)
    }
}

// ---------------------------------------------------------------------------------------------------------
// The soak

async fn soak(options: Options) -> Result<bool> {
    std::fs::create_dir_all(&options.out)?;
    let timeline = Timeline::new(options.total);
    // The JWKS refresh and staleness scale with the run, so the JWKS outage outlives the cache: first only
    // tokens signed with the newly rotated key are refused, then (fail closed) every token, until it is back.
    let jwks_down = timeline.end(Phase::JwksDown) - timeline.start(Phase::JwksDown);
    let jwks_refresh = (jwks_down / 6).clamp(Duration::from_secs(1), Duration::from_secs(10));
    let jwks_max_stale = (jwks_down / 2).max(jwks_refresh * 2);

    let mut redis = Redis::start(&options, None)?;
    let peers = Peers::default();
    let peer_addr = peers.clone().serve(&options.fixtures).await?;
    let config = options.out.join("mcp.toml");
    std::fs::write(&config, config_toml(peer_addr, redis.port, jwks_refresh, jwks_max_stale))?;
    let audit_file = options.out.join("audit.jsonl");
    let mut server = ServerProcess::start(&options, &config, &audit_file)?;
    let url = format!("http://{}/mcp", server.address);
    eprintln!(
        "soak: {} on {url}, {} clients for {:.0?}; Redis on {}, JWKS and OTLP sink on {peer_addr}; output in {}",
        options.server.display(),
        options.concurrency,
        options.total,
        redis.port,
        options.out.display()
    );

    let keys = Keys::load(&options.fixtures)?;
    let shared = Arc::new(Shared {
        started: Instant::now(),
        next_id: AtomicU64::new(1),
        rotated: AtomicBool::new(false),
        stop: AtomicBool::new(false),
    });
    let rss = RssSampler::start(server.pid(), shared.started);
    let mut clients = Vec::new();
    for index in 0..options.concurrency {
        let role = if index >= options.concurrency - 2 {
            Role::Attacker
        } else if index % 4 == 3 {
            Role::Session
        } else {
            Role::Stateless
        };
        let client = LoadClient::new(index, role, url.clone(), &keys, Arc::clone(&shared))?;
        clients.push(tokio::spawn(client.run()));
    }

    // The faults, in turn.
    let mut events = Vec::new();
    let mut note = |shared: &Shared, what: String| {
        eprintln!("soak: {:>6.1}s {what}", shared.started.elapsed().as_secs_f64());
        events.push((shared.started.elapsed(), what));
    };
    let until = |phase: Phase| {
        let at = shared.started + timeline.start(phase);
        tokio::time::sleep_until(at.into())
    };
    until(Phase::RedisDown).await;
    redis.kill();
    note(&shared, "redis-server killed".into());
    until(Phase::RedisBack).await;
    redis = Redis::start(&options, Some(redis.port))?;
    note(&shared, format!("redis-server started again on port {}", redis.port));
    until(Phase::JwksDown).await;
    peers.jwks_failing.store(true, Ordering::SeqCst);
    shared.rotated.store(true, Ordering::SeqCst);
    note(&shared, "JWKS endpoint answers 500; half the clients now hold tokens of a new key (kid k2)".into());
    until(Phase::JwksBack).await;
    *peers.jwks.lock().unwrap_or_else(PoisonError::into_inner) =
        JwkSet { keys: vec![keys.k1.1.clone(), keys.k2.1.clone()] };
    peers.jwks_failing.store(false, Ordering::SeqCst);
    let redis_keys = redis.dbsize();
    note(&shared, format!("JWKS endpoint back, publishing k1 and k2 (Redis holds {redis_keys} limiter keys)"));
    until(Phase::AuditStall).await;
    server.audit.stalled.store(true, Ordering::SeqCst);
    note(&shared, "audit sink stalled: its reader stops reading the server's stdout".into());
    until(Phase::AuditBack).await;
    server.audit.stalled.store(false, Ordering::SeqCst);
    note(&shared, "audit sink reading again".into());
    until(Phase::Sigterm).await;
    let metrics = scrape_metrics(&url, &keys.k1_token("soak-metrics")).await;
    let sigterm_at = Instant::now();
    server.signal("-TERM")?;
    note(&shared, "SIGTERM sent".into());
    let exit = server.wait(SHUTDOWN_GRACE + Duration::from_secs(20)).await;
    let exit_after = sigterm_at.elapsed();
    note(&shared, format!("server exited ({exit:?}) {exit_after:.2?} after SIGTERM"));
    tokio::time::sleep(Duration::from_millis(300)).await;
    shared.stop.store(true, Ordering::SeqCst);
    let mut samples = Vec::new();
    for client in clients {
        samples.extend(client.await.context("a load client panicked")?);
    }
    let rss = rss.finish();
    let audit = server.audit.finish();
    drop(redis);

    // The chain is keyed with the server's `audit.redact_key`: the verifier reads the same configuration.
    let verify = Command::new(&options.server)
        .arg("--config")
        .arg(&config)
        .env("AUDIT_HMAC_KEY", SOAK_HMAC_KEY)
        .arg("--verify-audit")
        .arg(&audit_file)
        .output()
        .context("cannot run --verify-audit")?;
    let spans = peers.spans.load(Ordering::SeqCst);
    let report = Report {
        options: &options,
        timeline: &timeline,
        samples: &samples,
        audit: &audit,
        rss: &rss,
        events: &events,
        exit: exit.as_ref().ok().copied(),
        exit_after,
        redis_keys,
        verify: (verify.status.success(), String::from_utf8_lossy(&verify.stdout).trim().to_owned()),
        spans,
        metrics,
        jwks: (jwks_refresh, jwks_max_stale, peers.jwks_fetches.load(Ordering::SeqCst)),
    };
    let (text, passed) = report.render();
    println!("{text}");
    std::fs::write(options.out.join("report.md"), &text)?;
    eprintln!("soak: report written to {}", options.out.join("report.md").display());
    if passed {
        // Ten minutes leave over a gigabyte of records; a failing run keeps them for a look.
        let _ = std::fs::remove_file(&audit_file);
    }
    Ok(passed)
}

fn config_toml(peers: std::net::SocketAddr, redis_port: u16, refresh: Duration, max_stale: Duration) -> String {
    format!(
        r#"# Written by the soak (tests/src/bin/soak.rs): the inventory gateway in production shape.
[transport]
kind = "http"
bind = "127.0.0.1:0"
shutdown_grace = "{grace}s"

[http]
trusted_proxies = ["127.0.0.1"]     # the load clients speak for addresses of their own (X-Forwarded-For)

[tools]
default_timeout = "{hang}s"

[security]
strategy = "jwt"
max_failures = 10
failure_window = "60s"

[security.jwt]
jwks_uri = "http://{peers}/jwks.json"
issuer = "{ISSUER}"
audience = ["{AUDIENCE}"]
jwks_refresh = "{refresh}ms"
jwks_max_stale = "{max_stale}ms"

[throttling]
global = "6000000/min"
per_principal = "600000/min"
tools = {{ lookup_stock = "600000/min" }}   # adjust_stock keeps its attribute: 10/min per caller
store = {{ kind = "redis", url = "redis://127.0.0.1:{redis_port}/", on_error = "local", timeout = "100ms" }}

[audit]
destination = "stdout"
redact_fields = ["warehouse_id"]    # HMAC-redacted on every call that names one
redact_key = "${{env:AUDIT_HMAC_KEY}}"
queue = {AUDIT_QUEUE}
on_full = "block"
block_timeout = "1s"
hash_chain = true

[tracing]
exporter = "otlp"
protocol = "http"
endpoint = "http://{peers}"
sample_ratio = 1.0
export_interval = "1s"

[metrics]
otlp = true
export_interval = "10s"

[log]
level = "info"
"#,
        grace = SHUTDOWN_GRACE.as_secs(),
        hang = HANG_LIMIT.as_secs(),
        refresh = refresh.as_millis(),
        max_stale = max_stale.as_millis(),
    )
}

// ---------------------------------------------------------------------------------------------------------
// Processes: redis-server and the server under test

struct Redis {
    child: Child,
    port: u16,
}

impl Redis {
    fn start(options: &Options, port: Option<u16>) -> Result<Self> {
        let port = match port {
            Some(port) => port,
            None => std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port(),
        };
        let mut command = Command::new(&options.redis);
        command
            .args(["--bind", "127.0.0.1", "--port", &port.to_string(), "--save", "", "--appendonly", "no"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit());
        if let Some(libs) = &options.redis_libs {
            command.env("LD_LIBRARY_PATH", libs);
        }
        let child = command.spawn().with_context(|| format!("cannot start {}", options.redis.display()))?;
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if Instant::now() > deadline {
                bail!("redis-server did not listen on port {port}");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok(Self { child, port })
    }

    /// `DBSIZE`: the limiter keys Redis holds (0 when it cannot be asked).
    fn dbsize(&self) -> u64 {
        use std::io::Read;
        let Ok(mut stream) = std::net::TcpStream::connect(("127.0.0.1", self.port)) else { return 0 };
        let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
        let mut reply = [0u8; 64];
        let n = stream.write_all(b"*1\r\n$6\r\nDBSIZE\r\n").and_then(|()| stream.read(&mut reply)).unwrap_or(0);
        std::str::from_utf8(&reply[..n]).ok().and_then(|r| r.trim().strip_prefix(':')?.parse().ok()).unwrap_or(0)
    }

    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        self.kill();
    }
}

/// The audit HMAC key the soak's server redacts and chains with (`AUDIT_HMAC_KEY`).
const SOAK_HMAC_KEY: &str = "soak-hmac-key-not-a-secret";

struct ServerProcess {
    child: Child,
    address: String,
    audit: AuditReader,
}

impl ServerProcess {
    fn start(options: &Options, config: &Path, audit_file: &Path) -> Result<Self> {
        let mut child = Command::new(&options.server)
            .arg("--config")
            .arg(config)
            .env("AUDIT_HMAC_KEY", SOAK_HMAC_KEY)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .with_context(|| format!("cannot start {}", options.server.display()))?;
        let stderr = child.stderr.take().context("piped stderr")?;
        let log = std::fs::File::create(options.out.join("server.log"))?;
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut log = std::io::BufWriter::new(log);
            let mut tx = Some(tx);
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(addr) = line.split_whitespace().find_map(|w| w.strip_prefix("address="))
                    && let Some(tx) = tx.take()
                {
                    let _ = tx.send(addr.to_owned());
                }
                let _ = writeln!(log, "{line}");
            }
            let _ = log.flush();
        });
        let audit = AuditReader::start(child.stdout.take().context("piped stdout")?, audit_file)?;
        let address = rx
            .recv_timeout(Duration::from_secs(30))
            .with_context(|| format!("the server did not start; see {}", options.out.join("server.log").display()))?;
        Ok(Self { child, address, audit })
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    fn signal(&self, signal: &str) -> Result<()> {
        let status = Command::new("kill").args([signal, &self.child.id().to_string()]).status()?;
        if !status.success() {
            bail!("kill {signal} failed");
        }
        Ok(())
    }

    async fn wait(&mut self, limit: Duration) -> Result<ExitStatus, String> {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(status) = self.child.try_wait().map_err(|e| e.to_string())? {
                return Ok(status);
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                let _ = self.child.wait();
                return Err(format!("still running {limit:?} after SIGTERM: killed"));
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Reads the server's audit trail from its stdout into a file, noting each record's request id and
/// reason. While `stalled` is set it reads nothing: the pipe fills, then the server's audit queue.
struct AuditReader {
    stalled: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<AuditSeen>>,
}

#[derive(Default)]
struct AuditSeen {
    /// Per request id: the reasons of its records, in order.
    by_id: HashMap<u64, Vec<String>>,
    /// Records without a request id (refused at the HTTP edge, before the body was read), counted by
    /// (source address, reason).
    without_id: HashMap<(String, String), usize>,
    records: usize,
    unparsable: usize,
}

impl AuditReader {
    fn start(stdout: std::process::ChildStdout, file: &Path) -> Result<Self> {
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
    fn finish(&mut self) -> AuditSeen {
        self.stalled.store(false, Ordering::SeqCst);
        self.thread.take().and_then(|t| t.join().ok()).unwrap_or_default()
    }
}

/// Samples the server's resident memory once a second.
struct RssSampler {
    stop: Arc<AtomicBool>,
    thread: std::thread::JoinHandle<Vec<(Duration, u64)>>,
}

impl RssSampler {
    fn start(pid: u32, started: Instant) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = Arc::clone(&stop);
        let thread = std::thread::spawn(move || {
            let mut samples = Vec::new();
            while !stopped.load(Ordering::SeqCst) {
                let Ok(status) = std::fs::read_to_string(format!("/proc/{pid}/status")) else { break };
                if let Some(kib) = status
                    .lines()
                    .find_map(|l| l.strip_prefix("VmRSS:"))
                    .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
                {
                    samples.push((started.elapsed(), kib));
                }
                std::thread::sleep(Duration::from_secs(1));
            }
            samples
        });
        Self { stop, thread }
    }

    fn finish(self) -> Vec<(Duration, u64)> {
        self.stop.store(true, Ordering::SeqCst);
        self.thread.join().unwrap_or_default()
    }
}

// ---------------------------------------------------------------------------------------------------------
// The identity provider's JWKS and the OTLP sink, in this process

#[derive(Clone, Default)]
struct Peers {
    jwks: Arc<Mutex<JwkSet>>,
    jwks_failing: Arc<AtomicBool>,
    jwks_fetches: Arc<AtomicUsize>,
    spans: Arc<AtomicU64>,
}

impl Peers {
    async fn serve(self, fixtures: &Path) -> Result<std::net::SocketAddr> {
        use axum::extract::State;
        use axum::http::StatusCode;
        use axum::response::IntoResponse;

        let keys = Keys::load(fixtures)?;
        *self.jwks.lock().unwrap_or_else(PoisonError::into_inner) = JwkSet { keys: vec![keys.k1.1] };
        async fn jwks(State(peers): State<Peers>) -> axum::response::Response {
            peers.jwks_fetches.fetch_add(1, Ordering::SeqCst);
            if peers.jwks_failing.load(Ordering::SeqCst) {
                return StatusCode::INTERNAL_SERVER_ERROR.into_response();
            }
            axum::Json(peers.jwks.lock().unwrap_or_else(PoisonError::into_inner).clone()).into_response()
        }
        async fn traces(State(peers): State<Peers>, body: axum::body::Bytes) -> StatusCode {
            use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
            let Ok(request) = ExportTraceServiceRequest::decode(body) else { return StatusCode::BAD_REQUEST };
            let spans: usize = request.resource_spans.iter().flat_map(|r| &r.scope_spans).map(|s| s.spans.len()).sum();
            peers.spans.fetch_add(spans as u64, Ordering::SeqCst);
            StatusCode::OK
        }
        let app = axum::Router::new()
            .route("/jwks.json", axum::routing::get(jwks))
            .route("/v1/traces", axum::routing::post(traces))
            .route("/v1/metrics", axum::routing::post(|| async { StatusCode::OK }))
            .with_state(self);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        tokio::spawn(async move { axum::serve(listener, app).await });
        Ok(addr)
    }
}

/// The identity provider's two signing keys (RS256, the fixtures of `tests/fixtures/jwt`): `k1` published
/// from the start, `k2` rotated in while the JWKS endpoint is down.
struct Keys {
    k1: (EncodingKey, Jwk),
    k2: (EncodingKey, Jwk),
}

impl Keys {
    fn load(fixtures: &Path) -> Result<Self> {
        let key = |file: &str, kid: &str| -> Result<(EncodingKey, Jwk)> {
            let pem = std::fs::read(fixtures.join(file)).with_context(|| format!("cannot read {file}"))?;
            let key = EncodingKey::from_rsa_pem(&pem)?;
            let mut jwk = Jwk::from_encoding_key(&key, Algorithm::RS256)?;
            jwk.common.key_id = Some(kid.to_owned());
            Ok((key, jwk))
        };
        Ok(Self { k1: key("rsa.key.pem", "k1")?, k2: key("rsa2.key.pem", "k2")? })
    }

    fn token(key: &EncodingKey, kid: &str, subject: &str) -> String {
        let now = jsonwebtoken::get_current_timestamp();
        let claims = json!({"sub": subject, "iss": ISSUER, "aud": AUDIENCE, "iat": now, "exp": now + 4 * 3600,
            "scope": "inventory:read inventory:write mcp:metrics"});
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some(kid.to_owned());
        jsonwebtoken::encode(&header, &claims, key).expect("an RSA key signs")
    }

    fn k1_token(&self, subject: &str) -> String {
        Self::token(&self.k1.0, "k1", subject)
    }

    fn k2_token(&self, subject: &str) -> String {
        Self::token(&self.k2.0, "k2", subject)
    }

    /// A token naming `k1` but signed with `k2`'s key: its signature does not verify.
    fn forged_token(&self, subject: &str) -> String {
        Self::token(&self.k2.0, "k1", subject)
    }
}

async fn scrape_metrics(url: &str, token: &str) -> BTreeMap<String, f64> {
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

// ---------------------------------------------------------------------------------------------------------
// The load

struct Shared {
    started: Instant,
    next_id: AtomicU64,
    /// Set when the identity provider rotated to `k2`: half the well-behaved clients switch to it.
    rotated: AtomicBool,
    stop: AtomicBool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Role {
    /// 2026-07-28 requests, each complete in itself.
    Stateless,
    /// A handshake-era (2025-11-25) session.
    Session,
    /// No token or a forged one, from an address of its own.
    Attacker,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Kind {
    Initialize,
    Lookup,
    Adjust,
    List,
    BadArguments,
    UnknownTool,
    NoToken,
    ForgedToken,
}

/// What a request got, as the client sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Outcome {
    Ok,
    ToolError,
    InvalidParams,
    Unauthenticated,
    /// 503 with −32010: the signing keys could not be fetched and nothing fresh enough is cached.
    AuthUnavailable,
    Forbidden,
    RateLimited,
    /// 503 with −32014: the audit queue is full (a request refused before it ran, so it has no record).
    AuditFull,
    StoreUnavailable,
    OtherError(i64),
    Http(u16),
    /// No answer: the connection was refused or closed (only allowed once SIGTERM was sent).
    Transport,
    /// No answer within [`CLIENT_TIMEOUT`].
    Hung,
}

impl Outcome {
    fn name(self) -> String {
        match self {
            Outcome::Ok => "ok".into(),
            Outcome::ToolError => "tool_error".into(),
            Outcome::InvalidParams => "invalid_params".into(),
            Outcome::Unauthenticated => "unauthenticated".into(),
            Outcome::AuthUnavailable => "auth_unavailable".into(),
            Outcome::Forbidden => "forbidden".into(),
            Outcome::RateLimited => "rate_limited".into(),
            Outcome::AuditFull => "audit_queue_full".into(),
            Outcome::StoreUnavailable => "store_unavailable".into(),
            Outcome::OtherError(code) => format!("error {code}"),
            Outcome::Http(status) => format!("http {status}"),
            Outcome::Transport => "no_answer".into(),
            Outcome::Hung => "hung".into(),
        }
    }

    /// The audit reasons a record of a request with this outcome may carry.
    fn audit_reasons(self, kind: Kind) -> &'static [&'static str] {
        match (self, kind) {
            (Outcome::Ok, _) => &["ok"],
            // Revision 2025-11-25 reports invalid arguments as a tool error the model can read.
            (Outcome::ToolError, Kind::BadArguments) => &["invalid_arguments"],
            (Outcome::ToolError, Kind::UnknownTool) => &["unknown_tool"],
            (Outcome::ToolError, _) => &["tool_error"],
            (Outcome::InvalidParams, Kind::UnknownTool) => &["unknown_tool"],
            (Outcome::InvalidParams, _) => &["invalid_arguments"],
            (Outcome::Unauthenticated | Outcome::AuthUnavailable, _) => &["unauthenticated"],
            (Outcome::Forbidden, _) => &["forbidden"],
            (Outcome::RateLimited, _) => &["rate_limited"],
            (Outcome::StoreUnavailable, _) => &["rate_limited"],
            _ => &[],
        }
    }
}

struct Sample {
    id: u64,
    /// The client's address (`X-Forwarded-For`), which the audit record names as its source.
    source: Arc<str>,
    kind: Kind,
    role: Role,
    /// Uses the rotated key `k2`.
    k2: bool,
    sent: Duration,
    latency: Duration,
    outcome: Outcome,
}

struct LoadClient {
    index: usize,
    role: Role,
    url: String,
    http: reqwest::Client,
    k1: String,
    k2: String,
    forged: String,
    /// Switches to `k2` once the identity provider rotates (half the well-behaved clients).
    follows_rotation: bool,
    forwarded_for: String,
    source: Arc<str>,
    shared: Arc<Shared>,
    rng: u64,
    session: Option<String>,
}

impl LoadClient {
    fn new(index: usize, role: Role, url: String, keys: &Keys, shared: Arc<Shared>) -> Result<Self> {
        let subject = format!("agent-{index}");
        Ok(Self {
            index,
            role,
            url,
            http: reqwest::Client::builder().timeout(CLIENT_TIMEOUT).pool_max_idle_per_host(1).build()?,
            k1: keys.k1_token(&subject),
            k2: keys.k2_token(&subject),
            forged: keys.forged_token(&subject),
            follows_rotation: index.is_multiple_of(2),
            forwarded_for: format!("10.0.{}.{}", index / 250, index % 250 + 1),
            source: format!("10.0.{}.{}", index / 250, index % 250 + 1).into(),
            shared,
            rng: 0x9E37_79B9_7F4A_7C15 ^ (index as u64 + 1).wrapping_mul(0xBF58_476D_1CE4_E5B9),
            session: None,
        })
    }

    fn random(&mut self, below: u64) -> u64 {
        // xorshift64*: the same run of requests every time.
        self.rng ^= self.rng >> 12;
        self.rng ^= self.rng << 25;
        self.rng ^= self.rng >> 27;
        self.rng.wrapping_mul(0x2545_F491_4F6C_DD1D) % below
    }

    fn next_kind(&mut self) -> Kind {
        if self.role == Role::Attacker {
            return if self.random(2) == 0 { Kind::NoToken } else { Kind::ForgedToken };
        }
        if self.role == Role::Session && self.session.is_none() {
            return Kind::Initialize;
        }
        match self.random(100) {
            0..80 => Kind::Lookup,
            80..86 => Kind::Adjust,
            86..92 => Kind::List,
            92..97 => Kind::BadArguments,
            _ => Kind::UnknownTool,
        }
    }

    async fn run(mut self) -> Vec<Sample> {
        let mut samples = Vec::new();
        while !self.shared.stop.load(Ordering::SeqCst) {
            let kind = self.next_kind();
            let id = self.shared.next_id.fetch_add(1, Ordering::SeqCst);
            let k2 = self.follows_rotation && self.shared.rotated.load(Ordering::SeqCst);
            let sent = self.shared.started.elapsed();
            let started = Instant::now();
            let outcome = self.send(kind, id, k2).await;
            let latency = started.elapsed();
            samples.push(Sample {
                id,
                source: Arc::clone(&self.source),
                kind,
                role: self.role,
                k2,
                sent,
                latency,
                outcome,
            });
            if outcome == Outcome::Transport {
                // The server is gone (SIGTERM): do not spin.
                tokio::time::sleep(Duration::from_millis(50)).await;
            } else if self.role == Role::Attacker {
                // Refusals are cheap: unpaced, two attackers would be most of the load.
                tokio::time::sleep(ATTACKER_PAUSE).await;
            }
        }
        samples
    }

    async fn send(&mut self, kind: Kind, id: u64, k2: bool) -> Outcome {
        let (method, name, params) = match kind {
            Kind::Initialize => (
                "initialize",
                None,
                json!({"protocolVersion": "2025-11-25", "capabilities": {},
                "clientInfo": {"name": format!("soak-{}", self.index), "version": "1"}}),
            ),
            Kind::List => ("tools/list", None, json!({})),
            Kind::Lookup | Kind::NoToken | Kind::ForgedToken => {
                let sku = SKUS[self.random(SKUS.len() as u64) as usize];
                let arguments = match self.random(3) {
                    0 => json!({"sku": sku}),
                    n => json!({"sku": sku, "warehouse_id": WAREHOUSES[n as usize - 1]}),
                };
                ("tools/call", Some("lookup_stock"), json!({"name": "lookup_stock", "arguments": arguments}))
            }
            Kind::Adjust => {
                let sku = SKUS[self.random(SKUS.len() as u64) as usize];
                let arguments = json!({"sku": sku, "warehouse_id": "WH-EAST", "delta": 1});
                ("tools/call", Some("adjust_stock"), json!({"name": "adjust_stock", "arguments": arguments}))
            }
            Kind::BadArguments => {
                ("tools/call", Some("lookup_stock"), json!({"name": "lookup_stock", "arguments": {"sku": "not a sku"}}))
            }
            Kind::UnknownTool => ("tools/call", Some("drop_tables"), json!({"name": "drop_tables", "arguments": {}})),
        };
        let mut params = params;
        let mut request = self
            .http
            .post(&self.url)
            .header("content-type", "application/json")
            .header("x-forwarded-for", &self.forwarded_for);
        match &self.session {
            Some(session) if self.role == Role::Session => {
                request = request
                    .header("accept", "application/json, text/event-stream")
                    .header("mcp-session-id", session)
                    .header("mcp-protocol-version", "2025-11-25");
            }
            _ if kind == Kind::Initialize => {
                request = request.header("accept", "application/json, text/event-stream");
            }
            _ => {
                params["_meta"] = json!({
                    "io.modelcontextprotocol/protocolVersion": "2026-07-28",
                    "io.modelcontextprotocol/clientCapabilities": {},
                    "io.modelcontextprotocol/clientInfo": {"name": format!("soak-{}", self.index), "version": "1"}
                });
                request = request
                    .header("accept", "application/json")
                    .header("mcp-protocol-version", "2026-07-28")
                    .header("mcp-method", method);
                if let Some(name) = name {
                    request = request.header("mcp-name", name);
                }
            }
        }
        let token = match kind {
            Kind::NoToken => None,
            Kind::ForgedToken => Some(&self.forged),
            _ if k2 => Some(&self.k2),
            _ => Some(&self.k1),
        };
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let body = json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params});
        let response = match request.body(body.to_string()).send().await {
            Ok(response) => response,
            Err(e) if e.is_timeout() => return Outcome::Hung,
            Err(_) => return Outcome::Transport,
        };
        let status = response.status().as_u16();
        let session = response.headers().get("mcp-session-id").and_then(|v| v.to_str().ok()).map(str::to_owned);
        let sse = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|t| t.starts_with("text/event-stream"));
        let text = match response.text().await {
            Ok(text) => text,
            Err(e) if e.is_timeout() => return Outcome::Hung,
            Err(_) => return Outcome::Transport,
        };
        let answer = if sse {
            text.split("\n\n")
                .filter_map(|event| {
                    let data: Vec<&str> =
                        event.lines().filter_map(|l| l.strip_prefix("data:")).map(str::trim_start).collect();
                    serde_json::from_str::<Value>(&data.join("\n")).ok()
                })
                .find(|m| m["id"] == id)
        } else {
            serde_json::from_str::<Value>(&text).ok()
        };
        if status == 404 && self.role == Role::Session {
            self.session = None;
        }
        let Some(answer) = answer else { return Outcome::Http(status) };
        if let Some(error) = answer.get("error") {
            return match error["code"].as_i64().unwrap_or(0) {
                -32602 => Outcome::InvalidParams,
                -32010 if status == 503 => Outcome::AuthUnavailable,
                -32010 => Outcome::Unauthenticated,
                -32011 => Outcome::Forbidden,
                -32012 => Outcome::RateLimited,
                -32013 => Outcome::StoreUnavailable,
                -32014 => Outcome::AuditFull,
                code => Outcome::OtherError(code),
            };
        }
        if kind == Kind::Initialize && status == 200 {
            self.session = session;
            let initialized = json!({"jsonrpc": "2.0", "method": "notifications/initialized"}).to_string();
            if let Some(session) = &self.session {
                let _ = self
                    .http
                    .post(&self.url)
                    .header("content-type", "application/json")
                    .header("accept", "application/json, text/event-stream")
                    .header("x-forwarded-for", &self.forwarded_for)
                    .header("mcp-session-id", session)
                    .header("mcp-protocol-version", "2025-11-25")
                    .bearer_auth(&self.k1)
                    .body(initialized)
                    .send()
                    .await;
            }
        }
        match answer.get("result") {
            Some(result) if result["isError"] == true => Outcome::ToolError,
            Some(_) => Outcome::Ok,
            None => Outcome::Http(status),
        }
    }
}

// ---------------------------------------------------------------------------------------------------------
// The verdict

struct Report<'a> {
    options: &'a Options,
    timeline: &'a Timeline,
    samples: &'a [Sample],
    audit: &'a AuditSeen,
    rss: &'a [(Duration, u64)],
    events: &'a [(Duration, String)],
    exit: Option<ExitStatus>,
    exit_after: Duration,
    redis_keys: u64,
    verify: (bool, String),
    spans: u64,
    metrics: BTreeMap<String, f64>,
    jwks: (Duration, Duration, usize),
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
            Outcome::RateLimited => s.kind == Kind::Adjust,
            Outcome::InvalidParams | Outcome::ToolError => matches!(s.kind, Kind::BadArguments | Kind::UnknownTool),
            _ => false,
        }
    }

    fn render(&self) -> (String, bool) {
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
