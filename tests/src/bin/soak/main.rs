//! The soak: sustained load on the inventory example under a production configuration while, in turn,
//! Redis is stopped and restarted, the JWKS endpoint fails and recovers, the audit sink stalls, and SIGTERM
//! arrives. `cargo xtask soak [--minutes N]` builds and runs it; `cargo xtask test` runs a one-minute
//! version.
//!
//! Everything is real and on loopback: a `redis-server` the soak starts (and kills, and starts again on the
//! same port), the inventory binary on Streamable HTTP with JWT authentication against a JWKS endpoint this
//! process serves, limits shared through Redis, an audit trail on its stdout (read by this process, which
//! can stop reading — a stalled log shipper; kept in `<out>/audit.jsonl` when the run fails), and spans
//! exported over OTLP to a sink this process serves. Redis, the server process, the JWKS endpoint and the
//! OTLP sink are the `mcp_tests` library's, the peers the integration tests use.
//!
//! This file holds the command line and the run's order (`timeline.rs` its phases); `load.rs` the clients,
//! `tasks.rs` the task clients' tasks and their verdict, `keys.rs` their tokens, `observe.rs` what is read
//! from the server (its audit trail, memory and metrics), and `report.rs` the verdict.
//!
//! The load is closed-loop: `--concurrency` clients, each sending its next request when the last one is
//! answered. Most clients are well behaved (2026-07-28 stateless requests, some in handshake-era sessions;
//! one client in eight runs `recount_warehouse` as 2025-11-25 tasks, of a few hundred milliseconds each);
//! the last two are attackers sending no or forged tokens from their own addresses (`X-Forwarded-For`, a
//! trusted proxy), so the failed-authentication lockout hits them and no one else. Every request carries an
//! id no other request has, so the audit trail can be checked request by request.
//!
//! The verdict fails (exit 1) when: a request got an answer its phase does not allow; an accepted request
//! has no audit record, or more than one, or a record disagrees with the answer; a record names a request
//! never sent; the hash chain does not verify; a request waited longer than the longest configured timeout;
//! the server took longer than its shutdown grace to exit after SIGTERM, or did not exit cleanly; Redis was
//! not used again after its restart; the resident memory kept growing; or a task a client was given has no
//! outcome record, or more than one, or one that disagrees with what the client saw of it.

mod keys;
mod load;
mod observe;
mod report;
mod tasks;
mod timeline;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use mcp_tests::{JwksServer, NetworkServer, OtlpReceiver, RedisServer, ServerLog};

use self::keys::Keys;
use self::load::{LoadClient, Role, Shared};
use self::observe::{AuditReader, RssSampler, scrape_metrics};
use self::report::Report;
use self::timeline::{Phase, Timeline};

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
/// How long `recount_warehouse` takes in the soak (`INVENTORY_RECOUNT_MS`): a task lives a few polls.
const RECOUNT_MS: &str = "200";
/// The audit HMAC key the soak's server redacts and chains with (`AUDIT_HMAC_KEY`).
const SOAK_HMAC_KEY: &str = "soak-hmac-key-not-a-secret";

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

