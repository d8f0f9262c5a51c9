//! Helpers shared by the integration tests: finding the binaries under test, driving a server over
//! stdio by hand (a child process, or in-process through the real stdio transport code), and locating the
//! real peers `cargo xtask test` installs.

pub mod gcra;

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use mcp_runtime::Pipeline;
use mcp_runtime::prelude::Server;
use mcp_runtime::transport::serve_io;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, DuplexStream, Lines, ReadHalf, WriteHalf};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// How long a test waits for one message before it fails.
pub const TIMEOUT: Duration = Duration::from_secs(20);

/// The workspace's root folder.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("tests/ is inside the workspace").to_owned()
}

/// The folder cargo put this test binary's profile in (`target/debug`).
fn profile_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("the test knows its own path");
    // target/<profile>/deps/<test>-<hash>
    exe.parent().and_then(Path::parent).expect("tests run from target/<profile>/deps").to_owned()
}

/// Installs a bare `Registry` as the process's global subscriber, once. Call it before a test captures
/// spans with `tracing::subscriber::set_default`: a thread without any subscriber that reaches a callsite
/// first caches "never interested" in it for the whole process (tokio-rs/tracing#3611), and the capturing
/// test on another thread then sees nothing. With a real global subscriber, every thread registers
/// callsites as interesting.
pub fn global_registry() {
    static INSTALLED: OnceLock<()> = OnceLock::new();
    INSTALLED.get_or_init(|| {
        let _ = tracing::subscriber::set_global_default(tracing_subscriber::registry());
    });
}

/// `cargo`, without the variables cargo sets for this test process (`CARGO_PKG_*`, `CARGO_MANIFEST_*`,
/// `CARGO_CRATE_NAME`, …). Build scripts declare some of them as inputs (ring's `rerun-if-env-changed`),
/// so a build started from a test with them would differ from `cargo xtask test`'s build and redo ring,
/// rustls, reqwest, the runtime and every binary.
pub fn cargo_command() -> Command {
    let mut command = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned()));
    for (name, _) in std::env::vars_os() {
        let Some(name) = name.to_str() else { continue };
        let per_crate = ["CARGO_PKG_", "CARGO_MANIFEST_"].iter().any(|p| name.starts_with(p))
            || ["CARGO_CRATE_NAME", "CARGO_BIN_NAME", "CARGO_PRIMARY_PACKAGE", "CARGO_TARGET_TMPDIR"].contains(&name);
        if per_crate {
            command.env_remove(name);
        }
    }
    command
}

/// The path of a workspace binary, brought up to date once per test process (`cargo build` is a no-op
/// when nothing changed; without it a test could drive a stale binary).
pub fn bin(name: &str) -> PathBuf {
    static BUILT: OnceLock<()> = OnceLock::new();
    BUILT.get_or_init(|| {
        let status = cargo_command()
            .args([
                "build",
                "--quiet",
                "--bins",
                "-p",
                "inventory",
                "-p",
                "support-routing",
                "-p",
                "conformance-server",
                "-p",
                "mcp-cli",
            ])
            .current_dir(workspace_root())
            .status()
            .expect("cargo runs");
        assert!(status.success(), "building the example binaries failed");
    });
    let path = profile_dir().join(name);
    assert!(path.exists(), "{} was not built", path.display());
    path
}

/// The conformance example's server binary (every tool, resource and prompt of the official suite).
pub fn conformance_bin() -> PathBuf {
    bin("conformance-server")
}

/// The `cargo mcp` binary (`cargo-mcp`; run it without the `mcp` cargo inserts).
pub fn cli_bin() -> PathBuf {
    bin("cargo-mcp")
}

/// The inventory example's server binary.
pub fn inventory_bin() -> PathBuf {
    bin("inventory")
}

/// The support-routing example's server binary (JWT authentication).
pub fn support_routing_bin() -> PathBuf {
    bin("support-routing")
}

