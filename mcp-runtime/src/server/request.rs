//! The transport-neutral request and response every layer of the corridor works on.

use std::convert::Infallible;
use std::fmt;
use std::sync::Arc;

use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{Map, Value};
use tokio_util::sync::CancellationToken;
use tower::util::BoxCloneSyncService;

use super::context::{ClientInfo, Context, ContextParts, LogGate, Notifier};
use super::input::InputExchange;
use super::principal::Principal;
use super::session::Session;
use crate::protocol::{ErrorObject, ProgressToken, ProtocolVersion, RequestId, meta};

/// Which transport a request arrived on (for logs and records; no layer branches on it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TransportKind {
    /// Newline-delimited JSON over stdin/stdout.
    Stdio,
    /// Streamable HTTP.
    Http,
    /// Legacy HTTP+SSE (2024-11-05).
    Sse,
    /// Called in-process (tests, `--print-manifest`).
    InProcess,
}

impl TransportKind {
    /// The name used in logs and configuration.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Stdio => "stdio",
            Self::Http => "http",
            Self::Sse => "sse",
            Self::InProcess => "in-process",
        }
    }
}

/// One admitted request: method, parameters, `_meta`, the negotiated revision and the client.
///
/// Built by the transport (see [`Session::admit`]); every layer of the corridor sees this same type.
pub struct McpRequest {
    /// The JSON-RPC id; the answer carries it.
    pub id: RequestId,
    /// The method, e.g. `tools/call`.
    pub method: String,
    /// The parameters, without `_meta`.
    pub params: Map<String, Value>,
    /// The request's `_meta` (progress token, trace context, 2026-07-28 per-request fields).
    pub meta: Map<String, Value>,
    /// The revision the request is served under.
    pub version: ProtocolVersion,
    /// The client's name and capabilities.
    pub client: Arc<ClientInfo>,
    /// The handshake-era session the request belongs to (`None` for stateless 2026-07-28 requests).
    pub session: Option<Session>,
    /// Where notifications for this request go.
    pub notifier: Notifier,
    /// Cancelled when the client cancels the request.
    pub cancel: CancellationToken,
    /// The transport it arrived on.
    pub transport: TransportKind,
    /// Who is calling: anonymous until the transport has authenticated the request.
    pub principal: Arc<Principal>,
    /// The client's network address, when the transport has one (behind trusted proxies: the forwarded one).
    pub source: Option<std::net::IpAddr>,
    pub(crate) log: LogGate,
}

impl fmt::Debug for McpRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("McpRequest")
            .field("id", &self.id)
            .field("method", &self.method)
            .field("version", &self.version)
            .field("transport", &self.transport)
            .field("principal", &self.principal.id)
            .finish_non_exhaustive()
    }
}

impl McpRequest {
    /// For `tools/call`: the tool's name, when present and a string.
    pub fn tool_name(&self) -> Option<&str> {
        if self.method == "tools/call" { self.params.get("name").and_then(Value::as_str) } else { None }
    }

    /// The [`Context`] of the handler that serves this request; `target` names the tool, resource or
    /// prompt. The one place a request becomes a handler's context.
    pub(crate) fn into_context(mut self, target: &'static str) -> Context {
        let progress_token = self.meta.get(meta::PROGRESS_TOKEN).and_then(|t| ProgressToken::deserialize(t).ok());
        let inputs = (self.version.is_stateless() && self.method == "tools/call")
            .then(|| Arc::new(InputExchange::new(self.params.remove("inputResponses"))));
        Context::new(ContextParts {
            request_id: self.id,
            tool: target,
            version: self.version,
            client: self.client,
            notifier: self.notifier,
            progress_token,
            cancel: self.cancel,
            log: self.log,
            inputs,
            principal: self.principal,
        })
    }
}

/// How a request ended, for logs, metrics and (later) audit records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Outcome {
    /// Answered normally.
    Ok,
    /// The tool returned an error (`isError: true`).
    ToolError,
    /// The arguments failed the tool's input schema (`isError: true`).
    InvalidArguments,
    /// `tools/call` named a tool that does not exist.
    UnknownTool,
    /// The tool ran past its timeout (`isError: true`).
    Timeout,
    /// The tool panicked (−32603); the server kept serving.
    Panic,
    /// Under 2026-07-28, the tool asked the client for input: answered `input_required`.
    InputRequired,
    /// Any other JSON-RPC error (bad params, unknown method, …).
    ProtocolError,
    /// No credentials, or credentials refused.
    Unauthenticated,
    /// The caller lacks a scope the tool requires.
    Forbidden,
    /// A rate limit or concurrency cap refused the call (or the limiter could not decide).
    RateLimited,
}

impl Outcome {
    /// The snake_case name used in logs.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::ToolError => "tool_error",
            Self::InvalidArguments => "invalid_arguments",
            Self::UnknownTool => "unknown_tool",
            Self::Timeout => "timeout",
            Self::Panic => "panic",
            Self::InputRequired => "input_required",
            Self::ProtocolError => "protocol_error",
            Self::Unauthenticated => "unauthenticated",
            Self::Forbidden => "forbidden",
            Self::RateLimited => "rate_limited",
        }
    }
}

/// The answer to one [`McpRequest`]: the serialized result or a JSON-RPC error, and how it ended.
#[derive(Debug, Clone)]
pub struct McpResponse {
    /// The result (serialized once) or the error.
    pub body: Result<Box<RawValue>, ErrorObject>,
    /// How the request ended.
    pub outcome: Outcome,
}

impl McpResponse {
    /// A JSON-RPC error answer.
    pub fn error(error: ErrorObject, outcome: Outcome) -> Self {
        Self { body: Err(error), outcome }
    }
}

/// The corridor as one boxed tower service. Layers wrap it; transports call it.
pub type McpService = BoxCloneSyncService<McpRequest, McpResponse, Infallible>;