async fn soak(options: Options) -> Result<bool> {
    std::fs::create_dir_all(&options.out)?;
    let timeline = Timeline::new(options.total);
    // The JWKS refresh and staleness scale with the run, so the JWKS outage outlives the cache: first only
    // tokens signed with the newly rotated key are refused, then (fail closed) every token, until it is back.
    let jwks_down = timeline.end(Phase::JwksDown) - timeline.start(Phase::JwksDown);
    let jwks_refresh = (jwks_down / 6).clamp(Duration::from_secs(1), Duration::from_secs(10));
    let jwks_max_stale = (jwks_down / 2).max(jwks_refresh * 2);

    let mut redis = RedisServer::start_at(&options.redis, options.redis_libs.as_deref(), None)?;
    let keys = Keys::load(&options.fixtures)?;
    let jwks = JwksServer::default();
    jwks.serve_keys(vec![keys.k1.1.clone()]);
    let jwks_uri = jwks.clone().start().await;
    let otlp = OtlpReceiver::counting();
    let otlp_endpoint = otlp.start().await;
    let config = options.out.join("mcp.toml");
    std::fs::write(&config, config_toml(&jwks_uri, &otlp_endpoint, redis.port, jwks_refresh, jwks_max_stale))?;
    let audit_file = options.out.join("audit.jsonl");
    let (mut server, mut audit_reader) = start_server(&options, &config, &audit_file)?;
    let url = format!("{}/mcp", server.base);
    eprintln!(
        "soak: {} on {url}, {} clients for {:.0?}; Redis on {}, JWKS at {jwks_uri}, OTLP sink at {otlp_endpoint}; \
         output in {}",
        options.server.display(),
        options.concurrency,
        options.total,
        redis.port,
        options.out.display()
    );

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
        } else if index % 8 == 5 {
            Role::Tasker
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
    redis.restart()?;
    note(&shared, format!("redis-server started again on port {}", redis.port));
    until(Phase::JwksDown).await;
    jwks.failing.store(true, Ordering::SeqCst);
    shared.rotated.store(true, Ordering::SeqCst);
    note(&shared, "JWKS endpoint answers 500; half the clients now hold tokens of a new key (kid k2)".into());
    until(Phase::JwksBack).await;
    jwks.serve_keys(vec![keys.k1.1.clone(), keys.k2.1.clone()]);
    jwks.failing.store(false, Ordering::SeqCst);
    let redis_keys = redis.dbsize();
    note(&shared, format!("JWKS endpoint back, publishing k1 and k2 (Redis holds {redis_keys} limiter keys)"));
    until(Phase::AuditStall).await;
    audit_reader.stalled.store(true, Ordering::SeqCst);
    note(&shared, "audit sink stalled: its reader stops reading the server's stdout".into());
    until(Phase::AuditBack).await;
    audit_reader.stalled.store(false, Ordering::SeqCst);
    note(&shared, "audit sink reading again".into());
    until(Phase::Sigterm).await;
    let metrics = scrape_metrics(&url, &keys.k1_token("soak-metrics")).await;
    let sigterm_at = Instant::now();
    server.signal("-TERM")?;
    note(&shared, "SIGTERM sent".into());
    let limit = SHUTDOWN_GRACE + Duration::from_secs(20);
    let exit = server.exit_within(limit).await.ok_or_else(|| format!("still running {limit:?} after SIGTERM: killed"));
    let exit_after = sigterm_at.elapsed();
    note(&shared, format!("server exited ({exit:?}) {exit_after:.2?} after SIGTERM"));
    tokio::time::sleep(Duration::from_millis(300)).await;
    shared.stop.store(true, Ordering::SeqCst);
    let mut samples = Vec::new();
    let mut tasks = Vec::new();
    for client in clients {
        let (sent, given) = client.await.context("a load client panicked")?;
        samples.extend(sent);
        tasks.extend(given);
    }
    let rss = rss.finish();
    let audit = audit_reader.finish();
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
    let spans = otlp.spans();
    let report = Report {
        options: &options,
        timeline: &timeline,
        samples: &samples,
        tasks: &tasks,
        audit: &audit,
        rss: &rss,
        events: &events,
        exit: exit.as_ref().ok().copied(),
        exit_after,
        redis_keys,
        verify: (verify.status.success(), String::from_utf8_lossy(&verify.stdout).trim().to_owned()),
        spans,
        metrics,
        jwks: (jwks_refresh, jwks_max_stale, jwks.fetches()),
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

fn config_toml(jwks_uri: &str, otlp: &str, redis_port: u16, refresh: Duration, max_stale: Duration) -> String {
    format!(
        r#"# Written by the soak (tests/src/bin/soak/): the inventory gateway in production shape.
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
jwks_uri = "{jwks_uri}"
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
endpoint = "{otlp}"
sample_ratio = 1.0
export_interval = "1s"

[tasks]
ttl = "60s"                         # kept a minute after creation: the store stays flat over a long run
poll_interval = "100ms"

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

/// The server under test, its audit trail read from its stdout into `audit_file` and its log written to
/// `<out>/server.log`.
fn start_server(options: &Options, config: &Path, audit_file: &Path) -> Result<(NetworkServer, AuditReader)> {
    let mut command = Command::new(&options.server);
    command
        .arg("--config")
        .arg(config)
        .env("AUDIT_HMAC_KEY", SOAK_HMAC_KEY)
        .env("INVENTORY_RECOUNT_MS", RECOUNT_MS)
        .stdout(Stdio::piped());
    let log = options.out.join("server.log");
    let mut server = NetworkServer::launch(command, ServerLog::File(log.clone()), Duration::from_secs(30))
        .with_context(|| format!("the server did not start; see {}", log.display()))?;
    let audit = AuditReader::start(server.take_stdout().context("piped stdout")?, audit_file)?;
    Ok((server, audit))
}
