//! The handshake era (2024-11-05 … 2025-11-25) on rmcp's client: `initialize` under 2025-11-25, then
//! `notifications/initialized`, a session, request ids, SSE answers, the session's DELETE at the end.

use std::time::Duration;

use rmcp::model::{
    CallToolRequestParams, ClientCapabilities, ClientConfig, Implementation, PaginatedRequestParams, ProtocolVersion,
};
use rmcp::service::RunningService;
use rmcp::{ClientCacheConfig, RoleClient, ServiceError, ServiceExt};
use serde_json::Value;

use super::error::{ClientError, Lost};
use super::stdio::{StdioPipes, StdioServer};
use super::streamable::{self, Failures, HttpBackend};
use super::{Endpoint, MAX_PAGES, to_json};

/// The client's identity and what it asks for in `initialize`: 2025-11-25, no capabilities.
fn client_config() -> ClientConfig {
    ClientConfig::new(ClientCapabilities::default(), Implementation::new("cargo-mcp", env!("CARGO_PKG_VERSION")))
        .with_protocol_version(ProtocolVersion::V_2025_11_25)
}

/// One open connection to a server: rmcp's client, and the side it runs on.
pub(super) struct Connection {
    service: RunningService<RoleClient, ClientConfig>,
    side: Side,
    timeout: Duration,
}

/// What the CLI keeps of the server's side, to explain a failure rmcp only sees as a closed connection.
enum Side {
    /// The server's process.
    Stdio(StdioServer),
    /// The endpoint, and the failures the HTTP backend met.
    Http { url: String, failures: Failures },
}

impl Side {
    /// Why `method` failed: the server's error, else what this side saw (a process that exited, an HTTP
    /// refusal, an answer beyond the cap), else what rmcp said.
    async fn explain(&mut self, lost: Lost, method: &str) -> ClientError {
        if let Lost::Answered(error) = lost {
            return error;
        }
        match self {
            Self::Stdio(server) => {
                if let Some(error) = server.overflow() {
                    return error;
                }
                match lost {
                    Lost::Answered(error) => error,
                    Lost::Closed(_) => server.gone(&format!("closed its output before answering `{method}`")).await,
                    Lost::Protocol(detail) => ClientError::Protocol(detail),
                }
            }
            Self::Http { url, failures } => {
                if let Some(error) = streamable::take(failures) {
                    return error;
                }
                match lost {
                    Lost::Answered(error) => error,
                    Lost::Closed(detail) => ClientError::Closed(format!("`{method}` to {url} failed: {detail}")),
                    Lost::Protocol(detail) => ClientError::Protocol(detail),
                }
            }
        }
    }
}

impl Connection {
    /// Starts or reaches the server and runs the handshake, within `timeout`. `stdio` is a server already
    /// started (the `server/discover` probe's, when the server answered it as the handshake era does):
    /// the handshake goes on over its pipes.
    pub(super) async fn open(
        target: &Endpoint,
        timeout: Duration,
        stdio: Option<(StdioServer, StdioPipes)>,
    ) -> Result<Self, ClientError> {
        let (mut side, started) = match (target, stdio) {
            (_, Some((server, pipes))) => {
                let started = tokio::time::timeout(timeout, client_config().serve(pipes.transport())).await;
                (Side::Stdio(server), started)
            }
            (Endpoint::Stdio(command), None) => {
                let (server, pipes) = StdioServer::spawn(command)?;
                let started = tokio::time::timeout(timeout, client_config().serve(pipes.transport())).await;
                (Side::Stdio(server), started)
            }
            (Endpoint::Http { url, headers }, None) => {
                let (backend, failures) = HttpBackend::new(headers.clone(), timeout)?;
                let started = tokio::time::timeout(timeout, client_config().serve(backend.transport(url))).await;
                (Side::Http { url: url.clone(), failures }, started)
            }
        };
        match started {
            Ok(Ok(service)) => {
                service.set_response_cache_config(ClientCacheConfig::disabled()).await;
                Ok(Self { service, side, timeout })
            }
            Ok(Err(error)) => {
                let error = side.explain(error.into(), "initialize").await;
                side.close(!matches!(error, ClientError::TooLarge(..))).await;
                Err(error)
            }
            Err(_) => {
                side.close(false).await;
                Err(ClientError::Timeout(timeout, "initialize".to_owned()))
            }
        }
    }

    /// What a request came to: its result, or why it failed.
    async fn settle<T>(
        &mut self,
        method: &str,
        outcome: Result<Result<T, ServiceError>, tokio::time::error::Elapsed>,
    ) -> Result<T, ClientError> {
        match outcome {
            Ok(Ok(result)) => Ok(result),
            Ok(Err(error)) => Err(self.side.explain(error.into(), method).await),
            Err(_) => Err(ClientError::Timeout(self.timeout, method.to_owned())),
        }
    }

    /// Every tool, following `nextCursor`, as the server defined them.
    pub(super) async fn list_tools(&mut self) -> Result<Vec<Value>, ClientError> {
        let mut tools = Vec::new();
        let mut cursor: Option<String> = None;
        for _ in 0..MAX_PAGES {
            let params = cursor.clone().map(|c| PaginatedRequestParams::default().with_cursor(Some(c)));
            self.side.reset();
            let outcome = tokio::time::timeout(self.timeout, self.service.list_tools(params)).await;
            let page = self.settle("tools/list", outcome).await?;
            tools.extend(page.tools.iter().map(to_json));
            match page.next_cursor {
                Some(next) if cursor.as_deref() != Some(next.as_str()) => cursor = Some(next),
                Some(next) => return Err(ClientError::Protocol(format!("tools/list repeats the cursor {next:?}"))),
                None => return Ok(tools),
            }
        }
        Err(ClientError::Protocol(format!("tools/list still has more after {MAX_PAGES} pages")))
    }

    /// Calls a tool; returns its result as the server sent it.
    pub(super) async fn call_tool(&mut self, params: CallToolRequestParams) -> Result<Value, ClientError> {
        self.side.reset();
        let outcome = tokio::time::timeout(self.timeout, self.service.call_tool(params)).await;
        self.settle("tools/call", outcome).await.map(|result| to_json(&result))
    }

    /// Ends the session: rmcp closes the server's stdin or DELETEs the HTTP session; a process is waited
    /// for (`graceful`, up to 5 s) or killed.
    pub(super) async fn close(self, graceful: bool) {
        let Self { service, mut side, .. } = self;
        if graceful || matches!(side, Side::Http { .. }) {
            let _ = tokio::time::timeout(Duration::from_secs(6), service.cancel()).await;
        } else {
            drop(service);
        }
        side.close(graceful).await;
    }
}

impl Side {
    /// Forgets the failures of earlier requests.
    fn reset(&self) {
        if let Self::Http { failures, .. } = self {
            streamable::take(failures);
        }
    }

    /// Lets the server's process exit (`graceful`, up to 5 s) or kills it.
    async fn close(&mut self, graceful: bool) {
        if let Self::Stdio(server) = self {
            server.close(graceful).await;
        }
    }
}
