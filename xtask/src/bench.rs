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

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

/// The API key of the full pipeline (a benchmark's, not a secret).
const KEY: &str = "bench-key-3f9a1c";
/// The message every call echoes.
const MESSAGE: &str = "hello";

/// What the command line asked for.
struct Plan {
    rounds: usize,
    seconds: u64,
    warmup: u64,
    stdio_calls: usize,
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
enum Server {
    Ceiling,
    Bare,
    Full,
    RmcpStateless,
    RmcpSession,
}

impl Server {
    fn name(self) -> &'static str {
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
enum Era {
    Stateless,
    Session,
}

/// One server and one way of calling it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Scenario {
    server: Server,
    era: Era,
}

const SCENARIOS: &[Scenario] = &[
    Scenario { server: Server::Ceiling, era: Era::Stateless },
    Scenario { server: Server::Bare, era: Era::Stateless },
    Scenario { server: Server::Full, era: Era::Stateless },
    Scenario { server: Server::RmcpStateless, era: Era::Stateless },
    Scenario { server: Server::Bare, era: Era::Session },
    Scenario { server: Server::Full, era: Era::Session },
    Scenario { server: Server::RmcpSession, era: Era::Session },
];

const CONCURRENCY: &[usize] = &[16, 64];

/// One measured run.
#[derive(Clone, Copy, Debug, Default)]
struct Run {
    rps: f64,
    p50_us: f64,
    p99_us: f64,
    cpu_us: f64,
}

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

const BARE: &str = r#"# cargo xtask bench: the bare corridor (no authentication, audit, limits or export).
[security]
strategy = "none"

[audit]
destination = "none"

[log]
level = "warn,mcp_runtime::transport=info"   # the listening address is logged at info
"#;

fn full_config(digest: &str, sink: &str, dir: &Path) -> String {
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

/// The request body, with `@ID@` where each request's id goes.
fn body(era: Era) -> String {
    let meta = match era {
        Era::Stateless => {
            r#","_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{},"io.modelcontextprotocol/clientInfo":{"name":"bench","version":"0"}}"#
        }
        Era::Session => "",
    };
    format!(
        r#"{{"jsonrpc":"2.0","id":@ID@,"method":"tools/call","params":{{"name":"echo","arguments":{{"message":"{MESSAGE}"}}{meta}}}}}"#
    )
}

/// The headers of a call, besides the session's.
fn headers(era: Era, full: bool) -> Vec<String> {
    let mut headers =
        vec!["Content-Type: application/json".to_owned(), "Accept: application/json, text/event-stream".to_owned()];
    match era {
        Era::Stateless => headers.extend([
            "MCP-Protocol-Version: 2026-07-28".to_owned(),
            "Mcp-Method: tools/call".to_owned(),
            "Mcp-Name: echo".to_owned(),
        ]),
        Era::Session => headers.push("MCP-Protocol-Version: 2025-11-25".to_owned()),
    }
    if full {
        headers.push(format!("Authorization: Bearer {KEY}"));
    }
    headers
}

/// The measuring script: a new id per request, one JSON line of figures at the end.
const MEASURE_LUA: &str = r#"wrk.method = "POST"
local pre, post, n = nil, nil, 0
init = function(args)
  local f = assert(io.open(args[1], "r")); local t = f:read("*a"):gsub("%s+$", ""); f:close()
  pre, post = t:match("^(.-)@ID@(.*)$")
end
request = function() n = n + 1; return wrk.format(nil, nil, nil, pre .. n .. post) end
done = function(s, lat, _)
  io.write(string.format('{"requests":%d,"duration_us":%d,"status_errors":%d,"socket_errors":%d,"p50_us":%d,"p99_us":%d}\n',
    s.requests, s.duration, s.errors.status, s.errors.connect + s.errors.read + s.errors.write + s.errors.timeout,
    lat:percentile(50), lat:percentile(99)))
end
"#;

/// The warm-up script: the same requests, every answer checked (status 200, the echo, no error).
const CHECK_LUA: &str = r#"wrk.method = "POST"
local pre, post, n, bad = nil, nil, 0, 0
init = function(args)
  local f = assert(io.open(args[1], "r")); local t = f:read("*a"):gsub("%s+$", ""); f:close()
  pre, post = t:match("^(.-)@ID@(.*)$")
end
request = function() n = n + 1; return wrk.format(nil, nil, nil, pre .. n .. post) end
response = function(status, headers, body)
  if status ~= 200 or not body:find('"text":"hello"', 1, true) or body:find('"error"', 1, true) then bad = bad + 1 end
end
done = function(s, lat, _) io.write(string.format('{"bad":%d}\n', bad)) end
"#;

/// Core pinning: servers on core 1, the load generator on core 0, when there are two cores and `taskset`.
struct Pin {
    taskset: Option<PathBuf>,
}

impl Pin {
    fn detect() -> Self {
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        let taskset = super::which("taskset").ok().filter(|_| cores >= 2);
        Self { taskset }
    }

    fn command(&self, core: usize, program: &Path) -> Command {
        match &self.taskset {
            Some(taskset) => {
                let mut command = Command::new(taskset);
                command.arg("-c").arg(core.to_string()).arg(program);
                command
            }
            None => Command::new(program),
        }
    }

    fn describe(&self) -> &'static str {
        if self.taskset.is_some() { "servers on core 1, wrk and the stdio driver on core 0" } else { "not pinned" }
    }
}

/// A server process, killed when dropped.
struct Process {
    child: Child,
    address: String,
}

impl Process {
    fn start(pin: &Pin, program: &Path, args: &[String], dir: &Path, name: &str) -> Result<Self> {
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
    fn status_kib(&self, field: &str) -> Result<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))?;
        status
            .lines()
            .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .with_context(|| format!("no {field} in /proc/{}/status", self.child.id()))
    }

    /// User + system CPU time so far, in µs.
    fn cpu_us(&self) -> Result<f64> {
        cpu_us(self.child.id())
    }

    /// Resets `VmHWM` to the current RSS.
    fn reset_peak(&self) {
        let _ = std::fs::write(format!("/proc/{}/clear_refs", self.child.id()), "5");
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn cpu_us(pid: u32) -> Result<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    // Fields after the command name (which may hold spaces): state is field 3, utime 14, stime 15.
    let rest = stat.rsplit_once(')').map(|(_, r)| r).context("malformed /proc stat")?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: f64 = fields[11].parse::<f64>()? + fields[12].parse::<f64>()?;
    Ok(ticks * 10_000.0) // USER_HZ is 100 on Linux
}