/// The inventory example's public demo key of principal `ops` (`inventory:read`, `inventory:write`): its
/// digest is in `examples/inventory/mcp.toml`.
pub const OPS_KEY: &str = "inv-demo-ops-7f3a9c";
/// The inventory example's public demo key of principal `viewer` (`inventory:read` only).
pub const VIEWER_KEY: &str = "inv-demo-viewer-2b8e41";

/// A server process driven line by line over its stdin and stdout.
pub struct StdioServer {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: Receiver<String>,
}

impl StdioServer {
    /// Starts `program` with `args` and extra environment variables; stderr is inherited.
    pub fn spawn(program: &Path, args: &[&str], env: &[(&str, &str)]) -> Self {
        let mut child = Command::new(program)
            .args(args)
            .envs(env.iter().copied())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", program.display()));
        let stdout = child.stdout.take().expect("piped");
        let (tx, lines) = channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Self { stdin: child.stdin.take(), child, lines }
    }

    /// The inventory example, its client authenticated with [`OPS_KEY`] unless `env` sets `MCP_CLIENT_KEY`.
    pub fn inventory(env: &[(&str, &str)]) -> Self {
        let mut all = vec![("MCP_CLIENT_KEY", OPS_KEY)];
        all.extend_from_slice(env);
        Self::spawn(&inventory_bin(), &[], &all)
    }

    /// Writes raw bytes followed by a newline.
    pub fn send_raw(&mut self, bytes: &[u8]) {
        let stdin = self.stdin.as_mut().expect("stdin is open");
        stdin.write_all(bytes).and_then(|()| stdin.write_all(b"\n")).and_then(|()| stdin.flush()).expect("write");
    }

    /// Writes one JSON message.
    pub fn send(&mut self, message: &Value) {
        self.send_raw(message.to_string().as_bytes());
    }

