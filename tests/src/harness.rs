//! A server served in-process through the real stdio transport code, over an in-memory pipe.

use std::time::Duration;

use mcp_runtime::Pipeline;
use mcp_runtime::prelude::Server;
use mcp_runtime::transport::serve_io;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, DuplexStream, Lines, ReadHalf, WriteHalf};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

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