/// The digest of [`KEY`], from the server binary itself (`--hash-key`).
fn hash_key(runtime: &Path) -> Result<String> {
    let mut child = Command::new(runtime).arg("--hash-key").stdin(Stdio::piped()).stdout(Stdio::piped()).spawn()?;
    child.stdin.take().context("piped stdin")?.write_all(KEY.as_bytes())?;
    let output = child.wait_with_output()?;
    let text = String::from_utf8_lossy(&output.stdout);
    text.split_whitespace()
        .find(|w| w.starts_with("sha256:"))
        .map(str::to_owned)
        .context("--hash-key printed no digest")
}

/// Opens a handshake-era session when the scenario needs one; returns its id.
fn open_session_if(server: Server, era: Era, address: &str) -> Result<Option<String>> {
    if era != Era::Session {
        return Ok(None);
    }
    let full = server == Server::Full;
    let init = r#"{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"bench","version":"0"}}}"#;
    let mut extra =
        vec!["Content-Type: application/json".to_owned(), "Accept: application/json, text/event-stream".to_owned()];
    if full {
        extra.push(format!("Authorization: Bearer {KEY}"));
    }
    let (head, _) = http_post(address, &extra, init)?;
    let session = head
        .lines()
        .find_map(|l| {
            l.split_once(':')
                .filter(|(k, _)| k.eq_ignore_ascii_case("mcp-session-id"))
                .map(|(_, v)| v.trim().to_owned())
        })
        .context("initialize returned no Mcp-Session-Id")?;
    extra.push(format!("Mcp-Session-Id: {session}"));
    extra.push("MCP-Protocol-Version: 2025-11-25".to_owned());
    let (head, _) = http_post(address, &extra, r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#)?;
    if !head.starts_with("HTTP/1.1 202") {
        bail!("notifications/initialized: {}", head.lines().next().unwrap_or_default());
    }
    Ok(Some(session))
}

/// One call, answered: its body.
fn call_once(address: &str, era: Era, full: bool, session: Option<&str>) -> Result<String> {
    let mut extra = headers(era, full);
    if let Some(session) = session {
        extra.push(format!("Mcp-Session-Id: {session}"));
    }
    let (head, body) = http_post(address, &extra, &body(era).replace("@ID@", "1"))?;
    if !head.starts_with("HTTP/1.1 200") {
        bail!("{}: {body}", head.lines().next().unwrap_or_default());
    }
    Ok(body)
}

/// A POST to `/mcp` over its own connection (`Connection: close`): the response head and body.
fn http_post(address: &str, headers: &[String], body: &str) -> Result<(String, String)> {
    let mut stream = std::net::TcpStream::connect(address)?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    let mut request =
        format!("POST /mcp HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\nContent-Length: {}\r\n", body.len());
    for header in headers {
        request += header;
        request += "\r\n";
    }
    request += "\r\n";
    request += body;
    stream.write_all(request.as_bytes())?;
    // The head, then a body of Content-Length bytes, or (SSE, chunked) until the answer or the end.
    let mut response = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        let n = stream.read(&mut buf)?;
        response.extend_from_slice(&buf[..n]);
        let text = String::from_utf8_lossy(&response);
        if let Some((head, body)) = text.split_once("\r\n\r\n") {
            let length = head.lines().find_map(|l| {
                l.split_once(':')
                    .filter(|(k, _)| k.eq_ignore_ascii_case("content-length"))
                    .and_then(|(_, v)| v.trim().parse::<usize>().ok())
            });
            let done = match length {
                Some(length) => body.len() >= length,
                None => n == 0 || body.contains("\"result\"") || body.contains("\"error\""),
            };
            if done {
                return Ok((head.to_owned(), body.to_owned()));
            }
        }
        if n == 0 {
            bail!("the connection closed before a whole response: {text}");
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn wrk_command(
    wrk: &(PathBuf, PathBuf),
    pin: &Pin,
    dir: &Path,
    process: &Process,
    scenario: Scenario,
    session: Option<&str>,
    c: usize,
    seconds: u64,
    script: &str,
) -> Command {
    let mut command = pin.command(0, &wrk.0);
    command.env("LD_LIBRARY_PATH", &wrk.1).args([
        "-t1",
        &format!("-c{c}"),
        &format!("-d{seconds}s"),
        "--timeout",
        "5s",
    ]);
    for header in headers(scenario.era, scenario.server == Server::Full) {
        command.arg("-H").arg(header);
    }
    if let Some(session) = session {
        command.arg("-H").arg(format!("Mcp-Session-Id: {session}"));
    }
    let body = if scenario.era == Era::Stateless { "stateless.json" } else { "session.json" };
    command
        .arg("-s")
        .arg(dir.join(script))
        .arg(format!("http://{}/mcp", process.address))
        .arg("--")
        .arg(dir.join(body))
        .stdin(Stdio::null())
        .stderr(Stdio::inherit());
    command
}

/// The last line wrk printed, parsed by hand (`{"key":number,...}`).
fn figures(output: &[u8]) -> Result<BTreeMap<String, f64>> {
    let text = String::from_utf8_lossy(output);
    let line =
        text.lines().rev().find(|l| l.starts_with('{')).with_context(|| format!("wrk printed no figures:\n{text}"))?;
    let mut map = BTreeMap::new();
    for pair in line.trim_matches(|c| c == '{' || c == '}').split(',') {
        let (k, v) = pair.split_once(':').context("a figure")?;
        map.insert(k.trim_matches('"').to_owned(), v.parse()?);
    }
    Ok(map)
}

#[allow(clippy::too_many_arguments)]
fn wrk_check(
    wrk: &(PathBuf, PathBuf),
    pin: &Pin,
    dir: &Path,
    process: &Process,
    scenario: Scenario,
    session: Option<&str>,
    c: usize,
    seconds: u64,
) -> Result<u64> {
    let output = wrk_command(wrk, pin, dir, process, scenario, session, c, seconds, "check.lua").output()?;
    Ok(figures(&output.stdout)?.get("bad").copied().unwrap_or(f64::MAX) as u64)
}

#[allow(clippy::too_many_arguments)]
fn wrk_measure(
    wrk: &(PathBuf, PathBuf),
    pin: &Pin,
    dir: &Path,
    process: &Process,
    scenario: Scenario,
    session: Option<&str>,
    c: usize,
    seconds: u64,
) -> Result<Run> {
    let before = process.cpu_us()?;
    let output = wrk_command(wrk, pin, dir, process, scenario, session, c, seconds, "mcp.lua").output()?;
    let after = process.cpu_us()?;
    let f = figures(&output.stdout)?;
    let requests = f["requests"];
    if f["status_errors"] > 0.0 || f["socket_errors"] > 0.0 {
        bail!(
            "{} ({:?}) at c{c}: {} status errors and {} socket errors in {requests} requests",
            scenario.server.name(),
            scenario.era,
            f["status_errors"],
            f["socket_errors"]
        );
    }
    Ok(Run {
        rps: requests / (f["duration_us"] / 1e6),
        p50_us: f["p50_us"],
        p99_us: f["p99_us"],
        cpu_us: (after - before) / requests.max(1.0),
    })
}

/// `calls` pipelined `tools/call`s over one stdio connection after the handshake, at most 128 outstanding
/// (the runtime refuses requests beyond `max_in_flight` running and as many waiting): calls/s and CPU µs
/// per call.
fn stdio_run(pin: &Pin, program: &Path, args: &[String], calls: usize) -> Result<(f64, f64)> {
    const WINDOW: usize = 128;
    let mut child = pin
        .command(1, program)
        .args(args)
        .env("MCP_LOG__LEVEL", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .with_context(|| format!("cannot start {}", program.display()))?;
    let mut stdin = std::io::BufWriter::new(child.stdin.take().context("piped stdin")?);
    let mut stdout = BufReader::new(child.stdout.take().context("piped stdout")?);
    let mut line = String::new();
    writeln!(
        stdin,
        r#"{{"jsonrpc":"2.0","id":0,"method":"initialize","params":{{"protocolVersion":"2025-11-25","capabilities":{{}},"clientInfo":{{"name":"bench","version":"0"}}}}}}"#
    )?;
    stdin.flush()?;
    stdout.read_line(&mut line)?;
    if !line.contains("\"result\"") {
        bail!("{} answered initialize with {line}", program.display());
    }
    writeln!(stdin, r#"{{"jsonrpc":"2.0","method":"notifications/initialized"}}"#)?;
    let template = body(Era::Session);
    let (tx, rx) = mpsc::sync_channel::<()>(WINDOW);
    for _ in 0..WINDOW {
        tx.send(())?;
    }
    let cpu_before = cpu_us(child.id())?;
    let started = Instant::now();
    let reader = std::thread::spawn(move || -> Result<usize> {
        let mut answered = 0;
        let mut line = String::new();
        while answered < calls {
            line.clear();
            if stdout.read_line(&mut line)? == 0 {
                bail!("the server closed its stdout after {answered} answers");
            }
            if line.contains("\"id\"") && line.contains("\"result\"") {
                if !line.contains(MESSAGE) {
                    bail!("a call was answered without the echo: {line}");
                }
                answered += 1;
                let _ = tx.send(());
            } else if line.contains("\"error\"") {
                bail!("a call failed: {line}");
            }
        }
        Ok(answered)
    });
    // Write while credits last, flush, then wait for the next answer's credit.
    let mut credits = 0;
    for id in 1..=calls {
        if credits == 0 {
            stdin.flush()?;
            rx.recv()?;
            credits = 1 + rx.try_iter().count();
        }
        credits -= 1;
        stdin.write_all(template.replace("@ID@", &id.to_string()).as_bytes())?;
        stdin.write_all(b"\n")?;
    }
    stdin.flush()?;
    let answered = reader.join().map_err(|_| anyhow::anyhow!("the stdio reader panicked"))??;
    let elapsed = started.elapsed();
    let cpu = cpu_us(child.id())? - cpu_before;
    drop(stdin);
    let _ = child.wait();
    Ok((answered as f64 / elapsed.as_secs_f64(), cpu / answered as f64))
}

/// The median point estimate of every criterion benchmark written since `since`, by its id (`group/bench`).
fn criterion_medians(dir: &Path, since: std::time::SystemTime) -> Result<BTreeMap<String, f64>> {
    let mut medians = BTreeMap::new();
    let Ok(groups) = std::fs::read_dir(dir) else { return Ok(medians) };
    for group in groups.flatten() {
        let Ok(benches) = std::fs::read_dir(group.path()) else { continue };
        for bench in benches.flatten() {
            let estimates = bench.path().join("new/estimates.json");
            if std::fs::metadata(&estimates).and_then(|m| m.modified()).map_or(true, |at| at < since) {
                continue;
            }
            let Ok(text) = std::fs::read_to_string(&estimates) else { continue };
            // {"mean":{...},"median":{"confidence_interval":{...},"point_estimate":1234.5,...},...}
            let Some(median) = text.split("\"median\"").nth(1) else { continue };
            let Some(point) = median.split("\"point_estimate\":").nth(1) else { continue };
            let number: String =
                point.chars().take_while(|c| c.is_ascii_digit() || *c == '.' || *c == 'e' || *c == '-').collect();
            if let Ok(ns) = number.parse::<f64>() {
                let id = format!("{}/{}", group.file_name().to_string_lossy(), bench.file_name().to_string_lossy());
                medians.insert(id, ns);
            }
        }
    }
    Ok(medians)
}

fn median(values: impl Iterator<Item = f64>) -> f64 {
    let mut v: Vec<f64> = values.collect();
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn render(
    plan: &Plan,
    results: &BTreeMap<(usize, Scenario), Vec<Run>>,
    peaks: &BTreeMap<(usize, Server), u64>,
    idle: &BTreeMap<Server, u64>,
    stdio: &BTreeMap<&'static str, Vec<(f64, f64)>>,
    criterion: &BTreeMap<String, f64>,
    pin: &Pin,
) -> String {
    let mut out = String::new();
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let _ = writeln!(
        out,
        "## cargo xtask bench: {} round(s) of {} s per scenario and concurrency, medians ({}; load average {})\n",
        plan.rounds,
        plan.seconds,
        pin.describe(),
        load.split_whitespace().take(3).collect::<Vec<_>>().join(" ")
    );
    let rps = |c: usize, server: Server, era: Era| {
        results.get(&(c, Scenario { server, era })).map_or(f64::NAN, |runs| median(runs.iter().map(|r| r.rps)))
    };
    let _ = writeln!(
        out,
        "| c | server | protocol | req/s | p50 µs | p99 µs | CPU µs/req | peak RSS MiB | × ceiling | × rmcp |\n|---|---|---|---|---|---|---|---|---|---|"
    );
    for &c in CONCURRENCY {
        for scenario in SCENARIOS {
            let Some(runs) = results.get(&(c, *scenario)) else { continue };
            let r = median(runs.iter().map(|r| r.rps));
            let rmcp = match scenario.era {
                Era::Stateless => rps(c, Server::RmcpStateless, Era::Stateless),
                Era::Session => rps(c, Server::RmcpSession, Era::Session),
            };
            let _ = writeln!(
                out,
                "| {c} | {} | {} | {:.0} | {:.0} | {:.0} | {:.1} | {:.1} | {:.2} | {:.2} |",
                scenario.server.name(),
                if scenario.era == Era::Stateless { "2026-07-28 stateless" } else { "2025-11-25 session" },
                r,
                median(runs.iter().map(|r| r.p50_us)),
                median(runs.iter().map(|r| r.p99_us)),
                median(runs.iter().map(|r| r.cpu_us)),
                peaks.get(&(c, scenario.server)).map_or(f64::NAN, |k| *k as f64 / 1024.0),
                r / rps(c, Server::Ceiling, Era::Stateless),
                r / rmcp,
            );
        }
    }
    let _ = writeln!(
        out,
        "\nIdle RSS (after one call): {}",
        idle.iter().map(|(s, k)| format!("{} {:.1} MiB", s.name(), *k as f64 / 1024.0)).collect::<Vec<_>>().join("; ")
    );

    let _ = writeln!(out, "\n| stdio, {} pipelined calls | calls/s | CPU µs/call |\n|---|---|---|", plan.stdio_calls);
    for (name, runs) in stdio {
        let _ = writeln!(
            out,
            "| {name} | {:.0} | {:.1} |",
            median(runs.iter().map(|r| r.0)),
            median(runs.iter().map(|r| r.1))
        );
    }
    let stdio_ratio = median(stdio.get("mcp-runtime").into_iter().flatten().map(|r| r.0))
        / median(stdio.get("rmcp 3.11").into_iter().flatten().map(|r| r.0));

    if !criterion.is_empty() {
        let _ = writeln!(out, "\n| criterion (in-process) | median |\n|---|---|");
        for (id, ns) in criterion {
            let _ = writeln!(out, "| {id} | {:.2} µs |", ns / 1000.0);
        }
    }

    // The targets.
    let ceiling16 = rps(16, Server::Ceiling, Era::Stateless);
    let bare16 = rps(16, Server::Bare, Era::Stateless);
    let full16 = rps(16, Server::Full, Era::Stateless);
    let rmcp16 = rps(16, Server::RmcpStateless, Era::Stateless);
    let session16 = rps(16, Server::Bare, Era::Session);
    let corridor_full = criterion.iter().find(|(id, _)| id.starts_with("whole corridor/observed")).map(|(_, ns)| *ns);
    let idle_bare = idle.get(&Server::Bare).map_or(f64::NAN, |k| *k as f64 / 1024.0);
    let load64 = peaks.get(&(64, Server::Full)).map_or(f64::NAN, |k| *k as f64 / 1024.0);
    // (target, figure, its unit, the bound, whether the figure must reach the bound or stay under it)
    let mut targets = vec![
        ("bare corridor ≥ 0.85× ceiling (c16)", bare16 / ceiling16, "×", 0.85, true),
        ("full pipeline ≥ 0.6× ceiling (c16)", full16 / ceiling16, "×", 0.6, true),
        ("full pipeline ≥ 2× rmcp stateless (c16)", full16 / rmcp16, "×", 2.0, true),
        ("session ≥ 0.8× stateless (bare, c16)", session16 / bare16, "×", 0.8, true),
        ("stdio ≥ 2× rmcp", stdio_ratio, "×", 2.0, true),
    ];
    if let Some(ns) = corridor_full {
        targets.push(("in-process corridor, every layer ≤ 5 µs", ns / 1000.0, " µs", 5.0, false));
    }
    targets.push(("idle RSS ≤ 8 MiB (bare)", idle_bare, " MiB", 8.0, false));
    targets.push(("RSS under load ≤ 16 MiB (full, c64)", load64, " MiB", 16.0, false));
    let _ = writeln!(out, "\n| target | figure | |\n|---|---|---|");
    for (target, figure, unit, bound, at_least) in targets {
        if figure.is_nan() {
            let _ = writeln!(out, "| {target} | not run | |");
            continue;
        }
        let met = if at_least { figure >= bound } else { figure <= bound };
        let _ = writeln!(out, "| {target} | {figure:.2}{unit} | {} |", if met { "met" } else { "MISSED" });
    }
    out
}

/// `wrk` from Debian's package (and LuaJIT, which it needs), unpacked into `target/peers/wrk` unless the
/// machine has one: the binary and the folder of its libraries.
fn install_wrk(root: &Path) -> Result<(PathBuf, PathBuf)> {
    if let Ok(system) = super::which("wrk") {
        return Ok((system, PathBuf::new()));
    }
    super::unpack_debian(root, "wrk", &["wrk", "libluajit-5.1-2", "libluajit-5.1-common"], "wrk")
}
