//! `cargo xtask bench [--quick]`: the echo tool on this runtime (bare corridor, and the full production
//! pipeline), on rmcp (stateless JSON and session mode) and on a bare hyper server that parses the body
//! with serde_json (the ceiling), driven side by side by one load generator, then 100 000 pipelined stdio
//! calls against rmcp's stdio server, then the corridor's criterion benchmarks.
//!
//! The load generator is `wrk` (Debian's package, unpacked into `target/peers/wrk` like redis): C and
//! epoll, so it takes little of the machine from the servers, and its Lua hook gives every request an id
//! of its own (a session refuses an id reused while in flight). Every server runs on core 1 and `wrk` on
//! core 0 (`taskset`) when the machine has two cores or more, so each server gets one Tokio worker and the
//! same share of the machine. Each scenario is warmed up with a script that checks every answer's body,
//! then measured in rounds whose order rotates, so drift in the machine spreads over all servers alike;
//! the table shows medians. CPU time per request comes from the server's `/proc/PID/stat` (user + system)
//! around each measured run; peak RSS from `VmHWM`, reset before each concurrency (`clear_refs`).
//!
//! Every server allocates with mimalloc, the runtime's default, so the ratios compare frameworks, not
//! allocators.
//!
//! `mod.rs` runs the parts in order; `servers.rs` starts the servers (pinned, with their configurations),
//! `http.rs` drives them with `wrk`, `stdio.rs` drives the stdio servers, `criterion.rs` reads criterion's
//! estimates back and `report.rs` writes the markdown report.

mod criterion;
mod http;
mod report;
mod servers;
mod stdio;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Result, bail};

use self::criterion::criterion_medians;
use self::http::{CHECK_LUA, MEASURE_LUA, Run, body, call_once, open_session_if, wrk_check, wrk_measure};
use self::report::render;
use self::servers::{BARE, Pin, Process, full_config, hash_key};
use self::stdio::stdio_run;

/// The API key of the full pipeline (a benchmark's, not a secret).
pub(super) const KEY: &str = "bench-key-3f9a1c";
/// The message every call echoes.
pub(super) const MESSAGE: &str = "hello";

/// What the command line asked for.
pub(super) struct Plan {
    pub(super) rounds: usize,
    pub(super) seconds: u64,
    warmup: u64,
    pub(super) stdio_calls: usize,
    /// The parts to run (`--only`); all of them when empty.
    only: Vec<String>,
}

impl Plan {
    const PARTS: [&str; 3] = ["http", "stdio", "criterion"];

    fn parse(args: &[String]) -> Result<Self> {
        let mut plan = Self { rounds: 3, seconds: 4, warmup: 2, stdio_calls: 100_000, only: Vec::new() };
        let mut args = args.iter();
        while let Some(arg) = args.next() {
            match arg.as_str() {
                "--quick" => (plan.rounds, plan.seconds, plan.warmup, plan.stdio_calls) = (1, 2, 1, 20_000),
                "--only" => match args.next() {
                    Some(part) if Self::PARTS.contains(&part.as_str()) => plan.only.push(part.clone()),
                    _ => bail!("--only takes one of {}", Self::PARTS.join(", ")),
                },
                other => bail!("unknown bench argument {other}: --quick, --only {}", Self::PARTS.join("|")),
            }
        }
        Ok(plan)
    }

    /// Whether `part` runs.
    fn runs(&self, part: &str) -> bool {
        self.only.is_empty() || self.only.iter().any(|p| p == part)
    }
}

/// The servers, each a process.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Server {
    Ceiling,
    Bare,
    Full,
    RmcpStateless,
    RmcpSession,
}

impl Server {
    pub(super) fn name(self) -> &'static str {
        match self {
            Server::Ceiling => "hyper + serde_json (ceiling)",
            Server::Bare => "mcp-runtime, bare corridor",
            Server::Full => "mcp-runtime, full pipeline",
            Server::RmcpStateless => "rmcp 3.11, stateless JSON",
            Server::RmcpSession => "rmcp 3.11, session",
        }
    }
}

