//! The server as a child process: the CLI keeps the process, to say how it exited, and caps the lines it
//! reads. Its pipes go to the 2026-07-28 client (stateless.rs) or to rmcp's (the handshake era); after a
//! `server/discover` probe answered as the handshake era does, from the one to the other, with what the
//! probe read beyond its answer.

use std::io;
use std::pin::Pin;
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll, ready};
use std::time::Duration;

use rmcp::RoleClient;
use rmcp::transport::async_rw::AsyncRwTransport;
use tokio::io::{AsyncRead, AsyncReadExt, Chain, ReadBuf};
use tokio::process::{Child, ChildStdin, ChildStdout, Command};

use super::ClientError;
use crate::http::{MAX_BODY, TooLarge};

/// The transport rmcp's client runs on: the server's stdout (capped, after what was read of it already)
/// and stdin.
pub(super) type StdioTransport = AsyncRwTransport<RoleClient, Chain<io::Cursor<Vec<u8>>, CappedLines>, ChildStdin>;

/// A server process's pipes: its stdin, its stdout (capped) and what was read of it and not used yet.
pub(super) struct StdioPipes {
    pub(super) stdin: ChildStdin,
    pub(super) stdout: CappedLines,
    pub(super) unread: Vec<u8>,
}

impl StdioPipes {
    /// rmcp's transport over these pipes.
    pub(super) fn transport(self) -> StdioTransport {
        let reader = io::Cursor::new(self.unread).chain(self.stdout);
        // rmcp would drop an oversized line and read on; the cap here ends the command instead.
        AsyncRwTransport::new(reader, self.stdin).with_max_line_length(usize::MAX)
    }
}

/// A server process on stdio.
pub(super) struct StdioServer {
    program: String,
    child: Child,
    /// Set when a line of its output outgrew the cap.
    overflow: Arc<AtomicBool>,
}

impl StdioServer {
    /// Starts `command` (its stderr let through) and returns it with its pipes.
    pub(super) fn spawn(command: &[String]) -> Result<(Self, StdioPipes), ClientError> {
        let (program, args) = command.split_first().expect("a stdio target has a command");
        let mut child = Command::new(program)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| ClientError::Unreachable(format!("cannot start {program}: {e}")))?;
        let stdin = child.stdin.take().expect("stdin is piped");
        let stdout = child.stdout.take().expect("stdout is piped");
        let overflow = Arc::new(AtomicBool::new(false));
        let stdout = CappedLines { inner: stdout, line: 0, overflow: Arc::clone(&overflow) };
        Ok((Self { program: program.clone(), child, overflow }, StdioPipes { stdin, stdout, unread: Vec::new() }))
    }

    /// The error to report when a line of the output outgrew the cap.
    pub(super) fn overflow(&self) -> Option<ClientError> {
        self.overflow.load(Ordering::SeqCst).then(|| {
            ClientError::TooLarge(
                format!("a line of the server's output ({})", self.program),
                TooLarge { cap: MAX_BODY },
            )
        })
    }

    /// Says the server is gone, with its exit status when it exits within a second.
    pub(super) async fn gone(&mut self, what: &str) -> ClientError {
        match tokio::time::timeout(Duration::from_secs(1), self.child.wait()).await {
            Ok(Ok(status)) => {
                ClientError::Closed(format!("the server ({}) {what}: it exited with {status}", self.program))
            }
            _ => ClientError::Closed(format!("the server ({}) {what}", self.program)),
        }
    }

    /// Waits up to 5 s for the server to exit (`graceful`: its stdin is closed, which asks it to) before
    /// killing it.
    pub(super) async fn close(&mut self, graceful: bool) {
        let grace = if graceful { Duration::from_secs(5) } else { Duration::ZERO };
        if tokio::time::timeout(grace, self.child.wait()).await.is_err() {
            let _ = self.child.kill().await;
        }
    }
}

/// The server's stdout, failing once a line (the bytes since the last newline) outgrows [`MAX_BODY`]: a
/// server writing without newlines cannot grow the client without bound.
pub(super) struct CappedLines {
    inner: ChildStdout,
    line: usize,
    overflow: Arc<AtomicBool>,
}

impl AsyncRead for CappedLines {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        ready!(Pin::new(&mut self.inner).poll_read(cx, buf))?;
        let mut line = self.line;
        for (i, piece) in buf.filled()[before..].split(|&b| b == b'\n').enumerate() {
            line = if i == 0 { line + piece.len() } else { piece.len() };
            if line > MAX_BODY {
                self.overflow.store(true, Ordering::SeqCst);
                return Poll::Ready(Err(io::Error::other(TooLarge { cap: MAX_BODY })));
            }
        }
        self.line = line;
        Poll::Ready(Ok(()))
    }
}