    /// Sends a request and returns its answer, skipping notifications.
    #[allow(clippy::needless_pass_by_value)] // `json!` literals read best passed by value at call sites
    pub fn request(&mut self, id: i64, method: &str, params: Value) -> Value {
        self.send(&json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
        loop {
            let message = self.recv();
            if message.get("id") == Some(&json!(id)) {
                return message;
            }
        }
    }

    /// The next message the server writes; every line must be JSON.
    pub fn recv(&mut self) -> Value {
        let line = match self.lines.recv_timeout(TIMEOUT) {
            Ok(line) => line,
            Err(RecvTimeoutError::Timeout) => panic!("no message from the server within {TIMEOUT:?}"),
            Err(RecvTimeoutError::Disconnected) => panic!("the server closed stdout"),
        };
        serde_json::from_str(&line).unwrap_or_else(|e| panic!("stdout carried a non-JSON line ({e}): {line}"))
    }

    /// Whether a message arrives within `wait`.
    pub fn recv_within(&mut self, wait: Duration) -> Option<Value> {
        self.lines.recv_timeout(wait).ok().map(|l| serde_json::from_str(&l).expect("JSON"))
    }

    /// Runs the handshake under `version`; returns the initialize result.
    pub fn initialize(&mut self, version: &str) -> Value {
        let answer = self.request(
            0,
            "initialize",
            json!({"protocolVersion": version, "capabilities": {}, "clientInfo": {"name": "mcp-tests", "version": "0"}}),
        );
        self.send(&json!({"jsonrpc": "2.0", "method": "notifications/initialized"}));
        answer["result"].clone()
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Closes stdin and waits for the process to exit.
    pub fn close(mut self) -> ExitStatus {
        drop(self.stdin.take());
        self.wait(TIMEOUT)
    }

    /// Waits for the process to exit on its own.
    pub fn wait(&mut self, timeout: Duration) -> ExitStatus {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                return status;
            }
            assert!(Instant::now() < deadline, "the server did not exit within {timeout:?}");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for StdioServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A server served in-process through the real stdio transport code (`serve_io`) over an in-memory pipe:
/// the corridor exactly as a stdio client sees it, with handlers written in the test.
pub struct Harness {
    writer: WriteHalf<DuplexStream>,
    lines: Lines<tokio::io::BufReader<ReadHalf<DuplexStream>>>,
    _stop: oneshot::Sender<()>,
    served: JoinHandle<std::io::Result<()>>,
}

impl Harness {
    /// Serves `server`; no handshake yet.
    ///
    /// # Panics
    /// When the server refuses to start.
    pub async fn serve(server: Server) -> Self {
        let pipeline = Pipeline::build(server).expect("the server starts");
        let (client, server_side) = tokio::io::duplex(1 << 16);
        let (server_read, server_write) = tokio::io::split(server_side);
        let (stop, stopped) = oneshot::channel::<()>();
        let served = tokio::spawn(serve_io(pipeline, server_read, server_write, async move {
            let _ = stopped.await;
        }));
        let (read, writer) = tokio::io::split(client);
        Self { writer, lines: tokio::io::BufReader::new(read).lines(), _stop: stop, served }
    }

    /// Serves `server` and runs the handshake under 2025-11-25.
    pub async fn start(server: Server) -> Self {
        let mut h = Self::serve(server).await;
        assert_eq!(h.initialize("2025-11-25").await["protocolVersion"], "2025-11-25");
        h
    }

    /// Runs the handshake under `version`; returns the initialize result.
    pub async fn initialize(&mut self, version: &str) -> Value {
        let params =
            json!({"protocolVersion": version, "capabilities": {}, "clientInfo": {"name": "t", "version": "0"}});
        let answer = self.request(0, "initialize", params).await;
        self.send(json!({"jsonrpc": "2.0", "method": "notifications/initialized"})).await;
        answer["result"].clone()
    }

    /// Writes one message.
    #[allow(clippy::needless_pass_by_value)] // `json!` literals read best passed by value at call sites
    pub async fn send(&mut self, message: Value) {
        self.writer.write_all(format!("{message}\n").as_bytes()).await.expect("the server reads");
    }

    /// The next message the server writes.
    ///
    /// # Panics
    /// When nothing arrives within 10 s.
    pub async fn recv(&mut self) -> Value {
        let line = tokio::time::timeout(Duration::from_secs(10), self.lines.next_line())
            .await
            .expect("an answer within 10 s")
            .expect("the pipe works")
            .expect("the server is still writing");
        serde_json::from_str(&line).expect("every line is JSON")
    }

    /// Sends `tools/call` (the answer is read with [`Harness::recv`]).
    pub async fn call(&mut self, id: i64, tool: &str, arguments: Value) {
        self.send(json!({"jsonrpc": "2.0", "id": id, "method": "tools/call", "params": {"name": tool, "arguments": arguments}}))
            .await;
    }

    /// Sends a request and returns its answer, skipping notifications.
    pub async fn request(&mut self, id: i64, method: &str, params: Value) -> Value {
        self.send(json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params})).await;
        loop {
            let message = self.recv().await;
            if message.get("id") == Some(&json!(id)) {
                return message;
            }
        }
    }

    /// Closes the server's input (EOF).
    pub async fn close_input(&mut self) {
        self.writer.shutdown().await.expect("the pipe closes");
    }

    /// Waits (at most 5 s) for the server to stop serving, and returns how it ended.
    ///
    /// # Panics
    /// When it does not stop in time or its task panicked.
    pub async fn finished(self) -> std::io::Result<()> {
        tokio::time::timeout(Duration::from_secs(5), self.served).await.expect("the server exits").expect("no panic")
    }
}

/// Polls `check` until it yields a value, for at most [`TIMEOUT`]: a bounded wait on something the test can
/// observe (a status, a counter), where a fixed sleep would guess how long it takes.
///
/// # Panics
/// When `check` yields nothing within [`TIMEOUT`]; the message names `what`.
pub async fn eventually<T, F: Future<Output = Option<T>>>(what: &str, mut check: impl FnMut() -> F) -> T {
    let deadline = Instant::now() + TIMEOUT;
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(Instant::now() < deadline, "{what}: not within {TIMEOUT:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// `_meta` for a 2026-07-28 request.
pub fn modern_meta() -> Value {
    json!({
        "io.modelcontextprotocol/protocolVersion": "2026-07-28",
        "io.modelcontextprotocol/clientCapabilities": {},
        "io.modelcontextprotocol/clientInfo": {"name": "mcp-tests", "version": "0"}
    })
}

/// The text of a tool result's content blocks, joined.
pub fn result_text(result: &Value) -> String {
    result["content"].as_array().into_iter().flatten().filter_map(|c| c["text"].as_str()).collect::<Vec<_>>().join("\n")
}

/// A real `redis-server` on a free loopback port, started for one test and killed when dropped. `cargo xtask
/// test` says where the binary is (`MCP_TEST_REDIS_SERVER`, with `MCP_TEST_REDIS_LIBS` when it was unpacked
/// from Debian's package).
pub struct RedisServer {
    child: Child,
    /// Its port on 127.0.0.1.
    pub port: u16,
    dead: bool,
}

impl RedisServer {
    /// Starts one (no persistence) and waits until it accepts connections.
    pub fn start() -> Self {
        let program = std::env::var_os("MCP_TEST_REDIS_SERVER")
            .filter(|p| !p.is_empty())
            .expect("MCP_TEST_REDIS_SERVER names redis-server: run `cargo xtask test`");
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let mut command = Command::new(program);
        command
            .args(["--bind", "127.0.0.1", "--port", &port.to_string(), "--save", "", "--appendonly", "no"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit());
        if let Some(libs) = std::env::var_os("MCP_TEST_REDIS_LIBS").filter(|l| !l.is_empty()) {
            command.env("LD_LIBRARY_PATH", libs);
        }
        let child = command.spawn().expect("redis-server starts");
        let deadline = Instant::now() + TIMEOUT;
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "redis-server did not listen on {port}");
            std::thread::sleep(Duration::from_millis(20));
        }
        Self { child, port, dead: false }
    }

    /// `redis://127.0.0.1:PORT/`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    /// Sends one command and returns the raw reply (RESP), e.g. `["SCRIPT", "FLUSH"]`.
    pub fn command(&self, args: &[&str]) -> String {
        use std::io::Read;
        let mut stream = std::net::TcpStream::connect(("127.0.0.1", self.port)).unwrap();
        let mut request = format!("*{}\r\n", args.len());
        for arg in args {
            request += &format!("${}\r\n{arg}\r\n", arg.len());
        }
        stream.write_all(request.as_bytes()).unwrap();
        let mut reply = [0u8; 512];
        let n = stream.read(&mut reply).unwrap();
        String::from_utf8_lossy(&reply[..n]).into_owned()
    }

    /// Freezes the server (SIGSTOP): connections stay open and nothing answers.
    pub fn pause(&self) {
        self.signal("-STOP");
    }

    /// Thaws a paused server (SIGCONT).
    pub fn resume(&self) {
        self.signal("-CONT");
    }

    /// Kills the server (a frozen one too).
    pub fn kill(&mut self) {
        if std::mem::replace(&mut self.dead, true) {
            return;
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    fn signal(&self, signal: &str) {
        let status = Command::new("kill").args([signal, &self.child.id().to_string()]).status().unwrap();
        assert!(status.success(), "kill {signal}");
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.kill();
    }
}

/// The folder of the real peers (`tests/interop`), once `cargo xtask test` installed them.
///
/// # Panics
/// When they are not installed: the tests that need them are `#[ignore]`d under plain `cargo test` and run
/// by `cargo xtask test`.
pub fn interop_dir() -> PathBuf {
    let dir = workspace_root().join("tests/interop");
    assert!(
        dir.join("node/node_modules").exists() && dir.join("python/.venv").exists(),
        "the Node and Python MCP clients are not installed: run `cargo xtask test`"
    );
    dir
}

/// The `node` to run the Node clients with (`MCP_TEST_NODE` overrides).
pub fn node() -> PathBuf {
    std::env::var_os("MCP_TEST_NODE").map_or_else(|| PathBuf::from("node"), PathBuf::from)
}

/// Runs a command to completion and parses its stdout as one JSON value; stderr is inherited.
///
/// # Panics
/// When the command fails or prints something other than JSON.
pub fn run_json(command: &mut Command) -> Value {
    let output = command.stderr(Stdio::inherit()).output().unwrap_or_else(|e| panic!("cannot run {command:?}: {e}"));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{command:?} failed with {}; stdout:\n{stdout}", output.status);
    serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{command:?} printed no JSON ({e}):\n{stdout}"))
}

/// A server binary serving a network transport on a port the OS picked, until dropped.
pub struct NetworkServer {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    logs: Arc<Mutex<Vec<String>>>,
}

impl NetworkServer {
    /// Starts `program --transport KIND --bind 127.0.0.1:0` and waits for the address it logs.
    pub fn start(program: &Path, kind: &str) -> Self {
        Self::start_with(program, kind, &[])
    }

    /// [`NetworkServer::start`] with extra environment variables.
    pub fn start_with(program: &Path, kind: &str, env: &[(&str, &str)]) -> Self {
        let mut child = Command::new(program)
            .args(["--transport", kind, "--bind", "127.0.0.1:0"])
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", program.display()));
        let stderr = child.stderr.take().expect("piped");
        let (tx, rx) = channel();
        let logs = Arc::new(Mutex::new(Vec::new()));
        let kept = Arc::clone(&logs);
        std::thread::spawn(move || {
            let mut sent = false;
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                eprintln!("[server] {line}");
                kept.lock().unwrap().push(line.clone());
                if !sent && let Some(addr) = line.split_whitespace().find_map(|w| w.strip_prefix("address=")) {
                    sent = tx.send(addr.to_owned()).is_ok();
                }
            }
        });
        let addr = rx.recv_timeout(TIMEOUT).expect("the server logs the address it serves on");
        Self { child, base: format!("http://{addr}"), logs }
    }

    /// Everything the server wrote to stderr so far.
    pub fn logs(&self) -> String {
        self.logs.lock().unwrap().join("\n")
    }

    /// Whether the server logs a line containing `needle` within [`TIMEOUT`] (its stderr is read by
    /// another thread, so a line can arrive after the answer that followed it).
    pub fn logged(&self, needle: &str) -> bool {
        let deadline = Instant::now() + TIMEOUT;
        loop {
            if self.logs.lock().unwrap().iter().any(|line| line.contains(needle)) {
                return true;
            }
            if Instant::now() > deadline {
                return false;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Sends SIGTERM and waits for the process to exit (it drains, flushes its audit trail and exports its
    /// last spans first).
    pub fn terminate(&mut self) -> ExitStatus {
        let sent = Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status().unwrap();
        assert!(sent.success());
        self.exited()
    }

    /// Waits (at most [`TIMEOUT`]) for the process to exit on its own, after a signal the test sent.
    pub fn exited(&mut self) -> ExitStatus {
        let deadline = Instant::now() + TIMEOUT;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(Instant::now() < deadline, "the server did not exit within {TIMEOUT:?} of the signal");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The inventory example on `kind` (`http` or `sse`), asking for an API key (`Authorization: Bearer`,
    /// [`OPS_KEY`]) on every request.
    pub fn inventory(kind: &str) -> Self {
        Self::start(&inventory_bin(), kind)
    }

    /// The process's resident memory in KiB (Linux `/proc`).
    pub fn rss_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).expect("/proc is readable");
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .expect("VmRSS is reported")
    }
}

impl Drop for NetworkServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
