//! A real `redis-server` on a loopback port, which a test or the soak can freeze, kill and start again.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::{TIMEOUT, send_signal};

/// A real `redis-server` on a loopback port (no persistence), killed when dropped. `cargo xtask test` says
/// where the binary is (`MCP_TEST_REDIS_SERVER`, with `MCP_TEST_REDIS_LIBS` when it was unpacked from
/// Debian's package); the soak is told on its command line.
pub struct RedisServer {
    child: Child,
    /// Its port on 127.0.0.1.
    pub port: u16,
    program: PathBuf,
    libs: Option<PathBuf>,
    dead: bool,
}

impl RedisServer {
    /// Starts the one `cargo xtask test` names on a free port and waits until it accepts connections.
    ///
    /// # Panics
    /// When the environment names none, or it does not start.
    pub fn start() -> Self {
        let program = std::env::var_os("MCP_TEST_REDIS_SERVER")
            .filter(|p| !p.is_empty())
            .expect("MCP_TEST_REDIS_SERVER names redis-server: run `cargo xtask test`");
        let libs = std::env::var_os("MCP_TEST_REDIS_LIBS").filter(|l| !l.is_empty());
        Self::start_at(Path::new(&program), libs.as_deref().map(Path::new), None).unwrap_or_else(|e| panic!("{e}"))
    }

    /// Starts `program` (with `libs` as its library path when it was unpacked rather than installed) on
    /// `port`, or a free one, and waits until it accepts connections.
    ///
    /// # Errors
    /// When it cannot be started, or does not listen within [`TIMEOUT`].
    pub fn start_at(program: &Path, libs: Option<&Path>, port: Option<u16>) -> std::io::Result<Self> {
        let port = match port {
            Some(port) => port,
            None => std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port(),
        };
        let child = spawn(program, libs, port)?;
        let server = Self { child, port, program: program.to_owned(), libs: libs.map(Path::to_owned), dead: false };
        server.listening()?;
        Ok(server)
    }

    /// Kills it (if it still runs) and starts it again, empty, on the same port.
    ///
    /// # Errors
    /// As [`RedisServer::start_at`].
    pub fn restart(&mut self) -> std::io::Result<()> {
        self.kill();
        self.child = spawn(&self.program, self.libs.as_deref(), self.port)?;
        self.dead = false;
        self.listening()
    }

    fn listening(&self) -> std::io::Result<()> {
        let deadline = Instant::now() + TIMEOUT;
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            if Instant::now() > deadline {
                return Err(std::io::Error::other(format!("redis-server did not listen on port {}", self.port)));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok(())
    }

    /// `redis://127.0.0.1:PORT/`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    /// Sends one command and returns the raw reply (RESP), e.g. `["SCRIPT", "FLUSH"]`.
    ///
    /// # Panics
    /// When the server does not answer within [`TIMEOUT`].
    pub fn command(&self, args: &[&str]) -> String {
        self.try_command(args).unwrap()
    }

    /// `DBSIZE`: how many keys it holds (the limiter's), 0 when it cannot be asked.
    pub fn dbsize(&self) -> u64 {
        let reply = self.try_command(&["DBSIZE"]).unwrap_or_default();
        reply.trim().strip_prefix(':').and_then(|n| n.parse().ok()).unwrap_or(0)
    }

    fn try_command(&self, args: &[&str]) -> std::io::Result<String> {
        let mut stream = std::net::TcpStream::connect(("127.0.0.1", self.port))?;
        stream.set_read_timeout(Some(TIMEOUT))?;
        let mut request = format!("*{}\r\n", args.len());
        for arg in args {
            request += &format!("${}\r\n{arg}\r\n", arg.len());
        }
        stream.write_all(request.as_bytes())?;
        let mut reply = [0u8; 512];
        let n = stream.read(&mut reply)?;
        Ok(String::from_utf8_lossy(&reply[..n]).into_owned())
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
        send_signal(self.child.id(), signal).unwrap_or_else(|e| panic!("{e}"));
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.kill();
    }
}

/// `redis-server` on 127.0.0.1:`port`, without persistence; its stderr is this process's.
fn spawn(program: &Path, libs: Option<&Path>, port: u16) -> std::io::Result<Child> {
    let mut command = Command::new(program);
    command
        .args(["--bind", "127.0.0.1", "--port", &port.to_string(), "--save", "", "--appendonly", "no"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit());
    if let Some(libs) = libs {
        command.env("LD_LIBRARY_PATH", libs);
    }
    command.spawn().map_err(|e| std::io::Error::new(e.kind(), format!("cannot start {}: {e}", program.display())))
}
