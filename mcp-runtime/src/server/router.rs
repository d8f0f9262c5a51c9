//! The innermost service of the corridor: answers each MCP method.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context as TaskContext, Poll};

use serde::{Deserialize, Serialize};
use serde_json::Value;
use serde_json::value::RawValue;
use tower::Service;

use super::builder::App;
use super::context::ClientInfo;
use super::format::{Cache, empty};
use super::request::{McpRequest, McpResponse, Outcome};
use super::session::Handshake;
use crate::protocol::{ErrorObject, InitializeParams, InitializeResult, LogLevel, ProtocolVersion, ServerCapabilities};

/// Answers `initialize`, `ping`, `logging/setLevel`, `server/discover`, `tools/list` and `tools/call`.
#[derive(Debug, Clone)]
pub struct Router {
    app: App,
}

impl Router {
    /// A router over a frozen server.
    pub fn new(app: App) -> Self {
        Self { app }
    }
}

impl Service<McpRequest> for Router {
    type Response = McpResponse;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<McpResponse, Infallible>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut TaskContext<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: McpRequest) -> Self::Future {
        let app = self.app.clone();
        Box::pin(async move { Ok(app.dispatch(req).await) })
    }
}

fn answer(body: Result<Box<RawValue>, ErrorObject>) -> McpResponse {
    let outcome = if body.is_ok() { Outcome::Ok } else { Outcome::ProtocolError };
    McpResponse { body, outcome }
}

impl App {
    async fn dispatch(&self, req: McpRequest) -> McpResponse {
        let version = req.version;
        let stateless = version.is_stateless();
        match req.method.as_str() {
            "tools/call" => self.call_tool(req).await,
            "tools/list" => answer(self.list_tools(&req)),
            "initialize" => answer(self.initialize(&req)),
            "server/discover" if stateless => answer(self.discover()),
            // Removed in 2026-07-28: liveness is the transport's business, the log level comes per request.
            "ping" if !stateless => answer(self.finish(version, &empty(), Cache::No)),
            "logging/setLevel" if !stateless => answer(self.set_level(&req)),
            method => McpResponse::error(ErrorObject::method_not_found(method), Outcome::ProtocolError),
        }
    }

    fn initialize(&self, req: &McpRequest) -> Result<Box<RawValue>, ErrorObject> {
        let Some(session) = &req.session else {
            return Err(ErrorObject::method_not_found("initialize"));
        };
        let params = InitializeParams::deserialize(Value::Object(req.params.clone()))
            .map_err(|e| ErrorObject::invalid_params(format_args!("initialize: {e}")))?;
        let version = ProtocolVersion::negotiate(&params.protocol_version);
        let client = ClientInfo { implementation: Some(params.client_info), capabilities: params.capabilities };
        session.open(Handshake { version, client: Arc::new(client) })?;
        tracing::debug!(requested = %params.protocol_version, negotiated = %version, "session initialized");
        self.finish(
            version,
            &InitializeResult {
                protocol_version: version.as_str(),
                capabilities: self.capabilities(),
                server_info: self.info(),
                instructions: self.instructions(),
            },
            Cache::No,
        )
    }

    fn discover(&self) -> Result<Box<RawValue>, ErrorObject> {
        #[derive(Serialize)]
        #[serde(rename_all = "camelCase")]
        struct Discover<'a> {
            supported_versions: Vec<&'static str>,
            capabilities: &'a ServerCapabilities,
            #[serde(skip_serializing_if = "Option::is_none")]
            instructions: Option<&'a str>,
        }
        let body = Discover {
            supported_versions: ProtocolVersion::supported_strings(),
            capabilities: self.capabilities(),
            instructions: self.instructions(),
        };
        self.finish(ProtocolVersion::LATEST, &body, Cache::Public)
    }

    fn set_level(&self, req: &McpRequest) -> Result<Box<RawValue>, ErrorObject> {
        let level = req.params.get("level").and_then(|l| LogLevel::deserialize(l).ok()).ok_or_else(|| {
            ErrorObject::invalid_params(
                "logging/setLevel needs a `level`: debug, info, notice, warning, error, critical, alert or emergency",
            )
        })?;
        if let Some(session) = &req.session {
            session.set_log_level(level);
        }
        self.finish(req.version, &empty(), Cache::No)
    }

    fn list_tools(&self, req: &McpRequest) -> Result<Box<RawValue>, ErrorObject> {
        #[derive(Serialize)]
        #[serde(rename_all = "camelCase")]
        struct ListTools<'a> {
            tools: &'a [Box<RawValue>],
            #[serde(skip_serializing_if = "Option::is_none")]
            next_cursor: Option<String>,
        }
        let total = self.registry().len();
        let start = match req.params.get("cursor") {
            None | Some(Value::Null) => 0,
            Some(Value::String(c)) if c.is_empty() => 0,
            Some(Value::String(c)) => parse_cursor(c).filter(|&o| o < total).ok_or_else(|| {
                ErrorObject::invalid_params("invalid cursor: pass back a nextCursor from tools/list unchanged")
            })?,
            Some(_) => return Err(ErrorObject::invalid_params("the cursor must be a string")),
        };
        let end = start.saturating_add(self.tools_config().page_size.max(1)).min(total);
        let body = ListTools {
            tools: self.registry().definitions(req.version, start..end),
            next_cursor: (end < total).then(|| format_cursor(end)),
        };
        self.finish(req.version, &body, Cache::Public)
    }
}

impl App {
    /// Every tool definition as `tools/list` shows it under 2025-11-25, in one object (what
    /// `--print-manifest` prints and what `cargo mcp scan` reads).
    pub fn manifest(&self) -> Value {
        let all = self.registry().definitions(ProtocolVersion::LATEST_HANDSHAKE, 0..self.registry().len());
        let tools: Vec<Value> = all.iter().map(|raw| serde_json::from_str(raw.get()).expect("rendered JSON")).collect();
        serde_json::json!({ "tools": tools })
    }
}

/// Cursors are opaque to clients; here they are `c` and an offset in hexadecimal.
fn format_cursor(offset: usize) -> String {
    format!("c{offset:x}")
}

fn parse_cursor(cursor: &str) -> Option<usize> {
    usize::from_str_radix(cursor.strip_prefix('c')?, 16).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_reject_garbage() {
        assert_eq!(parse_cursor(&format_cursor(300)), Some(300));
        assert_eq!(parse_cursor("300"), None);
        assert_eq!(parse_cursor("czz"), None);
    }
}
