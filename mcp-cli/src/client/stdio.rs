//! The server as a child process: one JSON-RPC message per line on its stdin and stdout.

use std::process::Stdio;
use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, ChildStdin, ChildStdout, Command};

use super::{ClientError, Incoming, answer_to_result, classify, shorten};
use crate::http::{MAX_BODY, TooLarge};

/// A server process on stdio.
pub(super) struct StdioPeer {
    program: String,
    child: Child,
    stdin: Option<ChildStdin>,
    stdout: BufReader<ChildStdout>,
}

impl StdioPeer {
    pub(super) fn spawn(command: &[String]) -> Result<Self, ClientError> {
        let (program, args) = command.split_first().expect("a stdio target has a command");
        let mut child = Command::new(program)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| ClientError::Unreachable(format!("cannot start {program}: {e}")))?;
        let stdin = child.stdin.take();
        let stdout = child.stdout.take().expect("stdout is piped");
        Ok(Self { program: program.clone(), child, stdin, stdout: BufReader::new(stdout) })
    }

    pub(super) async fn send(&mut self, message: &Value) -> Result<(), ClientError> {
        let line = format!("{message}\n");
        let written = match self.stdin.as_mut() {
            Some(stdin) => stdin.write_all(line.as_bytes()).await.and(stdin.flush().await),
            None => Err(std::io::ErrorKind::BrokenPipe.into()),
        };
        match written {
            Ok(()) => Ok(()),
            Err(_) => Err(self.gone("stopped reading its input").await),
        }
    }

    pub(super) async fn request(&mut self, message: &Value, id: i64, method: &str) -> Result<Value, ClientError> {
        self.send(message).await?;
        loop {
            let line = match self.next_line().await {
                Ok(Some(line)) => line,
                Ok(None) => return Err(self.gone(&format!("closed its output before answering `{method}`")).await),
                Err(too_large) => {
                    return Err(ClientError::TooLarge(
                        format!("a line of the server's output ({})", self.program),
                        too_large,
                    ));
                }
            };
            if line.trim().is_empty() {
                continue;
            }
            let incoming: Value = serde_json::from_str(&line).map_err(|e| {
                ClientError::Protocol(format!("stdout carried a line that is not JSON ({e}): {}", shorten(&line, 200)))
            })?;
            match classify(&incoming, id) {
                Incoming::Answer(answer) => return answer_to_result(answer),
                Incoming::Request(reply) => self.send(&reply).await?,
                Incoming::Other => {}
            }
        }
    }

    /// The next line of the server's output (`None` at its end, or when it cannot be read), read up to the
    /// cap: a server writing without newlines cannot grow the client without bound.
    async fn next_line(&mut self) -> Result<Option<String>, TooLarge> {
        let mut line = Vec::new();
        let limit = u64::try_from(MAX_BODY).unwrap_or(u64::MAX) + 1;
        match (&mut self.stdout).take(limit).read_until(b'\n', &mut line).await {
            Ok(0) | Err(_) => Ok(None),
            Ok(_) if line.len() > MAX_BODY => Err(TooLarge { cap: MAX_BODY }),
            Ok(_) => Ok(Some(String::from_utf8_lossy(&line).into_owned())),
        }
    }

    /// Says the server is gone, with its exit status when it exits within a second.
    async fn gone(&mut self, what: &str) -> ClientError {
        match tokio::time::timeout(Duration::from_secs(1), self.child.wait()).await {
            Ok(Ok(status)) => {
                ClientError::Closed(format!("the server ({}) {what}: it exited with {status}", self.program))
            }
            _ => ClientError::Closed(format!("the server ({}) {what}", self.program)),
        }
    }

    /// Closes stdin (EOF asks the server to exit) and waits up to 5 s (`graceful`) before killing it.
    pub(super) async fn close(mut self, graceful: bool) {
        drop(self.stdin.take());
        let grace = if graceful { Duration::from_secs(5) } else { Duration::ZERO };
        if tokio::time::timeout(grace, self.child.wait()).await.is_err() {
            let _ = self.child.kill().await;
        }
    }
}
