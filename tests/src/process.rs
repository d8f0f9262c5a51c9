//! A server binary serving a network transport as a child process, and what the tests and the soak read
//! from or send to any process: its resident memory, a signal.

use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, ExitStatus, Stdio};
use std::sync::mpsc::channel;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::{TIMEOUT, inventory_bin};

/// A server binary serving a network transport on a port the OS picked, until dropped.
pub struct NetworkServer {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    logs: Arc<Mutex<Vec<String>>>,
}

/// Where a [`NetworkServer`]'s stderr goes.
pub enum ServerLog {
    /// Kept for [`NetworkServer::logs`] and [`NetworkServer::logged`], and echoed as `[server] …` on this
    /// process's stderr.
    Kept,
    /// Written to this file only: a long run's log fits neither in memory nor on a terminal.
    File(PathBuf),
}

impl NetworkServer {
    /// Starts `program --transport KIND --bind 127.0.0.1:0` and waits for the address it logs.
    pub fn start(program: &Path, kind: &str) -> Self {
        Self::start_with(program, kind, &[])
    }

    /// [`NetworkServer::start`] with extra environment variables.
    ///
    /// # Panics
    /// When the server does not start, or logs no address within [`TIMEOUT`].
    pub fn start_with(program: &Path, kind: &str, env: &[(&str, &str)]) -> Self {
        let mut command = Command::new(program);
        command.args(["--transport", kind, "--bind", "127.0.0.1:0"]).envs(env.iter().copied()).stdout(Stdio::null());
        Self::launch(command, ServerLog::Kept, TIMEOUT).unwrap_or_else(|e| panic!("{e}"))
    }

    /// Starts `command` as the caller prepared it (arguments, environment, stdout: [`Stdio::piped`] to read
    /// it with [`NetworkServer::take_stdout`]), its stdin closed and its stderr read into `log`, and waits
    /// at most `wait` for the address it logs (`address=IP:PORT`, as every `#[mcp_server]` binary does).
    ///
    /// # Errors
    /// When the log file cannot be created, the program cannot be started, or it logs no address in time
    /// (it is killed then).
    pub fn launch(mut command: Command, log: ServerLog, wait: Duration) -> std::io::Result<Self> {
        let program = PathBuf::from(command.get_program());
        let mut file = match log {
            ServerLog::File(path) => Some(BufWriter::new(std::fs::File::create(path)?)),
            ServerLog::Kept => None,
        };
        let mut child = command
            .stdin(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| std::io::Error::new(e.kind(), format!("cannot start {}: {e}", program.display())))?;
        let stderr = child.stderr.take().expect("piped");
        let (tx, rx) = channel();
        let logs = Arc::new(Mutex::new(Vec::new()));
        let kept = Arc::clone(&logs);
        std::thread::spawn(move || {
            let mut tx = Some(tx);
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                if let Some(addr) = line.split_whitespace().find_map(|w| w.strip_prefix("address="))
                    && let Some(tx) = tx.take()
                {
                    let _ = tx.send(addr.to_owned());
                }
                match &mut file {
                    Some(file) => {
                        let _ = writeln!(file, "{line}");
                    }
                    None => {
                        eprintln!("[server] {line}");
                        kept.lock().unwrap().push(line);
                    }
                }
            }
            if let Some(mut file) = file {
                let _ = file.flush();
            }
        });
        let mut server = Self { child, base: String::new(), logs };
        let addr = rx.recv_timeout(wait).map_err(|_| {
            std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                format!("{} logged no address it serves on within {wait:?}", program.display()),
            )
        })?;
        server.base = format!("http://{addr}");
        Ok(server)
    }

    /// The server's stdout, when its command piped it (the first call takes it).
    pub fn take_stdout(&mut self) -> Option<ChildStdout> {
        self.child.stdout.take()
    }

    /// Everything the server wrote to stderr so far (nothing when its log goes to a file).
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

    /// Sends `signal` (`-TERM`, `-STOP`, …) to the server.
    ///
    /// # Errors
    /// When `kill` cannot be run or fails.
    pub fn signal(&self, signal: &str) -> std::io::Result<()> {
        send_signal(self.child.id(), signal)
    }

    /// Sends SIGTERM and waits for the process to exit (it drains, flushes its audit trail and exports its
    /// last spans first).
    pub fn terminate(&mut self) -> ExitStatus {
        self.signal("-TERM").unwrap_or_else(|e| panic!("{e}"));
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

    /// Waits at most `limit` for the process to exit on its own, without blocking the async runtime, and
    /// kills it when it has not: its exit status, or `None` when it had to be killed.
    pub async fn exit_within(&mut self, limit: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + limit;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                let _ = self.child.wait();
                return None;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// The inventory example on `kind` (`http` or `sse`), asking for an API key (`Authorization: Bearer`,
    /// [`OPS_KEY`](crate::OPS_KEY)) on every request.
    pub fn inventory(kind: &str) -> Self {
        Self::start(&inventory_bin(), kind)
    }

    /// The process's resident memory in KiB (Linux `/proc`).
    pub fn rss_kib(&self) -> u64 {
        rss_kib(self.child.id()).expect("VmRSS is reported")
    }
}

impl Drop for NetworkServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Sends `signal` (`-TERM`, `-STOP`, `-CONT`, …) to process `pid` with `kill`.
///
/// # Errors
/// When `kill` cannot be run or fails.
pub fn send_signal(pid: u32, signal: &str) -> std::io::Result<()> {
    let status = Command::new("kill").args([signal, &pid.to_string()]).status()?;
    if status.success() { Ok(()) } else { Err(std::io::Error::other(format!("kill {signal} {pid} failed"))) }
}

/// The resident memory of process `pid` in KiB (`VmRSS` in `/proc/PID/status`); `None` once it has exited.
pub fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}