/// How requests are sent: 2026-07-28 stateless, or in a handshake-era session.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Era {
    Stateless,
    Session,
}

/// One server and one way of calling it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct Scenario {
    pub(super) server: Server,
    pub(super) era: Era,
}

pub(super) const SCENARIOS: &[Scenario] = &[
    Scenario { server: Server::Ceiling, era: Era::Stateless },
    Scenario { server: Server::Bare, era: Era::Stateless },
    Scenario { server: Server::Full, era: Era::Stateless },
    Scenario { server: Server::RmcpStateless, era: Era::Stateless },
    Scenario { server: Server::Bare, era: Era::Session },
    Scenario { server: Server::Full, era: Era::Session },
    Scenario { server: Server::RmcpSession, era: Era::Session },
];

pub(super) const CONCURRENCY: &[usize] = &[16, 64];

pub(crate) fn run(root: &Path, cargo: &str, args: &[String]) -> Result<()> {
    let plan = Plan::parse(args)?;
    let started = Instant::now();
    let wrk = install_wrk(root)?;
    super::run(
        Command::new(cargo).args(["build", "--release", "--locked", "-p", "mcp-bench", "--bins"]).current_dir(root),
    )?;
    let bin = root.join("target/release");
    let dir = root.join("target/bench");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir)?;
    let pin = Pin::detect();

    // The configurations, the bodies and the scripts.
    let digest = hash_key(&bin.join("runtime-echo"))?;
    let sink = Process::start(&pin, &bin.join("otlp-sink"), &[], &dir, "otlp-sink")?;
    std::fs::write(dir.join("bare.toml"), BARE)?;
    std::fs::write(dir.join("full.toml"), full_config(&digest, &sink.address, &dir))?;
    std::fs::write(dir.join("stateless.json"), body(Era::Stateless))?;
    std::fs::write(dir.join("session.json"), body(Era::Session))?;
    std::fs::write(dir.join("mcp.lua"), MEASURE_LUA)?;
    std::fs::write(dir.join("check.lua"), CHECK_LUA)?;

    let config = |name: &str| dir.join(name).display().to_string();
    let runtime = bin.join("runtime-echo");
    let rmcp = bin.join("rmcp-echo");
    let mut idle = BTreeMap::new();
    let mut results: BTreeMap<(usize, Scenario), Vec<Run>> = BTreeMap::new();
    let mut peaks: BTreeMap<(usize, Server), u64> = BTreeMap::new();
    if plan.runs("http") {
        let mut servers = BTreeMap::new();
        let http = ["--transport", "http", "--bind", "127.0.0.1:0"];
        servers.insert(Server::Ceiling, Process::start(&pin, &bin.join("ceiling"), &[], &dir, "ceiling")?);
        let bare_args: Vec<String> =
            http.iter().map(|s| (*s).to_owned()).chain(["--config".into(), config("bare.toml")]).collect();
        let full_args: Vec<String> =
            http.iter().map(|s| (*s).to_owned()).chain(["--config".into(), config("full.toml")]).collect();
        servers.insert(Server::Bare, Process::start(&pin, &runtime, &bare_args, &dir, "bare")?);
        servers.insert(Server::Full, Process::start(&pin, &runtime, &full_args, &dir, "full")?);
        servers.insert(
            Server::RmcpStateless,
            Process::start(&pin, &rmcp, &["--mode".into(), "stateless".into()], &dir, "rmcp-stateless")?,
        );
        servers.insert(
            Server::RmcpSession,
            Process::start(&pin, &rmcp, &["--mode".into(), "session".into()], &dir, "rmcp-session")?,
        );

        // Idle memory: after one checked call each, before any load.
        for (&server, process) in &servers {
            let session = open_session_if(server, Era::Stateless, &process.address)?;
            let answer = call_once(&process.address, Era::Stateless, server == Server::Full, session.as_deref())?;
            if !answer.contains(MESSAGE) {
                bail!("{} answered the first call with {answer}", server.name());
            }
            std::thread::sleep(Duration::from_millis(300));
            idle.insert(server, process.status_kib("VmRSS")?);
        }

        for &c in CONCURRENCY {
            for process in servers.values() {
                process.reset_peak();
            }
            for scenario in SCENARIOS {
                let process = &servers[&scenario.server];
                let session = open_session_if(scenario.server, scenario.era, &process.address)?;
                let failures = wrk_check(&wrk, &pin, &dir, process, *scenario, session.as_deref(), c, plan.warmup)?;
                if failures > 0 {
                    bail!(
                        "{} ({:?}) at c{c}: {failures} answers without the echo or with an error during warm-up",
                        scenario.server.name(),
                        scenario.era
                    );
                }
            }
            for round in 0..plan.rounds {
                let mut order: Vec<Scenario> = SCENARIOS.to_vec();
                order.rotate_left(round % SCENARIOS.len());
                for scenario in order {
                    let process = &servers[&scenario.server];
                    let session = open_session_if(scenario.server, scenario.era, &process.address)?;
                    let run = wrk_measure(&wrk, &pin, &dir, process, scenario, session.as_deref(), c, plan.seconds)?;
                    eprintln!(
                        "bench: c{c} round {} {:<32} {:?}: {:>8.0} req/s, p50 {:>6.0} µs, p99 {:>6.0} µs, {:>5.1} µs CPU/req",
                        round + 1,
                        scenario.server.name(),
                        scenario.era,
                        run.rps,
                        run.p50_us,
                        run.p99_us,
                        run.cpu_us
                    );
                    results.entry((c, scenario)).or_default().push(run);
                }
            }
            for (&server, process) in &servers {
                peaks.insert((c, server), process.status_kib("VmHWM")?);
            }
        }
        drop(servers);
    }
    drop(sink);

    // stdio: 100 000 pipelined calls, ours against rmcp's, alternating.
    let mut stdio: BTreeMap<&'static str, Vec<(f64, f64)>> = BTreeMap::new();
    for round in 0..if plan.runs("stdio") { plan.rounds.max(2) } else { 0 } {
        let mut pair = [
            (
                "mcp-runtime",
                runtime.clone(),
                vec!["--transport".to_owned(), "stdio".into(), "--config".into(), config("bare.toml")],
            ),
            ("rmcp 3.11", rmcp.clone(), vec!["--mode".to_owned(), "stdio".into()]),
        ];
        if round % 2 == 1 {
            pair.reverse();
        }
        for (name, program, args) in pair {
            let figures = stdio_run(&pin, &program, &args, plan.stdio_calls)?;
            eprintln!("bench: stdio {name}: {:.0} calls/s, {:.1} µs CPU/call", figures.0, figures.1);
            stdio.entry(name).or_default().push(figures);
        }
    }

    // The corridor in-process (criterion): only the estimates this run wrote are reported.
    let criterion_started = std::time::SystemTime::now();
    if plan.runs("criterion") {
        super::run(
            Command::new(cargo)
                .args(["bench", "--locked", "-p", "mcp-runtime", "--bench", "corridor", "--"])
                .args(["--warm-up-time", "1", "--measurement-time", if plan.rounds == 1 { "2" } else { "4" }])
                .current_dir(root),
        )?;
    }
    let criterion = criterion_medians(&root.join("target/criterion"), criterion_started)?;

    let report = render(&plan, &results, &peaks, &idle, &stdio, &criterion, &pin);
    println!("{report}");
    std::fs::write(dir.join("report.md"), &report)?;
    eprintln!("bench: done in {:.0?}; report in {}", started.elapsed(), dir.join("report.md").display());
    Ok(())
}

/// `wrk` from Debian's package (and LuaJIT, which it needs), unpacked into `target/peers/wrk` unless the
/// machine has one: the binary and the folder of its libraries.
fn install_wrk(root: &Path) -> Result<(PathBuf, PathBuf)> {
    if let Ok(system) = super::which("wrk") {
        return Ok((system, PathBuf::new()));
    }
    super::unpack_debian(root, "wrk", &["wrk", "libluajit-5.1-2", "libluajit-5.1-common"], "wrk")
}
